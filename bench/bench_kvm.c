/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The baseline: /dev/kvm driven directly, as the leanest emulator would.
 * KVM finishes an IO or MMIO instruction as it enters the guest again,
 * with the data left in kvm_run; a stop is immediate_exit and a signal.
 *
 * A second way drives KVM the same, set up as kernel/ sets it up: the
 * registers synced into kvm_run at every exit (kernel/ needs them to
 * make NVMM's exit and to cache the state), a CPUID table, and MSR
 * accesses sent to user space through a filter.  What kernel/ costs
 * beyond it is kernel/'s own code; what it costs beyond the baseline is
 * what KVM charges for what NVMM asks of it.  The filter's ranges are
 * not kernel/'s (no IO or MMIO exit consults them); that there is one
 * is what KVM's run loop sees.
 */
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define KICK_SIGNAL	SIGUSR1

#define NVMM_SYNC_REGS	(KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | \
    KVM_SYNC_X86_EVENTS)
#define CPUID_MAX	256	/* entries: KVM's table is well below this */

struct bench_vm {
	int vm, vcpu;
	uint64_t valid_regs;	/* what each run syncs into kvm_run */
	struct kvm_run *run;
	size_t run_size;
	uint8_t *ram;
	pthread_t runner;
	volatile int stopping;
};

static int kvm_fd = -1;

static void
kick_handler(int sig)
{
	(void)sig;	/* only there so that KVM_RUN returns */
}

static int
kvm_open(void)
{
	struct sigaction sa;

	if (kvm_fd != -1)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(KICK_SIGNAL, &sa, NULL) == -1)
		return bench_fail("sigaction");
	if ((kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)) == -1)
		return bench_fail("raw KVM: /dev/kvm");
	return 0;
}

static int
kvm_ioctl(int fd, unsigned long req, void *arg, const char *what)
{
	int ret;

	if ((ret = ioctl(fd, req, arg)) == -1)
		bench_fail("raw KVM: %s", what);
	return ret;
}

static int
kvm_memory(struct bench_vm *vm, enum bench_guest g)
{
	struct kvm_userspace_memory_region region;
	const uint8_t *code;
	size_t size;

	vm->ram = mmap(NULL, BENCH_RAM, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		return bench_fail("raw KVM: mmap");
	}
	code = bench_guest_code(g, &size);
	memcpy(vm->ram + BENCH_CODE, code, size);
	memset(&region, 0, sizeof(region));
	region.memory_size = BENCH_RAM;
	region.userspace_addr = (uintptr_t)vm->ram;
	return kvm_ioctl(vm->vm, KVM_SET_USER_MEMORY_REGION, &region,
	    "KVM_SET_USER_MEMORY_REGION") == -1 ? -1 : 0;
}

/* A default-deny filter, one MSR let through, every other to user space. */
static int
kvm_msr_filter(struct bench_vm *vm)
{
	static uint8_t allow[1] = { 0xFF };
	struct kvm_enable_cap cap;
	struct kvm_msr_filter filter;

	memset(&cap, 0, sizeof(cap));
	cap.cap = KVM_CAP_X86_USER_SPACE_MSR;
	cap.args[0] = KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN;
	memset(&filter, 0, sizeof(filter));
	filter.flags = KVM_MSR_FILTER_DEFAULT_DENY;
	filter.ranges[0].flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
	filter.ranges[0].base = 0x10;		/* the TSC */
	filter.ranges[0].nmsrs = 1;
	filter.ranges[0].bitmap = allow;
	if (kvm_ioctl(vm->vm, KVM_ENABLE_CAP, &cap, "KVM_ENABLE_CAP") == -1 ||
	    kvm_ioctl(vm->vm, KVM_X86_SET_MSR_FILTER, &filter,
	    "KVM_X86_SET_MSR_FILTER") == -1)
		return -1;
	return 0;
}

/* The host's supported CPUID, as the VCPU's table. */
static int
kvm_cpuid(struct bench_vm *vm)
{
	struct kvm_cpuid2 *table;
	int status = -1;

	table = calloc(1, sizeof(*table) +
	    CPUID_MAX * sizeof(struct kvm_cpuid_entry2));
	if (table == NULL)
		return bench_fail("calloc");
	table->nent = CPUID_MAX;
	if (kvm_ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, table,
	    "KVM_GET_SUPPORTED_CPUID") != -1 &&
	    kvm_ioctl(vm->vcpu, KVM_SET_CPUID2, table, "KVM_SET_CPUID2") != -1)
		status = 0;
	free(table);
	return status;
}

static void
kvm_destroy(struct bench_vm *vm)
{
	if (vm->run != NULL)
		munmap(vm->run, vm->run_size);
	if (vm->ram != NULL)
		munmap(vm->ram, BENCH_RAM);
	if (vm->vcpu != -1)
		close(vm->vcpu);
	if (vm->vm != -1)
		close(vm->vm);
	free(vm);
}

static int
kvm_make(enum bench_guest g, bool nvmm_setup, struct bench_vm **vmp)
{
	struct bench_vm *vm;
	int size;

	if (kvm_open() == -1)
		return -1;
	if ((vm = calloc(1, sizeof(*vm))) == NULL)
		return bench_fail("calloc");
	vm->vcpu = -1;
	vm->runner = pthread_self();	/* whoever creates it runs it */
	if ((vm->vm = kvm_ioctl(kvm_fd, KVM_CREATE_VM, 0, "KVM_CREATE_VM")) ==
	    -1 || (nvmm_setup && kvm_msr_filter(vm) == -1) ||
	    kvm_memory(vm, g) == -1 ||
	    (vm->vcpu = kvm_ioctl(vm->vm, KVM_CREATE_VCPU, 0,
	    "KVM_CREATE_VCPU")) == -1 ||
	    (nvmm_setup && kvm_cpuid(vm) == -1) ||
	    (size = kvm_ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0,
	    "KVM_GET_VCPU_MMAP_SIZE")) == -1)
		goto out;
	vm->run_size = (size_t)size;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    vm->vcpu, 0);
	if (vm->run == MAP_FAILED) {
		vm->run = NULL;
		bench_fail("raw KVM: mmap kvm_run");
		goto out;
	}
	vm->valid_regs = nvmm_setup ? NVMM_SYNC_REGS : 0;
	*vmp = vm;
	return 0;
out:
	kvm_destroy(vm);
	return -1;
}

static int
kvm_create(enum bench_guest g, struct bench_vm **vmp)
{
	return kvm_make(g, false, vmp);
}

static int
kvm_create_nvmm(enum bench_guest g, struct bench_vm **vmp)
{
	return kvm_make(g, true, vmp);
}

static int
kvm_start(struct bench_vm *vm, unsigned n)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (kvm_ioctl(vm->vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS") == -1)
		return -1;
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	sregs.ds.selector = 0;
	sregs.ds.base = 0;
	memset(&regs, 0, sizeof(regs));
	regs.rip = BENCH_CODE;
	regs.rcx = n;
	regs.rbx = BENCH_MMIO;
	regs.rflags = 0x2;
	if (kvm_ioctl(vm->vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS") == -1 ||
	    kvm_ioctl(vm->vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS") == -1)
		return -1;
	return 0;
}

/* The exit the loop makes: the data of a read is left for KVM. */
static enum bench_step
kvm_exit(struct bench_vm *vm)
{
	struct kvm_run *run = vm->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		if (run->io.port != BENCH_PORT)
			break;
		if (run->io.direction == KVM_EXIT_IO_IN)
			memset((uint8_t *)run + run->io.data_offset, 0x5A,
			    (size_t)run->io.size * run->io.count);
		return BENCH_STEP_EXIT;
	case KVM_EXIT_MMIO:
		if (run->mmio.phys_addr != BENCH_MMIO)
			break;
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0x5A, sizeof(run->mmio.data));
		return BENCH_STEP_EXIT;
	case KVM_EXIT_HLT:
		return BENCH_STEP_HALT;
	case KVM_EXIT_INTR:
		return BENCH_STEP_OTHER;
	}
	bench_failx("raw KVM: unexpected exit %u", run->exit_reason);
	return BENCH_STEP_FAIL;
}

static enum bench_step
kvm_step(struct bench_vm *vm)
{
	vm->runner = pthread_self();
	vm->run->kvm_valid_regs = vm->valid_regs;
	if (ioctl(vm->vcpu, KVM_RUN, 0) == -1) {
		if (errno != EINTR && errno != EAGAIN) {
			bench_fail("raw KVM: KVM_RUN");
			return BENCH_STEP_FAIL;
		}
		__atomic_store_n(&vm->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
		if (__atomic_exchange_n(&vm->stopping, 0, __ATOMIC_SEQ_CST))
			return BENCH_STEP_STOPPED;
		return BENCH_STEP_OTHER;
	}
	return kvm_exit(vm);
}

/* KVM's own way: immediate_exit for a run about to start, a signal else. */
static int
kvm_stop(struct bench_vm *vm)
{
	__atomic_store_n(&vm->stopping, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&vm->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if ((errno = pthread_kill(vm->runner, KICK_SIGNAL)) != 0)
		return bench_fail("pthread_kill");
	return 0;
}

static int
kvm_lifecycle(void)
{
	int vm, vcpu;

	if (kvm_open() == -1)
		return -1;
	if ((vm = kvm_ioctl(kvm_fd, KVM_CREATE_VM, 0, "KVM_CREATE_VM")) == -1)
		return -1;
	vcpu = kvm_ioctl(vm, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
	if (vcpu != -1)
		close(vcpu);
	close(vm);
	return vcpu == -1 ? -1 : 0;
}

const struct bench_backend bench_kvm = {
	.name = "raw KVM",
	.create = kvm_create,
	.start = kvm_start,
	.step = kvm_step,
	.stop = kvm_stop,
	.destroy = kvm_destroy,
	.lifecycle = kvm_lifecycle,
};

const struct bench_backend bench_kvm_nvmm = {
	.name = "raw KVM, NVMM's set-up",
	.create = kvm_create_nvmm,
	.start = kvm_start,
	.step = kvm_step,
	.stop = kvm_stop,
	.destroy = kvm_destroy,
	.lifecycle = kvm_lifecycle,
};
