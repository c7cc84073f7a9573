/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Test harness for kernel/ in-process; see h_vm.h.
 */
#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "h_vm.h"

int
tvm_memfd(size_t size)
{
	int fd;

	fd = memfd_create("tvm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ATF_REQUIRE_MSG(fd != -1, "memfd_create: %s", strerror(errno));
	ATF_REQUIRE(ftruncate(fd, (off_t)size) == 0);
	ATF_REQUIRE(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
	return fd;
}

void
tvm_create(struct tvm *vm, size_t ramsize)
{
	int error;

	memset(vm, 0, sizeof(*vm));
	error = nvmm_kern_open(&vm->owner, getpid(), getuid(), false);
	ATF_REQUIRE_EQ_MSG(error, 0, "nvmm_kern_open: %s", strerror(error));
	error = nvmm_kern_machine_create(vm->owner, &vm->machid);
	ATF_REQUIRE_EQ_MSG(error, 0, "machine_create: %s", strerror(error));

	vm->ramsize = ramsize;
	vm->memfd = tvm_memfd(ramsize);
	vm->ram = mmap(NULL, ramsize, PROT_READ | PROT_WRITE, MAP_SHARED,
	    vm->memfd, 0);
	ATF_REQUIRE(vm->ram != MAP_FAILED);
	error = nvmm_kern_hva_map(vm->owner, vm->machid, (uintptr_t)vm->ram,
	    ramsize, vm->memfd, 0);
	ATF_REQUIRE_EQ_MSG(error, 0, "hva_map: %s", strerror(error));
	error = nvmm_kern_gpa_map(vm->owner, vm->machid, (uintptr_t)vm->ram,
	    0, ramsize, PROT_READ | PROT_WRITE | PROT_EXEC);
	ATF_REQUIRE_EQ_MSG(error, 0, "gpa_map: %s", strerror(error));
}

void
tvm_destroy(struct tvm *vm)
{
	nvmm_kern_close(vm->owner);
	munmap(vm->ram, vm->ramsize);
	close(vm->memfd);
}

void
tvm_vcpu_create(struct tvm *vm, nvmm_cpuid_t cpuid, struct tvcpu *vcpu)
{
	int error;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->cpuid = cpuid;
	error = nvmm_kern_vcpu_create(vm->owner, vm->machid, cpuid);
	ATF_REQUIRE_EQ_MSG(error, 0, "vcpu_create: %s", strerror(error));
	error = nvmm_kern_vcpu_comm(vm->owner, vm->machid, cpuid, &vcpu->comm,
	    &vcpu->access, &vcpu->data);
	ATF_REQUIRE_EQ(error, 0);
}

void
tvm_load(struct tvm *vm, gpaddr_t gpa, const void *start, const void *end)
{
	ATF_REQUIRE(hlm_load(vm->ram, vm->ramsize, gpa, start, end) == 0);
}

/* -------------------------------------------------------------------------- */

void
tvm_setup_longmode(struct tvcpu *vcpu, uint64_t rip)
{
	ATF_REQUIRE_EQ(hlm_setup(vcpu->vm->ram, vcpu->vm->ramsize,
	    tvm_getstate(vcpu, NVMM_X64_STATE_ALL), rip), 0);
	tvm_setstate(vcpu, HLM_STATE_FLAGS);
}

void
tvm_setup_guest(struct tvm *vm, struct tvcpu *vcpu, const uint8_t *begin,
    const uint8_t *end)
{
	tvm_create(vm, TVM_RAM_SIZE);
	tvm_load(vm, TVM_CODE_GPA, begin, end);
	tvm_vcpu_create(vm, 0, vcpu);
	tvm_setup_longmode(vcpu, TVM_CODE_GPA);
}

/* -------------------------------------------------------------------------- */

struct nvmm_x64_state *
tvm_getstate(struct tvcpu *vcpu, uint64_t flags)
{
	struct nvmm_comm_page *comm = vcpu->comm;
	int error;

	if ((comm->state_cached & flags) != flags) {
		comm->state_wanted = flags & ~comm->state_cached;
		error = nvmm_kern_vcpu_getstate(vcpu->vm->owner,
		    vcpu->vm->machid, vcpu->cpuid);
		ATF_REQUIRE_EQ_MSG(error, 0, "getstate: %s", strerror(error));
	}
	ATF_REQUIRE_EQ((comm->state_cached & flags), flags);
	return &comm->state;
}

void
tvm_setstate(struct tvcpu *vcpu, uint64_t flags)
{
	vcpu->comm->state_commit |= flags;
	vcpu->comm->state_cached |= flags;
}

void
tvm_inject(struct tvcpu *vcpu, unsigned type, uint8_t vector, uint64_t error)
{
	memset(&vcpu->comm->event, 0, sizeof(vcpu->comm->event));
	vcpu->comm->event.type = type;
	vcpu->comm->event.vector = vector;
	vcpu->comm->event.u.excp.error = error;
	vcpu->comm->event_commit = true;
}

int
tvm_run(struct tvcpu *vcpu)
{
	return nvmm_kern_vcpu_run(vcpu->vm->owner, vcpu->vm->machid,
	    vcpu->cpuid, &vcpu->exit);
}

uint64_t
tvm_run_reason(struct tvcpu *vcpu)
{
	int error;

	error = tvm_run(vcpu);
	ATF_REQUIRE_EQ_MSG(error, 0, "run: %s", strerror(error));
	return vcpu->exit.reason;
}

void
tvm_assist(struct tvcpu *vcpu, tvm_access_cb cb, void *arg)
{
	struct nvmm_kern_access *acc = vcpu->access;
	bool done = false;
	uint32_t i;
	int error;

	while (!done) {
		ATF_REQUIRE_MSG(acc->pending, "no access pending");
		ATF_REQUIRE(acc->size * acc->count <= NVMM_KERN_ACCESS_DATA_MAX);
		for (i = 0; i < acc->count; i++)
			cb(vcpu, acc->is_io, acc->write, acc->addr,
			    vcpu->data + i * acc->size, acc->size, arg);
		acc->handled = 1;
		error = nvmm_kern_vcpu_complete(vcpu->vm->owner,
		    vcpu->vm->machid, vcpu->cpuid, &done);
		ATF_REQUIRE_EQ_MSG(error, 0, "complete: %s", strerror(error));
	}
}

/* -------------------------------------------------------------------------- */

void
tdev_access(struct tvcpu *vcpu, bool is_io, bool write, uint64_t addr,
    uint8_t *data, size_t size, void *arg)
{
	struct tdev *dev = arg;
	uint64_t off = addr - TVM_MMIO_GPA;
	bool logged;
	size_t i;

	(void)vcpu;
	ATF_REQUIRE(size <= 8);
	if (!is_io)
		ATF_REQUIRE_MSG(addr >= TVM_MMIO_GPA &&
		    off + size <= HX_MMIO_SIZE,
		    "MMIO access at %#jx outside the device", (uintmax_t)addr);
	if (write) {
		logged = hx_log_write(dev->log, &dev->nlog, TDEV_MAX_LOG, is_io,
		    addr, data, size);
		ATF_REQUIRE_MSG(logged, "device log full");
		if (!is_io)
			memcpy(&dev->mmio[off], data, size);
		return;
	}
	for (i = 0; i < size; i++)
		data[i] = is_io ? (uint8_t)(addr + i) : dev->mmio[off + i];
}

const struct hx_write *
tdev_find(const struct tdev *dev, uint64_t addr, size_t index)
{
	return hx_find_write(dev->log, dev->nlog, addr, index);
}
