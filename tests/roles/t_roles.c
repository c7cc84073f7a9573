/*
 * t_roles: nvmmd's roles under real uids and gids (DESIGN §3).
 *
 * Each test case starts its own nvmmd with three groups of this system as
 * its user (-g), admin (-a) and monitor (-m) groups, and forks children
 * that become other users (setgroups, setresgid, setresuid) before they
 * connect, so that the daemon judges real peer credentials.  A child
 * connects through libnvmmclient (nvmm_init, nvmm_root_init) or through
 * the protocol itself (proto/nvmm_conn.h), the only way to the monitor
 * role, and does what the test tells it over a pipe.  Children never call
 * ATF: they report, the test checks.
 *
 * The decision for every operation and role is nvmmd's one table,
 * nvmmd_ops in nvmmd/ops.c; `rows' below is what this test expects of it,
 * cell by cell: an allowed cell answers what the driver answers for the
 * arguments (success, or e.g. EINVAL for machine_configure, never EPERM),
 * a refused cell answers exactly EPERM and the daemon logs it.
 *
 * The cases: table_user, table_admin and table_monitor (each cell, through
 * the protocol, and for users and admins through libnvmm too);
 * table_complete (the daemon knows no row this table lacks); connect (who
 * may connect as what); user_isolation; monitor_sees_all;
 * admin_kill_running; no_stall_by_running_guest.
 *
 * The socket: the work directory a test case gets may be closed to other
 * users, so the daemon listens in a directory of its own under /tmp that
 * anyone may search, and HD_SOCKET in the work directory is a symlink to
 * it for h_daemon; the cleanup removes the directory.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>
#include <nvmm.h>

#include "nvmm_conn.h"
#include "h_daemon.h"

#define PAGE		4096UL
#define RWX		(PROT_READ | PROT_WRITE | PROT_EXEC)
/* Guest RAM of the machines children make with libnvmm; see lib_machine. */
#define G_RAM		0x10000UL
/* An HVA no child maps: the raw hva_map requests use it as their key. */
#define RAW_HVA		0x100000000000ULL
#define RAW_GPA		0x200000ULL
#define DIRFILE		"roles.dir"
#define WAIT_MS		30000
#define MAX_BAD		8

/* -------------------------------------------------------------------------- */
/* The table under test. */

enum row {
	ROW_CAPABILITY,
	ROW_MACHINE_CREATE,
	ROW_MACHINE_DESTROY,
	ROW_MACHINE_CONFIGURE,
	ROW_VCPU_CREATE,
	ROW_VCPU_DESTROY,
	ROW_HVA_MAP,
	ROW_HVA_UNMAP,
	ROW_GPA_MAP,
	ROW_GPA_UNMAP,
	ROW_KICK,
	ROW_CTL_MACH_INFO,
	ROW_CTL_MACH_LIST,
	ROW_CTL_MACH_OWNER,
	ROW_CTL_VCPU_STATS,
	ROW_CTL_MACH_KILL,
	ROW_COUNT
};

enum col { COL_USER, COL_ADMIN, COL_MONITOR, COL_COUNT };

static const char *const col_names[COL_COUNT] = { "user", "admin", "monitor" };
static const Nvmm__Role col_roles[COL_COUNT] = {
	NVMM__ROLE__ROLE_USER, NVMM__ROLE__ROLE_ADMIN, NVMM__ROLE__ROLE_MONITOR,
};

#define Y	0		/* allowed */
#define N	EPERM		/* refused */

static const struct row_spec {
	const char *name;	/* as nvmmd's log names it */
	const char *field;	/* the field of nvmm.Request that carries it */
	int ctl;		/* its NVMM_CTL op, or -1 */
	size_t ctl_size;	/* the size of the op's structure */
	int driver;		/* what the driver answers this test's call */
	int want[COL_COUNT];	/* user, admin, monitor */
} rows[ROW_COUNT] = {
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
	[ROW_KICK] = { "kick", "kick", -1, 0, 0, { Y, Y, N } },
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
};

static int
row_want(enum row row, enum col col)
{
	return rows[row].want[col] == Y ? rows[row].driver : EPERM;
}

/* An errno value by name; negative: the transport failed with -e. */
static const char *
ename(int e)
{
	static char bufs[8][48];
	static unsigned next;
	char *buf = bufs[next++ % 8];
	const char *name;

	if (e == 0)
		return "success";
	name = strerrorname_np(e < 0 ? -e : e);
	if (name != NULL)
		snprintf(buf, sizeof(bufs[0]), "%s%s", e < 0 ?
		    "transport error " : "", name);
	else
		snprintf(buf, sizeof(bufs[0]), "%serrno %d", e < 0 ?
		    "transport error " : "", e < 0 ? -e : e);
	return buf;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* -------------------------------------------------------------------------- */
/* Requests on a connection of our own (proto/nvmm_conn.h). */

static uint64_t rq_next_id;

/* The reply's error; a transport failure is -errno.  *rfd: fd received. */
static int
rq(int s, Nvmm__Request *req, int fd, Nvmm__Reply **replyp, int *rfd)
{
	Nvmm__Reply *reply;
	int error, rfd_;

	req->id = ++rq_next_id;
	error = nvmm_conn_call(s, req, fd, &reply, &rfd_);
	if (error)
		return -error;
	if (rfd != NULL)
		*rfd = rfd_;
	else if (rfd_ != -1)
		close(rfd_);
	error = reply->error;
	if (replyp != NULL)
		*replyp = reply;
	else
		nvmm__reply__free_unpacked(reply, NULL);
	return error;
}

static int
rq_capability(int s, struct nvmm_capability *cap)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__Capability m = NVMM__CAPABILITY__INIT;
	Nvmm__Reply *reply = NULL;
	int error;

	req.op_case = NVMM__REQUEST__OP_CAPABILITY;
	req.capability = &m;
	error = rq(s, &req, -1, &reply, NULL);
	if (error == 0 && (reply->result_case !=
	    NVMM__REPLY__RESULT_CAPABILITY ||
	    reply->capability->capability.len != sizeof(*cap)))
		error = -EPROTO;
	if (error == 0)
		memcpy(cap, reply->capability->capability.data, sizeof(*cap));
	if (reply != NULL)
		nvmm__reply__free_unpacked(reply, NULL);
	return error;
}

/* *commfd: whether the comm memfd came with the reply. */
static int
rq_machine_create(int s, nvmm_machid_t *machid, bool *commfd)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__MachineCreate m = NVMM__MACHINE_CREATE__INIT;
	Nvmm__Reply *reply = NULL;
	int error, fd = -1;

	req.op_case = NVMM__REQUEST__OP_MACHINE_CREATE;
	req.machine_create = &m;
	error = rq(s, &req, -1, &reply, &fd);
	*commfd = fd != -1;
	if (fd != -1)
		close(fd);
	if (error == 0 && reply->result_case !=
	    NVMM__REPLY__RESULT_MACHINE_CREATE)
		error = -EPROTO;
	if (error == 0)
		*machid = reply->machine_create->machid;
	if (reply != NULL)
		nvmm__reply__free_unpacked(reply, NULL);
	return error;
}

static int
rq_machine_destroy(int s, nvmm_machid_t machid)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__MachineDestroy m = NVMM__MACHINE_DESTROY__INIT;

	m.machid = machid;
	req.op_case = NVMM__REQUEST__OP_MACHINE_DESTROY;
	req.machine_destroy = &m;
	return rq(s, &req, -1, NULL, NULL);
}

static int
rq_machine_configure(int s, nvmm_machid_t machid, uint64_t op,
    const void *conf, size_t len)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__MachineConfigure m = NVMM__MACHINE_CONFIGURE__INIT;

	m.machid = machid;
	m.op = op;
	m.conf.data = (uint8_t *)(uintptr_t)conf;
	m.conf.len = len;
	req.op_case = NVMM__REQUEST__OP_MACHINE_CONFIGURE;
	req.machine_configure = &m;
	return rq(s, &req, -1, NULL, NULL);
}

static int
rq_vcpu(int s, bool create, nvmm_machid_t machid, nvmm_cpuid_t cpuid)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__VcpuCreate c = NVMM__VCPU_CREATE__INIT;
	Nvmm__VcpuDestroy d = NVMM__VCPU_DESTROY__INIT;

	if (create) {
		c.machid = machid;
		c.cpuid = cpuid;
		req.op_case = NVMM__REQUEST__OP_VCPU_CREATE;
		req.vcpu_create = &c;
	} else {
		d.machid = machid;
		d.cpuid = cpuid;
		req.op_case = NVMM__REQUEST__OP_VCPU_DESTROY;
		req.vcpu_destroy = &d;
	}
	return rq(s, &req, -1, NULL, NULL);
}

/* A sealed memfd of size bytes, as libnvmm gives the daemon. */
static int
rq_hva_map(int s, nvmm_machid_t machid, uint64_t hva, uint64_t size)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__HvaMap m = NVMM__HVA_MAP__INIT;
	int fd, error;

	fd = memfd_create("t_roles", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1)
		return -errno;
	if (ftruncate(fd, (off_t)size) == -1 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == -1) {
		error = -errno;
		close(fd);
		return error;
	}
	m.machid = machid;
	m.hva = hva;
	m.size = size;
	req.op_case = NVMM__REQUEST__OP_HVA_MAP;
	req.hva_map = &m;
	error = rq(s, &req, fd, NULL, NULL);
	close(fd);
	return error;
}

static int
rq_hva_unmap(int s, nvmm_machid_t machid, uint64_t hva, uint64_t size)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__HvaUnmap m = NVMM__HVA_UNMAP__INIT;

	m.machid = machid;
	m.hva = hva;
	m.size = size;
	req.op_case = NVMM__REQUEST__OP_HVA_UNMAP;
	req.hva_unmap = &m;
	return rq(s, &req, -1, NULL, NULL);
}

static int
rq_gpa_map(int s, nvmm_machid_t machid, uint64_t hva, uint64_t gpa,
    uint64_t size, int prot)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__GpaMap m = NVMM__GPA_MAP__INIT;

	m.machid = machid;
	m.hva = hva;
	m.gpa = gpa;
	m.size = size;
	m.prot = prot;
	req.op_case = NVMM__REQUEST__OP_GPA_MAP;
	req.gpa_map = &m;
	return rq(s, &req, -1, NULL, NULL);
}

static int
rq_gpa_unmap(int s, nvmm_machid_t machid, uint64_t gpa, uint64_t size)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__GpaUnmap m = NVMM__GPA_UNMAP__INIT;

	m.machid = machid;
	m.gpa = gpa;
	m.size = size;
	req.op_case = NVMM__REQUEST__OP_GPA_UNMAP;
	req.gpa_unmap = &m;
	return rq(s, &req, -1, NULL, NULL);
}

static int
rq_kick(int s, nvmm_machid_t machid, nvmm_cpuid_t cpuid)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__Kick m = NVMM__KICK__INIT;

	m.machid = machid;
	m.cpuid = cpuid;
	req.op_case = NVMM__REQUEST__OP_KICK;
	req.kick = &m;
	return rq(s, &req, -1, NULL, NULL);
}

/* On success the reply's data, which must be size bytes, is in data. */
static int
rq_ctl(int s, int op, void *data, size_t size)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__Ctl m = NVMM__CTL__INIT;
	Nvmm__Reply *reply = NULL;
	int error;

	m.op = op;
	m.data.data = data;
	m.data.len = size;
	req.op_case = NVMM__REQUEST__OP_CTL;
	req.ctl = &m;
	error = rq(s, &req, -1, &reply, NULL);
	if (error == 0 && (reply->result_case != NVMM__REPLY__RESULT_CTL ||
	    reply->ctl->data.len != size))
		error = -EPROTO;
	if (error == 0)
		memcpy(data, reply->ctl->data.data, size);
	if (reply != NULL)
		nvmm__reply__free_unpacked(reply, NULL);
	return error;
}

/* -------------------------------------------------------------------------- */
/* Who the children are. */

enum who {
	W_USER,		/* the user group, as a supplementary group */
	W_USER2,	/* the user group, as the primary group */
	W_ADMIN,	/* the admin group, supplementary */
	W_MONITOR,	/* the monitor group, primary */
	W_OUTSIDER,	/* none of them */
	W_ROOT,		/* uid 0 in none of them: admin by its uid */
	W_COUNT
};

struct ident {
	const char *name;
	uid_t uid;
	gid_t gid;
	gid_t groups[1];
	int ngroups;
};

static struct ident idents[W_COUNT];
static char group_user[64], group_admin[64], group_monitor[64];
static char sock_path[108];

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

static void
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

static pid_t
roles_daemon(void)
{
	char dir[] = "/tmp/t_roles.XXXXXX";
	const char *extra[] = { "-s", sock_path, "-g", group_user, "-a",
	    group_admin, "-m", group_monitor, NULL };
	FILE *f;
	pid_t pid;

	ATF_REQUIRE(mkdtemp(dir) != NULL);
	f = fopen(DIRFILE, "w");
	ATF_REQUIRE(f != NULL);
	fprintf(f, "%s\n", dir);
	fclose(f);
	ATF_REQUIRE(chmod(dir, 0711) == 0);
	snprintf(sock_path, sizeof(sock_path), "%s/nvmmd.sock", dir);
	unlink(HD_SOCKET);
	ATF_REQUIRE(symlink(sock_path, HD_SOCKET) == 0);
	pid = hd_start(extra);
	setenv("NVMM_SOCKET", sock_path, 1);
	return pid;
}

static void
roles_cleanup(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	FILE *f;

	hd_cleanup();
	f = fopen(DIRFILE, "r");
	if (f == NULL)
		return;
	if (fscanf(f, "%4095s", dir) == 1 &&
	    strncmp(dir, "/tmp/t_roles.", 13) == 0) {
		snprintf(path, sizeof(path), "%s/nvmmd.sock", dir);
		unlink(path);
		rmdir(dir);
	}
	fclose(f);
}

/* -------------------------------------------------------------------------- */
/* Children: a command loop under another identity. */

enum cmd_type {
	CMD_CONNECT = 1,	/* a0: the role; a connection of its own */
	CMD_DISCONNECT,
	CMD_OP,			/* op: a row; a0..a4: its arguments */
	CMD_PROBE,		/* a0: the column; every ctl op, many sizes */
	CMD_LIB_INIT,		/* a0: 0 nvmm_init, 1 nvmm_root_init */
	CMD_LIB_MACHINE,	/* a0 VCPUs, a1 RAM: a machine with a guest */
	CMD_LIB_RUN,		/* a0 machine index, a1 VCPU: run to a HLT */
	CMD_LIB_SPIN,		/* a0, a1: spin until nvmm_vcpu_run fails */
	CMD_LIB_CTL,		/* op: the ctl op; data */
	CMD_LIB_TABLE,		/* a0: machine to kill, or own: the table */
};

enum res_type { RES_READY = 1, RES_DONE, RES_RUNNING, RES_TROUBLE };

#define DATA_MAX	160

struct cmd {
	int type;
	int op;
	uint64_t a[5];
	uint32_t len;
	uint8_t data[DATA_MAX];
};

struct res {
	int type;
	int error;		/* what the call gave; see ename() */
	int64_t v[6];
	uint32_t len;
	uint8_t data[DATA_MAX];
	char text[240];
};

struct child {
	const struct ident *id;
	pid_t pid;
	int cmd;		/* commands to the child */
	int res;		/* its results */
};

/* The child's side. */
static int ch_out = -1;
static int ch_conn = -1;

struct lmach {
	struct nvmm_machine mach;
	uint8_t *ram;
	size_t size;
	gpaddr_t gpa;
	struct nvmm_vcpu vcpus[4];
	unsigned nvcpus;
};
static struct lmach lmachs[4];
static int nlmachs;

static void
ch_send(struct res *r)
{
	if (write(ch_out, r, sizeof(*r)) != (ssize_t)sizeof(*r))
		_exit(3);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
ch_trouble(const char *fmt, ...)
{
	struct res r;
	va_list ap;

	memset(&r, 0, sizeof(r));
	r.type = RES_TROUBLE;
	r.error = errno;
	va_start(ap, fmt);
	vsnprintf(r.text, sizeof(r.text), fmt, ap);
	va_end(ap);
	ch_send(&r);
	_exit(2);
}

static void
ch_become(const struct ident *id, pid_t parent)
{
	gid_t groups[8];
	int n;

	if (setgroups((size_t)id->ngroups, id->groups) == -1)
		ch_trouble("setgroups: %s", strerror(errno));
	if (setresgid(id->gid, id->gid, id->gid) == -1)
		ch_trouble("setresgid %u: %s", id->gid, strerror(errno));
	if (setresuid(id->uid, id->uid, id->uid) == -1)
		ch_trouble("setresuid %u: %s", id->uid, strerror(errno));
	n = getgroups(8, groups);
	if (getuid() != id->uid || geteuid() != id->uid ||
	    getgid() != id->gid || getegid() != id->gid ||
	    n != id->ngroups || (n == 1 && groups[0] != id->groups[0]))
		ch_trouble("not %s after the change", id->name);
	if (id->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		ch_trouble("%s can become root again", id->name);
	/* Credential changes clear it: set it now. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(4);
}

/* A machine with guest RAM that ends at 4 GiB, so a new VCPU runs it. */
static const uint8_t hlt_loop[] = { 0xF4, 0xEB, 0xFD };	/* hlt; jmp . - 1 */
static const uint8_t spin[] = { 0xEB, 0xFE };		/* jmp . */

static uint8_t *
lm_reset_vector(struct lmach *lm)
{
	return lm->ram + lm->size - 0x10;
}

static void
ch_lib_machine(const struct cmd *c, struct res *r)
{
	struct lmach *lm;
	unsigned i;

	if (nlmachs == 4 || c->a[0] > 4 || (c->a[1] & (PAGE - 1)))
		ch_trouble("bad CMD_LIB_MACHINE");
	lm = &lmachs[nlmachs];
	lm->size = c->a[1];
	lm->gpa = (1ULL << 32) - lm->size;
	if (nvmm_machine_create(&lm->mach) == -1)
		ch_trouble("nvmm_machine_create: %s", strerror(errno));
	lm->ram = mmap(NULL, lm->size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (lm->ram == MAP_FAILED)
		ch_trouble("mmap: %s", strerror(errno));
	if (nvmm_hva_map(&lm->mach, (uintptr_t)lm->ram, lm->size) == -1)
		ch_trouble("nvmm_hva_map: %s", strerror(errno));
	if (nvmm_gpa_map(&lm->mach, (uintptr_t)lm->ram, lm->gpa, lm->size,
	    RWX) == -1)
		ch_trouble("nvmm_gpa_map: %s", strerror(errno));
	memcpy(lm_reset_vector(lm), hlt_loop, sizeof(hlt_loop));
	for (i = 0; i < c->a[0]; i++)
		if (nvmm_vcpu_create(&lm->mach, i, &lm->vcpus[i]) == -1)
			ch_trouble("nvmm_vcpu_create %u: %s", i,
			    strerror(errno));
	lm->nvcpus = (unsigned)c->a[0];
	r->v[0] = lm->mach.machid;
	r->v[1] = (int64_t)(uintptr_t)lm->ram;
	r->v[2] = (int64_t)lm->size;
	r->v[3] = (int64_t)lm->gpa;
	r->v[4] = lm->nvcpus;
	r->v[5] = nlmachs++;
}

static struct lmach *
ch_lmach(const struct cmd *c)
{
	if (c->a[0] >= (uint64_t)nlmachs ||
	    c->a[1] >= lmachs[c->a[0]].nvcpus)
		ch_trouble("no machine %ju VCPU %ju", (uintmax_t)c->a[0],
		    (uintmax_t)c->a[1]);
	return &lmachs[c->a[0]];
}

/* Runs to the guest's HLT: error 0 and the exit reason, or errno. */
static void
ch_lib_run(const struct cmd *c, struct res *r)
{
	struct lmach *lm = ch_lmach(c);
	struct nvmm_vcpu *vcpu = &lm->vcpus[c->a[1]];
	int i;

	memcpy(lm_reset_vector(lm), hlt_loop, sizeof(hlt_loop));
	for (i = 0; i < 100; i++) {
		if (nvmm_vcpu_run(&lm->mach, vcpu) == -1) {
			r->error = errno;
			return;
		}
		r->v[0] = (int64_t)vcpu->exit->reason;
		if (vcpu->exit->reason != NVMM_VCPU_EXIT_NONE)
			return;
	}
}

/*
 * Says it is about to run, then spins a VCPU that has not run yet until
 * nvmm_vcpu_run fails: error is its errno, v0 when it returned.
 */
static void
ch_lib_spin(const struct cmd *c, struct res *r)
{
	struct lmach *lm = ch_lmach(c);
	struct nvmm_vcpu *vcpu = &lm->vcpus[c->a[1]];
	struct res running;

	memcpy(lm_reset_vector(lm), spin, sizeof(spin));
	memset(&running, 0, sizeof(running));
	running.type = RES_RUNNING;
	ch_send(&running);
	while (nvmm_vcpu_run(&lm->mach, vcpu) == 0)
		r->v[1]++;
	r->error = errno;
	r->v[0] = (int64_t)now_ns();
}

static void
ch_op(const struct cmd *c, struct res *r)
{
	struct nvmm_capability cap;
	uint8_t data[DATA_MAX];
	nvmm_machid_t machid = 0;
	bool commfd = false;

	if (c->op < 0 || c->op >= ROW_COUNT || c->len > DATA_MAX)
		ch_trouble("bad CMD_OP");
	r->v[4] = (int64_t)now_ns();
	switch ((enum row)c->op) {
	case ROW_CAPABILITY:
		r->error = rq_capability(ch_conn, &cap);
		r->v[0] = cap.version;
		r->v[1] = cap.state_size;
		break;
	case ROW_MACHINE_CREATE:
		r->error = rq_machine_create(ch_conn, &machid, &commfd);
		r->v[0] = machid;
		r->v[1] = commfd;
		break;
	case ROW_MACHINE_DESTROY:
		r->error = rq_machine_destroy(ch_conn, (nvmm_machid_t)c->a[0]);
		break;
	case ROW_MACHINE_CONFIGURE:
		r->error = rq_machine_configure(ch_conn,
		    (nvmm_machid_t)c->a[0], c->a[1], c->data, c->len);
		break;
	case ROW_VCPU_CREATE:
	case ROW_VCPU_DESTROY:
		r->error = rq_vcpu(ch_conn, c->op == ROW_VCPU_CREATE,
		    (nvmm_machid_t)c->a[0], (nvmm_cpuid_t)c->a[1]);
		break;
	case ROW_HVA_MAP:
		r->error = rq_hva_map(ch_conn, (nvmm_machid_t)c->a[0],
		    c->a[1], c->a[2]);
		break;
	case ROW_HVA_UNMAP:
		r->error = rq_hva_unmap(ch_conn, (nvmm_machid_t)c->a[0],
		    c->a[1], c->a[2]);
		break;
	case ROW_GPA_MAP:
		r->error = rq_gpa_map(ch_conn, (nvmm_machid_t)c->a[0],
		    c->a[1], c->a[2], c->a[3], (int)c->a[4]);
		break;
	case ROW_GPA_UNMAP:
		r->error = rq_gpa_unmap(ch_conn, (nvmm_machid_t)c->a[0],
		    c->a[1], c->a[2]);
		break;
	case ROW_KICK:
		r->error = rq_kick(ch_conn, (nvmm_machid_t)c->a[0],
		    (nvmm_cpuid_t)c->a[1]);
		break;
	case ROW_CTL_MACH_INFO:
	case ROW_CTL_MACH_LIST:
	case ROW_CTL_MACH_OWNER:
	case ROW_CTL_VCPU_STATS:
	case ROW_CTL_MACH_KILL:
		memcpy(data, c->data, c->len);
		r->error = rq_ctl(ch_conn, rows[c->op].ctl, data, c->len);
		if (r->error == 0) {
			memcpy(r->data, data, c->len);
			r->len = c->len;
		}
		break;
	default:
		ch_trouble("bad row %d", c->op);
	}
	r->v[5] = (int64_t)now_ns();
}

/*
 * Every ctl op in a range well past the known ones, with many sizes of
 * zeroed data: what is not a known op of the table answers EINVAL (the
 * driver's answer to unknown ops); known ops answer EINVAL for a wrong
 * size, and EPERM where the role is refused.  v0: requests, v1: answers
 * that were not as expected, the first in text.
 */
static void
ch_probe(const struct cmd *c, struct res *r)
{
	static const int extra_ops[] = { INT_MIN, -1000, 0x3FF, 0x400, 0x1000,
	    0xFFFF, 0x10000, 0x1000000, INT_MAX };
	static const size_t extra_sizes[] = { 1, 2, 3, 5, 257, 300, 1024 };
	static uint8_t data[1024];
	enum col col = (enum col)c->a[0];
	size_t nops = 0x220 + 16 + sizeof(extra_ops) / sizeof(extra_ops[0]);
	size_t nsizes = 65 + sizeof(extra_sizes) / sizeof(extra_sizes[0]);
	size_t i, j, k, len = 0;
	int op, size, want, got;

	for (i = 0; i < nops; i++) {
		op = i < 0x230 ? (int)i - 16 : extra_ops[i - 0x230];
		for (j = 0; j < nsizes; j++) {
			size = j < 65 ? (int)j * 4 : (int)extra_sizes[j - 65];
			for (k = 0; k < ROW_COUNT && rows[k].ctl != op; k++)
				continue;
			if (k < ROW_COUNT && rows[k].want[col] == N)
				want = EPERM;
			else if (k < ROW_COUNT &&
			    (size_t)size == rows[k].ctl_size)
				continue;	/* the table cases do these */
			else
				want = EINVAL;
			memset(data, 0, sizeof(data));
			got = rq_ctl(ch_conn, op, data, (size_t)size);
			r->v[0]++;
			if (got == want)
				continue;
			if (r->v[1]++ < 6 && len < sizeof(r->text) - 1)
				len += (size_t)snprintf(r->text + len,
				    sizeof(r->text) - len, "%sop %#x size %d: "
				    "%s", len ? "; " : "", (unsigned)op, size,
				    ename(got));
			if (got < 0)
				return;		/* the connection is gone */
		}
	}
}

/*
 * The table through libnvmm's public API, on a machine of its own: data
 * holds each row's errno (LIB_UNTRIED where the API has no call: kick).
 * v0 VCPUs and v1 RAM as mach_info said, v2 and v3 the list, v4 the
 * owner's uid, v5 the machine.
 */
#define LIB_UNTRIED	INT_MIN

static void
ch_lib_table(const struct cmd *c, struct res *r)
{
	struct nvmm_capability cap;
	struct nvmm_machine mach;
	struct nvmm_vcpu vcpu;
	struct nvmm_ctl_mach_info info;
	struct nvmm_ctl_mach_list list;
	struct nvmm_ctl_mach_owner owner;
	struct nvmm_ctl_vcpu_stats st;
	struct nvmm_ctl_mach_kill kill;
	int err[ROW_COUNT];
	uint8_t conf[64], *ram;
	size_t i;

	for (i = 0; i < ROW_COUNT; i++)
		err[i] = LIB_UNTRIED;
#define LIBCALL(row, call)	(err[row] = (call) == -1 ? errno : 0)
	LIBCALL(ROW_CAPABILITY, nvmm_capability(&cap));
	if (LIBCALL(ROW_MACHINE_CREATE, nvmm_machine_create(&mach)) != 0)
		goto out;
	memset(conf, 0, sizeof(conf));
	LIBCALL(ROW_MACHINE_CONFIGURE, nvmm_machine_configure(&mach,
	    NVMM_MACH_CONF_MD_BEGIN, conf));
	LIBCALL(ROW_VCPU_CREATE, nvmm_vcpu_create(&mach, 0, &vcpu));
	ram = mmap(NULL, G_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		ch_trouble("mmap: %s", strerror(errno));
	LIBCALL(ROW_HVA_MAP, nvmm_hva_map(&mach, (uintptr_t)ram, G_RAM));
	LIBCALL(ROW_GPA_MAP, nvmm_gpa_map(&mach, (uintptr_t)ram, 0, G_RAM,
	    RWX));
	memset(&info, 0, sizeof(info));
	info.machid = mach.machid;
	LIBCALL(ROW_CTL_MACH_INFO, nvmm_ctl(NVMM_CTL_MACH_INFO, &info,
	    sizeof(info)));
	r->v[0] = info.nvcpus;
	r->v[1] = (int64_t)info.nram;
	memset(&list, 0, sizeof(list));
	LIBCALL(ROW_CTL_MACH_LIST, nvmm_ctl(NVMM_CTL_MACH_LIST, &list,
	    sizeof(list)));
	r->v[2] = (int64_t)list.machids[0];
	r->v[3] = (int64_t)list.machids[1];
	memset(&owner, 0, sizeof(owner));
	owner.machid = mach.machid;
	LIBCALL(ROW_CTL_MACH_OWNER, nvmm_ctl(NVMM_CTL_MACH_OWNER, &owner,
	    sizeof(owner)));
	r->v[4] = owner.uid;
	memset(&st, 0, sizeof(st));
	st.machid = mach.machid;
	LIBCALL(ROW_CTL_VCPU_STATS, nvmm_ctl(NVMM_CTL_VCPU_STATS, &st,
	    sizeof(st)));
	LIBCALL(ROW_GPA_UNMAP, nvmm_gpa_unmap(&mach, (uintptr_t)ram, 0,
	    G_RAM));
	LIBCALL(ROW_HVA_UNMAP, nvmm_hva_unmap(&mach, (uintptr_t)ram, G_RAM));
	LIBCALL(ROW_VCPU_DESTROY, nvmm_vcpu_destroy(&mach, &vcpu));
	kill.machid = c->a[0] == UINT64_MAX ? mach.machid :
	    (nvmm_machid_t)c->a[0];
	LIBCALL(ROW_CTL_MACH_KILL, nvmm_ctl(NVMM_CTL_MACH_KILL, &kill,
	    sizeof(kill)));
	LIBCALL(ROW_MACHINE_DESTROY, nvmm_machine_destroy(&mach));
#undef LIBCALL
	r->v[5] = mach.machid;
out:
	memcpy(r->data, err, sizeof(err));
	r->len = sizeof(err);
}

static void __attribute__((noreturn))
child_main(const struct ident *id, pid_t parent, int in)
{
	struct cmd c;
	struct res r;
	ssize_t n;
	int error;

	ch_become(id, parent);
	memset(&r, 0, sizeof(r));
	r.type = RES_READY;
	ch_send(&r);
	for (;;) {
		n = read(in, &c, sizeof(c));
		if (n == 0)
			_exit(0);
		if (n != (ssize_t)sizeof(c))
			ch_trouble("short command");
		memset(&r, 0, sizeof(r));
		r.type = RES_DONE;
		switch (c.type) {
		case CMD_CONNECT:
			if (ch_conn != -1)
				close(ch_conn);
			ch_conn = -1;
			r.error = nvmm_conn_open(sock_path, (Nvmm__Role)c.a[0],
			    &ch_conn);
			break;
		case CMD_DISCONNECT:
			if (ch_conn != -1)
				close(ch_conn);
			ch_conn = -1;
			break;
		case CMD_OP:
			ch_op(&c, &r);
			break;
		case CMD_PROBE:
			ch_probe(&c, &r);
			break;
		case CMD_LIB_INIT:
			error = c.a[0] ? nvmm_root_init() : nvmm_init();
			r.error = error == -1 ? errno : 0;
			if (error == 0) {
				struct nvmm_capability cap;

				r.v[0] = nvmm_capability(&cap) == -1 ? errno :
				    0;
			}
			break;
		case CMD_LIB_MACHINE:
			ch_lib_machine(&c, &r);
			break;
		case CMD_LIB_RUN:
			ch_lib_run(&c, &r);
			break;
		case CMD_LIB_SPIN:
			ch_lib_spin(&c, &r);
			break;
		case CMD_LIB_TABLE:
			ch_lib_table(&c, &r);
			break;
		case CMD_LIB_CTL:
			if (c.len > DATA_MAX)
				ch_trouble("bad CMD_LIB_CTL");
			r.error = nvmm_ctl(c.op, c.data, c.len) == -1 ? errno :
			    0;
			memcpy(r.data, c.data, c.len);
			r.len = c.len;
			break;
		default:
			ch_trouble("unknown command %d", c.type);
		}
		ch_send(&r);
	}
}

/* The test's side. */

static void
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

static void
child_start(struct child *ch, enum who who)
{
	int down[2], up[2], fd;
	pid_t parent = getpid();
	struct res r;

	ATF_REQUIRE(pipe2(down, O_CLOEXEC) == 0);
	ATF_REQUIRE(pipe2(up, O_CLOEXEC) == 0);
	fflush(stdout);
	fflush(stderr);
	ch->id = &idents[who];
	ch->pid = fork();
	ATF_REQUIRE(ch->pid != -1);
	if (ch->pid == 0) {
		/* Not the other children's pipes: they would never see EOF. */
		for (fd = 3; fd < 1024; fd++)
			if (fd != down[0] && fd != up[1])
				close(fd);
		ch_out = up[1];
		child_main(&idents[who], parent, down[0]);
	}
	close(down[0]);
	close(up[1]);
	ch->cmd = down[1];
	ch->res = up[0];
	child_read(ch, &r, WAIT_MS);
	ATF_REQUIRE(r.type == RES_READY);
}

static void
child_send(struct child *ch, const struct cmd *c)
{
	ATF_REQUIRE(write(ch->cmd, c, sizeof(*c)) == (ssize_t)sizeof(*c));
}

static void
child_do(struct child *ch, const struct cmd *c, struct res *r)
{
	child_send(ch, c);
	child_read(ch, r, WAIT_MS);
	ATF_REQUIRE(r->type == RES_DONE);
}

/* Ends a child: its connections close with it.  It must exit 0. */
static void
child_stop(struct child *ch)
{
	int status, i;

	close(ch->cmd);
	close(ch->res);
	for (i = 0; i < 1000; i++) {
		if (waitpid(ch->pid, &status, WNOHANG) == ch->pid)
			break;
		sleep_ms(10);
	}
	if (i == 1000) {
		kill(ch->pid, SIGKILL);
		waitpid(ch->pid, &status, 0);
		atf_tc_fail("%s (pid %d) did not exit", ch->id->name,
		    (int)ch->pid);
	}
	ATF_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s (pid %d) ended with status %#x", ch->id->name, (int)ch->pid,
	    status);
}

static int
ag_connect(struct child *ch, Nvmm__Role role)
{
	struct cmd c = { .type = CMD_CONNECT, .a = { (uint64_t)role } };
	struct res r;

	child_do(ch, &c, &r);
	return r.error;
}

static void
ag_disconnect(struct child *ch)
{
	struct cmd c = { .type = CMD_DISCONNECT };
	struct res r;

	child_do(ch, &c, &r);
}

/* One request of row, on the child's own connection. */
static int
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

static int
ag_info(struct child *ch, nvmm_machid_t machid,
    struct nvmm_ctl_mach_info *info)
{
	memset(info, 0, sizeof(*info));
	info->machid = machid;
	return ag_ctl(ch, ROW_CTL_MACH_INFO, info, sizeof(*info));
}

static int
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

static int
ag_owner(struct child *ch, nvmm_machid_t machid,
    struct nvmm_ctl_mach_owner *owner)
{
	memset(owner, 0, sizeof(*owner));
	owner->machid = machid;
	return ag_ctl(ch, ROW_CTL_MACH_OWNER, owner, sizeof(*owner));
}

static int
ag_stats(struct child *ch, nvmm_machid_t machid, nvmm_cpuid_t cpuid,
    struct nvmm_ctl_vcpu_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->machid = machid;
	st->cpuid = cpuid;
	return ag_ctl(ch, ROW_CTL_VCPU_STATS, st, sizeof(*st));
}

static int
ag_kill(struct child *ch, nvmm_machid_t machid, struct res *r)
{
	struct cmd c = { .type = CMD_OP, .op = ROW_CTL_MACH_KILL,
	    .len = sizeof(struct nvmm_ctl_mach_kill) };
	struct nvmm_ctl_mach_kill kill = { .machid = machid };

	memcpy(c.data, &kill, sizeof(kill));
	child_do(ch, &c, r);
	return r->error;
}

/* A machine a child made with libnvmm. */
struct gmach {
	nvmm_machid_t machid;
	uint64_t hva, ram, gpa;
	unsigned nvcpus;
	int index;		/* in its child */
	pid_t pid;
	uid_t uid;
};

static void
lib_init(struct child *ch, bool root)
{
	struct cmd c = { .type = CMD_LIB_INIT, .a = { root } };
	struct res r;

	child_do(ch, &c, &r);
	ATF_REQUIRE_MSG(r.error == 0 && r.v[0] == 0, "%s: %s: %s, then "
	    "nvmm_capability: %s", ch->id->name, root ? "nvmm_root_init" :
	    "nvmm_init", ename(r.error), ename((int)r.v[0]));
}

static void
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

/* The machine's owner runs VCPU cpuid to the guest's HLT. */
static void
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

static int
lib_run_error(struct child *ch, const struct gmach *m, unsigned cpuid)
{
	struct cmd c = { .type = CMD_LIB_RUN,
	    .a = { (uint64_t)m->index, cpuid } };
	struct res r;

	child_do(ch, &c, &r);
	return r.error;
}

static int
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

static int
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

static void
bits_set(uint64_t bits[2], nvmm_machid_t machid)
{
	bits[machid / 64] |= 1ULL << (machid % 64);
}

/* Requires a connection of child ch as role. */
static void
connect_as(struct child *ch, Nvmm__Role role)
{
	int error = ag_connect(ch, role);

	ATF_REQUIRE_MSG(error == 0, "%s cannot connect as role %d: %s",
	    ch->id->name, (int)role, ename(error));
}

/* Whether nvmmd logged that it refused op name to the child's role. */
static bool
log_refused(const struct child *ch, const char *name, Nvmm__Role role)
{
	char text[160];

	snprintf(text, sizeof(text), "pid %d uid %u: %s refused to role %d",
	    (int)ch->pid, (unsigned)ch->id->uid, name, (int)role);
	return hd_log_has(text);
}

/* A machine as an observer sees it: present, with nvcpus and nram. */
static void
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

/* Polls until mach_info of machid answers want (a disconnect is async). */
static int
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

/* -------------------------------------------------------------------------- */
/* The table, one role at a time. */

struct steps {
	bool seen[ROW_COUNT];
	int error[ROW_COUNT];
	char bad[ROW_COUNT][240];	/* an allowed call's result was wrong */
};

static void
step(struct steps *s, enum row row, int error)
{
	ATF_REQUIRE_MSG(!s->seen[row], "row %s twice", rows[row].name);
	s->seen[row] = true;
	s->error[row] = error;
}

static void __attribute__((format(printf, 3, 4)))
step_bad(struct steps *s, enum row row, const char *fmt, ...)
{
	va_list ap;

	if (s->bad[row][0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(s->bad[row], sizeof(s->bad[row]), fmt, ap);
	va_end(ap);
}

/*
 * The user's or the admin's column through libnvmm (nvmm_init or
 * nvmm_root_init) in a process of who's: the same answers as through the
 * protocol, where the API has a call for the row.  The admin kills
 * victim, another user's machine; a user tries its own.
 */
static void
lib_table(enum col col, enum who who, const struct gmach *victim)
{
	const Nvmm__Role role = col_roles[col];
	struct cmd c = { .type = CMD_LIB_TABLE };
	struct child ch;
	struct res r;
	int err[ROW_COUNT], row, want;
	bool refused;

	child_start(&ch, who);
	lib_init(&ch, col == COL_ADMIN);
	c.a[0] = col == COL_ADMIN ? victim->machid : UINT64_MAX;
	child_do(&ch, &c, &r);
	memcpy(err, r.data, sizeof(err));
	for (row = 0; row < ROW_COUNT; row++) {
		if (row == ROW_KICK)
			continue;	/* libnvmm kicks only from within */
		want = row_want(row, col);
		refused = rows[row].want[col] == N;
		ATF_CHECK_MSG(err[row] == want, "libnvmm: %s as %s (%s): %s, "
		    "want %s", rows[row].name, col_names[col], refused ?
		    "refused" : "allowed", err[row] == LIB_UNTRIED ?
		    "not tried" : ename(err[row]), ename(want));
		if (row == ROW_CTL_MACH_INFO && !refused)
			continue;
		ATF_CHECK_MSG(log_refused(&ch, rows[row].name, role) ==
		    refused, "libnvmm: %s as %s: the daemon's log %s a refusal",
		    rows[row].name, col_names[col], refused ? "lacks" : "has");
	}
	if (err[ROW_CTL_MACH_INFO] == 0)
		ATF_CHECK_MSG(r.v[0] == 1 && r.v[1] == (int64_t)G_RAM,
		    "libnvmm: mach_info as %s: %jd VCPUs, %jd bytes",
		    col_names[col], (intmax_t)r.v[0], (intmax_t)r.v[1]);
	if (err[ROW_CTL_MACH_LIST] == 0)
		ATF_CHECK_MSG(((uint64_t)r.v[2 + r.v[5] / 64] >> (r.v[5] % 64))
		    & 1, "libnvmm: mach_list as %s: %#jx:%#jx lacks machine "
		    "%jd", col_names[col], (uintmax_t)r.v[3],
		    (uintmax_t)r.v[2], (intmax_t)r.v[5]);
	if (err[ROW_CTL_MACH_OWNER] == 0)
		ATF_CHECK_MSG(r.v[4] == (int64_t)ch.id->uid, "libnvmm: "
		    "mach_owner as %s: uid %jd, want %u", col_names[col],
		    (intmax_t)r.v[4], (unsigned)ch.id->uid);
	child_stop(&ch);
}

static void
table_case(enum col col)
{
	static const enum who agent_who[COL_COUNT] = { W_USER, W_ADMIN,
	    W_MONITOR };
	const Nvmm__Role role = col_roles[col];
	const bool own = col != COL_MONITOR;
	struct child owner, agent, obs;
	struct nvmm_ctl_mach_info info;
	struct nvmm_ctl_mach_owner ow;
	struct nvmm_ctl_vcpu_stats st;
	struct steps s;
	struct gmach o, o2;
	struct res r;
	uint64_t bits[2], want_bits[2];
	nvmm_machid_t t, k;
	uint64_t hva;
	pid_t daemon;
	int e, want, row, fds = 0;
	bool refused;

	memset(&s, 0, sizeof(s));
	roles_setup();
	daemon = roles_daemon();

	/*
	 * Another user's machines, 2 VCPUs and G_RAM of RAM each, with a
	 * guest: o for the protocol, o2 for libnvmm.
	 */
	child_start(&owner, W_USER2);
	lib_init(&owner, false);
	lib_machine(&owner, 2, G_RAM, &o);
	lib_machine(&owner, 2, G_RAM, &o2);
	child_start(&obs, W_ROOT);
	connect_as(&obs, NVMM__ROLE__ROLE_MONITOR);
	child_start(&agent, agent_who[col]);
	connect_as(&agent, role);

	/*
	 * Users and admins work on a machine of their own; a monitor, which
	 * cannot create one, on the other user's, with arguments that would
	 * succeed were it allowed.  It leaves the daemon with as many
	 * descriptors as it found (hva_map sends one).
	 */
	if (!own)
		fds = hd_fd_count(daemon);
	e = ag_op(&agent, ROW_CAPABILITY, &r, 0, 0, 0, 0, 0);
	step(&s, ROW_CAPABILITY, e);
	if (e == 0 && (r.v[0] != NVMM_KERN_VERSION ||
	    r.v[1] != sizeof(struct nvmm_x64_state)))
		step_bad(&s, ROW_CAPABILITY, "version %jd, state size %jd",
		    (intmax_t)r.v[0], (intmax_t)r.v[1]);

	e = ag_op(&agent, ROW_MACHINE_CREATE, &r, 0, 0, 0, 0, 0);
	step(&s, ROW_MACHINE_CREATE, e);
	if (own && e != 0)
		atf_tc_fail("machine_create as %s: %s; cannot go on",
		    col_names[col], ename(e));
	if (e == 0 && !r.v[1])
		step_bad(&s, ROW_MACHINE_CREATE, "no comm memfd came with "
		    "the reply");
	t = own ? (nvmm_machid_t)r.v[0] : o.machid;

	e = ag_op(&agent, ROW_VCPU_CREATE, &r, t, own ? 0 : o.nvcpus, 0, 0,
	    0);
	step(&s, ROW_VCPU_CREATE, e);

	{
		struct cmd c = { .type = CMD_OP, .op = ROW_MACHINE_CONFIGURE,
		    .a = { t, NVMM_MACH_CONF_MD_BEGIN }, .len = 16 };

		child_do(&agent, &c, &r);
		step(&s, ROW_MACHINE_CONFIGURE, r.error);
	}

	e = ag_op(&agent, ROW_HVA_MAP, &r, t, RAW_HVA, G_RAM, 0, 0);
	step(&s, ROW_HVA_MAP, e);

	hva = own ? RAW_HVA : o.hva;
	e = ag_op(&agent, ROW_GPA_MAP, &r, t, hva, RAW_GPA, PAGE, RWX);
	step(&s, ROW_GPA_MAP, e);

	e = ag_op(&agent, ROW_KICK, &r, t, 0, 0, 0, 0);
	step(&s, ROW_KICK, e);

	e = ag_list(&agent, bits);
	step(&s, ROW_CTL_MACH_LIST, e);
	memset(want_bits, 0, sizeof(want_bits));
	bits_set(want_bits, t);
	if (col != COL_USER) {
		bits_set(want_bits, o.machid);
		bits_set(want_bits, o2.machid);
	}
	if (e == 0 && (bits[0] != want_bits[0] || bits[1] != want_bits[1]))
		step_bad(&s, ROW_CTL_MACH_LIST, "bitmap %#jx:%#jx, want "
		    "%#jx:%#jx (own machine %u, another user's %u)",
		    (uintmax_t)bits[1], (uintmax_t)bits[0],
		    (uintmax_t)want_bits[1], (uintmax_t)want_bits[0], t,
		    o.machid);

	e = ag_info(&agent, t, &info);
	step(&s, ROW_CTL_MACH_INFO, e);
	if (e == 0 && (info.machid != t ||
	    info.nvcpus != (own ? 1 : o.nvcpus) ||
	    info.nram != (own ? G_RAM : o.ram) ||
	    (col == COL_USER && info.pid != agent.pid) ||
	    (!own && info.pid != o.pid)))
		step_bad(&s, ROW_CTL_MACH_INFO, "machine %u: %u VCPUs, %ju "
		    "bytes, pid %d", info.machid, info.nvcpus,
		    (uintmax_t)info.nram, (int)info.pid);

	e = ag_owner(&agent, t, &ow);
	step(&s, ROW_CTL_MACH_OWNER, e);
	if (e == 0 && (ow.machid != t ||
	    ow.uid != (own ? agent.id->uid : o.uid) ||
	    ow.pid != (own ? agent.pid : o.pid) ||
	    strncmp(ow.comm, "t_roles", sizeof(ow.comm)) != 0))
		step_bad(&s, ROW_CTL_MACH_OWNER, "machine %u: uid %u, pid %d, "
		    "command \"%.16s\"", ow.machid, (unsigned)ow.uid,
		    (int)ow.pid, ow.comm);

	e = ag_stats(&agent, t, 0, &st);
	step(&s, ROW_CTL_VCPU_STATS, e);
	if (e == 0 && (st.machid != t || st.cpuid != 0))
		step_bad(&s, ROW_CTL_VCPU_STATS, "answered for %u/%u",
		    st.machid, st.cpuid);

	e = ag_op(&agent, ROW_GPA_UNMAP, &r, t, own ? RAW_GPA : o.gpa,
	    own ? PAGE : o.ram, 0, 0);
	step(&s, ROW_GPA_UNMAP, e);

	e = ag_op(&agent, ROW_HVA_UNMAP, &r, t, own ? RAW_HVA : o.hva,
	    own ? G_RAM : o.ram, 0, 0);
	step(&s, ROW_HVA_UNMAP, e);
	if (e == 0 && own && (ag_info(&agent, t, &info) != 0 ||
	    info.nram != 0))
		step_bad(&s, ROW_HVA_UNMAP, "machine %u still has %ju bytes",
		    t, (uintmax_t)info.nram);

	e = ag_op(&agent, ROW_VCPU_DESTROY, &r, t, 0, 0, 0, 0);
	step(&s, ROW_VCPU_DESTROY, e);
	if (e == 0 && own && (ag_info(&agent, t, &info) != 0 ||
	    info.nvcpus != 0))
		step_bad(&s, ROW_VCPU_DESTROY, "machine %u still has %u VCPUs",
		    t, info.nvcpus);

	/* A user tries its own machine; the others the other user's. */
	k = col == COL_USER ? t : o.machid;
	e = ag_kill(&agent, k, &r);
	step(&s, ROW_CTL_MACH_KILL, e);
	if (e == 0 && (e = ag_info(&obs, k, &info)) != ENOENT)
		step_bad(&s, ROW_CTL_MACH_KILL, "machine %u still there: "
		    "mach_info %s", k, ename(e));

	e = ag_op(&agent, ROW_MACHINE_DESTROY, &r, t, 0, 0, 0, 0);
	step(&s, ROW_MACHINE_DESTROY, e);
	if (e == 0 && (e = ag_info(&obs, t, &info)) != ENOENT)
		step_bad(&s, ROW_MACHINE_DESTROY, "machine %u still there: "
		    "mach_info %s", t, ename(e));

	if (!own)
		ATF_CHECK_MSG(hd_fd_count(daemon) == fds, "the daemon had %d "
		    "descriptors before the monitor's requests, %d after", fds,
		    hd_fd_count(daemon));

	/* The cells. */
	for (row = 0; row < ROW_COUNT; row++) {
		ATF_CHECK_MSG(s.seen[row], "%s as %s: not tried",
		    rows[row].name, col_names[col]);
		if (!s.seen[row])
			continue;
		want = row_want(row, col);
		refused = rows[row].want[col] == N;
		ATF_CHECK_MSG(s.error[row] == want, "%s as %s (%s): %s, want "
		    "%s", rows[row].name, col_names[col], refused ? "refused" :
		    "allowed", ename(s.error[row]), ename(want));
		ATF_CHECK_MSG(s.bad[row][0] == '\0', "%s as %s: %s",
		    rows[row].name, col_names[col], s.bad[row]);
		/* The ctl catch-all row also serves mach_info: skip it. */
		if (row == ROW_CTL_MACH_INFO && !refused)
			continue;
		ATF_CHECK_MSG(log_refused(&agent, rows[row].name, role) ==
		    refused, "%s as %s: the daemon's log %s a refusal",
		    rows[row].name, col_names[col], refused ? "lacks" : "has");
	}

	/* The user's and the admin's cells again, through libnvmm. */
	if (own)
		lib_table(col, agent_who[col], &o2);

	/* What happened to the other user's machines. */
	if (col == COL_ADMIN) {
		e = lib_info(&owner, o.machid, &info);
		ATF_CHECK_MSG(e == ENOENT, "killed machine %u: its owner's "
		    "mach_info: %s, want ENOENT", o.machid, ename(e));
		e = lib_run_error(&owner, &o, 0);
		ATF_CHECK_MSG(e == ENOENT, "killed machine %u: its owner's "
		    "run: %s, want ENOENT", o.machid, ename(e));
		e = lib_info(&owner, o2.machid, &info);
		ATF_CHECK_MSG(e == ENOENT, "machine %u killed through libnvmm: "
		    "its owner's mach_info: %s, want ENOENT", o2.machid,
		    ename(e));
	} else {
		check_machine(&obs, &o, "the other user's machine afterwards");
		check_machine(&obs, &o2, "the other user's machine afterwards");
		lib_check_runs(&owner, &o, 0, "the other user's machine "
		    "afterwards");
		lib_check_runs(&owner, &o, 1, "the other user's machine "
		    "afterwards");
		lib_check_runs(&owner, &o2, 0, "the other user's machine "
		    "afterwards");
	}

	child_stop(&agent);
	child_stop(&obs);
	child_stop(&owner);
	hd_stop(daemon);
}

ATF_TC_WITH_CLEANUP(table_user);
ATF_TC_HEAD(table_user, tc)
{
	atf_tc_set_md_var(tc, "descr", "Every operation of nvmmd's role "
	    "table as a user (nvmm_init's role), under another uid: allowed "
	    "ones work on its own machine, the others are EPERM and logged");
	HD_TC_NEEDS_DAEMON(tc);
}
ATF_TC_BODY(table_user, tc)
{
	table_case(COL_USER);
}
ATF_TC_CLEANUP(table_user, tc)
{
	roles_cleanup();
}

ATF_TC_WITH_CLEANUP(table_admin);
ATF_TC_HEAD(table_admin, tc)
{
	atf_tc_set_md_var(tc, "descr", "Every operation of nvmmd's role "
	    "table as an admin (nvmm_root_init's role), from the admin group "
	    "under another uid: all allowed, kill included");
	HD_TC_NEEDS_DAEMON(tc);
}
ATF_TC_BODY(table_admin, tc)
{
	table_case(COL_ADMIN);
}
ATF_TC_CLEANUP(table_admin, tc)
{
	roles_cleanup();
}

ATF_TC_WITH_CLEANUP(table_monitor);
ATF_TC_HEAD(table_monitor, tc)
{
	atf_tc_set_md_var(tc, "descr", "Every operation of nvmmd's role "
	    "table as a monitor, from the monitor group: it looks at another "
	    "user's machine, every change is EPERM and logged, and the "
	    "machine is unchanged afterwards");
	HD_TC_NEEDS_DAEMON(tc);
}
ATF_TC_BODY(table_monitor, tc)
{
	table_case(COL_MONITOR);
}
ATF_TC_CLEANUP(table_monitor, tc)
{
	roles_cleanup();
}

/* -------------------------------------------------------------------------- */

ATF_TC_WITH_CLEANUP(table_complete);
ATF_TC_HEAD(table_complete, tc)
{
	atf_tc_set_md_var(tc, "descr", "The daemon knows no operation this "
	    "test's table lacks: the protocol has exactly the requests and "
	    "roles the table has, and every other ctl op, and every known "
	    "one with a wrong size, answers EINVAL to every role");
	HD_TC_NEEDS_DAEMON(tc);
}
ATF_TC_BODY(table_complete, tc)
{
	const ProtobufCMessageDescriptor *d = &nvmm__request__descriptor;
	struct child owner, agent;
	struct gmach o;
	struct cmd c = { .type = CMD_PROBE };
	struct res r;
	unsigned i, j, col;
	pid_t daemon;

	/* A new request kind is a new field of Request. */
	for (i = 0; i < d->n_fields; i++) {
		if (strcmp(d->fields[i].name, "id") == 0)
			continue;
		for (j = 0; j < ROW_COUNT &&
		    strcmp(rows[j].field, d->fields[i].name) != 0; j++)
			continue;
		ATF_CHECK_MSG(j < ROW_COUNT, "nvmm.Request has a request "
		    "this test's role table lacks: \"%s\"; add its row",
		    d->fields[i].name);
	}
	ATF_CHECK_MSG(d->n_fields == 13, "nvmm.Request has %u fields, the "
	    "table knows of 12 requests and the id", d->n_fields);
	ATF_CHECK_MSG(nvmm__role__descriptor.n_values == 4, "nvmm.Role has %u "
	    "values; the table knows NONE, USER, ADMIN and MONITOR",
	    nvmm__role__descriptor.n_values);

	/* A new ctl op is a row the catch-all does not answer for. */
	roles_setup();
	daemon = roles_daemon();
	child_start(&owner, W_USER2);
	lib_init(&owner, false);
	lib_machine(&owner, 1, G_RAM, &o);
	for (col = 0; col < COL_COUNT; col++) {
		static const enum who who[COL_COUNT] = { W_USER, W_ADMIN,
		    W_MONITOR };
		struct res rr;

		child_start(&agent, who[col]);
		connect_as(&agent, col_roles[col]);
		if (col != COL_MONITOR) {
			ATF_REQUIRE(ag_op(&agent, ROW_MACHINE_CREATE, &rr, 0,
			    0, 0, 0, 0) == 0);
			ATF_REQUIRE(ag_op(&agent, ROW_VCPU_CREATE, &rr,
			    (uint64_t)rr.v[0], 0, 0, 0, 0) == 0);
		}
		c.a[0] = col;
		child_send(&agent, &c);
		child_read(&agent, &r, 120000);
		ATF_REQUIRE(r.type == RES_DONE);
		printf("%s: %jd ctl requests\n", col_names[col],
		    (intmax_t)r.v[0]);
		ATF_CHECK_MSG(r.v[1] == 0, "as %s, %jd of %jd ctl requests "
		    "did not answer as the table says (an op the table lacks?): "
		    "%s", col_names[col], (intmax_t)r.v[1], (intmax_t)r.v[0],
		    r.text);
		ATF_CHECK_MSG(r.v[0] > 30000, "as %s, only %jd requests",
		    col_names[col], (intmax_t)r.v[0]);
		child_stop(&agent);
	}
	/* Nothing was touched. */
	{
		struct child obs;

		child_start(&obs, W_ROOT);
		connect_as(&obs, NVMM__ROLE__ROLE_MONITOR);
		check_machine(&obs, &o, "after the probes");
		child_stop(&obs);
	}
	child_stop(&owner);
	hd_stop(daemon);
}
ATF_TC_CLEANUP(table_complete, tc)
{
	roles_cleanup();
}

/* -------------------------------------------------------------------------- */

ATF_TC_WITH_CLEANUP(connect);
ATF_TC_HEAD(connect, tc)
{
	atf_tc_set_md_var(tc, "descr", "Who may connect as what, from the "
	    "peer's uid, primary and supplementary groups: a uid in none of "
	    "the groups is refused at connect (EACCES from nvmm_init), a role "
	    "beyond the peer's is EACCES, and both are logged");
	HD_TC_NEEDS_DAEMON(tc);
}
ATF_TC_BODY(connect, tc)
{
	enum { C_USER, C_ADMIN, C_MONITOR, C_NONE, C_COUNT };
	static const Nvmm__Role roles[C_COUNT] = { NVMM__ROLE__ROLE_USER,
	    NVMM__ROLE__ROLE_ADMIN, NVMM__ROLE__ROLE_MONITOR,
	    NVMM__ROLE__ROLE_NONE };
	static const char *const role_names[C_COUNT] = { "user", "admin",
	    "monitor", "none" };
	/* What the hello answers: the monitor role is open to any user. */
	static const int want[W_COUNT][C_COUNT] = {
		[W_USER] = { 0, EACCES, 0, EINVAL },
		[W_USER2] = { 0, EACCES, 0, EINVAL },
		[W_ADMIN] = { 0, 0, 0, EINVAL },
		[W_MONITOR] = { EACCES, EACCES, 0, EINVAL },
		[W_OUTSIDER] = { EACCES, EACCES, EACCES, EACCES },
		[W_ROOT] = { 0, 0, 0, EINVAL },
	};
	struct child ch;
	struct cmd c;
	struct res r;
	char text[200];
	pid_t daemon;
	int w, k, e, lib;

	roles_setup();
	daemon = roles_daemon();
	for (w = 0; w < W_COUNT; w++) {
		/* The protocol: every role in turn. */
		child_start(&ch, (enum who)w);
		for (k = 0; k < C_COUNT; k++) {
			e = ag_connect(&ch, roles[k]);
			ATF_CHECK_MSG(e == want[w][k], "%s (uid %u) as %s: %s, "
			    "want %s", ch.id->name, (unsigned)ch.id->uid,
			    role_names[k], ename(e), ename(want[w][k]));
			if (e == 0) {
				e = ag_op(&ch, ROW_CAPABILITY, &r, 0, 0, 0, 0,
				    0);
				ATF_CHECK_MSG(e == 0, "%s as %s: capability %s",
				    ch.id->name, role_names[k], ename(e));
			}
			if (w == W_OUTSIDER || want[w][k] == 0)
				continue;
			snprintf(text, sizeof(text), "pid %d uid %u: refused "
			    "role %d: %s", (int)ch.pid, (unsigned)ch.id->uid,
			    (int)roles[k], strerror(want[w][k]));
			ATF_CHECK_MSG(hd_log_has(text), "no \"%s\" in the log",
			    text);
		}
		if (w == W_OUTSIDER) {
			snprintf(text, sizeof(text), "refused pid %d uid %u "
			    "gid %u: not in group", (int)ch.pid,
			    (unsigned)ch.id->uid, (unsigned)ch.id->gid);
			ATF_CHECK_MSG(hd_log_has(text), "no \"%s\" in the log",
			    text);
		}
		child_stop(&ch);

		/* libnvmm: nvmm_init and nvmm_root_init, a process each. */
		for (lib = 0; lib < 2; lib++) {
			child_start(&ch, (enum who)w);
			memset(&c, 0, sizeof(c));
			c.type = CMD_LIB_INIT;
			c.a[0] = (uint64_t)lib;
			child_do(&ch, &c, &r);
			k = lib ? C_ADMIN : C_USER;
			ATF_CHECK_MSG(r.error == want[w][k], "%s (uid %u): %s: "
			    "%s, want %s", ch.id->name, (unsigned)ch.id->uid,
			    lib ? "nvmm_root_init" : "nvmm_init",
			    ename(r.error), ename(want[w][k]));
			if (r.error == 0)
				ATF_CHECK_MSG(r.v[0] == 0, "%s: "
				    "nvmm_capability after %s: %s", ch.id->name,
				    lib ? "nvmm_root_init" : "nvmm_init",
				    ename((int)r.v[0]));
			child_stop(&ch);
		}
	}
	hd_stop(daemon);
}
ATF_TC_CLEANUP(connect, tc)
{
	roles_cleanup();
}

/* -------------------------------------------------------------------------- */

ATF_TC_WITH_CLEANUP(user_isolation);
ATF_TC_HEAD(user_isolation, tc)
{
	atf_tc_set_md_var(tc, "descr", "A user sees and touches only its "
	    "own machines: the list shows only them, every operation on "
	    "another user's machine is EPERM from the driver (not a role "
	    "refusal), that machine is unchanged, and ownership is per "
	    "connection");
	HD_TC_NEEDS_DAEMON(tc);
}
ATF_TC_BODY(user_isolation, tc)
{
	static const enum row no_log[] = { ROW_CTL_MACH_INFO,
	    ROW_CTL_MACH_OWNER, ROW_CTL_VCPU_STATS, ROW_MACHINE_DESTROY,
	    ROW_VCPU_CREATE, ROW_VCPU_DESTROY, ROW_HVA_MAP, ROW_HVA_UNMAP,
	    ROW_GPA_MAP, ROW_GPA_UNMAP, ROW_KICK };
	struct child a, a2, b, obs;
	struct nvmm_ctl_mach_info info;
	struct nvmm_ctl_mach_owner ow;
	struct nvmm_ctl_vcpu_stats st;
	struct gmach mb;
	struct res r;
	uint64_t bits[2];
	nvmm_machid_t ma;
	pid_t daemon;
	size_t i;
	int e;

	roles_setup();
	daemon = roles_daemon();
	child_start(&obs, W_ROOT);
	connect_as(&obs, NVMM__ROLE__ROLE_MONITOR);

	/* B: a user with a machine through libnvmm. */
	child_start(&b, W_USER2);
	lib_init(&b, false);
	lib_machine(&b, 2, G_RAM, &mb);

	/* A: another user, with a machine of its own. */
	child_start(&a, W_USER);
	connect_as(&a, NVMM__ROLE__ROLE_USER);
	ATF_REQUIRE(ag_op(&a, ROW_MACHINE_CREATE, &r, 0, 0, 0, 0, 0) == 0);
	ma = (nvmm_machid_t)r.v[0];
	ATF_REQUIRE(ag_op(&a, ROW_VCPU_CREATE, &r, ma, 0, 0, 0, 0) == 0);
	ATF_REQUIRE(ag_op(&a, ROW_HVA_MAP, &r, ma, RAW_HVA, G_RAM, 0, 0) == 0);

	e = ag_list(&a, bits);
	ATF_CHECK_MSG(e == 0 && bits[ma / 64] == (1ULL << (ma % 64)) &&
	    bits[1 - ma / 64] == 0, "A's list: %s, %#jx:%#jx; want only its "
	    "machine %u", ename(e), (uintmax_t)bits[1], (uintmax_t)bits[0],
	    ma);
	e = lib_list(&b, bits);
	ATF_CHECK_MSG(e == 0 && bits[mb.machid / 64] ==
	    (1ULL << (mb.machid % 64)) && bits[1 - mb.machid / 64] == 0,
	    "B's list: %s, %#jx:%#jx; want only its machine %u", ename(e),
	    (uintmax_t)bits[1], (uintmax_t)bits[0], mb.machid);
	e = lib_info(&b, ma, &info);
	ATF_CHECK_MSG(e == EPERM, "B's mach_info of A's machine: %s, want "
	    "EPERM", ename(e));

	/* A on B's machine, with arguments that would work for B. */
#define ISO_CHECK(what, call) do {					\
	e = (call);							\
	ATF_CHECK_MSG(e == EPERM, "A's %s on B's machine %u: %s, want "	\
	    "EPERM", (what), mb.machid, ename(e));			\
} while (0)
	ISO_CHECK("mach_info", ag_info(&a, mb.machid, &info));
	ISO_CHECK("mach_owner", ag_owner(&a, mb.machid, &ow));
	ISO_CHECK("vcpu_stats", ag_stats(&a, mb.machid, 0, &st));
	ISO_CHECK("vcpu_create", ag_op(&a, ROW_VCPU_CREATE, &r, mb.machid, 2,
	    0, 0, 0));
	ISO_CHECK("vcpu_destroy", ag_op(&a, ROW_VCPU_DESTROY, &r, mb.machid,
	    0, 0, 0, 0));
	ISO_CHECK("hva_map", ag_op(&a, ROW_HVA_MAP, &r, mb.machid, RAW_HVA,
	    G_RAM, 0, 0));
	ISO_CHECK("gpa_map", ag_op(&a, ROW_GPA_MAP, &r, mb.machid, mb.hva,
	    RAW_GPA, PAGE, RWX));
	ISO_CHECK("gpa_unmap", ag_op(&a, ROW_GPA_UNMAP, &r, mb.machid, mb.gpa,
	    mb.ram, 0, 0));
	ISO_CHECK("hva_unmap", ag_op(&a, ROW_HVA_UNMAP, &r, mb.machid, mb.hva,
	    mb.ram, 0, 0));
	ISO_CHECK("kick", ag_op(&a, ROW_KICK, &r, mb.machid, 0, 0, 0, 0));
	ISO_CHECK("machine_destroy", ag_op(&a, ROW_MACHINE_DESTROY, &r,
	    mb.machid, 0, 0, 0, 0));
	ISO_CHECK("mach_kill", ag_kill(&a, mb.machid, &r));
#undef ISO_CHECK
	/* The driver refused those, not the role table. */
	for (i = 0; i < sizeof(no_log) / sizeof(no_log[0]); i++)
		ATF_CHECK_MSG(!log_refused(&a, rows[no_log[i]].name,
		    NVMM__ROLE__ROLE_USER), "%s logged as a role refusal",
		    rows[no_log[i]].name);

	/* B's machine is as it was, and runs. */
	check_machine(&obs, &mb, "B's machine after A's attempts");
	lib_check_runs(&b, &mb, 0, "B's machine after A's attempts");
	lib_check_runs(&b, &mb, 1, "B's machine after A's attempts");

	/* The same uid on another connection is another owner. */
	child_start(&a2, W_USER);
	connect_as(&a2, NVMM__ROLE__ROLE_USER);
	e = ag_list(&a2, bits);
	ATF_CHECK_MSG(e == 0 && bits[0] == 0 && bits[1] == 0, "a second "
	    "connection of A's uid lists %#jx:%#jx (%s); want nothing",
	    (uintmax_t)bits[1], (uintmax_t)bits[0], ename(e));
	e = ag_info(&a2, ma, &info);
	ATF_CHECK_MSG(e == EPERM, "a second connection of A's uid: mach_info "
	    "of A's machine: %s, want EPERM", ename(e));
	e = ag_op(&a2, ROW_MACHINE_DESTROY, &r, ma, 0, 0, 0, 0);
	ATF_CHECK_MSG(e == EPERM, "a second connection of A's uid: "
	    "machine_destroy of A's machine: %s, want EPERM", ename(e));
	child_stop(&a2);

	/* A's machine is A's connection's: it ends with it. */
	e = ag_info(&obs, ma, &info);
	ATF_CHECK_MSG(e == 0 && info.nvcpus == 1 && info.nram == G_RAM,
	    "A's machine %u: %s, %u VCPUs, %ju bytes", ma, ename(e),
	    info.nvcpus, (uintmax_t)info.nram);
	ag_disconnect(&a);
	e = wait_info(&obs, ma, ENOENT);
	ATF_CHECK_MSG(e == ENOENT, "A's machine %u after A disconnected: "
	    "mach_info %s, want ENOENT", ma, ename(e));
	check_machine(&obs, &mb, "B's machine after A disconnected");

	child_stop(&a);
	child_stop(&b);
	child_stop(&obs);
	hd_stop(daemon);
}
ATF_TC_CLEANUP(user_isolation, tc)
{
	roles_cleanup();
}

/* -------------------------------------------------------------------------- */

ATF_TC_WITH_CLEANUP(monitor_sees_all);
ATF_TC_HEAD(monitor_sees_all, tc)
{
	atf_tc_set_md_var(tc, "descr", "A monitor (the monitor group, or any "
	    "user asking for the role) sees every machine, whoever made it: "
	    "the list, mach_info, mach_owner and vcpu_stats; its connection "
	    "ends taking no machine with it");
	HD_TC_NEEDS_DAEMON(tc);
}

/* What monitor ch sees of every machine. */
static void
monitor_check(struct child *ch, const struct gmach *ms, size_t n,
    const char *what)
{
	struct nvmm_ctl_mach_info info;
	struct nvmm_ctl_mach_owner ow;
	struct nvmm_ctl_vcpu_stats st;
	uint64_t bits[2], want[2] = { 0, 0 };
	struct res r;
	unsigned c;
	size_t i;
	int e;

	e = ag_op(ch, ROW_CAPABILITY, &r, 0, 0, 0, 0, 0);
	ATF_CHECK_MSG(e == 0, "%s: capability: %s", what, ename(e));
	for (i = 0; i < n; i++)
		bits_set(want, ms[i].machid);
	e = ag_list(ch, bits);
	ATF_CHECK_MSG(e == 0 && bits[0] == want[0] && bits[1] == want[1],
	    "%s: list %s, %#jx:%#jx, want %#jx:%#jx", what, ename(e),
	    (uintmax_t)bits[1], (uintmax_t)bits[0], (uintmax_t)want[1],
	    (uintmax_t)want[0]);
	for (i = 0; i < n; i++) {
		const struct gmach *m = &ms[i];

		e = ag_info(ch, m->machid, &info);
		ATF_CHECK_MSG(e == 0, "%s: mach_info of %u: %s", what,
		    m->machid, ename(e));
		/* The root owner's machines: no pid of the owner to check. */
		ATF_CHECK_MSG(e != 0 || (info.nvcpus == m->nvcpus &&
		    info.nram == m->ram && (m->pid == 0 || info.pid == m->pid)),
		    "%s: machine %u: %u VCPUs, %ju bytes, pid %d; want %u, %ju, "
		    "%d", what, m->machid, info.nvcpus, (uintmax_t)info.nram,
		    (int)info.pid, m->nvcpus, (uintmax_t)m->ram, (int)m->pid);
		e = ag_owner(ch, m->machid, &ow);
		ATF_CHECK_MSG(e == 0 && ow.uid == m->uid &&
		    strncmp(ow.comm, "t_roles", 16) == 0, "%s: mach_owner of "
		    "%u: %s, uid %u, command \"%.16s\"; want uid %u, t_roles",
		    what, m->machid, ename(e), (unsigned)ow.uid, ow.comm,
		    (unsigned)m->uid);
		for (c = 0; c < m->nvcpus; c++) {
			e = ag_stats(ch, m->machid, c, &st);
			ATF_CHECK_MSG(e == 0 && st.machid == m->machid &&
			    st.cpuid == c, "%s: vcpu_stats of %u/%u: %s", what,
			    m->machid, c, ename(e));
		}
		e = ag_stats(ch, m->machid, m->nvcpus, &st);
		ATF_CHECK_MSG(e == ENOENT, "%s: vcpu_stats of %u/%u, which "
		    "does not exist: %s, want ENOENT", what, m->machid,
		    m->nvcpus, ename(e));
	}
}

ATF_TC_BODY(monitor_sees_all, tc)
{
	struct child b1, b2, adm, mon, umon, obs;
	struct nvmm_ctl_vcpu_stats st;
	struct nvmm_ctl_mach_owner ow;
	struct gmach ms[3];
	struct res r;
	pid_t daemon;
	int e;

	roles_setup();
	daemon = roles_daemon();

	child_start(&b1, W_USER);
	lib_init(&b1, false);
	lib_machine(&b1, 2, G_RAM, &ms[0]);
	lib_check_runs(&b1, &ms[0], 1, "setting up");
	child_start(&b2, W_USER2);
	lib_init(&b2, false);
	lib_machine(&b2, 1, 2 * G_RAM, &ms[1]);

	/* An admin's machine: the root owner's. */
	child_start(&adm, W_ADMIN);
	connect_as(&adm, NVMM__ROLE__ROLE_ADMIN);
	ATF_REQUIRE(ag_op(&adm, ROW_MACHINE_CREATE, &r, 0, 0, 0, 0, 0) == 0);
	ms[2].machid = (nvmm_machid_t)r.v[0];
	ATF_REQUIRE(ag_op(&adm, ROW_VCPU_CREATE, &r, ms[2].machid, 0, 0, 0,
	    0) == 0);
	ATF_REQUIRE(ag_op(&adm, ROW_HVA_MAP, &r, ms[2].machid, RAW_HVA,
	    3 * G_RAM, 0, 0) == 0);
	ms[2].nvcpus = 1;
	ms[2].ram = 3 * G_RAM;
	ms[2].pid = 0;
	ms[2].uid = adm.id->uid;

	child_start(&mon, W_MONITOR);
	connect_as(&mon, NVMM__ROLE__ROLE_MONITOR);
	monitor_check(&mon, ms, 3, "the monitor group");

	/* What the owners did shows: VCPU 1 of b1's machine ran to a HLT. */
	e = ag_stats(&mon, ms[0].machid, 1, &st);
	ATF_CHECK_MSG(e == 0 && st.nruns >= 1 && st.run_ns > 0 &&
	    st.exits[NVMM_CTL_STATS_EXIT_HALTED] >= 1, "stats of %u/1: %s, "
	    "%ju runs, %ju ns, %ju HLT exits", ms[0].machid, ename(e),
	    (uintmax_t)st.nruns, (uintmax_t)st.run_ns,
	    (uintmax_t)st.exits[NVMM_CTL_STATS_EXIT_HALTED]);
	e = ag_stats(&mon, ms[0].machid, 0, &st);
	ATF_CHECK_MSG(e == 0 && st.nruns == 0, "stats of %u/0, which never "
	    "ran: %s, %ju runs", ms[0].machid, ename(e), (uintmax_t)st.nruns);
	e = ag_owner(&mon, ms[2].machid, &ow);
	ATF_CHECK_MSG(e == 0 && ow.pid == adm.pid, "owner of the admin's "
	    "machine: %s, pid %d, want %d", ename(e), (int)ow.pid,
	    (int)adm.pid);

	/* Any user may ask for the monitor role, and sees as much. */
	child_start(&umon, W_USER);
	connect_as(&umon, NVMM__ROLE__ROLE_MONITOR);
	monitor_check(&umon, ms, 3, "a user as monitor");

	/* Monitors leave taking nothing, not even the root owner's. */
	child_stop(&mon);
	child_stop(&umon);
	child_start(&obs, W_ROOT);
	connect_as(&obs, NVMM__ROLE__ROLE_MONITOR);
	sleep_ms(100);
	monitor_check(&obs, ms, 3, "after the monitors left");
	lib_check_runs(&b1, &ms[0], 0, "after the monitors left");

	child_stop(&obs);
	child_stop(&adm);
	child_stop(&b2);
	child_stop(&b1);
	hd_stop(daemon);
}
ATF_TC_CLEANUP(monitor_sees_all, tc)
{
	roles_cleanup();
}

/* -------------------------------------------------------------------------- */

ATF_TC_WITH_CLEANUP(admin_kill_running);
ATF_TC_HEAD(admin_kill_running, tc)
{
	atf_tc_set_md_var(tc, "descr", "An admin (another uid, in the admin "
	    "group) kills a user's machine whose VCPU is inside nvmm_vcpu_run "
	    "on a spinning guest: the run returns -1 with ENOENT within a "
	    "second, the machine is gone, the user's other machine works");
	HD_TC_NEEDS_DAEMON(tc);
}
ATF_TC_BODY(admin_kill_running, tc)
{
	struct child owner, killer, obs;
	struct nvmm_ctl_mach_info info;
	struct nvmm_ctl_vcpu_stats st;
	struct gmach m1, m2;
	struct cmd c;
	struct res r, end;
	struct pollfd p;
	uint64_t run_ns = 0, t0;
	char text[128];
	pid_t daemon;
	int e, i;

	roles_setup();
	daemon = roles_daemon();
	child_start(&owner, W_USER);
	lib_init(&owner, false);
	lib_machine(&owner, 1, G_RAM, &m1);
	lib_machine(&owner, 1, G_RAM, &m2);
	child_start(&obs, W_ROOT);
	connect_as(&obs, NVMM__ROLE__ROLE_MONITOR);
	child_start(&killer, W_ADMIN);
	connect_as(&killer, NVMM__ROLE__ROLE_ADMIN);

	/* The owner spins m1's VCPU; the guest time grows: it is inside. */
	memset(&c, 0, sizeof(c));
	c.type = CMD_LIB_SPIN;
	c.a[0] = (uint64_t)m1.index;
	child_send(&owner, &c);
	child_read(&owner, &r, WAIT_MS);
	ATF_REQUIRE(r.type == RES_RUNNING);
	for (i = 0; i < 500; i++) {
		e = ag_stats(&obs, m1.machid, 0, &st);
		ATF_REQUIRE_MSG(e == 0, "vcpu_stats: %s", ename(e));
		if (st.run_ns >= 200000000ULL)
			break;
		sleep_ms(10);
	}
	ATF_REQUIRE_MSG(st.run_ns >= 200000000ULL, "the guest does not "
	    "run: %ju ns in %ju runs", (uintmax_t)st.run_ns,
	    (uintmax_t)st.nruns);
	run_ns = st.run_ns;
	p.fd = owner.res;
	p.events = POLLIN;
	ATF_REQUIRE_MSG(poll(&p, 1, 0) == 0, "the owner's run returned "
	    "before the kill");

	e = ag_kill(&killer, m1.machid, &r);
	t0 = (uint64_t)r.v[4];
	ATF_CHECK_MSG(e == 0, "admin's mach_kill of %u: %s", m1.machid,
	    ename(e));

	child_read(&owner, &end, 5000);
	ATF_REQUIRE(end.type == RES_DONE);
	ATF_CHECK_MSG(end.error == ENOENT, "the owner's nvmm_vcpu_run on the "
	    "killed machine: %s, want ENOENT (after %jd successful runs)",
	    ename(end.error), (intmax_t)end.v[1]);
	ATF_CHECK_MSG((uint64_t)end.v[0] >= t0, "the run returned before the "
	    "kill was sent");
	ATF_CHECK_MSG((uint64_t)end.v[0] - t0 < 1000000000ULL, "the run "
	    "returned %ju ms after the kill was sent; want under a second",
	    (uintmax_t)(((uint64_t)end.v[0] - t0) / 1000000));
	printf("the run returned %ju us after the kill was sent (guest ran "
	    "%ju ms)\n", (uintmax_t)(((uint64_t)end.v[0] - t0) / 1000),
	    (uintmax_t)(run_ns / 1000000));

	/* m1 is gone, for everyone. */
	e = ag_info(&obs, m1.machid, &info);
	ATF_CHECK_MSG(e == ENOENT, "mach_info of the killed machine: %s, "
	    "want ENOENT", ename(e));
	e = lib_info(&owner, m1.machid, &info);
	ATF_CHECK_MSG(e == ENOENT, "the owner's mach_info of its killed "
	    "machine: %s, want ENOENT", ename(e));
	e = lib_run_error(&owner, &m1, 0);
	ATF_CHECK_MSG(e == ENOENT, "the owner's run of its killed machine "
	    "again: %s, want ENOENT", ename(e));
	snprintf(text, sizeof(text), "uid %u killed machine %u",
	    (unsigned)killer.id->uid, m1.machid);
	ATF_CHECK_MSG(hd_log_has(text), "no \"%s\" in the log", text);

	/* m2 lives on. */
	check_machine(&obs, &m2, "the owner's other machine");
	lib_check_runs(&owner, &m2, 0, "the owner's other machine");
	e = lib_info(&owner, m2.machid, &info);
	ATF_CHECK_MSG(e == 0 && info.nvcpus == 1, "the owner's mach_info of "
	    "its other machine: %s", ename(e));

	child_stop(&killer);
	child_stop(&obs);
	child_stop(&owner);
	hd_stop(daemon);
}
ATF_TC_CLEANUP(admin_kill_running, tc)
{
	roles_cleanup();
}

/* -------------------------------------------------------------------------- */

ATF_TC_WITH_CLEANUP(no_stall_by_running_guest);
ATF_TC_HEAD(no_stall_by_running_guest, tc)
{
	atf_tc_set_md_var(tc, "descr", "A user whose guest spins inside "
	    "nvmm_vcpu_run stalls nobody: another user creates a machine, a "
	    "monitor lists, an admin kills the spinning machine, each within "
	    "seconds (DESIGN §3: control calls never wait on a guest)");
	HD_TC_NEEDS_DAEMON(tc);
}
ATF_TC_BODY(no_stall_by_running_guest, tc)
{
	struct child spinner, other, mon, killer;
	struct cmd c;
	struct res r, end;
	struct nvmm_ctl_vcpu_stats st;
	struct gmach m;
	uint64_t bits[2];
	pid_t daemon;
	int e, i;

	roles_setup();
	daemon = roles_daemon();
	child_start(&mon, W_MONITOR);
	connect_as(&mon, NVMM__ROLE__ROLE_MONITOR);
	child_start(&killer, W_ADMIN);
	connect_as(&killer, NVMM__ROLE__ROLE_ADMIN);
	child_start(&other, W_USER2);
	connect_as(&other, NVMM__ROLE__ROLE_USER);

	/* Machine 0, the lowest slot, spins. */
	child_start(&spinner, W_USER);
	lib_init(&spinner, false);
	lib_machine(&spinner, 1, G_RAM, &m);
	memset(&c, 0, sizeof(c));
	c.type = CMD_LIB_SPIN;
	c.a[0] = (uint64_t)m.index;
	child_send(&spinner, &c);
	child_read(&spinner, &r, WAIT_MS);
	ATF_REQUIRE(r.type == RES_RUNNING);
	for (i = 0; i < 500; i++) {
		ATF_REQUIRE(ag_stats(&mon, m.machid, 0, &st) == 0);
		if (st.run_ns >= 100000000ULL)
			break;
		sleep_ms(10);
	}
	ATF_REQUIRE_MSG(st.run_ns >= 100000000ULL, "the guest does not run");

	/* Another user's machine_create: bounded, or the daemon is stuck. */
	memset(&c, 0, sizeof(c));
	c.type = CMD_OP;
	c.op = ROW_MACHINE_CREATE;
	child_send(&other, &c);
	child_read(&other, &r, 5000);
	ATF_CHECK_MSG(r.error == 0, "machine_create beside a running guest: "
	    "%s", ename(r.error));

	memset(&c, 0, sizeof(c));
	c.type = CMD_OP;
	c.op = ROW_CTL_MACH_LIST;
	c.len = sizeof(struct nvmm_ctl_mach_list);
	child_send(&mon, &c);
	child_read(&mon, &r, 5000);
	memcpy(bits, r.data, sizeof(bits));
	ATF_CHECK_MSG(r.error == 0 && (bits[0] & 1), "list beside a running "
	    "guest: %s, %#jx", ename(r.error), (uintmax_t)bits[0]);

	e = ag_kill(&killer, m.machid, &r);
	ATF_CHECK_MSG(e == 0, "kill of the running machine: %s", ename(e));
	child_read(&spinner, &end, 5000);
	ATF_CHECK_MSG(end.error == ENOENT, "the killed run: %s, want ENOENT",
	    ename(end.error));

	child_stop(&spinner);
	child_stop(&other);
	child_stop(&killer);
	child_stop(&mon);
	hd_stop(daemon);
}
ATF_TC_CLEANUP(no_stall_by_running_guest, tc)
{
	roles_cleanup();
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, table_user);
	ATF_TP_ADD_TC(tp, table_admin);
	ATF_TP_ADD_TC(tp, table_monitor);
	ATF_TP_ADD_TC(tp, table_complete);
	ATF_TP_ADD_TC(tp, connect);
	ATF_TP_ADD_TC(tp, user_isolation);
	ATF_TP_ADD_TC(tp, monitor_sees_all);
	ATF_TP_ADD_TC(tp, admin_kill_running);
	ATF_TP_ADD_TC(tp, no_stall_by_running_guest);
	return atf_no_error();
}
