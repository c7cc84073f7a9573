/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Test harness for nvmmd's roles under real uids and gids: the table
 * under test, the identities and the daemon, and the test's side of the
 * children; see h_roles.h.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>
#include <nvmm.h>

#include "h_daemon.h"
#include "h_proc.h"
#include "h_roles.h"

#define DIRFILE		"roles.dir"

/* -------------------------------------------------------------------------- */
/* The table under test. */

const char *const col_names[COL_COUNT] = { "user", "admin", "monitor" };
const Nvmm__Role col_roles[COL_COUNT] = {
	NVMM__ROLE__ROLE_USER, NVMM__ROLE__ROLE_ADMIN, NVMM__ROLE__ROLE_MONITOR,
};

const struct row_spec rows[ROW_COUNT] = {
	[ROW_CAPABILITY] = { "capability", "capability", -1, 0, 0,
	    { Y, Y, Y } },
	[ROW_MACHINE_CREATE] = { "machine_create", "machine_create", -1, 0, 0,
	    { Y, Y, N } },
	[ROW_MACHINE_DESTROY] = { "machine_destroy", "machine_destroy", -1, 0,
	    0, { Y, Y, N } },
	/* No machine conf op exists: the driver says EINVAL to all. */
	[ROW_MACHINE_CONFIGURE] = { "machine_configure", "machine_configure",
	    -1, 0, EINVAL, { Y, Y, N } },
	[ROW_VCPU_CREATE] = { "vcpu_create", "vcpu_create", -1, 0, 0,
	    { Y, Y, N } },
	[ROW_VCPU_DESTROY] = { "vcpu_destroy", "vcpu_destroy", -1, 0, 0,
	    { Y, Y, N } },
	[ROW_HVA_MAP] = { "hva_map", "hva_map", -1, 0, 0, { Y, Y, N } },
	[ROW_HVA_UNMAP] = { "hva_unmap", "hva_unmap", -1, 0, 0, { Y, Y, N } },
	[ROW_GPA_MAP] = { "gpa_map", "gpa_map", -1, 0, 0, { Y, Y, N } },
	[ROW_GPA_UNMAP] = { "gpa_unmap", "gpa_unmap", -1, 0, 0, { Y, Y, N } },
	/* Served by the table's catch-all ctl row, which the log calls "ctl". */
	[ROW_CTL_MACH_INFO] = { "ctl", "ctl", NVMM_CTL_MACH_INFO,
	    sizeof(struct nvmm_ctl_mach_info), 0, { Y, Y, Y } },
	[ROW_CTL_MACH_LIST] = { "ctl mach_list", "ctl", NVMM_CTL_MACH_LIST,
	    sizeof(struct nvmm_ctl_mach_list), 0, { Y, Y, Y } },
	[ROW_CTL_MACH_OWNER] = { "ctl mach_owner", "ctl", NVMM_CTL_MACH_OWNER,
	    sizeof(struct nvmm_ctl_mach_owner), 0, { Y, Y, Y } },
	[ROW_CTL_VCPU_STATS] = { "ctl vcpu_stats", "ctl", NVMM_CTL_VCPU_STATS,
	    sizeof(struct nvmm_ctl_vcpu_stats), 0, { Y, Y, Y } },
	[ROW_CTL_MACH_KILL] = { "ctl mach_kill", "ctl", NVMM_CTL_MACH_KILL,
	    sizeof(struct nvmm_ctl_mach_kill), 0, { N, Y, N } },
	[ROW_CTL_MACH_IDENT] = { "ctl mach_ident", "ctl", NVMM_CTL_MACH_IDENT,
	    sizeof(struct nvmm_ctl_mach_ident), 0, { Y, Y, Y } },
	/* The whole host: only those who may see all of it. */
	[ROW_HOST_STATS] = { "host_stats", "host_stats", -1, 0, 0,
	    { N, Y, Y } },
	[ROW_METRICS] = { "metrics", "metrics", -1, 0, 0, { N, Y, Y } },
	/* Every guest and the daemon end: the admin's, and its walk's last. */
	[ROW_SHUTDOWN] = { "shutdown", "shutdown", -1, 0, 0, { N, Y, N } },
};

int
row_want(enum row row, enum col col)
{
	return rows[row].want[col] == Y ? rows[row].driver : EPERM;
}

const char *
ename(int e)
{
	static char bufs[8][48];
	static unsigned next;
	char *buf = bufs[next++ % 8];
	const char *name;

	if (e == 0)
		return "success";
	name = strerrorname_np(e);
	if (name != NULL)
		return name;
	snprintf(buf, sizeof(bufs[0]), "errno %d", e);
	return buf;
}

uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* -------------------------------------------------------------------------- */
/* Who the children are. */

static struct ident idents[W_COUNT];
static char group_user[64], group_admin[64], group_monitor[64];
char sock_path[108];

/*
 * Four groups of this system, distinct, each name for exactly one gid,
 * so that what nvmmd looks up by name is what the children are in.
 */
static void
pick_groups(gid_t gids[4], char names[4][64])
{
	struct { gid_t gid; char name[64]; } cand[64];
	struct group *gr;
	size_t n = 0, i, j, k = 0;

	setgrent();
	while (n < 64 && (gr = getgrent()) != NULL) {
		if (gr->gr_gid == 0 || gr->gr_gid >= 60000 ||
		    strlen(gr->gr_name) >= sizeof(cand[0].name))
			continue;
		cand[n].gid = gr->gr_gid;
		strcpy(cand[n].name, gr->gr_name);
		n++;
	}
	endgrent();
	for (i = 0; i < n && k < 4; i++) {
		gr = getgrnam(cand[i].name);
		if (gr == NULL || gr->gr_gid != cand[i].gid)
			continue;
		gr = getgrgid(cand[i].gid);
		if (gr == NULL || strcmp(gr->gr_name, cand[i].name) != 0)
			continue;
		for (j = 0; j < k && gids[j] != cand[i].gid; j++)
			continue;
		if (j < k)
			continue;
		gids[k] = cand[i].gid;
		strcpy(names[k], cand[i].name);
		k++;
	}
	if (k < 4)
		atf_tc_skip("this system has fewer than 4 usable groups");
}

/* uids without a passwd entry: nobody else is them. */
static void
pick_uids(uid_t uids[5])
{
	uid_t uid = 47101;
	size_t k = 0;

	for (; k < 5 && uid < 48000; uid++)
		if (getpwuid(uid) == NULL)
			uids[k++] = uid;
	ATF_REQUIRE_MSG(k == 5, "no 5 free uids in [47101, 48000)");
}

void
roles_setup(void)
{
	char names[4][64];
	gid_t gids[4];
	uid_t uids[5];

	pick_groups(gids, names);
	pick_uids(uids);
	strcpy(group_user, names[0]);
	strcpy(group_admin, names[1]);
	strcpy(group_monitor, names[2]);
	/* gids[3], names[3]: a group that is none of the three. */
	idents[W_USER] = (struct ident){ "user", uids[0], gids[3],
	    { gids[0] }, 1 };
	idents[W_USER2] = (struct ident){ "user2", uids[1], gids[0],
	    { 0 }, 0 };
	idents[W_ADMIN] = (struct ident){ "admin", uids[2], gids[3],
	    { gids[1] }, 1 };
	idents[W_MONITOR] = (struct ident){ "monitor", uids[3], gids[2],
	    { 0 }, 0 };
	idents[W_OUTSIDER] = (struct ident){ "outsider", uids[4], gids[3],
	    { 0 }, 0 };
	idents[W_ROOT] = (struct ident){ "root", 0, gids[3], { 0 }, 0 };
	printf("groups: user %s (%u), admin %s (%u), monitor %s (%u), "
	    "other %s (%u); uids %u..%u\n", names[0], (unsigned)gids[0],
	    names[1], (unsigned)gids[1], names[2], (unsigned)gids[2],
	    names[3], (unsigned)gids[3], (unsigned)uids[0],
	    (unsigned)uids[4]);
}

pid_t
roles_daemon(void)
{
	char dir[] = "/tmp/h_roles.XXXXXX";
	static char conf_path[PATH_MAX];
	/* Every refusal logged: the table checks one line per refused row. */
	const char *extra[] = { "-s", sock_path, "-g", group_user, "-a",
	    group_admin, "-m", group_monitor, "-c", conf_path, NULL };
	FILE *f;
	pid_t pid;

	ATF_REQUIRE(mkdtemp(dir) != NULL);
	f = fopen(DIRFILE, "w");
	ATF_REQUIRE(f != NULL);
	fprintf(f, "%s\n", dir);
	fclose(f);
	ATF_REQUIRE(chmod(dir, 0711) == 0);
	hd_give_dir(dir);
	snprintf(sock_path, sizeof(sock_path), "%s/nvmmd.sock", dir);
	snprintf(conf_path, sizeof(conf_path), "%s/nvmmd.conf", dir);
	f = fopen(conf_path, "w");
	ATF_REQUIRE(f != NULL);
	fprintf(f, "refusal-log-rate 0\n");
	fclose(f);
	unlink(HD_SOCKET);
	ATF_REQUIRE(symlink(sock_path, HD_SOCKET) == 0);
	pid = hd_start(extra);
	setenv("NVMM_SOCKET", sock_path, 1);
	return pid;
}

void
roles_cleanup(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	FILE *f;

	td_kill_children();
	hd_cleanup();
	f = fopen(DIRFILE, "r");
	if (f == NULL)
		return;
	if (fscanf(f, "%4095s", dir) == 1 &&
	    strncmp(dir, "/tmp/h_roles.", 13) == 0) {
		snprintf(path, sizeof(path), "%s/nvmmd.sock", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/nvmmd.conf", dir);
		unlink(path);
		rmdir(dir);
	}
	fclose(f);
}

/* -------------------------------------------------------------------------- */
/* The test's side of the children. */

void
child_read(struct child *ch, struct res *r, int timeout_ms)
{
	struct pollfd p = { ch->res, POLLIN, 0 };
	ssize_t n;
	int status;

	ATF_REQUIRE_MSG(poll(&p, 1, timeout_ms) == 1,
	    "%s (pid %d) did not answer in %d ms", ch->id->name,
	    (int)ch->pid, timeout_ms);
	n = read(ch->res, r, sizeof(*r));
	if (n == 0) {
		status = -1;
		waitpid(ch->pid, &status, 0);
		atf_tc_fail("%s (pid %d) is gone: status %#x", ch->id->name,
		    (int)ch->pid, status);
	}
	ATF_REQUIRE(n == (ssize_t)sizeof(*r));
	if (r->type == RES_TROUBLE)
		atf_tc_fail("%s (pid %d): %s", ch->id->name, (int)ch->pid,
		    r->text);
}

void
child_start(struct child *ch, enum who who)
{
	pid_t parent = getpid();
	struct td_child c;
	struct res r;

	ch->id = &idents[who];
	if (td_fork(&c)) {
		td_child_close_others();
		child_main(&idents[who], parent, c.cmd, c.ev);
	}
	/* The results come as records on ev; trouble is a RES_TROUBLE. */
	ch->pid = c.pid;
	ch->cmd = c.cmd;
	ch->res = c.ev;
	ch->msg = c.msg;
	child_read(ch, &r, WAIT_MS);
	ATF_REQUIRE(r.type == RES_READY);
}

void
child_send(struct child *ch, const struct cmd *c)
{
	ATF_REQUIRE(write(ch->cmd, c, sizeof(*c)) == (ssize_t)sizeof(*c));
}

void
child_do(struct child *ch, const struct cmd *c, struct res *r)
{
	child_send(ch, c);
	child_read(ch, r, WAIT_MS);
	ATF_REQUIRE(r->type == RES_DONE);
}

void
child_stop(struct child *ch)
{
	struct td_child c = { ch->pid, ch->msg, ch->cmd, ch->res };
	char name[64];

	/* EOF on its commands ends the child. */
	close(ch->cmd);
	c.cmd = -1;
	snprintf(name, sizeof(name), "%s (pid %d)", ch->id->name,
	    (int)ch->pid);
	td_wait_ok(&c, 10000, name);
}

int
ag_connect(struct child *ch, Nvmm__Role role)
{
	struct cmd c = { .type = CMD_CONNECT, .a = { (uint64_t)role } };
	struct res r;

	child_do(ch, &c, &r);
	return r.error;
}

void
ag_disconnect(struct child *ch)
{
	struct cmd c = { .type = CMD_DISCONNECT };
	struct res r;

	child_do(ch, &c, &r);
}

int
ag_op(struct child *ch, enum row row, struct res *r, uint64_t a0,
    uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	struct cmd c = { .type = CMD_OP, .op = row,
	    .a = { a0, a1, a2, a3, a4 } };

	child_do(ch, &c, r);
	return r->error;
}

/* A ctl request of row with data, which the answer replaces. */
static int
ag_ctl(struct child *ch, enum row row, void *data, size_t size)
{
	struct cmd c = { .type = CMD_OP, .op = row, .len = (uint32_t)size };
	struct res r;

	ATF_REQUIRE(size <= DATA_MAX);
	memcpy(c.data, data, size);
	child_do(ch, &c, &r);
	if (r.error == 0)
		memcpy(data, r.data, size);
	return r.error;
}

int
ag_info(struct child *ch, nvmm_machid_t machid,
    struct nvmm_ctl_mach_info *info)
{
	memset(info, 0, sizeof(*info));
	info->machid = machid;
	return ag_ctl(ch, ROW_CTL_MACH_INFO, info, sizeof(*info));
}

int
ag_list(struct child *ch, uint64_t bits[2])
{
	struct nvmm_ctl_mach_list list;
	int error;

	memset(&list, 0, sizeof(list));
	error = ag_ctl(ch, ROW_CTL_MACH_LIST, &list, sizeof(list));
	bits[0] = list.machids[0];
	bits[1] = list.machids[1];
	return error;
}

int
ag_owner(struct child *ch, nvmm_machid_t machid,
    struct nvmm_ctl_mach_owner *owner)
{
	memset(owner, 0, sizeof(*owner));
	owner->machid = machid;
	return ag_ctl(ch, ROW_CTL_MACH_OWNER, owner, sizeof(*owner));
}

int
ag_stats(struct child *ch, nvmm_machid_t machid, nvmm_cpuid_t cpuid,
    struct nvmm_ctl_vcpu_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->machid = machid;
	st->cpuid = cpuid;
	return ag_ctl(ch, ROW_CTL_VCPU_STATS, st, sizeof(*st));
}

int
ag_ident(struct child *ch, nvmm_machid_t machid,
    struct nvmm_ctl_mach_ident *id)
{
	memset(id, 0, sizeof(*id));
	id->machid = machid;
	return ag_ctl(ch, ROW_CTL_MACH_IDENT, id, sizeof(*id));
}

int
ag_kill(struct child *ch, nvmm_machid_t machid, struct res *r)
{
	struct cmd c = { .type = CMD_OP, .op = ROW_CTL_MACH_KILL,
	    .len = sizeof(struct nvmm_ctl_mach_kill) };
	struct nvmm_ctl_mach_kill kill = { .machid = machid };

	memcpy(c.data, &kill, sizeof(kill));
	child_do(ch, &c, r);
	return r->error;
}

void
lib_init(struct child *ch, bool root)
{
	struct cmd c = { .type = CMD_LIB_INIT, .a = { root } };
	struct res r;

	child_do(ch, &c, &r);
	ATF_REQUIRE_MSG(r.error == 0 && r.v[0] == 0, "%s: %s: %s, then "
	    "nvmm_capability: %s", ch->id->name, root ? "nvmm_root_init" :
	    "nvmm_init", ename(r.error), ename((int)r.v[0]));
}

void
lib_machine(struct child *ch, unsigned nvcpus, size_t ram, struct gmach *m)
{
	struct cmd c = { .type = CMD_LIB_MACHINE, .a = { nvcpus, ram } };
	struct res r;

	child_do(ch, &c, &r);
	m->machid = (nvmm_machid_t)r.v[0];
	m->hva = (uint64_t)r.v[1];
	m->ram = (uint64_t)r.v[2];
	m->gpa = (uint64_t)r.v[3];
	m->nvcpus = (unsigned)r.v[4];
	m->index = (int)r.v[5];
	m->pid = ch->pid;
	m->uid = ch->id->uid;
}

void
lib_check_runs(struct child *ch, const struct gmach *m, unsigned cpuid,
    const char *what)
{
	struct cmd c = { .type = CMD_LIB_RUN,
	    .a = { (uint64_t)m->index, cpuid } };
	struct res r;

	child_do(ch, &c, &r);
	ATF_CHECK_MSG(r.error == 0 && r.v[0] == NVMM_VCPU_EXIT_HALTED,
	    "%s: %s's machine %u VCPU %u: run %s, exit %#jx, want HALTED",
	    what, ch->id->name, m->machid, cpuid, ename(r.error),
	    (uintmax_t)r.v[0]);
}

int
lib_run_error(struct child *ch, const struct gmach *m, unsigned cpuid)
{
	struct cmd c = { .type = CMD_LIB_RUN,
	    .a = { (uint64_t)m->index, cpuid } };
	struct res r;

	child_do(ch, &c, &r);
	return r.error;
}

int
lib_info(struct child *ch, nvmm_machid_t machid,
    struct nvmm_ctl_mach_info *info)
{
	struct cmd c = { .type = CMD_LIB_CTL, .op = NVMM_CTL_MACH_INFO,
	    .len = sizeof(*info) };
	struct res r;

	memset(info, 0, sizeof(*info));
	info->machid = machid;
	memcpy(c.data, info, sizeof(*info));
	child_do(ch, &c, &r);
	memcpy(info, r.data, sizeof(*info));
	return r.error;
}

int
lib_list(struct child *ch, uint64_t bits[2])
{
	struct cmd c = { .type = CMD_LIB_CTL, .op = NVMM_CTL_MACH_LIST,
	    .len = sizeof(struct nvmm_ctl_mach_list) };
	struct nvmm_ctl_mach_list list;
	struct res r;

	child_do(ch, &c, &r);
	memcpy(&list, r.data, sizeof(list));
	bits[0] = list.machids[0];
	bits[1] = list.machids[1];
	return r.error;
}

void
bits_set(uint64_t bits[2], nvmm_machid_t machid)
{
	bits[machid / 64] |= 1ULL << (machid % 64);
}

void
connect_as(struct child *ch, Nvmm__Role role)
{
	int error = ag_connect(ch, role);

	ATF_REQUIRE_MSG(error == 0, "%s cannot connect as role %d: %s",
	    ch->id->name, (int)role, ename(error));
}

bool
log_refused(const struct child *ch, const char *name, Nvmm__Role role)
{
	char text[160];

	snprintf(text, sizeof(text), "pid %d uid %u: %s refused to role %d",
	    (int)ch->pid, (unsigned)ch->id->uid, name, (int)role);
	return hd_log_has(text);
}

void
check_machine(struct child *obs, const struct gmach *m, const char *what)
{
	struct nvmm_ctl_mach_info info;
	uint64_t bits[2];
	int error;

	error = ag_info(obs, m->machid, &info);
	ATF_CHECK_MSG(error == 0, "%s: mach_info of %u: %s", what, m->machid,
	    ename(error));
	if (error == 0)
		ATF_CHECK_MSG(info.nvcpus == m->nvcpus && info.nram == m->ram &&
		    info.pid == m->pid, "%s: machine %u has %u VCPUs, %ju "
		    "bytes, pid %d; want %u, %ju, %d", what, m->machid,
		    info.nvcpus, (uintmax_t)info.nram, (int)info.pid,
		    m->nvcpus, (uintmax_t)m->ram, (int)m->pid);
	error = ag_list(obs, bits);
	ATF_CHECK_MSG(error == 0 &&
	    (bits[m->machid / 64] & (1ULL << (m->machid % 64))),
	    "%s: machine %u not listed (%s)", what, m->machid, ename(error));
}

int
wait_info(struct child *obs, nvmm_machid_t machid, int want)
{
	struct nvmm_ctl_mach_info info;
	int error = 0, i;

	for (i = 0; i < 200; i++) {
		error = ag_info(obs, machid, &info);
		if (error == want)
			break;
		sleep_ms(10);
	}
	return error;
}
