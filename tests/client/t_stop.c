/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The stop bell (proto/nvmm_doorbell.c, rule 5): nvmm_vcpu_stop() only
 * stores to the comm page, the client's thread waiting for the run sees
 * it and rings the VCPU's eventfd, and the daemon's event loop kicks that
 * VCPU.  No daemon thread polls for stops.  A stop from another thread
 * while the waiting thread sleeps must still end the run, and a client
 * abusing its bell must disturb nobody else.  (A stop from a signal
 * handler on the running thread is t_hotpath's.)
 */
#include <sys/mman.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "h_client.h"
#include "h_daemon.h"
#include "h_fork.h"
#include "nvmm_rpc.h"
#include "nvmm_slot.h"

TVM_GUEST(spin);

/* Long past the client's spin: the waiting thread is asleep by then. */
#define STOP_ASLEEP_MS	50
/* A run that did not stop within this lost its stop. */
#define STOP_LOST_MS	5000

/*
 * The daemon's own threads, from /proc: KVM adds a worker of its own to
 * the process that owns a VM (kvm-nx-lpage-recovery), which is not ours.
 */
static int
daemon_threads(pid_t pid)
{
	char path[300], comm[32];
	struct dirent *de;
	FILE *f;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	ATF_REQUIRE(d != NULL);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int)pid,
		    de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;	/* a thread that just ended */
		if (fgets(comm, sizeof(comm), f) != NULL &&
		    strncmp(comm, "kvm-", 4) != 0)
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

struct stopper {
	struct nvmm_vcpu *vcpu;
	unsigned delay_ms;
	pid_t daemon;
	int threads;		/* the worker's, while the run was under way */
	uint64_t stopped_at;
	atomic_bool returned;
	atomic_bool lost;	/* the run did not return: worker killed */
};

static void *
stopper_main(void *arg)
{
	struct stopper *s = arg;
	uint64_t end;
	pid_t worker;

	hc_sleep_ms(s->delay_ms);
	worker = hd_worker(s->daemon);
	s->threads = daemon_threads(worker);
	s->stopped_at = hc_now_ms();
	nvmm_vcpu_stop(s->vcpu);
	/*
	 * A lost stop hangs the run for good.  The worker's death ends it
	 * (ENXIO), and the test's failure says why.
	 */
	end = s->stopped_at + STOP_LOST_MS;
	while (!atomic_load(&s->returned) && hc_now_ms() < end)
		hc_sleep_ms(1);
	if (!atomic_load(&s->returned)) {
		atomic_store(&s->lost, true);
		kill(worker, SIGKILL);
	}
	return NULL;
}

/*
 * Runs the spinning guest of hv until the stop that a thread asks for
 * delay_ms later; returns the exit reason, *msp the time from the stop to
 * the return and *threadsp the daemon's threads during the run.
 */
static uint64_t
stop_run(pid_t daemon, struct hc_vcpu *hv, unsigned delay_ms, uint64_t *msp,
    int *threadsp)
{
	struct stopper s;
	pthread_t t;
	uint64_t reason;
	int error;

	memset(&s, 0, sizeof(s));
	s.vcpu = &hv->vcpu;
	s.delay_ms = delay_ms;
	s.daemon = daemon;
	atomic_init(&s.returned, false);
	atomic_init(&s.lost, false);
	ATF_REQUIRE_EQ(pthread_create(&t, NULL, stopper_main, &s), 0);
	error = nvmm_vcpu_run(&hv->vm->mach, &hv->vcpu) == -1 ? errno : 0;
	*msp = hc_now_ms() - s.stopped_at;
	atomic_store(&s.returned, true);
	ATF_REQUIRE_EQ(pthread_join(t, NULL), 0);
	ATF_REQUIRE_MSG(!atomic_load(&s.lost), "the stop was lost: no return "
	    "within %d ms of it", STOP_LOST_MS);
	ATF_REQUIRE_MSG(error == 0, "nvmm_vcpu_run: %s", strerror(error));
	reason = hv->vcpu.exit->reason;
	if (threadsp != NULL)
		*threadsp = s.threads;
	return reason;
}

ATF_TC_WITH_CLEANUP(stop_while_asleep);
TD_HEAD(stop_while_asleep, "nvmm_vcpu_stop from another thread, once "
    "the thread in nvmm_vcpu_run sleeps, ends the run with EXIT_STOPPED "
    "promptly, and the daemon has no thread but its main one and its "
    "VCPUs': no watcher polls for stops")
ATF_TC_BODY(stop_while_asleep, tc)
{
	struct hc_machine vm;
	struct hc_vcpu hv;
	uint64_t ms;
	int i, threads;
	pid_t daemon;

	daemon = hc_start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_spin_begin, guest_spin_end);
	ATF_CHECK_EQ_MSG(daemon_threads(daemon), 1, "the parent has %d "
	    "threads; want one", daemon_threads(daemon));
	ATF_CHECK_EQ_MSG(daemon_threads(hd_worker(daemon)), 2, "the worker "
	    "has %d threads with one VCPU and nothing running; want its main "
	    "one and the VCPU's", daemon_threads(hd_worker(daemon)));
	for (i = 0; i < 3; i++) {
		ATF_CHECK_EQ_MSG(stop_run(daemon, &hv, STOP_ASLEEP_MS, &ms,
		    &threads), NVMM_VCPU_EXIT_STOPPED, "round %d: exit %#jx "
		    "%ju ms after the stop", i,
		    (uintmax_t)hv.vcpu.exit->reason, (uintmax_t)ms);
		ATF_CHECK_EQ_MSG(threads, 2, "round %d: the worker has %d threads "
		    "while one VCPU runs", i, threads);
		ATF_CHECK_EQ(*hv.vcpu.stop, 0);
		ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RIP), TVM_CODE_GPA);
	}
	hc_machine_destroy(&vm);
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */

/* How long the hostile client rings, about its neighbour's whole run. */
#define HOSTILE_RING_MS	1000

/*
 * A client with a machine of its own, which abuses its VCPU's bell: rings
 * without a stop, with one, garbage, a full counter, and then closes it
 * and destroys the VCPU with a ring pending.  Tells the parent when it
 * has its bell ('b') and when it is done ('d').
 */
static void
hostile_child(void)
{
	struct nvmm_rpc rpc = NVMM_RPC_INITIALIZER;
	const uint64_t one = 1, full = UINT64_MAX - 1, bad = UINT64_MAX;
	struct nvmm_slot *slot;
	nvmm_machid_t machid;
	uint64_t i, end;
	int commfd, bell;
	ssize_t n;
	void *comm;

	C_CALL(nvmm_rpc_open(&rpc, HD_SOCKET, NVMM__ROLE__ROLE_USER));
	C_CALL(nvmm_rpc_machine_create(&rpc, &machid, &commfd));
	comm = mmap(NULL, NVMM_SLOTS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    commfd, 0);
	C_CHECK(comm != MAP_FAILED, "mmap: %s", strerror(errno));
	C_CALL(nvmm_rpc_vcpu_create_bell(&rpc, machid, 0, &bell));
	slot = nvmm_slot(comm, 0);
	td_child_ev('b');
	end = nvmm_now_ns() + HOSTILE_RING_MS * 1000000ULL;
	for (i = 0; nvmm_now_ns() < end; i++) {
		/* Half with a stop: the daemon kicks this VCPU, idle. */
		__atomic_store_n(&slot->comm.stop, (int)(i & 1),
		    __ATOMIC_SEQ_CST);
		C_CHECK(write(bell, &one, sizeof(one)) == sizeof(one),
		    "ring %ju: %s", (uintmax_t)i, strerror(errno));
	}
	C_CHECK(write(bell, &bad, sizeof(bad)) == -1 && errno == EINVAL,
	    "an eventfd took UINT64_MAX");
	C_CHECK(write(bell, "junk", 4) == -1 && errno == EINVAL,
	    "an eventfd took 4 bytes");
	C_CHECK(write(bell, &full, sizeof(full)) == sizeof(full) ||
	    errno == EAGAIN, "a full count: %s", strerror(errno));
	C_CALL(nvmm_rpc_vcpu_destroy(&rpc, machid, 0));
	n = write(bell, &one, sizeof(one));	/* to a VCPU that is gone */
	(void)n;
	close(bell);
	C_CALL(nvmm_rpc_vcpu_create_bell(&rpc, machid, 0, &bell));
	close(bell);
	C_CALL(nvmm_rpc_machine_destroy(&rpc, machid));
	nvmm_rpc_close(&rpc);
	td_child_ev('d');
	_exit(0);
}

ATF_TC_WITH_CLEANUP(stop_bell_hostile);
TD_HEAD(stop_bell_hostile, "A client that rings its stop bell without end, "
    "writes garbage to it, fills it, closes it and destroys its VCPU with "
    "a ring pending disturbs no other client: a spinning guest runs on "
    "until its own stop, which still works, and the daemon keeps no "
    "descriptor of the hostile client")
ATF_TC_BODY(stop_bell_hostile, tc)
{
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct td_child c;
	uint64_t t0, ms;
	pid_t daemon;
	int fds;

	daemon = hc_start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_spin_begin, guest_spin_end);
	fds = td_fd_settled(daemon);
	if (td_fork(&c))
		hostile_child();
	ATF_REQUIRE_EQ(td_event(&c, 30000, "the bell"), 'b');

	/*
	 * While the other client rings: a kick of this VCPU would end its
	 * run early with EXIT_NONE; only its own stop, 300 ms on, may.
	 */
	t0 = hc_now_ms();
	ATF_CHECK_EQ_MSG(stop_run(daemon, &hv, 300, &ms, NULL),
	    NVMM_VCPU_EXIT_STOPPED, "exit %#jx beside the hostile client",
	    (uintmax_t)hv.vcpu.exit->reason);
	ATF_CHECK_MSG(hc_now_ms() - t0 >= 300, "the run ended after %ju ms, "
	    "before its stop", (uintmax_t)(hc_now_ms() - t0));
	ATF_REQUIRE_EQ(td_event(&c, 60000, "the end of the rings"), 'd');
	td_wait_ok(&c, 30000, "the hostile client");

	/* Afterwards: stops still work, and nothing of the child is left. */
	ATF_CHECK_EQ(stop_run(daemon, &hv, STOP_ASLEEP_MS, &ms, NULL),
	    NVMM_VCPU_EXIT_STOPPED);
	ATF_CHECK_EQ_MSG(td_fd_settled(daemon), fds, "nvmmd has %d "
	    "descriptors, %d before the hostile client", td_fd_settled(daemon),
	    fds);
	hc_machine_destroy(&vm);
	hd_stop(daemon);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, stop_while_asleep);
	ATF_TP_ADD_TC(tp, stop_bell_hostile);
	return atf_no_error();
}
