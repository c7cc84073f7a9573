/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Guest programs for the kernel/ tests.  Each lies between
 * guest_NAME_begin and guest_NAME_end and is copied into guest RAM by the
 * test (TVM_LOAD); 64-bit ones run at TVM_CODE_GPA with identity paging.
 * Ports name what the guest reports: the tests check them.
 */
	.section .rodata
	.globl guest_rm_main_begin, guest_rm_main_end
	.globl guest_rm_reset_begin, guest_rm_reset_end
	.globl guest_io_begin, guest_io_end
	.globl guest_repio_begin, guest_repio_end
	.globl guest_mmio_begin, guest_mmio_end
	.globl guest_msr_begin, guest_msr_end
	.globl guest_excp_begin, guest_excp_handler, guest_excp_end
	.globl guest_intr_begin, guest_intr_handler, guest_intr_end
	.globl guest_nmi_begin, guest_nmi_handler, guest_nmi_end
	.globl guest_spin_begin, guest_spin_end
	.globl guest_tpr_begin, guest_tpr_end
	.globl guest_ud2_begin, guest_ud2_end
	.globl guest_count_begin, guest_count_end
	.globl guest_poke_begin, guest_poke_end
	.globl guest_outtwice_begin, guest_outtwice_end
	.globl guest_assist_begin, guest_assist_end
	.globl guest_ioassist_begin, guest_ioassist_end
	.globl guest_starloop_begin, guest_starloop_end

/*
 * Real mode, from RESET: the ROM's last 16 bytes jump back to its start,
 * which sums 1..100 and reports it on port 0x70, then halts.
 */
	.code16
guest_rm_main_begin:
	xor	%ax, %ax
	mov	$1, %cx
1:	add	%cx, %ax
	inc	%cx
	cmp	$101, %cx
	jne	1b
	out	%ax, $0x70
	hlt
guest_rm_main_end:

guest_rm_reset_begin:
	/* At CS:0xFFF0; IP 0xFFF3 plus 0x000D wraps to 0. */
	.byte	0xE9, 0x0D, 0x00
guest_rm_reset_end:

	.code64
/* Every IN and OUT form and size; IN results kept in R8-R13. */
guest_io_begin:
	mov	$0x11, %al
	out	%al, $0x40
	mov	$0x2233, %ax
	out	%ax, $0x41
	mov	$0x44556677, %eax
	out	%eax, $0x42
	mov	$0x43, %dx
	mov	$0x88, %al
	out	%al, %dx
	mov	$0x44, %dx
	mov	$0x99AA, %ax
	out	%ax, %dx
	mov	$0x45, %dx
	mov	$0xBBCCDDEE, %eax
	out	%eax, %dx
	mov	$-1, %rax
	in	$0x50, %al
	mov	%rax, %r8
	mov	$-1, %rax
	in	$0x51, %ax
	mov	%rax, %r9
	mov	$-1, %rax
	in	$0x52, %eax
	mov	%rax, %r10
	mov	$0x53, %dx
	mov	$-1, %rax
	in	%dx, %al
	mov	%rax, %r11
	mov	$0x54, %dx
	mov	$-1, %rax
	in	%dx, %ax
	mov	%rax, %r12
	mov	$0x55, %dx
	mov	$-1, %rax
	in	%dx, %eax
	mov	%rax, %r13
	hlt
guest_io_end:

/* REP OUTS and REP INS with counts above 1, then a plain OUTSB. */
guest_repio_begin:
	cld
	mov	$0x8000, %rsi
	mov	$5, %rcx
	mov	$0x60, %dx
	rep outsb
	mov	$0x8010, %rsi
	mov	$3, %rcx
	mov	$0x61, %dx
	rep outsw
	mov	$0x8100, %rdi
	mov	$5, %rcx
	mov	$0x62, %dx
	rep insb
	mov	$0x8200, %rdi
	mov	$2, %rcx
	mov	$0x63, %dx
	rep insl
	mov	$0x8020, %rsi
	mov	$0x64, %dx
	outsb
	hlt
guest_repio_end:

/* MMIO at 0x10000000 (no memory there): read, write, RMW, MOVS. */
guest_mmio_begin:
	mov	$0x10000000, %rbx
	mov	(%rbx), %eax
	mov	%rax, %r8
	mov	$0xDEADBEEF, %ecx
	mov	%ecx, 8(%rbx)
	movb	$5, 16(%rbx)
	orl	$0x100, 24(%rbx)
	lea	32(%rbx), %rsi
	lea	64(%rbx), %rdi
	movsq
	mov	%rsi, %r10
	mov	%rdi, %r11
	mov	40(%rbx), %r9
	hlt
guest_mmio_end:

/* An unknown MSR read and written, then STAR, which stays in kernel. */
guest_msr_begin:
	mov	$0x1234, %ecx
	rdmsr
	mov	%rax, %r8
	mov	%rdx, %r9
	mov	$0x1235, %ecx
	mov	$0xAABBCCDD, %eax
	mov	$0x11223344, %edx
	wrmsr
	mov	$0xC0000081, %ecx
	mov	$0x12345678, %eax
	xor	%edx, %edx
	wrmsr
	xor	%eax, %eax
	rdmsr
	mov	%rax, %r10
	hlt
guest_msr_end:

/* Waits in HLT; the handler reports the error code on port 0x70. */
guest_excp_begin:
	hlt
	jmp	guest_excp_begin
guest_excp_handler:
	pop	%rax
	out	%eax, $0x70
	hlt
guest_excp_end:

/*
 * Reports on port 0x72 with interrupts off, then turns them on and
 * spins; the handler of vector 0x20 reports on port 0x71.
 */
guest_intr_begin:
	cli
	out	%al, $0x72
	mov	$50, %ecx
1:	dec	%ecx
	jnz	1b
	sti
	nop
2:	jmp	2b
guest_intr_handler:
	out	%al, $0x71
	hlt
guest_intr_end:

/* Reports with interrupts off and spins so; the handler reports on 0x71. */
guest_nmi_begin:
	cli
	out	%al, $0x72
1:	jmp	1b
guest_nmi_handler:
	out	%al, $0x71
	hlt
guest_nmi_end:

/* Raises the TPR, then lowers it, then halts. */
guest_tpr_begin:
	mov	$8, %rax
	mov	%rax, %cr8
	mov	$2, %rax
	mov	%rax, %cr8
	hlt
guest_tpr_end:

guest_spin_begin:
1:	jmp	1b
guest_spin_end:

guest_ud2_begin:
	ud2
guest_ud2_end:

/* Counts RCX down, reports RAX on port 0x80, halts. */
guest_count_begin:
1:	dec	%rcx
	jnz	1b
	out	%eax, $0x80
	hlt
guest_count_end:

/* Writes RAX at the address in RBX, reads it back into RDX, halts. */
guest_poke_begin:
	mov	%rax, (%rbx)
	mov	(%rbx), %rdx
	hlt
guest_poke_end:

/* The same OUT twice in a row: where one ends, the other starts. */
guest_outtwice_begin:
	mov	$0x5A, %al
	out	%al, $0x90
	out	%al, $0x90
	hlt
guest_outtwice_end:

/*
 * In the style of NetBSD's h_mem_assist: every instruction form the mem
 * assists claim, on the device at 0x10000000 (RBX), each result stored
 * in a slot of the RW data page at 0x500000 (R15); h_compat checks them.
 * The device's memory starts zero.
 */
#define SLOT(n)	(8 * (n))(%r15)
#define FLAGS(mask, n)	pushfq; pop %rax; and $(mask), %eax; mov %rax, SLOT(n)
guest_assist_begin:
	mov	$0x10000000, %rbx
	mov	$0x500000, %r15
	/* MOV 89, 8B, 8A, 66 8B */
	mov	$0x1122334455667788, %rax
	mov	%rax, (%rbx)
	mov	(%rbx), %ecx
	mov	%rcx, SLOT(0)
	mov	$-1, %rdx
	mov	1(%rbx), %dl
	mov	%rdx, SLOT(1)
	mov	$-1, %rsi
	mov	2(%rbx), %si
	mov	%rsi, SLOT(2)
	/* MOV C6, 66 C7, C7, REX.W C7 */
	movb	$0xAB, 8(%rbx)
	movw	$0xCDEF, 10(%rbx)
	movl	$0x12345678, 12(%rbx)
	mov	8(%rbx), %rax
	mov	%rax, SLOT(3)
	movq	$-2, 16(%rbx)
	mov	16(%rbx), %rax
	mov	%rax, SLOT(4)
	/* MOV moffs A0, A3 */
	xor	%eax, %eax
	movabs	0x10000000, %al
	mov	%rax, SLOT(5)
	mov	$0xCAFEBABE, %eax
	movabs	%eax, 0x10000020
	mov	0x20(%rbx), %rdx
	mov	%rdx, SLOT(6)
	/* MOVZX 0F B6, REX.W 0F B7 */
	movzbl	3(%rbx), %eax
	mov	%rax, SLOT(7)
	movzwq	4(%rbx), %rcx
	mov	%rcx, SLOT(8)
	/* Group 1 with immediates: 81 /1, 81 /4, 80 /6, 83 /1 */
	movq	$0x0F0F, 0x40(%rbx)
	orw	$0x3000, 0x40(%rbx)
	andl	$0xFF00FF, 0x40(%rbx)
	xorb	$0xFF, 0x40(%rbx)
	orl	$0x7, 0x40(%rbx)
	mov	0x40(%rbx), %rax
	mov	%rax, SLOT(9)
	/* OR 09, 0B; AND 21, 23; XOR 31, 33; SUB 29, 2B */
	mov	$0x100, %ecx
	or	%ecx, 0x40(%rbx)
	mov	$0x10000, %edx
	or	0x40(%rbx), %edx
	mov	%rdx, SLOT(10)
	mov	$0xFF0, %ecx
	and	%ecx, 0x40(%rbx)
	mov	$0xFFFF, %edx
	and	0x40(%rbx), %edx
	mov	%rdx, SLOT(11)
	mov	$0x111, %ecx
	xor	%ecx, 0x40(%rbx)
	mov	$0x1000, %edx
	xor	0x40(%rbx), %edx
	mov	%rdx, SLOT(12)
	mov	$0x21, %ecx
	sub	%ecx, 0x40(%rbx)
	mov	$0x1C0, %edx
	sub	0x40(%rbx), %edx
	mov	%rdx, SLOT(13)
	mov	0x40(%rbx), %rax
	mov	%rax, SLOT(14)
	/* OR 08, 0A */
	mov	$0x0C, %cl
	or	%cl, 0x40(%rbx)
	mov	$0x03, %dl
	or	0x40(%rbx), %dl
	mov	%rdx, SLOT(15)
	/* CMP 81 /7, 80 /7; TEST F6 /0 */
	cmpl	$0xCC, 0x40(%rbx)
	FLAGS(0x8D5, 16)
	cmpb	$0xCD, 0x40(%rbx)
	FLAGS(0x8D5, 17)
	testb	$0x80, 0x40(%rbx)
	FLAGS(0x8C5, 18)
	/* XCHG 87, 86 */
	mov	$0x5A5A, %eax
	xchg	%eax, 0x40(%rbx)
	mov	%rax, SLOT(19)
	mov	0x40(%rbx), %rcx
	mov	%rcx, SLOT(20)
	mov	$0x77, %dl
	xchg	%dl, 0x41(%rbx)
	mov	%rdx, SLOT(21)
	mov	0x40(%rbx), %rcx
	mov	%rcx, SLOT(22)
	/* STOS, REP STOS */
	cld
	lea	0x80(%rbx), %rdi
	mov	$0x9988776655443322, %rax
	stosq
	mov	$2, %rcx
	rep stosl
	mov	0x88(%rbx), %rdx
	mov	%rdx, SLOT(23)
	mov	%rdi, SLOT(24)
	mov	%rcx, SLOT(25)
	/* LODS */
	lea	0x81(%rbx), %rsi
	xor	%eax, %eax
	lodsb
	mov	%rax, SLOT(26)
	mov	%rsi, SLOT(27)
	/* REP MOVS, device to device */
	lea	0x80(%rbx), %rsi
	lea	0xA0(%rbx), %rdi
	mov	$2, %rcx
	rep movsq
	mov	0xA8(%rbx), %rax
	mov	%rax, SLOT(28)
	mov	%rdi, SLOT(29)
	/* CMPS */
	lea	0x80(%rbx), %rsi
	lea	0xA0(%rbx), %rdi
	cmpsq
	FLAGS(0x8D5, 30)
	/* BT 0F BA /4 */
	btl	$3, 0x40(%rbx)
	FLAGS(0x1, 31)
	/* MOV 88, 66 89; moffs A1, A2 */
	mov	$0xEE, %al
	mov	%al, 0x30(%rbx)
	mov	$0xBEEF, %ax
	mov	%ax, 0x32(%rbx)
	mov	0x30(%rbx), %rcx
	mov	%rcx, SLOT(32)
	movabs	0x10000030, %eax
	mov	%rax, SLOT(33)
	mov	$0x42, %al
	movabs	%al, 0x10000038
	mov	0x38(%rbx), %rdx
	mov	%rdx, SLOT(34)
	hlt
guest_assist_end:
#undef SLOT
#undef FLAGS

/*
 * In the style of NetBSD's h_io_assist: the string forms guest_repio
 * leaves out, a segment override (FS, whose base the test sets), 32-bit
 * addresses, and REP with DF set.  h_expect fills RAM and checks.
 */
guest_ioassist_begin:
	cld
	mov	$0x8030, %rsi
	mov	$2, %rcx
	mov	$0x66, %dx
	rep outsl
	mov	$0x8300, %rdi
	mov	$3, %rcx
	mov	$0x67, %dx
	rep insw
	mov	$0x8040, %rsi
	mov	$0x68, %dx
	outsb	%fs:(%rsi), (%dx)
	mov	$0x8050, %esi
	mov	$2, %ecx
	mov	$0x69, %dx
	addr32 rep outsb
	mov	$0x8060, %rsi
	mov	$0x6A, %dx
	outsw
	std
	mov	$0x8072, %rsi
	mov	$2, %rcx
	mov	$0x6B, %dx
	rep outsb
	cld
	hlt
guest_ioassist_end:
/*
 * WRMSR to STAR for ever, in real mode: every exit is one the driver
 * handles itself, and the run never returns to the emulator.
 */
	.code16
guest_starloop_begin:
	mov	$0xC0000081, %ecx
	xor	%eax, %eax
	xor	%edx, %edx
1:	wrmsr
	jmp	1b
guest_starloop_end:
	.code64

	.section .note.GNU-stack, "", @progbits
