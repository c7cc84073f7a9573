/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * kernel/'s VCPU state: the RESET state, each state group loaded into KVM
 * and read back from it, when commits are applied and what a run leaves
 * cached, and the sanitising NetBSD does on load (reference §7.4, §7.5).
 *
 * A value is read "back from KVM" by clearing state_cached, poisoning the
 * comm page's state and fetching: a getstate that left the page alone
 * would show the poison, not the value written.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "h_vm.h"

TVM_GUEST(count);
TVM_GUEST(poke);

#define CR0_PE		0x00000001ULL
#define CR0_PG		0x80000000ULL
#define EFER_SCE	0x001ULL
#define EFER_LME	0x100ULL
#define EFER_LMA	0x400ULL
#define EFER_NXE	0x800ULL
#define XCR0_X87	0x1ULL
#define XCR0_SSE	0x2ULL
#define XCR0_AVX	0x4ULL

#define POISON		0xA5

/* What a plain IN or OUT exit caches: its assist needs the GPRs alone. */
#define GROUPS_EXIT	NVMM_X64_STATE_GPRS

/* A test case that runs guests: its head, then its body follows. */
#define STATE_TC(name, descr)						\
	ATF_TC(name);							\
	ATF_TC_HEAD(name, tc)						\
	{								\
		atf_tc_set_md_var(tc, "descr", descr);			\
		TVM_TC_NEEDS_KVM(tc);					\
	}								\
	ATF_TC_BODY(name, tc)

/* HLT, and back to it when run again. */
static const uint8_t guest_hlt[] = { 0xF4, 0xEB, 0xFD };

/* A 64-bit VCPU at a HLT; it has not run yet. */
static void
setup(struct tvm *vm, struct tvcpu *vcpu)
{
	tvm_create(vm, TVM_RAM_SIZE);
	tvm_load(vm, TVM_CODE_GPA, guest_hlt, guest_hlt + sizeof(guest_hlt));
	tvm_vcpu_create(vm, 0, vcpu);
	tvm_setup_longmode(vcpu, TVM_CODE_GPA);
}

/* The same, run to its HLT: every later state change is the test's. */
static void
setup_halted(struct tvm *vm, struct tvcpu *vcpu)
{
	setup(vm, vcpu);
	ATF_REQUIRE_EQ(tvm_run_reason(vcpu), NVMM_VCPU_EXIT_HALTED);
}

/*
 * Loads flags of the comm page into KVM now (NVMM_IOC_VCPU_SETSTATE), not
 * at the next run: state_commit is left alone.
 */
static void
commit_now(struct tvcpu *vcpu, uint64_t flags)
{
	int error;

	ATF_REQUIRE_EQ(vcpu->comm->state_cached & flags, flags);
	vcpu->comm->state_wanted = flags;
	error = nvmm_kern_vcpu_setstate(vcpu->vm->owner, vcpu->vm->machid,
	    vcpu->cpuid);
	ATF_REQUIRE_EQ_MSG(error, 0, "setstate: %s", strerror(error));
}

/* Whether n bytes at p still hold what reload() put there. */
static bool
poisoned(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n-- > 0)
		if (*b++ != POISON)
			return false;
	return true;
}

/* Reads flags from KVM, nothing from the comm page. */
static struct nvmm_x64_state *
reload(struct tvcpu *vcpu, uint64_t flags)
{
	vcpu->comm->state_cached = 0;
	memset(&vcpu->comm->state, POISON, sizeof(vcpu->comm->state));
	return tvm_getstate(vcpu, flags);
}

#define CHECK_FIELD(what, i, got, want)					\
	ATF_CHECK_MSG((uint64_t)(got) == (uint64_t)(want),		\
	    "%s[%d]: got %#jx, want %#jx", what, (int)(i),		\
	    (uintmax_t)(got), (uintmax_t)(want))

static void
check_seg(int i, const struct nvmm_x64_state_seg *got,
    const struct nvmm_x64_state_seg *want)
{
	CHECK_FIELD("selector", i, got->selector, want->selector);
	CHECK_FIELD("base", i, got->base, want->base);
	CHECK_FIELD("limit", i, got->limit, want->limit);
	CHECK_FIELD("type", i, got->attrib.type, want->attrib.type);
	CHECK_FIELD("s", i, got->attrib.s, want->attrib.s);
	CHECK_FIELD("dpl", i, got->attrib.dpl, want->attrib.dpl);
	CHECK_FIELD("p", i, got->attrib.p, want->attrib.p);
	CHECK_FIELD("avl", i, got->attrib.avl, want->attrib.avl);
	CHECK_FIELD("l", i, got->attrib.l, want->attrib.l);
	CHECK_FIELD("def", i, got->attrib.def, want->attrib.def);
	CHECK_FIELD("g", i, got->attrib.g, want->attrib.g);
}

static void
check_array(const char *what, const uint64_t *got, const uint64_t *want,
    int n)
{
	int i;

	for (i = 0; i < n; i++)
		CHECK_FIELD(what, i, got[i], want[i]);
}

/*
 * The round trip of an array component: flag committed at the run to the
 * HLT, then read back from KVM; the n values at off in the state must be
 * want's.
 */
static void
roundtrip(struct tvcpu *vcpu, uint64_t flag, const char *what, size_t off,
    const uint64_t *want, int n)
{
	const struct nvmm_x64_state *st;

	tvm_setstate(vcpu, flag);
	ATF_REQUIRE_EQ(tvm_run_reason(vcpu), NVMM_VCPU_EXIT_HALTED);
	st = reload(vcpu, flag);
	check_array(what, (const uint64_t *)(const void *)
	    ((const uint8_t *)st + off), want, n);
}
#define ROUNDTRIP(vcpu, flag, field, want, n)				\
	roundtrip(vcpu, flag, #field, offsetof(struct nvmm_x64_state, field), \
	    want, n)

static void
mkseg(struct nvmm_x64_state_seg *seg, uint16_t sel, uint64_t base,
    uint32_t limit, unsigned type, unsigned s, unsigned dpl)
{
	memset(seg, 0, sizeof(*seg));
	seg->selector = sel;
	seg->base = base;
	seg->limit = limit;
	seg->attrib.type = type;
	seg->attrib.s = s;
	seg->attrib.dpl = dpl;
	seg->attrib.p = 1;
}

/* Reference §7.5. */
static void
check_reset(const struct nvmm_x64_state *st, uint32_t mxcsr_mask,
    bool from_kvm)
{
	struct nvmm_x64_state want;
	int i;

	memset(&want, 0, sizeof(want));
	mkseg(&want.segs[NVMM_X64_SEG_CS], 0xF000, 0xFFFF0000, 0xFFFF, 3, 1, 0);
	for (i = 0; i < NVMM_X64_NSEG; i++)
		if (i != NVMM_X64_SEG_CS)
			mkseg(&want.segs[i], 0, 0, 0xFFFF, 3, 1, 0);
	want.segs[NVMM_X64_SEG_GDT].attrib.type = 0;
	want.segs[NVMM_X64_SEG_GDT].attrib.s = 0;
	want.segs[NVMM_X64_SEG_GDT].attrib.p = 0;
	want.segs[NVMM_X64_SEG_IDT] = want.segs[NVMM_X64_SEG_GDT];
	want.segs[NVMM_X64_SEG_LDT].attrib.type = 2;	/* LDT */
	want.segs[NVMM_X64_SEG_LDT].attrib.s = 0;
	want.segs[NVMM_X64_SEG_TR].attrib.type = 3;	/* busy 286 TSS */
	want.segs[NVMM_X64_SEG_TR].attrib.s = 0;
	for (i = 0; i < NVMM_X64_NSEG; i++)
		check_seg(i, &st->segs[i], &want.segs[i]);

	want.gprs[NVMM_X64_GPR_RDX] = 0x600;
	want.gprs[NVMM_X64_GPR_RIP] = 0xFFF0;
	want.gprs[NVMM_X64_GPR_RFLAGS] = 0x2;
	check_array("gprs", st->gprs, want.gprs, NVMM_X64_NGPR);

	want.crs[NVMM_X64_CR_CR0] = 0x60000010;
	want.crs[NVMM_X64_CR_XCR0] = XCR0_X87;
	check_array("crs", st->crs, want.crs, NVMM_X64_NCR);

	want.drs[NVMM_X64_DR_DR6] = 0xFFFF0FF0;
	want.drs[NVMM_X64_DR_DR7] = 0x400;
	check_array("drs", st->drs, want.drs, NVMM_X64_NDR);

	want.msrs[NVMM_X64_MSR_PAT] = 0x0007040600070406ULL;
	/* KVM's TSC runs: only the comm page has the RESET value, 0. */
	check_array("msrs", st->msrs, want.msrs,
	    from_kvm ? NVMM_X64_MSR_TSC : NVMM_X64_NMSR);

	ATF_CHECK_EQ(st->intr.int_shadow, 0);
	ATF_CHECK_EQ(st->intr.int_window_exiting, 0);
	ATF_CHECK_EQ(st->intr.nmi_window_exiting, 0);
	ATF_CHECK_EQ(st->intr.evt_pending, 0);

	ATF_CHECK_EQ(st->fpu.fx_cw, 0x0040);
	ATF_CHECK_EQ(st->fpu.fx_sw, 0);
	ATF_CHECK_EQ(st->fpu.fx_tw, 0x55);
	if (!from_kvm)	/* reserved byte: hardware need not keep it */
		ATF_CHECK_EQ(st->fpu.fx_zero, 0x55);
	ATF_CHECK_EQ(st->fpu.fx_mxcsr, 0x1F80);
	ATF_CHECK_EQ(st->fpu.fx_mxcsr_mask, mxcsr_mask);
}

STATE_TC(reset_state, "A new VCPU is in the RESET state, "
    "fully cached in the comm page and loaded into KVM")
{
	struct nvmm_capability cap;
	struct tvcpu vcpu;
	struct tvm vm;

	tvm_create(&vm, TVM_RAM_SIZE);
	ATF_REQUIRE_EQ(nvmm_kern_capability(vm.owner, &cap), 0);
	tvm_vcpu_create(&vm, 0, &vcpu);
	ATF_CHECK_EQ(vcpu.comm->state_cached, NVMM_X64_STATE_ALL);
	ATF_CHECK_EQ(vcpu.comm->state_commit, 0);
	check_reset(&vcpu.comm->state, cap.arch.mxcsr_mask, false);

	check_reset(reload(&vcpu, NVMM_X64_STATE_ALL), cap.arch.mxcsr_mask,
	    true);
	ATF_CHECK_EQ(vcpu.comm->state_cached, NVMM_X64_STATE_ALL);
	ATF_CHECK_EQ(vcpu.comm->state_wanted, 0);
	tvm_destroy(&vm);
}

/*
 * kernel/ loads into a VCPU that KVM has just made only the groups in
 * which KVM's own initial state is not NVMM's RESET state, as measured
 * once on a probe VCPU 0: other ids and other machines must agree.
 */
STATE_TC(reset_state_every_vcpu, "A new VCPU of any id, in any machine, "
    "is in the RESET state in KVM in every group")
{
	static const nvmm_cpuid_t ids[] = { 1, 2, 0, 128, NVMM_MAX_VCPUS - 1 };
	struct nvmm_capability cap;
	struct tvcpu vcpu;
	struct tvm vm, vm2;
	size_t i;

	tvm_create(&vm, TVM_RAM_SIZE);
	tvm_create(&vm2, TVM_RAM_SIZE);
	ATF_REQUIRE_EQ(nvmm_kern_capability(vm.owner, &cap), 0);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		tvm_vcpu_create(&vm, ids[i], &vcpu);
		check_reset(reload(&vcpu, NVMM_X64_STATE_ALL),
		    cap.arch.mxcsr_mask, true);
	}
	tvm_vcpu_create(&vm2, 3, &vcpu);
	check_reset(reload(&vcpu, NVMM_X64_STATE_ALL), cap.arch.mxcsr_mask,
	    true);
	tvm_destroy(&vm2);
	tvm_destroy(&vm);
}

/* A VCPU whose every group KVM holds far from RESET; it has not run. */
static void
setup_far_from_reset(struct tvm *vm, struct tvcpu *vcpu,
    struct nvmm_capability *cap)
{
	struct nvmm_x64_state *st;
	uint64_t xcr0_mask;

	tvm_create(vm, TVM_RAM_SIZE);
	ATF_REQUIRE_EQ(nvmm_kern_capability(vm->owner, cap), 0);
	xcr0_mask = cap->arch.xcr0_mask;
	tvm_vcpu_create(vm, 5, vcpu);
	tvm_setup_longmode(vcpu, TVM_CODE_GPA);	/* SEGS, CRS, EFER, GPRS */
	st = tvm_getstate(vcpu, NVMM_X64_STATE_ALL);
	st->crs[NVMM_X64_CR_CR8] = 0x5;
	st->crs[NVMM_X64_CR_XCR0] = xcr0_mask;
	st->drs[NVMM_X64_DR_DR0] = 0x100000;
	st->drs[NVMM_X64_DR_DR7] = 0x400 | 0x5D5D0000;
	st->msrs[NVMM_X64_MSR_STAR] = 0x0023001000000000ULL;
	st->msrs[NVMM_X64_MSR_SYSENTER_CS] = 0x10;
	st->msrs[NVMM_X64_MSR_PAT] = 0x0607000605040100ULL;
	st->intr.int_shadow = 1;
	st->intr.int_window_exiting = 1;
	st->fpu.fx_cw = 0x037F;
	st->fpu.fx_mxcsr = 0x1FBF;
	commit_now(vcpu, NVMM_X64_STATE_ALL);

	/* Every group took, as read back from KVM. */
	st = reload(vcpu, NVMM_X64_STATE_ALL);
	ATF_REQUIRE_EQ(st->segs[NVMM_X64_SEG_CS].attrib.l, 1);
	ATF_REQUIRE_EQ(st->gprs[NVMM_X64_GPR_RIP], TVM_CODE_GPA);
	ATF_REQUIRE(st->crs[NVMM_X64_CR_CR0] & CR0_PG);
	ATF_REQUIRE_EQ(st->crs[NVMM_X64_CR_CR8], 0x5);
	ATF_REQUIRE_EQ(st->crs[NVMM_X64_CR_XCR0], xcr0_mask);
	ATF_REQUIRE_EQ(st->drs[NVMM_X64_DR_DR0], 0x100000);
	ATF_REQUIRE(st->msrs[NVMM_X64_MSR_EFER] & EFER_LMA);
	ATF_REQUIRE_EQ(st->msrs[NVMM_X64_MSR_STAR], 0x0023001000000000ULL);
	ATF_REQUIRE_EQ(st->msrs[NVMM_X64_MSR_PAT], 0x0607000605040100ULL);
	ATF_REQUIRE_EQ(st->intr.int_shadow, 1);
	ATF_REQUIRE_EQ(st->intr.int_window_exiting, 1);
	ATF_REQUIRE_EQ(st->fpu.fx_cw, 0x037F);
}

/*
 * KVM keeps a destroyed VCPU for the next create of its id: unlike one
 * KVM has just made, it holds its last life's state, and every group of
 * the RESET state must be loaded into it.
 */
STATE_TC(reset_state_recreated, "A VCPU destroyed and made again is in "
    "the RESET state in KVM in every group, whatever its last life loaded")
{
	struct nvmm_capability cap;
	struct tvcpu vcpu;
	struct tvm vm;
	int error;

	setup_far_from_reset(&vm, &vcpu, &cap);

	error = nvmm_kern_vcpu_destroy(vm.owner, vm.machid, vcpu.cpuid);
	ATF_REQUIRE_EQ_MSG(error, 0, "vcpu_destroy: %s", strerror(error));
	tvm_vcpu_create(&vm, 5, &vcpu);
	ATF_CHECK_EQ(vcpu.comm->state_cached, NVMM_X64_STATE_ALL);
	check_reset(&vcpu.comm->state, cap.arch.mxcsr_mask, false);
	check_reset(reload(&vcpu, NVMM_X64_STATE_ALL), cap.arch.mxcsr_mask,
	    true);
	tvm_destroy(&vm);
}

STATE_TC(roundtrip_segs, "SEGS: selectors, bases, limits and "
    "every attribute bit reach KVM and come back")
{
	struct nvmm_x64_state_seg want[NVMM_X64_NSEG];
	struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;
	int i;

	setup_halted(&vm, &vcpu);
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_SEGS);
	/* CS and SS stay ring-0 64-bit; the others get odd values. */
	want[NVMM_X64_SEG_CS] = st->segs[NVMM_X64_SEG_CS];
	want[NVMM_X64_SEG_CS].attrib.avl = 1;
	want[NVMM_X64_SEG_SS] = st->segs[NVMM_X64_SEG_SS];
	want[NVMM_X64_SEG_SS].base = 0x5000;
	mkseg(&want[NVMM_X64_SEG_ES], 0x10, 0x11000, 0xFFFFF, 0x3, 1, 3);
	want[NVMM_X64_SEG_ES].attrib.def = 1;
	mkseg(&want[NVMM_X64_SEG_DS], 0x13, 0x22000, 0xFFFFFFFF, 0x1, 1, 1);
	want[NVMM_X64_SEG_DS].attrib.g = 1;
	want[NVMM_X64_SEG_DS].attrib.avl = 1;
	mkseg(&want[NVMM_X64_SEG_FS], 0x2B, 0x123456789000ULL, 0xFFF, 0x3,
	    1, 2);
	mkseg(&want[NVMM_X64_SEG_GS], 0x33, 0xFFFF800000001000ULL, 0xFFFFF,
	    0x7, 1, 0);
	mkseg(&want[NVMM_X64_SEG_LDT], 0x40, 0x44000, 0x1FF, 0x2, 0, 0);
	mkseg(&want[NVMM_X64_SEG_TR], 0x48, 0x45000, 0x67, 0xB, 0, 0);
	mkseg(&want[NVMM_X64_SEG_GDT], 0, 0x14000, 0x7F, 0, 0, 0);
	want[NVMM_X64_SEG_GDT].attrib.p = 0;
	mkseg(&want[NVMM_X64_SEG_IDT], 0, 0x15100, 0x1FF, 0, 0, 0);
	want[NVMM_X64_SEG_IDT].attrib.p = 0;
	memcpy(st->segs, want, sizeof(want));
	commit_now(&vcpu, NVMM_X64_STATE_SEGS);

	st = reload(&vcpu, NVMM_X64_STATE_SEGS);
	for (i = 0; i < NVMM_X64_NSEG; i++)
		check_seg(i, &st->segs[i], &want[i]);
	tvm_destroy(&vm);
}

STATE_TC(roundtrip_gprs, "GPRS committed at run: every GPR, "
    "RFLAGS and RIP as the guest leaves them at HLT")
{
	uint64_t want[NVMM_X64_NGPR];
	struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;
	int i;

	setup(&vm, &vcpu);
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS);
	for (i = 0; i < NVMM_X64_NGPR; i++)
		st->gprs[i] = (0x0101010101010101ULL * (uint64_t)(i + 1)) ^
		    ((uint64_t)i << 60);
	st->gprs[NVMM_X64_GPR_RIP] = TVM_CODE_GPA;
	/* CF PF AF ZF SF DF OF, interrupts off. */
	st->gprs[NVMM_X64_GPR_RFLAGS] = 0x2 | 0x1 | 0x4 | 0x10 | 0x40 |
	    0x80 | 0x400 | 0x800;
	memcpy(want, st->gprs, sizeof(want));
	want[NVMM_X64_GPR_RIP] = TVM_CODE_GPA + 1;
	ROUNDTRIP(&vcpu, NVMM_X64_STATE_GPRS, gprs, want, NVMM_X64_NGPR);
	tvm_destroy(&vm);
}

STATE_TC(roundtrip_crs, "CRS committed at run: CR0, CR2, CR3, "
    "CR4, CR8 and XCR0")
{
	const uint64_t cr3 = TVM_PT_GPA + 0x3000;
	uint64_t want[NVMM_X64_NCR];
	struct nvmm_capability cap;
	struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;

	setup(&vm, &vcpu);
	ATF_REQUIRE_EQ(nvmm_kern_capability(vm.owner, &cap), 0);
	/* A second PML4, so that CR3 differs from the set-up's. */
	memcpy(vm.ram + cr3, vm.ram + TVM_PT_GPA, 0x1000);
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_CRS);
	st->crs[NVMM_X64_CR_CR0] = 0x80050033;	/* PG AM WP NE ET MP PE */
	st->crs[NVMM_X64_CR_CR2] = 0xFFFF8000DEADB000ULL;
	st->crs[NVMM_X64_CR_CR3] = cr3 | 0x18;	/* PWT, PCD */
	st->crs[NVMM_X64_CR_CR4] = 0x6A0;	/* OSXMMEXCPT OSFXSR PGE PAE */
	st->crs[NVMM_X64_CR_CR8] = 0x7;
	st->crs[NVMM_X64_CR_XCR0] = cap.arch.xcr0_mask &
	    (XCR0_X87 | XCR0_SSE);
	memcpy(want, st->crs, sizeof(want));
	ROUNDTRIP(&vcpu, NVMM_X64_STATE_CRS, crs, want, NVMM_X64_NCR);
	tvm_destroy(&vm);
}

STATE_TC(roundtrip_drs, "DRS committed at run: DR0-DR3, DR6 "
    "and DR7")
{
	uint64_t want[NVMM_X64_NDR];
	struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;

	setup(&vm, &vcpu);
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_DRS);
	st->drs[NVMM_X64_DR_DR0] = 0x100000;
	st->drs[NVMM_X64_DR_DR1] = 0x200008;
	st->drs[NVMM_X64_DR_DR2] = 0xFFFF800000300010ULL;
	st->drs[NVMM_X64_DR_DR3] = 0x7FFFFFFFF000ULL;
	st->drs[NVMM_X64_DR_DR6] = 0xFFFF0FF0 | 0x4000 | 0x5;	/* BS, B0, B2 */
	/* Conditions and lengths set, but no breakpoint enabled. */
	st->drs[NVMM_X64_DR_DR7] = 0x400 | 0x300 | 0x5D5D0000;
	memcpy(want, st->drs, sizeof(want));
	ROUNDTRIP(&vcpu, NVMM_X64_STATE_DRS, drs, want, NVMM_X64_NDR);
	tvm_destroy(&vm);
}

STATE_TC(roundtrip_msrs, "MSRS committed at run: EFER, the "
    "SYSCALL and SYSENTER MSRs, KERNELGSBASE and PAT")
{
	uint64_t want[NVMM_X64_NMSR];
	struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;

	setup(&vm, &vcpu);
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_MSRS);
	st->msrs[NVMM_X64_MSR_EFER] = EFER_SCE | EFER_LME | EFER_LMA |
	    EFER_NXE;
	st->msrs[NVMM_X64_MSR_STAR] = 0x0023001000000000ULL;
	st->msrs[NVMM_X64_MSR_LSTAR] = 0xFFFFFFFF81000010ULL;
	st->msrs[NVMM_X64_MSR_CSTAR] = 0xFFFFFFFF81000020ULL;
	st->msrs[NVMM_X64_MSR_SFMASK] = 0x47700;
	st->msrs[NVMM_X64_MSR_KERNELGSBASE] = 0xFFFF888812345000ULL;
	st->msrs[NVMM_X64_MSR_SYSENTER_CS] = 0x10;
	st->msrs[NVMM_X64_MSR_SYSENTER_ESP] = 0xFFFFFE0000001000ULL;
	st->msrs[NVMM_X64_MSR_SYSENTER_EIP] = 0xFFFFFFFF81000030ULL;
	/* UC, WC, WT, WP, WB, UC-, UC, WB: all valid, none as at RESET. */
	st->msrs[NVMM_X64_MSR_PAT] = 0x0607000605040100ULL;
	memcpy(want, st->msrs, sizeof(want));
	ROUNDTRIP(&vcpu, NVMM_X64_STATE_MSRS, msrs, want, NVMM_X64_MSR_TSC);
	tvm_destroy(&vm);
}

STATE_TC(roundtrip_intr, "INTR: the interrupt shadow and "
    "interrupt-window exiting are set and cleared")
{
	struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;

	setup_halted(&vm, &vcpu);
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_INTR);
	ATF_REQUIRE_EQ(st->intr.int_shadow, 0);
	st->intr.int_shadow = 1;
	st->intr.int_window_exiting = 1;
	commit_now(&vcpu, NVMM_X64_STATE_INTR);
	st = reload(&vcpu, NVMM_X64_STATE_INTR);
	ATF_CHECK_EQ(st->intr.int_shadow, 1);
	ATF_CHECK_EQ(st->intr.int_window_exiting, 1);

	st->intr.int_shadow = 0;
	st->intr.int_window_exiting = 0;
	commit_now(&vcpu, NVMM_X64_STATE_INTR);
	st = reload(&vcpu, NVMM_X64_STATE_INTR);
	ATF_CHECK_EQ(st->intr.int_shadow, 0);
	ATF_CHECK_EQ(st->intr.int_window_exiting, 0);
	tvm_destroy(&vm);
}

STATE_TC(roundtrip_fpu, "FPU: control, status and tag words, "
    "x87 and XMM registers, MXCSR")
{
	struct nvmm_capability cap;
	struct nvmm_x64_state *st;
	struct fxsave want;
	struct tvcpu vcpu;
	struct tvm vm;
	int i, b;

	setup_halted(&vm, &vcpu);
	ATF_REQUIRE_EQ(nvmm_kern_capability(vm.owner, &cap), 0);
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_FPU);
	st->fpu.fx_cw = 0x0272;
	st->fpu.fx_sw = 0x3800 | 0x20;	/* TOP 7, PE */
	st->fpu.fx_tw = 0xA5;
	for (i = 0; i < 8; i++) {
		st->fpu.fx_87_ac[i].r.f87_mantissa =
		    0x8000000000000000ULL | (0x1111111111111ULL * (i + 1));
		st->fpu.fx_87_ac[i].r.f87_exp_sign = (uint16_t)(0x3FF0 + i);
	}
	for (i = 0; i < 16; i++)
		for (b = 0; b < 16; b++)
			st->fpu.fx_xmm[i].xmm_bytes[b] = (uint8_t)(i * 16 + b);
	st->fpu.fx_mxcsr = (0x1F80 ^ 0x6000 ^ 0x1) & cap.arch.mxcsr_mask;
	memcpy(&want, &st->fpu, sizeof(want));
	commit_now(&vcpu, NVMM_X64_STATE_FPU);

	st = reload(&vcpu, NVMM_X64_STATE_FPU);
	ATF_CHECK_EQ(st->fpu.fx_cw, want.fx_cw);
	ATF_CHECK_EQ(st->fpu.fx_sw, want.fx_sw);
	ATF_CHECK_EQ(st->fpu.fx_tw, want.fx_tw);
	for (i = 0; i < 8; i++) {
		CHECK_FIELD("mantissa", i, st->fpu.fx_87_ac[i].r.f87_mantissa,
		    want.fx_87_ac[i].r.f87_mantissa);
		CHECK_FIELD("exp_sign", i, st->fpu.fx_87_ac[i].r.f87_exp_sign,
		    want.fx_87_ac[i].r.f87_exp_sign);
	}
	for (i = 0; i < 16; i++)
		ATF_CHECK_MSG(memcmp(st->fpu.fx_xmm[i].xmm_bytes,
		    want.fx_xmm[i].xmm_bytes, 16) == 0, "xmm%d differs", i);
	ATF_CHECK_EQ(st->fpu.fx_mxcsr, want.fx_mxcsr);
	ATF_CHECK_EQ(st->fpu.fx_mxcsr_mask, cap.arch.mxcsr_mask);
	tvm_destroy(&vm);
}

STATE_TC(commit_applied_at_run, "GPRs given by setstate are in the "
    "VCPU when the guest starts, not before the run")
{
	const uint64_t value = 0x1122334455667788ULL;
	const uint64_t addr = TVM_DATA_GPA + 0x40;
	struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;
	uint64_t mem;

	tvm_create(&vm, TVM_RAM_SIZE);
	TVM_LOAD(&vm, TVM_CODE_GPA, poke);
	tvm_vcpu_create(&vm, 0, &vcpu);
	tvm_setup_longmode(&vcpu, TVM_CODE_GPA);
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS);
	st->gprs[NVMM_X64_GPR_RAX] = value;
	st->gprs[NVMM_X64_GPR_RBX] = addr;
	tvm_setstate(&vcpu, NVMM_X64_STATE_GPRS);
	ATF_CHECK(vcpu.comm->state_commit & NVMM_X64_STATE_GPRS);

	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(vcpu.comm->state_commit, 0);
	memcpy(&mem, vm.ram + addr, sizeof(mem));
	ATF_CHECK_EQ_MSG(mem, value, "guest wrote %#jx", (uintmax_t)mem);
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RDX], value);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RIP],
	    TVM_CODE_GPA + (uint64_t)(guest_poke_end - guest_poke_begin));
	tvm_destroy(&vm);
}

STATE_TC(cache_invalidated_by_run, "A run leaves cached only what its "
    "exit provides: nothing after HLT, GPRS after a plain OUT; the rest "
    "is fetched as it is at the exit")
{
	const struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;
	struct tdev dev;

	memset(&dev, 0, sizeof(dev));
	tvm_create(&vm, TVM_RAM_SIZE);
	TVM_LOAD(&vm, TVM_CODE_GPA, count);
	tvm_vcpu_create(&vm, 0, &vcpu);
	tvm_setup_longmode(&vcpu, TVM_CODE_GPA);
	vcpu.comm->state.gprs[NVMM_X64_GPR_RCX] = 3;
	vcpu.comm->state.gprs[NVMM_X64_GPR_RAX] = 0xABCD;
	ATF_REQUIRE_EQ(vcpu.comm->state_cached, NVMM_X64_STATE_ALL);

	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_IO);
	ATF_CHECK_EQ(vcpu.comm->state_cached, GROUPS_EXIT);
	/* What is cached is the state at the exit. */
	st = &vcpu.comm->state;
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RAX], 0xABCD);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RCX], 0);
	tvm_assist(&vcpu, tdev_access, &dev);
	ATF_CHECK_EQ(tdev_find(&dev, 0x80, 0)->value, 0xABCD);
	/* The rest, fetched: as the OUT left it. */
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_SEGS | NVMM_X64_STATE_CRS |
	    NVMM_X64_STATE_MSRS);
	ATF_CHECK_EQ(st->segs[NVMM_X64_SEG_CS].selector, TVM_SEL_CODE64);
	ATF_CHECK_EQ(st->crs[NVMM_X64_CR_CR3], TVM_PT_GPA);
	ATF_CHECK(st->msrs[NVMM_X64_MSR_EFER] & EFER_LMA);

	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(vcpu.comm->state_cached, 0);

	/* Fetched whole and committed, then run: nothing stays cached. */
	(void)tvm_getstate(&vcpu, NVMM_X64_STATE_ALL);
	vcpu.comm->state.gprs[NVMM_X64_GPR_RIP] -= 1;	/* the HLT again */
	tvm_setstate(&vcpu, NVMM_X64_STATE_ALL);
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(vcpu.comm->state_cached, 0);
	tvm_destroy(&vm);
}

STATE_TC(getstate_fetches_only_wanted, "A getstate fetches exactly the "
    "wanted groups, caches them and clears state_wanted")
{
	struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;

	setup_halted(&vm, &vcpu);
	ATF_REQUIRE_EQ(vcpu.comm->state_cached, 0);
	st = &vcpu.comm->state;
	memset(st, POISON, sizeof(*st));

	vcpu.comm->state_wanted = NVMM_X64_STATE_DRS;
	ATF_REQUIRE_EQ(nvmm_kern_vcpu_getstate(vm.owner, vm.machid, 0), 0);
	ATF_CHECK_EQ(vcpu.comm->state_cached, NVMM_X64_STATE_DRS);
	ATF_CHECK_EQ(vcpu.comm->state_wanted, 0);
	ATF_CHECK_EQ(st->drs[NVMM_X64_DR_DR7], 0x400);
	ATF_CHECK_EQ(st->drs[NVMM_X64_DR_DR0], 0);
	/* SEGS, GPRS and CRS lie before the DRs, the other groups after. */
	ATF_CHECK(poisoned(st, offsetof(struct nvmm_x64_state, drs)));
	ATF_CHECK(poisoned(st->msrs, sizeof(*st) -
	    offsetof(struct nvmm_x64_state, msrs)));

	/* The next getstate adds GPRS and leaves the DRs alone. */
	memset(st->drs, POISON, sizeof(st->drs));
	vcpu.comm->state_wanted = NVMM_X64_STATE_GPRS;
	ATF_REQUIRE_EQ(nvmm_kern_vcpu_getstate(vm.owner, vm.machid, 0), 0);
	ATF_CHECK_EQ(vcpu.comm->state_cached,
	    NVMM_X64_STATE_DRS | NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(vcpu.comm->state_wanted, 0);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RIP], TVM_CODE_GPA + 1);
	ATF_CHECK(poisoned(st->drs, sizeof(st->drs)));
	ATF_CHECK(poisoned(st->crs, sizeof(st->crs)));
	tvm_destroy(&vm);
}

/* XCR0 loaded now and read back from KVM. */
static uint64_t
xcr0_through_kvm(struct tvcpu *vcpu, uint64_t xcr0)
{
	tvm_getstate(vcpu, NVMM_X64_STATE_CRS)->crs[NVMM_X64_CR_XCR0] = xcr0;
	commit_now(vcpu, NVMM_X64_STATE_CRS);
	return reload(vcpu, NVMM_X64_STATE_CRS)->crs[NVMM_X64_CR_XCR0];
}

STATE_TC(sanitise_xcr0, "XCR0 is loaded with the x87 bit forced on and "
    "without the bits outside the capability's xcr0_mask")
{
	static const struct {
		uint64_t set, want;	/* want: bits kept if in the mask */
	} t[] = {
		{ 0, XCR0_X87 },
		{ XCR0_SSE, XCR0_X87 | XCR0_SSE },
		{ ~0ULL, XCR0_X87 | XCR0_SSE | XCR0_AVX },
		{ 0x8000000000000007ULL, XCR0_X87 | XCR0_SSE | XCR0_AVX },
		{ XCR0_X87 | 0x200 | 0xE0, XCR0_X87 },	/* PKRU, AVX-512 */
	};
	struct nvmm_capability cap;
	struct tvcpu vcpu;
	struct tvm vm;
	uint64_t xcr0, mask;
	size_t i;

	setup_halted(&vm, &vcpu);
	ATF_REQUIRE_EQ(nvmm_kern_capability(vm.owner, &cap), 0);
	mask = cap.arch.xcr0_mask;
	ATF_REQUIRE(mask & XCR0_X87);
	/* NVMM grants at most x87, SSE and AVX, and AVX only with SSE. */
	ATF_REQUIRE_EQ(mask & ~(XCR0_X87 | XCR0_SSE | XCR0_AVX), 0);
	ATF_REQUIRE(!(mask & XCR0_AVX) || (mask & XCR0_SSE));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		xcr0 = xcr0_through_kvm(&vcpu, t[i].set);
		ATF_CHECK_EQ_MSG(xcr0, t[i].want & mask,
		    "XCR0 %#jx reads %#jx, mask %#jx", (uintmax_t)t[i].set,
		    (uintmax_t)xcr0, (uintmax_t)mask);
	}
	/* The guest runs with what was loaded. */
	ATF_CHECK_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	tvm_destroy(&vm);
}

STATE_TC(sanitise_mxcsr, "MXCSR bits outside mxcsr_mask are cleared; "
    "fx_mxcsr_mask always reads as the capability's")
{
	struct nvmm_capability cap;
	struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;

	setup_halted(&vm, &vcpu);
	ATF_REQUIRE_EQ(nvmm_kern_capability(vm.owner, &cap), 0);
	ATF_REQUIRE(cap.arch.mxcsr_mask != 0 &&
	    cap.arch.mxcsr_mask != 0xFFFFFFFF);
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_FPU);
	st->fpu.fx_mxcsr = 0xFFFFFFFF;
	st->fpu.fx_mxcsr_mask = 0x12345678;
	commit_now(&vcpu, NVMM_X64_STATE_FPU);
	st = reload(&vcpu, NVMM_X64_STATE_FPU);
	ATF_CHECK_EQ_MSG(st->fpu.fx_mxcsr, cap.arch.mxcsr_mask,
	    "MXCSR ~0 reads %#x, mask %#x", st->fpu.fx_mxcsr,
	    cap.arch.mxcsr_mask);
	ATF_CHECK_EQ(st->fpu.fx_mxcsr_mask, cap.arch.mxcsr_mask);
	tvm_destroy(&vm);
}

/* The TSC after writing it as tsc (at once, or at the next run). */
static uint64_t
tsc_written(struct tvcpu *vcpu, uint64_t tsc, bool at_run)
{
	tvm_getstate(vcpu, NVMM_X64_STATE_MSRS)->msrs[NVMM_X64_MSR_TSC] = tsc;
	if (at_run) {
		tvm_setstate(vcpu, NVMM_X64_STATE_MSRS);
		ATF_REQUIRE_EQ(tvm_run_reason(vcpu), NVMM_VCPU_EXIT_HALTED);
	} else
		commit_now(vcpu, NVMM_X64_STATE_MSRS);
	return reload(vcpu, NVMM_X64_STATE_MSRS)->msrs[NVMM_X64_MSR_TSC];
}

/*
 * Only what NVMM promises is checked: this host's KVM (PVM) ignores TSC
 * writes altogether, so that another value is taken cannot be seen here.
 */
STATE_TC(tsc_zero_or_last_ignored, "Writing the TSC as 0 or as the value "
    "last read leaves it running")
{
	struct tvcpu vcpu;
	struct tvm vm;
	uint64_t last, tsc;
	unsigned i;

	setup_halted(&vm, &vcpu);
	last = reload(&vcpu, NVMM_X64_STATE_MSRS)->msrs[NVMM_X64_MSR_TSC];
	ATF_REQUIRE(last != 0);
	for (i = 0; i < 4; i++) {
		/* Even: written back as read (a save and restore); odd: 0. */
		tsc = tsc_written(&vcpu, i % 2 ? 0 : last, i >= 2);
		ATF_CHECK_MSG(tsc >= last, "write %u (%s): TSC %#jx then %#jx",
		    i, i % 2 ? "0" : "last", (uintmax_t)last, (uintmax_t)tsc);
		last = tsc;
	}
	tvm_destroy(&vm);
}

STATE_TC(bad_state_run_einval, "A state KVM refuses (CR0.PG without "
    "PE) fails the run with EINVAL; a good one runs afterwards")
{
	struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;
	uint64_t cr0;
	int error;

	setup_halted(&vm, &vcpu);
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_CRS);
	cr0 = st->crs[NVMM_X64_CR_CR0];
	ATF_REQUIRE((cr0 & (CR0_PE | CR0_PG)) == (CR0_PE | CR0_PG));
	st->crs[NVMM_X64_CR_CR0] = cr0 & ~CR0_PE;
	tvm_setstate(&vcpu, NVMM_X64_STATE_CRS);
	error = tvm_run(&vcpu);
	ATF_CHECK_EQ_MSG(error, EINVAL, "run: %d (%s)", error,
	    strerror(error));

	/* Nothing of it reached KVM; a valid CR0 runs the guest again. */
	st = reload(&vcpu, NVMM_X64_STATE_CRS | NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(st->crs[NVMM_X64_CR_CR0], cr0);
	st->gprs[NVMM_X64_GPR_RIP] = TVM_CODE_GPA;
	tvm_setstate(&vcpu, NVMM_X64_STATE_CRS | NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	tvm_destroy(&vm);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, reset_state);
	ATF_TP_ADD_TC(tp, reset_state_every_vcpu);
	ATF_TP_ADD_TC(tp, reset_state_recreated);
	ATF_TP_ADD_TC(tp, roundtrip_segs);
	ATF_TP_ADD_TC(tp, roundtrip_gprs);
	ATF_TP_ADD_TC(tp, roundtrip_crs);
	ATF_TP_ADD_TC(tp, roundtrip_drs);
	ATF_TP_ADD_TC(tp, roundtrip_msrs);
	ATF_TP_ADD_TC(tp, roundtrip_intr);
	ATF_TP_ADD_TC(tp, roundtrip_fpu);
	ATF_TP_ADD_TC(tp, commit_applied_at_run);
	ATF_TP_ADD_TC(tp, cache_invalidated_by_run);
	ATF_TP_ADD_TC(tp, getstate_fetches_only_wanted);
	ATF_TP_ADD_TC(tp, sanitise_xcr0);
	ATF_TP_ADD_TC(tp, sanitise_mxcsr);
	ATF_TP_ADD_TC(tp, tsc_zero_or_last_ignored);
	ATF_TP_ADD_TC(tp, bad_state_run_einval);
	return atf_no_error();
}
