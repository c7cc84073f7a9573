/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Test harness for nvmmd's roles under real uids and gids (DESIGN §3),
 * shared by t_table (the operation x role table) and t_access (who may
 * connect as what, and what each sees and does to the others).
 *
 * Each test case starts its own nvmmd (roles_daemon) with three groups of
 * this system as its user (-g), admin (-a) and monitor (-m) groups, and
 * forks children (child_start) that become other users (setgroups,
 * setresgid, setresuid) before they connect, so that the daemon judges
 * real peer credentials.  A child connects through libnvmmclient
 * (nvmm_init, nvmm_root_init) or through the protocol's own calls
 * (proto/nvmm_rpc.h), the only way to the monitor role, and does what the
 * test tells it over a pipe (h_child.c).  Children never call ATF: they
 * report, the test checks.
 *
 * The decision for every operation and role is nvmmd's one table,
 * nvmmd_ops in nvmmd/ops.c; `rows' is what these tests expect of it, cell
 * by cell: an allowed cell answers what the driver answers for the
 * arguments (success, or e.g. EINVAL for machine_configure, never EPERM),
 * a refused cell answers exactly EPERM and the daemon logs it.
 *
 * The socket: the work directory a test case gets may be closed to other
 * users, so the daemon listens in a directory of its own under /tmp that
 * anyone may search, and HD_SOCKET in the work directory is a symlink to
 * it for h_daemon; the cleanup (roles_cleanup) removes the directory.
 *
 * Helpers that run in the test's process fail the test case (ATF) when
 * something they need does not work.
 */
#ifndef H_ROLES_H
#define H_ROLES_H

#include <sys/mman.h>
#include <sys/types.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvmm.h>

#include "nvmm_rpc.h"

#define PAGE		4096UL
#define RWX		(PROT_READ | PROT_WRITE | PROT_EXEC)
/* Guest RAM of the machines children make with libnvmm; see lib_machine. */
#define G_RAM		0x10000UL
/* An HVA no child maps: the raw hva_map requests use it as their key. */
#define RAW_HVA		0x100000000000ULL
#define RAW_GPA		0x200000ULL
#define WAIT_MS		30000

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
	ROW_CTL_MACH_INFO,
	ROW_CTL_MACH_LIST,
	ROW_CTL_MACH_OWNER,
	ROW_CTL_VCPU_STATS,
	ROW_CTL_MACH_KILL,
	ROW_CTL_MACH_IDENT,
	ROW_HOST_STATS,
	ROW_METRICS,
	ROW_SHUTDOWN,
	ROW_COUNT
};

enum col { COL_USER, COL_ADMIN, COL_MONITOR, COL_COUNT };

extern const char *const col_names[COL_COUNT];
extern const Nvmm__Role col_roles[COL_COUNT];

#define Y	0		/* allowed */
#define N	EPERM		/* refused */

struct row_spec {
	const char *name;	/* as nvmmd's log names it */
	const char *field;	/* the field of nvmm.Request that carries it */
	int ctl;		/* its NVMM_CTL op, or -1 */
	size_t ctl_size;	/* the size of the op's structure */
	int driver;		/* what the driver answers this test's call */
	int want[COL_COUNT];	/* user, admin, monitor */
};

extern const struct row_spec rows[ROW_COUNT];

/* What the cell answers: the driver's answer where allowed, else EPERM. */
int	row_want(enum row row, enum col col);

/* An errno value by name. */
const char *ename(int e);

uint64_t now_ns(void);
void	sleep_ms(long ms);

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

/* The daemon's socket, in its directory under /tmp. */
extern char sock_path[108];

/* Picks the groups and uids of the identities (or skips the test case). */
void	roles_setup(void);
/* Starts nvmmd with the groups of roles_setup; returns its pid. */
pid_t	roles_daemon(void);
/* For ATF cleanup routines: the daemon, and its directory under /tmp. */
void	roles_cleanup(void);

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

/*
 * The table through libnvmm's public API, on a machine of its own: data
 * holds each row's errno (LIB_UNTRIED for a row the API has no call for).
 * v0 VCPUs and v1 RAM as mach_info said, v2 and v3 the list, v4 the
 * owner's uid, v5 the machine.
 */
#define LIB_UNTRIED	INT_MIN

/*
 * In the child (h_child.c): becomes id, tells the parent it is ready on
 * out, then does the commands read from in, a result each, until EOF.
 */
void	child_main(const struct ident *id, pid_t parent, int in, int out)
	    __attribute__((noreturn));

/* The test's side. */

struct child {
	const struct ident *id;
	pid_t pid;
	int cmd;		/* commands to the child */
	int res;		/* its results */
	int msg;		/* its failure message (h_proc) */
};

void	child_start(struct child *ch, enum who who);
/* One result within timeout_ms; a child in trouble fails the test. */
void	child_read(struct child *ch, struct res *r, int timeout_ms);
void	child_send(struct child *ch, const struct cmd *c);
/* A command and its RES_DONE. */
void	child_do(struct child *ch, const struct cmd *c, struct res *r);
/* Ends a child: its connections close with it.  It must exit 0. */
void	child_stop(struct child *ch);

/* Through the protocol, on the child's own connection. */
int	ag_connect(struct child *ch, Nvmm__Role role);
void	ag_disconnect(struct child *ch);
/* One request of row. */
int	ag_op(struct child *ch, enum row row, struct res *r, uint64_t a0,
	    uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4);
int	ag_info(struct child *ch, nvmm_machid_t machid,
	    struct nvmm_ctl_mach_info *info);
int	ag_list(struct child *ch, uint64_t bits[2]);
int	ag_owner(struct child *ch, nvmm_machid_t machid,
	    struct nvmm_ctl_mach_owner *owner);
int	ag_ident(struct child *ch, nvmm_machid_t machid,
	    struct nvmm_ctl_mach_ident *id);
int	ag_stats(struct child *ch, nvmm_machid_t machid, nvmm_cpuid_t cpuid,
	    struct nvmm_ctl_vcpu_stats *st);
int	ag_kill(struct child *ch, nvmm_machid_t machid, struct res *r);

/* A machine a child made with libnvmm. */
struct gmach {
	nvmm_machid_t machid;
	uint64_t hva, ram, gpa;
	unsigned nvcpus;
	int index;		/* in its child */
	pid_t pid;
	uid_t uid;
};

/* Through libnvmm, in the child. */
void	lib_init(struct child *ch, bool root);
void	lib_machine(struct child *ch, unsigned nvcpus, size_t ram,
	    struct gmach *m);
/* The machine's owner runs VCPU cpuid to the guest's HLT. */
void	lib_check_runs(struct child *ch, const struct gmach *m, unsigned cpuid,
	    const char *what);
int	lib_run_error(struct child *ch, const struct gmach *m, unsigned cpuid);
int	lib_info(struct child *ch, nvmm_machid_t machid,
	    struct nvmm_ctl_mach_info *info);
int	lib_list(struct child *ch, uint64_t bits[2]);

void	bits_set(uint64_t bits[2], nvmm_machid_t machid);
/* Requires a connection of child ch as role. */
void	connect_as(struct child *ch, Nvmm__Role role);
/* Whether nvmmd logged that it refused op name to the child's role. */
bool	log_refused(const struct child *ch, const char *name, Nvmm__Role role);
/* A machine as an observer sees it: present, with nvcpus and nram. */
void	check_machine(struct child *obs, const struct gmach *m,
	    const char *what);
/* Polls until mach_info of machid answers want (a disconnect is async). */
int	wait_info(struct child *obs, nvmm_machid_t machid, int want);

#endif /* H_ROLES_H */
