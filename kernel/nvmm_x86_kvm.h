/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The x86 backend over KVM: what its files share.
 *   nvmm_x86_host.c    the host probe: /dev/kvm, its CPUID, the FPU masks
 *   nvmm_x86_kvm.c     the backend table: the VM, VCPUs, memory slots,
 *                      kicks, capability; what a VCPU KVM has just made
 *                      holds (a probe at init)
 *   nvmm_x86_state.c   NVMM state groups to and from KVM's
 *   nvmm_x86_run.c     the run loop and NVMM exits made from KVM's
 *   nvmm_x86_decode.c  the IO and MSR instructions, as NVMM's exits say them
 *   nvmm_x86_cpuid.c   the CPUID policy and NVMM_VCPU_CONF_CPUID
 * nvmm_x86_host.c calls none of the others; they read what it found.
 */
#ifndef NVMM_X86_KVM_H
#define NVMM_X86_KVM_H

#include <linux/kvm.h>

#include "nvmm_internal.h"

#define NVMM_X86_CPUID_MAXCONF	32

/* MSR numbers of the state's msrs[] and of the in-kernel set. */
#define MSR_X86_TSC		0x00000010
#define MSR_X86_APICBASE	0x0000001b
#define MSR_X86_SYSENTER_CS	0x00000174
#define MSR_X86_SYSENTER_ESP	0x00000175
#define MSR_X86_SYSENTER_EIP	0x00000176
#define MSR_X86_PAT		0x00000277
#define MSR_X86_EFER		0xc0000080
#define MSR_X86_STAR		0xc0000081
#define MSR_X86_LSTAR		0xc0000082
#define MSR_X86_CSTAR		0xc0000083
#define MSR_X86_SFMASK		0xc0000084
#define MSR_X86_FSBASE		0xc0000100
#define MSR_X86_GSBASE		0xc0000101
#define MSR_X86_KERNELGSBASE	0xc0000102

#define X86_XCR0_X87		0x1ULL
#define X86_XCR0_SSE		0x2ULL
#define X86_XCR0_AVX		0x4ULL

#define X86_RFLAGS_IF		0x200ULL
#define X86_CR4_OSXSAVE		0x40000ULL

struct nvmm_x86_mach {
	int vmfd;
	/* KVM VCPUs outlive NVMM's: those of destroyed VCPUs, or -1. */
	int parked[NVMM_MAX_VCPUS];
};

/* What an IO, MMIO or MSR exit left for KVM to finish at the next entry. */
enum nvmm_x86_pending {
	NVMM_X86_PENDING_NONE,
	NVMM_X86_PENDING_IO,
	NVMM_X86_PENDING_MMIO,
	NVMM_X86_PENDING_MSR,
	NVMM_X86_PENDING_DONE,	/* finished already, only the undo is left */
};

/* An IN, OUT, INS or OUTS, decoded. */
struct nvmm_x86_io_insn {
	bool in;
	bool str;
	bool rep;
	bool imm_port;
	uint16_t port;		/* if imm_port */
	int seg;		/* string ops: NVMM_X64_SEG_*, else -1 */
	uint8_t operand_size;
	uint8_t address_size;
	size_t len;
};

/* Why the last run ended in EXIT_INVALID (nvmm_x86_invalid.c). */
#define NVMM_X86_INVALID_NDATA	8
#define NVMM_X86_INSN_MAX	15

struct nvmm_x86_invalid {
	bool valid;		/* recorded, not yet described */
	int run_errno;		/* KVM_RUN failed with this; nothing else set */
	uint32_t kvm_exit;	/* KVM_EXIT_* */
	uint32_t suberror;	/* KVM_INTERNAL_ERROR_*, for an internal error */
	uint32_t ndata;
	uint64_t data[NVMM_X86_INVALID_NDATA];
	uint64_t hw_reason;	/* for an entry failure */
	uint64_t rip;
	uint8_t insn[NVMM_X86_INSN_MAX];
	size_t insn_len;
	bool insn_from_kvm;	/* else read from guest memory at rip */
};

/* The last linear-to-physical translation of instruction bytes. */
struct nvmm_x86_tlb {
	bool valid;
	uint64_t cr3;
	uint64_t lpage;
	uint64_t ppage;
};

struct nvmm_x86_cpu {
	int fd;
	struct kvm_run *run;
	size_t runsize;
	struct nvmm_machine *mach;

	/* NVMM_VCPU_CONF_CPUID entries, by leaf. */
	struct nvmm_vcpu_conf_cpuid cpuidconf[NVMM_X86_CPUID_MAXCONF];
	bool cpuid_dirty;	/* reload KVM's table before the next run */

	/* Window exits armed through the INTR state. */
	bool int_window_exiting;
	bool nmi_window_exiting;

	/* The TSC getstate last reported: writing it back is a no-op. */
	uint64_t tsc_last;

	/*
	 * What KVM does not sync at an exit, kept here so that an IO or MMIO
	 * exit costs no extra ioctl (each costs as much as the exit on some
	 * hosts).  The guest cannot change these unseen: its writes to the
	 * MSRs exit to us (the MSR filter), XCR0 can move only while
	 * CR4.OSXSAVE is set, and then it is read from KVM.
	 */
	uint64_t shadow_msrs[NVMM_X64_NMSR];	/* EFER and TSC unused */
	uint64_t shadow_xcr0;
	int64_t tsc_offset;			/* guest TSC - host TSC */

	enum nvmm_x86_pending pending;
	/*
	 * GPRs at the exit: unless the emulator handled the access or set
	 * the GPRs itself, the instruction is undone, as on NetBSD where
	 * nothing happens that the emulator did not do.
	 */
	struct kvm_regs exit_regs;

	/* An interrupt given to KVM_INTERRUPT that the guest has yet to take. */
	bool irq_queued;

	struct nvmm_x86_tlb tlb;

	struct nvmm_x86_invalid invalid;
};

static inline struct nvmm_x86_cpu *
nvmm_x86_cpu(struct nvmm_cpu *cpu)
{
	return cpu->cpudata;
}

/* nvmm_x86_host.c: set once by the probe, read-only after. */
extern int nvmm_x86_kvm_fd;
extern uint64_t nvmm_x86_xcr0_mask;
extern uint32_t nvmm_x86_mxcsr_mask;
extern struct kvm_cpuid2 *nvmm_x86_supported_cpuid;
extern size_t nvmm_x86_runsize;
int	nvmm_x86_host_probe(void);

/* nvmm_x86_state.c */
void	nvmm_x86_state_reset(struct nvmm_x64_state *);
void	nvmm_x86_gprs_from_kvm(const struct kvm_regs *, uint64_t *);
int	nvmm_x86_state_from_exit(struct nvmm_cpu *, uint64_t flags,
	    struct nvmm_x64_state *);
int	nvmm_x86_state_get(struct nvmm_cpu *, uint64_t flags,
	    struct nvmm_x64_state *);
int	nvmm_x86_state_set(struct nvmm_cpu *, uint64_t flags,
	    const struct nvmm_x64_state *);
int	nvmm_x86_state_commit(struct nvmm_cpu *);
uint64_t nvmm_x86_reset_groups(const struct nvmm_x64_state *);
bool	nvmm_x86_xsave_beyond_fxsave_init(struct nvmm_cpu *);
int	nvmm_x86_state_load_reset(struct nvmm_cpu *, uint64_t held,
	    bool fpu_init, struct nvmm_x64_state *);
int	nvmm_x86_tsc_calibrate(struct nvmm_cpu *);
bool	nvmm_x86_msr_shadowed(uint32_t msr);
int	nvmm_x86_msr_write(struct nvmm_cpu *, uint32_t msr, uint64_t value);

/* nvmm_x86_run.c */
int	nvmm_x86_vcpu_run(struct nvmm_machine *, struct nvmm_cpu *,
	    struct nvmm_vcpu_exit *);
int	nvmm_x86_vcpu_inject(struct nvmm_cpu *);
int	nvmm_x86_vcpu_complete(struct nvmm_cpu *, bool *);
int	nvmm_x86_pending_finish(struct nvmm_cpu *);
size_t	nvmm_x86_fetch(struct nvmm_cpu *, const struct kvm_sregs *, uint64_t rip,
	    uint8_t *, size_t);

/* nvmm_x86_invalid.c */
void	nvmm_x86_exit_invalid(struct nvmm_cpu *, struct nvmm_vcpu_exit *,
	    uint64_t hwcode, int run_error);
int	nvmm_x86_vcpu_invalid(struct nvmm_cpu *, char *, size_t);

/* nvmm_x86_decode.c */
bool	nvmm_x86_decode_io(const uint8_t *, size_t, bool mode16, bool longmode,
	    struct nvmm_x86_io_insn *);
bool	nvmm_x86_io_string_prefix(uint8_t);
size_t	nvmm_x86_decode_msr_len(const uint8_t *, size_t, bool longmode);

/* nvmm_x86_cpuid.c */
int	nvmm_x86_cpuid_configure(struct nvmm_cpu *, const void *);
int	nvmm_x86_cpuid_load(struct nvmm_cpu *, uint32_t ncpus);

#endif /* NVMM_X86_KVM_H */
