/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The 64-bit set-up shared by the test harnesses (tests/kernel/h_vm,
 * tests/client/h_client): the guest physical layout the guests of
 * tests/kernel/guests.S are written for, identity page tables and a GDT
 * written into guest RAM, and a VCPU state in long mode.  Nothing here
 * talks to NVMM: the harnesses fetch and commit the state their own way.
 */
#ifndef H_LONGMODE_H
#define H_LONGMODE_H

#include <stddef.h>
#include <stdint.h>

#include <nvmm.h>

/* Guest physical layout used by the 64-bit set-up. */
#define TVM_CODE_GPA	0x1000ULL
#define TVM_DATA_GPA	0x8000ULL
#define TVM_PT_GPA	0x10000ULL	/* PML4, PDPT, PD: 1 GiB of 2 MiB pages */
#define TVM_GDT_GPA	0x14000ULL
#define TVM_IDT_GPA	0x15000ULL
#define TVM_STACK_TOP	0x80000ULL
#define TVM_MMIO_GPA	0x10000000ULL	/* no memory there: every access exits */
#define TVM_RAM_SIZE	(4UL << 20)

/* What the page tables map: [0, TVM_PT_LIMIT) identity, RW, supervisor. */
#define TVM_PT_LIMIT	(1ULL << 30)

/* GDT selectors. */
#define TVM_SEL_CODE64	0x08
#define TVM_SEL_DATA	0x10

/* The state components hlm_state() changes: what to commit after it. */
#define HLM_STATE_FLAGS	(NVMM_X64_STATE_SEGS | NVMM_X64_STATE_CRS |	\
	NVMM_X64_STATE_MSRS | NVMM_X64_STATE_GPRS)

/* Guest code: begin/end symbols of each snippet in guests.S. */
#define TVM_GUEST(name)							\
	extern const uint8_t guest_##name##_begin[];			\
	extern const uint8_t guest_##name##_end[]
/* The GPA of symbol sym of snippet name, loaded at TVM_CODE_GPA. */
#define TVM_GUEST_ADDR(name, sym)					\
	(TVM_CODE_GPA + (uint64_t)((sym) - guest_##name##_begin))

/*
 * Writes the identity page tables at TVM_PT_GPA and the GDT at
 * TVM_GDT_GPA into ram, the host view of guest physical [0, ramsize);
 * ramsize must cover TVM_IDT_GPA (returns -1 otherwise, 0 on success).
 */
int	hlm_tables(uint8_t *ram, size_t ramsize);

/*
 * Puts st in 64-bit mode at rip, with the tables of hlm_tables: CS 64-bit
 * code and the data segments flat (DPL 0), GDTR and IDTR at TVM_GDT_GPA
 * and TVM_IDT_GPA, a busy 64-bit TR, CR0 PE|ET|NE|PG, CR3 TVM_PT_GPA, CR4
 * PAE|OSFXSR, EFER LME|LMA|SCE; the GPRs zero but RIP = rip, RSP =
 * TVM_STACK_TOP and RFLAGS 0x2.  Only these fields change: st should hold
 * the VCPU's current state (HLM_STATE_FLAGS at least), and HLM_STATE_FLAGS
 * are to be committed afterwards.
 */
void	hlm_state(struct nvmm_x64_state *st, uint64_t rip);

/*
 * The guest set-up every harness makes, in one place: hlm_tables into
 * ram, then hlm_state(st, rip).  Returns -1 if ramsize is too small.
 */
int	hlm_setup(uint8_t *ram, size_t ramsize, struct nvmm_x64_state *st,
	    uint64_t rip);

/*
 * Copies the guest code [begin, end) into ram at gpa; returns -1 (and
 * copies nothing) if it does not fit in ramsize, 0 on success.
 */
int	hlm_load(uint8_t *ram, size_t ramsize, uint64_t gpa, const void *begin,
	    const void *end);

/*
 * Writes a 64-bit interrupt gate (DPL 0) to handler for vector in the
 * IDT at TVM_IDT_GPA; returns -1 if it does not fit in ramsize.
 */
int	hlm_idt_gate(uint8_t *ram, size_t ramsize, unsigned vector,
	    uint64_t handler);

#endif /* H_LONGMODE_H */
