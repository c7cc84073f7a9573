/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The MMIO loads nvmm_assist_mem finishes in the client
 * (nvmm_assist_load.c says which, and why that is safe).
 */
#ifndef NVMM_ASSIST_LOAD_H
#define NVMM_ASSIST_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The processor's mode, which sizes the operands and addresses. */
enum assist_load_mode {
	ASSIST_LOAD_16,		/* real mode, or a 16-bit code segment */
	ASSIST_LOAD_32,
	ASSIST_LOAD_64,		/* long mode with CS.L */
};

struct assist_load {
	uint8_t len;		/* of the instruction, prefixes included */
	uint8_t reg;		/* NVMM_X64_GPR_RAX .. R15 */
	bool high8;		/* AH, CH, DH or BH: bits 8-15 of reg */
	bool sign;		/* MOVSX, MOVSXD: sign-extended */
	uint8_t src_size;	/* the access, in bytes */
	uint8_t dst_size;	/* the register written, in bytes */
};

/* Whether bytes[0..n) start a load we finish; *ld says what it does. */
bool	assist_load_decode(const uint8_t *bytes, size_t n,
	    enum assist_load_mode mode, struct assist_load *ld);
/* The value of the register after the load of data into old. */
uint64_t assist_load_apply(uint64_t old, const struct assist_load *ld,
	    const uint8_t *data);

#endif /* NVMM_ASSIST_LOAD_H */
