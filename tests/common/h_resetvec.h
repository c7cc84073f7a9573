/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * A machine for the guest helpers that use NetBSD's API only (h_guest,
 * h_scribble): real-mode code at the reset vector, in H_RAM bytes of RAM
 * mapped so that they end at 4 GiB, where a new VCPU starts (0xFFFFFFF0).
 */
#ifndef H_RESETVEC_H
#define H_RESETVEC_H

#include <stddef.h>
#include <stdint.h>

#include <nvmm.h>

#define H_RAM		(2UL << 20)
#define H_GPA		((1ULL << 32) - H_RAM)
#define H_RESET_OFF	(H_RAM - 0x10)

/*
 * nvmm_init, then a machine with its RAM and code at the reset vector;
 * returns the RAM, or NULL with errno set and *whatp the call that
 * failed.
 */
uint8_t	*h_resetvec_machine(struct nvmm_machine *mach, const void *code,
	    size_t len, const char **whatp);

#endif /* H_RESETVEC_H */
