/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The doorbell's rule 5 (proto/nvmm_doorbell.c) on its own, without KVM:
 * a client waiting for a RUN watches the stop word and rings the stop
 * bell, an eventfd, once per run.  A fake daemon thread serves the
 * doorbell and, like the real one, can end a RUN only through the bell:
 * it answers a stopped run only once it has read the eventfd, and reads
 * the count the client wrote.  The stop itself is stored from a thread
 * other than the waiter (the fake daemon's, standing for an emulator's
 * other thread), from a signal handler on the waiter, or before the run.
 *
 * Every wait is bounded: the fake daemon gives up on a bell after
 * BELL_BOUND_NS and answers ETIMEDOUT, and the client's alive() says the
 * daemon is gone once a run has lasted RUN_BOUND_NS (ENXIO), so that a
 * lost stop fails with a message instead of hanging.
 */
#include <sys/eventfd.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

#include "nvmm_doorbell.h"

/*
 * How long the fake daemon waits for a bell: a thousand times the slice
 * the client sleeps at most between two looks at the stop word, so that
 * a loaded host does not fail it and a stop never seen does.
 */
#define BELL_BOUND_NS	1000000000ULL
/* How long it reads the bell without sleeping, to see who rang it. */
#define BELL_PROBE_NS	1000000ULL
/*
 * How long the waiter has slept when the stop comes: far past its spin
 * budget (200 us), and long enough that a sleep not sliced as rule 5 says
 * (slices that grow without their cap, or one as long as the alive
 * period) would see the stop only tens of ms later.
 */
#define ASLEEP_NS	60000000ULL
/* How long a run may last before the client's alive() gives up. */
#define RUN_BOUND_NS	10000000000ULL

/* When, in a run, the stop word is stored. */
enum stop_when {
	STOP_NONE,	/* never: the run is answered after hold_ns */
	STOP_BEFORE,	/* by the waiter, before it rings */
	STOP_SOON,	/* by the fake daemon, hold_ns after taking the RUN */
	STOP_ASLEEP,	/* by the fake daemon, once the waiter sleeps */
	STOP_SIGNAL,	/* by a signal handler on the sleeping waiter */
};

struct rig {
	struct nvmm_doorbell db;
	atomic_bool quit;
	int stop;		/* the comm page's stop word */
	int bell;		/* the VCPU's stop bell */
	pthread_t waiter;
	/* The waiter's plan for the next run (rule 1 publishes it). */
	enum stop_when when;
	uint64_t hold_ns;
	/* What the fake daemon saw of the run (rule 3 publishes it). */
	uint64_t rung;		/* the bell's count it read */
	bool from_spin;		/* rung before the waiter slept */
	uint64_t latency_ns;	/* from the store to the bell read */
};

static uint64_t run_deadline;
static int *volatile signal_stop;	/* what the signal handler stores */
static volatile sig_atomic_t signals;

static bool
rig_alive(void)
{
	return nvmm_now_ns() < run_deadline;
}

static void
stop_handler(int sig)
{
	(void)sig;
	__atomic_store_n(signal_stop, 1, __ATOMIC_SEQ_CST);
	signals++;
}

static void
nap(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ULL),
	    (long)(ns % 1000000000ULL) };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/* Reads the bell without waiting: its count, or 0 if nobody rang. */
static uint64_t
bell_take(int bell)
{
	uint64_t count;

	if (read(bell, &count, sizeof(count)) != (ssize_t)sizeof(count))
		return 0;
	return count;
}

static bool
waiter_asleep(struct rig *r)
{
	return __atomic_load_n(&r->db.client_waits, __ATOMIC_SEQ_CST) != 0;
}

/* Waits, bounded, for the waiter to sleep on its answer; false if not. */
static bool
wait_asleep(struct rig *r)
{
	uint64_t end = nvmm_now_ns() + BELL_BOUND_NS;

	while (!waiter_asleep(r))
		if (nvmm_now_ns() >= end)
			return false;
	return true;
}

/*
 * Waits, bounded, for the bell.  It is read without sleeping at first:
 * read while the waiter had not yet gone to sleep, it was rung from the
 * spin (client_waits is set before the sleep's first look at stop).
 */
static uint64_t
wait_bell(struct rig *r, uint64_t stored)
{
	uint64_t now, count;
	struct pollfd pfd = { r->bell, POLLIN, 0 };

	do {
		if ((count = bell_take(r->bell)) != 0) {
			r->from_spin = !waiter_asleep(r);
			goto out;
		}
	} while ((now = nvmm_now_ns()) < stored + BELL_PROBE_NS);
	while (now < stored + BELL_BOUND_NS) {
		(void)poll(&pfd, 1, 10);
		if ((count = bell_take(r->bell)) != 0)
			goto out;
		now = nvmm_now_ns();
	}
	return 0;
out:
	r->latency_ns = nvmm_now_ns() - stored;
	return count;
}

/*
 * One RUN, as the daemon and the kernel would serve it: stored per the
 * plan, a stop ends the run only through the bell, and any return
 * consumes the stop (kernel/nvmm.c).
 */
static int
fake_run(struct rig *r)
{
	uint64_t stored;

	r->rung = 0;
	r->from_spin = false;
	r->latency_ns = 0;
	r->db.exit.reason = NVMM_VCPU_EXIT_HALTED;
	stored = nvmm_now_ns();
	switch (r->when) {
	case STOP_NONE:
		nap(r->hold_ns);
		r->rung = bell_take(r->bell);
		return 0;
	case STOP_BEFORE:
		break;
	case STOP_SOON:
		if (r->hold_ns != 0)
			nap(r->hold_ns);
		stored = nvmm_now_ns();
		__atomic_store_n(&r->stop, 1, __ATOMIC_SEQ_CST);
		break;
	case STOP_ASLEEP:
	case STOP_SIGNAL:
		if (!wait_asleep(r))
			return EDEADLK;
		nap(ASLEEP_NS);
		stored = nvmm_now_ns();
		if (r->when == STOP_ASLEEP)
			__atomic_store_n(&r->stop, 1, __ATOMIC_SEQ_CST);
		else if (pthread_kill(r->waiter, SIGUSR1) != 0)
			return ESRCH;
		break;
	}
	if ((r->rung = wait_bell(r, stored)) == 0)
		return ETIMEDOUT;
	if (!__atomic_load_n(&r->stop, __ATOMIC_SEQ_CST))
		return EBADMSG;		/* a bell without a stop */
	__atomic_store_n(&r->stop, 0, __ATOMIC_SEQ_CST);
	r->db.exit.reason = NVMM_VCPU_EXIT_STOPPED;
	return 0;
}

static void *
fake_daemon(void *arg)
{
	struct rig *r = arg;
	uint32_t seq, served = 0;

	while (nvmm_doorbell_next(&r->db, served, &r->quit, &seq)) {
		nvmm_doorbell_answer(&r->db, seq, fake_run(r), false);
		served = seq;
	}
	nvmm_doorbell_close(&r->db, served);
	return NULL;
}

static struct rig rig;
static pthread_t daemon_thread;

static struct rig *
rig_start(void)
{
	struct sigaction sa;
	struct rig *r = &rig;

	memset(r, 0, sizeof(*r));
	atomic_init(&r->quit, false);
	r->bell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ATF_REQUIRE(r->bell != -1);
	r->waiter = pthread_self();
	signal_stop = &r->stop;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop_handler;	/* no SA_RESTART: the futex gets EINTR */
	sigemptyset(&sa.sa_mask);
	ATF_REQUIRE_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	ATF_REQUIRE_EQ(pthread_create(&daemon_thread, NULL, fake_daemon, r),
	    0);
	return r;
}

static void
rig_stop(struct rig *r)
{
	atomic_store(&r->quit, true);
	nvmm_doorbell_poke(&r->db);
	ATF_REQUIRE_EQ(pthread_join(daemon_thread, NULL), 0);
	ATF_CHECK_EQ(close(r->bell), 0);
}

static const char *
when_name(enum stop_when when)
{
	static const char *const names[] = {
		[STOP_NONE] = "no stop", [STOP_BEFORE] = "stop before the run",
		[STOP_SOON] = "stop from another thread",
		[STOP_ASLEEP] = "stop while asleep",
		[STOP_SIGNAL] = "stop from a signal handler",
	};

	return names[when];
}

/*
 * One run with its stop as planned: the wait must end as the fake daemon
 * answered, the bell must have been rung exactly once if there was a stop
 * and never if not, and the stop must be consumed.
 */
static void
run_round(struct rig *r, unsigned n, enum stop_when when, uint64_t hold_ns)
{
	uint64_t later;
	uint32_t seq;
	int error;

	r->when = when;
	r->hold_ns = hold_ns;
	if (when == STOP_BEFORE)
		__atomic_store_n(&r->stop, 1, __ATOMIC_SEQ_CST);
	r->db.op = NVMM_DOORBELL_RUN;
	run_deadline = nvmm_now_ns() + RUN_BOUND_NS;
	seq = nvmm_doorbell_ring(&r->db);
	error = nvmm_doorbell_wait_run(&r->db, seq, rig_alive, &r->stop,
	    r->bell);
	later = bell_take(r->bell);
	ATF_REQUIRE_MSG(error != ETIMEDOUT, "round %u, %s: the bell was not "
	    "rung within %llu ms", n, when_name(when),
	    (unsigned long long)(BELL_BOUND_NS / 1000000));
	ATF_REQUIRE_MSG(error != EBADMSG, "round %u, %s: the bell rang with "
	    "the stop word clear", n, when_name(when));
	ATF_REQUIRE_MSG(error == 0, "round %u, %s: the wait returned %s", n,
	    when_name(when), strerror(error));
	ATF_REQUIRE_EQ_MSG(r->rung + later, when == STOP_NONE ? 0 : 1,
	    "round %u, %s: the bell was rung %llu times (%llu after the "
	    "daemon read it)", n, when_name(when),
	    (unsigned long long)(r->rung + later), (unsigned long long)later);
	ATF_REQUIRE_EQ_MSG(r->db.exit.reason, when == STOP_NONE ?
	    NVMM_VCPU_EXIT_HALTED : NVMM_VCPU_EXIT_STOPPED,
	    "round %u, %s: the wrong answer", n, when_name(when));
	ATF_REQUIRE_EQ(__atomic_load_n(&r->stop, __ATOMIC_SEQ_CST), 0);
}

/* -------------------------------------------------------------------------- */

#define SPIN_ROUNDS	200U

ATF_TC(spinning);
ATF_TC_HEAD(spinning, tc)
{
	atf_tc_set_md_var(tc, "descr", "A stop stored before the run, or from "
	    "another thread while the waiter spins, is seen by the spin and "
	    "the bell rung once");
	atf_tc_set_md_var(tc, "timeout", "60");
}
ATF_TC_BODY(spinning, tc)
{
	struct rig *r = rig_start();
	unsigned n, before = 0, soon = 0;

	for (n = 0; n < SPIN_ROUNDS; n++) {
		run_round(r, n, STOP_BEFORE, 0);
		before += r->from_spin;
		run_round(r, n, STOP_SOON, (n % 4) * 20000ULL);
		soon += r->from_spin;
	}
	rig_stop(r);
	printf("rung from the spin: %u of %u stops before the run, %u of %u "
	    "from another thread\n", before, SPIN_ROUNDS, soon, SPIN_ROUNDS);
	/*
	 * Whether the fake daemon reads the bell before the waiter's spin
	 * budget runs out is up to the scheduler, once; not in every round.
	 */
	ATF_CHECK_MSG(before > 0, "no stop stored before the run was seen "
	    "by the spin");
	ATF_CHECK_MSG(soon > 0, "no stop stored during the spin was seen by "
	    "the spin");
}

ATF_TC(asleep);
ATF_TC_HEAD(asleep, tc)
{
	atf_tc_set_md_var(tc, "descr", "A stop stored from another thread "
	    "while the waiter sleeps is seen from the sleep, the bell rung "
	    "once");
	atf_tc_set_md_var(tc, "timeout", "60");
}
static int
latency_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#define ASLEEP_ROUNDS	21U

ATF_TC_BODY(asleep, tc)
{
	struct rig *r = rig_start();
	uint64_t latency[ASLEEP_ROUNDS];
	unsigned n;

	for (n = 0; n < ASLEEP_ROUNDS; n++) {
		run_round(r, n, STOP_ASLEEP, 0);
		ATF_CHECK(!r->from_spin);
		latency[n] = r->latency_ns;
	}
	rig_stop(r);
	qsort(latency, ASLEEP_ROUNDS, sizeof(latency[0]), latency_cmp);
	printf("%u stops while asleep: seen after %llu us (median), %llu us "
	    "(slowest)\n", ASLEEP_ROUNDS,
	    (unsigned long long)(latency[ASLEEP_ROUNDS / 2] / 1000),
	    (unsigned long long)(latency[ASLEEP_ROUNDS - 1] / 1000));
	/*
	 * How soon is for make bench (path stop) to say, not for a test:
	 * here the stop must be seen from the sleep, and the bell rung once.
	 */
}

ATF_TC(signalled);
ATF_TC_HEAD(signalled, tc)
{
	atf_tc_set_md_var(tc, "descr", "A stop stored by a signal handler on "
	    "the waiting thread, asleep, is seen and the bell rung once; the "
	    "signal does not end the wait");
	atf_tc_set_md_var(tc, "timeout", "60");
}
ATF_TC_BODY(signalled, tc)
{
	struct rig *r = rig_start();
	unsigned n;

	signals = 0;
	for (n = 0; n < 20; n++)
		run_round(r, n, STOP_SIGNAL, 0);
	rig_stop(r);
	ATF_CHECK_EQ(signals, 20);
}

ATF_TC(nostop);
ATF_TC_HEAD(nostop, tc)
{
	atf_tc_set_md_var(tc, "descr", "A run without a stop, answered while "
	    "the waiter spins or sleeps, never rings the bell");
	atf_tc_set_md_var(tc, "timeout", "60");
}
ATF_TC_BODY(nostop, tc)
{
	static const uint64_t holds[] = { 0, 50000, 300000, 3000000 };
	struct rig *r = rig_start();
	unsigned n;

	for (n = 0; n < 200; n++)
		run_round(r, n, STOP_NONE, holds[n % 4]);
	rig_stop(r);
}

#define LOOP_ROUNDS	10000U

ATF_TC(rounds);
ATF_TC_HEAD(rounds, tc)
{
	atf_tc_set_md_var(tc, "descr", "Ten thousand runs, stopped at every "
	    "moment of the spin and the first sleeps, or not at all: no stop "
	    "is lost, no bell rung twice or for nothing, no wait hangs");
	atf_tc_set_md_var(tc, "timeout", "240");
}
ATF_TC_BODY(rounds, tc)
{
	struct rig *r = rig_start();
	unsigned n, spin = 0;

	for (n = 0; n < LOOP_ROUNDS; n++) {
		if (n % 16 == 15)
			run_round(r, n, STOP_NONE, (n % 3) * 150000ULL);
		else if (n % 16 == 14)
			run_round(r, n, STOP_BEFORE, 0);
		else
			run_round(r, n, STOP_SOON, (n % 14) * 25000ULL);
		spin += r->from_spin;
	}
	rig_stop(r);
	printf("%u rounds, each answered; %u bells rung from the spin\n",
	    LOOP_ROUNDS, spin);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, spinning);
	ATF_TP_ADD_TC(tp, asleep);
	ATF_TP_ADD_TC(tp, signalled);
	ATF_TP_ADD_TC(tp, nostop);
	ATF_TP_ADD_TC(tp, rounds);
	return atf_no_error();
}
