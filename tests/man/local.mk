# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# tests/man/: the manual pages are clean and complete.
check_SCRIPTS += tests/man/t_man
EXTRA_DIST += tests/man/t_man.sh tests/man/Kyuafile
