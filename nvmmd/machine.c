/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * A worker's machines as it sees them: what each is charged (by the
 * parent, to the client's uid: worker.c) and the VCPU threads that run it
 * (vcpu.c), over kernel/'s machine table, which alone says whether a
 * machine exists, who owns it and what it has done (NVMM_CTL).  Each
 * request that makes a machine, a VCPU or guest RAM is one call here,
 * which charges before it acts and refunds what it took when the act
 * fails; a machine's id comes from the parent with its charge.  A machine
 * ends in kernel/ (destroy, MACH_KILL, its owner's close), which calls
 * machine_gone.
 *
 * A charge waits for the parent, which may meanwhile have this worker
 * answer a query, a MACH_KILL among them: so after a charge the machine
 * is looked up again.
 *
 * The table belongs to the event loop; a VCPU thread only reads its own
 * record (struct nvmmd_vcpu).  Before kernel/ destroys a machine or a
 * VCPU, its threads are stopped: they read the comm pages that go with it.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "nvmmd.h"

/* What the daemon keeps of a machine beside kernel/'s own record. */
struct nvmmd_machine {
	bool present;
	uid_t uid;			/* who created it, and is charged */
	uint64_t ram;			/* bytes of hva_map, for the limits */
	struct nvmmd_vcpu *vcpus[NVMM_MAX_VCPUS];
};

static struct nvmmd_machine machines[NVMM_MAX_MACHINES];

/* The record of a machine owner may operate, or kernel/'s errno. */
static int
machine_find(struct nvmm_owner *owner, nvmm_machid_t machid,
    struct nvmmd_machine **mp)
{
	int error;

	error = nvmm_kern_machine_access(owner, machid);
	if (error == 0)
		*mp = &machines[machid];
	return error;
}

/* Who made it, as NVMM_CTL_MACH_OWNER will say it. */
static void
machine_log_creator(struct nvmm_owner *owner, nvmm_machid_t machid)
{
	struct nvmm_ctl_mach_owner info;

	memset(&info, 0, sizeof(info));
	info.machid = machid;
	if (nvmm_kern_ctl(owner, NVMM_CTL_MACH_OWNER, &info,
	    sizeof(info)) != 0)
		return;
	info.comm[sizeof(info.comm) - 1] = '\0';
	log_debug("machine %u: made by pid %d uid %u (%s)", (unsigned)machid,
	    (int)info.pid, (unsigned)info.uid, info.comm);
}

/* A new machine and a descriptor of its comm memfd, for the client. */
int
machine_create(struct nvmm_owner *owner, const struct nvmmd_peer *peer,
    nvmm_machid_t *machidp, int *fdp)
{
	struct nvmmd_machine *m;
	nvmm_machid_t machid;
	int error;

	/* The id, and the charge of a machine and its comm memfd. */
	error = worker_reserve(&machid);
	if (error)
		return error;
	error = nvmm_kern_machine_create_at(owner, machid);
	if (error)
		goto out;
	error = nvmm_kern_machine_comm_fd(owner, machid, fdp);
	if (error) {
		/* Not yet recorded: the hook finds nothing to give back. */
		nvmm_kern_machine_destroy(owner, machid);
		goto out;
	}
	m = &machines[machid];
	memset(m, 0, sizeof(*m));
	m->present = true;
	m->uid = peer->uid;
	*machidp = machid;
	machine_log_creator(owner, machid);
	return 0;
out:
	worker_release(machid);
	return error;
}

/* Waits for a cancelled VCPU's thread, and gives back its charge. */
static void
machine_vcpu_join(struct nvmmd_machine *m, nvmm_cpuid_t cpuid)
{
	vcpu_join(m->vcpus[cpuid]);
	m->vcpus[cpuid] = NULL;
	worker_refund(NVMMD_LIMIT_VCPUS, 1);
}

/* All of them are told first, so that they end together. */
static void
machine_stop_vcpus(struct nvmmd_machine *m)
{
	nvmm_cpuid_t cpuid;

	for (cpuid = 0; cpuid < NVMM_MAX_VCPUS; cpuid++)
		if (m->vcpus[cpuid] != NULL)
			vcpu_cancel(m->vcpus[cpuid]);
	for (cpuid = 0; cpuid < NVMM_MAX_VCPUS; cpuid++)
		if (m->vcpus[cpuid] != NULL)
			machine_vcpu_join(m, cpuid);
}

/*
 * kernel/ tells of a machine that goes, whoever ended it and how: its
 * threads stop before kernel/ unmaps the comm pages they read, and what
 * it was charged is given back.
 */
static void
machine_gone(nvmm_machid_t machid)
{
	struct nvmmd_machine *m = &machines[machid];

	machine_stop_vcpus(m);
	if (!m->present)
		return;
	worker_refund(NVMMD_LIMIT_RAM, m->ram);
	worker_refund(NVMMD_LIMIT_MAPPED, m->ram);
	worker_release(machid);
	m->present = false;
}

void
machines_init(void)
{
	nvmm_kern_set_destroy_hook(machine_gone);
}

/* -------------------------------------------------------------------------- */

/*
 * A VCPU is charged before kernel/ makes it: a KVM VCPU cannot be
 * destroyed, so one made and then refused would stay behind, parked, for
 * as long as the machine lives.  kernel/'s EPERM, ENOENT and EINVAL come
 * before the limit's ENOBUFS, as if it were the driver's own limit.
 * *bellfdp: the VCPU's stop bell, for the client (vcpu.c).
 */
int
machine_vcpu_create(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid, int *bellfdp)
{
	struct nvmmd_machine *m;
	int error;

	error = machine_find(owner, machid, &m);
	if (error)
		return error;
	if (cpuid >= NVMM_MAX_VCPUS)
		return EINVAL;
	error = worker_charge(NVMMD_LIMIT_VCPUS, 1);
	if (error)
		return error;
	error = machine_find(owner, machid, &m);
	if (error == 0)
		error = nvmm_kern_vcpu_create(owner, machid, cpuid);
	if (error)
		goto out;
	error = vcpu_start(owner, machid, cpuid, &m->vcpus[cpuid]);
	if (error == 0 && (error = vcpu_bell_fd(m->vcpus[cpuid], bellfdp)) != 0) {
		vcpu_cancel(m->vcpus[cpuid]);
		vcpu_join(m->vcpus[cpuid]);
		m->vcpus[cpuid] = NULL;
	}
	if (error)
		nvmm_kern_vcpu_destroy(owner, machid, cpuid);
out:
	if (error)
		worker_refund(NVMMD_LIMIT_VCPUS, 1);
	return error;
}

int
machine_vcpu_destroy(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid)
{
	struct nvmmd_machine *m;
	int error;

	error = machine_find(owner, machid, &m);
	if (error)
		return error;
	if (cpuid < NVMM_MAX_VCPUS && m->vcpus[cpuid] != NULL) {
		vcpu_cancel(m->vcpus[cpuid]);
		machine_vcpu_join(m, cpuid);
	}
	return nvmm_kern_vcpu_destroy(owner, machid, cpuid);
}

/* -------------------------------------------------------------------------- */

/*
 * Guest RAM is charged to the machine's creator, whoever maps it, as RAM
 * and as the daemon's address space that maps it, before it is mapped.
 */
int
machine_hva_map(struct nvmm_owner *owner, nvmm_machid_t machid,
    uintptr_t hva, size_t size, int memfd, off_t offset)
{
	struct nvmmd_machine *m;
	int error;

	error = machine_find(owner, machid, &m);
	if (error)
		return error;
	error = worker_charge(NVMMD_LIMIT_RAM, size);
	if (error)
		return error;
	error = worker_charge(NVMMD_LIMIT_MAPPED, size);
	if (error)
		goto out_ram;
	error = machine_find(owner, machid, &m);
	if (error == 0)
		error = nvmm_kern_hva_map(owner, machid, hva, size, memfd,
		    offset);
	if (error)
		goto out_mapped;
	m->ram += size;
	return 0;
out_mapped:
	worker_refund(NVMMD_LIMIT_MAPPED, size);
out_ram:
	worker_refund(NVMMD_LIMIT_RAM, size);
	return error;
}

int
machine_hva_unmap(struct nvmm_owner *owner, nvmm_machid_t machid,
    uintptr_t hva, size_t size)
{
	struct nvmmd_machine *m;
	int error;

	error = nvmm_kern_hva_unmap(owner, machid, hva, size);
	if (error)
		return error;
	m = &machines[machid];
	size = size < m->ram ? size : m->ram;
	m->ram -= size;
	worker_refund(NVMMD_LIMIT_RAM, size);
	worker_refund(NVMMD_LIMIT_MAPPED, size);
	return 0;
}
