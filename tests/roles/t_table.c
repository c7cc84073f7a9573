/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * t_table: nvmmd's role table under real uids and gids (DESIGN §3), cell
 * by cell; see h_roles.h for how the children and the daemon are set up
 * and what the table `rows' holds.
 *
 * The cases: table_user, table_admin and table_monitor (each cell, through
 * the protocol, and for users and admins through libnvmm too);
 * table_complete (the daemon knows no row this table lacks).
 */
#include <sys/wait.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>
#include <nvmm.h>

#include "h_daemon.h"
#include "h_roles.h"

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
		if (err[row] == LIB_UNTRIED && (row == ROW_HOST_STATS ||
		    row == ROW_METRICS || row == ROW_SHUTDOWN))
			continue;	/* no libnvmm call asks for them */
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

/*
 * One walk of a column: an agent of the column's role makes every request
 * of the table once, in steps[] order, on a machine of its own (users and
 * admins) or, for a monitor, which cannot create one, on another user's
 * with arguments that would succeed were it allowed.  Each step returns
 * the errno the daemon answered and notes a wrong result of an allowed
 * call; the cells are then checked against rows[] (h_roles.c), the
 * oracle of nvmmd_ops.
 */
struct walk {
	enum col col;
	bool own;		/* on a machine of the agent's own */
	struct child owner, agent, obs;
	struct gmach o, o2;	/* the other user's: protocol, libnvmm */
	nvmm_machid_t t;	/* the machine the agent works on */
	struct steps s;
	pid_t daemon;
	bool daemon_gone;	/* the admin's shutdown ended it */
};

static int
try_capability(struct walk *w)
{
	struct res r;
	int e;

	e = ag_op(&w->agent, ROW_CAPABILITY, &r, 0, 0, 0, 0, 0);
	if (e == 0 && (r.v[0] != NVMM_KERN_VERSION ||
	    r.v[1] != sizeof(struct nvmm_x64_state)))
		step_bad(&w->s, ROW_CAPABILITY, "version %jd, state size %jd",
		    (intmax_t)r.v[0], (intmax_t)r.v[1]);
	return e;
}

static int
try_machine_create(struct walk *w)
{
	struct res r;
	int e;

	e = ag_op(&w->agent, ROW_MACHINE_CREATE, &r, 0, 0, 0, 0, 0);
	if (w->own && e != 0)
		atf_tc_fail("machine_create as %s: %s; cannot go on",
		    col_names[w->col], ename(e));
	if (e == 0 && !r.v[1])
		step_bad(&w->s, ROW_MACHINE_CREATE, "no comm memfd came with "
		    "the reply");
	w->t = w->own ? (nvmm_machid_t)r.v[0] : w->o.machid;
	return e;
}

static int
try_vcpu_create(struct walk *w)
{
	struct res r;

	return ag_op(&w->agent, ROW_VCPU_CREATE, &r, w->t,
	    w->own ? 0 : w->o.nvcpus, 0, 0, 0);
}

static int
try_machine_configure(struct walk *w)
{
	struct cmd c = { .type = CMD_OP, .op = ROW_MACHINE_CONFIGURE,
	    .a = { w->t, NVMM_MACH_CONF_MD_BEGIN }, .len = 16 };
	struct res r;

	child_do(&w->agent, &c, &r);
	return r.error;
}

static int
try_hva_map(struct walk *w)
{
	struct res r;

	return ag_op(&w->agent, ROW_HVA_MAP, &r, w->t, RAW_HVA, G_RAM, 0, 0);
}

static int
try_gpa_map(struct walk *w)
{
	struct res r;

	return ag_op(&w->agent, ROW_GPA_MAP, &r, w->t,
	    w->own ? RAW_HVA : w->o.hva, RAW_GPA, PAGE, RWX);
}

static int
try_mach_list(struct walk *w)
{
	uint64_t bits[2], want[2];
	int e;

	e = ag_list(&w->agent, bits);
	memset(want, 0, sizeof(want));
	bits_set(want, w->t);
	if (w->col != COL_USER) {
		bits_set(want, w->o.machid);
		bits_set(want, w->o2.machid);
	}
	if (e == 0 && (bits[0] != want[0] || bits[1] != want[1]))
		step_bad(&w->s, ROW_CTL_MACH_LIST, "bitmap %#jx:%#jx, want "
		    "%#jx:%#jx (own machine %u, another user's %u)",
		    (uintmax_t)bits[1], (uintmax_t)bits[0],
		    (uintmax_t)want[1], (uintmax_t)want[0], w->t,
		    w->o.machid);
	return e;
}

static int
try_mach_info(struct walk *w)
{
	struct nvmm_ctl_mach_info info;
	int e;

	e = ag_info(&w->agent, w->t, &info);
	if (e == 0 && (info.machid != w->t ||
	    info.nvcpus != (w->own ? 1 : w->o.nvcpus) ||
	    info.nram != (w->own ? G_RAM : w->o.ram) ||
	    (w->col == COL_USER && info.pid != w->agent.pid) ||
	    (!w->own && info.pid != w->o.pid)))
		step_bad(&w->s, ROW_CTL_MACH_INFO, "machine %u: %u VCPUs, %ju "
		    "bytes, pid %d", info.machid, info.nvcpus,
		    (uintmax_t)info.nram, (int)info.pid);
	return e;
}

static int
try_mach_owner(struct walk *w)
{
	struct nvmm_ctl_mach_owner ow;
	int e;

	e = ag_owner(&w->agent, w->t, &ow);
	if (e == 0 && (ow.machid != w->t ||
	    ow.uid != (w->own ? w->agent.id->uid : w->o.uid) ||
	    ow.pid != (w->own ? w->agent.pid : w->o.pid) ||
	    strncmp(ow.comm, "t_table", sizeof(ow.comm)) != 0))
		step_bad(&w->s, ROW_CTL_MACH_OWNER, "machine %u: uid %u, pid "
		    "%d, command \"%.16s\"", ow.machid, (unsigned)ow.uid,
		    (int)ow.pid, ow.comm);
	return e;
}

static int
try_vcpu_stats(struct walk *w)
{
	struct nvmm_ctl_vcpu_stats st;
	int e;

	e = ag_stats(&w->agent, w->t, 0, &st);
	if (e == 0 && (st.machid != w->t || st.cpuid != 0))
		step_bad(&w->s, ROW_CTL_VCPU_STATS, "answered for %u/%u",
		    st.machid, st.cpuid);
	return e;
}

static int
try_mach_ident(struct walk *w)
{
	struct nvmm_ctl_mach_info info;
	struct nvmm_ctl_mach_ident id;
	int e;

	e = ag_ident(&w->agent, w->t, &id);
	if (e != 0)
		return e;
	if (ag_info(&w->obs, w->t, &info) != 0)
		info.time = 0;
	if (id.machid != w->t || (id.uuid[6] >> 4) != 4 ||
	    id.created_sec < (int64_t)info.time - 1 ||
	    id.created_sec > (int64_t)info.time ||
	    id.created_nsec >= 1000000000)
		step_bad(&w->s, ROW_CTL_MACH_IDENT, "machine %u: uuid version "
		    "%u, created %jd.%09u, mach_info %jd", id.machid,
		    id.uuid[6] >> 4, (intmax_t)id.created_sec,
		    (unsigned)id.created_nsec, (intmax_t)info.time);
	return e;
}

/* Admins and monitors see t, o and o2 (a monitor's t is o). */
static int
try_host_stats(struct walk *w)
{
	struct res r;
	int e;

	e = ag_op(&w->agent, ROW_HOST_STATS, &r, 0, 0, 0, 0, 0);
	if (e == 0 && (r.v[0] != (w->own ? 3 : 2) ||
	    r.v[1] != (w->own ? 5 : 4)))
		step_bad(&w->s, ROW_HOST_STATS, "%jd machines, %jd VCPUs",
		    (intmax_t)r.v[0], (intmax_t)r.v[1]);
	return e;
}

static int
try_metrics(struct walk *w)
{
	struct res r;
	int e;

	e = ag_op(&w->agent, ROW_METRICS, &r, 0, 0, 0, 0, 0);
	if (e == 0 && (r.v[0] == 0 || !r.v[1]))
		step_bad(&w->s, ROW_METRICS, "%jd bytes, machines %scounted",
		    (intmax_t)r.v[0], r.v[1] ? "" : "not ");
	return e;
}

/*
 * The last step, after everything else looked at the host: the admin's
 * ends every guest, then the daemon, with status 0.
 */
static int
try_shutdown(struct walk *w)
{
	struct res r;
	int e, status, i;

	e = ag_op(&w->agent, ROW_SHUTDOWN, &r, 0, 0, 0, 0, 0);
	if (e != 0)
		return e;
	for (i = 0; i < 1000; i++) {
		if (waitpid(w->daemon, &status, WNOHANG) == w->daemon) {
			w->daemon_gone = true;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				step_bad(&w->s, ROW_SHUTDOWN, "nvmmd ended "
				    "with status %#x", status);
			return e;
		}
		usleep(10000);
	}
	step_bad(&w->s, ROW_SHUTDOWN, "nvmmd still runs 10 s after it");
	return e;
}

static int
try_gpa_unmap(struct walk *w)
{
	struct res r;

	return ag_op(&w->agent, ROW_GPA_UNMAP, &r, w->t,
	    w->own ? RAW_GPA : w->o.gpa, w->own ? PAGE : w->o.ram, 0, 0);
}

static int
try_hva_unmap(struct walk *w)
{
	struct nvmm_ctl_mach_info info;
	struct res r;
	int e;

	e = ag_op(&w->agent, ROW_HVA_UNMAP, &r, w->t,
	    w->own ? RAW_HVA : w->o.hva, w->own ? G_RAM : w->o.ram, 0, 0);
	if (e == 0 && w->own && (ag_info(&w->agent, w->t, &info) != 0 ||
	    info.nram != 0))
		step_bad(&w->s, ROW_HVA_UNMAP, "machine %u still has %ju "
		    "bytes", w->t, (uintmax_t)info.nram);
	return e;
}

static int
try_vcpu_destroy(struct walk *w)
{
	struct nvmm_ctl_mach_info info;
	struct res r;
	int e;

	e = ag_op(&w->agent, ROW_VCPU_DESTROY, &r, w->t, 0, 0, 0, 0);
	if (e == 0 && w->own && (ag_info(&w->agent, w->t, &info) != 0 ||
	    info.nvcpus != 0))
		step_bad(&w->s, ROW_VCPU_DESTROY, "machine %u still has %u "
		    "VCPUs", w->t, info.nvcpus);
	return e;
}

/* Notes a machine still there after a call that should have ended it. */
static void
check_gone(struct walk *w, enum row row, nvmm_machid_t machid)
{
	struct nvmm_ctl_mach_info info;
	int e;

	if ((e = ag_info(&w->obs, machid, &info)) != ENOENT)
		step_bad(&w->s, row, "machine %u still there: mach_info %s",
		    machid, ename(e));
}

/* A user tries its own machine; the others the other user's. */
static int
try_mach_kill(struct walk *w)
{
	nvmm_machid_t k = w->col == COL_USER ? w->t : w->o.machid;
	struct res r;
	int e;

	e = ag_kill(&w->agent, k, &r);
	if (e == 0)
		check_gone(w, ROW_CTL_MACH_KILL, k);
	return e;
}

static int
try_machine_destroy(struct walk *w)
{
	struct res r;
	int e;

	e = ag_op(&w->agent, ROW_MACHINE_DESTROY, &r, w->t, 0, 0, 0, 0);
	if (e == 0)
		check_gone(w, ROW_MACHINE_DESTROY, w->t);
	return e;
}

/* The walk: every row once, in an order each step can work in. */
static const struct walk_step {
	enum row row;
	int (*try)(struct walk *);
} steps[] = {
	{ ROW_CAPABILITY, try_capability },
	{ ROW_MACHINE_CREATE, try_machine_create },
	{ ROW_VCPU_CREATE, try_vcpu_create },
	{ ROW_MACHINE_CONFIGURE, try_machine_configure },
	{ ROW_HVA_MAP, try_hva_map },
	{ ROW_GPA_MAP, try_gpa_map },
	{ ROW_CTL_MACH_LIST, try_mach_list },
	{ ROW_CTL_MACH_INFO, try_mach_info },
	{ ROW_CTL_MACH_OWNER, try_mach_owner },
	{ ROW_CTL_VCPU_STATS, try_vcpu_stats },
	{ ROW_CTL_MACH_IDENT, try_mach_ident },
	{ ROW_HOST_STATS, try_host_stats },
	{ ROW_METRICS, try_metrics },
	{ ROW_GPA_UNMAP, try_gpa_unmap },
	{ ROW_HVA_UNMAP, try_hva_unmap },
	{ ROW_VCPU_DESTROY, try_vcpu_destroy },
	{ ROW_CTL_MACH_KILL, try_mach_kill },
	{ ROW_MACHINE_DESTROY, try_machine_destroy },
};

/* Each cell of the column against rows[], and the daemon's log of it. */
static void
check_cells(struct walk *w)
{
	const Nvmm__Role role = col_roles[w->col];
	const char *cname = col_names[w->col];
	bool refused;
	int row, want;

	for (row = 0; row < ROW_COUNT; row++) {
		ATF_CHECK_MSG(w->s.seen[row], "%s as %s: not tried",
		    rows[row].name, cname);
		if (!w->s.seen[row])
			continue;
		want = row_want(row, w->col);
		refused = rows[row].want[w->col] == N;
		ATF_CHECK_MSG(w->s.error[row] == want, "%s as %s (%s): %s, "
		    "want %s", rows[row].name, cname, refused ? "refused" :
		    "allowed", ename(w->s.error[row]), ename(want));
		ATF_CHECK_MSG(w->s.bad[row][0] == '\0', "%s as %s: %s",
		    rows[row].name, cname, w->s.bad[row]);
		/* The ctl catch-all row also serves mach_info: skip it. */
		if (row == ROW_CTL_MACH_INFO && !refused)
			continue;
		ATF_CHECK_MSG(log_refused(&w->agent, rows[row].name, role) ==
		    refused, "%s as %s: the daemon's log %s a refusal",
		    rows[row].name, cname, refused ? "lacks" : "has");
	}
}

/* What the walk did to the other user's machines: only an admin kills. */
static void
check_others(struct walk *w)
{
	const char *what = "the other user's machine afterwards";
	struct nvmm_ctl_mach_info info;
	int e;

	if (w->col != COL_ADMIN) {
		check_machine(&w->obs, &w->o, what);
		check_machine(&w->obs, &w->o2, what);
		lib_check_runs(&w->owner, &w->o, 0, what);
		lib_check_runs(&w->owner, &w->o, 1, what);
		lib_check_runs(&w->owner, &w->o2, 0, what);
		return;
	}
	e = lib_info(&w->owner, w->o.machid, &info);
	ATF_CHECK_MSG(e == ENOENT, "killed machine %u: its owner's mach_info: "
	    "%s, want ENOENT", w->o.machid, ename(e));
	e = lib_run_error(&w->owner, &w->o, 0);
	ATF_CHECK_MSG(e == ENOENT, "killed machine %u: its owner's run: %s, "
	    "want ENOENT", w->o.machid, ename(e));
	e = lib_info(&w->owner, w->o2.machid, &info);
	ATF_CHECK_MSG(e == ENOENT, "machine %u killed through libnvmm: its "
	    "owner's mach_info: %s, want ENOENT", w->o2.machid, ename(e));
}

static void
table_case(enum col col)
{
	static const enum who agent_who[COL_COUNT] = { W_USER, W_ADMIN,
	    W_MONITOR };
	struct walk w;
	pid_t daemon;
	size_t i;
	int fds = 0;

	memset(&w, 0, sizeof(w));
	w.col = col;
	w.own = col != COL_MONITOR;
	roles_setup();
	daemon = w.daemon = roles_daemon();

	/*
	 * Another user's machines, 2 VCPUs and G_RAM of RAM each, with a
	 * guest: o for the protocol, o2 for libnvmm.
	 */
	child_start(&w.owner, W_USER2);
	lib_init(&w.owner, false);
	lib_machine(&w.owner, 2, G_RAM, &w.o);
	lib_machine(&w.owner, 2, G_RAM, &w.o2);
	child_start(&w.obs, W_ROOT);
	connect_as(&w.obs, NVMM__ROLE__ROLE_MONITOR);
	child_start(&w.agent, agent_who[col]);
	connect_as(&w.agent, col_roles[col]);

	/*
	 * A monitor leaves the daemon with as many descriptors as it found
	 * (hva_map sends one).
	 */
	if (!w.own)
		fds = hd_fd_count(daemon);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		step(&w.s, steps[i].row, steps[i].try(&w));
	if (!w.own)
		ATF_CHECK_MSG(hd_fd_count(daemon) == fds, "the daemon had %d "
		    "descriptors before the monitor's requests, %d after", fds,
		    hd_fd_count(daemon));

	/* The user's and the admin's cells again, through libnvmm. */
	if (w.own)
		lib_table(col, agent_who[col], &w.o2);
	check_others(&w);
	step(&w.s, ROW_SHUTDOWN, try_shutdown(&w));
	check_cells(&w);

	child_stop(&w.agent);
	child_stop(&w.obs);
	child_stop(&w.owner);
	if (!w.daemon_gone)
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
	ATF_CHECK_MSG(d->n_fields == 15, "nvmm.Request has %u fields, the "
	    "table knows of 14 requests and the id", d->n_fields);
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

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, table_user);
	ATF_TP_ADD_TC(tp, table_admin);
	ATF_TP_ADD_TC(tp, table_monitor);
	ATF_TP_ADD_TC(tp, table_complete);
	return atf_no_error();
}
