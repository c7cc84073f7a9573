# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# bench/: nvmm-bench, the table of what each path costs against a baseline
# in the same run.  `make bench' runs it against the nvmmd of this build
# tree; tests/bench runs it quickly, to see that every path works.
check_PROGRAMS += bench/nvmm-bench
bench_nvmm_bench_SOURCES = bench/bench.h bench/bench_main.c \
	bench/bench_guest.c bench/bench_kvm.c bench/bench_remote.c \
	bench/bench_kern.c \
	bench/bench_client.c bench/bench_daemon.c bench/bench_rpc.c \
	bench/bench_conn.c \
	libnvmmclient/nvmm_assist_load.c
bench_nvmm_bench_CFLAGS = $(AM_CFLAGS) $(LIBBSD_CFLAGS) \
	$(NVMM_PROTO_CFLAGS) -I$(top_srcdir)/kernel -I$(top_srcdir)/libnvmmclient
bench_nvmm_bench_LDADD = kernel/libnvmmkern.la proto/libnvmmproto.la \
	libnvmmclient/libnvmmclient.la -lpthread

.PHONY: bench
bench: bench/nvmm-bench$(EXEEXT) nvmmd/nvmmd$(EXEEXT)
	bench/nvmm-bench$(EXEEXT) -d nvmmd/nvmmd$(EXEEXT)
