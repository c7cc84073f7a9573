/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Clients that must be separate processes, for the tests of nvmmd as its
 * clients see it (t_isolation, t_hotpath, t_hostile): forked children of
 * tests/common/h_proc, whose guests are set up by td_spin_vm, which
 * returns errors instead of failing, and which may drop to other uids.
 * The test case's cleanup (TD_HEAD) kills the children a failed body left
 * running, and the daemon.
 */
#ifndef H_FORK_H
#define H_FORK_H

#include <sys/types.h>
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <atf-c.h>

#include <nvmm.h>
#include "h_daemon.h"
#include "h_proc.h"		/* the forked children */

/* A test case of these programs: a daemon, children, two minutes. */
#define TD_HEAD(name, text)						\
ATF_TC_HEAD(name, tc)							\
{									\
	atf_tc_set_md_var(tc, "descr", text);				\
	atf_tc_set_md_var(tc, "timeout", "120");			\
	HD_TC_NEEDS_DAEMON(tc);						\
}									\
ATF_TC_CLEANUP(name, tc)						\
{									\
	td_kill_children();						\
	hd_cleanup();							\
}

/* -------------------------------------------------------------------------- */
/*
 * Guests through the public API alone: RAM at GPA 0 and a VCPU in real
 * mode (from the RESET state, which is cached) at TD_CODE_GPA.  The
 * helpers return 0, or -1 with errno set and td_what naming the call.
 */

#define TD_RAM_SIZE	0x10000UL
#define TD_CODE_GPA	0x1000

struct td_vm {
	struct nvmm_machine mach;
	uint8_t *ram;
	size_t ramsize;
};

extern const char *td_what;

/* VCPU cpuid in real mode at ip, with rax. */
int	td_vcpu_create(struct td_vm *vm, nvmm_cpuid_t cpuid,
	    struct nvmm_vcpu *vcpu, uint64_t ip, uint64_t rax);
/* A machine with the guest code [begin, end) on VCPU 0. */
int	td_guest_vm(struct td_vm *vm, struct nvmm_vcpu *vcpu,
	    const void *begin, const void *end);
/* A machine with the spinning guest on VCPU 0. */
int	td_spin_vm(struct td_vm *vm, struct nvmm_vcpu *vcpu);
/* In a child: nvmm_init, then td_spin_vm; a failure fails the child. */
void	td_child_spin(struct td_vm *vm, struct nvmm_vcpu *vcpu);

/*
 * The daemon's descriptor count once it stops moving: connections that
 * just ended take a moment to be closed.
 */
int	td_fd_settled(pid_t daemon);

/* -------------------------------------------------------------------------- */
/* Unprivileged children. */

#define TD_NOBODY	65534

/* A group that exists, to admit users with: gid 100 ("users") or another. */
const struct group *td_some_group(void);
/* In a child: becomes uid in gid alone; the socket relative to the cwd. */
void	td_drop_to(uid_t uid, gid_t gid);

#endif /* H_FORK_H */
