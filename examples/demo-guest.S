/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The demo guest: a flat image that nvmm-demo loads at 0x8000 and starts
 * on every VCPU in real mode, with RBX = the VCPU's index, RCX = the
 * number of VCPUs and RDI = the ticks to count before powering off (0:
 * until the power button).  Each VCPU switches to 64-bit mode itself (the
 * first builds the page tables, the others wait for them), then they take
 * turns on a shared counter and print it on COM1.  VCPU 0 powers the
 * machine off through port 0x501 with the exit status.
 *
 * The image starts with the header nvmm-demo checks (struct demo_header).
 */
#define LOAD		0x8000
#define TABLES_READY	0x9000
#define SERIAL_LOCK	0x9004
#define POWER_BUTTON	0x9008
#define TICK		0x900C
#define TICK_LIMIT	0x9010
#define PML4		0x70000
#define STACKS_TOP	0x90000
#define COM1		0x3F8
#define POWER_PORT	0x501
#define DELAY_TSC	400000000	/* between two ticks of a VCPU */

	.text
	.globl _start
_start:
header:
	.ascii	"NVMMDEMO"		/* magic */
	.long	1			/* version */
	.long	LOAD			/* load address */
	.long	entry			/* entry (real mode, CS 0) */
	.long	image_end - header	/* size of the image */
	.long	0x100000		/* memory it needs */
	.long	POWER_BUTTON		/* where nvmm-demo presses it */

	.code16
entry:
	cli
	mov	%ecx, %esi		/* keep the VCPU count */
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %ss
	movl	%edi, TICK_LIMIT	/* build_tables needs EDI */
	lgdtl	gdt_desc
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	ljmpl	$0x08, $protected

	.code32
protected:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ebx, %eax		/* each VCPU its own stack */
	shl	$12, %eax
	mov	$STACKS_TOP, %esp
	sub	%eax, %esp
	test	%ebx, %ebx
	jnz	1f
	call	build_tables
	movl	$1, TABLES_READY
	jmp	2f
1:	cmpl	$0, TABLES_READY
	je	1b
2:	mov	%cr4, %eax
	or	$0x20, %eax		/* PAE */
	mov	%eax, %cr4
	mov	$PML4, %eax
	mov	%eax, %cr3
	mov	$0xC0000080, %ecx	/* EFER.LME */
	rdmsr
	or	$0x100, %eax
	wrmsr
	mov	%cr0, %eax
	or	$0x80000000, %eax	/* PG */
	mov	%eax, %cr0
	ljmp	$0x18, $long

/* Identity-maps the first GiB with 2 MiB pages. */
build_tables:
	mov	$PML4, %edi
	mov	$(3 * 4096 / 4), %ecx
	xor	%eax, %eax
	rep stosl
	movl	$(PML4 + 0x1003), PML4
	movl	$(PML4 + 0x2003), PML4 + 0x1000
	mov	$(PML4 + 0x2000), %edi
	mov	$0x83, %eax		/* present, writable, 2 MiB */
	mov	$512, %ecx
3:	mov	%eax, (%edi)
	movl	$0, 4(%edi)
	add	$0x200000, %eax
	add	$8, %edi
	dec	%ecx
	jnz	3b
	ret

	.code64
long:
	mov	TICK_LIMIT, %edi
	test	%rbx, %rbx
	jnz	tick_loop
	call	lock_serial
	lea	hello(%rip), %r8
	call	puts
	mov	%rsi, %rax
	call	putdec
	lea	hello_end(%rip), %r8
	call	puts
	call	unlock_serial

tick_loop:
	call	delay
	cmpl	$0, POWER_BUTTON
	jne	pressed
	mov	$1, %eax
	lock xadd %eax, TICK
	inc	%eax
	test	%rdi, %rdi
	jz	2f
	cmp	%rdi, %rax
	ja	finished
2:	mov	%rax, %r9
	call	lock_serial
	lea	tick_head(%rip), %r8
	call	puts
	mov	%rbx, %rax
	call	putdec
	lea	tick_mid(%rip), %r8
	call	puts
	mov	%r9, %rax
	call	putdec
	mov	$'\n', %al
	call	putc
	call	unlock_serial
	jmp	tick_loop

pressed:
	test	%rbx, %rbx
	jnz	halt
	call	lock_serial
	lea	bye_button(%rip), %r8
	call	puts
	call	unlock_serial
	jmp	poweroff
finished:
	test	%rbx, %rbx
	jnz	halt
	call	lock_serial
	lea	bye_done(%rip), %r8
	call	puts
	call	unlock_serial
poweroff:
	mov	$POWER_PORT, %dx
	xor	%al, %al		/* exit status 0 */
	out	%al, %dx
halt:
	cli
	hlt
	jmp	halt

/* Waits DELAY_TSC cycles of the time-stamp counter, or the button. */
delay:
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	mov	%rdx, %r10
	add	$DELAY_TSC, %r10
1:	cmpl	$0, POWER_BUTTON
	jne	2f
	pause
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	cmp	%r10, %rdx
	jb	1b
2:	ret

lock_serial:
	mov	$1, %eax
	xchg	%eax, SERIAL_LOCK
	test	%eax, %eax
	jnz	lock_serial
	ret

unlock_serial:
	movl	$0, SERIAL_LOCK
	ret

/* Writes the byte in AL to COM1. */
putc:
	push	%rdx
	mov	$COM1, %dx
	out	%al, %dx
	pop	%rdx
	ret

/* Writes the NUL-terminated string at R8. */
puts:
	movb	(%r8), %al
	test	%al, %al
	jz	1f
	call	putc
	inc	%r8
	jmp	puts
1:	ret

/* Writes RAX in decimal. */
putdec:
	push	%rbx
	push	%rdx
	mov	$10, %ebx
	xor	%ecx, %ecx
1:	xor	%edx, %edx
	div	%rbx
	push	%rdx
	inc	%ecx
	test	%rax, %rax
	jnz	1b
2:	pop	%rax
	add	$'0', %al
	call	putc
	dec	%ecx
	jnz	2b
	pop	%rdx
	pop	%rbx
	ret

	.p2align 3
gdt:
	.quad	0
	.quad	0x00CF9A000000FFFF	/* 0x08: 32-bit code */
	.quad	0x00CF92000000FFFF	/* 0x10: data */
	.quad	0x00AF9A000000FFFF	/* 0x18: 64-bit code */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt

hello:		.asciz	"[cpu 0] Hello from a 64-bit guest on nvmmd, with "
hello_end:	.asciz	" VCPUs\n"
tick_head:	.asciz	"[cpu "
tick_mid:	.asciz	"] tick "
bye_button:	.asciz	"[cpu 0] power button pressed: powering off\n"
bye_done:	.asciz	"[cpu 0] done counting: powering off\n"
image_end:

	.section .note.GNU-stack, "", @progbits
