/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * t_gva: nvmm_gva_to_gpa, the client library's x86 page walk, on its own
 * (reference §8.3): no daemon, no KVM.  A fake machine and VCPU carry a
 * comm page whose state is fully cached, so that getstate never has to
 * ask anyone, and an area list that points at malloc'ed "guest RAM" in
 * which each case writes its page tables.  The stubs below stand in for
 * the two library functions nvmm_gva.c calls.
 *
 * Each case checks gpa and rights for the paging modes (off, long mode
 * with 4 KiB, 2 MiB and 1 GiB pages, 5-level, PAE, 32-bit with and
 * without PSE), and the walks that must fail with EFAULT.  Where NetBSD's
 * walk contradicts the architecture, the architecture's answer is
 * checked, and NetBSD's said in a comment (libnvmm(3) says why).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>

#include "nvmmc.h"

#define PAGE		4096ULL

#define CR0_PE		0x00000001ULL
#define CR0_ET		0x00000010ULL
#define CR0_PG		0x80000000ULL
#define CR0_ON		(CR0_PE | CR0_ET | CR0_PG)
#define CR4_PSE		0x00000010ULL
#define CR4_PAE		0x00000020ULL
#define CR4_LA57	0x00001000ULL
#define EFER_LME	0x00000100ULL
#define EFER_LMA	0x00000400ULL
#define EFER_NXE	0x00000800ULL
#define EFER_LONG	(EFER_LME | EFER_LMA | EFER_NXE)

#define P		0x001ULL
#define RW		0x002ULL
#define US		0x004ULL
#define PS		0x080ULL
#define NX		(1ULL << 63)
#define PRW		(P | RW | US)	/* an entry that takes nothing away */

#define R_		NVMM_PROT_READ
#define W_		NVMM_PROT_WRITE
#define X_		NVMM_PROT_EXEC
#define U_		NVMM_PROT_USER
#define ALL		NVMM_PROT_ALL

/* Guest RAM: two areas with a hole between them. */
#define RAM0_GPA	0x100000ULL
#define RAM0_PAGES	64
#define RAM1_GPA	0x300000ULL
#define RAM1_PAGES	16
#define HOLE_GPA	0x800000ULL	/* in no area */

/* How the test writes tables for a mode (not how the library walks). */
struct tmode {
	size_t ptesize;
	unsigned nlevels;
	unsigned shift[5];
	unsigned bits[5];
	uint64_t frame;
};

static const struct tmode M64 = {
	8, 4, { 39, 30, 21, 12 }, { 9, 9, 9, 9 }, 0x000FFFFFFFFFF000ULL };
static const struct tmode M57 = {
	8, 5, { 48, 39, 30, 21, 12 }, { 9, 9, 9, 9, 9 },
	0x000FFFFFFFFFF000ULL };
static const struct tmode MPAE = {
	8, 3, { 30, 21, 12 }, { 2, 9, 9 }, 0x000FFFFFFFFFF000ULL };
static const struct tmode M32 = {
	4, 2, { 22, 12 }, { 10, 10 }, 0xFFFFF000ULL };

/*
 * The fixture.  Static, so that what a failing case leaves is still
 * reachable at exit (LeakSanitizer builds).
 */
static struct {
	struct nvmm_machine mach;
	struct nvmm_vcpu vcpu;
	struct nvmm_comm_page *comm;
	struct nvmm_comm_page *pages[1];
	struct nvmmc_machine *cm;
	struct nvmmc_area area[2];
	uint8_t *ram[2];
	unsigned used[2];	/* pages handed out by page_alloc() */
	unsigned alloc_from;	/* the area page_alloc() takes from */
	unsigned getstate_calls;
	uint64_t getstate_flags;
} T;

/* -------------------------------------------------------------------------- */
/* Stubs for what nvmm_gva.c needs of the rest of the library. */

/* As the library's: no request when every group asked for is cached. */
int
nvmm_vcpu_getstate(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu,
    uint64_t flags)
{
	ATF_REQUIRE(mach == &T.mach && vcpu == &T.vcpu);
	T.getstate_calls++;
	T.getstate_flags |= flags;
	if ((T.comm->state_cached & flags) != flags) {
		/* Nobody to ask: an errno to recognise when passed up. */
		errno = EIO;
		return -1;
	}
	return 0;
}

int
nvmmc_area_lookup(struct nvmm_machine *mach, gpaddr_t gpa, uintptr_t *hva,
    nvmm_prot_t *prot, size_t *left)
{
	struct nvmmc_area *a;

	ATF_REQUIRE(mach == &T.mach);
	LIST_FOREACH(a, &nvmmc_machine(mach)->areas, link) {
		if (gpa >= a->gpa && gpa - a->gpa < a->size) {
			*hva = a->hva + (gpa - a->gpa);
			*prot = a->prot;
			*left = a->size - (gpa - a->gpa);
			return 0;
		}
	}
	errno = ENOENT;
	return -1;
}

/* -------------------------------------------------------------------------- */
/* The fake machine, and the guest RAM the tables live in. */

static void
area_init(unsigned i, gpaddr_t gpa, unsigned npages)
{
	void *p;

	ATF_REQUIRE(posix_memalign(&p, PAGE, npages * PAGE) == 0);
	memset(p, 0, npages * PAGE);
	T.ram[i] = p;
	T.area[i].gpa = gpa;
	T.area[i].hva = (uintptr_t)p;
	T.area[i].size = npages * PAGE;
	T.area[i].prot = NVMM_PROT_READ | NVMM_PROT_WRITE | NVMM_PROT_EXEC;
	LIST_INSERT_HEAD(&T.cm->areas, &T.area[i], link);
}

/* A VCPU with paging as given and every state group cached. */
static void
tenv_init(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
	struct nvmm_x64_state *st;

	memset(&T, 0, sizeof(T));
	T.comm = calloc(1, sizeof(*T.comm));
	T.cm = calloc(1, sizeof(*T.cm));
	ATF_REQUIRE(T.comm != NULL && T.cm != NULL);
	LIST_INIT(&T.cm->areas);
	area_init(0, RAM0_GPA, RAM0_PAGES);
	area_init(1, RAM1_GPA, RAM1_PAGES);

	T.pages[0] = T.comm;
	T.mach.machid = 7;
	T.mach.pages = T.pages;
	T.mach.areas = T.cm;
	T.vcpu.cpuid = 0;
	T.vcpu.state = &T.comm->state;
	T.vcpu.event = &T.comm->event;
	T.vcpu.stop = &T.comm->stop;

	T.comm->state_cached = NVMM_X64_STATE_ALL;
	st = &T.comm->state;
	st->crs[NVMM_X64_CR_CR0] = cr0;
	st->crs[NVMM_X64_CR_CR3] = cr3;
	st->crs[NVMM_X64_CR_CR4] = cr4;
	st->msrs[NVMM_X64_MSR_EFER] = efer;
}

static void
set_cr3(uint64_t cr3)
{
	T.comm->state.crs[NVMM_X64_CR_CR3] = cr3;
}

/* The test's pointer to guest RAM at gpa (which must be RAM). */
static uint8_t *
gpa_ptr(gpaddr_t gpa)
{
	unsigned i;

	for (i = 0; i < 2; i++) {
		if (gpa >= T.area[i].gpa &&
		    gpa - T.area[i].gpa < T.area[i].size)
			return T.ram[i] + (gpa - T.area[i].gpa);
	}
	atf_tc_fail("test bug: gpa %#jx is not RAM", (uintmax_t)gpa);
	return NULL;
}

/* A fresh zeroed page for a table, from the current area. */
static gpaddr_t
page_alloc(void)
{
	unsigned i = T.alloc_from;
	unsigned max = (unsigned)(T.area[i].size / PAGE);

	ATF_REQUIRE_MSG(T.used[i] < max, "test bug: out of table pages");
	return T.area[i].gpa + PAGE * T.used[i]++;
}

static uint64_t
ent_load(const struct tmode *m, gpaddr_t gpa)
{
	uint32_t v32;
	uint64_t v64;

	if (m->ptesize == 4) {
		memcpy(&v32, gpa_ptr(gpa), 4);
		return v32;
	}
	memcpy(&v64, gpa_ptr(gpa), 8);
	return v64;
}

static void
ent_store(const struct tmode *m, gpaddr_t gpa, uint64_t val)
{
	uint32_t v32 = (uint32_t)val;

	if (m->ptesize == 4) {
		ATF_REQUIRE_MSG(val <= UINT32_MAX, "test bug: 32-bit entry");
		memcpy(gpa_ptr(gpa), &v32, 4);
	} else {
		memcpy(gpa_ptr(gpa), &val, 8);
	}
}

/* Where the entry of `level' (0 = top) for gva sits, in table `table'. */
static gpaddr_t
ent_addr(const struct tmode *m, gpaddr_t table, gvaddr_t gva, unsigned level)
{
	uint64_t mask = (1ULL << m->bits[level]) - 1;

	return table + ((gva >> m->shift[level]) & mask) * m->ptesize;
}

/*
 * Writes what maps gva: from the top table at root down to `leaf', whose
 * entry becomes leafval; each entry above it gets flags[level] and points
 * to the next table, the one already there or a fresh page.
 */
static void
map(const struct tmode *m, gpaddr_t root, gvaddr_t gva, unsigned leaf,
    uint64_t leafval, const uint64_t *flags)
{
	gpaddr_t table = root, e, next;
	uint64_t old;
	unsigned l;

	for (l = 0; l < leaf; l++) {
		e = ent_addr(m, table, gva, l);
		old = ent_load(m, e);
		next = (old & P) ? (old & m->frame) : page_alloc();
		ent_store(m, e, next | flags[l]);
		table = next;
	}
	ent_store(m, ent_addr(m, table, gva, leaf), leafval);
}

/* The entry of `level' for gva, following the tables the test wrote. */
static gpaddr_t
ent_find(const struct tmode *m, gpaddr_t root, gvaddr_t gva, unsigned level)
{
	gpaddr_t table = root;
	unsigned l;

	for (l = 0; l < level; l++)
		table = ent_load(m, ent_addr(m, table, gva, l)) & m->frame;
	return ent_addr(m, table, gva, level);
}

/* Sets and clears bits of one entry of gva's walk. */
static void
ent_change(const struct tmode *m, gpaddr_t root, gvaddr_t gva,
    unsigned level, uint64_t set, uint64_t clear)
{
	gpaddr_t e = ent_find(m, root, gva, level);

	ent_store(m, e, (ent_load(m, e) & ~clear) | set);
}

static const uint64_t ALLPRW[5] = { PRW, PRW, PRW, PRW, PRW };

/* -------------------------------------------------------------------------- */
/* Checks. */

static const char *
prot_str(nvmm_prot_t prot, char *buf)
{
	snprintf(buf, 8, "%c%c%c%c%s",
	    (prot & R_) ? 'r' : '-', (prot & W_) ? 'w' : '-',
	    (prot & X_) ? 'x' : '-', (prot & U_) ? 'u' : '-',
	    (prot & ~(nvmm_prot_t)ALL) ? "+" : "");
	return buf;
}

static void
check_xlate(int line, gvaddr_t gva, gpaddr_t want_gpa, nvmm_prot_t want_prot)
{
	gpaddr_t gpa = 0xBAD0BAD0BAD0BAD0ULL;
	nvmm_prot_t prot = 0xBAD0;
	char b1[8], b2[8];
	int ret;

	errno = 0;
	ret = nvmm_gva_to_gpa(&T.mach, &T.vcpu, gva, &gpa, &prot);
	if (ret != 0) {
		atf_tc_fail_nonfatal("line %d: gva %#jx: returned %d (%s), "
		    "want gpa %#jx", line, (uintmax_t)gva, ret,
		    strerror(errno), (uintmax_t)want_gpa);
		return;
	}
	ATF_CHECK_MSG(gpa == want_gpa, "line %d: gva %#jx: gpa %#jx, want %#jx",
	    line, (uintmax_t)gva, (uintmax_t)gpa, (uintmax_t)want_gpa);
	ATF_CHECK_MSG(prot == want_prot, "line %d: gva %#jx: prot %s, want %s",
	    line, (uintmax_t)gva, prot_str(prot, b1), prot_str(want_prot, b2));
}

static void
check_errno(int line, gvaddr_t gva, int want)
{
	gpaddr_t gpa = 0;
	nvmm_prot_t prot = 0;
	int ret;

	errno = 0;
	ret = nvmm_gva_to_gpa(&T.mach, &T.vcpu, gva, &gpa, &prot);
	ATF_CHECK_MSG(ret == -1 && errno == want,
	    "line %d: gva %#jx: returned %d (%s) with gpa %#jx, want -1 (%s)",
	    line, (uintmax_t)gva, ret, strerror(errno), (uintmax_t)gpa,
	    strerror(want));
}

#define XLATE(gva, gpa, prot)	check_xlate(__LINE__, (gva), (gpa), (prot))
#define FAULT(gva)		check_errno(__LINE__, (gva), EFAULT)

/*
 * What the 4 KiB modes without long mode check alike, on gva mapped to
 * gpa by a PTE at the last level: bit 7 of the PTE is PAT, not a page
 * size (NetBSD fails); RW cleared at level rw takes W away, US cleared at
 * level us takes U away; P cleared at the top level or in the PTE
 * faults.  Each change is undone after its check.
 */
static void
check_pte_bits(int line, const struct tmode *m, gpaddr_t root, gvaddr_t gva,
    gpaddr_t gpa, unsigned rw, unsigned us)
{
	const unsigned pte = m->nlevels - 1;

	ent_change(m, root, gva, pte, PS, 0);
	check_xlate(line, gva, gpa, ALL);
	ent_change(m, root, gva, pte, 0, PS);

	ent_change(m, root, gva, rw, 0, RW);
	check_xlate(line, gva, gpa, R_ | X_ | U_);
	ent_change(m, root, gva, rw, RW, 0);
	ent_change(m, root, gva, us, 0, US);
	check_xlate(line, gva, gpa, R_ | W_ | X_);
	ent_change(m, root, gva, us, US, 0);

	ent_change(m, root, gva, 0, 0, P);
	check_errno(line, gva, EFAULT);
	ent_change(m, root, gva, 0, P, 0);
	ent_change(m, root, gva, pte, 0, P);
	check_errno(line, gva, EFAULT);
}
#define PTE_BITS(m, root, gva, gpa, rw, us)				\
	check_pte_bits(__LINE__, (m), (root), (gva), (gpa), (rw), (us))

/* -------------------------------------------------------------------------- */

ATF_TC(paging_off);
ATF_TC_HEAD(paging_off, tc)
{
	atf_tc_set_md_var(tc, "descr", "CR0.PG clear: the identity with "
	    "every right, whatever CR3, CR4 and EFER say, no table read");
}
ATF_TC_BODY(paging_off, tc)
{
	/* CR3 outside RAM: any attempt to walk would fail. */
	tenv_init(CR0_PE | CR0_ET, HOLE_GPA, CR4_PAE | CR4_PSE, EFER_LONG);
	XLATE(0, 0, ALL);
	XLATE(0x12345678, 0x12345678, ALL);
	XLATE(0xFFFF800000001234ULL, 0xFFFF800000001234ULL, ALL);
	XLATE(0x0000800000000ABCULL, 0x0000800000000ABCULL, ALL);
	ATF_CHECK_EQ(T.getstate_flags,
	    NVMM_X64_STATE_CRS | NVMM_X64_STATE_MSRS);
}

ATF_TC(getstate_error);
ATF_TC_HEAD(getstate_error, tc)
{
	atf_tc_set_md_var(tc, "descr", "The state is taken with getstate "
	    "(CRS|MSRS), and its failure is passed up as it is");
}
ATF_TC_BODY(getstate_error, tc)
{
	gpaddr_t pml4;

	tenv_init(CR0_ON, 0, CR4_PAE, EFER_LONG);
	pml4 = page_alloc();
	set_cr3(pml4);
	map(&M64, pml4, 0x1000, 3, 0x5000 | PRW, ALLPRW);
	XLATE(0x1000, 0x5000, ALL);
	ATF_CHECK_EQ(T.getstate_flags,
	    NVMM_X64_STATE_CRS | NVMM_X64_STATE_MSRS);

	T.comm->state_cached = NVMM_X64_STATE_ALL & ~NVMM_X64_STATE_MSRS;
	check_errno(__LINE__, 0x1000, EIO);
	T.comm->state_cached = NVMM_X64_STATE_ALL & ~NVMM_X64_STATE_CRS;
	check_errno(__LINE__, 0x1000, EIO);
	T.comm->state_cached = NVMM_X64_STATE_CRS | NVMM_X64_STATE_MSRS;
	XLATE(0x1000, 0x5000, ALL);
}

ATF_TC(long_4k);
ATF_TC_HEAD(long_4k, tc)
{
	atf_tc_set_md_var(tc, "descr", "Long mode, 4 KiB pages: gpa, page "
	    "offset, low and high half, CR3 flag bits, ignored entry bits, "
	    "tables in two areas");
}
ATF_TC_BODY(long_4k, tc)
{
	gpaddr_t pml4;

	tenv_init(CR0_ON, 0, CR4_PAE, EFER_LONG);
	pml4 = page_alloc();
	/* PWT and PCD in CR3 are not address bits. */
	set_cr3(pml4 | 0x18);

	map(&M64, pml4, 0x00007F1234567ABCULL, 3, 0xABCDE000ULL | PRW, ALLPRW);
	XLATE(0x00007F1234567ABCULL, 0xABCDEABCULL, ALL);
	XLATE(0x00007F1234567000ULL, 0xABCDE000ULL, ALL);
	XLATE(0x00007F1234567FFFULL, 0xABCDEFFFULL, ALL);
	/* The next page has no PTE. */
	FAULT(0x00007F1234568000ULL);

	/* High half; the last tables come from the second area. */
	T.alloc_from = 1;
	map(&M64, pml4, 0xFFFFFFFF80201010ULL, 3,
	    0x000FFFFFFFFFF000ULL | PRW, ALLPRW);
	XLATE(0xFFFFFFFF80201010ULL, 0x000FFFFFFFFFF010ULL, ALL);

	/* Bits 62:52 and 11:8 (G, software), A, D are not address bits. */
	map(&M64, pml4, 0x40000000ULL, 3,
	    0x7FF0000000000000ULL | 0x123456000ULL | 0xF60ULL | PRW, ALLPRW);
	XLATE(0x40000123ULL, 0x123456123ULL, ALL);
	ATF_CHECK(T.used[1] > 0);
}

ATF_TC(long_rights);
ATF_TC_HEAD(long_rights, tc)
{
	atf_tc_set_md_var(tc, "descr", "Long mode: each level's R/W, U/S "
	    "and NX take W, U and X away, independently");
}
ATF_TC_BODY(long_rights, tc)
{
	const gvaddr_t gva = 0x0000123456789000ULL;
	gpaddr_t pml4;
	unsigned l;

	tenv_init(CR0_ON, 0, CR4_PAE, EFER_LONG);
	pml4 = page_alloc();
	set_cr3(pml4);
	map(&M64, pml4, gva, 3, 0x777000 | PRW, ALLPRW);
	XLATE(gva, 0x777000, ALL);

	for (l = 0; l < 4; l++) {
		ent_change(&M64, pml4, gva, l, 0, RW);
		XLATE(gva, 0x777000, R_ | X_ | U_);
		ent_change(&M64, pml4, gva, l, RW, US);
		XLATE(gva, 0x777000, R_ | W_ | X_);
		ent_change(&M64, pml4, gva, l, US | NX, 0);
		XLATE(gva, 0x777000, R_ | W_ | U_);
		ent_change(&M64, pml4, gva, l, 0, NX);
		XLATE(gva, 0x777000, ALL);
	}
	/* All taken together, from different levels. */
	ent_change(&M64, pml4, gva, 0, NX, 0);
	ent_change(&M64, pml4, gva, 2, 0, US);
	ent_change(&M64, pml4, gva, 3, 0, RW);
	XLATE(gva, 0x777000, R_);
}

ATF_TC(long_2m);
ATF_TC_HEAD(long_2m, tc)
{
	atf_tc_set_md_var(tc, "descr", "Long mode, 2 MiB pages (PS in the "
	    "PD): offset of 21 bits, PAT bit not an address bit, rights");
}
ATF_TC_BODY(long_2m, tc)
{
	const gvaddr_t gva = 0x00000040001ABCDEULL;
	gpaddr_t pml4;

	tenv_init(CR0_ON, 0, CR4_PAE, EFER_LONG);
	pml4 = page_alloc();
	set_cr3(pml4);
	/* Bit 12, the PAT bit of a large page, must not reach the gpa. */
	map(&M64, pml4, gva, 2, 0x80000000ULL | 0x1000 | PS | PRW, ALLPRW);
	XLATE(gva, 0x801ABCDEULL, ALL);
	XLATE(gva & ~0x1FFFFFULL, 0x80000000ULL, ALL);
	XLATE(gva | 0x1FFFFFULL, 0x801FFFFFULL, ALL);

	/* Frame bits 51:48 are address bits (NetBSD drops them). */
	ent_change(&M64, pml4, gva, 2, 0x000F000000000000ULL, 0);
	XLATE(gva, 0x000F0000801ABCDEULL, ALL);
	ent_change(&M64, pml4, gva, 2, 0, 0x000F000000000000ULL);

	ent_change(&M64, pml4, gva, 2, NX, RW);
	XLATE(gva, 0x801ABCDEULL, R_ | U_);
	ent_change(&M64, pml4, gva, 2, RW, NX);
	ent_change(&M64, pml4, gva, 1, 0, US);
	XLATE(gva, 0x801ABCDEULL, R_ | W_ | X_);
}

ATF_TC(long_1g);
ATF_TC_HEAD(long_1g, tc)
{
	atf_tc_set_md_var(tc, "descr", "Long mode, 1 GiB pages (PS in the "
	    "PDPT): offset of 30 bits, rights");
}
ATF_TC_BODY(long_1g, tc)
{
	const gvaddr_t gva = 0xFFFF800023456789ULL;
	gpaddr_t pml4;

	tenv_init(CR0_ON, 0, CR4_PAE, EFER_LONG);
	pml4 = page_alloc();
	set_cr3(pml4);
	map(&M64, pml4, gva, 1, 0x1C0000000ULL | 0x1000 | PS | PRW, ALLPRW);
	XLATE(gva, 0x1E3456789ULL, ALL);
	XLATE(0xFFFF80003FFFFFFFULL, 0x1FFFFFFFFULL, ALL);
	/* The next GiB has no entry. */
	FAULT(0xFFFF800040000000ULL);
	/* Frame bits 51:48 are address bits (NetBSD drops them). */
	ent_change(&M64, pml4, gva, 1, 0x0008000000000000ULL, 0);
	XLATE(gva, 0x00080001E3456789ULL, ALL);
	ent_change(&M64, pml4, gva, 1, 0, 0x0008000000000000ULL);

	ent_change(&M64, pml4, gva, 1, 0, RW);
	XLATE(gva, 0x1E3456789ULL, R_ | X_ | U_);
	ent_change(&M64, pml4, gva, 0, NX, 0);
	XLATE(gva, 0x1E3456789ULL, R_ | U_);
}

ATF_TC(long_not_present);
ATF_TC_HEAD(long_not_present, tc)
{
	atf_tc_set_md_var(tc, "descr", "Long mode: an entry without P at "
	    "any level fails with EFAULT, large pages included");
}
ATF_TC_BODY(long_not_present, tc)
{
	const gvaddr_t gva = 0x00000000DEAD1000ULL, big = 0x0000004000200000ULL;
	gpaddr_t pml4;
	unsigned l;

	tenv_init(CR0_ON, 0, CR4_PAE, EFER_LONG);
	pml4 = page_alloc();
	set_cr3(pml4);
	map(&M64, pml4, gva, 3, 0x9000 | PRW, ALLPRW);
	map(&M64, pml4, big, 2, 0x400000 | PS | PRW, ALLPRW);
	for (l = 0; l < 4; l++) {
		XLATE(gva, 0x9000, ALL);
		ent_change(&M64, pml4, gva, l, 0, P);
		FAULT(gva);
		ent_change(&M64, pml4, gva, l, P, 0);
	}
	XLATE(big, 0x400000, ALL);
	ent_change(&M64, pml4, big, 2, 0, P);
	FAULT(big);
}

ATF_TC(long_noncanonical);
ATF_TC_HEAD(long_noncanonical, tc)
{
	atf_tc_set_md_var(tc, "descr", "Long mode: an address whose bits "
	    "63:47 differ fails with EFAULT even where its index bits are "
	    "mapped; both edges of the canonical halves translate");
}
ATF_TC_BODY(long_noncanonical, tc)
{
	gpaddr_t pml4;

	tenv_init(CR0_ON, 0, CR4_PAE, EFER_LONG);
	pml4 = page_alloc();
	set_cr3(pml4);
	/* PML4[256] and PML4[255]: what the non-canonical ones index. */
	map(&M64, pml4, 0xFFFF800000000000ULL, 3, 0xA000 | PRW, ALLPRW);
	map(&M64, pml4, 0x00007FFFFFFFF000ULL, 3, 0xB000 | PRW, ALLPRW);
	XLATE(0xFFFF800000000000ULL, 0xA000, ALL);
	XLATE(0x00007FFFFFFFFFFFULL, 0xBFFF, ALL);

	FAULT(0x0000800000000000ULL);
	FAULT(0xFFFF7FFFFFFFF000ULL);
	FAULT(0x8000800000000000ULL);
	FAULT(0x7FFF800000000000ULL);
	FAULT(0x00017FFFFFFFF000ULL);
}

ATF_TC(long_ps_bad_level);
ATF_TC_HEAD(long_ps_bad_level, tc)
{
	atf_tc_set_md_var(tc, "descr", "Long mode: PS in a PML4 entry "
	    "fails with EFAULT; bit 7 of a PTE is PAT and maps the page, as "
	    "the architecture (NetBSD fails)");
}
ATF_TC_BODY(long_ps_bad_level, tc)
{
	const gvaddr_t gva = 0x0000000012345000ULL;
	gpaddr_t pml4;

	tenv_init(CR0_ON, 0, CR4_PAE, EFER_LONG);
	pml4 = page_alloc();
	set_cr3(pml4);
	map(&M64, pml4, gva, 3, 0xC000 | PRW, ALLPRW);
	XLATE(gva, 0xC000, ALL);
	ent_change(&M64, pml4, gva, 0, PS, 0);
	FAULT(gva);
	ent_change(&M64, pml4, gva, 0, 0, PS);
	XLATE(gva, 0xC000, ALL);
	ent_change(&M64, pml4, gva, 3, PS, 0);
	XLATE(gva, 0xC000, ALL);
}

ATF_TC(long_outside_ram);
ATF_TC_HEAD(long_outside_ram, tc)
{
	atf_tc_set_md_var(tc, "descr", "A page table outside the RAM the "
	    "library knows fails with EFAULT: CR3, or any entry's table; "
	    "the final page need not be RAM");
}
ATF_TC_BODY(long_outside_ram, tc)
{
	const gvaddr_t gva = 0x0000000000401000ULL;
	gpaddr_t pml4, saved, e;
	unsigned l;

	tenv_init(CR0_ON, 0, CR4_PAE, EFER_LONG);
	pml4 = page_alloc();
	set_cr3(pml4);
	map(&M64, pml4, gva, 3, HOLE_GPA | PRW, ALLPRW);
	XLATE(gva, HOLE_GPA, ALL);

	set_cr3(HOLE_GPA);
	FAULT(gva);
	/* In the hole between the two areas. */
	set_cr3(RAM0_GPA + RAM0_PAGES * PAGE);
	FAULT(gva);
	set_cr3(pml4);

	for (l = 0; l < 3; l++) {
		e = ent_find(&M64, pml4, gva, l);
		saved = ent_load(&M64, e);
		ent_store(&M64, e, HOLE_GPA | PRW);
		FAULT(gva);
		ent_store(&M64, e, saved);
		XLATE(gva, HOLE_GPA, ALL);
	}
}

ATF_TC(long_bad_mode);
ATF_TC_HEAD(long_bad_mode, tc)
{
	atf_tc_set_md_var(tc, "descr", "EFER.LMA without CR4.PAE fails "
	    "with EFAULT");
}
ATF_TC_BODY(long_bad_mode, tc)
{
	const gvaddr_t gva = 0x3000;
	const uint64_t fl32[2] = { PRW, PRW };
	gpaddr_t pml4, pd;

	tenv_init(CR0_ON, 0, CR4_PAE, EFER_LONG);
	pml4 = page_alloc();
	set_cr3(pml4);
	map(&M64, pml4, gva, 3, 0xD000 | PRW, ALLPRW);
	XLATE(gva, 0xD000, ALL);

	/* Tables that a 32-bit walk accepts: LMA must still refuse them. */
	pd = page_alloc();
	map(&M32, pd, gva, 1, 0xD000 | PRW, fl32);
	set_cr3(pd);
	T.comm->state.crs[NVMM_X64_CR_CR4] = 0;
	T.comm->state.msrs[NVMM_X64_MSR_EFER] = 0;
	XLATE(gva, 0xD000, ALL);
	T.comm->state.msrs[NVMM_X64_MSR_EFER] = EFER_LONG;
	FAULT(gva);
}

ATF_TC(long_la57);
ATF_TC_HEAD(long_la57, tc)
{
	atf_tc_set_md_var(tc, "descr", "CR4.LA57: 5 levels, canonical on 57 "
	    "bits, large pages below the PML4, as the architecture (NetBSD "
	    "walks 4 levels)");
}
ATF_TC_BODY(long_la57, tc)
{
	const gvaddr_t high = 0x0012345678ABC123ULL;	/* PML5[0x12] */
	const gvaddr_t low = 0x0000123456789123ULL;	/* PML5[0], PML4[0x24] */
	const gvaddr_t big = 0xFF00000040123456ULL;	/* PML5[0x100], 2 MiB */
	gpaddr_t pml5;

	tenv_init(CR0_ON, 0, CR4_PAE | CR4_LA57, EFER_LONG);
	pml5 = page_alloc();
	set_cr3(pml5);
	map(&M57, pml5, high, 4, 0xE000 | PRW, ALLPRW);
	map(&M57, pml5, low, 4, 0xF000 | PRW, ALLPRW);
	map(&M57, pml5, big, 3, 0x00600000ULL | PS | PRW, ALLPRW);
	XLATE(high, 0xE123, ALL);
	XLATE(low, 0xF123, ALL);
	XLATE(big, 0x00723456ULL, ALL);
	/* Rights from the PML5 too. */
	ent_change(&M57, pml5, high, 0, NX, RW);
	XLATE(high, 0xE123, R_ | U_);
	/* Bits 63:57 must repeat bit 56. */
	FAULT(0x0112345678ABC123ULL);
	FAULT(0x7F00000040123456ULL);
	/* PS in the PML5 or the PML4 maps nothing. */
	ent_change(&M57, pml5, low, 1, PS, 0);
	FAULT(low);
	ent_change(&M57, pml5, low, 1, 0, PS);
	ent_change(&M57, pml5, low, 0, PS, 0);
	FAULT(low);
	ent_change(&M57, pml5, low, 0, 0, PS);
	XLATE(low, 0xF123, ALL);

	/*
	 * NetBSD's 4-level walk of the same tables reads the PML5 as a PML4:
	 * `low' then goes through PML5[0x24], which is not there.
	 */
	T.comm->state.crs[NVMM_X64_CR_CR4] = CR4_PAE;
	FAULT(low);
}

ATF_TC(pae_4k);
ATF_TC_HEAD(pae_4k, tc)
{
	atf_tc_set_md_var(tc, "descr", "PAE, 4 KiB pages: a 32-byte aligned "
	    "PDPT, PDPTEs without R/W and U/S take nothing away, rights of "
	    "the PD and PT");
}
ATF_TC_BODY(pae_4k, tc)
{
	const gvaddr_t gva = 0xC0123ABCULL;
	/* PDPTEs have P (and NX) only: R/W and U/S are reserved there. */
	const uint64_t fl[3] = { P, PRW, PRW };
	gpaddr_t pdpt;

	tenv_init(CR0_ON, 0, CR4_PAE, EFER_NXE);
	/* Not at the start of its page: CR3 bits 11:5 are address bits. */
	pdpt = page_alloc() + 0x60;
	set_cr3(pdpt);
	map(&MPAE, pdpt, gva, 2, 0x3456789000ULL | PRW, fl);
	XLATE(gva, 0x3456789ABCULL, ALL);
	/* PDPT index 3 only: bits 31:30 of the address. */
	map(&MPAE, pdpt, 0x00001000ULL, 2, 0xE000 | PRW, fl);
	XLATE(0x00001234ULL, 0xE234, ALL);
	PTE_BITS(&MPAE, pdpt, gva, 0x3456789ABCULL, 1, 2);
}

ATF_TC(pae_2m_nx);
ATF_TC_HEAD(pae_2m_nx, tc)
{
	atf_tc_set_md_var(tc, "descr", "PAE: 2 MiB pages; NX honoured in "
	    "the PDPTE, PDE and PTE; PS in a PDPTE fails with EFAULT");
}
ATF_TC_BODY(pae_2m_nx, tc)
{
	const gvaddr_t big = 0x405ABCDEULL, small = 0x80003123ULL;
	const uint64_t fl[3] = { P, PRW, PRW };
	gpaddr_t pdpt;

	tenv_init(CR0_ON, 0, CR4_PAE, EFER_NXE);
	pdpt = page_alloc();
	set_cr3(pdpt);
	map(&MPAE, pdpt, big, 1, 0x12200000ULL | 0x1000 | PS | PRW, fl);
	map(&MPAE, pdpt, small, 2, 0xF000 | PRW, fl);
	XLATE(big, 0x123ABCDEULL, ALL);
	XLATE(small, 0xF123, ALL);
	/* Frame bits above 31 are address bits (NetBSD drops them). */
	ent_change(&MPAE, pdpt, big, 1, 0x0000000A00000000ULL, 0);
	XLATE(big, 0xA123ABCDEULL, ALL);
	ent_change(&MPAE, pdpt, big, 1, 0, 0x0000000A00000000ULL);

	ent_change(&MPAE, pdpt, big, 0, NX, 0);
	XLATE(big, 0x123ABCDEULL, R_ | W_ | U_);
	ent_change(&MPAE, pdpt, big, 0, 0, NX);
	ent_change(&MPAE, pdpt, big, 1, NX, 0);
	XLATE(big, 0x123ABCDEULL, R_ | W_ | U_);
	ent_change(&MPAE, pdpt, small, 2, NX, 0);
	XLATE(small, 0xF123, R_ | W_ | U_);

	ent_change(&MPAE, pdpt, small, 0, PS, 0);
	FAULT(small);
}

ATF_TC(legacy32_4k);
ATF_TC_HEAD(legacy32_4k, tc)
{
	atf_tc_set_md_var(tc, "descr", "32-bit paging, 4 KiB pages: 4-byte "
	    "entries, bit 31 an address bit, rights, not present");
}
ATF_TC_BODY(legacy32_4k, tc)
{
	const gvaddr_t gva = 0x80401ABCULL;
	const uint64_t fl[2] = { PRW, PRW };
	gpaddr_t pd, e;

	tenv_init(CR0_ON, 0, 0, 0);
	pd = page_alloc();
	set_cr3(pd);
	map(&M32, pd, gva, 1, 0xFEDCB000ULL | PRW, fl);
	/* Neighbours that an 8-byte read of either entry would take in. */
	e = ent_find(&M32, pd, gva, 0);
	ent_store(&M32, e + 4, 0xFFFFF000ULL | PRW);
	e = ent_find(&M32, pd, gva, 1);
	ent_store(&M32, e + 4, 0x80000000ULL | PRW);
	XLATE(gva, 0xFEDCBABCULL, ALL);
	PTE_BITS(&M32, pd, gva, 0xFEDCBABCULL, 1, 0);
}

ATF_TC(legacy32_pse);
ATF_TC_HEAD(legacy32_pse, tc)
{
	atf_tc_set_md_var(tc, "descr", "32-bit paging with CR4.PSE: PS in "
	    "a PDE maps 4 MiB; without CR4.PSE the same PDE points to a "
	    "page table");
}
ATF_TC_BODY(legacy32_pse, tc)
{
	const gvaddr_t gva = 0x003ABCDEULL;
	const uint64_t fl[2] = { PRW, PRW };
	gpaddr_t pd, pt;

	tenv_init(CR0_ON, 0, CR4_PSE, 0);
	pd = page_alloc();
	set_cr3(pd);
	map(&M32, pd, gva, 0, 0x12C00000ULL | PS | PRW, fl);
	XLATE(gva, 0x12FABCDEULL, ALL);
	ent_change(&M32, pd, gva, 0, 0, RW);
	XLATE(gva, 0x12FABCDEULL, R_ | X_ | U_);

	/* Bits 20:13 of a 4 MiB PDE are address bits 39:32 (PSE-36). */
	ent_change(&M32, pd, gva, 0, 0x5AULL << 13, 0);
	XLATE(gva, 0x5A12FABCDEULL, R_ | X_ | U_);

	/*
	 * A PDE with PS whose frame is a page table: with CR4.PSE it is a
	 * 4 MiB page; without, PS is ignored and it is the table (NetBSD
	 * fails with EFAULT).
	 */
	pt = page_alloc();
	ent_store(&M32, ent_addr(&M32, pd, gva, 0), pt | PS | PRW);
	ent_store(&M32, ent_addr(&M32, pt, gva, 1), 0x55555000ULL | PRW);
	XLATE(gva, (pt & 0xFFC00000ULL) | (((pt >> 13) & 0xFF) << 32) |
	    (gva & 0x3FFFFFULL), ALL);
	T.comm->state.crs[NVMM_X64_CR_CR4] = 0;
	XLATE(gva, 0x55555CDEULL, ALL);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, paging_off);
	ATF_TP_ADD_TC(tp, getstate_error);
	ATF_TP_ADD_TC(tp, long_4k);
	ATF_TP_ADD_TC(tp, long_rights);
	ATF_TP_ADD_TC(tp, long_2m);
	ATF_TP_ADD_TC(tp, long_1g);
	ATF_TP_ADD_TC(tp, long_not_present);
	ATF_TP_ADD_TC(tp, long_noncanonical);
	ATF_TP_ADD_TC(tp, long_ps_bad_level);
	ATF_TP_ADD_TC(tp, long_outside_ram);
	ATF_TP_ADD_TC(tp, long_bad_mode);
	ATF_TP_ADD_TC(tp, long_la57);
	ATF_TP_ADD_TC(tp, pae_4k);
	ATF_TP_ADD_TC(tp, pae_2m_nx);
	ATF_TP_ADD_TC(tp, legacy32_4k);
	ATF_TP_ADD_TC(tp, legacy32_pse);
	return atf_no_error();
}
