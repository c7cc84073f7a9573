/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * NVMM's x86 state groups, translated to and from KVM's register sets.
 *
 * Each group has one getter and one setter.  KVM's special registers hold
 * segments, control registers and EFER together, so the SEGS, CRS and MSRS
 * setters share one read-modify-write of them.  Values from the comm page
 * are copied once, then sanitised the way NetBSD's backend does.
 */
#include <sys/ioctl.h>
#include <errno.h>
#include <string.h>

#include "nvmm_x86_kvm.h"

/* msrs[] of the state, EFER aside: KVM keeps that in the sregs. */
static const uint32_t nvmm_x86_msr_numbers[NVMM_X64_NMSR] = {
	[NVMM_X64_MSR_EFER] = 0,
	[NVMM_X64_MSR_STAR] = MSR_X86_STAR,
	[NVMM_X64_MSR_LSTAR] = MSR_X86_LSTAR,
	[NVMM_X64_MSR_CSTAR] = MSR_X86_CSTAR,
	[NVMM_X64_MSR_SFMASK] = MSR_X86_SFMASK,
	[NVMM_X64_MSR_KERNELGSBASE] = MSR_X86_KERNELGSBASE,
	[NVMM_X64_MSR_SYSENTER_CS] = MSR_X86_SYSENTER_CS,
	[NVMM_X64_MSR_SYSENTER_ESP] = MSR_X86_SYSENTER_ESP,
	[NVMM_X64_MSR_SYSENTER_EIP] = MSR_X86_SYSENTER_EIP,
	[NVMM_X64_MSR_PAT] = MSR_X86_PAT,
	[NVMM_X64_MSR_TSC] = MSR_X86_TSC,
};

struct nvmm_x86_msrs {
	struct kvm_msrs hdr;
	struct kvm_msr_entry entries[NVMM_X64_NMSR];
};

/* -------------------------------------------------------------------------- */

/*
 * The RESET state of NetBSD's x86 backend (reference §7.5): what a new VCPU
 * holds, the processor right after RESET, real mode at the reset vector.
 */
static void
nvmm_x86_reset_seg(struct nvmm_x64_state_seg *seg, uint16_t selector,
    uint64_t base, unsigned type, bool s)
{
	memset(seg, 0, sizeof(*seg));
	seg->selector = selector;
	seg->base = base;
	seg->limit = 0xFFFF;
	seg->attrib.type = type & 0xF;
	seg->attrib.s = s;
	seg->attrib.p = 1;
}

void
nvmm_x86_state_reset(struct nvmm_x64_state *state)
{
	static const int data_segs[] = {
		NVMM_X64_SEG_ES, NVMM_X64_SEG_SS, NVMM_X64_SEG_DS,
		NVMM_X64_SEG_FS, NVMM_X64_SEG_GS,
	};
	size_t i;

	memset(state, 0, sizeof(*state));

	nvmm_x86_reset_seg(&state->segs[NVMM_X64_SEG_CS], 0xF000, 0xFFFF0000,
	    3, true);
	for (i = 0; i < sizeof(data_segs) / sizeof(data_segs[0]); i++)
		nvmm_x86_reset_seg(&state->segs[data_segs[i]], 0, 0, 3, true);
	nvmm_x86_reset_seg(&state->segs[NVMM_X64_SEG_GDT], 0, 0, 0, false);
	state->segs[NVMM_X64_SEG_GDT].attrib.p = 0;
	nvmm_x86_reset_seg(&state->segs[NVMM_X64_SEG_IDT], 0, 0, 0, false);
	state->segs[NVMM_X64_SEG_IDT].attrib.p = 0;
	/* LDT descriptor type, then a busy 16-bit TSS. */
	nvmm_x86_reset_seg(&state->segs[NVMM_X64_SEG_LDT], 0, 0, 2, false);
	nvmm_x86_reset_seg(&state->segs[NVMM_X64_SEG_TR], 0, 0, 3, false);

	state->gprs[NVMM_X64_GPR_RDX] = 0x600;	/* processor signature */
	state->gprs[NVMM_X64_GPR_RIP] = 0xFFF0;
	state->gprs[NVMM_X64_GPR_RFLAGS] = 0x2;

	state->crs[NVMM_X64_CR_CR0] = 0x60000010;	/* CD, NW, ET */
	state->crs[NVMM_X64_CR_XCR0] = X86_XCR0_X87;

	state->drs[NVMM_X64_DR_DR6] = 0xFFFF0FF0;
	state->drs[NVMM_X64_DR_DR7] = 0x400;

	/* WB, WT, UC-, UC, twice. */
	state->msrs[NVMM_X64_MSR_PAT] = 0x0007040600070406ULL;

	state->fpu.fx_cw = 0x0040;
	state->fpu.fx_tw = 0x55;
	state->fpu.fx_zero = 0x55;
	state->fpu.fx_mxcsr = 0x1F80;
	state->fpu.fx_mxcsr_mask = nvmm_x86_mxcsr_mask;
}

/* -------------------------------------------------------------------------- */

static void
nvmm_x86_seg_to_kvm(const struct nvmm_x64_state_seg *seg,
    struct kvm_segment *kseg)
{
	memset(kseg, 0, sizeof(*kseg));
	kseg->selector = seg->selector;
	kseg->base = seg->base;
	kseg->limit = seg->limit;
	kseg->type = seg->attrib.type;
	kseg->s = seg->attrib.s;
	kseg->dpl = seg->attrib.dpl;
	kseg->present = seg->attrib.p;
	kseg->avl = seg->attrib.avl;
	kseg->l = seg->attrib.l;
	kseg->db = seg->attrib.def;
	kseg->g = seg->attrib.g;
	kseg->unusable = !seg->attrib.p;
}

static void
nvmm_x86_seg_from_kvm(const struct kvm_segment *kseg,
    struct nvmm_x64_state_seg *seg)
{
	memset(seg, 0, sizeof(*seg));
	seg->selector = kseg->selector;
	seg->base = kseg->base;
	seg->limit = kseg->limit;
	seg->attrib.type = kseg->type & 0xF;
	seg->attrib.s = kseg->s & 1;
	seg->attrib.dpl = kseg->dpl & 3;
	seg->attrib.p = kseg->present && !kseg->unusable;
	seg->attrib.avl = kseg->avl & 1;
	seg->attrib.l = kseg->l & 1;
	seg->attrib.def = kseg->db & 1;
	seg->attrib.g = kseg->g & 1;
}

static void
nvmm_x86_dtable_to_kvm(const struct nvmm_x64_state_seg *seg,
    struct kvm_dtable *dt)
{
	memset(dt, 0, sizeof(*dt));
	dt->base = seg->base;
	dt->limit = (uint16_t)seg->limit;
}

static void
nvmm_x86_dtable_from_kvm(const struct kvm_dtable *dt,
    struct nvmm_x64_state_seg *seg)
{
	memset(seg, 0, sizeof(*seg));
	seg->base = dt->base;
	seg->limit = dt->limit;
}

static void
nvmm_x86_segs_to_sregs(const struct nvmm_x64_state *state,
    struct kvm_sregs *sregs)
{
	const struct nvmm_x64_state_seg *segs = state->segs;

	nvmm_x86_seg_to_kvm(&segs[NVMM_X64_SEG_ES], &sregs->es);
	nvmm_x86_seg_to_kvm(&segs[NVMM_X64_SEG_CS], &sregs->cs);
	nvmm_x86_seg_to_kvm(&segs[NVMM_X64_SEG_SS], &sregs->ss);
	nvmm_x86_seg_to_kvm(&segs[NVMM_X64_SEG_DS], &sregs->ds);
	nvmm_x86_seg_to_kvm(&segs[NVMM_X64_SEG_FS], &sregs->fs);
	nvmm_x86_seg_to_kvm(&segs[NVMM_X64_SEG_GS], &sregs->gs);
	nvmm_x86_seg_to_kvm(&segs[NVMM_X64_SEG_LDT], &sregs->ldt);
	nvmm_x86_seg_to_kvm(&segs[NVMM_X64_SEG_TR], &sregs->tr);
	nvmm_x86_dtable_to_kvm(&segs[NVMM_X64_SEG_GDT], &sregs->gdt);
	nvmm_x86_dtable_to_kvm(&segs[NVMM_X64_SEG_IDT], &sregs->idt);
}

static void
nvmm_x86_segs_from_sregs(const struct kvm_sregs *sregs,
    struct nvmm_x64_state *state)
{
	struct nvmm_x64_state_seg *segs = state->segs;

	nvmm_x86_seg_from_kvm(&sregs->es, &segs[NVMM_X64_SEG_ES]);
	nvmm_x86_seg_from_kvm(&sregs->cs, &segs[NVMM_X64_SEG_CS]);
	nvmm_x86_seg_from_kvm(&sregs->ss, &segs[NVMM_X64_SEG_SS]);
	nvmm_x86_seg_from_kvm(&sregs->ds, &segs[NVMM_X64_SEG_DS]);
	nvmm_x86_seg_from_kvm(&sregs->fs, &segs[NVMM_X64_SEG_FS]);
	nvmm_x86_seg_from_kvm(&sregs->gs, &segs[NVMM_X64_SEG_GS]);
	nvmm_x86_seg_from_kvm(&sregs->ldt, &segs[NVMM_X64_SEG_LDT]);
	nvmm_x86_seg_from_kvm(&sregs->tr, &segs[NVMM_X64_SEG_TR]);
	nvmm_x86_dtable_from_kvm(&sregs->gdt, &segs[NVMM_X64_SEG_GDT]);
	nvmm_x86_dtable_from_kvm(&sregs->idt, &segs[NVMM_X64_SEG_IDT]);
}

static void
nvmm_x86_crs_to_sregs(const struct nvmm_x64_state *state,
    struct kvm_sregs *sregs)
{
	sregs->cr0 = state->crs[NVMM_X64_CR_CR0];
	sregs->cr2 = state->crs[NVMM_X64_CR_CR2];
	sregs->cr3 = state->crs[NVMM_X64_CR_CR3];
	sregs->cr4 = state->crs[NVMM_X64_CR_CR4];
	sregs->cr8 = state->crs[NVMM_X64_CR_CR8] & 0xF;
}

static void
nvmm_x86_crs_from_sregs(const struct kvm_sregs *sregs,
    struct nvmm_x64_state *state)
{
	state->crs[NVMM_X64_CR_CR0] = sregs->cr0;
	state->crs[NVMM_X64_CR_CR2] = sregs->cr2;
	state->crs[NVMM_X64_CR_CR3] = sregs->cr3;
	state->crs[NVMM_X64_CR_CR4] = sregs->cr4;
	state->crs[NVMM_X64_CR_CR8] = sregs->cr8;
}

/* -------------------------------------------------------------------------- */

void
nvmm_x86_gprs_from_kvm(const struct kvm_regs *regs, uint64_t *gprs)
{
	gprs[NVMM_X64_GPR_RAX] = regs->rax;
	gprs[NVMM_X64_GPR_RCX] = regs->rcx;
	gprs[NVMM_X64_GPR_RDX] = regs->rdx;
	gprs[NVMM_X64_GPR_RBX] = regs->rbx;
	gprs[NVMM_X64_GPR_RSP] = regs->rsp;
	gprs[NVMM_X64_GPR_RBP] = regs->rbp;
	gprs[NVMM_X64_GPR_RSI] = regs->rsi;
	gprs[NVMM_X64_GPR_RDI] = regs->rdi;
	gprs[NVMM_X64_GPR_R8] = regs->r8;
	gprs[NVMM_X64_GPR_R9] = regs->r9;
	gprs[NVMM_X64_GPR_R10] = regs->r10;
	gprs[NVMM_X64_GPR_R11] = regs->r11;
	gprs[NVMM_X64_GPR_R12] = regs->r12;
	gprs[NVMM_X64_GPR_R13] = regs->r13;
	gprs[NVMM_X64_GPR_R14] = regs->r14;
	gprs[NVMM_X64_GPR_R15] = regs->r15;
	gprs[NVMM_X64_GPR_RIP] = regs->rip;
	gprs[NVMM_X64_GPR_RFLAGS] = regs->rflags;
}

static void
nvmm_x86_gprs_to_kvm(const uint64_t *gprs, struct kvm_regs *regs)
{
	regs->rax = gprs[NVMM_X64_GPR_RAX];
	regs->rcx = gprs[NVMM_X64_GPR_RCX];
	regs->rdx = gprs[NVMM_X64_GPR_RDX];
	regs->rbx = gprs[NVMM_X64_GPR_RBX];
	regs->rsp = gprs[NVMM_X64_GPR_RSP];
	regs->rbp = gprs[NVMM_X64_GPR_RBP];
	regs->rsi = gprs[NVMM_X64_GPR_RSI];
	regs->rdi = gprs[NVMM_X64_GPR_RDI];
	regs->r8 = gprs[NVMM_X64_GPR_R8];
	regs->r9 = gprs[NVMM_X64_GPR_R9];
	regs->r10 = gprs[NVMM_X64_GPR_R10];
	regs->r11 = gprs[NVMM_X64_GPR_R11];
	regs->r12 = gprs[NVMM_X64_GPR_R12];
	regs->r13 = gprs[NVMM_X64_GPR_R13];
	regs->r14 = gprs[NVMM_X64_GPR_R14];
	regs->r15 = gprs[NVMM_X64_GPR_R15];
	regs->rip = gprs[NVMM_X64_GPR_RIP];
	/* Bit 1 always reads as one. */
	regs->rflags = gprs[NVMM_X64_GPR_RFLAGS] | 0x2;
}

/* -------------------------------------------------------------------------- */

static int
nvmm_x86_ioctl(struct nvmm_cpu *cpu, unsigned long req, void *arg)
{
	if (ioctl(nvmm_x86_cpu(cpu)->fd, req, arg) == -1)
		return errno;
	return 0;
}

static int
nvmm_x86_xcr0_get(struct nvmm_cpu *cpu, uint64_t *xcr0)
{
	struct kvm_xcrs xcrs;
	uint32_t i;
	int error;

	memset(&xcrs, 0, sizeof(xcrs));
	error = nvmm_x86_ioctl(cpu, KVM_GET_XCRS, &xcrs);
	if (error)
		return error;
	*xcr0 = X86_XCR0_X87;
	for (i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++)
		if (xcrs.xcrs[i].xcr == 0)
			*xcr0 = xcrs.xcrs[i].value;
	nvmm_x86_cpu(cpu)->shadow_xcr0 = *xcr0;
	return 0;
}

/* As NetBSD: only the bits the guest may have, and x87 always. */
static int
nvmm_x86_xcr0_set(struct nvmm_cpu *cpu, uint64_t xcr0)
{
	struct kvm_xcrs xcrs;

	xcr0 = (xcr0 & nvmm_x86_xcr0_mask) | X86_XCR0_X87;
	if ((xcr0 & X86_XCR0_AVX) && !(xcr0 & X86_XCR0_SSE))
		xcr0 &= ~X86_XCR0_AVX;
	memset(&xcrs, 0, sizeof(xcrs));
	xcrs.nr_xcrs = 1;
	xcrs.xcrs[0].xcr = 0;
	xcrs.xcrs[0].value = xcr0;
	if (nvmm_x86_ioctl(cpu, KVM_SET_XCRS, &xcrs) != 0)
		return EINVAL;
	nvmm_x86_cpu(cpu)->shadow_xcr0 = xcr0;
	return 0;
}

/* The guest TSC as the host's, moved by the offset KVM applies. */
static uint64_t
nvmm_x86_tsc_now(const struct nvmm_x86_cpu *xcpu)
{
	return __builtin_ia32_rdtsc() + (uint64_t)xcpu->tsc_offset;
}

/* MSR values KVM just gave: the shadows, the TSC offset, the last TSC. */
static void
nvmm_x86_msrs_remember(struct nvmm_x86_cpu *xcpu, const uint64_t *msrs)
{
	uint64_t host = __builtin_ia32_rdtsc();

	memcpy(xcpu->shadow_msrs, msrs, sizeof(xcpu->shadow_msrs));
	xcpu->tsc_offset = (int64_t)(msrs[NVMM_X64_MSR_TSC] - host);
	xcpu->tsc_last = msrs[NVMM_X64_MSR_TSC];
}

static int
nvmm_x86_msrs_get(struct nvmm_cpu *cpu, struct nvmm_x64_state *state)
{
	struct nvmm_x86_msrs msrs;
	size_t i, n = 0;

	memset(&msrs, 0, sizeof(msrs));
	for (i = 0; i < NVMM_X64_NMSR; i++)
		if (nvmm_x86_msr_numbers[i] != 0)
			msrs.entries[n++].index = nvmm_x86_msr_numbers[i];
	msrs.hdr.nmsrs = (uint32_t)n;
	if (ioctl(nvmm_x86_cpu(cpu)->fd, KVM_GET_MSRS, &msrs) != (int)n)
		return EIO;
	for (i = 0, n = 0; i < NVMM_X64_NMSR; i++)
		if (nvmm_x86_msr_numbers[i] != 0)
			state->msrs[i] = msrs.entries[n++].data;
	nvmm_x86_msrs_remember(nvmm_x86_cpu(cpu), state->msrs);
	return 0;
}

/*
 * As NetBSD: writing the TSC back as zero, or as the value last read,
 * changes nothing, so that a save and restore does not skew the clock.
 */
static int
nvmm_x86_msrs_set(struct nvmm_cpu *cpu, const struct nvmm_x64_state *state)
{
	struct nvmm_x86_msrs msrs;
	uint64_t tsc = state->msrs[NVMM_X64_MSR_TSC];
	size_t i, n = 0;

	memset(&msrs, 0, sizeof(msrs));
	for (i = 0; i < NVMM_X64_NMSR; i++) {
		if (nvmm_x86_msr_numbers[i] == 0)
			continue;
		if (i == NVMM_X64_MSR_TSC &&
		    (tsc == 0 || tsc == nvmm_x86_cpu(cpu)->tsc_last))
			continue;
		msrs.entries[n].index = nvmm_x86_msr_numbers[i];
		msrs.entries[n].data = state->msrs[i];
		n++;
	}
	msrs.hdr.nmsrs = (uint32_t)n;
	if (ioctl(nvmm_x86_cpu(cpu)->fd, KVM_SET_MSRS, &msrs) != (int)n)
		return EINVAL;
	/* KVM may have adjusted what it took (the TSC): ask it. */
	return nvmm_x86_tsc_calibrate(cpu);
}

int
nvmm_x86_tsc_calibrate(struct nvmm_cpu *cpu)
{
	struct nvmm_x64_state state;

	return nvmm_x86_msrs_get(cpu, &state);
}

/* Is msr one whose guest writes come to us (the MSR filter)? */
bool
nvmm_x86_msr_shadowed(uint32_t msr)
{
	size_t i;

	for (i = 0; i < NVMM_X64_NMSR; i++)
		if (nvmm_x86_msr_numbers[i] == msr && msr != 0)
			return true;
	return false;
}

/*
 * A guest write to one of NVMM's in-kernel MSRs, done for it as NVMM's
 * kernel does: EINVAL when KVM refuses the value (the guest gets #GP).
 */
int
nvmm_x86_msr_write(struct nvmm_cpu *cpu, uint32_t msr, uint64_t value)
{
	struct nvmm_x86_msrs msrs;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = 1;
	msrs.entries[0].index = msr;
	msrs.entries[0].data = value;
	if (ioctl(nvmm_x86_cpu(cpu)->fd, KVM_SET_MSRS, &msrs) != 1)
		return EINVAL;
	return nvmm_x86_tsc_calibrate(cpu);
}

static int
nvmm_x86_drs_get(struct nvmm_cpu *cpu, struct nvmm_x64_state *state)
{
	struct kvm_debugregs dregs;
	int error;

	error = nvmm_x86_ioctl(cpu, KVM_GET_DEBUGREGS, &dregs);
	if (error)
		return error;
	state->drs[NVMM_X64_DR_DR0] = dregs.db[0];
	state->drs[NVMM_X64_DR_DR1] = dregs.db[1];
	state->drs[NVMM_X64_DR_DR2] = dregs.db[2];
	state->drs[NVMM_X64_DR_DR3] = dregs.db[3];
	state->drs[NVMM_X64_DR_DR6] = dregs.dr6;
	state->drs[NVMM_X64_DR_DR7] = dregs.dr7;
	return 0;
}

static int
nvmm_x86_drs_set(struct nvmm_cpu *cpu, const struct nvmm_x64_state *state)
{
	struct kvm_debugregs dregs;

	memset(&dregs, 0, sizeof(dregs));
	dregs.db[0] = state->drs[NVMM_X64_DR_DR0];
	dregs.db[1] = state->drs[NVMM_X64_DR_DR1];
	dregs.db[2] = state->drs[NVMM_X64_DR_DR2];
	dregs.db[3] = state->drs[NVMM_X64_DR_DR3];
	/* The bits that read as fixed values on hardware. */
	dregs.dr6 = (state->drs[NVMM_X64_DR_DR6] & 0xFFFFFFFFULL) | 0xFFFF0FF0;
	dregs.dr7 = (state->drs[NVMM_X64_DR_DR7] & 0xFFFFFFFFULL) | 0x400;
	return nvmm_x86_ioctl(cpu, KVM_SET_DEBUGREGS, &dregs);
}

static int
nvmm_x86_intr_get(struct nvmm_cpu *cpu, struct nvmm_x64_state *state)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	struct kvm_vcpu_events ev;
	int error;

	error = nvmm_x86_ioctl(cpu, KVM_GET_VCPU_EVENTS, &ev);
	if (error)
		return error;
	memset(&state->intr, 0, sizeof(state->intr));
	state->intr.int_shadow = ev.interrupt.shadow != 0;
	state->intr.int_window_exiting = xcpu->int_window_exiting;
	state->intr.nmi_window_exiting = xcpu->nmi_window_exiting;
	state->intr.evt_pending = ev.exception.injected ||
	    ev.interrupt.injected || ev.nmi.injected;
	return 0;
}

static int
nvmm_x86_intr_set(struct nvmm_cpu *cpu, const struct nvmm_x64_state *state)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	struct kvm_vcpu_events ev;
	int error;

	error = nvmm_x86_ioctl(cpu, KVM_GET_VCPU_EVENTS, &ev);
	if (error)
		return error;
	ev.flags = KVM_VCPUEVENT_VALID_SHADOW;
	ev.interrupt.shadow = state->intr.int_shadow ?
	    KVM_X86_SHADOW_INT_MOV_SS : 0;
	error = nvmm_x86_ioctl(cpu, KVM_SET_VCPU_EVENTS, &ev);
	if (error)
		return error;
	xcpu->int_window_exiting = state->intr.int_window_exiting;
	xcpu->nmi_window_exiting = state->intr.nmi_window_exiting;
	return 0;
}

/*
 * The FPU goes through KVM's XSAVE image, whose first 512 bytes are the
 * FXSAVE area NVMM's state carries (KVM_GET_FPU loses MXCSR on some hosts).
 */
#define NVMM_X86_XSTATE_BV_OFFSET	512

static int
nvmm_x86_fpu_get(struct nvmm_cpu *cpu, struct nvmm_x64_state *state)
{
	struct kvm_xsave xsave;
	int error;

	error = nvmm_x86_ioctl(cpu, KVM_GET_XSAVE, &xsave);
	if (error)
		return error;
	memcpy(&state->fpu, xsave.region, sizeof(state->fpu));
	state->fpu.fx_mxcsr_mask = nvmm_x86_mxcsr_mask;
	return 0;
}

/*
 * Whether KVM's XSAVE image of the VCPU holds nothing beyond the FXSAVE
 * area: its header clear but for x87 and SSE, every other component in
 * its initial state, all zeroes.  The FPU of such a VCPU can be loaded
 * from an image made here, without reading KVM's first.
 */
bool
nvmm_x86_xsave_beyond_fxsave_init(struct nvmm_cpu *cpu)
{
	struct kvm_xsave xsave;
	const uint8_t *p = (const uint8_t *)xsave.region;
	uint64_t bv;
	size_t i;

	if (nvmm_x86_ioctl(cpu, KVM_GET_XSAVE, &xsave) != 0)
		return false;
	memcpy(&bv, p + NVMM_X86_XSTATE_BV_OFFSET, sizeof(bv));
	if (bv & ~(X86_XCR0_X87 | X86_XCR0_SSE))
		return false;
	for (i = NVMM_X86_XSTATE_BV_OFFSET + sizeof(bv);
	    i < sizeof(xsave.region); i++)
		if (p[i] != 0)
			return false;
	return true;
}

/*
 * As NetBSD: MXCSR bits the host does not have are cleared.  The rest of
 * KVM's XSAVE image is kept, or, from_init, is the initial state of a VCPU
 * that holds nothing beyond the FXSAVE area.
 */
static int
nvmm_x86_fpu_load(struct nvmm_cpu *cpu, const struct nvmm_x64_state *state,
    bool from_init)
{
	struct kvm_xsave xsave;
	struct fxsave fx;
	uint64_t bv;
	int error;

	if (from_init)
		memset(&xsave, 0, sizeof(xsave));
	else if ((error = nvmm_x86_ioctl(cpu, KVM_GET_XSAVE, &xsave)) != 0)
		return error;
	memcpy(&fx, &state->fpu, sizeof(fx));
	fx.fx_mxcsr &= nvmm_x86_mxcsr_mask;
	fx.fx_mxcsr_mask = nvmm_x86_mxcsr_mask;
	memcpy(xsave.region, &fx, sizeof(fx));
	/* x87 and SSE now come from the legacy area just written. */
	memcpy(&bv, (uint8_t *)xsave.region + NVMM_X86_XSTATE_BV_OFFSET,
	    sizeof(bv));
	bv |= X86_XCR0_X87 | X86_XCR0_SSE;
	memcpy((uint8_t *)xsave.region + NVMM_X86_XSTATE_BV_OFFSET, &bv,
	    sizeof(bv));
	return nvmm_x86_ioctl(cpu, KVM_SET_XSAVE, &xsave);
}

static int
nvmm_x86_fpu_set(struct nvmm_cpu *cpu, const struct nvmm_x64_state *state)
{
	return nvmm_x86_fpu_load(cpu, state, false);
}

/* -------------------------------------------------------------------------- */

#define NVMM_X86_SREGS_GROUPS \
	(NVMM_X64_STATE_SEGS | NVMM_X64_STATE_CRS | NVMM_X64_STATE_MSRS)

int
nvmm_x86_state_get(struct nvmm_cpu *cpu, uint64_t flags,
    struct nvmm_x64_state *state)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int error = 0;

	if (flags & NVMM_X86_SREGS_GROUPS) {
		error = nvmm_x86_ioctl(cpu, KVM_GET_SREGS, &sregs);
		if (error)
			return error;
	}
	if (flags & NVMM_X64_STATE_GPRS) {
		error = nvmm_x86_ioctl(cpu, KVM_GET_REGS, &regs);
		if (error)
			return error;
		nvmm_x86_gprs_from_kvm(&regs, state->gprs);
	}
	if (flags & NVMM_X64_STATE_SEGS)
		nvmm_x86_segs_from_sregs(&sregs, state);
	if (flags & NVMM_X64_STATE_CRS) {
		nvmm_x86_crs_from_sregs(&sregs, state);
		error = nvmm_x86_xcr0_get(cpu, &state->crs[NVMM_X64_CR_XCR0]);
		if (error)
			return error;
	}
	if (flags & NVMM_X64_STATE_MSRS) {
		error = nvmm_x86_msrs_get(cpu, state);
		if (error)
			return error;
		state->msrs[NVMM_X64_MSR_EFER] = sregs.efer;
	}
	if (flags & NVMM_X64_STATE_DRS)
		error = nvmm_x86_drs_get(cpu, state);
	if (error == 0 && (flags & NVMM_X64_STATE_INTR))
		error = nvmm_x86_intr_get(cpu, state);
	if (error == 0 && (flags & NVMM_X64_STATE_FPU))
		error = nvmm_x86_fpu_get(cpu, state);
	return error;
}

static int
nvmm_x86_sregs_set(struct nvmm_cpu *cpu, uint64_t flags,
    const struct nvmm_x64_state *state)
{
	struct kvm_sregs sregs;
	int error;

	/* A read first: the sregs also hold what NVMM does not name. */
	error = nvmm_x86_ioctl(cpu, KVM_GET_SREGS, &sregs);
	if (error)
		return error;
	if (flags & NVMM_X64_STATE_SEGS)
		nvmm_x86_segs_to_sregs(state, &sregs);
	if (flags & NVMM_X64_STATE_CRS)
		nvmm_x86_crs_to_sregs(state, &sregs);
	if (flags & NVMM_X64_STATE_MSRS)
		sregs.efer = state->msrs[NVMM_X64_MSR_EFER];
	error = nvmm_x86_ioctl(cpu, KVM_SET_SREGS, &sregs);
	/*
	 * Without an in-kernel LAPIC, KVM_RUN loads CR8 from the run
	 * structure at every entry: it must hold the new TPR too.
	 */
	if (error == 0 && (flags & NVMM_X64_STATE_CRS))
		nvmm_x86_cpu(cpu)->run->cr8 = sregs.cr8;
	return error;
}

int
nvmm_x86_state_set(struct nvmm_cpu *cpu, uint64_t flags,
    const struct nvmm_x64_state *state)
{
	struct kvm_regs regs;
	int error = 0;

	if (flags & NVMM_X86_SREGS_GROUPS) {
		error = nvmm_x86_sregs_set(cpu, flags, state);
		if (error)
			return error;
	}
	if (flags & NVMM_X64_STATE_CRS) {
		error = nvmm_x86_xcr0_set(cpu, state->crs[NVMM_X64_CR_XCR0]);
		if (error)
			return error;
	}
	if (flags & NVMM_X64_STATE_GPRS) {
		memset(&regs, 0, sizeof(regs));
		nvmm_x86_gprs_to_kvm(state->gprs, &regs);
		error = nvmm_x86_ioctl(cpu, KVM_SET_REGS, &regs);
		if (error)
			return error;
	}
	if (flags & NVMM_X64_STATE_MSRS)
		error = nvmm_x86_msrs_set(cpu, state);
	if (error == 0 && (flags & NVMM_X64_STATE_DRS))
		error = nvmm_x86_drs_set(cpu, state);
	if (error == 0 && (flags & NVMM_X64_STATE_INTR))
		error = nvmm_x86_intr_set(cpu, state);
	if (error == 0 && (flags & NVMM_X64_STATE_FPU))
		error = nvmm_x86_fpu_set(cpu, state);
	return error;
}

/*
 * The groups in which st, read from a VCPU, holds what loading NVMM's
 * RESET state would load: for those the load would change nothing.  The
 * TSC is left out, as its setter leaves out a TSC of 0.
 */
uint64_t
nvmm_x86_reset_groups(const struct nvmm_x64_state *st)
{
	struct nvmm_x64_state reset;
	uint64_t same = 0;

	nvmm_x86_state_reset(&reset);
	if (memcmp(st->segs, reset.segs, sizeof(reset.segs)) == 0)
		same |= NVMM_X64_STATE_SEGS;
	if (memcmp(st->gprs, reset.gprs, sizeof(reset.gprs)) == 0)
		same |= NVMM_X64_STATE_GPRS;
	if (memcmp(st->crs, reset.crs, sizeof(reset.crs)) == 0)
		same |= NVMM_X64_STATE_CRS;
	if (memcmp(st->drs, reset.drs, sizeof(reset.drs)) == 0)
		same |= NVMM_X64_STATE_DRS;
	reset.msrs[NVMM_X64_MSR_TSC] = st->msrs[NVMM_X64_MSR_TSC];
	if (memcmp(st->msrs, reset.msrs, sizeof(reset.msrs)) == 0)
		same |= NVMM_X64_STATE_MSRS;
	if (memcmp(&st->intr, &reset.intr, sizeof(reset.intr)) == 0)
		same |= NVMM_X64_STATE_INTR;
	if (memcmp(&st->fpu, &reset.fpu, sizeof(reset.fpu)) == 0)
		same |= NVMM_X64_STATE_FPU;
	return same;
}

/*
 * Loads NVMM's RESET state into a new VCPU, but for the groups in held,
 * which it holds already, and leaves a copy in *state.  What the setters
 * of those groups would have remembered is remembered all the same.
 * fpu_init: the VCPU holds nothing beyond the FXSAVE area
 * (nvmm_x86_xsave_beyond_fxsave_init), so its FPU need not be read first.
 */
int
nvmm_x86_state_load_reset(struct nvmm_cpu *cpu, uint64_t held,
    bool fpu_init, struct nvmm_x64_state *state)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	uint64_t flags = NVMM_X64_STATE_ALL & ~held;
	int error;

	nvmm_x86_state_reset(state);
	error = nvmm_x86_state_set(cpu,
	    fpu_init ? flags & ~NVMM_X64_STATE_FPU : flags, state);
	if (error == 0 && fpu_init && (flags & NVMM_X64_STATE_FPU))
		error = nvmm_x86_fpu_load(cpu, state, true);
	if (error)
		return error;
	if (!(flags & NVMM_X64_STATE_CRS)) {
		xcpu->shadow_xcr0 = state->crs[NVMM_X64_CR_XCR0];
		xcpu->run->cr8 = state->crs[NVMM_X64_CR_CR8];
	}
	if (!(flags & NVMM_X64_STATE_INTR)) {
		xcpu->int_window_exiting = state->intr.int_window_exiting;
		xcpu->nmi_window_exiting = state->intr.nmi_window_exiting;
	}
	/* Loading the MSRS measured the TSC already. */
	if (!(flags & NVMM_X64_STATE_MSRS))
		error = nvmm_x86_tsc_calibrate(cpu);
	return error;
}

/*
 * What NVMM provides after an exit: the GPRs as they were at the exit,
 * the rest from the registers KVM synced into the run structure, and what
 * KVM does not sync (XCR0, MSRs).
 */
int
nvmm_x86_state_from_exit(struct nvmm_cpu *cpu, uint64_t flags,
    struct nvmm_x64_state *state)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	const struct kvm_sync_regs *sync = &xcpu->run->s.regs;
	int error;

	if (flags & NVMM_X64_STATE_GPRS)
		nvmm_x86_gprs_from_kvm(&nvmm_x86_cpu(cpu)->exit_regs,
		    state->gprs);
	if (flags & NVMM_X64_STATE_SEGS)
		nvmm_x86_segs_from_sregs(&sync->sregs, state);
	if (flags & NVMM_X64_STATE_CRS) {
		nvmm_x86_crs_from_sregs(&sync->sregs, state);
		state->crs[NVMM_X64_CR_XCR0] = xcpu->shadow_xcr0;
		if (sync->sregs.cr4 & X86_CR4_OSXSAVE) {
			error = nvmm_x86_xcr0_get(cpu,
			    &state->crs[NVMM_X64_CR_XCR0]);
			if (error)
				return error;
		}
	}
	if (flags & NVMM_X64_STATE_MSRS) {
		memcpy(state->msrs, xcpu->shadow_msrs, sizeof(state->msrs));
		state->msrs[NVMM_X64_MSR_EFER] = sync->sregs.efer;
		state->msrs[NVMM_X64_MSR_TSC] = nvmm_x86_tsc_now(xcpu);
		xcpu->tsc_last = state->msrs[NVMM_X64_MSR_TSC];
	}
	return 0;
}

/*
 * Loads what the emulator changed in the comm page.  The page is the
 * client's: the flags and the state are copied once, and only the copy is
 * used.  A value KVM refuses fails the run with EINVAL, as NetBSD's run
 * fails on a bad event.
 */
int
nvmm_x86_state_commit(struct nvmm_cpu *cpu)
{
	struct nvmm_comm_page *comm = cpu->comm;
	struct nvmm_x64_state state;
	uint64_t flags;
	int error;

	flags = NVMM_READ_ONCE(comm->state_commit) & NVMM_X64_STATE_ALL;
	if (flags == 0)
		return 0;
	memcpy(&state, (const void *)&comm->state, sizeof(state));
	NVMM_WRITE_ONCE(comm->state_commit, 0);
	error = nvmm_x86_state_set(cpu, flags, &state);
	return error ? EINVAL : 0;
}
