# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# tests/bench/: nvmm-bench runs and measures every path.
check_SCRIPTS += tests/bench/t_bench
EXTRA_DIST += tests/bench/t_bench.sh tests/bench/Kyuafile
