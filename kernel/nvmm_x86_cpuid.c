/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * CPUID: an NVMM-like policy over what KVM supports (reference §7.3), then
 * the emulator's NVMM_VCPU_CONF_CPUID masks, loaded with KVM_SET_CPUID2.
 *
 * KVM answers CPUID in the kernel from that table and has no CPUID exit,
 * so an entry asking for one (exit=1) is refused with EOPNOTSUPP instead
 * of being accepted and never honoured.  KVM also freezes the table once a
 * VCPU has run: a change after that is refused with EBUSY.
 */
#include <sys/ioctl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvmm_x86_kvm.h"

#define CPUID_BIT(n)	(1U << (n))

/* Leaf 1: what the guest may see (no VMX/SVM, MONITOR, x2APIC, MCE...). */
#define NVMM_CPUID1_ECX_ALLOW (						\
	CPUID_BIT(0) /* SSE3 */ | CPUID_BIT(1) /* PCLMULQDQ */ |	\
	CPUID_BIT(9) /* SSSE3 */ | CPUID_BIT(12) /* FMA */ |		\
	CPUID_BIT(13) /* CX16 */ | CPUID_BIT(19) /* SSE4.1 */ |	\
	CPUID_BIT(20) /* SSE4.2 */ | CPUID_BIT(22) /* MOVBE */ |	\
	CPUID_BIT(23) /* POPCNT */ | CPUID_BIT(25) /* AES */ |		\
	CPUID_BIT(26) /* XSAVE */ | CPUID_BIT(27) /* OSXSAVE */ |	\
	CPUID_BIT(28) /* AVX */ | CPUID_BIT(29) /* F16C */ |		\
	CPUID_BIT(30) /* RDRAND */ | CPUID_BIT(31) /* hypervisor */)
#define NVMM_CPUID1_EDX_ALLOW (						\
	CPUID_BIT(0) /* FPU */ | CPUID_BIT(1) /* VME */ |		\
	CPUID_BIT(2) /* DE */ | CPUID_BIT(3) /* PSE */ |		\
	CPUID_BIT(4) /* TSC */ | CPUID_BIT(5) /* MSR */ |		\
	CPUID_BIT(6) /* PAE */ | CPUID_BIT(8) /* CX8 */ |		\
	CPUID_BIT(9) /* APIC */ | CPUID_BIT(11) /* SEP */ |		\
	CPUID_BIT(13) /* PGE */ | CPUID_BIT(15) /* CMOV */ |		\
	CPUID_BIT(16) /* PAT */ | CPUID_BIT(17) /* PSE36 */ |		\
	CPUID_BIT(19) /* CLFSH */ | CPUID_BIT(23) /* MMX */ |		\
	CPUID_BIT(24) /* FXSR */ | CPUID_BIT(25) /* SSE */ |		\
	CPUID_BIT(26) /* SSE2 */ | CPUID_BIT(28) /* HTT */)
/* Leaf 7.0 EBX: FSGSBASE, BMI1, AVX2, SMEP, BMI2, ERMS, RDSEED, ADX,
 * SMAP, CLFLUSHOPT, CLWB, SHA. */
#define NVMM_CPUID7_EBX_ALLOW (						\
	CPUID_BIT(0) | CPUID_BIT(3) | CPUID_BIT(5) | CPUID_BIT(7) |	\
	CPUID_BIT(8) | CPUID_BIT(9) | CPUID_BIT(18) | CPUID_BIT(19) |	\
	CPUID_BIT(20) | CPUID_BIT(23) | CPUID_BIT(24) | CPUID_BIT(29))
/* 0x80000001: LAHF, LZCNT, SSE4A, MISALIGNSSE, PREFETCHW; SYSCALL, NX,
 * 1 GiB pages, long mode, and the x87-era bits AMD repeats there. */
#define NVMM_CPUIDX1_ECX_ALLOW (					\
	CPUID_BIT(0) | CPUID_BIT(5) | CPUID_BIT(6) | CPUID_BIT(7) |	\
	CPUID_BIT(8))
#define NVMM_CPUIDX1_EDX_ALLOW (					\
	(NVMM_CPUID1_EDX_ALLOW & ~CPUID_BIT(28) & ~CPUID_BIT(26) &	\
	    ~CPUID_BIT(25) & ~CPUID_BIT(19) & ~CPUID_BIT(11)) |	\
	CPUID_BIT(11) /* SYSCALL */ | CPUID_BIT(20) /* NX */ |		\
	CPUID_BIT(26) /* 1 GiB pages */ | CPUID_BIT(29) /* LM */)
/* 0x80000007 EDX: the invariant TSC. */
#define NVMM_CPUIDX7_EDX_ALLOW	CPUID_BIT(8)

#define NVMM_CPUID_BASIC_MAX	0xD
#define NVMM_CPUID_EXT_MAX	0x8000001F
#define NVMM_CPUID_HV_LEAF	0x40000000

/* One entry of KVM's table, after NVMM's policy.  False drops it. */
static bool
nvmm_cpuid_policy(const struct nvmm_cpu *cpu, uint32_t ncpus,
    struct kvm_cpuid_entry2 *e)
{
	switch (e->function) {
	case 0x0:
		if (e->eax > NVMM_CPUID_BASIC_MAX)
			e->eax = NVMM_CPUID_BASIC_MAX;
		return true;
	case 0x1:
		e->ecx &= NVMM_CPUID1_ECX_ALLOW;
		e->ecx |= CPUID_BIT(31);
		e->edx &= NVMM_CPUID1_EDX_ALLOW;
		/* APIC ID is the VCPU id, logical count the VCPUs. */
		e->ebx = (e->ebx & 0xFFFF) | ((ncpus & 0xFF) << 16) |
		    ((cpu->cpuid & 0xFF) << 24);
		if (ncpus > 1)
			e->edx |= CPUID_BIT(28);
		if (!(nvmm_x86_xcr0_mask & X86_XCR0_AVX))
			e->ecx &= ~(CPUID_BIT(28) | CPUID_BIT(12) |
			    CPUID_BIT(29));
		return true;
	case 0x7:
		if (e->index != 0)
			return false;
		e->eax = 0;
		e->ebx &= NVMM_CPUID7_EBX_ALLOW;
		if (!(nvmm_x86_xcr0_mask & X86_XCR0_AVX))
			e->ebx &= ~CPUID_BIT(5);
		e->ecx = 0;
		e->edx = 0;
		return true;
	case 0xD:
		/* Only the components the guest's XCR0 may hold. */
		if (e->index == 0) {
			e->eax &= (uint32_t)nvmm_x86_xcr0_mask;
			e->edx = 0;
			return true;
		}
		if (e->index == 1) {
			e->eax &= CPUID_BIT(0);	/* XSAVEOPT */
			e->ebx = e->ecx = e->edx = 0;
			return true;
		}
		return e->index < 64 &&
		    ((nvmm_x86_xcr0_mask >> e->index) & 1);
	case 0x2: case 0x3: case 0x4: case 0x5: case 0x6:
	case 0x8: case 0x9: case 0xA: case 0xB: case 0xC:
		e->eax = e->ebx = e->ecx = e->edx = 0;
		return true;
	case 0x80000000:
		if (e->eax > NVMM_CPUID_EXT_MAX)
			e->eax = NVMM_CPUID_EXT_MAX;
		return true;
	case 0x80000001:
		e->ecx &= NVMM_CPUIDX1_ECX_ALLOW;
		e->edx &= NVMM_CPUIDX1_EDX_ALLOW;
		return true;
	case 0x80000002: case 0x80000003: case 0x80000004:
		return true;		/* the brand string */
	case 0x80000007:
		e->eax = e->ebx = e->ecx = 0;
		e->edx &= NVMM_CPUIDX7_EDX_ALLOW;
		return true;
	case 0x80000008:
		/* Address sizes; cores in the package and APIC-ID size. */
		e->ebx = 0;
		e->ecx = (ncpus - 1) & 0xFF;
		e->edx = 0;
		return true;
	default:
		if (e->function >= 0x40000000 && e->function < 0x80000000)
			return false;	/* KVM's own leaves: ours replace them */
		if (e->function > NVMM_CPUID_BASIC_MAX &&
		    e->function < 0x40000000)
			return false;
		e->eax = e->ebx = e->ecx = e->edx = 0;
		return true;
	}
}

/* 0x40000000: max leaf, then "___ NVMM ___" in EBX, ECX, EDX. */
static void
nvmm_cpuid_hv_leaf(struct kvm_cpuid_entry2 *e)
{
	static const char sig[12] = "___ NVMM ___";

	memset(e, 0, sizeof(*e));
	e->function = NVMM_CPUID_HV_LEAF;
	e->eax = NVMM_CPUID_HV_LEAF;
	memcpy(&e->ebx, &sig[0], 4);
	memcpy(&e->ecx, &sig[4], 4);
	memcpy(&e->edx, &sig[8], 4);
}

/* The emulator's masks; NVMM matches the leaf whatever the subleaf. */
static void
nvmm_cpuid_apply_conf(const struct nvmm_x86_cpu *xcpu,
    struct kvm_cpuid_entry2 *e)
{
	const struct nvmm_vcpu_conf_cpuid *c;
	size_t i;

	for (i = 0; i < NVMM_X86_CPUID_MAXCONF; i++) {
		c = &xcpu->cpuidconf[i];
		if (!c->mask || c->leaf != e->function)
			continue;
		e->eax = (e->eax & ~c->u.mask.del.eax) | c->u.mask.set.eax;
		e->ebx = (e->ebx & ~c->u.mask.del.ebx) | c->u.mask.set.ebx;
		e->ecx = (e->ecx & ~c->u.mask.del.ecx) | c->u.mask.set.ecx;
		e->edx = (e->edx & ~c->u.mask.del.edx) | c->u.mask.set.edx;
	}
}

/* ncpus: the VCPUs of the machine, this one included. */
int
nvmm_x86_cpuid_load(struct nvmm_cpu *cpu, uint32_t ncpus)
{
	const struct kvm_cpuid2 *sup = nvmm_x86_supported_cpuid;
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 *table;
	uint32_t i, n = 0;
	int error = 0;

	table = calloc(1, sizeof(*table) +
	    (sup->nent + 1) * sizeof(struct kvm_cpuid_entry2));
	if (table == NULL)
		return ENOMEM;
	for (i = 0; i < sup->nent; i++) {
		e = &table->entries[n];
		*e = sup->entries[i];
		if (!nvmm_cpuid_policy(cpu, ncpus, e))
			continue;
		nvmm_cpuid_apply_conf(xcpu, e);
		n++;
	}
	nvmm_cpuid_hv_leaf(&table->entries[n]);
	nvmm_cpuid_apply_conf(xcpu, &table->entries[n]);
	n++;
	table->nent = n;
	if (ioctl(xcpu->fd, KVM_SET_CPUID2, table) == -1)
		error = errno == EINVAL ? EBUSY : errno;
	free(table);
	return error;
}

static bool
nvmm_cpuid_conf_valid(const struct nvmm_vcpu_conf_cpuid *c)
{
	if (c->mask && c->exit)
		return false;
	if (!c->mask)
		return true;
	return !(c->u.mask.set.eax & c->u.mask.del.eax) &&
	    !(c->u.mask.set.ebx & c->u.mask.del.ebx) &&
	    !(c->u.mask.set.ecx & c->u.mask.del.ecx) &&
	    !(c->u.mask.set.edx & c->u.mask.del.edx);
}

/* The slot holding this leaf, else a free one, else -1. */
static int
nvmm_cpuid_conf_slot(const struct nvmm_x86_cpu *xcpu, uint32_t leaf)
{
	int i, free_slot = -1;

	for (i = 0; i < NVMM_X86_CPUID_MAXCONF; i++) {
		if (xcpu->cpuidconf[i].mask && xcpu->cpuidconf[i].leaf == leaf)
			return i;
		if (!xcpu->cpuidconf[i].mask && free_slot == -1)
			free_slot = i;
	}
	return free_slot;
}

int
nvmm_x86_cpuid_configure(struct nvmm_cpu *cpu, const void *conf)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	struct nvmm_vcpu_conf_cpuid c, saved;
	int slot, error;

	memcpy(&c, conf, sizeof(c));
	if (!nvmm_cpuid_conf_valid(&c))
		return EINVAL;
	if (c.exit)
		return EOPNOTSUPP;	/* KVM has no CPUID exit */

	slot = nvmm_cpuid_conf_slot(xcpu, c.leaf);
	if (!c.mask) {
		/* Neither mask nor exit: back to the default for the leaf. */
		if (slot == -1 || !xcpu->cpuidconf[slot].mask)
			return 0;
		saved = xcpu->cpuidconf[slot];
		memset(&xcpu->cpuidconf[slot], 0, sizeof(c));
	} else {
		if (slot == -1)
			return ENOBUFS;
		saved = xcpu->cpuidconf[slot];
		xcpu->cpuidconf[slot] = c;
	}
	error = nvmm_x86_cpuid_load(cpu, atomic_load(&xcpu->mach->ncpus));
	if (error)
		xcpu->cpuidconf[slot] = saved;
	return error;
}
