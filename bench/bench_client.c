/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * libnvmmclient through nvmmd: the public <nvmm.h> API as an emulator
 * uses it, with nvmm_assist_io and nvmm_assist_mem doing the data phase,
 * against the private daemon that bench_daemon.c starts.
 */
#include <sys/mman.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nvmm.h>

#include "bench.h"

struct bench_vm {
	struct nvmm_machine mach;
	struct nvmm_vcpu vcpu;
	bool made;
};

static void
client_io(struct nvmm_io *io)
{
	if (io->in)
		memset(io->data, 0x5A, io->size);
}

static void
client_mem(struct nvmm_mem *mem)
{
	if (!mem->write)
		memset(mem->data, 0x5A, mem->size);
}

static struct nvmm_assist_callbacks client_cbs = { client_io, client_mem };

static int
client_init(void)
{
	if (nvmm_init() == -1)
		return bench_fail("libnvmmclient: nvmm_init");
	return 0;
}

static int
client_memory(struct bench_vm *vm, enum bench_guest g)
{
	const uint8_t *code;
	uint8_t *ram;
	size_t size;

	ram = mmap(NULL, BENCH_RAM, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return bench_fail("libnvmmclient: mmap");
	if (nvmm_hva_map(&vm->mach, (uintptr_t)ram, BENCH_RAM) == -1 ||
	    nvmm_gpa_map(&vm->mach, (uintptr_t)ram, 0, BENCH_RAM,
	    PROT_READ | PROT_WRITE | PROT_EXEC) == -1)
		return bench_fail("libnvmmclient: nvmm_hva_map/nvmm_gpa_map");
	/* hva_map put shared memory in place of ours: load the code now. */
	code = bench_guest_code(g, &size);
	memcpy(ram + BENCH_CODE, code, size);
	return 0;
}

static void
client_destroy(struct bench_vm *vm)
{
	if (vm->made && nvmm_machine_destroy(&vm->mach) == -1)
		bench_fail("libnvmmclient: nvmm_machine_destroy");
	free(vm);
}

static int
client_create(enum bench_guest g, struct bench_vm **vmp)
{
	struct bench_vm *vm;

	if (client_init() == -1)
		return -1;
	if ((vm = calloc(1, sizeof(*vm))) == NULL)
		return bench_fail("calloc");
	if (nvmm_machine_create(&vm->mach) == -1) {
		bench_fail("libnvmmclient: nvmm_machine_create");
		goto out;
	}
	vm->made = true;
	if (client_memory(vm, g) == -1)
		goto out;
	if (nvmm_vcpu_create(&vm->mach, 0, &vm->vcpu) == -1 ||
	    nvmm_vcpu_configure(&vm->mach, &vm->vcpu, NVMM_VCPU_CONF_CALLBACKS,
	    &client_cbs) == -1) {
		bench_fail("libnvmmclient: nvmm_vcpu_create/configure");
		goto out;
	}
	*vmp = vm;
	return 0;
out:
	client_destroy(vm);
	return -1;
}

static int
client_start(struct bench_vm *vm, unsigned n)
{
	const uint64_t flags = NVMM_X64_STATE_SEGS | NVMM_X64_STATE_GPRS;
	struct nvmm_x64_state *st;

	if (nvmm_vcpu_getstate(&vm->mach, &vm->vcpu, flags) == -1)
		return bench_fail("libnvmmclient: nvmm_vcpu_getstate");
	st = vm->vcpu.state;
	bench_guest_state(st, n);
	if (nvmm_vcpu_setstate(&vm->mach, &vm->vcpu, flags) == -1)
		return bench_fail("libnvmmclient: nvmm_vcpu_setstate");
	return 0;
}

static enum bench_step
client_step(struct bench_vm *vm)
{
	const struct nvmm_vcpu_exit *exit = vm->vcpu.exit;

	if (nvmm_vcpu_run(&vm->mach, &vm->vcpu) == -1) {
		bench_fail("libnvmmclient: nvmm_vcpu_run");
		return BENCH_STEP_FAIL;
	}
	switch (exit->reason) {
	case NVMM_VCPU_EXIT_IO:
		if (nvmm_assist_io(&vm->mach, &vm->vcpu) == -1) {
			bench_fail("libnvmmclient: nvmm_assist_io");
			return BENCH_STEP_FAIL;
		}
		return BENCH_STEP_EXIT;
	case NVMM_VCPU_EXIT_MEMORY:
		if (nvmm_assist_mem(&vm->mach, &vm->vcpu) == -1) {
			bench_fail("libnvmmclient: nvmm_assist_mem");
			return BENCH_STEP_FAIL;
		}
		return BENCH_STEP_EXIT;
	case NVMM_VCPU_EXIT_HALTED:
		return BENCH_STEP_HALT;
	case NVMM_VCPU_EXIT_STOPPED:
		return BENCH_STEP_STOPPED;
	case NVMM_VCPU_EXIT_NONE:
		return BENCH_STEP_OTHER;
	}
	bench_failx("libnvmmclient: unexpected exit %#jx",
	    (uintmax_t)exit->reason);
	return BENCH_STEP_FAIL;
}

static int
client_stop(struct bench_vm *vm)
{
	if (nvmm_vcpu_stop(&vm->vcpu) == -1)
		return bench_fail("libnvmmclient: nvmm_vcpu_stop");
	return 0;
}

static int
client_lifecycle(void)
{
	struct nvmm_machine mach;
	struct nvmm_vcpu vcpu;
	int ret = 0;

	if (client_init() == -1)
		return -1;
	if (nvmm_machine_create(&mach) == -1)
		return bench_fail("libnvmmclient: nvmm_machine_create");
	if (nvmm_vcpu_create(&mach, 0, &vcpu) == -1)
		ret = bench_fail("libnvmmclient: nvmm_vcpu_create");
	else if (nvmm_vcpu_destroy(&mach, &vcpu) == -1)
		ret = bench_fail("libnvmmclient: nvmm_vcpu_destroy");
	if (nvmm_machine_destroy(&mach) == -1)
		ret = bench_fail("libnvmmclient: nvmm_machine_destroy");
	return ret;
}

const struct bench_backend bench_client = {
	.name = "libnvmmclient + nvmmd",
	.create = client_create,
	.start = client_start,
	.step = client_step,
	.stop = client_stop,
	.destroy = client_destroy,
	.lifecycle = client_lifecycle,
};
