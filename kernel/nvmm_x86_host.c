/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The host probe of the x86 backend: whether /dev/kvm can serve NVMM, and
 * what of the host every machine shares (the CPUID KVM supports, the guest
 * FPU masks, the size of a VCPU's run structure).  It runs once, at init,
 * and depends on nothing else of the backend, which reads what it found.
 */
#include <sys/ioctl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmm_x86_kvm.h"

/* More CPUID entries than any KVM reports: the probe gives up there. */
#define NVMM_X86_CPUID_MAXENT	4096

int nvmm_x86_kvm_fd = -1;
uint64_t nvmm_x86_xcr0_mask;
uint32_t nvmm_x86_mxcsr_mask;
struct kvm_cpuid2 *nvmm_x86_supported_cpuid;
size_t nvmm_x86_runsize;

/* What this backend needs of KVM; without any of it there is no backend. */
static const int nvmm_x86_required_caps[] = {
	KVM_CAP_X86_USER_SPACE_MSR,
	KVM_CAP_X86_MSR_FILTER,
	KVM_CAP_IMMEDIATE_EXIT,
	KVM_CAP_READONLY_MEM,
	KVM_CAP_XCRS,
	KVM_CAP_DEBUGREGS,
	KVM_CAP_VCPU_EVENTS,
	KVM_CAP_SYNC_REGS,
	KVM_CAP_EXT_CPUID,
};

static int
nvmm_x86_supported_cpuid_fetch(void)
{
	struct kvm_cpuid2 *cpuid;
	uint32_t nent = 64;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) +
		    nent * sizeof(struct kvm_cpuid_entry2));
		if (cpuid == NULL)
			return ENOMEM;
		cpuid->nent = nent;
		if (ioctl(nvmm_x86_kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		free(cpuid);
		if (errno != E2BIG || nent >= NVMM_X86_CPUID_MAXENT)
			return ENXIO;
		nent *= 2;
	}
	nvmm_x86_supported_cpuid = cpuid;
	return 0;
}

static const struct kvm_cpuid_entry2 *
nvmm_x86_supported_leaf(uint32_t leaf, uint32_t subleaf)
{
	const struct kvm_cpuid2 *cpuid = nvmm_x86_supported_cpuid;
	uint32_t i;

	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == leaf &&
		    cpuid->entries[i].index == subleaf)
			return &cpuid->entries[i];
	return NULL;
}

/*
 * The guest FPU state NVMM carries is the FXSAVE area: x87, SSE, AVX at
 * most, and only what the guest can turn on: without XSAVE in its CPUID
 * XCR0 stays x87.
 */
static void
nvmm_x86_masks_compute(void)
{
	const struct kvm_cpuid_entry2 *leaf1, *leafd;
	uint8_t fxsave[512] __attribute__((aligned(16)));
	uint64_t allowed = X86_XCR0_X87 | X86_XCR0_SSE;
	uint32_t mask;

	nvmm_x86_xcr0_mask = X86_XCR0_X87;
	leaf1 = nvmm_x86_supported_leaf(0x1, 0);
	leafd = nvmm_x86_supported_leaf(0xD, 0);
	if (leaf1 != NULL && leafd != NULL && (leaf1->ecx & (1U << 26))) {
		if (leaf1->ecx & (1U << 28))
			allowed |= X86_XCR0_AVX;
		nvmm_x86_xcr0_mask |= (leafd->eax |
		    ((uint64_t)leafd->edx << 32)) & allowed;
	}

	memset(fxsave, 0, sizeof(fxsave));
	__asm__ volatile("fxsave %0" : "=m" (fxsave));
	memcpy(&mask, &fxsave[28], sizeof(mask));
	/* Zero means the architectural default. */
	nvmm_x86_mxcsr_mask = mask ? mask : 0xFFBF;
}

int
nvmm_x86_host_probe(void)
{
	size_t i;
	int size, error;

	nvmm_x86_kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (nvmm_x86_kvm_fd == -1)
		return ENXIO;
	if (ioctl(nvmm_x86_kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		goto fail;
	for (i = 0; i < sizeof(nvmm_x86_required_caps) /
	    sizeof(nvmm_x86_required_caps[0]); i++)
		if (ioctl(nvmm_x86_kvm_fd, KVM_CHECK_EXTENSION,
		    nvmm_x86_required_caps[i]) <= 0)
			goto fail;
	size = ioctl(nvmm_x86_kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size <= 0)
		goto fail;
	nvmm_x86_runsize = (size_t)size;
	error = nvmm_x86_supported_cpuid_fetch();
	if (error)
		goto fail;
	nvmm_x86_masks_compute();
	return 0;
fail:
	close(nvmm_x86_kvm_fd);
	nvmm_x86_kvm_fd = -1;
	return ENXIO;
}
