/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The backend-neutral half of the scenario harness; see h_backend.h.
 */
#include <string.h>

#include "h_backend.h"

void
hb_machine_create(const struct hb_backend *be, struct hb_machine *vm,
    size_t ramsize)
{
	memset(vm, 0, sizeof(*vm));
	vm->be = be;
	be->machine_create(vm, ramsize);
	ATF_REQUIRE(vm->ramsize == ramsize && (vm->ram != NULL) ==
	    (ramsize != 0));
}

void
hb_vcpu_create(struct hb_machine *vm, nvmm_cpuid_t cpuid,
    struct hb_vcpu *vcpu)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vm->be->vcpu_create(vm, cpuid, vcpu);
	ATF_REQUIRE(vcpu->vm == vm && vcpu->exit != NULL);
}

void
hb_load(struct hb_machine *vm, gpaddr_t gpa, const void *begin,
    const void *end)
{
	ATF_REQUIRE(hlm_load(vm->ram, vm->ramsize, gpa, begin, end) == 0);
}

void
hb_setup_longmode(struct hb_vcpu *vcpu, uint64_t rip)
{
	struct hb_machine *vm = vcpu->vm;

	ATF_REQUIRE_EQ(hlm_setup(vm->ram, vm->ramsize,
	    hb_getstate(vcpu, NVMM_X64_STATE_ALL), rip), 0);
	hb_setstate(vcpu, HLM_STATE_FLAGS);
}

void
hb_setup_guest(const struct hb_backend *be, struct hb_machine *vm,
    struct hb_vcpu *vcpu, const uint8_t *begin, const uint8_t *end)
{
	hb_machine_create(be, vm, TVM_RAM_SIZE);
	hb_load(vm, TVM_CODE_GPA, begin, end);
	hb_vcpu_create(vm, 0, vcpu);
	hb_setup_longmode(vcpu, TVM_CODE_GPA);
}

void
hb_machine_destroy(struct hb_machine *vm)
{
	vm->be->machine_destroy(vm);
}

uint8_t *
hb_map(struct hb_machine *vm, gpaddr_t gpa, size_t size, int prot)
{
	return vm->be->map(vm, gpa, size, prot);
}

/* -------------------------------------------------------------------------- */

struct nvmm_x64_state *
hb_getstate(struct hb_vcpu *vcpu, uint64_t flags)
{
	return vcpu->vm->be->getstate(vcpu, flags);
}

void
hb_setstate(struct hb_vcpu *vcpu, uint64_t flags)
{
	vcpu->vm->be->setstate(vcpu, flags);
}

uint64_t
hb_gpr(struct hb_vcpu *vcpu, int index)
{
	return hb_getstate(vcpu, NVMM_X64_STATE_GPRS)->gprs[index];
}

void
hb_inject(struct hb_vcpu *vcpu, unsigned type, uint8_t vector, uint64_t error)
{
	vcpu->vm->be->inject(vcpu, type, vector, error);
}

void
hb_idt_gate(struct hb_machine *vm, unsigned vector, uint64_t handler)
{
	ATF_REQUIRE(hlm_idt_gate(vm->ram, vm->ramsize, vector, handler) == 0);
}

uint64_t
hb_run(struct hb_vcpu *vcpu)
{
	const struct hb_backend *be = vcpu->vm->be;

	do
		be->run(vcpu);
	while (be->exits_none && vcpu->exit->reason == NVMM_VCPU_EXIT_NONE);
	return vcpu->exit->reason;
}

void
hb_assist(struct hb_vcpu *vcpu)
{
	vcpu->vm->be->assist(vcpu);
}

void
hb_run_to_halt(struct hb_vcpu *vcpu, unsigned max_exits)
{
	uint64_t reason;
	unsigned n;

	for (n = 0; n < max_exits; n++) {
		reason = hb_run(vcpu);
		switch (reason) {
		case NVMM_VCPU_EXIT_HALTED:
			return;
		case NVMM_VCPU_EXIT_IO:
		case NVMM_VCPU_EXIT_MEMORY:
			hb_assist(vcpu);
			break;
		case NVMM_VCPU_EXIT_NONE:
			break;
		default:
			atf_tc_fail("%s: unexpected exit %#jx",
			    vcpu->vm->be->name, (uintmax_t)reason);
		}
	}
	atf_tc_fail("%s: no HLT after %u exits", vcpu->vm->be->name,
	    max_exits);
}

void
hb_dev(struct hb_vcpu *vcpu, struct hb_dev *dev)
{
	memset(dev, 0, sizeof(*dev));
	vcpu->vm->be->dev(vcpu, dev);
}

void
hb_body(const struct hb_backend *be, void (*body)(const struct hb_backend *))
{
	be->start();
	body(be);
	be->stop();
}
