# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# proto/: the control protocol (protobuf-c, generated at build time), its
# framing, and the doorbell layout, shared by nvmmd, libnvmmclient and
# nvmmctl.
noinst_LTLIBRARIES += proto/libnvmmproto.la
nodist_proto_libnvmmproto_la_SOURCES = proto/nvmm.pb-c.c proto/nvmm.pb-c.h \
	proto/nvmm_worker.pb-c.c proto/nvmm_worker.pb-c.h
proto_libnvmmproto_la_SOURCES = \
	proto/nvmm_wire.c \
	proto/nvmm_wire.h \
	proto/nvmm_rpc.c \
	proto/nvmm_rpc.h \
	proto/nvmm_doorbell.c \
	proto/nvmm_explain.c \
	proto/nvmm_stats.c \
	proto/nvmm_stats.h \
	proto/nvmm_doorbell.h \
	proto/nvmm_slot.h \
	proto/nvmm_futex.h
proto_libnvmmproto_la_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	-I$(top_builddir)/proto
proto_libnvmmproto_la_LIBADD = $(PROTOBUF_C_LIBS)
EXTRA_DIST += proto/nvmm.proto proto/nvmm_worker.proto
BUILT_SOURCES += proto/nvmm.pb-c.c proto/nvmm.pb-c.h \
	proto/nvmm_worker.pb-c.c proto/nvmm_worker.pb-c.h
CLEANFILES += proto/nvmm.pb-c.c proto/nvmm.pb-c.h \
	proto/nvmm_worker.pb-c.c proto/nvmm_worker.pb-c.h

# One rule makes both; the header is made by making the source.
proto/nvmm.pb-c.h: proto/nvmm.pb-c.c
proto/nvmm.pb-c.c: proto/nvmm.proto
	$(AM_V_GEN)$(MKDIR_P) proto && \
	    $(PROTOC_C) --proto_path=$(srcdir)/proto --c_out=proto \
	    $(srcdir)/proto/nvmm.proto
proto/nvmm_worker.pb-c.h: proto/nvmm_worker.pb-c.c
proto/nvmm_worker.pb-c.c: proto/nvmm_worker.proto proto/nvmm.pb-c.c
	$(AM_V_GEN)$(MKDIR_P) proto && \
	    $(PROTOC_C) --proto_path=$(srcdir)/proto --c_out=proto \
	    $(srcdir)/proto/nvmm_worker.proto

# Everything that speaks the protocol.
NVMM_PROTO_CFLAGS = $(PROTOBUF_C_CFLAGS) -I$(top_srcdir)/proto \
	-I$(top_builddir)/proto
