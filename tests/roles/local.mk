# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# tests/roles/: roles under real uids and gids, and nvmmctl.
#
# t_table and t_access fork children that drop to other uids and gids and
# talk to a private nvmmd: through libnvmmclient (user, admin) and through
# the protocol itself (every role, the monitor's included).  t_table
# checks the operation x role table cell by cell, t_access who may connect
# as what and what each role sees and does to the others.  t_nvmmctl
# checks nvmmctl's output against a guest that h_guest runs, t_metrics
# stats, metrics and /metrics (with promtool).
TESTS_ROLES_CFLAGS = $(TESTS_ATF_CFLAGS) -I$(top_srcdir)/tests/client \
	-I$(top_srcdir)/tests/common \
	$(NVMM_PROTO_CFLAGS) -DNVMMD_PATH='"$(abs_top_builddir)/nvmmd/nvmmd"'
TESTS_ROLES_HARNESS = tests/roles/h_roles.c tests/roles/h_roles.h \
	tests/roles/h_child.c tests/common/h_proc.c tests/common/h_proc.h \
	tests/client/h_daemon.c tests/client/h_daemon.h $(TESTS_LSAN_SOURCES)
TESTS_ROLES_LIBS = libnvmmclient/libnvmmclient.la proto/libnvmmproto.la \
	$(PROTOBUF_C_LIBS) $(TESTS_ATF_LIBS) -lpthread

# The operation x role table.
check_PROGRAMS += tests/roles/t_table
tests_roles_t_table_SOURCES = tests/roles/t_table.c $(TESTS_ROLES_HARNESS)
tests_roles_t_table_CFLAGS = $(TESTS_ROLES_CFLAGS)
tests_roles_t_table_LDADD = $(TESTS_ROLES_LIBS)

# Who connects as what; isolation, monitors, kills, no stalls.
check_PROGRAMS += tests/roles/t_access
tests_roles_t_access_SOURCES = tests/roles/t_access.c $(TESTS_ROLES_HARNESS)
tests_roles_t_access_CFLAGS = $(TESTS_ROLES_CFLAGS)
tests_roles_t_access_LDADD = $(TESTS_ROLES_LIBS)

# The guest t_nvmmctl looks at: public API only.
check_PROGRAMS += tests/roles/h_guest
tests_roles_h_guest_SOURCES = tests/roles/h_guest.c \
	tests/common/h_resetvec.c tests/common/h_resetvec.h
tests_roles_h_guest_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests/common
tests_roles_h_guest_LDADD = libnvmmclient/libnvmmclient.la

check_SCRIPTS += tests/roles/t_nvmmctl tests/roles/t_metrics
EXTRA_DIST += tests/roles/t_nvmmctl.sh tests/roles/t_metrics.sh \
	tests/roles/h_nvmmctl.subr
