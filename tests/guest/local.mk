# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# tests/guest/: guest scenarios written once, run through both backends of
# tests/common/h_backend (kernel/ in-process, and nvmmd).
TESTS_GUEST_SOURCES = tests/common/h_backend.c tests/common/h_backend.h \
	tests/kernel/h_backend_kern.c tests/kernel/h_vm.c tests/kernel/h_vm.h \
	tests/client/h_backend_daemon.c tests/client/h_client.c \
	tests/client/h_client.h tests/client/h_daemon.c \
	tests/client/h_daemon.h tests/common/h_longmode.c \
	tests/common/h_longmode.h tests/common/h_expect.c \
	tests/common/h_expect.h tests/kernel/guests.S $(TESTS_LSAN_SOURCES)
TESTS_GUEST_CFLAGS = $(TESTS_ATF_CFLAGS) -I$(top_srcdir)/kernel \
	-I$(top_srcdir)/tests/kernel -I$(top_srcdir)/tests/client \
	-I$(top_srcdir)/tests/common -I$(top_srcdir)/libnvmmclient \
	$(LIBBSD_CFLAGS) $(NVMM_PROTO_CFLAGS) \
	-DNVMMD_PATH='"$(abs_top_builddir)/nvmmd/nvmmd"'
TESTS_GUEST_LIBS = kernel/libnvmmkern.la libnvmmclient/libnvmmclient.la \
	$(TESTS_ATF_LIBS) -lpthread
EXTRA_DIST += tests/guest/Kyuafile

check_PROGRAMS += tests/guest/t_compat
tests_guest_t_compat_SOURCES = tests/guest/t_compat.c $(TESTS_GUEST_SOURCES)
tests_guest_t_compat_CFLAGS = $(TESTS_GUEST_CFLAGS)
tests_guest_t_compat_LDADD = $(TESTS_GUEST_LIBS)

check_PROGRAMS += tests/guest/t_run
tests_guest_t_run_SOURCES = tests/guest/t_run.c $(TESTS_GUEST_SOURCES)
tests_guest_t_run_CFLAGS = $(TESTS_GUEST_CFLAGS)
tests_guest_t_run_LDADD = $(TESTS_GUEST_LIBS)
