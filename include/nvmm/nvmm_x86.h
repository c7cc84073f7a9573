/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmm_x86.h: the x86 (amd64) part of the NVMM kernel/user interface:
 * register-file indexes and state groups, the VCPU state, exits, events,
 * VCPU configuration and the machine-dependent capability.  Corresponds to
 * NetBSD's <dev/nvmm/x86/nvmm_x86.h>.
 *
 * With ASM_NVMM defined only the index constants and state flags are seen,
 * so that assembly sources can use them.
 */

/*
 * The C part needs the machine-independent types (gpaddr_t, bool, u_int,
 * struct fxsave) and the conf-op bases.  nvmm_dev.h provides them and then
 * includes this file back at the point where they all exist, so this
 * include is deliberately outside our guard: it makes both inclusion
 * orders, and this file alone, work.
 */
#ifndef ASM_NVMM
#include <nvmm/nvmm_dev.h>
#endif

#ifndef _NVMM_NVMM_X86_H_
#define _NVMM_NVMM_X86_H_

/*
 * Index constants.  "X64" rather than "X86" because they describe the
 * long-mode register file.
 */

/* segs[]: ES..GS follow the hardware segment register encoding. */
#define NVMM_X64_SEG_ES			0
#define NVMM_X64_SEG_CS			1
#define NVMM_X64_SEG_SS			2
#define NVMM_X64_SEG_DS			3
#define NVMM_X64_SEG_FS			4
#define NVMM_X64_SEG_GS			5
#define NVMM_X64_SEG_GDT		6
#define NVMM_X64_SEG_IDT		7
#define NVMM_X64_SEG_LDT		8
#define NVMM_X64_SEG_TR			9
#define NVMM_X64_NSEG			10

/* gprs[]: 0-15 are the ModRM/REX register numbers; the decoder relies on it. */
#define NVMM_X64_GPR_RAX		0
#define NVMM_X64_GPR_RCX		1
#define NVMM_X64_GPR_RDX		2
#define NVMM_X64_GPR_RBX		3
#define NVMM_X64_GPR_RSP		4
#define NVMM_X64_GPR_RBP		5
#define NVMM_X64_GPR_RSI		6
#define NVMM_X64_GPR_RDI		7
#define NVMM_X64_GPR_R8			8
#define NVMM_X64_GPR_R9			9
#define NVMM_X64_GPR_R10		10
#define NVMM_X64_GPR_R11		11
#define NVMM_X64_GPR_R12		12
#define NVMM_X64_GPR_R13		13
#define NVMM_X64_GPR_R14		14
#define NVMM_X64_GPR_R15		15
#define NVMM_X64_GPR_RIP		16
#define NVMM_X64_GPR_RFLAGS		17
#define NVMM_X64_NGPR			18

/* crs[] */
#define NVMM_X64_CR_CR0			0
#define NVMM_X64_CR_CR2			1
#define NVMM_X64_CR_CR3			2
#define NVMM_X64_CR_CR4			3
#define NVMM_X64_CR_CR8			4
#define NVMM_X64_CR_XCR0		5
#define NVMM_X64_NCR			6

/* drs[] */
#define NVMM_X64_DR_DR0			0
#define NVMM_X64_DR_DR1			1
#define NVMM_X64_DR_DR2			2
#define NVMM_X64_DR_DR3			3
#define NVMM_X64_DR_DR6			4
#define NVMM_X64_DR_DR7			5
#define NVMM_X64_NDR			6

/* msrs[] */
#define NVMM_X64_MSR_EFER		0
#define NVMM_X64_MSR_STAR		1
#define NVMM_X64_MSR_LSTAR		2
#define NVMM_X64_MSR_CSTAR		3
#define NVMM_X64_MSR_SFMASK		4
#define NVMM_X64_MSR_KERNELGSBASE	5
#define NVMM_X64_MSR_SYSENTER_CS	6
#define NVMM_X64_MSR_SYSENTER_ESP	7
#define NVMM_X64_MSR_SYSENTER_EIP	8
#define NVMM_X64_MSR_PAT		9
#define NVMM_X64_MSR_TSC		10
#define NVMM_X64_NMSR			11

/*
 * State groups: the unit of nvmm_vcpu_getstate/setstate and of the comm
 * page's wanted/cached/commit masks.
 */
#define NVMM_X64_STATE_SEGS		0x01
#define NVMM_X64_STATE_GPRS		0x02
#define NVMM_X64_STATE_CRS		0x04
#define NVMM_X64_STATE_DRS		0x08
#define NVMM_X64_STATE_MSRS		0x10
#define NVMM_X64_STATE_INTR		0x20
#define NVMM_X64_STATE_FPU		0x40
#define NVMM_X64_STATE_ALL						\
	(NVMM_X64_STATE_SEGS | NVMM_X64_STATE_GPRS | NVMM_X64_STATE_CRS |	\
	 NVMM_X64_STATE_DRS | NVMM_X64_STATE_MSRS | NVMM_X64_STATE_INTR |	\
	 NVMM_X64_STATE_FPU)

#ifndef ASM_NVMM

/* -------------------------------------------------------------------------- */
/* VCPU state. */

/*
 * A segment with its hidden part.  attrib uses the AMD VMCB packing (type
 * in the low nibble, S, DPL, P, AVL, L, D/B, G), limit is already expanded
 * to bytes.  GDT and IDT use base and limit only.
 */
struct nvmm_x64_state_seg {
	uint16_t selector;
	struct {
		uint16_t type:4;
		uint16_t s:1;
		uint16_t dpl:2;
		uint16_t p:1;
		uint16_t avl:1;
		uint16_t l:1;
		uint16_t def:1;
		uint16_t g:1;
		uint16_t rsvd:4;
	} attrib;
	uint32_t limit;
	uint64_t base;
};

/* Interrupt state that has no architectural register of its own. */
struct nvmm_x64_state_intr {
	uint64_t int_shadow:1;		/* after STI / MOV SS */
	uint64_t int_window_exiting:1;	/* exit when IRQs become deliverable */
	uint64_t nmi_window_exiting:1;	/* exit when NMIs become deliverable */
	uint64_t evt_pending:1;		/* an injected event is not yet taken */
	uint64_t rsvd:60;
};

/* 16-byte aligned because of fpu (FXSAVE image); 1008 bytes. */
struct nvmm_x64_state {
	struct nvmm_x64_state_seg segs[NVMM_X64_NSEG];
	uint64_t gprs[NVMM_X64_NGPR];
	uint64_t crs[NVMM_X64_NCR];
	uint64_t drs[NVMM_X64_NDR];
	uint64_t msrs[NVMM_X64_NMSR];
	struct nvmm_x64_state_intr intr;
	struct fxsave fpu;
};

/* -------------------------------------------------------------------------- */
/* Exits. */

/*
 * Exit reasons.  Values are 64-bit so that the two special ones can sit at
 * the top of the range; the groups (operations 0x1, state changes 0x1000,
 * instructions 0x2000) leave room per group.
 */
#define NVMM_VCPU_EXIT_NONE		0x0000000000000000ULL
#define NVMM_VCPU_EXIT_STOPPED		0xFFFFFFFFFFFFFFFEULL
#define NVMM_VCPU_EXIT_INVALID		0xFFFFFFFFFFFFFFFFULL
#define NVMM_VCPU_EXIT_MEMORY		0x0000000000000001ULL
#define NVMM_VCPU_EXIT_IO		0x0000000000000002ULL
#define NVMM_VCPU_EXIT_SHUTDOWN		0x0000000000001000ULL
#define NVMM_VCPU_EXIT_INT_READY	0x0000000000001001ULL
#define NVMM_VCPU_EXIT_NMI_READY	0x0000000000001002ULL
#define NVMM_VCPU_EXIT_HALTED		0x0000000000001003ULL
#define NVMM_VCPU_EXIT_TPR_CHANGED	0x0000000000001004ULL
#define NVMM_VCPU_EXIT_RDMSR		0x0000000000002000ULL
#define NVMM_VCPU_EXIT_WRMSR		0x0000000000002001ULL
#define NVMM_VCPU_EXIT_MONITOR		0x0000000000002002ULL
#define NVMM_VCPU_EXIT_MWAIT		0x0000000000002003ULL
#define NVMM_VCPU_EXIT_CPUID		0x0000000000002004ULL

/* EXIT_MEMORY: a guest access to unmapped or protection-violating GPA. */
struct nvmm_x86_exit_memory {
	int prot;			/* PROT_READ, _WRITE or _EXEC: the access */
	gpaddr_t gpa;
	uint8_t inst_len;		/* 0 when the bytes are not known */
	uint8_t inst_bytes[15];
};

/* EXIT_IO: IN/OUT/INS/OUTS, not yet executed. */
struct nvmm_x86_exit_io {
	bool in;
	uint16_t port;
	int8_t seg;			/* NVMM_X64_SEG_* of a string op, or -1 */
	uint8_t address_size;		/* 2, 4 or 8 */
	uint8_t operand_size;		/* 1, 2 or 4 */
	bool rep;
	bool str;
	uint64_t npc;			/* RIP of the next instruction */
};

struct nvmm_x86_exit_rdmsr {
	uint32_t msr;
	uint64_t npc;
};

struct nvmm_x86_exit_wrmsr {
	uint32_t msr;
	uint64_t val;
	uint64_t npc;
};

/* MONITOR, MWAIT, CPUID: userland emulates, then sets RIP to npc. */
struct nvmm_x86_exit_insn {
	uint64_t npc;
};

/* EXIT_INVALID: the backend's raw exit code, for diagnostics. */
struct nvmm_x86_exit_invalid {
	uint64_t hwcode;
};

struct nvmm_x86_exit {
	uint64_t reason;
	union {
		struct nvmm_x86_exit_memory mem;
		struct nvmm_x86_exit_io io;
		struct nvmm_x86_exit_rdmsr rdmsr;
		struct nvmm_x86_exit_wrmsr wrmsr;
		struct nvmm_x86_exit_insn insn;
		struct nvmm_x86_exit_invalid inv;
	} u;
	/*
	 * Valid after every exit, so that an emulator can decide whether to
	 * inject without a getstate round trip.
	 */
	struct {
		uint64_t rflags;
		uint64_t cr8;
		uint64_t int_shadow:1;
		uint64_t int_window_exiting:1;
		uint64_t nmi_window_exiting:1;
		uint64_t evt_pending:1;
		uint64_t rsvd:60;
	} exitstate;
};

/* -------------------------------------------------------------------------- */
/* Events. */

#define NVMM_VCPU_EVENT_EXCP		0
#define NVMM_VCPU_EVENT_INTR		1	/* vector 2 means NMI */

struct nvmm_x86_event {
	u_int type;
	uint8_t vector;
	union {
		struct {
			uint64_t error;
		} excp;
	} u;
};

/* -------------------------------------------------------------------------- */
/* VCPU configuration. */

#define NVMM_VCPU_CONF_CPUID		(NVMM_VCPU_CONF_MD_BEGIN + 0)
#define NVMM_VCPU_CONF_TPR		(NVMM_VCPU_CONF_MD_BEGIN + 1)

/*
 * Per-leaf CPUID policy.  With mask, the kernel's answer has the del bits
 * cleared and then the set bits added; with exit, the leaf exits to
 * userland; with neither, the leaf's entry is removed.
 */
struct nvmm_vcpu_conf_cpuid {
	uint32_t mask:1;
	uint32_t exit:1;
	uint32_t rsvd:30;

	uint32_t leaf;

	union {
		struct {
			struct {
				uint32_t eax;
				uint32_t ebx;
				uint32_t ecx;
				uint32_t edx;
			} set;
			struct {
				uint32_t eax;
				uint32_t ebx;
				uint32_t ecx;
				uint32_t edx;
			} del;
		} mask;
	} u;
};

struct nvmm_vcpu_conf_tpr {
	uint32_t exit_changed:1;	/* EXIT_TPR_CHANGED on each CR8 write */
	uint32_t rsvd:31;
};

/*
 * Number of machine and VCPU conf ops the x86 backend implements, i.e.
 * the size of its tables indexed by NVMM_MACH_CONF_MD()/NVMM_VCPU_CONF_MD().
 */
#define NVMM_X86_MACH_NCONF		0
#define NVMM_X86_VCPU_NCONF		2

/* -------------------------------------------------------------------------- */
/* Capability, machine-dependent part (nvmm_capability.arch). */

struct nvmm_cap_md {
	uint64_t mach_conf_support;	/* bit n: machine conf op MD_BEGIN+n */
	uint64_t vcpu_conf_support;	/* bit n: VCPU conf op MD_BEGIN+n */
	uint64_t xcr0_mask;		/* XCR0 bits a guest may set */
	uint32_t mxcsr_mask;		/* MXCSR bits a guest may set */
	uint32_t conf_cpuid_maxops;	/* CPUID conf entries per VCPU */
	uint64_t rsvd[6];
};

#define NVMM_CAP_ARCH_VCPU_CONF_CPUID	__BIT(0)
#define NVMM_CAP_ARCH_VCPU_CONF_TPR	__BIT(1)

/*
 * Machine-independent code and emulators use the generic names; they
 * resolve to the x86 types here.
 */
#define nvmm_vcpu_exit			nvmm_x86_exit
#define nvmm_vcpu_event			nvmm_x86_event
#define nvmm_vcpu_state			nvmm_x64_state

#endif /* !ASM_NVMM */

#endif /* !_NVMM_NVMM_X86_H_ */
