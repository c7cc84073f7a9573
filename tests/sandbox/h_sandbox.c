/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * h_sandbox: enters nvmmd's seccomp filters (nvmmd/sandbox.c) and then
 * makes one call, so that t_sandbox can see which calls the filters let
 * through and which kill the process.
 *
 *   h_sandbox daemon|worker|vcpu CALL
 *
 * "daemon" enters the parent's filter; "worker" the parent's, then the
 * worker's on top, as a forked worker does; "vcpu" both, then, in a
 * thread as a VCPU thread does, the VCPU filter on top.  CALL is one of the names in `calls'.
 * Exits 0 when the call was made and returned; a filter that refuses it
 * kills the process with SIGSYS.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <bsd/err.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmmd.h"

static int
call_getpid(void)
{
	return getpid() > 0 ? 0 : -1;
}

static void *
noop(void *arg)
{
	return arg;
}

static int
call_thread(void)
{
	pthread_t t;

	return pthread_create(&t, NULL, noop, NULL) == 0 &&
	    pthread_join(t, NULL) == 0 ? 0 : -1;
}

static int
call_tty_ioctl(void)
{
	struct winsize ws;

	(void)ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
	return 0;
}

static int
call_listen(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	(void)listen(fd, 1);
	return 0;
}

static int
call_chmod(void)
{
	(void)chmod("/nonexistent-h_sandbox", 0666);
	return 0;
}

static int
call_setuid(void)
{
	(void)setuid(0);
	return 0;
}

static int
call_open(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd != -1)
		close(fd);
	return 0;
}

static int
call_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return 0;
}

/* A worker may signal nobody but its own threads: not even itself. */
static pid_t other;		/* the parent, as another process */

static int
call_kill(void)
{
	return kill(getpid(), 0) == 0 ? 0 : 1;
}

static int
call_tgkill_other(void)
{
	return syscall(SYS_tgkill, other, other, 0) == 0 ? 0 : 1;
}

static int
call_tgkill_self(void)
{
	return syscall(SYS_tgkill, getpid(), gettid(), 0) == 0 ? 0 : 1;
}

static const struct {
	const char *name;
	int (*fn)(void);
} calls[] = {
	{ "kill", call_kill },
	{ "tgkill-other", call_tgkill_other },
	{ "tgkill-self", call_tgkill_self },
	{ "getpid", call_getpid },
	{ "thread", call_thread },
	{ "tty-ioctl", call_tty_ioctl },
	{ "listen", call_listen },
	{ "chmod", call_chmod },
	{ "setuid", call_setuid },
	{ "open", call_open },
	{ "fork", call_fork },
};

static int (*call)(void);

static void *
vcpu_thread(void *arg)
{
	int error;

	(void)arg;
	if ((error = sandbox_enter_vcpu()) != 0)
		errc(1, error, "sandbox_enter_vcpu");
	return (void *)(intptr_t)call();
}

int
main(int argc, char **argv)
{
	pthread_t t;
	void *ret;
	size_t i;
	int error;

	if (argc != 3)
		errx(2, "usage: h_sandbox daemon|worker|vcpu call");
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (strcmp(argv[2], calls[i].name) == 0)
			call = calls[i].fn;
	if (call == NULL)
		errx(2, "no call %s", argv[2]);
	other = getppid();
	if ((error = sandbox_enter_daemon()) != 0)
		errc(1, error, "sandbox_enter_daemon");
	if (strcmp(argv[1], "daemon") == 0)
		return call() == 0 ? 0 : 1;
	if (strcmp(argv[1], "worker") != 0 && strcmp(argv[1], "vcpu") != 0)
		errx(2, "no filter %s", argv[1]);
	if ((error = sandbox_enter_worker()) != 0)
		errc(1, error, "sandbox_enter_worker");
	if (strcmp(argv[1], "worker") == 0)
		return call() == 0 ? 0 : 1;
	if (pthread_create(&t, NULL, vcpu_thread, NULL) != 0 ||
	    pthread_join(t, &ret) != 0)
		errx(1, "the VCPU thread");
	return ret == NULL ? 0 : 1;
}
