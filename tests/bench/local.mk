# tests/bench/: nvmm-bench runs and measures every path.
check_SCRIPTS += tests/bench/t_bench
EXTRA_DIST += tests/bench/t_bench.sh tests/bench/Kyuafile
