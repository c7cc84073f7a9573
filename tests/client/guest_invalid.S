/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * A guest whose MMIO access KVM cannot emulate: an x87 load (FLD m80)
 * from TVM_MMIO_GPA.  KVM's instruction emulator has no x87 loads, so the
 * run ends in KVM_EXIT_INTERNAL_ERROR (emulation), on hardware KVM and on
 * PVM alike; NVMM reports EXIT_INVALID.  Long mode, at TVM_CODE_GPA.
 */
	.section .rodata
	.globl guest_invalid_begin, guest_invalid_insn, guest_invalid_end
	.code64
guest_invalid_begin:
	mov	$0x10000000, %rbx
guest_invalid_insn:
	fldt	(%rbx)
	hlt
guest_invalid_end:
	.section .note.GNU-stack, "", @progbits
