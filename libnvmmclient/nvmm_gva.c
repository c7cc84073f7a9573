/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmm_gva_to_gpa: the x86 page walk, done in software on guest RAM the
 * library knows (its area list), with NetBSD libnvmm's rules where they
 * are the architecture's:
 *
 *   - paging off: the identity, every right;
 *   - long mode (EFER.LMA with CR4.PAE): 4 levels, 1 GiB and 2 MiB pages,
 *     non-canonical addresses fail;
 *   - PAE without long mode: 3 levels, 2 MiB pages;
 *   - neither: 2 levels of 32-bit entries, 4 MiB pages with CR4.PSE;
 *   - the rights start as RWXU; a level without R/W takes W away, one
 *     without U/S takes U, one with NX takes X; every level must be
 *     present; accessed and dirty bits are never written;
 *   - PS where no large page can be (the top level, and the PDPTE of PAE
 *     paging) fails, as NetBSD does.
 *
 * And the architecture's where NetBSD's differ (libnvmm(3) says why):
 *
 *   - CR4.LA57: 5 levels, canonical on 57 bits (NetBSD walks 4, which
 *     reads the PML5 as if it were the PML4);
 *   - 32-bit paging without CR4.PSE: PS is ignored, the entry points to a
 *     page table (NetBSD fails);
 *   - bit 7 of a PTE is the PAT bit, a memory type (NetBSD fails);
 *   - large pages keep every frame bit up to bit 51 (NetBSD drops bits
 *     51:48 of long-mode 1 GiB and 2 MiB frames, 51:32 of PAE 2 MiB ones,
 *     though it keeps them for 4 KiB ones), and 4 MiB pages take bits 39:32 from bits 20:13 (PSE-36;
 *     NetBSD keeps 31:22 only).
 *
 * Any failure is EFAULT.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "nvmmc.h"

#define X86_CR0_PG		0x80000000ULL
#define X86_CR4_PSE		0x00000010ULL
#define X86_CR4_PAE		0x00000020ULL
#define X86_CR4_LA57		0x00001000ULL
#define X86_EFER_LMA		0x00000400ULL

#define X86_PTE_P		0x0000000000000001ULL
#define X86_PTE_RW		0x0000000000000002ULL
#define X86_PTE_US		0x0000000000000004ULL
#define X86_PTE_PS		0x0000000000000080ULL
#define X86_PTE_NX		0x8000000000000000ULL

#define GVA_PAGE_SHIFT		12

/* What a PS bit means at one level of the walk. */
enum gva_ps {
	GVA_PS_FAIL,		/* no large page here: the walk fails */
	GVA_PS_LARGE,		/* the entry maps a page of 1 << shift bytes */
	GVA_PS_IGNORE,		/* not a page size: PAT in a PTE, or no CR4.PSE */
};

/* One level of page tables. */
struct gva_level {
	unsigned shift;		/* lowest gva bit of this level's index */
	unsigned bits;		/* width of the index */
	enum gva_ps ps;
	bool rights;		/* R/W and U/S mean something (not a PDPTE) */
};

/* A paging mode: its entries, and its levels, top first. */
struct gva_mode {
	size_t ptesize;		/* 4 or 8 bytes */
	uint64_t root;		/* CR3 bits of the top table's address */
	uint64_t frame;		/* entry bits of the next address */
	unsigned vabits;	/* canonical width of gva, 0: any 32 bits */
	unsigned nlevels;
	struct gva_level levels[5];
};

static const struct gva_mode gva_mode_long = {
	.ptesize = 8,
	.root = 0x000FFFFFFFFFF000ULL,
	.frame = 0x000FFFFFFFFFF000ULL,
	.vabits = 48,
	.nlevels = 4,
	.levels = {
		{ 39, 9, GVA_PS_FAIL, true },
		{ 30, 9, GVA_PS_LARGE, true },
		{ 21, 9, GVA_PS_LARGE, true },
		{ 12, 9, GVA_PS_IGNORE, true },
	},
};

static const struct gva_mode gva_mode_la57 = {
	.ptesize = 8,
	.root = 0x000FFFFFFFFFF000ULL,
	.frame = 0x000FFFFFFFFFF000ULL,
	.vabits = 57,
	.nlevels = 5,
	.levels = {
		{ 48, 9, GVA_PS_FAIL, true },
		{ 39, 9, GVA_PS_FAIL, true },
		{ 30, 9, GVA_PS_LARGE, true },
		{ 21, 9, GVA_PS_LARGE, true },
		{ 12, 9, GVA_PS_IGNORE, true },
	},
};

/* The PDPT is 32-byte aligned, and its entries have no R/W nor U/S. */
static const struct gva_mode gva_mode_pae = {
	.ptesize = 8,
	.root = 0x00000000FFFFFFE0ULL,
	.frame = 0x000FFFFFFFFFF000ULL,
	.nlevels = 3,
	.levels = {
		{ 30, 2, GVA_PS_FAIL, false },
		{ 21, 9, GVA_PS_LARGE, true },
		{ 12, 9, GVA_PS_IGNORE, true },
	},
};

/* 4 MiB pages: see gva_large_frame(). */
static const struct gva_mode gva_mode_32 = {
	.ptesize = 4,
	.root = 0x00000000FFFFF000ULL,
	.frame = 0x00000000FFFFF000ULL,
	.nlevels = 2,
	.levels = {
		{ 22, 10, GVA_PS_LARGE, true },
		{ 12, 10, GVA_PS_IGNORE, true },
	},
};

/* -------------------------------------------------------------------------- */

/* Bits 63:vabits-1 all equal, the only addresses the walk translates. */
static bool
gva_canonical(gvaddr_t gva, unsigned vabits)
{
	uint64_t top = gva >> (vabits - 1);

	return top == 0 || top == (~0ULL >> (vabits - 1));
}

/*
 * Reads one page-table entry at gpa.  The table must be RAM the library
 * knows: a walk never goes through the emulator's device callbacks.
 */
static bool
gva_read_pte(struct nvmm_machine *mach, gpaddr_t gpa, size_t ptesize,
    uint64_t *pte)
{
	uintptr_t hva;
	nvmm_prot_t prot;
	size_t left;
	uint32_t pte32;

	if (nvmmc_area_lookup(mach, gpa, &hva, &prot, &left) != 0 ||
	    left < ptesize)
		return false;
	/*
	 * Other VCPUs may be writing the table: one load of the whole
	 * entry, never a torn one.  Entries are aligned in guest memory;
	 * should an area's HVA not be aligned like its GPA, it is copied.
	 */
	if ((hva & (ptesize - 1)) != 0) {
		*pte = 0;
		memcpy(pte, (const void *)hva, ptesize);
	} else if (ptesize == 4) {
		pte32 = __atomic_load_n((const uint32_t *)hva,
		    __ATOMIC_RELAXED);
		*pte = pte32;
	} else {
		*pte = __atomic_load_n((const uint64_t *)hva,
		    __ATOMIC_RELAXED);
	}
	return true;
}

/* The rights an entry leaves of *prot. */
static void
gva_restrict(const struct gva_level *lvl, uint64_t pte, nvmm_prot_t *prot)
{
	if (lvl->rights && !(pte & X86_PTE_RW))
		*prot &= ~(nvmm_prot_t)NVMM_PROT_WRITE;
	if (lvl->rights && !(pte & X86_PTE_US))
		*prot &= ~(nvmm_prot_t)NVMM_PROT_USER;
	/* 32-bit entries have no bit 63: zero-extended, they keep X. */
	if (pte & X86_PTE_NX)
		*prot &= ~(nvmm_prot_t)NVMM_PROT_EXEC;
}

/* The bits of addr below bit `shift'. */
static uint64_t
gva_low(uint64_t addr, unsigned shift)
{
	return addr & ((1ULL << shift) - 1);
}

/*
 * The frame of a large page: its entry's address bits above the page's
 * offset; in a 32-bit entry, bits 20:13 are address bits 39:32 (PSE-36).
 */
static uint64_t
gva_large_frame(const struct gva_mode *mode, const struct gva_level *lvl,
    uint64_t pte)
{
	uint64_t frame = pte & mode->frame & ~gva_low(~0ULL, lvl->shift);

	if (mode->ptesize == 4)
		frame |= ((pte >> 13) & 0xFF) << 32;
	return frame;
}

/* Walks the tables of `mode' from CR3 down to the page that maps gva. */
static bool
gva_walk(struct nvmm_machine *mach, const struct gva_mode *mode,
    uint64_t cr3, gvaddr_t gva, gpaddr_t *gpa, nvmm_prot_t *prot)
{
	const struct gva_level *lvl;
	uint64_t table, index, pte;
	unsigned i;

	*prot = NVMM_PROT_ALL;
	table = cr3 & mode->root;
	for (i = 0; i < mode->nlevels; i++) {
		lvl = &mode->levels[i];
		index = (gva >> lvl->shift) & ((1ULL << lvl->bits) - 1);
		if (!gva_read_pte(mach, table + index * mode->ptesize,
		    mode->ptesize, &pte))
			return false;
		if (!(pte & X86_PTE_P))
			return false;
		gva_restrict(lvl, pte, prot);
		if ((pte & X86_PTE_PS) && lvl->ps == GVA_PS_FAIL)
			return false;
		if ((pte & X86_PTE_PS) && lvl->ps == GVA_PS_LARGE) {
			*gpa = gva_large_frame(mode, lvl, pte) |
			    gva_low(gva, lvl->shift);
			return true;
		}
		table = pte & mode->frame;
	}
	/* Past the last level `table' is the page itself. */
	*gpa = table | gva_low(gva, GVA_PAGE_SHIFT);
	return true;
}

/*
 * The paging mode the control registers select, or NULL for one that
 * cannot be entered (LMA without PAE).  32-bit paging is copied to `buf' to set what PS means.
 */
static const struct gva_mode *
gva_mode(uint64_t cr4, uint64_t efer, struct gva_mode *buf)
{
	bool lma = (efer & X86_EFER_LMA) != 0;
	bool pae = (cr4 & X86_CR4_PAE) != 0;

	if (lma && pae)
		return (cr4 & X86_CR4_LA57) ? &gva_mode_la57 : &gva_mode_long;
	if (lma)
		return NULL;
	if (pae)
		return &gva_mode_pae;
	*buf = gva_mode_32;
	if (!(cr4 & X86_CR4_PSE))
		buf->levels[0].ps = GVA_PS_IGNORE;
	return buf;
}

int
nvmm_gva_to_gpa(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu,
    gvaddr_t gva, gpaddr_t *gpa, nvmm_prot_t *prot)
{
	const struct nvmm_x64_state *state = vcpu->state;
	const struct gva_mode *mode;
	struct gva_mode buf;
	gpaddr_t rgpa;
	nvmm_prot_t rprot;

	/* Normally cached: every IO and MEMORY exit leaves CRS|MSRS there. */
	if (nvmm_vcpu_getstate(mach, vcpu,
	    NVMM_X64_STATE_CRS | NVMM_X64_STATE_MSRS) == -1)
		return -1;

	if (!(state->crs[NVMM_X64_CR_CR0] & X86_CR0_PG)) {
		*gpa = gva;
		*prot = NVMM_PROT_ALL;
		return 0;
	}
	mode = gva_mode(state->crs[NVMM_X64_CR_CR4],
	    state->msrs[NVMM_X64_MSR_EFER], &buf);
	if (mode == NULL)
		goto fail;
	if (mode->vabits != 0 && !gva_canonical(gva, mode->vabits))
		goto fail;
	if (!gva_walk(mach, mode, state->crs[NVMM_X64_CR_CR3], gva, &rgpa,
	    &rprot))
		goto fail;
	*gpa = rgpa;
	*prot = rprot;
	return 0;
fail:
	errno = EFAULT;
	return -1;
}
