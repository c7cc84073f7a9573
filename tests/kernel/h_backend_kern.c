/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * hb_kern: the scenarios of h_backend.h in-process, over h_vm (kernel/
 * called directly, the comm-page protocol done by hand).
 */
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h_backend.h"
#include "h_vm.h"

#define KB_MAX_REGIONS	8
#define KB_MAX_VCPUS	4

struct kb_vcpu {
	struct tvcpu tvcpu;
	struct tdev dev;
	unsigned nio_in, nio_out, nmem_read, nmem_write;
};

struct kb_machine {
	struct tvm tvm;
	struct {
		void *hva;
		size_t size;
		int fd;
	} regions[KB_MAX_REGIONS];
	size_t nregions;
	struct kb_vcpu vcpus[KB_MAX_VCPUS];
};

static struct kb_machine *
kb_machine(struct hb_machine *vm)
{
	return vm->impl;
}

static struct kb_vcpu *
kb_vcpu(struct hb_vcpu *vcpu)
{
	return vcpu->impl;
}

static void
kb_nothing(void)
{
}

static void
kb_machine_create(struct hb_machine *vm, size_t ramsize)
{
	struct kb_machine *km;

	km = calloc(1, sizeof(*km));
	ATF_REQUIRE(km != NULL);
	tvm_create(&km->tvm, ramsize);
	vm->impl = km;
	vm->ram = km->tvm.ram;
	vm->ramsize = km->tvm.ramsize;
}

static void
kb_machine_destroy(struct hb_machine *vm)
{
	struct kb_machine *km = kb_machine(vm);
	size_t i;

	tvm_destroy(&km->tvm);
	for (i = 0; i < km->nregions; i++) {
		munmap(km->regions[i].hva, km->regions[i].size);
		close(km->regions[i].fd);
	}
	free(km);
	vm->impl = NULL;
	vm->ram = NULL;
}

/* A memfd of its own, as a client would hand over, mapped at gpa. */
static uint8_t *
kb_map(struct hb_machine *vm, gpaddr_t gpa, size_t size, int prot)
{
	struct kb_machine *km = kb_machine(vm);
	void *p;
	int fd;

	ATF_REQUIRE(km->nregions < KB_MAX_REGIONS);
	fd = tvm_memfd(size);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ATF_REQUIRE(p != MAP_FAILED);
	km->regions[km->nregions].hva = p;
	km->regions[km->nregions].size = size;
	km->regions[km->nregions].fd = fd;
	km->nregions++;
	REQUIRE_ERR(0, nvmm_kern_hva_map(km->tvm.owner, km->tvm.machid,
	    (uintptr_t)p, size, fd, 0));
	REQUIRE_ERR(0, nvmm_kern_gpa_map(km->tvm.owner, km->tvm.machid,
	    (uintptr_t)p, gpa, size, prot));
	return p;
}

static void
kb_vcpu_create(struct hb_machine *vm, nvmm_cpuid_t cpuid,
    struct hb_vcpu *vcpu)
{
	struct kb_machine *km = kb_machine(vm);
	struct kb_vcpu *kv;

	ATF_REQUIRE(cpuid < KB_MAX_VCPUS);
	kv = &km->vcpus[cpuid];
	memset(kv, 0, sizeof(*kv));
	tvm_vcpu_create(&km->tvm, cpuid, &kv->tvcpu);
	vcpu->vm = vm;
	vcpu->impl = kv;
	vcpu->exit = &kv->tvcpu.exit;
}

static struct nvmm_x64_state *
kb_getstate(struct hb_vcpu *vcpu, uint64_t flags)
{
	return tvm_getstate(&kb_vcpu(vcpu)->tvcpu, flags);
}

static void
kb_setstate(struct hb_vcpu *vcpu, uint64_t flags)
{
	tvm_setstate(&kb_vcpu(vcpu)->tvcpu, flags);
}

static uint64_t
kb_cached(struct hb_vcpu *vcpu)
{
	return kb_vcpu(vcpu)->tvcpu.comm->state_cached;
}

static void
kb_uncache(struct hb_vcpu *vcpu)
{
	kb_vcpu(vcpu)->tvcpu.comm->state_cached = 0;
}

static void
kb_inject(struct hb_vcpu *vcpu, unsigned type, uint8_t vector, uint64_t error)
{
	tvm_inject(&kb_vcpu(vcpu)->tvcpu, type, vector, error);
}

static bool
kb_event_pending(struct hb_vcpu *vcpu)
{
	return kb_vcpu(vcpu)->tvcpu.comm->event_commit;
}

static void
kb_run(struct hb_vcpu *vcpu)
{
	(void)tvm_run_reason(&kb_vcpu(vcpu)->tvcpu);
}

/* tdev_access, counted as the client's callbacks count. */
static void
kb_access(struct tvcpu *tvcpu, bool is_io, bool write, uint64_t addr,
    uint8_t *data, size_t size, void *arg)
{
	struct kb_vcpu *kv = arg;

	if (is_io)
		(*(write ? &kv->nio_out : &kv->nio_in))++;
	else
		(*(write ? &kv->nmem_write : &kv->nmem_read))++;
	tdev_access(tvcpu, is_io, write, addr, data, size, &kv->dev);
}

static void
kb_assist(struct hb_vcpu *vcpu)
{
	struct kb_vcpu *kv = kb_vcpu(vcpu);

	tvm_assist(&kv->tvcpu, kb_access, kv);
}

static void
kb_dev(struct hb_vcpu *vcpu, struct hb_dev *dev)
{
	struct kb_vcpu *kv = kb_vcpu(vcpu);

	dev->log = kv->dev.log;
	dev->nlog = kv->dev.nlog;
	dev->mmio = kv->dev.mmio;
	dev->nio_in = kv->nio_in;
	dev->nio_out = kv->nio_out;
	dev->nmem_read = kv->nmem_read;
	dev->nmem_write = kv->nmem_write;
}

const struct hb_backend hb_kern = {
	.name = "kern",
	.exits_none = false,
	.start = kb_nothing,
	.stop = kb_nothing,
	.cleanup = kb_nothing,
	.machine_create = kb_machine_create,
	.machine_destroy = kb_machine_destroy,
	.map = kb_map,
	.vcpu_create = kb_vcpu_create,
	.getstate = kb_getstate,
	.setstate = kb_setstate,
	.cached = kb_cached,
	.uncache = kb_uncache,
	.gpa_to_hva = NULL,	/* kernel/ has no such call */
	.inject = kb_inject,
	.event_pending = kb_event_pending,
	.run = kb_run,
	.assist = kb_assist,
	.dev = kb_dev,
};
