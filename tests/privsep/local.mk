# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# tests/privsep/: nvmmd is root for start-up only (nvmmd/privsep.c), and
# each client's machines live in a worker of their own (nvmmd/workers.c).
check_SCRIPTS += tests/privsep/t_privsep tests/privsep/t_workers
EXTRA_DIST += tests/privsep/t_privsep.sh tests/privsep/t_workers.sh \
	tests/privsep/h_tasks.subr tests/privsep/Kyuafile

# The client that writes garbage over its own comm page: public API only.
check_PROGRAMS += tests/privsep/h_scribble
tests_privsep_h_scribble_SOURCES = tests/privsep/h_scribble.c \
	tests/common/h_resetvec.c tests/common/h_resetvec.h
tests_privsep_h_scribble_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests/common
tests_privsep_h_scribble_LDADD = libnvmmclient/libnvmmclient.la -lpthread

# Makes a thread of a running worker call what no filter allows.
check_PROGRAMS += tests/privsep/h_inject
tests_privsep_h_inject_SOURCES = tests/privsep/h_inject.c
tests_privsep_h_inject_CFLAGS = $(AM_CFLAGS)
