/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * What the guests of tests/kernel/guests.S are expected to do; see
 * h_expect.h.  The addresses and values are those of guests.S.
 */
#include <sys/mman.h>
#include <string.h>

#include <atf-c.h>

#include "h_expect.h"

bool
hx_log_write(struct hx_write *log, size_t *nlog, size_t max, bool is_io,
    uint64_t addr, const uint8_t *data, size_t size)
{
	struct hx_write *w;

	if (*nlog >= max)
		return false;
	w = &log[(*nlog)++];
	w->is_io = is_io;
	w->addr = addr;
	w->size = size;
	w->value = 0;
	memcpy(&w->value, data, size);
	return true;
}

const struct hx_write *
hx_find_write(const struct hx_write *log, size_t nlog, uint64_t addr,
    size_t index)
{
	size_t i, n = index;

	for (i = 0; i < nlog; i++)
		if (log[i].addr == addr && n-- == 0)
			return &log[i];
	atf_tc_fail("no write %zu at %#jx (%zu logged in all)", index,
	    (uintmax_t)addr, nlog);
	return NULL;
}

size_t
hx_count_writes(const struct hx_write *log, size_t nlog, uint64_t addr)
{
	size_t i, n = 0;

	for (i = 0; i < nlog; i++)
		n += log[i].addr == addr;
	return n;
}

/* -------------------------------------------------------------------------- */

const struct hx_io hx_io_expected[HX_NIO] = {
	{ 0x40, false, 1, 2, 0x11 },
	{ 0x41, false, 2, 3, 0x2233 },
	{ 0x42, false, 4, 2, 0x44556677 },
	{ 0x43, false, 1, 1, 0x88 },
	{ 0x44, false, 2, 2, 0x99AA },
	{ 0x45, false, 4, 1, 0xBBCCDDEE },
	{ 0x50, true, 1, 2, 0 },
	{ 0x51, true, 2, 3, 0 },
	{ 0x52, true, 4, 2, 0 },
	{ 0x53, true, 1, 1, 0 },
	{ 0x54, true, 2, 2, 0 },
	{ 0x55, true, 4, 1, 0 },
};

/*
 * As on NetBSD, every IO exit shows the state at the instruction and npc
 * after it, whether or not KVM finished the OUT before exiting.
 */
void
hx_check_io_exit(const struct nvmm_vcpu_exit *exit,
    const struct nvmm_x64_state *st, size_t i)
{
	const struct hx_io *e;
	uint64_t rip;

	ATF_REQUIRE(i < HX_NIO);
	e = &hx_io_expected[i];
	ATF_REQUIRE_EQ_MSG(exit->reason, NVMM_VCPU_EXIT_IO,
	    "exit %zu: reason %#jx", i, (uintmax_t)exit->reason);
	ATF_CHECK_EQ_MSG(exit->u.io.port, e->port, "exit %zu: port %#x", i,
	    exit->u.io.port);
	ATF_CHECK_EQ(exit->u.io.in, e->in);
	ATF_CHECK_EQ(exit->u.io.operand_size, e->size);
	ATF_CHECK_EQ(exit->u.io.address_size, 8);
	ATF_CHECK(!exit->u.io.rep);
	ATF_CHECK(!exit->u.io.str);
	rip = st->gprs[NVMM_X64_GPR_RIP];
	ATF_CHECK_EQ_MSG(exit->u.io.npc, rip + e->len,
	    "%s %#x: npc %#jx rip %#jx", e->in ? "IN" : "OUT", e->port,
	    (uintmax_t)exit->u.io.npc, (uintmax_t)rip);
	if (!e->in)
		ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RAX] &
		    ((1ULL << (8 * e->size)) - 1), e->value);
}

/* As the hardware does: sizes 1 and 2 keep RAX's upper bits, 4 clears them. */
void
hx_io_emulate(const struct nvmm_vcpu_exit *exit, struct nvmm_x64_state *st,
    size_t i)
{
	const struct hx_io *e;
	uint64_t mask, data;
	size_t b;

	ATF_REQUIRE(i < HX_NIO);
	e = &hx_io_expected[i];
	if (e->in) {
		data = 0;
		for (b = 0; b < e->size; b++)
			data |= (uint64_t)(uint8_t)(e->port + b) << (8 * b);
		mask = (1ULL << (8 * e->size)) - 1;
		if (e->size == 4)
			st->gprs[NVMM_X64_GPR_RAX] = data;
		else
			st->gprs[NVMM_X64_GPR_RAX] =
			    (st->gprs[NVMM_X64_GPR_RAX] & ~mask) | data;
	}
	st->gprs[NVMM_X64_GPR_RIP] = exit->u.io.npc;
}

void
hx_check_io_writes(const struct hx_write *log, size_t nlog)
{
	size_t i;

	for (i = 0; i < HX_NIO_OUT; i++)
		ATF_CHECK_EQ(hx_find_write(log, nlog, hx_io_expected[i].port,
		    0)->value, hx_io_expected[i].value);
}

void
hx_check_io_results(const struct nvmm_x64_state *st)
{
	/* IN data is port + byte index; sizes 1 and 2 keep RAX's upper bits. */
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R8], 0xFFFFFFFFFFFFFF50ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R9], 0xFFFFFFFFFFFF5251ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R10], 0x0000000055545352ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R11], 0xFFFFFFFFFFFFFF53ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R12], 0xFFFFFFFFFFFF5554ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R13], 0x0000000058575655ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RIP],
	    TVM_GUEST_ADDR(io, guest_io_end));
}

/* -------------------------------------------------------------------------- */

/* What guest_repio's REP OUTSW sends. */
static const uint16_t repio_words[3] = { 0x1111, 0x2222, 0x3333 };

void
hx_repio_fill(uint8_t *ram)
{
	memcpy(ram + 0x8000, "ABCDE", 5);
	memcpy(ram + 0x8010, repio_words, sizeof(repio_words));
	ram[0x8020] = 'Z';
	/* A filler, so that a store past the INS data would show. */
	memset(ram + 0x8100, 0xEE, 0x200);
}

void
hx_check_repio_writes(const struct hx_write *log, size_t nlog)
{
	size_t i;

	for (i = 0; i < 5; i++)
		ATF_CHECK_EQ(hx_find_write(log, nlog, 0x60, i)->value,
		    (uint64_t)"ABCDE"[i]);
	for (i = 0; i < 3; i++)
		ATF_CHECK_EQ(hx_find_write(log, nlog, 0x61, i)->value,
		    repio_words[i]);
	ATF_CHECK_EQ(hx_find_write(log, nlog, 0x64, 0)->value, 'Z');
}

void
hx_check_repio_results(const uint8_t *ram, const struct nvmm_x64_state *st)
{
	size_t i;

	/* IN data is port + byte index, per element. */
	for (i = 0; i < 5; i++)
		ATF_CHECK_EQ(ram[0x8100 + i], 0x62);
	for (i = 0; i < 8; i++)
		ATF_CHECK_EQ(ram[0x8200 + i], (uint8_t)(0x63 + i % 4));
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RCX], 0);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RSI], 0x8021);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RDI], 0x8208);
}

/* -------------------------------------------------------------------------- */

/* What guest_mmio's MOVS copies from +32 to +64. */
static const uint8_t mmio_src[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

void
hx_mmio_fill(uint8_t *mmio)
{
	uint32_t v32;

	v32 = 0x44332211;
	memcpy(&mmio[0], &v32, 4);
	v32 = 0x0000ABCD;
	memcpy(&mmio[24], &v32, 4);
	memcpy(&mmio[32], mmio_src, 8);
	memcpy(&mmio[40], "nvmmd!!!", 8);
}

void
hx_check_mmio_exit(const struct nvmm_vcpu_exit *exit)
{
	ATF_REQUIRE_EQ_MSG(exit->reason, NVMM_VCPU_EXIT_MEMORY,
	    "exit %#jx", (uintmax_t)exit->reason);
	ATF_CHECK_MSG(exit->u.mem.gpa >= TVM_MMIO_GPA &&
	    exit->u.mem.gpa < TVM_MMIO_GPA + HX_MMIO_SIZE, "gpa %#jx",
	    (uintmax_t)exit->u.mem.gpa);
	ATF_CHECK(exit->u.mem.prot == PROT_READ ||
	    exit->u.mem.prot == PROT_WRITE);
}

void
hx_check_mmio_results(const uint8_t *mmio, const struct nvmm_x64_state *st)
{
	uint32_t v32;

	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R8], 0x44332211);
	memcpy(&v32, &mmio[8], 4);
	ATF_CHECK_EQ(v32, 0xDEADBEEF);
	ATF_CHECK_EQ(mmio[16], 5);
	memcpy(&v32, &mmio[24], 4);
	ATF_CHECK_EQ(v32, 0x0000ABCD | 0x100);
	ATF_CHECK(memcmp(&mmio[64], mmio_src, 8) == 0);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R10], TVM_MMIO_GPA + 40);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R11], TVM_MMIO_GPA + 72);
	ATF_CHECK(memcmp(&st->gprs[NVMM_X64_GPR_R9], "nvmmd!!!", 8) == 0);
}

/* -------------------------------------------------------------------------- */

/* RDMSR and WRMSR are two bytes long: npc is RIP + 2. */
void
hx_msr_rdmsr(const struct nvmm_vcpu_exit *exit, struct nvmm_x64_state *st)
{
	ATF_CHECK_EQ(exit->u.rdmsr.msr, 0x1234);
	ATF_CHECK_EQ(exit->u.rdmsr.npc, st->gprs[NVMM_X64_GPR_RIP] + 2);
	st->gprs[NVMM_X64_GPR_RAX] = 0x5678;
	st->gprs[NVMM_X64_GPR_RDX] = 0x1234;
	st->gprs[NVMM_X64_GPR_RIP] = exit->u.rdmsr.npc;
}

void
hx_msr_wrmsr(const struct nvmm_vcpu_exit *exit, struct nvmm_x64_state *st)
{
	ATF_CHECK_EQ(exit->u.wrmsr.msr, 0x1235);
	ATF_CHECK_EQ(exit->u.wrmsr.val, 0x11223344AABBCCDDULL);
	ATF_CHECK_EQ(exit->u.wrmsr.npc, st->gprs[NVMM_X64_GPR_RIP] + 2);
	st->gprs[NVMM_X64_GPR_RIP] = exit->u.wrmsr.npc;
}

void
hx_check_msr_results(const struct nvmm_x64_state *st)
{
	/* The emulated read, and STAR written and read back inside. */
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R8], 0x5678);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R9], 0x1234);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R10], 0x12345678);
	ATF_CHECK_EQ(st->msrs[NVMM_X64_MSR_STAR], 0x12345678);
}

/* -------------------------------------------------------------------------- */

#define HX_POKE_OLD	0x0123456789ABCDEFULL
#define HX_POKE_NEW	0xFEDCBA9876543210ULL

/* guest_poke's read, mov (%rbx),%rdx: what a read exit's bytes start with. */
static const uint8_t hx_poke_read_insn[] = { 0x48, 0x8B, 0x13 };

void
hx_poke_setup(uint64_t *page, struct nvmm_x64_state *st)
{
	page[0] = HX_POKE_OLD;
	st->gprs[NVMM_X64_GPR_RAX] = HX_POKE_NEW;
	st->gprs[NVMM_X64_GPR_RBX] = TVM_MMIO_GPA;
}

/* A write without PROT_WRITE exits; a read exits without any protection. */
unsigned
hx_poke_nexits(int prot)
{
	return !(prot & PROT_WRITE) + (prot == PROT_NONE);
}

void
hx_check_poke_exit(const struct nvmm_vcpu_exit *exit, int prot, unsigned k)
{
	ATF_REQUIRE_EQ_MSG(exit->reason, NVMM_VCPU_EXIT_MEMORY,
	    "prot %#x, exit %u: reason %#jx", prot, k,
	    (uintmax_t)exit->reason);
	ATF_CHECK_EQ(exit->u.mem.gpa, TVM_MMIO_GPA);
	if (k == 0) {
		ATF_CHECK_EQ_MSG(exit->u.mem.prot, PROT_WRITE, "prot %#x", prot);
		return;
	}
	ATF_CHECK_EQ(exit->u.mem.prot, PROT_READ);
	/* The code page goes on well past the instruction: 15 bytes. */
	ATF_CHECK_EQ(exit->u.mem.inst_len, 15);
	ATF_CHECK(memcmp(exit->u.mem.inst_bytes, hx_poke_read_insn,
	    sizeof(hx_poke_read_insn)) == 0);
}

void
hx_check_poke_results(int prot, const struct nvmm_x64_state *st,
    const uint64_t *page, const struct hx_write *log, size_t nlog)
{
	/* What was read back: the page, or what the device took. */
	uint64_t rdx = (prot & PROT_WRITE) || prot == PROT_NONE ?
	    HX_POKE_NEW : HX_POKE_OLD;

	ATF_CHECK_EQ_MSG(st->gprs[NVMM_X64_GPR_RDX], rdx,
	    "prot %#x: rdx %#jx", prot,
	    (uintmax_t)st->gprs[NVMM_X64_GPR_RDX]);
	ATF_CHECK_EQ_MSG(page[0], (prot & PROT_WRITE) ? HX_POKE_NEW :
	    HX_POKE_OLD, "prot %#x: page %#jx", prot, (uintmax_t)page[0]);
	ATF_CHECK_EQ(hx_count_writes(log, nlog, TVM_MMIO_GPA),
	    !(prot & PROT_WRITE));
	if (!(prot & PROT_WRITE))
		ATF_CHECK_EQ(hx_find_write(log, nlog, TVM_MMIO_GPA, 0)->value,
		    HX_POKE_NEW);
}

/* -------------------------------------------------------------------------- */

void
hx_check_outtwice_exit(const struct nvmm_vcpu_exit *exit,
    const struct nvmm_x64_state *st, unsigned k)
{
	const uint64_t at = TVM_CODE_GPA + HX_OUTTWICE_FIRST + 2 * k;

	ATF_REQUIRE_EQ_MSG(exit->reason, NVMM_VCPU_EXIT_IO,
	    "OUT %u: reason %#jx", k, (uintmax_t)exit->reason);
	ATF_CHECK_EQ(exit->u.io.port, 0x90);
	ATF_CHECK(!exit->u.io.in);
	ATF_CHECK_EQ(exit->u.io.operand_size, 1);
	ATF_CHECK_EQ_MSG(st->gprs[NVMM_X64_GPR_RIP], at,
	    "OUT %u: rip %#jx, want %#jx", k,
	    (uintmax_t)st->gprs[NVMM_X64_GPR_RIP], (uintmax_t)at);
	ATF_CHECK_EQ_MSG(exit->u.io.npc, at + 2, "OUT %u: npc %#jx", k,
	    (uintmax_t)exit->u.io.npc);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RAX] & 0xFF, 0x5A);
}

/* -------------------------------------------------------------------------- */

/* guest_assist's slots, in order; see guests.S for how each is made. */
static const uint64_t hx_assist_expected[HX_ASSIST_NSLOTS] = {
	0x55667788, 0xFFFFFFFFFFFFFF77, 0xFFFFFFFFFFFF5566,
	0x12345678CDEF00AB, 0xFFFFFFFFFFFFFFFE,
	0x88, 0xCAFEBABE,
	0x55, 0x3344,
	0xF7,
	0x101F7, 0x1F0, 0x10E1, 0x100, 0xC0,
	0x1CF,
	0x44, 0x95, 0x80,		/* ZF|PF; CF|PF|AF|SF; SF */
	0xCC, 0x5A5A, 0x15A, 0x775A,
	0x5544332255443322, TVM_MMIO_GPA + 0x90, 0,
	0x33, TVM_MMIO_GPA + 0x82,
	0x5544332255443322, TVM_MMIO_GPA + 0xB0,
	0x44,				/* CMPS of equal qwords: ZF|PF */
	1,				/* BT: CF */
	0xBEEF00EE, 0xBEEF00EE, 0x42,
};

void
hx_check_assist_slots(const uint64_t *slots)
{
	size_t i;

	for (i = 0; i < HX_ASSIST_NSLOTS; i++)
		ATF_CHECK_EQ_MSG(slots[i], hx_assist_expected[i],
		    "slot %zu: %#jx, want %#jx", i, (uintmax_t)slots[i],
		    (uintmax_t)hx_assist_expected[i]);
}

/* -------------------------------------------------------------------------- */

/* What each of guest_ioassist's instructions is, by port. */
struct hx_ioassist {
	uint16_t port;
	bool in, rep;
	int seg;
	uint8_t address_size, operand_size;
	uint8_t len;
};

static const struct hx_ioassist hx_ioassist_expected[HX_IOASSIST_NPORTS] = {
	{ 0x66, false, true, NVMM_X64_SEG_DS, 8, 4, 2 },	/* rep outsl */
	{ 0x67, true, true, NVMM_X64_SEG_ES, 8, 2, 3 },		/* rep insw */
	{ 0x68, false, false, NVMM_X64_SEG_FS, 8, 1, 2 },	/* outsb %fs: */
	{ 0x69, false, true, NVMM_X64_SEG_DS, 4, 1, 3 },	/* addr32 rep */
	{ 0x6A, false, false, NVMM_X64_SEG_DS, 8, 2, 2 },	/* outsw */
	{ 0x6B, false, true, NVMM_X64_SEG_DS, 8, 1, 2 },	/* rep outsb */
};

void
hx_ioassist_fill(uint8_t *ram, struct nvmm_x64_state *st)
{
	static const uint32_t dwords[2] = { 0x11223344, 0x55667788 };
	static const uint16_t word = 0xA1B2;

	memcpy(ram + 0x8030, dwords, sizeof(dwords));
	ram[0x8040] = 'x';		/* what DS would give */
	ram[0x8040 + HX_IOASSIST_FS] = 'F';
	memcpy(ram + 0x8050, "PQ", 2);
	memcpy(ram + 0x8060, &word, sizeof(word));
	memcpy(ram + 0x8070, "abc", 3);
	memset(ram + 0x8300, 0xEE, 0x10);
	st->segs[NVMM_X64_SEG_FS].base = HX_IOASSIST_FS;
}

void
hx_check_ioassist_exit(const struct nvmm_vcpu_exit *exit,
    const struct nvmm_x64_state *st, unsigned *seen)
{
	const struct hx_ioassist *e;
	size_t i;

	ATF_REQUIRE_EQ_MSG(exit->reason, NVMM_VCPU_EXIT_IO, "reason %#jx",
	    (uintmax_t)exit->reason);
	for (i = 0; i < HX_IOASSIST_NPORTS; i++)
		if (hx_ioassist_expected[i].port == exit->u.io.port)
			break;
	ATF_REQUIRE_MSG(i < HX_IOASSIST_NPORTS, "port %#x",
	    exit->u.io.port);
	e = &hx_ioassist_expected[i];
	seen[i]++;
	ATF_CHECK_EQ_MSG(exit->u.io.in, e->in, "port %#x: in", e->port);
	ATF_CHECK_MSG(exit->u.io.str, "port %#x: str", e->port);
	ATF_CHECK_EQ_MSG(exit->u.io.rep, e->rep, "port %#x: rep", e->port);
	ATF_CHECK_EQ_MSG(exit->u.io.seg, e->seg, "port %#x: seg %d", e->port,
	    exit->u.io.seg);
	ATF_CHECK_EQ_MSG(exit->u.io.address_size, e->address_size,
	    "port %#x: address size %u", e->port, exit->u.io.address_size);
	ATF_CHECK_EQ_MSG(exit->u.io.operand_size, e->operand_size,
	    "port %#x: operand size %u", e->port, exit->u.io.operand_size);
	ATF_CHECK_EQ_MSG(exit->u.io.npc, st->gprs[NVMM_X64_GPR_RIP] + e->len,
	    "port %#x: npc %#jx, rip %#jx", e->port,
	    (uintmax_t)exit->u.io.npc,
	    (uintmax_t)st->gprs[NVMM_X64_GPR_RIP]);
}

void
hx_check_ioassist_results(const struct hx_write *log, size_t nlog,
    const uint8_t *ram, const struct nvmm_x64_state *st,
    const unsigned *seen)
{
	size_t i;

	for (i = 0; i < HX_IOASSIST_NPORTS; i++)
		ATF_CHECK_MSG(seen[i] > 0, "no exit for port %#x",
		    hx_ioassist_expected[i].port);
	ATF_CHECK_EQ(hx_find_write(log, nlog, 0x66, 0)->value, 0x11223344);
	ATF_CHECK_EQ(hx_find_write(log, nlog, 0x66, 1)->value, 0x55667788);
	ATF_CHECK_EQ(hx_count_writes(log, nlog, 0x66), 2);
	ATF_CHECK_EQ(hx_find_write(log, nlog, 0x68, 0)->value, 'F');
	ATF_CHECK_EQ(hx_find_write(log, nlog, 0x69, 0)->value, 'P');
	ATF_CHECK_EQ(hx_find_write(log, nlog, 0x69, 1)->value, 'Q');
	ATF_CHECK_EQ(hx_find_write(log, nlog, 0x6A, 0)->value, 0xA1B2);
	ATF_CHECK_EQ(hx_find_write(log, nlog, 0x6B, 0)->value, 'c');
	ATF_CHECK_EQ(hx_find_write(log, nlog, 0x6B, 1)->value, 'b');
	ATF_CHECK_EQ(hx_count_writes(log, nlog, 0x6B), 2);
	/* REP INSW: three words of port 0x67's data, and nothing more. */
	for (i = 0; i < 6; i++)
		ATF_CHECK_EQ_MSG(ram[0x8300 + i], 0x67 + i % 2, "INS byte %zu",
		    i);
	ATF_CHECK_EQ(ram[0x8306], 0xEE);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RSI], 0x8070);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RDI], 0x8306);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RCX], 0);
}
