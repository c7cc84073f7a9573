/*
 * nvmm_vcpu_dump: the VCPU's registers on stdout, for debugging.  The
 * content is NetBSD's (GPRs, RIP, RFLAGS, the segments, EFER and the
 * control registers); the layout is this library's own.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "nvmmc.h"

static const char *const dump_gpr_names[] = {
	[NVMM_X64_GPR_RAX] = "rax",
	[NVMM_X64_GPR_RCX] = "rcx",
	[NVMM_X64_GPR_RDX] = "rdx",
	[NVMM_X64_GPR_RBX] = "rbx",
	[NVMM_X64_GPR_RSP] = "rsp",
	[NVMM_X64_GPR_RBP] = "rbp",
	[NVMM_X64_GPR_RSI] = "rsi",
	[NVMM_X64_GPR_RDI] = "rdi",
};

static const char *const dump_seg_names[NVMM_X64_NSEG] = {
	[NVMM_X64_SEG_ES] = "es",
	[NVMM_X64_SEG_CS] = "cs",
	[NVMM_X64_SEG_SS] = "ss",
	[NVMM_X64_SEG_DS] = "ds",
	[NVMM_X64_SEG_FS] = "fs",
	[NVMM_X64_SEG_GS] = "gs",
	[NVMM_X64_SEG_GDT] = "gdt",
	[NVMM_X64_SEG_IDT] = "idt",
	[NVMM_X64_SEG_LDT] = "ldt",
	[NVMM_X64_SEG_TR] = "tr",
};

/* RAX to RDI, two to a line, then RIP and RFLAGS. */
static void
dump_gprs(const struct nvmm_x64_state *state)
{
	size_t i, n = sizeof(dump_gpr_names) / sizeof(dump_gpr_names[0]);

	for (i = 0; i < n; i++)
		printf("  %-6s 0x%016" PRIx64 "%s", dump_gpr_names[i],
		    state->gprs[i], (i % 2) ? "\n" : "");
	printf("  %-6s 0x%016" PRIx64 "  %-6s 0x%016" PRIx64 "\n",
	    "rip", state->gprs[NVMM_X64_GPR_RIP],
	    "rflags", state->gprs[NVMM_X64_GPR_RFLAGS]);
}

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

	printf("  seg    sel    base               limit      attrib"
	    " type l def\n");
	for (i = 0; i < NVMM_X64_NSEG; i++) {
		seg = &state->segs[i];
		printf("  %-6s 0x%04x 0x%016" PRIx64 " 0x%08" PRIx32
		    " 0x%04x %4u %u %3u\n", dump_seg_names[i],
		    (unsigned)seg->selector, seg->base, seg->limit,
		    dump_attrib_raw(seg), (unsigned)seg->attrib.type,
		    (unsigned)seg->attrib.l, (unsigned)seg->attrib.def);
	}
}

static void
dump_ctrl(const struct nvmm_x64_state *state)
{
	printf("  %-6s 0x%016" PRIx64 "\n", "efer",
	    state->msrs[NVMM_X64_MSR_EFER]);
	printf("  %-6s 0x%016" PRIx64 "  %-6s 0x%016" PRIx64 "\n",
	    "cr0", state->crs[NVMM_X64_CR_CR0],
	    "cr3", state->crs[NVMM_X64_CR_CR3]);
	printf("  %-6s 0x%016" PRIx64 "  %-6s 0x%016" PRIx64 "\n",
	    "cr4", state->crs[NVMM_X64_CR_CR4],
	    "cr8", state->crs[NVMM_X64_CR_CR8]);
}

int
nvmm_vcpu_dump(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu)
{
	const struct nvmm_x64_state *state = vcpu->state;

	if (nvmm_vcpu_getstate(mach, vcpu, NVMM_X64_STATE_ALL) == -1)
		return -1;

	printf("NVMM machine %" PRIu32 ", VCPU %" PRIu32 ":\n",
	    mach->machid, vcpu->cpuid);
	dump_gprs(state);
	dump_segs(state);
	dump_ctrl(state);
	/* The caller may be about to crash: do not leave this buffered. */
	fflush(stdout);
	return 0;
}
