/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * NVMM_CTL, as NetBSD keeps it in the driver: NetBSD's MACH_INFO and
 * nvmmd's LIST, OWNER, VCPU_STATS, MACH_KILL and MACH_IDENT, answered
 * from the machine table and the VCPUs' statistics, and the whole host's
 * at once for nvmmd's HostStats.  The looks take only a
 * machine's reader lock, and none takes a VCPU's lock, which a run holds:
 * a look at a machine never waits on its guests.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "nvmm_internal.h"

/* NVMM's exit reason, as an index of the statistics. */
static unsigned
nvmm_stats_index(uint64_t reason)
{
	switch (reason) {
	case NVMM_VCPU_EXIT_NONE: return NVMM_CTL_STATS_EXIT_NONE;
	case NVMM_VCPU_EXIT_MEMORY: return NVMM_CTL_STATS_EXIT_MEMORY;
	case NVMM_VCPU_EXIT_IO: return NVMM_CTL_STATS_EXIT_IO;
	case NVMM_VCPU_EXIT_SHUTDOWN: return NVMM_CTL_STATS_EXIT_SHUTDOWN;
	case NVMM_VCPU_EXIT_INT_READY: return NVMM_CTL_STATS_EXIT_INT_READY;
	case NVMM_VCPU_EXIT_NMI_READY: return NVMM_CTL_STATS_EXIT_NMI_READY;
	case NVMM_VCPU_EXIT_HALTED: return NVMM_CTL_STATS_EXIT_HALTED;
	case NVMM_VCPU_EXIT_TPR_CHANGED: return NVMM_CTL_STATS_EXIT_TPR_CHANGED;
	case NVMM_VCPU_EXIT_RDMSR: return NVMM_CTL_STATS_EXIT_RDMSR;
	case NVMM_VCPU_EXIT_WRMSR: return NVMM_CTL_STATS_EXIT_WRMSR;
	case NVMM_VCPU_EXIT_MONITOR: return NVMM_CTL_STATS_EXIT_MONITOR;
	case NVMM_VCPU_EXIT_MWAIT: return NVMM_CTL_STATS_EXIT_MWAIT;
	case NVMM_VCPU_EXIT_CPUID: return NVMM_CTL_STATS_EXIT_CPUID;
	case NVMM_VCPU_EXIT_STOPPED: return NVMM_CTL_STATS_EXIT_STOPPED;
	default: return NVMM_CTL_STATS_EXIT_INVALID;
	}
}

/* A new life of the VCPU slot counts from zero. */
void
nvmm_stats_reset(struct nvmm_cpu *cpu)
{
	size_t i;

	__atomic_store_n(&cpu->nruns, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&cpu->run_ns, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&cpu->run_since, 0, __ATOMIC_RELAXED);
	for (i = 0; i < NVMM_CTL_STATS_NEXITS; i++)
		__atomic_store_n(&cpu->exits[i], 0, __ATOMIC_RELAXED);
}

uint64_t
nvmm_stats_enter(struct nvmm_cpu *cpu)
{
	uint64_t start = nvmm_now_ns();

	__atomic_store_n(&cpu->run_since, start, __ATOMIC_RELAXED);
	return start;
}

/*
 * Only the holder of the VCPU lock writes a counter, so an add needs no
 * locked instruction, which would wait for the counter's cache line
 * (cold after KVM_RUN) and drain every store before it; readers load each
 * counter whole.
 */
static void
nvmm_stats_add(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) +
	    n, __ATOMIC_RELAXED);
}

/* A run that failed (exit NULL) is no run: it had no exit to count. */
void
nvmm_stats_leave(struct nvmm_cpu *cpu, uint64_t start,
    const struct nvmm_vcpu_exit *exit)
{
	__atomic_store_n(&cpu->run_since, 0, __ATOMIC_RELAXED);
	if (exit == NULL)
		return;
	nvmm_stats_add(&cpu->nruns, 1);
	nvmm_stats_add(&cpu->run_ns, nvmm_now_ns() - start);
	nvmm_stats_add(&cpu->exits[nvmm_stats_index(exit->reason)], 1);
}

/* -------------------------------------------------------------------------- */

static int
nvmm_ctl_mach_info(struct nvmm_owner *owner, void *data)
{
	struct nvmm_ctl_mach_info info;
	struct nvmm_machine *mach;
	int error;

	memcpy(&info, data, sizeof(info));
	error = nvmm_machine_get(owner, info.machid, false, &mach);
	if (error)
		return error;
	info.nvcpus = atomic_load(&mach->ncpus);
	info.nram = nvmm_mem_nram(mach);
	info.pid = mach->owner->pid;
	info.time = mach->created.tv_sec;
	nvmm_machine_put(mach);
	memcpy(data, &info, sizeof(info));
	return 0;
}

static int
nvmm_ctl_mach_list(struct nvmm_owner *owner, void *data)
{
	struct nvmm_ctl_mach_list list;
	struct nvmm_machine *mach;
	nvmm_machid_t machid;

	memset(&list, 0, sizeof(list));
	for (machid = 0; machid < NVMM_MAX_MACHINES; machid++) {
		if (nvmm_machine_get(owner, machid, false, &mach) != 0)
			continue;
		list.machids[machid / 64] |= 1ULL << (machid % 64);
		nvmm_machine_put(mach);
	}
	memcpy(data, &list, sizeof(list));
	return 0;
}

static int
nvmm_ctl_mach_owner(struct nvmm_owner *owner, void *data)
{
	struct nvmm_ctl_mach_owner info;
	struct nvmm_machine *mach;
	int error;

	memcpy(&info, data, sizeof(info));
	error = nvmm_machine_get(owner, info.machid, false, &mach);
	if (error)
		return error;
	info.uid = mach->owner->uid;
	info.pid = mach->owner->pid;
	memcpy(info.comm, mach->comm, sizeof(info.comm));
	nvmm_machine_put(mach);
	memcpy(data, &info, sizeof(info));
	return 0;
}

/* A VCPU's counters so far, the run under way included in its time. */
static void
nvmm_stats_read(struct nvmm_cpu *cpu, struct nvmm_ctl_host_vcpu *v)
{
	uint64_t since;
	size_t i;

	since = __atomic_load_n(&cpu->run_since, __ATOMIC_RELAXED);
	v->run_ns = __atomic_load_n(&cpu->run_ns, __ATOMIC_RELAXED);
	if (since != 0)
		v->run_ns += nvmm_now_ns() - since;
	v->nruns = __atomic_load_n(&cpu->nruns, __ATOMIC_RELAXED);
	for (i = 0; i < NVMM_CTL_STATS_NEXITS; i++)
		v->exits[i] = __atomic_load_n(&cpu->exits[i],
		    __ATOMIC_RELAXED);
}

static int
nvmm_ctl_vcpu_stats(struct nvmm_owner *owner, void *data)
{
	struct nvmm_ctl_vcpu_stats st;
	struct nvmm_ctl_host_vcpu v;
	struct nvmm_machine *mach;
	struct nvmm_cpu *cpu;
	int error;

	memcpy(&st, data, sizeof(st));
	error = nvmm_machine_get(owner, st.machid, false, &mach);
	if (error)
		return error;
	if (st.cpuid >= NVMM_MAX_VCPUS) {
		error = EINVAL;
		goto out;
	}
	cpu = nvmm_cpu_slot(mach, st.cpuid);
	if (cpu == NULL || !__atomic_load_n(&cpu->present, __ATOMIC_ACQUIRE)) {
		error = ENOENT;
		goto out;
	}
	nvmm_stats_read(cpu, &v);
	st.nruns = v.nruns;
	st.run_ns = v.run_ns;
	memcpy(st.exits, v.exits, sizeof(st.exits));
	memcpy(data, &st, sizeof(st));
out:
	nvmm_machine_put(mach);
	return error;
}

static int
nvmm_ctl_mach_ident(struct nvmm_owner *owner, void *data)
{
	struct nvmm_ctl_mach_ident id;
	struct nvmm_machine *mach;
	int error;

	memcpy(&id, data, sizeof(id));
	error = nvmm_machine_get(owner, id.machid, false, &mach);
	if (error)
		return error;
	id.created_sec = mach->created.tv_sec;
	id.created_nsec = (uint32_t)mach->created.tv_nsec;
	memcpy(id.uuid, mach->uuid, sizeof(id.uuid));
	nvmm_machine_put(mach);
	memcpy(data, &id, sizeof(id));
	return 0;
}

static int
nvmm_ctl_mach_kill(struct nvmm_owner *owner, void *data)
{
	struct nvmm_ctl_mach_kill kill;

	memcpy(&kill, data, sizeof(kill));
	return nvmm_kern_machine_destroy(owner, kill.machid);
}

/* -------------------------------------------------------------------------- */

/* Each op's handler and the size its data must have, as NetBSD demands. */
static const struct {
	int op;
	size_t size;
	int (*fn)(struct nvmm_owner *, void *);
} nvmm_ctl_ops[] = {
	{ NVMM_CTL_MACH_INFO, sizeof(struct nvmm_ctl_mach_info),
	    nvmm_ctl_mach_info },
	{ NVMM_CTL_MACH_LIST, sizeof(struct nvmm_ctl_mach_list),
	    nvmm_ctl_mach_list },
	{ NVMM_CTL_MACH_OWNER, sizeof(struct nvmm_ctl_mach_owner),
	    nvmm_ctl_mach_owner },
	{ NVMM_CTL_VCPU_STATS, sizeof(struct nvmm_ctl_vcpu_stats),
	    nvmm_ctl_vcpu_stats },
	{ NVMM_CTL_MACH_KILL, sizeof(struct nvmm_ctl_mach_kill),
	    nvmm_ctl_mach_kill },
	{ NVMM_CTL_MACH_IDENT, sizeof(struct nvmm_ctl_mach_ident),
	    nvmm_ctl_mach_ident },
};

size_t
nvmm_kern_ctl_size(int op)
{
	size_t i;

	for (i = 0; i < sizeof(nvmm_ctl_ops) / sizeof(nvmm_ctl_ops[0]); i++)
		if (nvmm_ctl_ops[i].op == op)
			return nvmm_ctl_ops[i].size;
	return 0;
}

int
nvmm_kern_ctl(struct nvmm_owner *owner, int op, void *data, size_t size)
{
	size_t i;

	for (i = 0; i < sizeof(nvmm_ctl_ops) / sizeof(nvmm_ctl_ops[0]); i++) {
		if (nvmm_ctl_ops[i].op != op)
			continue;
		if (size != nvmm_ctl_ops[i].size)
			return EINVAL;
		return nvmm_ctl_ops[i].fn(owner, data);
	}
	return EINVAL;
}

/* -------------------------------------------------------------------------- */

static void
nvmm_host_mach(struct nvmm_machine *mach, struct nvmm_ctl_host_mach *m)
{
	memset(m, 0, sizeof(*m));
	m->machid = mach->machid;
	m->nvcpus = atomic_load(&mach->ncpus);
	m->uid = mach->owner->uid;
	m->pid = mach->owner->pid;
	m->created_sec = mach->created.tv_sec;
	m->created_nsec = (uint32_t)mach->created.tv_nsec;
	memcpy(m->uuid, mach->uuid, sizeof(m->uuid));
	memcpy(m->comm, mach->comm, sizeof(m->comm));
	m->nram = nvmm_mem_nram(mach);
}

/* The machine's VCPUs, from vcpus[*n] on while there is room. */
static void
nvmm_host_vcpus(struct nvmm_machine *mach, struct nvmm_kern_host *h)
{
	struct nvmm_ctl_host_vcpu *v;
	struct nvmm_cpu *cpu;
	size_t i;

	for (i = 0; i < NVMM_MAX_VCPUS; i++) {
		cpu = nvmm_cpu_slot(mach, (nvmm_cpuid_t)i);
		if (cpu == NULL ||
		    !__atomic_load_n(&cpu->present, __ATOMIC_ACQUIRE))
			continue;
		if (h->nvcpus < h->maxvcpus) {
			v = &h->vcpus[h->nvcpus];
			memset(v, 0, sizeof(*v));
			v->machid = mach->machid;
			v->cpuid = cpu->cpuid;
			nvmm_stats_read(cpu, v);
		}
		h->nvcpus++;
	}
}

int
nvmm_kern_host_stats(struct nvmm_owner *owner, struct nvmm_kern_host *h)
{
	struct nvmm_machine *mach;
	nvmm_machid_t machid;

	h->nmachs = h->nvcpus = 0;
	for (machid = 0; machid < NVMM_MAX_MACHINES; machid++) {
		if (nvmm_machine_get(owner, machid, false, &mach) != 0)
			continue;
		if (h->nmachs < h->maxmachs)
			nvmm_host_mach(mach, &h->machs[h->nmachs]);
		h->nmachs++;
		nvmm_host_vcpus(mach, h);
		nvmm_machine_put(mach);
	}
	return h->nmachs > h->maxmachs || h->nvcpus > h->maxvcpus ?
	    ENOSPC : 0;
}
