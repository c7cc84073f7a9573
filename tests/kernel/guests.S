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
