# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# tests/proto/: the protocol's client end, against a scripted peer; the
# doorbell between two threads and two processes, and its stop bell
# against a fake daemon thread; no daemon, no KVM.
EXTRA_DIST += tests/proto/Kyuafile
check_PROGRAMS += tests/proto/t_rpc
tests_proto_t_rpc_SOURCES = tests/proto/t_rpc.c $(TESTS_LSAN_SOURCES)
tests_proto_t_rpc_CFLAGS = $(TESTS_ATF_CFLAGS) $(NVMM_PROTO_CFLAGS)
tests_proto_t_rpc_LDADD = proto/libnvmmproto.la $(PROTOBUF_C_LIBS) \
	$(TESTS_ATF_LIBS) -lpthread
check_PROGRAMS += tests/proto/t_doorbell
tests_proto_t_doorbell_SOURCES = tests/proto/t_doorbell.c $(TESTS_LSAN_SOURCES)
tests_proto_t_doorbell_CFLAGS = $(TESTS_ATF_CFLAGS) $(NVMM_PROTO_CFLAGS)
tests_proto_t_doorbell_LDADD = proto/libnvmmproto.la $(TESTS_ATF_LIBS) \
	-lpthread
check_PROGRAMS += tests/proto/t_stopbell
tests_proto_t_stopbell_SOURCES = tests/proto/t_stopbell.c $(TESTS_LSAN_SOURCES)
tests_proto_t_stopbell_CFLAGS = $(TESTS_ATF_CFLAGS) $(NVMM_PROTO_CFLAGS)
tests_proto_t_stopbell_LDADD = proto/libnvmmproto.la $(TESTS_ATF_LIBS) \
	-lpthread
