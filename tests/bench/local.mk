# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# tests/bench/: nvmm-bench runs and measures every path, and the walk of
# the daemon's processes its figures sum over.
check_SCRIPTS += tests/bench/t_bench
EXTRA_DIST += tests/bench/t_bench.sh tests/bench/Kyuafile

check_PROGRAMS += tests/bench/t_proctree
tests_bench_t_proctree_SOURCES = tests/bench/t_proctree.c \
	bench/bench_daemon.c bench/bench.h $(TESTS_LSAN_SOURCES)
tests_bench_t_proctree_CFLAGS = $(TESTS_ATF_CFLAGS) $(NVMM_PROTO_CFLAGS) \
	-I$(top_srcdir)/bench
tests_bench_t_proctree_LDADD = $(TESTS_ATF_LIBS)
