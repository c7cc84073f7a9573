/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Just enough of an x86 decoder to describe an IO or MSR instruction the
 * way NVMM's exits do (rep, str, seg, address size, length).  KVM reports
 * only the port, size and direction of an access; NVMM's exit says more.
 */
#include <string.h>

#include "nvmm_x86_kvm.h"

static int
nvmm_x86_segment_prefix(uint8_t byte)
{
	switch (byte) {
	case 0x26: return NVMM_X64_SEG_ES;
	case 0x2E: return NVMM_X64_SEG_CS;
	case 0x36: return NVMM_X64_SEG_SS;
	case 0x3E: return NVMM_X64_SEG_DS;
	case 0x64: return NVMM_X64_SEG_FS;
	case 0x65: return NVMM_X64_SEG_GS;
	default: return -1;
	}
}

/* A prefix that changes what a string IO instruction does. */
bool
nvmm_x86_io_string_prefix(uint8_t byte)
{
	return byte == 0xF3 || byte == 0xF2 || byte == 0x67 ||
	    nvmm_x86_segment_prefix(byte) != -1;
}

struct nvmm_x86_prefixes {
	size_t len;
	bool opsize;		/* 0x66 */
	bool adsize;		/* 0x67 */
	bool rep;		/* 0xF3 or 0xF2 */
	int seg;		/* override, or -1 */
};

static void
nvmm_x86_prefixes_parse(const uint8_t *bytes, size_t n, bool longmode,
    struct nvmm_x86_prefixes *pfx)
{
	size_t i;
	int seg;

	memset(pfx, 0, sizeof(*pfx));
	pfx->seg = -1;
	for (i = 0; i < n && i < 14; i++) {
		if (bytes[i] == 0x66)
			pfx->opsize = true;
		else if (bytes[i] == 0x67)
			pfx->adsize = true;
		else if (bytes[i] == 0xF3 || bytes[i] == 0xF2)
			pfx->rep = true;
		else if (bytes[i] == 0xF0)
			;
		else if ((seg = nvmm_x86_segment_prefix(bytes[i])) != -1)
			pfx->seg = seg;
		else
			break;
	}
	/* A REX prefix counts only right before the opcode. */
	if (longmode && i < n && (bytes[i] & 0xF0) == 0x40)
		i++;
	pfx->len = i;
}

/*
 * Decodes an IN, OUT, INS or OUTS at bytes[0].  mode16 and longmode come
 * from CS (D bit clear, L bit set).  Returns false if it is none of them.
 */
bool
nvmm_x86_decode_io(const uint8_t *bytes, size_t n, bool mode16, bool longmode,
    struct nvmm_x86_io_insn *insn)
{
	struct nvmm_x86_prefixes pfx;
	uint8_t op;
	size_t len;
	bool wide;

	nvmm_x86_prefixes_parse(bytes, n, longmode, &pfx);
	len = pfx.len;
	if (len >= n)
		return false;
	op = bytes[len++];

	memset(insn, 0, sizeof(*insn));
	switch (op) {
	case 0xE4: case 0xE5: case 0xE6: case 0xE7:
		if (len >= n)
			return false;
		insn->imm_port = true;
		insn->port = bytes[len++];
		insn->in = op < 0xE6;
		wide = op & 1;
		break;
	case 0xEC: case 0xED: case 0xEE: case 0xEF:
		insn->in = op < 0xEE;
		wide = op & 1;
		break;
	case 0x6C: case 0x6D: case 0x6E: case 0x6F:
		insn->str = true;
		insn->rep = pfx.rep;
		insn->in = op < 0x6E;
		wide = op & 1;
		/* INS always writes through ES; OUTS reads DS or an override. */
		if (insn->in)
			insn->seg = NVMM_X64_SEG_ES;
		else
			insn->seg = pfx.seg != -1 ? pfx.seg : NVMM_X64_SEG_DS;
		break;
	default:
		return false;
	}
	if (!insn->str)
		insn->seg = -1;
	if (!wide)
		insn->operand_size = 1;
	else
		insn->operand_size = (mode16 != pfx.opsize) ? 2 : 4;
	if (longmode)
		insn->address_size = pfx.adsize ? 4 : 8;
	else
		insn->address_size = (mode16 != pfx.adsize) ? 2 : 4;
	insn->len = len;
	return true;
}

/* The length of an RDMSR or WRMSR at bytes[0], or 0. */
size_t
nvmm_x86_decode_msr_len(const uint8_t *bytes, size_t n, bool longmode)
{
	struct nvmm_x86_prefixes pfx;

	nvmm_x86_prefixes_parse(bytes, n, longmode, &pfx);
	if (pfx.len + 2 > n || bytes[pfx.len] != 0x0F ||
	    (bytes[pfx.len + 1] != 0x30 && bytes[pfx.len + 1] != 0x32))
		return 0;
	return pfx.len + 2;
}
