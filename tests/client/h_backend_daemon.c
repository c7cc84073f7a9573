/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * hb_daemon: the scenarios of h_backend.h through libnvmmclient and a
 * private nvmmd, over h_client and h_daemon.
 */
#include <stdlib.h>
#include <string.h>

#include "h_backend.h"
#include "h_client.h"

#define DB_MAX_VCPUS	4

struct db_vcpu {
	struct hc_vcpu hv;	/* never copied: the callbacks find it */
	struct hc_dev dev;
};

struct db_machine {
	struct hc_machine hm;
	struct db_vcpu vcpus[DB_MAX_VCPUS];
};

/* The one daemon of the running case. */
static pid_t db_pid = -1;

static struct db_machine *
db_machine(struct hb_machine *vm)
{
	return vm->impl;
}

static struct db_vcpu *
db_vcpu(struct hb_vcpu *vcpu)
{
	return vcpu->impl;
}

static void
db_start(void)
{
	ATF_REQUIRE(db_pid == -1);
	db_pid = hc_start_daemon();
}

static void
db_stop(void)
{
	hd_stop(db_pid);
	db_pid = -1;
}

static void
db_machine_create(struct hb_machine *vm, size_t ramsize)
{
	struct db_machine *dm;

	dm = calloc(1, sizeof(*dm));
	ATF_REQUIRE(dm != NULL);
	hc_machine_create(&dm->hm, ramsize);
	vm->impl = dm;
	vm->ram = dm->hm.ram;
	vm->ramsize = dm->hm.ramsize;
}

static void
db_machine_destroy(struct hb_machine *vm)
{
	hc_machine_destroy(&db_machine(vm)->hm);
	free(vm->impl);
	vm->impl = NULL;
	vm->ram = NULL;
}

static uint8_t *
db_map(struct hb_machine *vm, gpaddr_t gpa, size_t size, int prot)
{
	return hc_map(&db_machine(vm)->hm, gpa, size, prot);
}

static void
db_gpa_to_hva(struct hb_machine *vm, gpaddr_t gpa, uintptr_t *hva, int *prot)
{
	nvmm_prot_t p;

	HC_REQUIRE_OK(nvmm_gpa_to_hva(&db_machine(vm)->hm.mach, gpa, hva,
	    &p));
	*prot = (int)p;
}

static void
db_vcpu_create(struct hb_machine *vm, nvmm_cpuid_t cpuid,
    struct hb_vcpu *vcpu)
{
	struct db_machine *dm = db_machine(vm);
	struct db_vcpu *dv;

	ATF_REQUIRE(cpuid < DB_MAX_VCPUS);
	dv = &dm->vcpus[cpuid];
	hc_dev_init(&dv->dev);
	hc_vcpu_create(&dm->hm, cpuid, &dv->hv, &dv->dev);
	vcpu->vm = vm;
	vcpu->impl = dv;
	vcpu->exit = dv->hv.vcpu.exit;
}

static struct nvmm_x64_state *
db_getstate(struct hb_vcpu *vcpu, uint64_t flags)
{
	return hc_getstate(&db_vcpu(vcpu)->hv, flags);
}

static void
db_setstate(struct hb_vcpu *vcpu, uint64_t flags)
{
	hc_setstate(&db_vcpu(vcpu)->hv, flags);
}

static void
db_inject(struct hb_vcpu *vcpu, unsigned type, uint8_t vector, uint64_t error)
{
	hc_inject(&db_vcpu(vcpu)->hv, type, vector, error);
}

static void
db_run(struct hb_vcpu *vcpu)
{
	(void)hc_run_reason(&db_vcpu(vcpu)->hv);
}

static void
db_assist(struct hb_vcpu *vcpu)
{
	hc_assist(&db_vcpu(vcpu)->hv);
}

static void
db_dev(struct hb_vcpu *vcpu, struct hb_dev *dev)
{
	struct hc_dev *hd = &db_vcpu(vcpu)->dev;

	dev->log = hd->log;
	dev->nlog = hd->nlog;
	dev->mmio = hd->mmio;
	dev->nio_in = hd->nio_in;
	dev->nio_out = hd->nio_out;
	dev->nmem_read = hd->nmem_read;
	dev->nmem_write = hd->nmem_write;
}

const struct hb_backend hb_daemon = {
	.name = "daemon",
	.exits_none = true,
	.start = db_start,
	.stop = db_stop,
	.cleanup = hd_cleanup,
	.machine_create = db_machine_create,
	.machine_destroy = db_machine_destroy,
	.map = db_map,
	.vcpu_create = db_vcpu_create,
	.getstate = db_getstate,
	.setstate = db_setstate,
	.cached = NULL,		/* libnvmm keeps its cache to itself */
	.uncache = NULL,
	.gpa_to_hva = db_gpa_to_hva,
	.inject = db_inject,
	.event_pending = NULL,	/* the comm page is libnvmm's */
	.run = db_run,
	.assist = db_assist,
	.dev = db_dev,
};
