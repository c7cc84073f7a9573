/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmm_compat.h: the few things NVMM headers and NVMM consumers take from
 * NetBSD's system headers and that glibc does not provide: u_int, the
 * __BIT() family of bit-mask macros, the EPROGMISMATCH errno and the x86
 * FXSAVE image as struct fxsave with NetBSD's field names.
 */

#ifndef _NVMM_NVMM_COMPAT_H_
#define _NVMM_NVMM_COMPAT_H_

#include <sys/types.h>
#include <stdint.h>

/*
 * glibc only declares u_int (together with u_char, u_short, u_long) under
 * _DEFAULT_SOURCE, and marks having done so with __u_char_defined.  Under a
 * strict -std=c11 it is absent, but struct nvmm_x86_event needs it.  Only
 * u_int is supplied, and the glibc marker is left alone, so that glibc
 * headers which supply the whole family later are not suppressed.
 */
#ifndef __u_char_defined
typedef unsigned int u_int;
#endif

/*
 * NetBSD's <sys/cdefs.h> bit-mask macros.  All arithmetic is done in
 * uintmax_t, as on NetBSD, so a mask built here can be compared with or
 * stored into any unsigned integer.  libbsd does not define these, but each
 * is guarded anyway in case some other compatibility layer does.
 */
#define _NVMM_UINTMAX_BITS	(sizeof(uintmax_t) * 8)

/* Bit n set; a position beyond uintmax_t gives 0 rather than UB. */
#ifndef __BIT
#define __BIT(__n)							\
	(((uintmax_t)(__n) >= _NVMM_UINTMAX_BITS) ? (uintmax_t)0 :	\
	    ((uintmax_t)1 << ((uintmax_t)(__n) & (_NVMM_UINTMAX_BITS - 1))))
#endif

/* Bits lo..hi inclusive; the two bounds may be given in either order. */
#ifndef __BITS
#define __BITS(__m, __n)						\
	((__BIT((((__m) > (__n)) ? (__m) : (__n)) + 1) - 1) ^		\
	    (__BIT(((__m) > (__n)) ? (__n) : (__m)) - 1))
#endif

/* The least significant 1 bit of a non-zero mask. */
#ifndef __LOWEST_SET_BIT
#define __LOWEST_SET_BIT(__mask)	((__mask) & ~((__mask) - 1))
#endif

/*
 * Extract or place a field described by its mask.  Multiplying and dividing
 * by the lowest mask bit, instead of shifting, works without knowing the
 * field's position and keeps the macros usable in constant expressions.
 */
#ifndef __SHIFTOUT
#define __SHIFTOUT(__x, __mask)	(((__x) & (__mask)) / __LOWEST_SET_BIT(__mask))
#endif
#ifndef __SHIFTIN
#define __SHIFTIN(__x, __mask)	((__x) * __LOWEST_SET_BIT(__mask))
#endif
#ifndef __SHIFTOUT_MASK
#define __SHIFTOUT_MASK(__mask)	__SHIFTOUT((__mask), (__mask))
#endif

/*
 * nvmm_init() fails with EPROGMISMATCH when the driver's version differs
 * from the one libnvmm was built for.  NetBSD's value (74) is EBADMSG on
 * Linux, so a value of our own is needed.  134 is the first number after
 * the last errno Linux defines (EHWPOISON, 133, asm-generic/errno.h); no
 * Linux system call can return it today.  The C library does not know it:
 * strerror()/perror()/%m print "Unknown error 134", so code that reports
 * this error by text should test for it and say "version mismatch" itself.
 */
#ifndef EPROGMISMATCH
#define EPROGMISMATCH	134
#endif

/*
 * The FXSAVE/FXRSTOR memory image, laid out by the CPU, with the names
 * NetBSD uses in <x86/cpu_extended_state.h>; emulators written for NVMM
 * (QEMU) touch these fields by name through struct nvmm_x64_state.fpu.
 */

/* The FPU instruction and data pointers, as 64-bit or as offset:segment. */
union fp_addr {
	uint64_t	fa_64;
	struct {
		uint32_t	fa_off;
		uint16_t	fa_seg;
		uint16_t	fa_opcode;
	} fa_32;
} __attribute__((__packed__, __aligned__(4)));

/* One 80-bit x87 register. */
struct fpacc87 {
	uint64_t	f87_mantissa;
	uint16_t	f87_exp_sign;
} __attribute__((__packed__, __aligned__(2)));

/* FXSAVE gives every x87 register a 16-byte slot. */
struct fpaccfx {
	struct fpacc87	r __attribute__((__aligned__(16)));
};

/* One 128-bit SSE register. */
struct xmmreg {
	uint8_t		xmm_bytes[16];
};

struct fxsave {
	uint16_t	fx_cw;		/* control word */
	uint16_t	fx_sw;		/* status word */
	uint8_t		fx_tw;		/* abridged tag word, 1 bit/reg */
	uint8_t		fx_zero;
	uint16_t	fx_opcode;
	union fp_addr	fx_ip;
	union fp_addr	fx_dp;
	uint32_t	fx_mxcsr;
	uint32_t	fx_mxcsr_mask;
	struct fpaccfx	fx_87_ac[8];	/* ST(0)..ST(7), stack-top relative */
	struct xmmreg	fx_xmm[16];
	uint8_t		fx_rsvd[48];
	uint8_t		fx_kernel[48];	/* ignored by the CPU, free for software */
} __attribute__((__aligned__(16)));

#endif /* !_NVMM_NVMM_COMPAT_H_ */
