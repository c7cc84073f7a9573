# tests/client/: libnvmmclient, alone and through a private nvmmd.
TESTS_CLIENT_CFLAGS = $(TESTS_ATF_CFLAGS) -I$(top_srcdir)/tests/client \
	-I$(top_srcdir)/libnvmmclient -I$(top_srcdir)/kernel \
	$(NVMM_PROTO_CFLAGS) -DNVMMD_PATH='"$(abs_top_builddir)/nvmmd/nvmmd"'
TESTS_CLIENT_HARNESS = tests/client/h_daemon.c tests/client/h_daemon.h \
	$(TESTS_LSAN_SOURCES)
TESTS_CLIENT_LIBS = libnvmmclient/libnvmmclient.la $(TESTS_ATF_LIBS) \
	-lpthread

# The page walk alone, with stubs for what it calls.
check_PROGRAMS += tests/client/t_gva
tests_client_t_gva_SOURCES = tests/client/t_gva.c \
	libnvmmclient/nvmm_gva.c $(TESTS_LSAN_SOURCES)
tests_client_t_gva_CFLAGS = $(TESTS_CLIENT_CFLAGS)
tests_client_t_gva_LDADD = $(TESTS_ATF_LIBS)

EXTRA_DIST += tests/client/Kyuafile tests/client/h_calc.c
