/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * A small NVMM emulator written only against NetBSD's <nvmm.h> API: it
 * runs a real-mode guest that adds 1..N and reports the sum on port 0x70,
 * then halts.  Built with `cc h_calc.c -lnvmm' against the installed
 * library, it proves the drop-in; run through a test nvmmd, it prints
 * "sum <value>" and exits 0.
 */
#include <sys/mman.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmm.h>

#define GUEST_RAM	0x10000
#define GUEST_CODE	0x1000

/*
 *	xor %ax,%ax ; mov $1,%cx
 * 1:	add %cx,%ax ; inc %cx ; cmp $101,%cx ; jne 1b
 *	out %ax,$0x70 ; hlt
 */
static const uint8_t guest[] = {
	0x31, 0xC0, 0xB9, 0x01, 0x00,
	0x01, 0xC8, 0x41, 0x83, 0xF9, 0x65, 0x75, 0xF8,
	0xE7, 0x70, 0xF4,
};

static unsigned long sum;

static void
io_callback(struct nvmm_io *io)
{
	uint16_t v = 0;

	if (io->port != 0x70 || io->in)
		errx(1, "unexpected IO port %#x", io->port);
	memcpy(&v, io->data, io->size < sizeof(v) ? io->size : sizeof(v));
	sum = v;
}

static void
mem_callback(struct nvmm_mem *mem)
{
	errx(1, "unexpected MMIO at %#llx", (unsigned long long)mem->gpa);
}

int
main(void)
{
	struct nvmm_assist_callbacks cbs = { io_callback, mem_callback };
	struct nvmm_capability cap;
	struct nvmm_machine mach;
	struct nvmm_vcpu vcpu;
	struct nvmm_x64_state *state;
	uint8_t *ram;

	if (nvmm_init() == -1)
		err(1, "nvmm_init");
	if (nvmm_capability(&cap) == -1)
		err(1, "nvmm_capability");
	if (cap.version != NVMM_KERN_VERSION || cap.state_size !=
	    sizeof(struct nvmm_x64_state))
		errx(1, "unexpected NVMM version %u", cap.version);
	if (nvmm_machine_create(&mach) == -1)
		err(1, "nvmm_machine_create");
	if (nvmm_vcpu_create(&mach, 0, &vcpu) == -1)
		err(1, "nvmm_vcpu_create");
	if (nvmm_vcpu_configure(&mach, &vcpu, NVMM_VCPU_CONF_CALLBACKS,
	    &cbs) == -1)
		err(1, "nvmm_vcpu_configure");

	ram = mmap(NULL, GUEST_RAM, PROT_READ | PROT_WRITE,
	    MAP_ANON | MAP_PRIVATE, -1, 0);
	if (ram == MAP_FAILED)
		err(1, "mmap");
	if (nvmm_hva_map(&mach, (uintptr_t)ram, GUEST_RAM) == -1)
		err(1, "nvmm_hva_map");
	if (nvmm_gpa_map(&mach, (uintptr_t)ram, 0, GUEST_RAM,
	    PROT_READ | PROT_WRITE | PROT_EXEC) == -1)
		err(1, "nvmm_gpa_map");
	memcpy(ram + GUEST_CODE, guest, sizeof(guest));

	/* From RESET: real mode; point CS:IP at the code. */
	if (nvmm_vcpu_getstate(&mach, &vcpu, NVMM_X64_STATE_SEGS |
	    NVMM_X64_STATE_GPRS) == -1)
		err(1, "nvmm_vcpu_getstate");
	state = vcpu.state;
	state->segs[NVMM_X64_SEG_CS].selector = 0;
	state->segs[NVMM_X64_SEG_CS].base = 0;
	state->gprs[NVMM_X64_GPR_RIP] = GUEST_CODE;
	nvmm_vcpu_setstate(&mach, &vcpu, NVMM_X64_STATE_SEGS |
	    NVMM_X64_STATE_GPRS);

	for (;;) {
		if (nvmm_vcpu_run(&mach, &vcpu) == -1)
			err(1, "nvmm_vcpu_run");
		switch (vcpu.exit->reason) {
		case NVMM_VCPU_EXIT_NONE:
			continue;
		case NVMM_VCPU_EXIT_IO:
			if (nvmm_assist_io(&mach, &vcpu) == -1)
				err(1, "nvmm_assist_io");
			continue;
		case NVMM_VCPU_EXIT_HALTED:
			printf("sum %lu\n", sum);
			if (nvmm_machine_destroy(&mach) == -1)
				err(1, "nvmm_machine_destroy");
			return sum == 5050 ? 0 : 1;
		default:
			errx(1, "unexpected exit %#llx",
			    (unsigned long long)vcpu.exit->reason);
		}
	}
}
