# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# libnvmmclient/: the drop-in libnvmm.  Only NetBSD's 24 nvmm_* functions
# are exported; a libnvmm alias is installed next to it so that
# `cc prog.c -lnvmm' works as on NetBSD.
lib_LTLIBRARIES += libnvmmclient/libnvmmclient.la
libnvmmclient_libnvmmclient_la_SOURCES = \
	libnvmmclient/nvmmc.h \
	libnvmmclient/nvmm_client.c \
	libnvmmclient/nvmm_machine.c \
	libnvmmclient/nvmm_vcpu.c \
	libnvmmclient/nvmm_assist.c \
	libnvmmclient/nvmm_assist_load.c \
	libnvmmclient/nvmm_assist_load.h \
	libnvmmclient/nvmm_gva.c \
	libnvmmclient/nvmm_dump.c
libnvmmclient_libnvmmclient_la_CFLAGS = $(AM_CFLAGS) $(NVMM_PROTO_CFLAGS)
libnvmmclient_libnvmmclient_la_LIBADD = proto/libnvmmproto.la \
	$(PROTOBUF_C_LIBS) -lpthread
# NetBSD's libnvmm is major 0, minor 1.
libnvmmclient_libnvmmclient_la_LDFLAGS = $(LTO_FLAGS) -version-info 1:0:1 \
	-export-symbols-regex '^nvmm_(init|root_init|capability|machine_|vcpu_|hva_|gpa_|gva_|assist_|ctl)'

pkgconfig_DATA = libnvmmclient/libnvmmclient.pc

install-exec-hook: install-libnvmm-alias
install-libnvmm-alias:
	cd $(DESTDIR)$(libdir) && \
	    $(LN_S) -f libnvmmclient.so libnvmm.so && \
	    $(LN_S) -f libnvmmclient.so.0 libnvmm.so.0

uninstall-hook: uninstall-libnvmm-alias
uninstall-libnvmm-alias:
	rm -f $(DESTDIR)$(libdir)/libnvmm.so $(DESTDIR)$(libdir)/libnvmm.so.0
