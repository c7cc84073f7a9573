/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The VCPU calls: what NetBSD's comm page makes free stays free here
 * (setstate, inject, stop and a cached getstate touch only shared memory),
 * and what needs the kernel rings the VCPU's doorbell (run, getstate,
 * configuration, the assists' completion).
 */
#include <errno.h>
#include <string.h>

#include "nvmmc.h"

/* A configuration travels with its CONFIGURE request, under one lock. */
struct nvmmc_conf {
	uint64_t op;
	const void *data;
	size_t size;
};

static int
nvmmc_ring_with(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu,
    enum nvmm_doorbell_op op, const struct nvmmc_conf *conf)
{
	struct nvmmc_vcpu *v;
	struct nvmm_doorbell *db;
	uint32_t seq;
	int error;

	error = nvmmc_check_machine(mach);
	if (error)
		return error;
	if (vcpu->cpuid >= NVMM_MAX_VCPUS)
		return EINVAL;
	v = nvmmc_vcpu(mach, vcpu);
	if (!v->present)
		return ENOENT;
	db = v->db;

	pthread_mutex_lock(&v->lock);
	if (__atomic_load_n(&db->dead, __ATOMIC_SEQ_CST)) {
		pthread_mutex_unlock(&v->lock);
		return ENOENT;
	}
	db->op = op;
	if (conf != NULL) {
		db->conf_op = conf->op;
		memset(db->conf, 0, sizeof(db->conf));
		memcpy(db->conf, conf->data, conf->size);
	}
	seq = nvmm_doorbell_ring(db);
	if (op == NVMM_DOORBELL_RUN)
		error = nvmm_doorbell_wait_run(db, seq, nvmmc_connected,
		    &v->comm->stop, v->bell);
	else
		error = nvmm_doorbell_wait(db, seq, nvmmc_connected);
	pthread_mutex_unlock(&v->lock);
	return error;
}

int
nvmmc_ring(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu,
    enum nvmm_doorbell_op op)
{
	return nvmmc_ring_with(mach, vcpu, op, NULL);
}

/* The comm page of a VCPU this process created, or NULL. */
static struct nvmm_comm_page *
nvmmc_comm(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu, int *errorp)
{
	*errorp = nvmmc_check_machine(mach);
	if (*errorp)
		return NULL;
	if (vcpu->cpuid >= NVMM_MAX_VCPUS ||
	    mach->pages[vcpu->cpuid] == NULL) {
		*errorp = ENOENT;
		return NULL;
	}
	return mach->pages[vcpu->cpuid];
}

/* -------------------------------------------------------------------------- */

int
nvmm_vcpu_setstate(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu,
    uint64_t flags)
{
	struct nvmm_comm_page *comm;
	int error;

	comm = nvmmc_comm(mach, vcpu, &error);
	if (comm == NULL)
		return nvmmc_result(error);
	comm->state_commit |= flags;
	comm->state_cached |= flags;
	return 0;
}

int
nvmm_vcpu_getstate(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu,
    uint64_t flags)
{
	struct nvmm_comm_page *comm;
	int error;

	comm = nvmmc_comm(mach, vcpu, &error);
	if (comm == NULL)
		return nvmmc_result(error);
	if ((comm->state_cached & flags) == flags)
		return 0;
	comm->state_wanted = flags & ~comm->state_cached;
	return nvmmc_result(nvmmc_ring(mach, vcpu, NVMM_DOORBELL_GETSTATE));
}

int
nvmm_vcpu_inject(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu)
{
	struct nvmm_comm_page *comm;
	int error;

	comm = nvmmc_comm(mach, vcpu, &error);
	if (comm == NULL)
		return nvmmc_result(error);
	comm->event_commit = true;
	return 0;
}

int
nvmm_vcpu_run(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu)
{
	struct nvmmc_vcpu *v;
	int error;

	error = nvmmc_ring(mach, vcpu, NVMM_DOORBELL_RUN);
	if (error)
		return nvmmc_result(error);
	v = nvmmc_vcpu(mach, vcpu);
	memcpy(vcpu->exit, &v->db->exit, sizeof(*vcpu->exit));
	return 0;
}

/*
 * Async-signal-safe: one store, as on NetBSD.  The thread waiting in
 * nvmm_vcpu_run sees it and tells the daemon (proto/nvmm_doorbell.c).
 */
int
nvmm_vcpu_stop(struct nvmm_vcpu *vcpu)
{
	if (nvmmc_in_forked_child()) {
		errno = EPERM;
		return -1;
	}
	__atomic_store_n(vcpu->stop, 1, __ATOMIC_SEQ_CST);
	return 0;
}

int
nvmmc_complete(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu, bool *done)
{
	int error;

	error = nvmmc_ring(mach, vcpu, NVMM_DOORBELL_COMPLETE);
	*done = error == 0 && nvmmc_vcpu(mach, vcpu)->db->done;
	return error;
}

/* -------------------------------------------------------------------------- */

int
nvmm_vcpu_configure(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu,
    uint64_t op, void *conf)
{
	struct nvmmc_conf c;
	int error;

	error = nvmmc_check_machine(mach);
	if (error)
		return nvmmc_result(error);
	if (op == NVMM_VCPU_CONF_CALLBACKS) {
		memcpy(&vcpu->cbs, conf, sizeof(vcpu->cbs));
		return 0;
	}
	c.op = op;
	c.data = conf;
	c.size = nvmm_kern_vcpu_conf_size(op);	/* 0: the daemon refuses op */
	return nvmmc_result(nvmmc_ring_with(mach, vcpu,
	    NVMM_DOORBELL_CONFIGURE, &c));
}
