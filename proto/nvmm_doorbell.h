/*
 * The doorbell: how a client and the daemon's VCPU thread hand a VCPU
 * operation across without a system call in the common case.  It lives in
 * each VCPU's comm page, after NetBSD's struct nvmm_comm_page and
 * kernel/'s access header, in memory both processes map.
 *
 * The client writes op (and conf), publishes seq+1 in seq, bumps wake and
 * wakes the daemon only if it sleeps; then spins on ack, and sleeps on it
 * (futex) if the answer is slow.  The daemon's VCPU thread spins on wake,
 * then sleeps on it; anything that gives it work (the client, the daemon
 * itself) bumps wake, so no wake-up is lost.  The daemon reads every word
 * once and trusts none: a client scribbling here only hurts its own VCPU.
 */
#ifndef NVMM_DOORBELL_H
#define NVMM_DOORBELL_H

#include <stdint.h>

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

#endif /* NVMM_DOORBELL_H */
