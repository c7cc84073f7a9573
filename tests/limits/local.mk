# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# tests/limits/: nvmmd's per-uid limits.
check_SCRIPTS += tests/limits/t_limits
EXTRA_DIST += tests/limits/t_limits.sh tests/limits/Kyuafile
