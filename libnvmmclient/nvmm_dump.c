/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmm_vcpu_dump: the VCPU's registers on stdout, for debugging, in
 * NetBSD's lines ("+ VCPU id=N", then "| -> NAME=value" in its order,
 * values in bare hex), so that logs of both compare line by line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "nvmmc.h"

/* NetBSD's order and names, each with the index of the value it prints. */
struct dump_reg {
	const char *name;
	int index;
};

static const struct dump_reg dump_gprs[] = {
	{ "RAX", NVMM_X64_GPR_RAX }, { "RCX", NVMM_X64_GPR_RCX },
	{ "RDX", NVMM_X64_GPR_RDX }, { "RBX", NVMM_X64_GPR_RBX },
	{ "RSP", NVMM_X64_GPR_RSP }, { "RBP", NVMM_X64_GPR_RBP },
	{ "RSI", NVMM_X64_GPR_RSI }, { "RDI", NVMM_X64_GPR_RDI },
	{ "RIP", NVMM_X64_GPR_RIP }, { "RFLAGS", NVMM_X64_GPR_RFLAGS },
};

static const struct dump_reg dump_crs[] = {
	{ "CR0", NVMM_X64_CR_CR0 }, { "CR3", NVMM_X64_CR_CR3 },
	{ "CR4", NVMM_X64_CR_CR4 }, { "CR8", NVMM_X64_CR_CR8 },
};

/* Indexed by NVMM_X64_SEG_*, which is the order NetBSD prints them in. */
static const char *const dump_seg_names[NVMM_X64_NSEG] = {
	[NVMM_X64_SEG_ES] = "ES",
	[NVMM_X64_SEG_CS] = "CS",
	[NVMM_X64_SEG_SS] = "SS",
	[NVMM_X64_SEG_DS] = "DS",
	[NVMM_X64_SEG_FS] = "FS",
	[NVMM_X64_SEG_GS] = "GS",
	[NVMM_X64_SEG_GDT] = "GDT",
	[NVMM_X64_SEG_IDT] = "IDT",
	[NVMM_X64_SEG_LDT] = "LDT",
	[NVMM_X64_SEG_TR] = "TR",
};

/* The attribute bits as the packed 16-bit word they are stored as. */
static unsigned
dump_attrib_raw(const struct nvmm_x64_state_seg *seg)
{
	uint16_t raw;

	memcpy(&raw, &seg->attrib, sizeof(raw));
	return raw;
}

static void
dump_segs(const struct nvmm_x64_state *state)
{
	const struct nvmm_x64_state_seg *seg;
	size_t i;

	for (i = 0; i < NVMM_X64_NSEG; i++) {
		seg = &state->segs[i];
		printf("| -> %s: sel=0x%x base=%" PRIx64 ", limit=%x, "
		    "attrib=%x [type=%d,l=%d,def=%d]\n", dump_seg_names[i],
		    (unsigned)seg->selector, seg->base, (unsigned)seg->limit,
		    dump_attrib_raw(seg), (int)seg->attrib.type,
		    (int)seg->attrib.l, (int)seg->attrib.def);
	}
}

int
nvmm_vcpu_dump(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu)
{
	const struct nvmm_x64_state *state = vcpu->state;
	size_t i;

	if (nvmm_vcpu_getstate(mach, vcpu, NVMM_X64_STATE_ALL) == -1)
		return -1;

	printf("+ VCPU id=%u\n", (unsigned)vcpu->cpuid);
	for (i = 0; i < sizeof(dump_gprs) / sizeof(dump_gprs[0]); i++)
		printf("| -> %s=%" PRIx64 "\n", dump_gprs[i].name,
		    state->gprs[dump_gprs[i].index]);
	dump_segs(state);
	printf("| -> MSR_EFER=%" PRIx64 "\n", state->msrs[NVMM_X64_MSR_EFER]);
	for (i = 0; i < sizeof(dump_crs) / sizeof(dump_crs[0]); i++)
		printf("| -> %s=%" PRIx64 "\n", dump_crs[i].name,
		    state->crs[dump_crs[i].index]);
	/* The caller may be about to crash: do not leave this buffered. */
	fflush(stdout);
	return 0;
}
