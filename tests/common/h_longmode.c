/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The 64-bit set-up shared by the test harnesses; see h_longmode.h.
 */
#include <stdbool.h>
#include <string.h>

#include "h_longmode.h"

#define PTE_P		0x001ULL
#define PTE_W		0x002ULL
#define PTE_PS		0x080ULL

#define CR0_PE		0x00000001ULL
#define CR0_ET		0x00000010ULL
#define CR0_NE		0x00000020ULL
#define CR0_PG		0x80000000ULL
#define CR4_PAE		0x00000020ULL
#define CR4_OSFXSR	0x00000200ULL
#define EFER_SCE	0x001ULL
#define EFER_LME	0x100ULL
#define EFER_LMA	0x400ULL

static void
hlm_pagetables(uint8_t *ram)
{
	uint64_t pml4[512], pdpt[512], pd[512];
	uint64_t i;

	/* Built aside and copied: ram need not be 8-byte aligned. */
	memset(pml4, 0, sizeof(pml4));
	memset(pdpt, 0, sizeof(pdpt));
	pml4[0] = (TVM_PT_GPA + 0x1000) | PTE_P | PTE_W;
	pdpt[0] = (TVM_PT_GPA + 0x2000) | PTE_P | PTE_W;
	for (i = 0; i < 512; i++)
		pd[i] = (i << 21) | PTE_P | PTE_W | PTE_PS;
	memcpy(ram + TVM_PT_GPA, pml4, sizeof(pml4));
	memcpy(ram + TVM_PT_GPA + 0x1000, pdpt, sizeof(pdpt));
	memcpy(ram + TVM_PT_GPA + 0x2000, pd, sizeof(pd));
}

static void
hlm_gdt(uint8_t *ram)
{
	static const uint64_t gdt[3] = {
		0,
		0x00AF9B000000FFFFULL,	/* 64-bit code, DPL 0 */
		0x00CF93000000FFFFULL,	/* data, DPL 0 */
	};

	memcpy(ram + TVM_GDT_GPA, gdt, sizeof(gdt));
}

int
hlm_tables(uint8_t *ram, size_t ramsize)
{
	if (ram == NULL || ramsize < TVM_IDT_GPA)
		return -1;
	hlm_pagetables(ram);
	hlm_gdt(ram);
	return 0;
}

static void
hlm_seg(struct nvmm_x64_state_seg *seg, uint16_t sel, unsigned type,
    bool l, bool def)
{
	memset(seg, 0, sizeof(*seg));
	seg->selector = sel;
	seg->limit = 0xFFFFFFFF;
	seg->attrib.type = type;
	seg->attrib.s = 1;
	seg->attrib.p = 1;
	seg->attrib.l = l;
	seg->attrib.def = def;
	seg->attrib.g = 1;
}

void
hlm_state(struct nvmm_x64_state *st, uint64_t rip)
{
	size_t i;

	hlm_seg(&st->segs[NVMM_X64_SEG_CS], TVM_SEL_CODE64, 0xB, true, false);
	for (i = 0; i < NVMM_X64_NSEG; i++) {
		if (i == NVMM_X64_SEG_CS || i == NVMM_X64_SEG_GDT ||
		    i == NVMM_X64_SEG_IDT || i == NVMM_X64_SEG_LDT ||
		    i == NVMM_X64_SEG_TR)
			continue;
		hlm_seg(&st->segs[i], TVM_SEL_DATA, 0x3, false, true);
	}
	st->segs[NVMM_X64_SEG_GDT].base = TVM_GDT_GPA;
	st->segs[NVMM_X64_SEG_GDT].limit = 3 * 8 - 1;
	st->segs[NVMM_X64_SEG_IDT].base = TVM_IDT_GPA;
	st->segs[NVMM_X64_SEG_IDT].limit = 0xFFF;
	st->segs[NVMM_X64_SEG_TR].attrib.type = 0xB;	/* busy 64-bit TSS */
	st->segs[NVMM_X64_SEG_TR].attrib.p = 1;
	st->segs[NVMM_X64_SEG_TR].limit = 0x67;

	st->crs[NVMM_X64_CR_CR0] = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	st->crs[NVMM_X64_CR_CR3] = TVM_PT_GPA;
	st->crs[NVMM_X64_CR_CR4] = CR4_PAE | CR4_OSFXSR;
	st->msrs[NVMM_X64_MSR_EFER] = EFER_LME | EFER_LMA | EFER_SCE;

	memset(st->gprs, 0, sizeof(st->gprs));
	st->gprs[NVMM_X64_GPR_RIP] = rip;
	st->gprs[NVMM_X64_GPR_RSP] = TVM_STACK_TOP;
	st->gprs[NVMM_X64_GPR_RFLAGS] = 0x2;
}

int
hlm_idt_gate(uint8_t *ram, size_t ramsize, unsigned vector, uint64_t handler)
{
	uint16_t sel = TVM_SEL_CODE64, w;
	uint32_t high = (uint32_t)(handler >> 32);
	uint8_t *g;

	if (TVM_IDT_GPA + (vector + 1) * 16 > ramsize)
		return -1;
	g = ram + TVM_IDT_GPA + vector * 16;
	memset(g, 0, 16);
	w = (uint16_t)handler;
	memcpy(g + 0, &w, 2);
	memcpy(g + 2, &sel, 2);
	g[5] = 0x8E;			/* present, DPL 0, interrupt gate */
	w = (uint16_t)(handler >> 16);
	memcpy(g + 6, &w, 2);
	memcpy(g + 8, &high, 4);
	return 0;
}

int
hlm_setup(uint8_t *ram, size_t ramsize, struct nvmm_x64_state *st,
    uint64_t rip)
{
	if (hlm_tables(ram, ramsize) != 0)
		return -1;
	hlm_state(st, rip);
	return 0;
}

int
hlm_load(uint8_t *ram, size_t ramsize, uint64_t gpa, const void *begin,
    const void *end)
{
	size_t len = (size_t)((const uint8_t *)end - (const uint8_t *)begin);

	if (ram == NULL || gpa > ramsize || len > ramsize - gpa)
		return -1;
	memcpy(ram + gpa, begin, len);
	return 0;
}
