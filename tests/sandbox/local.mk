# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# tests/sandbox/: nvmmd's seccomp filters.
check_PROGRAMS += tests/sandbox/h_sandbox
tests_sandbox_h_sandbox_SOURCES = tests/sandbox/h_sandbox.c \
	nvmmd/sandbox.c $(TESTS_LSAN_SOURCES)
tests_sandbox_h_sandbox_CFLAGS = $(nvmmd_nvmmd_CFLAGS) -I$(top_srcdir)/nvmmd
tests_sandbox_h_sandbox_LDADD = kernel/libnvmmkern.la \
	$(LIBSECCOMP_LIBS) -lpthread
check_SCRIPTS += tests/sandbox/t_sandbox
EXTRA_DIST += tests/sandbox/t_sandbox.sh tests/sandbox/Kyuafile
