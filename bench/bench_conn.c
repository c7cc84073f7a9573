/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * What a client connection costs the daemon's host: the time from
 * connect(2) to the end of the hello, and the close, against what a fork
 * costs here (socketpair, fork and wait of a child that does nothing: the
 * floor of a process per connection); and the memory each connected
 * owner adds to all the daemon's processes.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "nvmm_rpc.h"

#define OWNERS		8
#define OWNERS_SETTLE_MS 500

int
bench_forkwait_round(struct bench_way *w, unsigned n, uint64_t *ns)
{
	uint64_t t0;
	unsigned i;
	pid_t pid;
	int sv[2], status;

	(void)w;
	for (i = 0; i < n; i++) {
		t0 = nvmm_now_ns();
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) ==
		    -1)
			return bench_fail("socketpair");
		if ((pid = fork()) == 0)
			_exit(0);
		close(sv[0]);
		close(sv[1]);
		if (pid == -1)
			return bench_fail("fork");
		if (waitpid(pid, &status, 0) != pid)
			return bench_fail("waitpid");
		ns[i] = nvmm_now_ns() - t0;
	}
	return 0;
}

int
bench_connect_round(struct bench_way *w, unsigned n, uint64_t *ns)
{
	struct nvmm_rpc rpc = NVMM_RPC_INITIALIZER;
	uint64_t t0;
	unsigned i;
	int error;

	(void)w;
	for (i = 0; i < n; i++) {
		t0 = nvmm_now_ns();
		error = nvmm_rpc_open(&rpc, bench_daemon_socket(),
		    NVMM__ROLE__ROLE_USER);
		if (error)
			return bench_failx("nvmm_rpc_open: %s", strerror(error));
		nvmm_rpc_close(&rpc);
		ns[i] = nvmm_now_ns() - t0;
	}
	return 0;
}

/* -------------------------------------------------------------------------- */

/*
 * An owner: a connection of its own with an idle machine of one VCPU.
 * The comm memfd is closed: the daemon's mapping of it is the daemon's
 * whoever else maps it.
 */
static int
owner_open(struct nvmm_rpc *rpc, unsigned i)
{
	nvmm_machid_t machid;
	int error, commfd;

	error = nvmm_rpc_open(rpc, bench_daemon_socket(),
	    NVMM__ROLE__ROLE_USER);
	if (error == 0)
		error = nvmm_rpc_machine_create(rpc, &machid, &commfd);
	if (error == 0) {
		close(commfd);
		error = nvmm_rpc_vcpu_create(rpc, machid, 0);
	}
	if (error)
		return bench_failx("owner %u: %s", i, strerror(error));
	return 0;
}

/*
 * The RSS and PSS of the daemon and all its descendants with OWNERS
 * owners connected, less the same with none, per owner.  The bench's
 * own libnvmm connection, with no machine, is there in both.
 */
int
bench_owners_measure(void)
{
	static struct nvmm_rpc rpc[OWNERS];
	const struct timespec settle = { OWNERS_SETTLE_MS / 1000,
	    (long)(OWNERS_SETTLE_MS % 1000) * 1000000L };
	struct bench_mem m0, m1;
	unsigned i, made;
	int status = -1;

	for (i = 0; i < OWNERS; i++)
		rpc[i] = (struct nvmm_rpc)NVMM_RPC_INITIALIZER;
	if (bench_daemon_mem(&m0) == -1)
		return -1;
	for (made = 0; made < OWNERS; made++)
		if (owner_open(&rpc[made], made) == -1)
			goto out;
	nanosleep(&settle, NULL);
	if (bench_daemon_mem(&m1) == -1)
		goto out;
	printf("%-30s %6ju KiB  (%u owners, a connection and an idle 1-VCPU "
	    "machine each; %ju KiB before, %ju after; processes: %u before, "
	    "%u after)\n", "daemon RSS per owner",
	    (uintmax_t)bench_growth(m0.rss_kib, m1.rss_kib, OWNERS), OWNERS,
	    (uintmax_t)m0.rss_kib, (uintmax_t)m1.rss_kib, m0.nprocs,
	    m1.nprocs);
	printf("%-30s %6ju KiB  (%ju KiB before, %ju after)\n",
	    "daemon PSS per owner",
	    (uintmax_t)bench_growth(m0.pss_kib, m1.pss_kib, OWNERS),
	    (uintmax_t)m0.pss_kib, (uintmax_t)m1.pss_kib);
	status = 0;
out:
	for (i = 0; i < made; i++)
		nvmm_rpc_close(&rpc[i]);	/* the machine goes with it */
	return status;
}
