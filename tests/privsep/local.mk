# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# tests/privsep/: nvmmd is root for start-up only (nvmmd/privsep.c).
check_SCRIPTS += tests/privsep/t_privsep
EXTRA_DIST += tests/privsep/t_privsep.sh tests/privsep/Kyuafile
