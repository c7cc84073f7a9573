/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * kernel/ in-process: the NVMM driver without the daemon, its exits
 * handled as the assists handle them (the data phase in the access page,
 * then KVM finishes the instruction, or the next entry does for a plain
 * OUT, IN, MMIO write or load), a stop as comm->stop and a kick.
 */
#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvmm.h>

#include "bench.h"
#include "nvmm_assist_load.h"
#include "nvmm_kern.h"

struct bench_vm {
	nvmm_machid_t machid;
	bool made;
	uint8_t *ram;
	struct nvmm_comm_page *comm;
	struct nvmm_kern_access *access;
	uint8_t *data;
	struct nvmm_vcpu_exit exit;
};

static struct nvmm_owner *owner;

static int
kern_fail(const char *what, int error)
{
	errno = error;
	return bench_fail("kernel/: %s", what);
}

static int
kern_open(void)
{
	int error;

	if (owner == NULL &&
	    (error = nvmm_kern_open(&owner, getpid(), getuid(), false)) != 0)
		return kern_fail("open", error);
	return 0;
}

/* Guest RAM as kernel/ takes it: a memfd sealed against shrinking. */
static int
kern_memory(struct bench_vm *vm, enum bench_guest g)
{
	const uint8_t *code;
	size_t size;
	int fd, error;

	fd = memfd_create("nvmm-bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1 || ftruncate(fd, BENCH_RAM) == -1 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == -1) {
		error = errno;
		goto out;
	}
	vm->ram = mmap(NULL, BENCH_RAM, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		error = errno;
		goto out;
	}
	code = bench_guest_code(g, &size);
	memcpy(vm->ram + BENCH_CODE, code, size);
	error = nvmm_kern_hva_map(owner, vm->machid, (uintptr_t)vm->ram,
	    BENCH_RAM, fd, 0);
	if (error == 0)
		error = nvmm_kern_gpa_map(owner, vm->machid,
		    (uintptr_t)vm->ram, 0, BENCH_RAM,
		    PROT_READ | PROT_WRITE | PROT_EXEC);
out:
	if (fd != -1)
		close(fd);	/* kernel/ does not keep it */
	return error ? kern_fail("guest memory", error) : 0;
}

static void
kern_destroy(struct bench_vm *vm)
{
	if (vm->made)
		nvmm_kern_machine_destroy(owner, vm->machid);
	if (vm->ram != NULL)
		munmap(vm->ram, BENCH_RAM);
	free(vm);
}

static int
kern_create(enum bench_guest g, struct bench_vm **vmp)
{
	struct bench_vm *vm;
	int error;

	if (kern_open() == -1)
		return -1;
	if ((vm = calloc(1, sizeof(*vm))) == NULL)
		return bench_fail("calloc");
	if ((error = nvmm_kern_machine_create(owner, &vm->machid)) != 0) {
		kern_fail("machine_create", error);
		goto out;
	}
	vm->made = true;
	if (kern_memory(vm, g) == -1)
		goto out;
	if ((error = nvmm_kern_vcpu_create(owner, vm->machid, 0)) != 0 ||
	    (error = nvmm_kern_vcpu_comm(owner, vm->machid, 0, &vm->comm,
	    &vm->access, &vm->data)) != 0) {
		kern_fail("vcpu_create", error);
		goto out;
	}
	*vmp = vm;
	return 0;
out:
	kern_destroy(vm);
	return -1;
}

static int
kern_start(struct bench_vm *vm, unsigned n)
{
	const uint64_t flags = NVMM_X64_STATE_SEGS | NVMM_X64_STATE_GPRS;
	struct nvmm_x64_state *st = &vm->comm->state;
	int error;

	vm->comm->state_wanted = flags;
	if ((error = nvmm_kern_vcpu_getstate(owner, vm->machid, 0)) != 0)
		return kern_fail("getstate", error);
	bench_guest_state(st, n);
	vm->comm->state_commit |= flags;
	vm->comm->state_cached |= flags;
	return 0;
}

/* The data phase, then KVM finishes the instruction, as an assist does. */
static int
kern_assist(struct bench_vm *vm, bool finish)
{
	struct nvmm_kern_access *acc = vm->access;
	bool done = false;
	int error;

	while (!done) {
		if (!acc->pending || acc->size * acc->count >
		    NVMM_KERN_ACCESS_DATA_MAX)
			return bench_failx("kernel/: no access pending");
		if (!acc->write)
			memset(vm->data, 0x5A, acc->size * acc->count);
		acc->handled = 1;
		if (!finish)
			return 0;
		error = nvmm_kern_vcpu_complete(owner, vm->machid, 0, &done);
		if (error)
			return kern_fail("complete", error);
	}
	return 0;
}

/*
 * A write KVM reports done, or a plain load (the bench guest is 64-bit),
 * is finished at the next entry, as nvmm_assist_mem does.
 */
static int
kern_assist_mem(struct bench_vm *vm)
{
	const struct nvmm_x86_exit_memory *mem = &vm->exit.u.mem;
	uint64_t *gprs = vm->comm->state.gprs;
	struct assist_load ld;

	if (vm->access->count != 1)
		return kern_assist(vm, true);
	if (vm->access->write)
		return kern_assist(vm, false);
	if (!assist_load_decode(mem->inst_bytes, mem->inst_len,
	    ASSIST_LOAD_64, &ld) || ld.src_size != vm->access->size)
		return kern_assist(vm, true);
	if (kern_assist(vm, false) == -1)
		return -1;
	gprs[ld.reg] = assist_load_apply(gprs[ld.reg], &ld, vm->data);
	gprs[NVMM_X64_GPR_RIP] += ld.len;
	return 0;
}

static enum bench_step
kern_step(struct bench_vm *vm)
{
	const struct nvmm_vcpu_exit *exit = &vm->exit;
	int error;

	error = nvmm_kern_vcpu_run(owner, vm->machid, 0, &vm->exit);
	if (error) {
		kern_fail("vcpu_run", error);
		return BENCH_STEP_FAIL;
	}
	switch (exit->reason) {
	case NVMM_VCPU_EXIT_IO:
		/* A plain IN or OUT: KVM finishes it at the next entry. */
		if (kern_assist(vm, false) == -1)
			return BENCH_STEP_FAIL;
		vm->comm->state.gprs[NVMM_X64_GPR_RIP] = exit->u.io.npc;
		return BENCH_STEP_EXIT;
	case NVMM_VCPU_EXIT_MEMORY:
		return kern_assist_mem(vm) == -1 ? BENCH_STEP_FAIL :
		    BENCH_STEP_EXIT;
	case NVMM_VCPU_EXIT_HALTED:
		return BENCH_STEP_HALT;
	case NVMM_VCPU_EXIT_STOPPED:
		return BENCH_STEP_STOPPED;
	case NVMM_VCPU_EXIT_NONE:
		return BENCH_STEP_OTHER;
	}
	bench_failx("kernel/: unexpected exit %#jx", (uintmax_t)exit->reason);
	return BENCH_STEP_FAIL;
}

static int
kern_stop(struct bench_vm *vm)
{
	int error;

	__atomic_store_n(&vm->comm->stop, 1, __ATOMIC_SEQ_CST);
	if ((error = nvmm_kern_vcpu_kick(owner, vm->machid, 0)) != 0)
		return kern_fail("kick", error);
	return 0;
}

static int
kern_lifecycle(void)
{
	nvmm_machid_t machid;
	int error;

	if (kern_open() == -1)
		return -1;
	if ((error = nvmm_kern_machine_create(owner, &machid)) != 0)
		return kern_fail("machine_create", error);
	error = nvmm_kern_vcpu_create(owner, machid, 0);
	if (error == 0)
		error = nvmm_kern_vcpu_destroy(owner, machid, 0);
	nvmm_kern_machine_destroy(owner, machid);
	return error ? kern_fail("vcpu_create", error) : 0;
}

const struct bench_backend bench_kern = {
	.name = "kernel/ in-process",
	.create = kern_create,
	.start = kern_start,
	.step = kern_step,
	.stop = kern_stop,
	.destroy = kern_destroy,
	.lifecycle = kern_lifecycle,
};
