/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * seccomp: what the daemon may ask of the host kernel once it serves
 * clients.  Each is an allow-list (libseccomp); anything else kills the
 * whole process, since a call the daemon never makes can only come from
 * code that is no longer the daemon's.
 *
 * Three layers, as filters stack and each only takes rights away:
 *   - the parent's filter, installed once start-up is over (the sockets
 *     bound, /dev/kvm open), before any worker is forked, so that every
 *     worker has it too: what the parent and its workers need together,
 *     and for the parent, forking a worker (a clone that shares no
 *     memory), reaping it and killing it;
 *   - the worker's, which each worker adds on itself once forked: no
 *     accepting, forking, killing or removing files, and signals only to
 *     its own threads (the kicks);
 *   - the VCPU filter, which each VCPU thread adds on itself: it runs a
 *     guest and answers a doorbell, and needs little more than KVM's
 *     ioctls and futexes.
 * The worker's and the VCPU's are compiled to BPF (libseccomp exports
 * them) and loaded with the seccomp system call, which the filters
 * below allow for that alone: no_new_privs is set already.
 * ioctl is allowed only with the requests kernel/ issues
 * (nvmm_kern_ioctls), and clone only for threads: clone3 passes its
 * flags in memory, where a filter cannot look, so it is made to fail with
 * ENOSYS and glibc falls back to clone.
 *
 * Name lookups (the groups of the roles, the names in the logs) go
 * through NSS, whose modules glibc loads at the first lookup: their
 * loading (dlopen, and whatever their constructors do) is made to happen
 * before the filter, and a lookup afterwards only reads files and asks
 * systemd's user database over a Unix socket.
 *
 * The sanitizer runtimes make calls of their own (LeakSanitizer stops
 * the world with ptrace at exit); a sanitizer build allows those too.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include <seccomp.h>

#include "nvmmd.h"

#define NCALLS(a)	(sizeof(a) / sizeof((a)[0]))

/* Every thread of the daemon, after start-up. */
static const int daemon_calls[] = {
	/* memory: malloc, thread stacks, guest RAM and comm pages */
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect),
	SCMP_SYS(madvise), SCMP_SYS(mremap), SCMP_SYS(memfd_create),
	SCMP_SYS(ftruncate),
	/* descriptors: clients' memfds, /proc/PID/comm, the passwd files */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(close),
	SCMP_SYS(openat),
	SCMP_SYS(newfstatat), SCMP_SYS(fstat), SCMP_SYS(lseek),
	SCMP_SYS(readlinkat),
	SCMP_SYS(fcntl), SCMP_SYS(pipe2), SCMP_SYS(eventfd2), SCMP_SYS(dup2),
	SCMP_SYS(dup3),	/* /dev/null over stdio once detached */
	/* the event loop and its sockets (syslog's too) */
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(connect),
	SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(shutdown),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	/* threads, their locks and their signals (the kicks) */
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall),
	SCMP_SYS(sched_yield),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
	/* time and identity */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(getpid),
	SCMP_SYS(gettid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getrandom),
	SCMP_SYS(prlimit64), SCMP_SYS(uname),
};

/*
 * The parent's alone: its clients, its sockets' removal, its workers,
 * and glibc's qsort, which asks how much memory there is (host.c).
 */
static const int parent_calls[] = {
	SCMP_SYS(sysinfo),
	SCMP_SYS(accept4), SCMP_SYS(unlink), SCMP_SYS(unlinkat),
	SCMP_SYS(socketpair), SCMP_SYS(wait4), SCMP_SYS(kill),
	SCMP_SYS(tgkill),
};

/* What a VCPU thread needs beyond ioctl: locks, time, its own end. */
static const int vcpu_calls[] = {
	SCMP_SYS(futex), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(madvise), SCMP_SYS(munmap), SCMP_SYS(mmap),
	SCMP_SYS(mprotect), SCMP_SYS(brk), SCMP_SYS(exit),
	SCMP_SYS(exit_group), SCMP_SYS(sched_yield),
	/* a log line: syslog reconnects, stderr in the foreground */
	SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(sendto),
	SCMP_SYS(sendmsg), SCMP_SYS(connect), SCMP_SYS(close),
};

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED	true
static const int sanitizer_calls[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(prctl), SCMP_SYS(ptrace),
	SCMP_SYS(wait4), SCMP_SYS(getdents), SCMP_SYS(getdents64),
	SCMP_SYS(readlink),
	SCMP_SYS(readlinkat), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(getrlimit), SCMP_SYS(getppid), SCMP_SYS(kill),
	SCMP_SYS(clone), SCMP_SYS(dup), SCMP_SYS(pipe),
	SCMP_SYS(socket), SCMP_SYS(open), SCMP_SYS(stat),
	SCMP_SYS(setrlimit), SCMP_SYS(getrusage), SCMP_SYS(execve),
};
#else
#define SANITIZED	false
#endif

static int
allow_all(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++)
		if ((ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0)) <
		    0)
			return -ret;
	return 0;
}

static int
allow_sanitizers(scmp_filter_ctx ctx)
{
#if defined(__SANITIZE_ADDRESS__)
	int ret;

	/* A report asks whether stderr is a terminal before it is printed. */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, TCGETS));
	if (ret < 0)
		return -ret;
	return allow_all(ctx, sanitizer_calls, NCALLS(sanitizer_calls));
#else
	(void)ctx;
	return 0;
#endif
}

/* ioctl, with exactly the requests kernel/ makes. */
static int
allow_kvm_ioctls(scmp_filter_ctx ctx)
{
	const unsigned long *reqs;
	size_t n, i;
	int ret;

	n = nvmm_kern_ioctls(&reqs);
	for (i = 0; i < n; i++)
		if ((ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl),
		    1, SCMP_A1(SCMP_CMP_EQ, reqs[i]))) < 0)
			return -ret;
	return 0;
}

/*
 * New threads; for the parent, new processes too, but none sharing its
 * memory (a fork).  clone3 falls back to clone.  A sanitizer build allows
 * clone whatever its flags.
 */
static int
allow_clones(scmp_filter_ctx ctx, bool processes)
{
	int ret = 0;

	if (!SANITIZED)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	if (ret == 0 && !SANITIZED && processes)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD | CLONE_VM, 0));
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
		    SCMP_SYS(clone3), 0);
	return ret < 0 ? -ret : 0;
}

/* Naming a worker, which is all the parent asks of prctl. */
static int
allow_naming(scmp_filter_ctx ctx)
{
	int ret;

	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	return ret < 0 ? -ret : 0;
}

/* Signals to this process's own threads only: a worker's VCPU kicks. */
static int
allow_own_signals(scmp_filter_ctx ctx)
{
	int ret;

	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	return ret < 0 ? -ret : 0;
}

/*
 * FIONREAD, the one ioctl beyond KVM's: libevent's buffers ask how much
 * an HTTP connection has to read (metrics.c).  Its listening socket was
 * made before the filter, which allows no TCP socket to be made.
 */
static int
allow_fionread(scmp_filter_ctx ctx)
{
	int ret;

	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, FIONREAD));
	return ret < 0 ? -ret : 0;
}

/* Unix sockets only: syslog may have to reconnect to /dev/log. */
static int
allow_unix_sockets(scmp_filter_ctx ctx)
{
	int ret;

	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	return ret < 0 ? -ret : 0;
}

/* Adding a filter on top, which only ever takes rights away. */
static int
allow_filter_stacking(scmp_filter_ctx ctx)
{
	int ret;

	ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 2,
	    SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER),
	    SCMP_A1(SCMP_CMP_EQ, 0));
	return ret < 0 ? -ret : 0;
}

enum sandbox_kind { SB_PARENT, SB_WORKER, SB_VCPU };

/* What a process filter allows beyond its list: threads, sockets, more. */
static int
sandbox_process_rules(scmp_filter_ctx ctx, enum sandbox_kind kind)
{
	int error;

	error = allow_clones(ctx, kind == SB_PARENT);
	/* A sanitizer build allows socket whatever its domain. */
	if (error == 0 && !SANITIZED)
		error = allow_unix_sockets(ctx);
	if (error == 0)
		error = allow_filter_stacking(ctx);
	if (error == 0 && kind == SB_PARENT)
		error = allow_fionread(ctx);
	if (error == 0 && kind == SB_PARENT)
		error = allow_all(ctx, parent_calls, NCALLS(parent_calls));
	if (error == 0 && kind == SB_PARENT && !SANITIZED)
		error = allow_naming(ctx);
	if (error == 0 && kind == SB_WORKER)
		error = allow_own_signals(ctx);
	return error;
}

static int
sandbox_build(enum sandbox_kind kind, scmp_filter_ctx *ctxp)
{
	scmp_filter_ctx ctx;
	int error;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		return ENOMEM;
	if (kind == SB_VCPU)
		error = allow_all(ctx, vcpu_calls, NCALLS(vcpu_calls));
	else
		error = allow_all(ctx, daemon_calls, NCALLS(daemon_calls));
	if (error == 0)
		error = allow_kvm_ioctls(ctx);
	if (error == 0)
		error = allow_sanitizers(ctx);
	if (error == 0 && kind != SB_VCPU)
		error = sandbox_process_rules(ctx, kind);
	if (error == 0 && kind == SB_PARENT &&
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0)
		error = EINVAL;
	if (error) {
		seccomp_release(ctx);
		return error;
	}
	*ctxp = ctx;
	return 0;
}

/* A filter as BPF: libseccomp 2.5 exports to a descriptor. */
static int
sandbox_compile(enum sandbox_kind kind, struct sock_fprog *prog)
{
	scmp_filter_ctx ctx;
	struct sock_filter *insns = NULL;
	off_t size;
	int fd, error;

	error = sandbox_build(kind, &ctx);
	if (error)
		return error;
	fd = memfd_create("nvmmd-bpf", MFD_CLOEXEC);
	if (fd == -1) {
		error = errno;
		goto out;
	}
	if ((error = -seccomp_export_bpf(ctx, fd)) != 0)
		goto out;
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % sizeof(*insns) != 0 ||
	    (insns = malloc((size_t)size)) == NULL ||
	    pread(fd, insns, (size_t)size, 0) != size) {
		error = EINVAL;
		free(insns);
		goto out;
	}
	prog->filter = insns;
	prog->len = (unsigned short)(size / sizeof(*insns));
out:
	if (fd != -1)
		close(fd);
	seccomp_release(ctx);
	return error;
}

/* The VCPU filter, compiled once in the parent: every worker has it. */
static struct sock_fprog vcpu_prog;

static int
sandbox_load(const struct sock_fprog *prog)
{
	if (prog->filter == NULL)
		return EINVAL;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) == -1)
		return errno;
	return 0;
}

/* Loads the NSS modules now; the entry looked up need not exist. */
static void
sandbox_load_nss(void)
{
	(void)getpwuid((uid_t)-2);
	(void)getgrgid((gid_t)-2);
}

int
sandbox_enter_daemon(void)
{
	scmp_filter_ctx ctx;
	int error;

	sandbox_load_nss();
	error = sandbox_compile(SB_VCPU, &vcpu_prog);
	if (error == 0)
		error = sandbox_build(SB_PARENT, &ctx);
	if (error)
		return error;
	error = -seccomp_load(ctx);
	seccomp_release(ctx);
	return error;
}

/* No_new_privs is the process's already: one system call, no more. */
int
sandbox_enter_vcpu(void)
{
	return sandbox_load(&vcpu_prog);
}

/* Compiled in the worker, which alone knows its pid for the kicks. */
int
sandbox_enter_worker(void)
{
	struct sock_fprog prog = { 0, NULL };
	int error;

	error = sandbox_compile(SB_WORKER, &prog);
	if (error == 0)
		error = sandbox_load(&prog);
	free(prog.filter);
	return error;
}
