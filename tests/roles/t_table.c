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
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
		    row == ROW_METRICS))
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
	struct nvmm_ctl_mach_ident id;
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
	    strncmp(ow.comm, "t_table", sizeof(ow.comm)) != 0))
		step_bad(&s, ROW_CTL_MACH_OWNER, "machine %u: uid %u, pid %d, "
		    "command \"%.16s\"", ow.machid, (unsigned)ow.uid,
		    (int)ow.pid, ow.comm);

	e = ag_stats(&agent, t, 0, &st);
	step(&s, ROW_CTL_VCPU_STATS, e);
	if (e == 0 && (st.machid != t || st.cpuid != 0))
		step_bad(&s, ROW_CTL_VCPU_STATS, "answered for %u/%u",
		    st.machid, st.cpuid);

	e = ag_ident(&agent, t, &id);
	step(&s, ROW_CTL_MACH_IDENT, e);
	if (e == 0 && (id.machid != t || (id.uuid[6] >> 4) != 4 ||
	    id.created_sec < (int64_t)info.time - 1 ||
	    id.created_sec > (int64_t)info.time || id.created_nsec >= 1000000000))
		step_bad(&s, ROW_CTL_MACH_IDENT, "machine %u: uuid version %u, "
		    "created %jd.%09u, mach_info %jd", id.machid,
		    id.uuid[6] >> 4, (intmax_t)id.created_sec,
		    (unsigned)id.created_nsec, (intmax_t)info.time);

	/* Admins and monitors see t, o and o2 (a monitor's t is o). */
	e = ag_op(&agent, ROW_HOST_STATS, &r, 0, 0, 0, 0, 0);
	step(&s, ROW_HOST_STATS, e);
	if (e == 0 && (r.v[0] != (own ? 3 : 2) || r.v[1] != (own ? 5 : 4)))
		step_bad(&s, ROW_HOST_STATS, "%jd machines, %jd VCPUs",
		    (intmax_t)r.v[0], (intmax_t)r.v[1]);
	e = ag_op(&agent, ROW_METRICS, &r, 0, 0, 0, 0, 0);
	step(&s, ROW_METRICS, e);
	if (e == 0 && (r.v[0] == 0 || !r.v[1]))
		step_bad(&s, ROW_METRICS, "%jd bytes, machines %scounted",
		    (intmax_t)r.v[0], r.v[1] ? "" : "not ");

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
	ATF_CHECK_MSG(d->n_fields == 14, "nvmm.Request has %u fields, the "
	    "table knows of 13 requests and the id", d->n_fields);
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
