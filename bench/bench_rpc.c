/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * A control request through nvmmd (nvmm_ctl NVMM_CTL_MACH_INFO, a round
 * trip of protobuf over the socket and a lookup in the driver) against
 * its floor: the same round trip of one small packet each way between two
 * processes over a SOCK_SEQPACKET socketpair, with nothing done between.
 *
 * Both ways run with the asker and the answerer on one CPU.  A blocking
 * round trip costs what the scheduler makes of it: 3 us here when the
 * woken peer runs on the CPU its asker leaves, 60-80 us when it must wake
 * the other, idle CPU (a nested guest's idle CPU is slow to wake).  Which
 * of the two a pair of processes gets is the scheduler's choice and
 * differs from one pair to the next, so the comparison is made with both
 * pairs placed alike.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvmm.h>

#include "bench.h"

#define PING_SIZE	64	/* about a ctl request and its reply */

struct pingpong {
	int fd;
	pid_t child;
};

/* The CPU both ends of a round trip run on, or every CPU again. */
static int
rpc_place(pid_t pid, bool pinned)
{
	cpu_set_t set;
	long i, ncpus = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	for (i = 0; i < (pinned ? 1 : ncpus) && i < CPU_SETSIZE; i++)
		CPU_SET((int)i, &set);
	if (sched_setaffinity(pid, sizeof(set), &set) == -1)
		return bench_fail("sched_setaffinity %d", (int)pid);
	return 0;
}

/* The daemon's processes, all of them, pinned or set free. */
static int
rpc_place_daemon(bool pinned)
{
	pid_t *pids;
	size_t n, i;
	int status = 0;

	if (bench_proc_tree(bench_daemon_pid(), &pids, &n) == -1)
		return bench_fail("the daemon's processes");
	for (i = 0; i < n; i++)
		if (rpc_place(pids[i], pinned) == -1)
			status = -1;
	free(pids);
	return status;
}

static void __attribute__((noreturn))
echo_main(int fd)
{
	uint8_t buf[PING_SIZE];
	ssize_t n;

	if (rpc_place(0, true) == -1)
		_exit(1);
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		if (send(fd, buf, (size_t)n, 0) != n)
			break;
	_exit(0);
}

int
bench_pingpong_setup(struct bench_way *w)
{
	struct pingpong *p;
	int sv[2];

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return bench_fail("calloc");
	p->fd = -1;
	p->child = -1;
	w->state = p;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return bench_fail("socketpair");
	if ((p->child = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		return bench_fail("fork");
	}
	if (p->child == 0) {
		close(sv[0]);
		echo_main(sv[1]);
	}
	close(sv[1]);
	p->fd = sv[0];
	return rpc_place(0, true);
}

int
bench_pingpong_round(struct bench_way *w, unsigned n, uint64_t *ns)
{
	struct pingpong *p = w->state;
	uint8_t buf[PING_SIZE];
	uint64_t t0;
	unsigned i;

	memset(buf, 0xA5, sizeof(buf));
	for (i = 0; i < n; i++) {
		t0 = nvmm_now_ns();
		if (send(p->fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
		    recv(p->fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
			return bench_fail("socketpair ping-pong");
		ns[i] = nvmm_now_ns() - t0;
	}
	return 0;
}

void
bench_pingpong_teardown(struct bench_way *w)
{
	struct pingpong *p = w->state;

	if (p == NULL)
		return;
	if (p->fd != -1)
		close(p->fd);	/* the echo ends on end-of-file */
	if (p->child > 0)
		waitpid(p->child, NULL, 0);
	free(p);
	w->state = NULL;
	(void)rpc_place(0, false);
}

/* -------------------------------------------------------------------------- */

int
bench_ctl_setup(struct bench_way *w)
{
	struct nvmm_machine *mach;

	if (nvmm_init() == -1)
		return bench_fail("libnvmmclient: nvmm_init");
	if ((mach = calloc(1, sizeof(*mach))) == NULL)
		return bench_fail("calloc");
	if (nvmm_machine_create(mach) == -1) {
		free(mach);
		return bench_fail("libnvmmclient: nvmm_machine_create");
	}
	w->state = mach;
	/* The connection's worker exists now: it answers the requests. */
	if (rpc_place_daemon(true) == -1)
		return -1;
	return rpc_place(0, true);
}

int
bench_ctl_round(struct bench_way *w, unsigned n, uint64_t *ns)
{
	struct nvmm_machine *mach = w->state;
	struct nvmm_ctl_mach_info info;
	uint64_t t0;
	unsigned i;

	for (i = 0; i < n; i++) {
		memset(&info, 0, sizeof(info));
		info.machid = mach->machid;
		t0 = nvmm_now_ns();
		if (nvmm_ctl(NVMM_CTL_MACH_INFO, &info, sizeof(info)) == -1)
			return bench_fail("libnvmmclient: nvmm_ctl");
		ns[i] = nvmm_now_ns() - t0;
	}
	return 0;
}

void
bench_ctl_teardown(struct bench_way *w)
{
	struct nvmm_machine *mach = w->state;

	if (mach == NULL)
		return;
	if (nvmm_machine_destroy(mach) == -1)
		bench_fail("libnvmmclient: nvmm_machine_destroy");
	free(mach);
	w->state = NULL;
	(void)rpc_place_daemon(false);
	(void)rpc_place(0, false);
}
