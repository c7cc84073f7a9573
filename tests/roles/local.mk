# tests/roles/: roles under real uids and gids, and nvmmctl.
#
# t_roles forks children that drop to other uids and gids and talk to a
# private nvmmd: through libnvmmclient (user, admin) and through the
# protocol itself (every role, the monitor's included).  t_nvmmctl checks
# nvmmctl's output against a guest that h_guest runs.
TESTS_ROLES_CFLAGS = $(TESTS_ATF_CFLAGS) -I$(top_srcdir)/tests/client \
	$(NVMM_PROTO_CFLAGS) -DNVMMD_PATH='"$(abs_top_builddir)/nvmmd/nvmmd"'

check_PROGRAMS += tests/roles/t_roles
tests_roles_t_roles_SOURCES = tests/roles/t_roles.c \
	tests/client/h_daemon.c tests/client/h_daemon.h $(TESTS_LSAN_SOURCES)
tests_roles_t_roles_CFLAGS = $(TESTS_ROLES_CFLAGS)
tests_roles_t_roles_LDADD = libnvmmclient/libnvmmclient.la \
	proto/libnvmmproto.la $(PROTOBUF_C_LIBS) $(TESTS_ATF_LIBS) -lpthread

# The guest t_nvmmctl looks at: public API only.
check_PROGRAMS += tests/roles/h_guest
tests_roles_h_guest_SOURCES = tests/roles/h_guest.c
tests_roles_h_guest_CFLAGS = $(AM_CFLAGS)
tests_roles_h_guest_LDADD = libnvmmclient/libnvmmclient.la

check_SCRIPTS += tests/roles/t_nvmmctl
EXTRA_DIST += tests/roles/t_nvmmctl.sh
