/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Clients that must be separate processes, for the tests of nvmmd as its
 * clients see it (t_isolation, t_hotpath): forked children, which cannot
 * fail the test through ATF.  A child reports a failure through a pipe
 * (td_fail, and the C_* checks) and exits non-zero, the parent turns that
 * into the test's failure message, and the child's guests are set up by
 * td_spin_vm, which returns errors instead of failing.  Children end with
 * _exit().
 *
 * Besides the failure message, a pipe each way carries one-byte commands
 * to the child (td_child_cmd) and events from it (td_child_ev, td_event).
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
/* Forked helpers. */

struct td_child {
	pid_t pid;
	int msg;	/* parent: read end of the child's failure message */
	int cmd;	/* parent: write end, to the child */
	int ev;		/* parent: read end, from the child */
};

/* In a child: the failure message, line, then _exit(1). */
void	td_fail(int line, const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));

/* Checks for children; they fail by message and exit status. */
#define C_CHECK(cond, ...) do {						\
	if (!(cond))							\
		td_fail(__LINE__, __VA_ARGS__);				\
} while (0)
#define C_CALL(call) do {						\
	errno = 0;							\
	C_CHECK((call) == 0, "%s: %s", #call, strerror(errno));		\
} while (0)
#define C_ERRNO(want, call) do {					\
	int r_;								\
	errno = 0;							\
	r_ = (call);							\
	C_CHECK(r_ == -1 && errno == (want),				\
	    "%s: returned %d, errno %d (%s); want -1, errno %s",	\
	    #call, r_, errno, strerror(errno), #want);			\
} while (0)

/* For the cleanup routine: kills the children td_fork made. */
void	td_kill_children(void);

/* Forks a child with its pipes; returns true in the child. */
bool	td_fork(struct td_child *c);

/* One byte from fd within ms: the byte, -1 on time-out, -2 at EOF. */
int	td_recv_byte(int fd, unsigned ms);
void	td_send_byte(int fd, uint8_t b);

/* In a child: the parent's next command; EOF (the parent died) ends it. */
int	td_child_cmd(void);
/* In a child: tells the parent an event. */
void	td_child_ev(uint8_t b);

/* In the parent: the child's next event, required within ms. */
int	td_event(struct td_child *c, unsigned ms, const char *what);
/* Waits at most ms for the child; returns its status, or -1. */
int	td_waitpid(pid_t pid, unsigned ms);
/* Requires that a reaped child (status, or -1: it hung) exited 0. */
void	td_check_status(struct td_child *c, int status, const char *name);
/* Requires that the child exits 0 within ms; reports its message if not. */
void	td_wait_ok(struct td_child *c, unsigned ms, const char *name);

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
