/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
#include <sys/mman.h>
#include <string.h>

#include "h_resetvec.h"

uint8_t *
h_resetvec_machine(struct nvmm_machine *mach, const void *code, size_t len,
    const char **whatp)
{
	uint8_t *ram;

	*whatp = "nvmm_init";
	if (nvmm_init() == -1)
		return NULL;
	*whatp = "nvmm_machine_create";
	if (nvmm_machine_create(mach) == -1)
		return NULL;
	*whatp = "mmap";
	ram = mmap(NULL, H_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return NULL;
	*whatp = "nvmm_hva_map";
	if (nvmm_hva_map(mach, (uintptr_t)ram, H_RAM) == -1)
		return NULL;
	*whatp = "nvmm_gpa_map";
	if (nvmm_gpa_map(mach, (uintptr_t)ram, H_GPA, H_RAM,
	    PROT_READ | PROT_WRITE | PROT_EXEC) == -1)
		return NULL;
	memcpy(ram + H_RESET_OFF, code, len);
	return ram;
}
