/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The MMIO loads an emulator can finish without waiting for KVM: a MOV,
 * MOVZX, MOVSX or MOVSXD from memory into a general register.  Such an
 * instruction makes one read, changes one register and RIP, and no flag;
 * so nvmm_assist_mem can show it done in the cached state at once, as it
 * does for a plain IN, and leave the data for the daemon to hand KVM as
 * the next run enters.  That saves the round trip and the second KVM_RUN
 * that finishing it first would cost (issue 16: MMIO reads were 2x).
 *
 * KVM decodes and executes the instruction itself when the run enters;
 * this decoder only has to agree with it about the effect.  Anything it
 * is not sure of (another opcode, a LOCK or REP prefix, a register
 * operand, a size that is not the access's) is left to the general path,
 * which asks KVM.  The bytes come from the exit, a copy: they are
 * read from nowhere else.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvmm_assist_load.h"

/* The decoder's cursor over the instruction bytes of the exit. */
struct load_cursor {
	const uint8_t *bytes;
	size_t n, at;
};

static bool
load_next(struct load_cursor *c, uint8_t *b)
{
	if (c->at >= c->n)
		return false;
	*b = c->bytes[c->at++];
	return true;
}

static bool
load_skip(struct load_cursor *c, size_t k)
{
	if (c->n - c->at < k)
		return false;
	c->at += k;
	return true;
}

/* The prefixes in front of the opcode; false on one we do not take. */
struct load_prefixes {
	bool opsize, addrsize;
	uint8_t rex;		/* 0 when there is none */
};

static bool
load_prefixes(struct load_cursor *c, enum assist_load_mode mode,
    struct load_prefixes *p, uint8_t *op)
{
	uint8_t b;

	p->opsize = p->addrsize = false;
	p->rex = 0;
	for (;;) {
		if (!load_next(c, &b))
			return false;
		switch (b) {
		case 0x66:
			p->opsize = true;
			break;
		case 0x67:
			p->addrsize = true;
			break;
		case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65:
			break;		/* KVM has applied the segment */
		default:
			/* A REX prefix counts only right before the opcode. */
			if (mode == ASSIST_LOAD_64 && (b & 0xF0) == 0x40 &&
			    p->rex == 0) {
				p->rex = b;
				if (!load_next(c, &b))
					return false;
				*op = b;
				return (b & 0xF0) != 0x40 && b != 0x66 &&
				    b != 0x67;
			}
			*op = b;
			return true;	/* LOCK, REP: not an opcode we take */
		}
	}
}

static uint8_t
load_addr_size(enum assist_load_mode mode, const struct load_prefixes *p)
{
	switch (mode) {
	case ASSIST_LOAD_16:
		return p->addrsize ? 4 : 2;
	case ASSIST_LOAD_32:
		return p->addrsize ? 2 : 4;
	default:
		return p->addrsize ? 4 : 8;
	}
}

static uint8_t
load_op_size(enum assist_load_mode mode, const struct load_prefixes *p)
{
	if (mode == ASSIST_LOAD_64 && (p->rex & 0x08))
		return 8;
	if (mode == ASSIST_LOAD_16)
		return p->opsize ? 4 : 2;
	return p->opsize ? 2 : 4;
}

/*
 * The ModRM byte and what follows it (SIB, displacement): false when the
 * operand is a register (no memory access) or the bytes run out.
 */
static bool
load_modrm(struct load_cursor *c, uint8_t addr_size, uint8_t *reg)
{
	uint8_t modrm, mod, rm, sib;
	size_t disp;

	if (!load_next(c, &modrm))
		return false;
	mod = modrm >> 6;
	rm = modrm & 7;
	*reg = (modrm >> 3) & 7;
	if (mod == 3)
		return false;
	if (addr_size == 2) {
		disp = mod == 1 ? 1 : (mod == 2 || rm == 6) ? 2 : 0;
		return load_skip(c, disp);
	}
	disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	if (rm == 4) {
		if (!load_next(c, &sib))
			return false;
		if (mod == 0 && (sib & 7) == 5)
			disp = 4;
	} else if (mod == 0 && rm == 5) {
		disp = 4;	/* disp32, or RIP-relative in 64-bit mode */
	}
	return load_skip(c, disp);
}

/* The opcode's sizes; false for one that is not a plain load. */
static bool
load_opcode(struct load_cursor *c, uint8_t op, uint8_t op_size,
    const struct load_prefixes *p, struct assist_load *ld)
{
	ld->sign = false;
	switch (op) {
	case 0x8A:
	case 0xA0:
		ld->src_size = ld->dst_size = 1;
		return true;
	case 0x8B:
	case 0xA1:
		ld->src_size = ld->dst_size = op_size;
		return true;
	case 0x63:
		/* MOVSXD, in 64-bit mode with REX.W only. */
		if (!(p->rex & 0x08))
			return false;
		ld->src_size = 4;
		ld->dst_size = 8;
		ld->sign = true;
		return true;
	case 0x0F:
		if (!load_next(c, &op))
			return false;
		if (op != 0xB6 && op != 0xB7 && op != 0xBE && op != 0xBF)
			return false;
		ld->src_size = (op & 1) ? 2 : 1;
		ld->dst_size = op_size;
		ld->sign = op >= 0xBE;
		return true;
	default:
		return false;
	}
}

bool
assist_load_decode(const uint8_t *bytes, size_t n, enum assist_load_mode mode,
    struct assist_load *ld)
{
	struct load_cursor c = { bytes, n, 0 };
	struct load_prefixes p;
	uint8_t op, reg = 0, addr_size;

	if (!load_prefixes(&c, mode, &p, &op))
		return false;
	/* 0x63 is ARPL outside 64-bit mode. */
	if (op == 0x63 && mode != ASSIST_LOAD_64)
		return false;
	if (!load_opcode(&c, op, load_op_size(mode, &p), &p, ld))
		return false;
	addr_size = load_addr_size(mode, &p);
	if (op == 0xA0 || op == 0xA1) {
		if (!load_skip(&c, addr_size))	/* the offset */
			return false;
	} else if (!load_modrm(&c, addr_size, &reg)) {
		return false;
	}
	ld->reg = reg | ((p.rex & 0x04) ? 8 : 0);
	/* Without REX, byte registers 4 to 7 are AH, CH, DH, BH. */
	ld->high8 = ld->dst_size == 1 && p.rex == 0 && reg >= 4;
	if (ld->high8)
		ld->reg = reg - 4;
	ld->len = (uint8_t)c.at;
	return true;
}

/* The register after the load of `data' (src_size bytes) into old. */
uint64_t
assist_load_apply(uint64_t old, const struct assist_load *ld,
    const uint8_t *data)
{
	unsigned bits = ld->src_size * 8u;
	uint64_t val = 0;
	unsigned i;

	for (i = 0; i < ld->src_size; i++)
		val |= (uint64_t)data[i] << (8 * i);
	if (ld->sign && bits < 64 && (val >> (bits - 1)) & 1)
		val |= ~0ULL << bits;
	switch (ld->dst_size) {
	case 1:
		if (ld->high8)
			return (old & ~0xFF00ULL) | ((val & 0xFF) << 8);
		return (old & ~0xFFULL) | (val & 0xFF);
	case 2:
		return (old & ~0xFFFFULL) | (val & 0xFFFF);
	case 4:
		return val & 0xFFFFFFFFULL;	/* as KVM writes a 32-bit reg */
	default:
		return val;
	}
}
