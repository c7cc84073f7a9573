/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Machines, VCPUs, memory and ctl: the libnvmm calls that are requests to
 * the daemon.  Guest memory is the NetBSD kind: nvmm_hva_map() replaces
 * the caller's range with fresh zeroed shared memory (a sealed memfd,
 * mapped MAP_FIXED), and the daemon maps the same memfd.
 */
#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmmc.h"

#define NVMMC_COMM_SIZE		NVMM_SLOTS_SIZE

int
nvmm_capability(struct nvmm_capability *cap)
{
	int error;

	error = nvmmc_check();
	if (error == 0)
		memcpy(cap, &nvmmc_cap, sizeof(*cap));
	return nvmmc_result(error);
}

/* -------------------------------------------------------------------------- */

static struct nvmmc_machine *
nvmmc_machine_alloc(void)
{
	struct nvmmc_machine *m;
	size_t i;

	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	LIST_INIT(&m->areas);
	for (i = 0; i < NVMM_MAX_VCPUS; i++) {
		pthread_mutex_init(&m->vcpus[i].lock, NULL);
		m->vcpus[i].bell = -1;
	}
	m->generation = nvmmc_generation;
	return m;
}

static void
nvmmc_machine_free(struct nvmmc_machine *m)
{
	struct nvmmc_area *a;
	size_t i;

	while ((a = LIST_FIRST(&m->areas)) != NULL) {
		LIST_REMOVE(a, link);
		free(a);
	}
	if (m->comm != NULL)
		munmap(m->comm, m->commsize);
	for (i = 0; i < NVMM_MAX_VCPUS; i++) {
		free(m->vcpus[i].exit);
		if (m->vcpus[i].bell != -1)
			close(m->vcpus[i].bell);
		pthread_mutex_destroy(&m->vcpus[i].lock);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/*
 * The comm pages are this process's alone: a forked child does not get
 * them, so it cannot drive its parent's VCPUs by accident.
 */
static int
nvmmc_comm_map(struct nvmmc_machine *m, int fd)
{
	void *p;

	p = mmap(NULL, NVMMC_COMM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (p == MAP_FAILED)
		return ENOMEM;
	madvise(p, NVMMC_COMM_SIZE, MADV_DONTFORK);
	m->comm = p;
	m->commsize = NVMMC_COMM_SIZE;
	return 0;
}

int
nvmm_machine_create(struct nvmm_machine *mach)
{
	struct nvmm_comm_page **pages;
	struct nvmmc_machine *m;
	nvmm_machid_t machid;
	int error, fd = -1;

	m = nvmmc_machine_alloc();
	pages = calloc(NVMM_MAX_VCPUS, sizeof(*pages));
	if (m == NULL || pages == NULL) {
		error = ENOMEM;
		goto out;
	}
	error = nvmmc_check();
	if (error == 0)
		error = nvmm_rpc_machine_create(&nvmmc_rpc, &machid, &fd);
	if (error == 0)
		error = nvmmc_comm_map(m, fd);
	if (error)
		goto out;
	memset(mach, 0, sizeof(*mach));
	mach->machid = machid;
	close(fd);
	mach->pages = pages;
	mach->areas = m;
	return 0;
out:
	if (fd != -1)
		close(fd);
	free(pages);
	if (m != NULL)
		nvmmc_machine_free(m);
	return nvmmc_result(error);
}

int
nvmm_machine_destroy(struct nvmm_machine *mach)
{
	int error;

	error = nvmmc_check_machine(mach);
	if (error)
		return nvmmc_result(error);
	error = nvmm_rpc_machine_destroy(&nvmmc_rpc, mach->machid);
	/*
	 * ENOENT: the machine is already gone (an administrator killed it);
	 * what this process keeps of it goes too, and the caller is told.
	 */
	if (error != 0 && error != ENOENT)
		return nvmmc_result(error);
	nvmmc_machine_free(nvmmc_machine(mach));
	free(mach->pages);
	mach->pages = NULL;
	mach->areas = NULL;
	return nvmmc_result(error);
}

/* x86 has no machine configuration: the daemon refuses every op. */
int
nvmm_machine_configure(struct nvmm_machine *mach, uint64_t op, void *conf)
{
	int error;

	(void)conf;
	error = nvmmc_check_machine(mach);
	if (error == 0)
		error = nvmm_rpc_machine_configure(&nvmmc_rpc, mach->machid, op,
		    NULL, 0);
	return nvmmc_result(error);
}

/* -------------------------------------------------------------------------- */

static void
nvmmc_vcpu_attach(struct nvmm_machine *mach, nvmm_cpuid_t cpuid,
    struct nvmm_vcpu *vcpu, struct nvmm_vcpu_exit *exit, int bell)
{
	struct nvmmc_vcpu *v = &nvmmc_machine(mach)->vcpus[cpuid];
	struct nvmm_slot *slot = nvmm_slot(nvmmc_machine(mach)->comm, cpuid);

	v->comm = &slot->comm;
	v->db = &slot->doorbell;
	v->access = &slot->access;
	v->data = slot->data;
	v->exit = exit;
	v->bell = bell;
	v->present = true;
	mach->pages[cpuid] = v->comm;

	/* As libnvmm: the callbacks are the caller's to set. */
	vcpu->cpuid = cpuid;
	vcpu->state = &v->comm->state;
	vcpu->event = &v->comm->event;
	vcpu->stop = &v->comm->stop;
	vcpu->exit = exit;
}

int
nvmm_vcpu_create(struct nvmm_machine *mach, nvmm_cpuid_t cpuid,
    struct nvmm_vcpu *vcpu)
{
	struct nvmm_vcpu_exit *exit;
	int error, bell = -1;

	error = nvmmc_check_machine(mach);
	if (error)
		return nvmmc_result(error);
	exit = calloc(1, sizeof(*exit));
	if (exit == NULL)
		return nvmmc_result(ENOMEM);
	error = nvmm_rpc_vcpu_create_bell(&nvmmc_rpc, mach->machid, cpuid,
	    &bell);
	if (error == 0 && cpuid >= NVMM_MAX_VCPUS)
		error = EPROTO;
	if (error) {
		if (bell != -1)
			close(bell);
		free(exit);
		return nvmmc_result(error);
	}
	nvmmc_vcpu_attach(mach, cpuid, vcpu, exit, bell);
	return 0;
}

int
nvmm_vcpu_destroy(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu)
{
	struct nvmmc_vcpu *v;
	int error;

	error = nvmmc_check_machine(mach);
	if (error)
		return nvmmc_result(error);
	error = nvmm_rpc_vcpu_destroy(&nvmmc_rpc, mach->machid, vcpu->cpuid);
	if (error)
		return nvmmc_result(error);
	if (vcpu->cpuid < NVMM_MAX_VCPUS) {
		v = nvmmc_vcpu(mach, vcpu);
		v->present = false;
		v->exit = NULL;
		if (v->bell != -1)
			close(v->bell);
		v->bell = -1;
		mach->pages[vcpu->cpuid] = NULL;
	}
	free(vcpu->exit);
	vcpu->exit = NULL;
	return 0;
}

/* -------------------------------------------------------------------------- */

static bool
nvmmc_range_ok(uint64_t start, uint64_t size)
{
	return size != 0 && start + size > start &&
	    !(start & NVMM_PAGE_MASK) && !(size & NVMM_PAGE_MASK);
}

static int
nvmmc_memfd(size_t size, int *fdp)
{
	int fd;

	fd = memfd_create("nvmm-guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1)
		return ENOMEM;
	if (ftruncate(fd, (off_t)size) == -1 || fcntl(fd, F_ADD_SEALS,
	    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == -1) {
		close(fd);
		return ENOMEM;
	}
	*fdp = fd;
	return 0;
}

/*
 * The daemon validates and maps first; only then is the caller's range
 * replaced, so that a refused map leaves the caller's memory alone.
 */
int
nvmm_hva_map(struct nvmm_machine *mach, uintptr_t hva, size_t size)
{
	int error, fd;
	void *p;

	error = nvmmc_check_machine(mach);
	if (error)
		return nvmmc_result(error);
	if (hva == 0 || !nvmmc_range_ok(hva, size))
		return nvmmc_result(EINVAL);
	error = nvmmc_memfd(size, &fd);
	if (error)
		return nvmmc_result(error);
	error = nvmm_rpc_hva_map(&nvmmc_rpc, mach->machid, hva, size, fd);
	if (error == 0) {
		p = mmap((void *)hva, size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_FIXED, fd, 0);
		if (p == MAP_FAILED) {
			nvmm_rpc_hva_unmap(&nvmmc_rpc, mach->machid, hva, size);
			error = ENOMEM;
		}
	}
	close(fd);
	return nvmmc_result(error);
}

int
nvmm_hva_unmap(struct nvmm_machine *mach, uintptr_t hva, size_t size)
{
	int error;

	error = nvmmc_check_machine(mach);
	if (error == 0)
		error = nvmm_rpc_hva_unmap(&nvmmc_rpc, mach->machid, hva, size);
	if (error == 0)
		munmap((void *)hva, size);
	return nvmmc_result(error);
}

/* -------------------------------------------------------------------------- */

static struct nvmmc_area *
nvmmc_area_overlapping(struct nvmmc_machine *m, gpaddr_t gpa, size_t size)
{
	struct nvmmc_area *a;

	LIST_FOREACH(a, &m->areas, link)
		if (gpa < a->gpa + a->size && a->gpa < gpa + size)
			return a;
	return NULL;
}

/*
 * As libnvmm: overlapping areas are refused here.  Where libnvmm aborts
 * the process when the kernel refuses the map, this returns the error.
 */
int
nvmm_gpa_map(struct nvmm_machine *mach, uintptr_t hva, gpaddr_t gpa,
    size_t size, int prot)
{
	struct nvmmc_machine *m;
	struct nvmmc_area *a;
	int error;

	error = nvmmc_check_machine(mach);
	if (error)
		return nvmmc_result(error);
	m = nvmmc_machine(mach);
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return nvmmc_result(ENOMEM);
	a->gpa = gpa;
	a->hva = hva;
	a->size = size;
	a->prot = (nvmm_prot_t)prot & (NVMM_PROT_READ | NVMM_PROT_WRITE |
	    NVMM_PROT_EXEC);

	pthread_mutex_lock(&m->lock);
	if (nvmmc_area_overlapping(m, gpa, size) != NULL) {
		error = EINVAL;
	} else {
		error = nvmm_rpc_gpa_map(&nvmmc_rpc, mach->machid, hva, gpa,
		    size, prot);
		if (error == 0)
			LIST_INSERT_HEAD(&m->areas, a, link);
	}
	pthread_mutex_unlock(&m->lock);
	if (error)
		free(a);
	return nvmmc_result(error);
}

int
nvmm_gpa_unmap(struct nvmm_machine *mach, uintptr_t hva, gpaddr_t gpa,
    size_t size)
{
	struct nvmmc_machine *m;
	struct nvmmc_area *a;
	int error;

	error = nvmmc_check_machine(mach);
	if (error)
		return nvmmc_result(error);
	m = nvmmc_machine(mach);
	pthread_mutex_lock(&m->lock);
	LIST_FOREACH(a, &m->areas, link)
		if (a->hva == hva && a->gpa == gpa && a->size == size)
			break;
	if (a == NULL) {
		error = ESRCH;
	} else {
		error = nvmm_rpc_gpa_unmap(&nvmmc_rpc, mach->machid, gpa,
		    size);
		if (error == 0) {
			LIST_REMOVE(a, link);
			free(a);
		}
	}
	pthread_mutex_unlock(&m->lock);
	return nvmmc_result(error);
}

int
nvmmc_area_lookup(struct nvmm_machine *mach, gpaddr_t gpa, uintptr_t *hva,
    nvmm_prot_t *prot, size_t *left)
{
	struct nvmmc_machine *m = nvmmc_machine(mach);
	struct nvmmc_area *a;
	int error = ENOENT;

	pthread_mutex_lock(&m->lock);
	LIST_FOREACH(a, &m->areas, link) {
		if (gpa < a->gpa || gpa >= a->gpa + a->size)
			continue;
		*hva = a->hva + (gpa - a->gpa);
		*prot = a->prot;
		if (left != NULL)
			*left = a->size - (gpa - a->gpa);
		error = 0;
		break;
	}
	pthread_mutex_unlock(&m->lock);
	return error;
}

int
nvmm_gpa_to_hva(struct nvmm_machine *mach, gpaddr_t gpa, uintptr_t *hva,
    nvmm_prot_t *prot)
{
	int error;

	error = nvmmc_check_machine(mach);
	if (error == 0)
		error = nvmmc_area_lookup(mach, gpa, hva, prot, NULL);
	return nvmmc_result(error);
}

/* -------------------------------------------------------------------------- */

int
nvmm_ctl(int op, void *data, size_t size)
{
	int error;

	error = nvmmc_check();
	if (error == 0)
		error = nvmm_rpc_ctl(&nvmmc_rpc, op, data, size);
	return nvmmc_result(error);
}
