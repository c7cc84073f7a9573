/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * t_access: who may use nvmmd as what, under real uids and gids (DESIGN
 * §3); see h_roles.h for how the children and the daemon are set up.
 *
 * The cases: connect (who may connect as what); user_isolation (a user
 * sees and touches only its own machines); monitor_sees_all;
 * admin_kill_running; no_stall_by_running_guest.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <atf-c.h>
#include <nvmm.h>

#include "h_daemon.h"
#include "h_roles.h"

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
	struct group *gr;
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
			gr = getgrgid(ch.id->gid);
			snprintf(text, sizeof(text), "refused pid %d uid %u "
			    "(no name) gid %u (%s): not in group", (int)ch.pid,
			    (unsigned)ch.id->uid, (unsigned)ch.id->gid,
			    gr != NULL ? gr->gr_name : "no name");
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
	    ROW_GPA_MAP, ROW_GPA_UNMAP };
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
		    strncmp(ow.comm, "t_access", 16) == 0, "%s: mach_owner of "
		    "%u: %s, uid %u, command \"%.16s\"; want uid %u, t_access",
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
	ATF_TP_ADD_TC(tp, connect);
	ATF_TP_ADD_TC(tp, user_isolation);
	ATF_TP_ADD_TC(tp, monitor_sees_all);
	ATF_TP_ADD_TC(tp, admin_kill_running);
	ATF_TP_ADD_TC(tp, no_stall_by_running_guest);
	return atf_no_error();
}
