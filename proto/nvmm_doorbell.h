/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The doorbell: how a client and the daemon's VCPU thread hand a VCPU
 * operation across without a system call in the common case.  It lives in
 * each VCPU's slot (proto/nvmm_slot.h), in memory both processes map.
 * Both halves of the protocol and its ordering rules are in
 * proto/nvmm_doorbell.c; nobody else touches these words.
 */
#ifndef NVMM_DOORBELL_H
#define NVMM_DOORBELL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <nvmm/nvmm_dev.h>

#define NVMM_DOORBELL_CONF_MAX	64

enum nvmm_doorbell_op {
	NVMM_DOORBELL_RUN = 1,
	NVMM_DOORBELL_GETSTATE,		/* the groups in comm->state_wanted */
	NVMM_DOORBELL_COMPLETE,		/* the assists' data phase is done */
	NVMM_DOORBELL_CONFIGURE,	/* conf_op with conf */
};

struct nvmm_doorbell {
	uint32_t wake;		/* futex: bumped by whoever gives work */
	uint32_t seq;		/* client: the number of its request */
	uint32_t op;		/* client: enum nvmm_doorbell_op */
	uint32_t client_waits;	/* client: asleep on ack */
	uint32_t ack;		/* futex; daemon: the number of the request done */
	uint32_t daemon_waits;	/* daemon: asleep on wake */
	int32_t error;		/* daemon: 0 or the errno of the request */
	uint32_t done;		/* daemon, COMPLETE: the instruction finished */
	uint32_t dead;		/* daemon: the VCPU is gone; nobody answers */
	uint32_t pad;
	uint64_t conf_op;
	uint8_t conf[NVMM_DOORBELL_CONF_MAX];
	struct nvmm_vcpu_exit exit;	/* daemon, RUN: the exit */
};

/* The monotonic clock, in ns: kernel/, the daemon, the client, bench. */
static inline uint64_t
nvmm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
/* Spins while *word == value, at most budget_ns; true if it moved. */
bool	nvmm_spin_while(const uint32_t *word, uint32_t value,
	    uint64_t budget_ns);

/*
 * The client's half.  The caller writes op (and conf_op, conf) and then
 * rings; one request at a time per doorbell (the caller's lock).
 * nvmm_doorbell_wait returns the request's errno, ENOENT if the VCPU is
 * gone, or ENXIO when alive() (asked every 100 ms of sleep) says the
 * daemon is; with alive NULL, the sleep has no timeout.  Signals do not
 * end the wait.  nvmm_doorbell_wait_run is the wait for a RUN: it also
 * watches *stop, the comm page's stop word, and when a stop is asked for
 * it writes the VCPU's stop bell, an eventfd the daemon gave, once
 * (proto/nvmm_doorbell.c, rule 5).  With bell -1 it is the plain wait.
 */
uint32_t nvmm_doorbell_ring(struct nvmm_doorbell *db);
int	nvmm_doorbell_wait(struct nvmm_doorbell *db, uint32_t seq,
	    bool (*alive)(void));
int	nvmm_doorbell_wait_run(struct nvmm_doorbell *db, uint32_t seq,
	    bool (*alive)(void), const volatile int *stop, int bell);

/*
 * The daemon's half, for the one thread that serves the doorbell.
 * nvmm_doorbell_next waits for the request after `served' (0 before the
 * first, which it sleeps for without spinning) and returns true with its
 * number, or false once *quit is set; nvmm_doorbell_answer
 * publishes the answer; nvmm_doorbell_close marks the doorbell dead and
 * answers a request in flight with ENOENT.  nvmm_doorbell_poke, from any
 * thread, makes a waiting nvmm_doorbell_next look at *quit again.
 */
bool	nvmm_doorbell_next(struct nvmm_doorbell *db, uint32_t served,
	    atomic_bool *quit, uint32_t *seqp);
void	nvmm_doorbell_answer(struct nvmm_doorbell *db, uint32_t seq,
	    int error, bool done);
void	nvmm_doorbell_close(struct nvmm_doorbell *db, uint32_t served);
void	nvmm_doorbell_poke(struct nvmm_doorbell *db);

#endif /* NVMM_DOORBELL_H */
