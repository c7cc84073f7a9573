/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Forked children; see h_proc.h.
 */
#include <sys/wait.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "h_proc.h"

#define TD_CHILDREN	"children.pids"

static uint64_t
td_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* In a child: where its failure message goes, and its pipe ends. */
static int td_msgfd = -1;
static int td_cmdfd = -1;
static int td_evfd = -1;

void
td_fail(int line, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (td_msgfd != -1)
		(void)write(td_msgfd, buf, strlen(buf));
	_exit(1);
}

/* Remembers a child so that the cleanup routine can kill it. */
static void
td_note_child(pid_t pid)
{
	FILE *f;

	f = fopen(TD_CHILDREN, "a");
	if (f != NULL) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
}

void
td_kill_children(void)
{
	FILE *f;
	int pid;

	f = fopen(TD_CHILDREN, "r");
	if (f == NULL)
		return;
	while (fscanf(f, "%d", &pid) == 1)
		if (pid > 0)
			kill(pid, SIGKILL);
	fclose(f);
}

bool
td_fork(struct td_child *c)
{
	int msg[2], cmd[2], ev[2];

	ATF_REQUIRE(pipe2(msg, O_CLOEXEC) == 0);
	ATF_REQUIRE(pipe2(cmd, O_CLOEXEC) == 0);
	ATF_REQUIRE(pipe2(ev, O_CLOEXEC) == 0);
	fflush(NULL);
	c->pid = fork();
	ATF_REQUIRE(c->pid != -1);
	if (c->pid == 0) {
		close(msg[0]);
		close(cmd[1]);
		close(ev[0]);
		c->msg = td_msgfd = msg[1];
		c->cmd = td_cmdfd = cmd[0];
		c->ev = td_evfd = ev[1];
		return true;
	}
	td_note_child(c->pid);
	close(msg[1]);
	close(cmd[0]);
	close(ev[1]);
	c->msg = msg[0];
	c->cmd = cmd[1];
	c->ev = ev[0];
	return false;
}

void
td_child_close_others(void)
{
	int fd;

	for (fd = 3; fd < 1024; fd++)
		if (fd != td_msgfd && fd != td_cmdfd && fd != td_evfd)
			close(fd);
}

int
td_recv_byte(int fd, unsigned ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t b;
	ssize_t n;
	int r;

	do
		r = poll(&pfd, 1, (int)ms);
	while (r == -1 && errno == EINTR);
	if (r <= 0)
		return -1;
	do
		n = read(fd, &b, 1);
	while (n == -1 && errno == EINTR);
	return n == 1 ? b : -2;
}

void
td_send_byte(int fd, uint8_t b)
{
	ssize_t n;

	do
		n = write(fd, &b, 1);
	while (n == -1 && errno == EINTR);
}

int
td_child_cmd(void)
{
	int b = td_recv_byte(td_cmdfd, 60000);

	C_CHECK(b >= 0, "no command from the parent");
	return b;
}

void
td_child_ev(uint8_t b)
{
	td_send_byte(td_evfd, b);
}

int
td_event(struct td_child *c, unsigned ms, const char *what)
{
	int b = td_recv_byte(c->ev, ms);

	if (b < 0) {
		char msg[512] = "";
		ssize_t n;

		/* Has the child failed?  Say why. */
		if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
			n = read(c->msg, msg, sizeof(msg) - 1);
			msg[n > 0 ? n : 0] = '\0';
			c->pid = -1;
		}
		atf_tc_fail("no %s from the child (%s): %s", what,
		    b == -1 ? "time-out" : "EOF", msg);
	}
	return b;
}

int
td_waitpid(pid_t pid, unsigned ms)
{
	uint64_t end = td_now_ms() + ms;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r == -1 || td_now_ms() >= end)
			return -1;
		usleep(5000);
	}
}

void
td_check_status(struct td_child *c, int status, const char *name)
{
	char msg[512];
	ssize_t n;

	n = read(c->msg, msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(c->msg);
	close(c->cmd);
	close(c->ev);
	if (status == -1)
		atf_tc_fail("%s: did not exit in time %s", name, msg);
	ATF_REQUIRE_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s: status %#x: %s", name, status,
	    msg[0] != '\0' ? msg : "(no message)");
}

void
td_wait_ok(struct td_child *c, unsigned ms, const char *name)
{
	int status;

	status = td_waitpid(c->pid, ms);
	if (status == -1) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	td_check_status(c, status, name);
}
