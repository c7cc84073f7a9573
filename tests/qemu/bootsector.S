/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * A boot sector for the check-qemu suite: SeaBIOS loads it at 0x7C00 in
 * real mode.  It greets on COM1, takes over IRQ0 with the PIT at 100 Hz,
 * and halts between interrupts; every 10 ticks it prints a line.  After
 * TICK_LINES lines it writes EXIT_CODE to isa-debug-exit (QEMU then exits
 * with status EXIT_CODE * 2 + 1); with TICK_LINES 0 it ticks until killed.
 *
 * What can go wrong shows on the console: no greeting (the BIOS never ran
 * it), a greeting and no ticks (no IRQ0 injected, or HLT never woken).
 */
#ifndef TICK_LINES
#define TICK_LINES	3
#endif
#define EXIT_CODE	0x10
#define EXIT_PORT	0x501
#define COM1		0x3F8
#define PIT_DIVISOR	11932		/* 1193182 Hz / 100 */
#define IRQ0_VECTOR	8		/* where the BIOS put the master PIC */

	.code16
	.text
	.globl _start
_start:
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x7C00, %sp
	ljmp	$0, $start

start:
	/* COM1 at 115200 8N1: divisor 1. */
	mov	$COM1 + 3, %dx
	mov	$0x80, %al
	out	%al, %dx
	mov	$COM1, %dx
	mov	$1, %al
	out	%al, %dx
	inc	%dx
	xor	%al, %al
	out	%al, %dx
	mov	$COM1 + 3, %dx
	mov	$0x03, %al
	out	%al, %dx

	mov	$hello, %si
	call	puts

	movw	$irq0, IRQ0_VECTOR * 4
	movw	$0, IRQ0_VECTOR * 4 + 2
	mov	$0x34, %al		/* channel 0, lo/hi, rate generator */
	out	%al, $0x43
	mov	$PIT_DIVISOR & 0xFF, %al
	out	%al, $0x40
	mov	$PIT_DIVISOR >> 8, %al
	out	%al, $0x40
	in	$0x21, %al		/* unmask IRQ0 on the master PIC */
	and	$0xFE, %al
	out	%al, $0x21
	sti

	/* One tick at a time, so that none is skipped when two come close. */
wait:
	cli
	mov	seen, %ax
	cmp	ticks, %ax
	jne	next
	sti				/* HLT in STI's shadow: no lost wakeup */
	hlt
	jmp	wait
next:
	sti
	inc	%ax
	mov	%ax, seen
	xor	%dx, %dx
	mov	$10, %bx
	div	%bx
	test	%dx, %dx
	jnz	wait
	push	%ax
	mov	$tick, %si
	call	puts
	pop	%ax
	push	%ax
	call	putdec
	mov	$eol, %si
	call	puts
	pop	%ax
	cmp	$TICK_LINES, %ax
	jne	wait

	cli
	mov	$done, %si
	call	puts
	mov	$EXIT_PORT, %dx
	mov	$EXIT_CODE, %al
	out	%al, %dx
	/* Without isa-debug-exit there is nothing left to do. */
1:	hlt
	jmp	1b

irq0:
	push	%ax
	incw	%cs:ticks
	mov	$0x20, %al		/* end of interrupt */
	out	%al, $0x20
	pop	%ax
	iret

/* Prints the NUL-terminated string at SI. */
puts:
	lodsb
	test	%al, %al
	jz	2f
	call	putc
	jmp	puts
2:	ret

/* Prints AX in decimal. */
putdec:
	mov	$10, %bx
	xor	%cx, %cx
3:	xor	%dx, %dx
	div	%bx
	push	%dx
	inc	%cx
	test	%ax, %ax
	jnz	3b
5:	pop	%ax
	add	$'0', %al
	call	putc
	loop	5b
	ret

/* Prints AL on COM1 once its transmitter is empty. */
putc:
	push	%dx
	push	%ax
	mov	$COM1 + 5, %dx
4:	in	%dx, %al
	test	$0x20, %al
	jz	4b
	pop	%ax
	mov	$COM1, %dx
	out	%al, %dx
	pop	%dx
	ret

hello:	.asciz	"nvmmd boot sector: hello\r\n"
tick:	.asciz	"tick "
eol:	.asciz	"\r\n"
done:	.asciz	"nvmmd boot sector: done\r\n"
ticks:	.word	0
seen:	.word	0

	.org	510
	.word	0xAA55
