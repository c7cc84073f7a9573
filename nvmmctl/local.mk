# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# nvmmctl/: the admin and monitoring tool, in bin/: monitor users run it.
bin_PROGRAMS += nvmmctl/nvmmctl
nvmmctl_nvmmctl_SOURCES = \
	nvmmctl/nvmmctl.h \
	nvmmctl/nvmmctl.c \
	nvmmctl/output.c \
	nvmmctl/stats.c \
	nvmmctl/format.c
nvmmctl_nvmmctl_CFLAGS = $(AM_CFLAGS) $(NVMM_PROTO_CFLAGS) $(LIBBSD_CFLAGS) \
	$(JANSSON_CFLAGS)
nvmmctl_nvmmctl_LDADD = proto/libnvmmproto.la $(PROTOBUF_C_LIBS) \
	$(LIBBSD_LIBS) $(JANSSON_LIBS)
