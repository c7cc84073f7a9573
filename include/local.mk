# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# The public header, laid out as NetBSD's: <nvmm.h> and its parts.
include_HEADERS = include/nvmm.h
nvmmincludedir = $(includedir)/nvmm
nvmminclude_HEADERS = \
	include/nvmm/nvmm_compat.h \
	include/nvmm/nvmm_dev.h \
	include/nvmm/nvmm_x86.h
