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
 * The daemon reads every word once and trusts none: a client scribbling
 * here only hurts its own VCPU.  Spinning first keeps the common case
 * (an answer within microseconds) free of system calls; sleeping after
 * a budget keeps an idle VCPU free of CPU.
 */
#include <errno.h>
#include <time.h>

#include "nvmm_doorbell.h"
#include "nvmm_futex.h"

/* How long the client spins for an answer before sleeping on it. */
#define DOORBELL_CLIENT_SPIN_NS		200000ULL
/* How often a sleeping client asks whether the daemon is still there. */
#define DOORBELL_CLIENT_SLEEP_NS	100000000L
/* How long the daemon spins for the next request before sleeping. */
#define DOORBELL_DAEMON_SPIN_NS		100000ULL

/* The clock is read once per 64 pauses: it costs more than a look. */
bool
nvmm_spin_while(const uint32_t *word, uint32_t value, uint64_t budget_ns)
{
	uint64_t end = nvmm_now_ns() + budget_ns;
	unsigned i;

	for (;;) {
		for (i = 0; i < 64; i++) {
			if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != value)
				return true;
			__builtin_ia32_pause();
		}
		if (nvmm_now_ns() >= end)
			return false;
	}
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

static bool
doorbell_answered(struct nvmm_doorbell *db, uint32_t seq)
{
	return __atomic_load_n(&db->ack, __ATOMIC_ACQUIRE) == seq ||
	    __atomic_load_n(&db->dead, __ATOMIC_ACQUIRE);
}

/* Sleeps until the answer; ENXIO if the daemon went away meanwhile. */
static int
doorbell_sleep(struct nvmm_doorbell *db, uint32_t seq, bool (*alive)(void))
{
	const struct timespec slice = { 0, DOORBELL_CLIENT_SLEEP_NS };
	uint32_t ack;
	int ret, error = 0;

	for (;;) {
		__atomic_store_n(&db->client_waits, 1, __ATOMIC_SEQ_CST);  /* 3 */
		ack = __atomic_load_n(&db->ack, __ATOMIC_SEQ_CST);
		if (ack == seq || __atomic_load_n(&db->dead, __ATOMIC_SEQ_CST))
			break;
		ret = nvmm_futex_wait(&db->ack, ack,
		    alive != NULL ? &slice : NULL);
		if (doorbell_answered(db, seq))
			break;
		if (ret == -1 && errno == ETIMEDOUT && !alive()) {
			error = ENXIO;
			break;
		}
	}
	__atomic_store_n(&db->client_waits, 0, __ATOMIC_SEQ_CST);
	return error;
}

int
nvmm_doorbell_wait(struct nvmm_doorbell *db, uint32_t seq,
    bool (*alive)(void))
{
	int error;

	if (!nvmm_spin_while(&db->ack, seq - 1, DOORBELL_CLIENT_SPIN_NS) &&
	    (error = doorbell_sleep(db, seq, alive)) != 0)
		return error;
	if (__atomic_load_n(&db->ack, __ATOMIC_ACQUIRE) != seq)
		return ENOENT;		/* 4: the VCPU or its machine is gone */
	return db->error;
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
		if (!nvmm_spin_while(&db->wake, wake, DOORBELL_DAEMON_SPIN_NS))
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
