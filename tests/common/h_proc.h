/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The one forked-child framework of the tests (tests/client/h_fork's
 * clients, tests/roles' children under other uids): children, which
 * cannot fail the test through ATF.  A child reports a failure through a
 * pipe (td_fail, and the C_* checks) and exits non-zero, the parent turns
 * that into the test's failure message.  Children end with _exit().
 *
 * Besides the failure message, a pipe each way carries commands to the
 * child and events or results from it: one byte at a time (td_child_cmd,
 * td_child_ev, td_event), or records of the test's own (tests/roles).
 * Every child is noted in the work directory, so that the test case's
 * cleanup can kill those a failed body left running (td_kill_children).
 */
#ifndef H_PROC_H
#define H_PROC_H

#include <sys/types.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <atf-c.h>

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

/*
 * Forks a child with its pipes; returns true in the child.  In the parent
 * c holds the parent's ends, in the child the child's: msg and ev to
 * write, cmd to read.
 */
bool	td_fork(struct td_child *c);
/*
 * In a child: closes every descriptor but stdio and its own pipe ends,
 * so that no sibling's pipe stays open here (its EOF would never come).
 */
void	td_child_close_others(void);

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

#endif /* H_PROC_H */
