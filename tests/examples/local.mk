# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# tests/examples/: nvmm-demo and its guest.
check_SCRIPTS += tests/examples/t_demo
EXTRA_DIST += tests/examples/t_demo.sh tests/examples/Kyuafile
