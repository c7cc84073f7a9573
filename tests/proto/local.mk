# tests/proto/: the protocol's client end, against a scripted peer; no
# daemon, no KVM.
EXTRA_DIST += tests/proto/Kyuafile
check_PROGRAMS += tests/proto/t_rpc
tests_proto_t_rpc_SOURCES = tests/proto/t_rpc.c $(TESTS_LSAN_SOURCES)
tests_proto_t_rpc_CFLAGS = $(TESTS_ATF_CFLAGS) $(NVMM_PROTO_CFLAGS)
tests_proto_t_rpc_LDADD = proto/libnvmmproto.la $(PROTOBUF_C_LIBS) \
	$(TESTS_ATF_LIBS) -lpthread
