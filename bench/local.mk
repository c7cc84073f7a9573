# bench/: the exit benchmark, built only on demand: `make bench' builds it
# and runs it against the nvmmd of this build tree.
EXTRA_PROGRAMS += bench/bench_exits
bench_bench_exits_SOURCES = bench/bench_exits.c
bench_bench_exits_CFLAGS = $(AM_CFLAGS) $(LIBBSD_CFLAGS) \
	-I$(top_srcdir)/kernel
bench_bench_exits_LDADD = kernel/libnvmmkern.la \
	libnvmmclient/libnvmmclient.la -lpthread
CLEANFILES += bench/bench_exits$(EXEEXT)

.PHONY: bench
bench: bench/bench_exits$(EXEEXT) nvmmd/nvmmd$(EXEEXT)
	bench/bench_exits$(EXEEXT) -d nvmmd/nvmmd$(EXEEXT)
