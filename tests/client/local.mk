# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
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

# The guests through libnvmmclient, and the fork-as-child helpers for the
# clients that must be processes of their own.
TESTS_CLIENT_GUESTS = tests/client/h_client.c tests/client/h_client.h \
	tests/common/h_longmode.c tests/common/h_longmode.h \
	tests/common/h_expect.c tests/common/h_expect.h \
	tests/kernel/guests.S
TESTS_CLIENT_FORK = tests/client/h_fork.c tests/client/h_fork.h \
	tests/common/h_proc.c tests/common/h_proc.h

# The kernel/ guest scenarios through libnvmmclient and a private nvmmd.
check_PROGRAMS += tests/client/t_run
tests_client_t_run_SOURCES = tests/client/t_run.c $(TESTS_CLIENT_GUESTS) \
	$(TESTS_CLIENT_HARNESS)
tests_client_t_run_CFLAGS = $(TESTS_CLIENT_CFLAGS) -I$(top_srcdir)/tests/common
tests_client_t_run_LDADD = $(TESTS_CLIENT_LIBS)

# The stop bell: a stop from another thread, and a client abusing its bell.
check_PROGRAMS += tests/client/t_stop
tests_client_t_stop_SOURCES = tests/client/t_stop.c $(TESTS_CLIENT_GUESTS) \
	$(TESTS_CLIENT_FORK) $(TESTS_CLIENT_HARNESS)
tests_client_t_stop_CFLAGS = $(TESTS_CLIENT_CFLAGS) \
	-I$(top_srcdir)/tests/common
tests_client_t_stop_LDADD = $(TESTS_CLIENT_LIBS) \
	proto/libnvmmproto.la $(PROTOBUF_C_LIBS)

# The rest of the public API, and the errno values it promises.
check_PROGRAMS += tests/client/t_api
tests_client_t_api_SOURCES = tests/client/t_api.c $(TESTS_CLIENT_GUESTS) \
	$(TESTS_CLIENT_HARNESS)
tests_client_t_api_CFLAGS = $(TESTS_CLIENT_CFLAGS) -I$(top_srcdir)/tests/common
tests_client_t_api_LDADD = $(TESTS_CLIENT_LIBS)

# What programs written for NetBSD's libnvmm rely on (issue 9).
check_PROGRAMS += tests/client/t_compat
tests_client_t_compat_SOURCES = tests/client/t_compat.c $(TESTS_CLIENT_GUESTS) \
	$(TESTS_CLIENT_HARNESS)
tests_client_t_compat_CFLAGS = $(TESTS_CLIENT_CFLAGS) -I$(top_srcdir)/tests/common
tests_client_t_compat_LDADD = $(TESTS_CLIENT_LIBS)

# Isolation between clients, and robustness against them.
check_PROGRAMS += tests/client/t_isolation
tests_client_t_isolation_SOURCES = tests/client/t_isolation.c \
	$(TESTS_CLIENT_FORK) $(TESTS_CLIENT_GUESTS) $(TESTS_CLIENT_HARNESS)
tests_client_t_isolation_CFLAGS = $(TESTS_CLIENT_CFLAGS) \
	-I$(top_srcdir)/tests/common
tests_client_t_isolation_LDADD = $(TESTS_CLIENT_LIBS) \
	proto/libnvmmproto.la $(PROTOBUF_C_LIBS)

# The hot path's promises: concurrency, stops, no system calls.
check_PROGRAMS += tests/client/t_hotpath
tests_client_t_hotpath_SOURCES = tests/client/t_hotpath.c \
	$(TESTS_CLIENT_FORK) $(TESTS_CLIENT_GUESTS) $(TESTS_CLIENT_HARNESS)
tests_client_t_hotpath_CFLAGS = $(TESTS_CLIENT_CFLAGS) \
	-I$(top_srcdir)/tests/common
tests_client_t_hotpath_LDADD = $(TESTS_CLIENT_LIBS)

# Attacks of unprivileged clients on the daemon and on other users.
check_PROGRAMS += tests/client/t_hostile
tests_client_t_hostile_SOURCES = tests/client/t_hostile.c \
	$(TESTS_CLIENT_FORK) $(TESTS_CLIENT_GUESTS) $(TESTS_CLIENT_HARNESS)
tests_client_t_hostile_CFLAGS = $(TESTS_CLIENT_CFLAGS) \
	-I$(top_srcdir)/tests/common \
	-DNVMMCTL_PATH='"$(abs_top_builddir)/nvmmctl/nvmmctl"'
tests_client_t_hostile_LDADD = $(TESTS_CLIENT_LIBS) \
	proto/libnvmmproto.la $(PROTOBUF_C_LIBS)

# A program written only against NetBSD's API, built against the
# installed library with -lnvmm and with pkg-config.
check_SCRIPTS += tests/client/t_dropin
EXTRA_DIST += tests/client/t_dropin.sh

# EXIT_INVALID, and what nvmmd logs of it.
check_PROGRAMS += tests/client/t_invalid
tests_client_t_invalid_SOURCES = tests/client/t_invalid.c \
	tests/client/guest_invalid.S $(TESTS_CLIENT_GUESTS) \
	$(TESTS_CLIENT_HARNESS)
tests_client_t_invalid_CFLAGS = $(TESTS_CLIENT_CFLAGS) \
	-I$(top_srcdir)/tests/common
tests_client_t_invalid_LDADD = $(TESTS_CLIENT_LIBS)

# The MMIO loads finished in the client: the decoder, and against KVM.
check_PROGRAMS += tests/client/t_assist_load
tests_client_t_assist_load_SOURCES = tests/client/t_assist_load.c \
	tests/client/guest_loads.S libnvmmclient/nvmm_assist_load.c \
	$(TESTS_CLIENT_GUESTS) $(TESTS_CLIENT_HARNESS)
tests_client_t_assist_load_CFLAGS = $(TESTS_CLIENT_CFLAGS) \
	-I$(top_srcdir)/tests/common
tests_client_t_assist_load_LDADD = $(TESTS_CLIENT_LIBS)

# What an MMIO exit costs the emulator: writes and plain loads take no
# round trip.
check_PROGRAMS += tests/client/t_mmio
tests_client_t_mmio_SOURCES = tests/client/t_mmio.c $(TESTS_CLIENT_GUESTS) \
	$(TESTS_CLIENT_HARNESS)
tests_client_t_mmio_CFLAGS = $(TESTS_CLIENT_CFLAGS) -I$(top_srcdir)/tests/common
tests_client_t_mmio_LDADD = $(TESTS_CLIENT_LIBS)
