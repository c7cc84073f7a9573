# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# nvmmd/: the daemon.
sbin_PROGRAMS += nvmmd/nvmmd
nvmmd_nvmmd_SOURCES = \
	nvmmd/nvmmd.h \
	nvmmd/nvmmd_config.h \
	nvmmd/config.c \
	nvmmd/main.c \
	nvmmd/log.c \
	nvmmd/listener.c \
	nvmmd/workers.c \
	nvmmd/host.c \
	nvmmd/worker.c \
	nvmmd/sockpath.c \
	nvmmd/session.c \
	nvmmd/ops.c \
	nvmmd/machine.c \
	nvmmd/vcpu.c \
	nvmmd/limits.c \
	nvmmd/sandbox.c \
	nvmmd/privsep.c \
	nvmmd/stats.c \
	nvmmd/metrics.c
nvmmd_nvmmd_CFLAGS = $(AM_CFLAGS) $(NVMM_PROTO_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(LIBBSD_CFLAGS) $(LIBSYSTEMD_CFLAGS) $(LIBSECCOMP_CFLAGS) \
	-I$(top_srcdir)/kernel -DNVMMD_CONFIG_FILE='"$(sysconfdir)/nvmmd.conf"'
nvmmd_nvmmd_LDADD = kernel/libnvmmkern.la proto/libnvmmproto.la \
	$(LIBEVENT_LIBS) $(LIBBSD_LIBS) $(LIBSYSTEMD_LIBS) $(LIBSECCOMP_LIBS) \
	-lpthread
