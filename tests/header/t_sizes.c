/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * t_header_sizes: the NVMM headers against the NetBSD ABI.  Every size,
 * alignment, field offset, bit-field position and constant value that
 * NetBSD code (and the driver/library on the other side of the comm page)
 * depends on is compared with the value NetBSD has on amd64.
 */

#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <atf-c.h>

#include <nvmm.h>

/*
 * Wrappers around ATF_CHECK_EQ_MSG that also print the value found, so that
 * a failure says by how much a layout is off.
 */
#define CHECK_SIZE(type, size)						\
	ATF_CHECK_EQ_MSG((size_t)(size), sizeof(type),			\
	    "sizeof(%s) is %zu, want %zu", #type, sizeof(type),		\
	    (size_t)(size))

#define CHECK_ALIGN(type, align)					\
	ATF_CHECK_EQ_MSG((size_t)(align), alignof(type),		\
	    "alignof(%s) is %zu, want %zu", #type, alignof(type),	\
	    (size_t)(align))

#define CHECK_OFF(type, member, off)					\
	ATF_CHECK_EQ_MSG((size_t)(off), offsetof(type, member),		\
	    "offsetof(%s, %s) is %zu, want %zu", #type, #member,	\
	    offsetof(type, member), (size_t)(off))

/* Size of a member, without needing an object. */
#define MSIZE(type, member)	sizeof(((type *)0)->member)

#define CHECK_MSIZE(type, member, size)					\
	ATF_CHECK_EQ_MSG((size_t)(size), MSIZE(type, member),		\
	    "sizeof(%s.%s) is %zu, want %zu", #type, #member,		\
	    MSIZE(type, member), (size_t)(size))

#define CHECK_VAL(expr, val)						\
	ATF_CHECK_EQ_MSG((uintmax_t)(val), (uintmax_t)(expr),		\
	    "%s is %#jx, want %#jx", #expr, (uintmax_t)(expr),		\
	    (uintmax_t)(val))

/* Types matter beyond size where signedness or qualifiers are the API. */
#define CHECK_TYPE(expr, type)						\
	ATF_CHECK_MSG(__builtin_types_compatible_p(__typeof__(expr), type), \
	    "%s is not of type %s", #expr, #type)

#define IS_UNSIGNED(type)	((type)-1 > (type)0)

/* The little-endian integer found at byte offset off of an object. */
static uint64_t
raw(const void *obj, size_t off, size_t len)
{
	uint64_t v = 0;

	memcpy(&v, (const char *)obj + off, len);
	return v;
}

/* -------------------------------------------------------------------------- */

ATF_TC_WITHOUT_HEAD(capability);
ATF_TC_BODY(capability, tc)
{

	CHECK_VAL(NVMM_KERN_VERSION, 2);

	CHECK_SIZE(gpaddr_t, 8);
	CHECK_SIZE(gvaddr_t, 8);
	CHECK_SIZE(nvmm_machid_t, 4);
	CHECK_SIZE(nvmm_cpuid_t, 4);
	ATF_CHECK(IS_UNSIGNED(gpaddr_t));
	ATF_CHECK(IS_UNSIGNED(gvaddr_t));
	ATF_CHECK(IS_UNSIGNED(nvmm_machid_t));
	ATF_CHECK(IS_UNSIGNED(nvmm_cpuid_t));

	CHECK_SIZE(struct nvmm_capability, 104);
	CHECK_OFF(struct nvmm_capability, version, 0);
	CHECK_OFF(struct nvmm_capability, state_size, 4);
	CHECK_OFF(struct nvmm_capability, max_machines, 8);
	CHECK_OFF(struct nvmm_capability, max_vcpus, 12);
	CHECK_OFF(struct nvmm_capability, max_ram, 16);
	CHECK_OFF(struct nvmm_capability, arch, 24);
	CHECK_MSIZE(struct nvmm_capability, version, 4);
	CHECK_MSIZE(struct nvmm_capability, state_size, 4);
	CHECK_MSIZE(struct nvmm_capability, max_machines, 4);
	CHECK_MSIZE(struct nvmm_capability, max_vcpus, 4);
	CHECK_MSIZE(struct nvmm_capability, max_ram, 8);

	CHECK_SIZE(struct nvmm_cap_md, 80);
	CHECK_OFF(struct nvmm_cap_md, mach_conf_support, 0);
	CHECK_OFF(struct nvmm_cap_md, vcpu_conf_support, 8);
	CHECK_OFF(struct nvmm_cap_md, xcr0_mask, 16);
	CHECK_OFF(struct nvmm_cap_md, mxcsr_mask, 24);
	CHECK_OFF(struct nvmm_cap_md, conf_cpuid_maxops, 28);
	CHECK_OFF(struct nvmm_cap_md, rsvd, 32);
	CHECK_MSIZE(struct nvmm_cap_md, mxcsr_mask, 4);
	CHECK_MSIZE(struct nvmm_cap_md, conf_cpuid_maxops, 4);
	CHECK_MSIZE(struct nvmm_cap_md, rsvd, 48);
	CHECK_OFF(struct nvmm_capability, arch.vcpu_conf_support, 32);
	CHECK_OFF(struct nvmm_capability, arch.rsvd[5], 96);

	CHECK_VAL(NVMM_CAP_ARCH_VCPU_CONF_CPUID, 0x1);
	CHECK_VAL(NVMM_CAP_ARCH_VCPU_CONF_TPR, 0x2);
	/* Bit n stands for conf op MD_BEGIN+n. */
	CHECK_VAL(NVMM_CAP_ARCH_VCPU_CONF_CPUID,
	    __BIT(NVMM_VCPU_CONF_MD(NVMM_VCPU_CONF_CPUID)));
	CHECK_VAL(NVMM_CAP_ARCH_VCPU_CONF_TPR,
	    __BIT(NVMM_VCPU_CONF_MD(NVMM_VCPU_CONF_TPR)));
}

ATF_TC_WITHOUT_HEAD(comm_page);
ATF_TC_BODY(comm_page, tc)
{

	CHECK_SIZE(struct nvmm_comm_page, 1072);
	CHECK_ALIGN(struct nvmm_comm_page, 16);
	ATF_CHECK(sizeof(struct nvmm_comm_page) <= 4096);
	CHECK_OFF(struct nvmm_comm_page, state_wanted, 0);
	CHECK_OFF(struct nvmm_comm_page, state_cached, 8);
	CHECK_OFF(struct nvmm_comm_page, state_commit, 16);
	CHECK_OFF(struct nvmm_comm_page, state, 32);
	CHECK_OFF(struct nvmm_comm_page, event_commit, 1040);
	CHECK_OFF(struct nvmm_comm_page, event, 1048);
	CHECK_OFF(struct nvmm_comm_page, stop, 1064);
	CHECK_MSIZE(struct nvmm_comm_page, state_wanted, 8);
	CHECK_MSIZE(struct nvmm_comm_page, state_cached, 8);
	CHECK_MSIZE(struct nvmm_comm_page, state_commit, 8);
	CHECK_MSIZE(struct nvmm_comm_page, state, 1008);
	CHECK_MSIZE(struct nvmm_comm_page, event_commit, 1);
	CHECK_MSIZE(struct nvmm_comm_page, event, 16);
	CHECK_MSIZE(struct nvmm_comm_page, stop, 4);
	CHECK_TYPE(((struct nvmm_comm_page *)0)->event_commit, bool);
	CHECK_TYPE(((struct nvmm_comm_page *)0)->stop, volatile int);
	CHECK_TYPE(((struct nvmm_comm_page *)0)->state,
	    struct nvmm_x64_state);
	CHECK_TYPE(((struct nvmm_comm_page *)0)->event,
	    struct nvmm_x86_event);

	CHECK_VAL(NVMM_COMM_OFF(0, 0), 0);
	CHECK_VAL(NVMM_COMM_OFF(3, 5), 0x305000);
	CHECK_VAL(NVMM_COMM_OFF(127, 255), 0x7FFF000);
	/* Only 8 bits of each id are encoded. */
	CHECK_VAL(NVMM_COMM_OFF(0x1FF, 0x3FF), 0xFFFF000);
	CHECK_VAL(NVMM_COMM_MACHID(0x305000), 3);
	CHECK_VAL(NVMM_COMM_CPUID(0x305000), 5);
	CHECK_VAL(NVMM_COMM_MACHID(NVMM_COMM_OFF(200, 17)), 200);
	CHECK_VAL(NVMM_COMM_CPUID(NVMM_COMM_OFF(200, 17)), 17);
	/* Bits outside the two fields are ignored on decoding. */
	CHECK_VAL(NVMM_COMM_MACHID(0xF12345FFFULL), 0x23);
	CHECK_VAL(NVMM_COMM_CPUID(0xF12345FFFULL), 0x45);
	/* Page aligned, so that it can be an mmap offset. */
	CHECK_VAL(NVMM_COMM_OFF(0xAB, 0xCD) & 0xFFF, 0);
}

ATF_TC_WITHOUT_HEAD(state_indexes);
ATF_TC_BODY(state_indexes, tc)
{

	CHECK_VAL(NVMM_X64_SEG_ES, 0);
	CHECK_VAL(NVMM_X64_SEG_CS, 1);
	CHECK_VAL(NVMM_X64_SEG_SS, 2);
	CHECK_VAL(NVMM_X64_SEG_DS, 3);
	CHECK_VAL(NVMM_X64_SEG_FS, 4);
	CHECK_VAL(NVMM_X64_SEG_GS, 5);
	CHECK_VAL(NVMM_X64_SEG_GDT, 6);
	CHECK_VAL(NVMM_X64_SEG_IDT, 7);
	CHECK_VAL(NVMM_X64_SEG_LDT, 8);
	CHECK_VAL(NVMM_X64_SEG_TR, 9);
	CHECK_VAL(NVMM_X64_NSEG, 10);

	CHECK_VAL(NVMM_X64_GPR_RAX, 0);
	CHECK_VAL(NVMM_X64_GPR_RCX, 1);
	CHECK_VAL(NVMM_X64_GPR_RDX, 2);
	CHECK_VAL(NVMM_X64_GPR_RBX, 3);
	CHECK_VAL(NVMM_X64_GPR_RSP, 4);
	CHECK_VAL(NVMM_X64_GPR_RBP, 5);
	CHECK_VAL(NVMM_X64_GPR_RSI, 6);
	CHECK_VAL(NVMM_X64_GPR_RDI, 7);
	CHECK_VAL(NVMM_X64_GPR_R8, 8);
	CHECK_VAL(NVMM_X64_GPR_R9, 9);
	CHECK_VAL(NVMM_X64_GPR_R10, 10);
	CHECK_VAL(NVMM_X64_GPR_R11, 11);
	CHECK_VAL(NVMM_X64_GPR_R12, 12);
	CHECK_VAL(NVMM_X64_GPR_R13, 13);
	CHECK_VAL(NVMM_X64_GPR_R14, 14);
	CHECK_VAL(NVMM_X64_GPR_R15, 15);
	CHECK_VAL(NVMM_X64_GPR_RIP, 16);
	CHECK_VAL(NVMM_X64_GPR_RFLAGS, 17);
	CHECK_VAL(NVMM_X64_NGPR, 18);

	CHECK_VAL(NVMM_X64_CR_CR0, 0);
	CHECK_VAL(NVMM_X64_CR_CR2, 1);
	CHECK_VAL(NVMM_X64_CR_CR3, 2);
	CHECK_VAL(NVMM_X64_CR_CR4, 3);
	CHECK_VAL(NVMM_X64_CR_CR8, 4);
	CHECK_VAL(NVMM_X64_CR_XCR0, 5);
	CHECK_VAL(NVMM_X64_NCR, 6);

	CHECK_VAL(NVMM_X64_DR_DR0, 0);
	CHECK_VAL(NVMM_X64_DR_DR1, 1);
	CHECK_VAL(NVMM_X64_DR_DR2, 2);
	CHECK_VAL(NVMM_X64_DR_DR3, 3);
	CHECK_VAL(NVMM_X64_DR_DR6, 4);
	CHECK_VAL(NVMM_X64_DR_DR7, 5);
	CHECK_VAL(NVMM_X64_NDR, 6);

	CHECK_VAL(NVMM_X64_MSR_EFER, 0);
	CHECK_VAL(NVMM_X64_MSR_STAR, 1);
	CHECK_VAL(NVMM_X64_MSR_LSTAR, 2);
	CHECK_VAL(NVMM_X64_MSR_CSTAR, 3);
	CHECK_VAL(NVMM_X64_MSR_SFMASK, 4);
	CHECK_VAL(NVMM_X64_MSR_KERNELGSBASE, 5);
	CHECK_VAL(NVMM_X64_MSR_SYSENTER_CS, 6);
	CHECK_VAL(NVMM_X64_MSR_SYSENTER_ESP, 7);
	CHECK_VAL(NVMM_X64_MSR_SYSENTER_EIP, 8);
	CHECK_VAL(NVMM_X64_MSR_PAT, 9);
	CHECK_VAL(NVMM_X64_MSR_TSC, 10);
	CHECK_VAL(NVMM_X64_NMSR, 11);

	CHECK_VAL(NVMM_X64_STATE_SEGS, 0x01);
	CHECK_VAL(NVMM_X64_STATE_GPRS, 0x02);
	CHECK_VAL(NVMM_X64_STATE_CRS, 0x04);
	CHECK_VAL(NVMM_X64_STATE_DRS, 0x08);
	CHECK_VAL(NVMM_X64_STATE_MSRS, 0x10);
	CHECK_VAL(NVMM_X64_STATE_INTR, 0x20);
	CHECK_VAL(NVMM_X64_STATE_FPU, 0x40);
	CHECK_VAL(NVMM_X64_STATE_ALL, 0x7F);
}

ATF_TC_WITHOUT_HEAD(state_seg);
ATF_TC_BODY(state_seg, tc)
{
	struct nvmm_x64_state_seg seg;

	CHECK_SIZE(struct nvmm_x64_state_seg, 16);
	CHECK_OFF(struct nvmm_x64_state_seg, selector, 0);
	CHECK_OFF(struct nvmm_x64_state_seg, attrib, 2);
	CHECK_OFF(struct nvmm_x64_state_seg, limit, 4);
	CHECK_OFF(struct nvmm_x64_state_seg, base, 8);
	CHECK_MSIZE(struct nvmm_x64_state_seg, selector, 2);
	CHECK_MSIZE(struct nvmm_x64_state_seg, attrib, 2);
	CHECK_MSIZE(struct nvmm_x64_state_seg, limit, 4);
	CHECK_MSIZE(struct nvmm_x64_state_seg, base, 8);

	/*
	 * attrib must be the AMD VMCB packing: type 3:0, S 4, DPL 6:5, P 7,
	 * AVL 8, L 9, D/B 10, G 11.  Set one field at a time and look at
	 * the raw 16 bits.
	 */
#define ATTRIB_RAW(field, value, want) do {				\
	memset(&seg, 0, sizeof(seg));					\
	seg.attrib.field = (value);					\
	ATF_CHECK_EQ_MSG((uint64_t)(want), raw(&seg, 2, 2),		\
	    "attrib.%s = %#x gives raw %#jx, want %#x", #field,		\
	    (unsigned)(value), (uintmax_t)raw(&seg, 2, 2),		\
	    (unsigned)(want));						\
	/* Nothing spills into the neighbouring fields. */		\
	ATF_CHECK_EQ(0, raw(&seg, 0, 2));				\
	ATF_CHECK_EQ(0, raw(&seg, 4, 4));				\
} while (0)
	ATTRIB_RAW(type, 0xF, 0x000F);
	ATTRIB_RAW(type, 0xB, 0x000B);
	ATTRIB_RAW(s, 1, 1 << 4);
	ATTRIB_RAW(dpl, 3, 3 << 5);
	ATTRIB_RAW(dpl, 2, 2 << 5);
	ATTRIB_RAW(p, 1, 1 << 7);
	ATTRIB_RAW(avl, 1, 1 << 8);
	ATTRIB_RAW(l, 1, 1 << 9);
	ATTRIB_RAW(def, 1, 1 << 10);
	ATTRIB_RAW(g, 1, 1 << 11);
	ATTRIB_RAW(rsvd, 0xF, 0xF000);
#undef ATTRIB_RAW

	/* And back: a raw 64-bit code segment attribute 0xA9B. */
	memset(&seg, 0, sizeof(seg));
	memcpy((char *)&seg + 2, &(uint16_t){ 0x0A9B }, 2);
	ATF_CHECK_EQ(0xB, seg.attrib.type);
	ATF_CHECK_EQ(1, seg.attrib.s);
	ATF_CHECK_EQ(0, seg.attrib.dpl);
	ATF_CHECK_EQ(1, seg.attrib.p);
	ATF_CHECK_EQ(0, seg.attrib.avl);
	ATF_CHECK_EQ(1, seg.attrib.l);
	ATF_CHECK_EQ(0, seg.attrib.def);
	ATF_CHECK_EQ(1, seg.attrib.g);
	ATF_CHECK_EQ(0, seg.attrib.rsvd);
}

ATF_TC_WITHOUT_HEAD(state_intr);
ATF_TC_BODY(state_intr, tc)
{
	struct nvmm_x64_state_intr intr;

	CHECK_SIZE(struct nvmm_x64_state_intr, 8);

#define INTR_RAW(field, value, want) do {				\
	memset(&intr, 0, sizeof(intr));					\
	intr.field = (value);						\
	ATF_CHECK_EQ_MSG((uint64_t)(want), raw(&intr, 0, 8),		\
	    "intr.%s = %#jx gives raw %#jx, want %#jx", #field,		\
	    (uintmax_t)(value), (uintmax_t)raw(&intr, 0, 8),		\
	    (uintmax_t)(want));						\
} while (0)
	INTR_RAW(int_shadow, 1, 1ULL << 0);
	INTR_RAW(int_window_exiting, 1, 1ULL << 1);
	INTR_RAW(nmi_window_exiting, 1, 1ULL << 2);
	INTR_RAW(evt_pending, 1, 1ULL << 3);
	INTR_RAW(rsvd, 1, 1ULL << 4);
	INTR_RAW(rsvd, 0xFFFFFFFFFFFFFFFULL, 0xFFFFFFFFFFFFFFF0ULL);
#undef INTR_RAW
}

ATF_TC_WITHOUT_HEAD(state);
ATF_TC_BODY(state, tc)
{

	CHECK_SIZE(struct nvmm_x64_state, 1008);
	CHECK_SIZE(struct nvmm_vcpu_state, 1008);
	CHECK_ALIGN(struct nvmm_x64_state, 16);
	CHECK_OFF(struct nvmm_x64_state, segs, 0);
	CHECK_OFF(struct nvmm_x64_state, gprs, 160);
	CHECK_OFF(struct nvmm_x64_state, crs, 304);
	CHECK_OFF(struct nvmm_x64_state, drs, 352);
	CHECK_OFF(struct nvmm_x64_state, msrs, 400);
	CHECK_OFF(struct nvmm_x64_state, intr, 488);
	CHECK_OFF(struct nvmm_x64_state, fpu, 496);
	CHECK_MSIZE(struct nvmm_x64_state, segs, 10 * 16);
	CHECK_MSIZE(struct nvmm_x64_state, gprs, 18 * 8);
	CHECK_MSIZE(struct nvmm_x64_state, crs, 6 * 8);
	CHECK_MSIZE(struct nvmm_x64_state, drs, 6 * 8);
	CHECK_MSIZE(struct nvmm_x64_state, msrs, 11 * 8);
	CHECK_MSIZE(struct nvmm_x64_state, intr, 8);
	CHECK_MSIZE(struct nvmm_x64_state, fpu, 512);
	CHECK_OFF(struct nvmm_x64_state, segs[NVMM_X64_SEG_TR].base,
	    9 * 16 + 8);
	CHECK_OFF(struct nvmm_x64_state, gprs[NVMM_X64_GPR_RFLAGS],
	    160 + 17 * 8);
	CHECK_OFF(struct nvmm_x64_state, crs[NVMM_X64_CR_XCR0], 304 + 5 * 8);
	CHECK_OFF(struct nvmm_x64_state, drs[NVMM_X64_DR_DR7], 352 + 5 * 8);
	CHECK_OFF(struct nvmm_x64_state, msrs[NVMM_X64_MSR_TSC],
	    400 + 10 * 8);
	CHECK_OFF(struct nvmm_x64_state, fpu.fx_mxcsr, 496 + 24);
	CHECK_OFF(struct nvmm_x64_state, fpu.fx_xmm[15], 496 + 400);
	CHECK_TYPE(((struct nvmm_x64_state *)0)->fpu, struct fxsave);
}

ATF_TC_WITHOUT_HEAD(exit);
ATF_TC_BODY(exit, tc)
{
	struct nvmm_vcpu_exit e;

	CHECK_VAL(NVMM_VCPU_EXIT_NONE, 0x0);
	CHECK_VAL(NVMM_VCPU_EXIT_STOPPED, 0xFFFFFFFFFFFFFFFEULL);
	CHECK_VAL(NVMM_VCPU_EXIT_INVALID, 0xFFFFFFFFFFFFFFFFULL);
	CHECK_VAL(NVMM_VCPU_EXIT_MEMORY, 0x1);
	CHECK_VAL(NVMM_VCPU_EXIT_IO, 0x2);
	CHECK_VAL(NVMM_VCPU_EXIT_SHUTDOWN, 0x1000);
	CHECK_VAL(NVMM_VCPU_EXIT_INT_READY, 0x1001);
	CHECK_VAL(NVMM_VCPU_EXIT_NMI_READY, 0x1002);
	CHECK_VAL(NVMM_VCPU_EXIT_HALTED, 0x1003);
	CHECK_VAL(NVMM_VCPU_EXIT_TPR_CHANGED, 0x1004);
	CHECK_VAL(NVMM_VCPU_EXIT_RDMSR, 0x2000);
	CHECK_VAL(NVMM_VCPU_EXIT_WRMSR, 0x2001);
	CHECK_VAL(NVMM_VCPU_EXIT_MONITOR, 0x2002);
	CHECK_VAL(NVMM_VCPU_EXIT_MWAIT, 0x2003);
	CHECK_VAL(NVMM_VCPU_EXIT_CPUID, 0x2004);
	/* They are unsigned 64-bit constants, usable in a switch on reason. */
	CHECK_SIZE(NVMM_VCPU_EXIT_NONE, 8);
	CHECK_SIZE(NVMM_VCPU_EXIT_IO, 8);
	ATF_CHECK(NVMM_VCPU_EXIT_INVALID > 0);

	CHECK_SIZE(struct nvmm_vcpu_exit, 64);
	CHECK_SIZE(struct nvmm_x86_exit, 64);
	CHECK_OFF(struct nvmm_vcpu_exit, reason, 0);
	CHECK_OFF(struct nvmm_vcpu_exit, u, 8);
	CHECK_OFF(struct nvmm_vcpu_exit, exitstate, 40);
	CHECK_MSIZE(struct nvmm_vcpu_exit, reason, 8);
	CHECK_MSIZE(struct nvmm_vcpu_exit, u, 32);
	CHECK_MSIZE(struct nvmm_vcpu_exit, exitstate, 24);

	/* u.mem */
	CHECK_SIZE(struct nvmm_x86_exit_memory, 32);
	CHECK_OFF(struct nvmm_vcpu_exit, u.mem, 8);
	CHECK_OFF(struct nvmm_vcpu_exit, u.mem.prot, 8 + 0);
	CHECK_OFF(struct nvmm_vcpu_exit, u.mem.gpa, 8 + 8);
	CHECK_OFF(struct nvmm_vcpu_exit, u.mem.inst_len, 8 + 16);
	CHECK_OFF(struct nvmm_vcpu_exit, u.mem.inst_bytes, 8 + 17);
	CHECK_MSIZE(struct nvmm_vcpu_exit, u.mem.inst_bytes, 15);
	CHECK_TYPE(e.u.mem.prot, int);
	CHECK_TYPE(e.u.mem.gpa, gpaddr_t);

	/* u.io */
	CHECK_SIZE(struct nvmm_x86_exit_io, 24);
	CHECK_OFF(struct nvmm_vcpu_exit, u.io, 8);
	CHECK_OFF(struct nvmm_vcpu_exit, u.io.in, 8 + 0);
	CHECK_OFF(struct nvmm_vcpu_exit, u.io.port, 8 + 2);
	CHECK_OFF(struct nvmm_vcpu_exit, u.io.seg, 8 + 4);
	CHECK_OFF(struct nvmm_vcpu_exit, u.io.address_size, 8 + 5);
	CHECK_OFF(struct nvmm_vcpu_exit, u.io.operand_size, 8 + 6);
	CHECK_OFF(struct nvmm_vcpu_exit, u.io.rep, 8 + 7);
	CHECK_OFF(struct nvmm_vcpu_exit, u.io.str, 8 + 8);
	CHECK_OFF(struct nvmm_vcpu_exit, u.io.npc, 8 + 16);
	CHECK_TYPE(e.u.io.in, bool);
	CHECK_TYPE(e.u.io.port, uint16_t);
	CHECK_TYPE(e.u.io.seg, int8_t);	/* -1 must read back as -1 */
	CHECK_TYPE(e.u.io.address_size, uint8_t);
	CHECK_TYPE(e.u.io.operand_size, uint8_t);
	CHECK_TYPE(e.u.io.rep, bool);
	CHECK_TYPE(e.u.io.str, bool);
	CHECK_TYPE(e.u.io.npc, uint64_t);

	/* u.rdmsr, u.wrmsr */
	CHECK_SIZE(struct nvmm_x86_exit_rdmsr, 16);
	CHECK_OFF(struct nvmm_vcpu_exit, u.rdmsr.msr, 8 + 0);
	CHECK_OFF(struct nvmm_vcpu_exit, u.rdmsr.npc, 8 + 8);
	CHECK_TYPE(e.u.rdmsr.msr, uint32_t);
	CHECK_SIZE(struct nvmm_x86_exit_wrmsr, 24);
	CHECK_OFF(struct nvmm_vcpu_exit, u.wrmsr.msr, 8 + 0);
	CHECK_OFF(struct nvmm_vcpu_exit, u.wrmsr.val, 8 + 8);
	CHECK_OFF(struct nvmm_vcpu_exit, u.wrmsr.npc, 8 + 16);
	CHECK_TYPE(e.u.wrmsr.msr, uint32_t);
	CHECK_TYPE(e.u.wrmsr.val, uint64_t);

	/* u.insn, u.inv */
	CHECK_SIZE(struct nvmm_x86_exit_insn, 8);
	CHECK_OFF(struct nvmm_vcpu_exit, u.insn.npc, 8);
	CHECK_SIZE(struct nvmm_x86_exit_invalid, 8);
	CHECK_OFF(struct nvmm_vcpu_exit, u.inv.hwcode, 8);

	/* exitstate */
	CHECK_OFF(struct nvmm_vcpu_exit, exitstate.rflags, 40);
	CHECK_OFF(struct nvmm_vcpu_exit, exitstate.cr8, 48);
#define EXITSTATE_RAW(field, want) do {					\
	memset(&e, 0, sizeof(e));					\
	e.exitstate.field = 1;						\
	ATF_CHECK_EQ_MSG((uint64_t)(want), raw(&e, 56, 8),		\
	    "exitstate.%s = 1 gives raw %#jx, want %#jx", #field,	\
	    (uintmax_t)raw(&e, 56, 8), (uintmax_t)(want));		\
} while (0)
	EXITSTATE_RAW(int_shadow, 1ULL << 0);
	EXITSTATE_RAW(int_window_exiting, 1ULL << 1);
	EXITSTATE_RAW(nmi_window_exiting, 1ULL << 2);
	EXITSTATE_RAW(evt_pending, 1ULL << 3);
	EXITSTATE_RAW(rsvd, 1ULL << 4);
#undef EXITSTATE_RAW

	/* A signed seg: the driver writes 0xFF for "unknown". */
	memset(&e, 0, sizeof(e));
	e.u.io.seg = -1;
	CHECK_VAL(raw(&e, 12, 1), 0xFF);
	ATF_CHECK(e.u.io.seg < 0);
}

ATF_TC_WITHOUT_HEAD(event);
ATF_TC_BODY(event, tc)
{
	struct nvmm_vcpu_event ev;

	CHECK_VAL(NVMM_VCPU_EVENT_EXCP, 0);
	CHECK_VAL(NVMM_VCPU_EVENT_INTR, 1);

	CHECK_SIZE(struct nvmm_vcpu_event, 16);
	CHECK_SIZE(struct nvmm_x86_event, 16);
	CHECK_OFF(struct nvmm_vcpu_event, type, 0);
	CHECK_OFF(struct nvmm_vcpu_event, vector, 4);
	CHECK_OFF(struct nvmm_vcpu_event, u, 8);
	CHECK_OFF(struct nvmm_vcpu_event, u.excp.error, 8);
	CHECK_TYPE(ev.type, u_int);
	CHECK_TYPE(ev.vector, uint8_t);
	CHECK_TYPE(ev.u.excp.error, uint64_t);
}

ATF_TC_WITHOUT_HEAD(conf);
ATF_TC_BODY(conf, tc)
{
	struct nvmm_vcpu_conf_cpuid cpuid;
	struct nvmm_vcpu_conf_tpr tpr;

	CHECK_VAL(NVMM_MACH_CONF_LIBNVMM_BEGIN, 0);
	CHECK_VAL(NVMM_MACH_CONF_MI_BEGIN, 100);
	CHECK_VAL(NVMM_MACH_CONF_MD_BEGIN, 200);
	CHECK_VAL(NVMM_VCPU_CONF_LIBNVMM_BEGIN, 0);
	CHECK_VAL(NVMM_VCPU_CONF_MI_BEGIN, 100);
	CHECK_VAL(NVMM_VCPU_CONF_MD_BEGIN, 200);
	CHECK_VAL(NVMM_MACH_CONF_MD(200), 0);
	CHECK_VAL(NVMM_MACH_CONF_MD(203), 3);
	CHECK_VAL(NVMM_VCPU_CONF_MD(201), 1);
	/* Ops below MD_BEGIN wrap to huge indexes in the driver's uint64_t. */
	CHECK_VAL(NVMM_VCPU_CONF_MD((uint64_t)0), (uint64_t)0 - 200);
	CHECK_VAL(NVMM_MACH_CONF_MD((uint64_t)199), UINT64_MAX);

	CHECK_VAL(NVMM_VCPU_CONF_CPUID, 200);
	CHECK_VAL(NVMM_VCPU_CONF_TPR, 201);
	CHECK_VAL(NVMM_X86_MACH_NCONF, 0);
	CHECK_VAL(NVMM_X86_VCPU_NCONF, 2);
	/* The backend tables cover exactly the ops defined. */
	CHECK_VAL(NVMM_VCPU_CONF_MD(NVMM_VCPU_CONF_TPR) + 1,
	    NVMM_X86_VCPU_NCONF);

	CHECK_SIZE(struct nvmm_vcpu_conf_cpuid, 40);
	CHECK_OFF(struct nvmm_vcpu_conf_cpuid, leaf, 4);
	CHECK_OFF(struct nvmm_vcpu_conf_cpuid, u, 8);
	CHECK_OFF(struct nvmm_vcpu_conf_cpuid, u.mask.set, 8);
	CHECK_OFF(struct nvmm_vcpu_conf_cpuid, u.mask.set.eax, 8);
	CHECK_OFF(struct nvmm_vcpu_conf_cpuid, u.mask.set.ebx, 12);
	CHECK_OFF(struct nvmm_vcpu_conf_cpuid, u.mask.set.ecx, 16);
	CHECK_OFF(struct nvmm_vcpu_conf_cpuid, u.mask.set.edx, 20);
	CHECK_OFF(struct nvmm_vcpu_conf_cpuid, u.mask.del, 24);
	CHECK_OFF(struct nvmm_vcpu_conf_cpuid, u.mask.del.eax, 24);
	CHECK_OFF(struct nvmm_vcpu_conf_cpuid, u.mask.del.ebx, 28);
	CHECK_OFF(struct nvmm_vcpu_conf_cpuid, u.mask.del.ecx, 32);
	CHECK_OFF(struct nvmm_vcpu_conf_cpuid, u.mask.del.edx, 36);
	CHECK_TYPE(cpuid.leaf, uint32_t);
	CHECK_TYPE(cpuid.u.mask.set.eax, uint32_t);
	CHECK_TYPE(cpuid.u.mask.del.edx, uint32_t);

	memset(&cpuid, 0, sizeof(cpuid));
	cpuid.mask = 1;
	CHECK_VAL(raw(&cpuid, 0, 4), 1U << 0);
	memset(&cpuid, 0, sizeof(cpuid));
	cpuid.exit = 1;
	CHECK_VAL(raw(&cpuid, 0, 4), 1U << 1);
	memset(&cpuid, 0, sizeof(cpuid));
	cpuid.rsvd = 1;
	CHECK_VAL(raw(&cpuid, 0, 4), 1U << 2);
	memset(&cpuid, 0, sizeof(cpuid));
	cpuid.leaf = 0x80000001;
	CHECK_VAL(raw(&cpuid, 0, 4), 0);
	CHECK_VAL(raw(&cpuid, 4, 4), 0x80000001);

	CHECK_SIZE(struct nvmm_vcpu_conf_tpr, 4);
	memset(&tpr, 0, sizeof(tpr));
	tpr.exit_changed = 1;
	CHECK_VAL(raw(&tpr, 0, 4), 1U << 0);
	memset(&tpr, 0, sizeof(tpr));
	tpr.rsvd = 1;
	CHECK_VAL(raw(&tpr, 0, 4), 1U << 1);
}

ATF_TC_WITHOUT_HEAD(userland);
ATF_TC_BODY(userland, tc)
{
	struct nvmm_vcpu vcpu;
	struct nvmm_io io;
	struct nvmm_mem mem;

	CHECK_VAL(NVMM_USER_VERSION, 2);
	CHECK_VAL(NVMM_VCPU_CONF_CALLBACKS, 0);
	/* libnvmm's own op, never sent to the driver. */
	ATF_CHECK(NVMM_VCPU_CONF_CALLBACKS < NVMM_VCPU_CONF_MI_BEGIN);

	CHECK_SIZE(nvmm_prot_t, 8);
	ATF_CHECK(IS_UNSIGNED(nvmm_prot_t));
	CHECK_VAL(NVMM_PROT_READ, 0x01);
	CHECK_VAL(NVMM_PROT_WRITE, 0x02);
	CHECK_VAL(NVMM_PROT_EXEC, 0x04);
	CHECK_VAL(NVMM_PROT_USER, 0x08);
	CHECK_VAL(NVMM_PROT_ALL, 0x0F);

	CHECK_SIZE(struct nvmm_assist_callbacks, 16);
	CHECK_OFF(struct nvmm_assist_callbacks, io, 0);
	CHECK_OFF(struct nvmm_assist_callbacks, mem, 8);
	CHECK_TYPE(vcpu.cbs.io, void (*)(struct nvmm_io *));
	CHECK_TYPE(vcpu.cbs.mem, void (*)(struct nvmm_mem *));

	CHECK_SIZE(struct nvmm_machine, 24);
	CHECK_OFF(struct nvmm_machine, machid, 0);
	CHECK_OFF(struct nvmm_machine, pages, 8);
	CHECK_OFF(struct nvmm_machine, areas, 16);
	CHECK_TYPE(((struct nvmm_machine *)0)->machid, nvmm_machid_t);
	CHECK_TYPE(((struct nvmm_machine *)0)->pages,
	    struct nvmm_comm_page **);

	CHECK_SIZE(struct nvmm_vcpu, 56);
	CHECK_OFF(struct nvmm_vcpu, cpuid, 0);
	CHECK_OFF(struct nvmm_vcpu, cbs, 8);
	CHECK_OFF(struct nvmm_vcpu, state, 24);
	CHECK_OFF(struct nvmm_vcpu, event, 32);
	CHECK_OFF(struct nvmm_vcpu, exit, 40);
	CHECK_OFF(struct nvmm_vcpu, stop, 48);
	CHECK_TYPE(vcpu.cpuid, nvmm_cpuid_t);
	CHECK_TYPE(vcpu.state, struct nvmm_x64_state *);
	CHECK_TYPE(vcpu.event, struct nvmm_x86_event *);
	CHECK_TYPE(vcpu.exit, struct nvmm_x86_exit *);
	CHECK_TYPE(vcpu.stop, volatile int *);

	CHECK_SIZE(struct nvmm_io, 40);
	CHECK_OFF(struct nvmm_io, mach, 0);
	CHECK_OFF(struct nvmm_io, vcpu, 8);
	CHECK_OFF(struct nvmm_io, port, 16);
	CHECK_OFF(struct nvmm_io, in, 18);
	CHECK_OFF(struct nvmm_io, size, 24);
	CHECK_OFF(struct nvmm_io, data, 32);
	CHECK_TYPE(io.port, uint16_t);
	CHECK_TYPE(io.in, bool);
	CHECK_TYPE(io.size, size_t);
	CHECK_TYPE(io.data, uint8_t *);

	CHECK_SIZE(struct nvmm_mem, 48);
	CHECK_OFF(struct nvmm_mem, mach, 0);
	CHECK_OFF(struct nvmm_mem, vcpu, 8);
	CHECK_OFF(struct nvmm_mem, gpa, 16);
	CHECK_OFF(struct nvmm_mem, write, 24);
	CHECK_OFF(struct nvmm_mem, size, 32);
	CHECK_OFF(struct nvmm_mem, data, 40);
	CHECK_TYPE(mem.gpa, gpaddr_t);
	CHECK_TYPE(mem.write, bool);
	CHECK_TYPE(mem.size, size_t);
	CHECK_TYPE(mem.data, uint8_t *);
}

/*
 * The 24 exported functions, by exact type.  __typeof__ does not refer to
 * the symbols, so this needs no library.
 */
ATF_TC_WITHOUT_HEAD(prototypes);
ATF_TC_BODY(prototypes, tc)
{
	typedef struct nvmm_machine M;
	typedef struct nvmm_vcpu V;

	CHECK_TYPE(nvmm_init, int (void));
	CHECK_TYPE(nvmm_root_init, int (void));
	CHECK_TYPE(nvmm_capability, int (struct nvmm_capability *));
	CHECK_TYPE(nvmm_machine_create, int (M *));
	CHECK_TYPE(nvmm_machine_destroy, int (M *));
	CHECK_TYPE(nvmm_machine_configure, int (M *, uint64_t, void *));
	CHECK_TYPE(nvmm_vcpu_create, int (M *, nvmm_cpuid_t, V *));
	CHECK_TYPE(nvmm_vcpu_destroy, int (M *, V *));
	CHECK_TYPE(nvmm_vcpu_configure, int (M *, V *, uint64_t, void *));
	CHECK_TYPE(nvmm_vcpu_setstate, int (M *, V *, uint64_t));
	CHECK_TYPE(nvmm_vcpu_getstate, int (M *, V *, uint64_t));
	CHECK_TYPE(nvmm_vcpu_inject, int (M *, V *));
	CHECK_TYPE(nvmm_vcpu_run, int (M *, V *));
	CHECK_TYPE(nvmm_vcpu_stop, int (V *));
	CHECK_TYPE(nvmm_gpa_map,
	    int (M *, uintptr_t, gpaddr_t, size_t, int));
	CHECK_TYPE(nvmm_gpa_unmap, int (M *, uintptr_t, gpaddr_t, size_t));
	CHECK_TYPE(nvmm_hva_map, int (M *, uintptr_t, size_t));
	CHECK_TYPE(nvmm_hva_unmap, int (M *, uintptr_t, size_t));
	CHECK_TYPE(nvmm_gva_to_gpa,
	    int (M *, V *, gvaddr_t, gpaddr_t *, nvmm_prot_t *));
	CHECK_TYPE(nvmm_gpa_to_hva,
	    int (M *, gpaddr_t, uintptr_t *, nvmm_prot_t *));
	CHECK_TYPE(nvmm_assist_io, int (M *, V *));
	CHECK_TYPE(nvmm_assist_mem, int (M *, V *));
	CHECK_TYPE(nvmm_ctl, int (int, void *, size_t));
	CHECK_TYPE(nvmm_vcpu_dump, int (M *, V *));
}

ATF_TC_WITHOUT_HEAD(ctl);
ATF_TC_BODY(ctl, tc)
{
	struct nvmm_ctl_mach_info mi;

	CHECK_VAL(NVMM_CTL_MACH_INFO, 0);
	CHECK_SIZE(struct nvmm_ctl_mach_info, 32);
	CHECK_OFF(struct nvmm_ctl_mach_info, machid, 0);
	CHECK_OFF(struct nvmm_ctl_mach_info, nvcpus, 4);
	CHECK_OFF(struct nvmm_ctl_mach_info, nram, 8);
	CHECK_OFF(struct nvmm_ctl_mach_info, pid, 16);
	CHECK_OFF(struct nvmm_ctl_mach_info, time, 24);
	CHECK_TYPE(mi.machid, nvmm_machid_t);
	CHECK_TYPE(mi.nvcpus, uint32_t);
	CHECK_TYPE(mi.nram, uint64_t);
	CHECK_TYPE(mi.pid, pid_t);
	CHECK_TYPE(mi.time, time_t);
}

ATF_TC_WITHOUT_HEAD(compat);
ATF_TC_BODY(compat, tc)
{
	struct fxsave fx;
	const char *msg;

	/* The FXSAVE image, as the CPU writes it. */
	CHECK_SIZE(struct fxsave, 512);
	CHECK_ALIGN(struct fxsave, 16);
	CHECK_OFF(struct fxsave, fx_cw, 0);
	CHECK_OFF(struct fxsave, fx_sw, 2);
	CHECK_OFF(struct fxsave, fx_tw, 4);
	CHECK_OFF(struct fxsave, fx_zero, 5);
	CHECK_OFF(struct fxsave, fx_opcode, 6);
	CHECK_OFF(struct fxsave, fx_ip, 8);
	CHECK_OFF(struct fxsave, fx_dp, 16);
	CHECK_OFF(struct fxsave, fx_mxcsr, 24);
	CHECK_OFF(struct fxsave, fx_mxcsr_mask, 28);
	CHECK_OFF(struct fxsave, fx_87_ac, 32);
	CHECK_OFF(struct fxsave, fx_87_ac[1], 48);
	CHECK_OFF(struct fxsave, fx_87_ac[7].r.f87_exp_sign, 32 + 7 * 16 + 8);
	CHECK_OFF(struct fxsave, fx_xmm, 160);
	CHECK_OFF(struct fxsave, fx_xmm[1], 176);
	CHECK_OFF(struct fxsave, fx_xmm[15].xmm_bytes[15], 160 + 15 * 16 + 15);
	CHECK_OFF(struct fxsave, fx_rsvd, 416);
	CHECK_OFF(struct fxsave, fx_kernel, 464);
	CHECK_MSIZE(struct fxsave, fx_tw, 1);
	CHECK_MSIZE(struct fxsave, fx_87_ac, 128);
	CHECK_MSIZE(struct fxsave, fx_xmm, 256);
	CHECK_MSIZE(struct fxsave, fx_rsvd, 48);
	CHECK_MSIZE(struct fxsave, fx_kernel, 48);
	CHECK_TYPE(fx.fx_cw, uint16_t);
	CHECK_TYPE(fx.fx_sw, uint16_t);
	CHECK_TYPE(fx.fx_tw, uint8_t);
	CHECK_TYPE(fx.fx_opcode, uint16_t);
	CHECK_TYPE(fx.fx_mxcsr, uint32_t);
	CHECK_TYPE(fx.fx_mxcsr_mask, uint32_t);
	CHECK_TYPE(fx.fx_ip, union fp_addr);
	CHECK_TYPE(fx.fx_87_ac[0], struct fpaccfx);
	CHECK_TYPE(fx.fx_87_ac[0].r, struct fpacc87);
	CHECK_TYPE(fx.fx_xmm[0], struct xmmreg);

	CHECK_SIZE(union fp_addr, 8);
	CHECK_OFF(union fp_addr, fa_64, 0);
	CHECK_OFF(union fp_addr, fa_32.fa_off, 0);
	CHECK_OFF(union fp_addr, fa_32.fa_seg, 4);
	CHECK_OFF(union fp_addr, fa_32.fa_opcode, 6);
	CHECK_SIZE(struct fpacc87, 10);
	CHECK_OFF(struct fpacc87, f87_mantissa, 0);
	CHECK_OFF(struct fpacc87, f87_exp_sign, 8);
	CHECK_SIZE(struct fpaccfx, 16);
	CHECK_SIZE(struct xmmreg, 16);

	/* fa_32 overlays the low and high halves of fa_64. */
	memset(&fx, 0, sizeof(fx));
	fx.fx_dp.fa_64 = 0x1122334455667788ULL;
	CHECK_VAL(fx.fx_dp.fa_32.fa_off, 0x55667788);
	CHECK_VAL(fx.fx_dp.fa_32.fa_seg, 0x3344);
	CHECK_VAL(fx.fx_dp.fa_32.fa_opcode, 0x1122);
	CHECK_VAL(raw(&fx, 16, 8), 0x1122334455667788ULL);

	/* u_int, as NetBSD's. */
	CHECK_SIZE(u_int, 4);
	ATF_CHECK(IS_UNSIGNED(u_int));

	/* The <sys/cdefs.h> mask macros. */
	CHECK_VAL(__BIT(0), 0x1);
	CHECK_VAL(__BIT(9), 0x200);
	CHECK_VAL(__BIT(63), 0x8000000000000000ULL);
	CHECK_VAL(__BIT(64), 0);
	CHECK_SIZE(__BIT(0), sizeof(uintmax_t));
	CHECK_VAL(__BITS(7, 4), 0xF0);
	CHECK_VAL(__BITS(4, 7), 0xF0);
	CHECK_VAL(__BITS(3, 3), 0x08);
	CHECK_VAL(__BITS(63, 0), UINT64_MAX);
	CHECK_VAL(__BITS(63, 60), 0xF000000000000000ULL);
	CHECK_VAL(__LOWEST_SET_BIT(0x30), 0x10);
	CHECK_VAL(__LOWEST_SET_BIT(__BITS(11, 8)), 0x100);
	CHECK_VAL(__SHIFTOUT(0xABCD, __BITS(11, 8)), 0xB);
	CHECK_VAL(__SHIFTOUT(0xABCD, 0xF000), 0xA);
	CHECK_VAL(__SHIFTOUT((uint32_t)0x00C09300, (uint32_t)(3 << 13)), 0);
	CHECK_VAL(__SHIFTOUT((uint32_t)0x00C0F300, (uint32_t)(3 << 13)), 3);
	CHECK_VAL(__SHIFTIN(0x5, __BITS(7, 4)), 0x50);
	CHECK_VAL(__SHIFTIN(0x3, 0x6000), 0x6000);
	CHECK_VAL(__SHIFTOUT(__SHIFTIN(0x2A, __BITS(21, 16)), __BITS(21, 16)),
	    0x2A);

	/*
	 * EPROGMISMATCH: must not be NetBSD's 74 (EBADMSG here) nor any
	 * errno the C library knows.
	 */
	ATF_CHECK(EPROGMISMATCH != EBADMSG);
	ATF_CHECK(EPROGMISMATCH > EHWPOISON);
	msg = strerror(EPROGMISMATCH);
	ATF_CHECK_MSG(strncmp(msg, "Unknown error", 13) == 0,
	    "errno %d is known to the C library as \"%s\"",
	    EPROGMISMATCH, msg);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, capability);
	ATF_TP_ADD_TC(tp, comm_page);
	ATF_TP_ADD_TC(tp, state_indexes);
	ATF_TP_ADD_TC(tp, state_seg);
	ATF_TP_ADD_TC(tp, state_intr);
	ATF_TP_ADD_TC(tp, state);
	ATF_TP_ADD_TC(tp, exit);
	ATF_TP_ADD_TC(tp, event);
	ATF_TP_ADD_TC(tp, conf);
	ATF_TP_ADD_TC(tp, userland);
	ATF_TP_ADD_TC(tp, prototypes);
	ATF_TP_ADD_TC(tp, ctl);
	ATF_TP_ADD_TC(tp, compat);

	return atf_no_error();
}
