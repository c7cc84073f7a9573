/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Every form of MMIO load that nvmm_assist_mem finishes in the client,
 * each into a register first filled with a pattern (so that what a byte
 * or word load leaves of it shows), and each followed by an OUT to port
 * 0x60: at that exit the state is KVM's, after KVM itself executed the
 * load, to compare with what the client showed.  MMIO is at
 * TVM_MMIO_GPA; long mode, at TVM_CODE_GPA.
 */
	.section .rodata
	.globl guest_loads_begin, guest_loads_end
	.code64
#define PAT	$0x0123456789ABCDEF
#define MARK	out %al, $0x60
guest_loads_begin:
	mov	$0x10000000, %rbx
	movabs	PAT, %rax
	mov	(%rbx), %al			/* 8A: low byte */
	MARK
	movabs	PAT, %rax
	mov	1(%rbx), %ah			/* 8A: a high byte, no REX */
	MARK
	movabs	PAT, %rsi
	mov	2(%rbx), %sil			/* REX: SIL, not DH */
	MARK
	movabs	PAT, %r9
	mov	3(%rbx), %r9b			/* REX.B and REX.R */
	MARK
	movabs	PAT, %rdx
	mov	4(%rbx), %dx			/* 66: a word merges */
	MARK
	movabs	PAT, %rcx
	mov	8(%rbx), %ecx			/* 32 bits zero-extend */
	MARK
	mov	16(%rbx), %r12			/* REX.W */
	MARK
	mov	$4, %rsi
	mov	4(%rbx,%rsi,4), %r13d		/* SIB, disp8 */
	MARK
	mov	$0x10000000, %rbp
	mov	0x18(%rbp), %r8			/* base RBP wants a disp */
	MARK
	mov	$8, %rsi
	mov	0x10000000(,%rsi,4), %r14	/* SIB without base: disp32 */
	MARK
	movzbl	32(%rbx), %edi			/* 0F B6 */
	MARK
	movzwq	34(%rbx), %r14			/* 0F B7, REX.W */
	MARK
	movabs	PAT, %rbp
	movsbw	36(%rbx), %bp			/* 66 0F BE: a word merges */
	MARK
	movswq	38(%rbx), %r15			/* 0F BF */
	MARK
	movslq	40(%rbx), %r10			/* 63 with REX.W */
	MARK
	movabs	0x10000030, %eax		/* A1 with a 64-bit offset */
	MARK
	mov	%fs:0x38(%rbx), %r11		/* a segment prefix */
	MARK
	mov	$0x10000000, %ebx
	addr32 mov 0x3c(%ebx), %eax		/* 67: 32-bit address */
	MARK
	.byte	0x8b, 0x93, 0x44, 0, 0, 0	/* mov 0x44(%rbx), %edx: disp32 */
	MARK
	hlt
guest_loads_end:
	.section .note.GNU-stack, "", @progbits
