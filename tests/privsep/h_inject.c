/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * h_inject: makes one thread of a running process make a system call of
 * our choosing, so that t_workers can see what a worker's seccomp filter
 * does with a call that no nvmmd process makes.
 *
 *   h_inject TID
 *
 * Attaches to thread TID with ptrace, lets it run to its next system
 * call and turns that call into chmod(NULL, 0) at its entry stop; at the
 * exit stop, prints "returned N" with what the call left in rax, makes
 * the thread make its own call again and lets it go.  With no filter the
 * call fails with EFAULT (-14) and the process goes on as if nothing had
 * happened.  Seccomp looks at the call after the entry stop (Linux 4.8
 * on); a filter that kills the process skips the call, leaves its number
 * in rax (90) and kills the process once it is let go.  Exits 0 once the
 * call is made, 1 when the thread cannot be traced.  x86_64 only, like
 * nvmmd.
 */
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void __attribute__((noreturn))
fail(const char *what)
{
	fprintf(stderr, "h_inject: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The next stop of tid, which must be a ptrace stop. */
static int
stop_of(pid_t tid)
{
	int status;

	if (waitpid(tid, &status, __WALL) == -1)
		fail("waitpid");
	if (!WIFSTOPPED(status)) {
		errno = ESRCH;
		fail("the thread ended");
	}
	return status;
}

/*
 * Lets tid run to the entry of its next system call, a signal on the way
 * delivered as it would be: the call it was in when stopped is left to
 * finish (its exit stop is not an entry).
 */
static void
to_next_entry(pid_t tid)
{
	struct __ptrace_syscall_info info;
	int status, sig = 0;

	for (;;) {
		if (ptrace(PTRACE_SYSCALL, tid, NULL, (void *)(long)sig) == -1)
			fail("PTRACE_SYSCALL");
		status = stop_of(tid);
		sig = 0;
		if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
			/* A signal to deliver, or a group stop to leave. */
			if (status >> 16 == 0)
				sig = WSTOPSIG(status);
			continue;
		}
		if (ptrace(PTRACE_GET_SYSCALL_INFO, tid,
		    (void *)sizeof(info), &info) == -1)
			fail("PTRACE_GET_SYSCALL_INFO");
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY)
			return;
	}
}

/*
 * After the call: what became of the process; if it lives, its registers
 * back as they were at the entry, one instruction back, so that the call
 * it meant to make is made again (a syscall instruction is 2 bytes).
 */
static void
after_call(pid_t tid, const struct user_regs_struct *entry)
{
	struct user_regs_struct regs;
	int status;

	if (waitpid(tid, &status, __WALL) == -1)
		fail("waitpid");
	if (WIFSIGNALED(status)) {
		printf("killed by signal %d\n", WTERMSIG(status));
		return;
	}
	if (WIFEXITED(status)) {
		printf("exited %d\n", WEXITSTATUS(status));
		return;
	}
	if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) == -1)
		fail("PTRACE_GETREGS");
	printf("returned %lld\n", (long long)regs.rax);
	regs = *entry;
	regs.rax = entry->orig_rax;
	regs.rip -= 2;
	if (ptrace(PTRACE_SETREGS, tid, NULL, &regs) == -1)
		fail("PTRACE_SETREGS");
	if (ptrace(PTRACE_DETACH, tid, NULL, NULL) == -1)
		fail("PTRACE_DETACH");
}

int
main(int argc, char **argv)
{
	struct user_regs_struct entry, regs;
	pid_t tid;

	if (argc != 2 || (tid = (pid_t)atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: h_inject tid\n");
		return 2;
	}
	if (ptrace(PTRACE_SEIZE, tid, NULL,
	    (void *)(long)PTRACE_O_TRACESYSGOOD) == -1)
		fail("PTRACE_SEIZE");
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) == -1)
		fail("PTRACE_INTERRUPT");
	(void)stop_of(tid);
	to_next_entry(tid);
	if (ptrace(PTRACE_GETREGS, tid, NULL, &entry) == -1)
		fail("PTRACE_GETREGS");
	regs = entry;
	regs.orig_rax = SYS_chmod;
	regs.rdi = 0;
	regs.rsi = 0;
	if (ptrace(PTRACE_SETREGS, tid, NULL, &regs) == -1)
		fail("PTRACE_SETREGS");
	if (ptrace(PTRACE_SYSCALL, tid, NULL, NULL) == -1)
		fail("PTRACE_SYSCALL");
	after_call(tid, &entry);
	return 0;
}
