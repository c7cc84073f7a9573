/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The doorbell protocol, both halves: the client rings and waits, the
 * daemon's VCPU thread takes the next request, answers it, and sleeps.
 *
 * Ordering rules (every access below is atomic; the futex words are wake
 * and ack):
 *  1. The client writes op and conf, then publishes seq (release): the
 *     daemon that reads the new seq (acquire) sees the request whole.
 *  2. Whoever gives the daemon work bumps wake after publishing it (the
 *     client after seq, the daemon's own poke after quit), then wakes the
 *     daemon only if daemon_waits is set.  The daemon sets daemon_waits,
 *     then reads wake again and sleeps only if it did not move: with both
 *     sides sequentially consistent, either the giver sees daemon_waits
 *     and wakes, or the daemon sees the new wake and does not sleep.  No
 *     wake-up is lost.
 *  3. The daemon writes error, done and the exit, then publishes ack
 *     (seq_cst, a release): the client that reads ack == seq (acquire)
 *     sees the answer whole.  It wakes the client only if client_waits is
 *     set, and the client sets it before reading ack for the last time,
 *     which is rule 2 the other way round.
 *  4. dead is set before the last ack, and is final: a client that sees
 *     it gets ENOENT and never waits again.
 *  5. While a RUN is pending, the waiting client also watches the comm
 *     page's stop word, which nvmm_vcpu_stop() stores (seq_cst) from any
 *     thread or a signal handler, making no system call.  The waiter
 *     loads it (seq_cst) at every turn of its spin, after every futex
 *     return (a signal handler on the waiting thread interrupts the sleep:
 *     EINTR), and at least once per DOORBELL_CLIENT_STOP_SLICE_MAX_NS of
 *     sleep.  Seeing it set, it rings the stop bell, the VCPU's eventfd
 *     that the daemon's event loop reads, once per run: the daemon then
 *     reads stop itself and kicks the VCPU.  A stop stored before the
 *     bell's write is seen by the daemon's read after it (the eventfd's
 *     write and read order them), and kernel/ reads stop again before
 *     every guest entry, so a stop is never lost, however the bell races
 *     the run's start or end; a bell for a stop already consumed finds
 *     stop clear and kicks nothing.
 * The daemon reads every word once and trusts none: a client scribbling
 * here, or ringing its bell without end, only hurts its own VCPU.
 * Spinning first keeps the common case (an answer within microseconds)
 * free of system calls; sleeping after a budget keeps an idle VCPU free
 * of CPU.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "nvmm_doorbell.h"
#include "nvmm_futex.h"

/* How long the client spins for an answer before sleeping on it. */
#define DOORBELL_CLIENT_SPIN_NS		200000ULL
/* How often a sleeping client asks whether the daemon is still there. */
#define DOORBELL_CLIENT_ALIVE_NS	100000000ULL
/*
 * How often a client asleep on a RUN looks at the stop word (rule 5): the
 * first slice is short and each next one twice as long, up to the last,
 * which bounds the latency of a stop from another thread and costs a
 * guest that runs without exits one wake-up per slice.  A stop that comes
 * soon after the run began, as an emulator's other threads give, is thus
 * seen within about a quarter of the time the run took (make bench,
 * "stop"), and a long run costs 1,000 wake-ups a second.
 */
#define DOORBELL_CLIENT_STOP_SLICE_MIN_NS	50000ULL
#define DOORBELL_CLIENT_STOP_SLICE_MAX_NS	1000000ULL
/*
 * How long the daemon spins for the next request after an answer before
 * sleeping.  Before its first request it sleeps at once: the emulator is
 * still setting the new VCPU up, and a thread that spun would take a CPU
 * from the creation under way (make bench, "create": 720 to 630 us on two
 * CPUs).
 */
#define DOORBELL_DAEMON_SPIN_NS		100000ULL

/*
 * Spins while *word == value and *stop (if not NULL) is clear, until the
 * clock passes end; true if either changed.  The clock is read once per
 * 64 pauses: it costs more than a look.
 */
static bool
doorbell_spin(const uint32_t *word, uint32_t value, const volatile int *stop,
    uint64_t end)
{
	unsigned i;

	for (;;) {
		for (i = 0; i < 64; i++) {
			if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != value)
				return true;
			if (stop != NULL &&
			    __atomic_load_n(stop, __ATOMIC_SEQ_CST))
				return true;
			__builtin_ia32_pause();
		}
		if (nvmm_now_ns() >= end)
			return false;
	}
}

bool
nvmm_spin_while(const uint32_t *word, uint32_t value, uint64_t budget_ns)
{
	return doorbell_spin(word, value, NULL, nvmm_now_ns() + budget_ns);
}

/* -------------------------------------------------------------------------- */
/* The client's half. */

uint32_t
nvmm_doorbell_ring(struct nvmm_doorbell *db)
{
	uint32_t seq;

	seq = __atomic_load_n(&db->ack, __ATOMIC_RELAXED) + 1;
	__atomic_store_n(&db->seq, seq, __ATOMIC_RELEASE);		/* 1 */
	__atomic_fetch_add(&db->wake, 1, __ATOMIC_SEQ_CST);		/* 2 */
	if (__atomic_load_n(&db->daemon_waits, __ATOMIC_SEQ_CST))
		nvmm_futex_wake(&db->wake);
	return seq;
}

/* One wait for an answer, and what it watches besides (rule 5). */
struct doorbell_waiter {
	struct nvmm_doorbell *db;
	uint32_t seq;
	bool (*alive)(void);
	const volatile int *stop;	/* NULL: not a RUN, or the bell rung */
	int bell;
};

static bool
doorbell_answered(struct nvmm_doorbell *db, uint32_t seq)
{
	return __atomic_load_n(&db->ack, __ATOMIC_ACQUIRE) == seq ||
	    __atomic_load_n(&db->dead, __ATOMIC_ACQUIRE);
}

/*
 * Rings the stop bell if a stop is asked for, once: the eventfd's counter
 * coalesces, and a full one (EAGAIN) has a ring pending already.
 */
static void
doorbell_watch_stop(struct doorbell_waiter *w)
{
	const uint64_t one = 1;
	ssize_t n;

	if (w->stop == NULL || !__atomic_load_n(w->stop, __ATOMIC_SEQ_CST))
		return;
	w->stop = NULL;
	n = write(w->bell, &one, sizeof(one));			/* 5 */
	(void)n;
}

static void
doorbell_timespec(struct timespec *ts, uint64_t ns)
{
	ts->tv_sec = (time_t)(ns / 1000000000ULL);
	ts->tv_nsec = (long)(ns % 1000000000ULL);
}

/*
 * Sleeps until the answer, waking for the stop word while it is watched;
 * ENXIO if the daemon went away meanwhile.  A sleep with neither stop nor
 * alive to look at has no timeout.
 */
static int
doorbell_sleep(struct doorbell_waiter *w)
{
	struct nvmm_doorbell *db = w->db;
	struct timespec slice;
	uint64_t alive_at = nvmm_now_ns() + DOORBELL_CLIENT_ALIVE_NS;
	uint64_t stop_slice = DOORBELL_CLIENT_STOP_SLICE_MIN_NS;
	uint32_t ack;
	int ret, error = 0;

	for (;;) {
		__atomic_store_n(&db->client_waits, 1, __ATOMIC_SEQ_CST);  /* 3 */
		ack = __atomic_load_n(&db->ack, __ATOMIC_SEQ_CST);
		if (ack == w->seq || __atomic_load_n(&db->dead, __ATOMIC_SEQ_CST))
			break;
		doorbell_watch_stop(w);
		doorbell_timespec(&slice, w->stop != NULL ? stop_slice :
		    DOORBELL_CLIENT_ALIVE_NS);
		ret = nvmm_futex_wait(&db->ack, ack,
		    w->stop != NULL || w->alive != NULL ? &slice : NULL);
		if (stop_slice < DOORBELL_CLIENT_STOP_SLICE_MAX_NS)
			stop_slice *= 2;
		if (doorbell_answered(db, w->seq))
			break;
		if (ret == 0 || w->alive == NULL || nvmm_now_ns() < alive_at)
			continue;
		if (!w->alive()) {
			error = ENXIO;
			break;
		}
		alive_at = nvmm_now_ns() + DOORBELL_CLIENT_ALIVE_NS;
	}
	__atomic_store_n(&db->client_waits, 0, __ATOMIC_SEQ_CST);
	return error;
}

/* Spins for the answer, ringing the stop bell if a stop comes first. */
static bool
doorbell_spin_answer(struct doorbell_waiter *w)
{
	uint64_t end = nvmm_now_ns() + DOORBELL_CLIENT_SPIN_NS;

	while (doorbell_spin(&w->db->ack, w->seq - 1, w->stop, end)) {
		if (__atomic_load_n(&w->db->ack, __ATOMIC_ACQUIRE) != w->seq - 1)
			return true;
		doorbell_watch_stop(w);
	}
	return false;
}

static int
doorbell_wait(struct doorbell_waiter *w)
{
	int error;

	if (!doorbell_spin_answer(w) && (error = doorbell_sleep(w)) != 0)
		return error;
	if (__atomic_load_n(&w->db->ack, __ATOMIC_ACQUIRE) != w->seq)
		return ENOENT;		/* 4: the VCPU or its machine is gone */
	return w->db->error;
}

int
nvmm_doorbell_wait(struct nvmm_doorbell *db, uint32_t seq,
    bool (*alive)(void))
{
	struct doorbell_waiter w = { db, seq, alive, NULL, -1 };

	return doorbell_wait(&w);
}

int
nvmm_doorbell_wait_run(struct nvmm_doorbell *db, uint32_t seq,
    bool (*alive)(void), const volatile int *stop, int bell)
{
	struct doorbell_waiter w = { db, seq, alive, bell >= 0 ? stop : NULL,
	    bell };

	return doorbell_wait(&w);
}

/* -------------------------------------------------------------------------- */
/* The daemon's half. */

static void
doorbell_sleep_daemon(struct nvmm_doorbell *db, uint32_t wake,
    atomic_bool *quit)
{
	__atomic_store_n(&db->daemon_waits, 1, __ATOMIC_SEQ_CST);	/* 2 */
	if (__atomic_load_n(&db->wake, __ATOMIC_SEQ_CST) == wake &&
	    !atomic_load(quit))
		nvmm_futex_wait(&db->wake, wake, NULL);
	__atomic_store_n(&db->daemon_waits, 0, __ATOMIC_SEQ_CST);
}

bool
nvmm_doorbell_next(struct nvmm_doorbell *db, uint32_t served,
    atomic_bool *quit, uint32_t *seqp)
{
	uint32_t wake, seq;

	for (;;) {
		wake = __atomic_load_n(&db->wake, __ATOMIC_SEQ_CST);
		if (atomic_load(quit))
			return false;
		seq = __atomic_load_n(&db->seq, __ATOMIC_ACQUIRE);	/* 1 */
		if (seq != served) {
			*seqp = seq;
			return true;
		}
		if (served == 0 ||
		    !nvmm_spin_while(&db->wake, wake, DOORBELL_DAEMON_SPIN_NS))
			doorbell_sleep_daemon(db, wake, quit);
	}
}

void
nvmm_doorbell_answer(struct nvmm_doorbell *db, uint32_t seq, int error,
    bool done)
{
	db->error = error;
	db->done = done;
	__atomic_store_n(&db->ack, seq, __ATOMIC_SEQ_CST);		/* 3 */
	if (__atomic_load_n(&db->client_waits, __ATOMIC_SEQ_CST))
		nvmm_futex_wake(&db->ack);
}

void
nvmm_doorbell_close(struct nvmm_doorbell *db, uint32_t served)
{
	uint32_t seq;

	__atomic_store_n(&db->dead, 1, __ATOMIC_SEQ_CST);		/* 4 */
	seq = __atomic_load_n(&db->seq, __ATOMIC_SEQ_CST);
	if (seq != served)
		nvmm_doorbell_answer(db, seq, ENOENT, false);
}

void
nvmm_doorbell_poke(struct nvmm_doorbell *db)
{
	__atomic_fetch_add(&db->wake, 1, __ATOMIC_SEQ_CST);		/* 2 */
	nvmm_futex_wake(&db->wake);
}
