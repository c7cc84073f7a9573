/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The x86 backend over KVM: the host side of machines and VCPUs.
 *
 * A machine is a KVM VM without an in-kernel irqchip, so that the
 * emulator owns the interrupt controllers as on NVMM and HLT, interrupt
 * windows and TPR changes reach it.  MSRs that NVMM's kernel does not
 * handle are denied by an MSR filter, which turns the guest's accesses
 * into user-space exits (NVMM's RDMSR/WRMSR exits).
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmm_x86_kvm.h"

/*
 * The MSRs NVMM's kernel handles itself.  The guest reads them directly;
 * its writes to those in NVMM's state exit to kernel/ (which does them
 * and keeps its shadows right, see nvmm_x86_kvm.h), the others go direct.
 */
static const struct {
	uint32_t base;
	uint32_t count;
	uint32_t direct;	/* KVM_MSR_FILTER_* the guest has without us */
} nvmm_x86_kernel_msrs[] = {
	{ MSR_X86_TSC, 1, KVM_MSR_FILTER_READ },
	{ MSR_X86_SYSENTER_CS, 3, KVM_MSR_FILTER_READ },
	{ MSR_X86_PAT, 1, KVM_MSR_FILTER_READ },
	{ MSR_X86_EFER, 1, KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE },
	{ MSR_X86_STAR, 4, KVM_MSR_FILTER_READ },	/* to SFMASK */
	{ MSR_X86_FSBASE, 2, KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE },
	{ MSR_X86_KERNELGSBASE, 1, KVM_MSR_FILTER_READ },
};

static void
nvmm_x86_capability(struct nvmm_capability *cap)
{
	cap->arch.mach_conf_support = 0;
	/*
	 * No TPR: NVMM exits on every CR8 write, KVM reports only a lowered
	 * TPR and some hosts (PVM) not even that.  As NetBSD's SVM backend,
	 * the capability says so and NVMM_VCPU_CONF_TPR is refused.
	 */
	cap->arch.vcpu_conf_support = NVMM_CAP_ARCH_VCPU_CONF_CPUID;
	cap->arch.xcr0_mask = nvmm_x86_xcr0_mask;
	cap->arch.mxcsr_mask = nvmm_x86_mxcsr_mask;
	cap->arch.conf_cpuid_maxops = NVMM_X86_CPUID_MAXCONF;
}

/* -------------------------------------------------------------------------- */

static int
nvmm_x86_msr_filter_install(int vmfd)
{
	struct kvm_msr_filter filter;
	struct kvm_enable_cap cap;
	/* Every bit set: each MSR of a range is allowed both ways. */
	static uint8_t allow[1] = { 0xFF };
	size_t i;

	memset(&cap, 0, sizeof(cap));
	cap.cap = KVM_CAP_X86_USER_SPACE_MSR;
	cap.args[0] = KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN;
	if (ioctl(vmfd, KVM_ENABLE_CAP, &cap) == -1)
		return errno;

	memset(&filter, 0, sizeof(filter));
	filter.flags = KVM_MSR_FILTER_DEFAULT_DENY;
	for (i = 0; i < sizeof(nvmm_x86_kernel_msrs) /
	    sizeof(nvmm_x86_kernel_msrs[0]); i++) {
		filter.ranges[i].flags = nvmm_x86_kernel_msrs[i].direct;
		filter.ranges[i].base = nvmm_x86_kernel_msrs[i].base;
		filter.ranges[i].nmsrs = nvmm_x86_kernel_msrs[i].count;
		filter.ranges[i].bitmap = allow;
	}
	if (ioctl(vmfd, KVM_X86_SET_MSR_FILTER, &filter) == -1)
		return errno;
	return 0;
}

static int
nvmm_x86_machine_create(struct nvmm_machine *mach)
{
	struct nvmm_x86_mach *xmach;
	size_t i;
	int error;

	xmach = calloc(1, sizeof(*xmach));
	if (xmach == NULL)
		return ENOMEM;
	for (i = 0; i < NVMM_MAX_VCPUS; i++)
		xmach->parked[i] = -1;
	xmach->vmfd = ioctl(nvmm_x86_kvm_fd, KVM_CREATE_VM, 0);
	if (xmach->vmfd == -1) {
		error = errno == EMFILE ? ENOBUFS : ENOMEM;
		goto out;
	}
	error = nvmm_x86_msr_filter_install(xmach->vmfd);
	if (error)
		goto out_vm;
	mach->machdata = xmach;
	return 0;
out_vm:
	close(xmach->vmfd);
out:
	free(xmach);
	return error;
}

static void
nvmm_x86_machine_destroy(struct nvmm_machine *mach)
{
	struct nvmm_x86_mach *xmach = mach->machdata;
	size_t i;

	for (i = 0; i < NVMM_MAX_VCPUS; i++)
		if (xmach->parked[i] != -1)
			close(xmach->parked[i]);
	close(xmach->vmfd);
	free(xmach);
}

static int
nvmm_x86_machine_configure(struct nvmm_machine *mach, uint64_t op,
    const void *conf)
{
	/* NetBSD's x86 has no machine configuration. */
	return EINVAL;
}

/* -------------------------------------------------------------------------- */

/*
 * The state groups that a VCPU KVM has just made holds as NVMM's RESET
 * state has them (nvmm_x86_fresh_probe): a new VCPU needs them not loaded.
 */
static uint64_t nvmm_x86_fresh_groups;
/* And whether it holds nothing beyond the FXSAVE area of its FPU. */
static bool nvmm_x86_fresh_fpu_init;

/*
 * KVM cannot destroy a VCPU, only the whole VM: a destroyed NVMM VCPU
 * keeps its KVM VCPU, parked here for the next create of the same id.
 * *freshp: KVM made this one now, so it holds KVM's own initial state.
 */
static int
nvmm_x86_vcpu_fd(struct nvmm_machine *mach, nvmm_cpuid_t cpuid, bool *freshp)
{
	struct nvmm_x86_mach *xmach = mach->machdata;
	int fd;

	*freshp = xmach->parked[cpuid] == -1;
	if (!*freshp) {
		fd = xmach->parked[cpuid];
		xmach->parked[cpuid] = -1;
		return fd;
	}
	fd = ioctl(xmach->vmfd, KVM_CREATE_VCPU, (unsigned long)cpuid);
	return fd;
}

/* Its KVM VCPU, its run structure mapped, NVMM's CPUID for ncpus loaded. */
static int
nvmm_x86_vcpu_make(struct nvmm_machine *mach, struct nvmm_cpu *cpu,
    uint32_t ncpus, bool *freshp)
{
	struct nvmm_x86_cpu *xcpu;
	int error;

	xcpu = calloc(1, sizeof(*xcpu));
	if (xcpu == NULL)
		return ENOMEM;
	xcpu->mach = mach;
	xcpu->fd = nvmm_x86_vcpu_fd(mach, cpu->cpuid, freshp);
	if (xcpu->fd == -1) {
		error = ENOMEM;
		goto out;
	}
	xcpu->runsize = nvmm_x86_runsize;
	xcpu->run = mmap(NULL, xcpu->runsize, PROT_READ | PROT_WRITE,
	    MAP_SHARED, xcpu->fd, 0);
	if (xcpu->run == MAP_FAILED) {
		error = ENOMEM;
		goto out_fd;
	}
	cpu->cpudata = xcpu;
	error = nvmm_x86_cpuid_load(cpu, ncpus);
	if (error == 0)
		return 0;

	cpu->cpudata = NULL;
	munmap(xcpu->run, xcpu->runsize);
out_fd:
	((struct nvmm_x86_mach *)mach->machdata)->parked[cpu->cpuid] = xcpu->fd;
out:
	free(xcpu);
	return error;
}

/*
 * Parks the KVM VCPU for the next create of its id.  cpu->cpudata is the
 * caller's to clear: a VCPU's is cleared under its kick lock (nvmm.c).
 */
static void
nvmm_x86_vcpu_unmake(struct nvmm_machine *mach, struct nvmm_cpu *cpu)
{
	struct nvmm_x86_mach *xmach = mach->machdata;
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);

	munmap(xcpu->run, xcpu->runsize);
	xmach->parked[cpu->cpuid] = xcpu->fd;
	free(xcpu);
}

static int
nvmm_x86_vcpu_create(struct nvmm_machine *mach, struct nvmm_cpu *cpu)
{
	bool fresh;
	int error;

	error = nvmm_x86_vcpu_make(mach, cpu, atomic_load(&mach->ncpus) + 1,
	    &fresh);
	if (error)
		return error;
	/* NVMM's RESET state, loaded and already cached for the emulator. */
	error = nvmm_x86_state_load_reset(cpu,
	    fresh ? nvmm_x86_fresh_groups : 0,
	    fresh && nvmm_x86_fresh_fpu_init, &cpu->comm->state);
	if (error) {
		nvmm_x86_vcpu_unmake(mach, cpu);
		cpu->cpudata = NULL;
		return error;
	}
	cpu->comm->state_cached = NVMM_X64_STATE_ALL;
	return 0;
}

static void
nvmm_x86_vcpu_destroy(struct nvmm_machine *mach, struct nvmm_cpu *cpu)
{
	/* KVM's half-done instruction must not leak into the next life. */
	(void)nvmm_x86_pending_finish(cpu);
	nvmm_x86_vcpu_unmake(mach, cpu);
}

/*
 * Reads a VCPU that KVM has just made, in a VM of its own, as a create
 * would have it before loading the RESET state.  Where it holds that state
 * already a create loads nothing; where it differs, or if the probe cannot
 * be made, a create loads the group, which is right on any KVM.
 */
static void
nvmm_x86_fresh_probe(void)
{
	struct nvmm_x64_state fresh;
	struct nvmm_machine mach;
	struct nvmm_cpu cpu;
	bool isfresh;

	memset(&mach, 0, sizeof(mach));
	memset(&cpu, 0, sizeof(cpu));
	if (nvmm_x86_machine_create(&mach) != 0)
		return;
	if (nvmm_x86_vcpu_make(&mach, &cpu, 1, &isfresh) == 0) {
		if (nvmm_x86_state_get(&cpu, NVMM_X64_STATE_ALL, &fresh) == 0)
			nvmm_x86_fresh_groups = nvmm_x86_reset_groups(&fresh);
		nvmm_x86_fresh_fpu_init =
		    nvmm_x86_xsave_beyond_fxsave_init(&cpu);
		nvmm_x86_vcpu_unmake(&mach, &cpu);
	}
	nvmm_x86_machine_destroy(&mach);
}

static int
nvmm_x86_init(void)
{
	int error;

	error = nvmm_x86_host_probe();
	if (error == 0)
		nvmm_x86_fresh_probe();
	return error;
}

static int
nvmm_x86_vcpu_configure(struct nvmm_cpu *cpu, uint64_t op, const void *conf)
{
	switch (op) {
	case NVMM_VCPU_CONF_MD(NVMM_VCPU_CONF_CPUID):
		return nvmm_x86_cpuid_configure(cpu, conf);
	default:
		/* NVMM_VCPU_CONF_TPR included: see nvmm_x86_capability(). */
		return EINVAL;
	}
}

/*
 * While an access is pending, the GPRs are those of its exit: KVM's may be
 * past an instruction that the exit shows not done (an OUT it retired).
 */
static int
nvmm_x86_vcpu_getstate(struct nvmm_cpu *cpu, uint64_t flags)
{
	int error;

	error = nvmm_x86_state_get(cpu, flags, &cpu->comm->state);
	if (error == 0 && (flags & NVMM_X64_STATE_GPRS) &&
	    nvmm_x86_cpu(cpu)->pending != NVMM_X86_PENDING_NONE)
		error = nvmm_x86_state_from_exit(cpu, NVMM_X64_STATE_GPRS,
		    &cpu->comm->state);
	return error;
}

static int
nvmm_x86_vcpu_setstate(struct nvmm_cpu *cpu, uint64_t flags)
{
	struct nvmm_x64_state state;
	int error;

	error = nvmm_x86_pending_finish(cpu);
	if (error)
		return error;
	memcpy(&state, &cpu->comm->state, sizeof(state));
	return nvmm_x86_state_set(cpu, flags, &state);
}

/* Called with the kick lock: the run structure is still mapped. */
static void
nvmm_x86_vcpu_kick(struct nvmm_cpu *cpu)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);

	__atomic_store_n(&xcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

/* -------------------------------------------------------------------------- */

static int
nvmm_x86_memslot_set(struct nvmm_machine *mach, const struct nvmm_gslot *gs,
    bool present)
{
	struct nvmm_x86_mach *xmach = mach->machdata;
	struct kvm_userspace_memory_region region;

	memset(&region, 0, sizeof(region));
	region.slot = gs->slot;
	region.guest_phys_addr = gs->gpa;
	if (present) {
		region.memory_size = gs->size;
		region.userspace_addr =
		    (uint64_t)(uintptr_t)gs->hmap->uva + gs->hmoff;
		if (!(gs->prot & PROT_WRITE))
			region.flags = KVM_MEM_READONLY;
	}
	if (ioctl(xmach->vmfd, KVM_SET_USER_MEMORY_REGION, &region) == -1)
		return errno == EEXIST ? EINVAL : ENOMEM;
	return 0;
}

/*
 * Every ioctl request this backend makes, on /dev/kvm, a VM or a VCPU:
 * a process that sandboxes kernel/ allows these and no other.
 */
static const unsigned long nvmm_x86_ioctls[] = {
	KVM_GET_API_VERSION, KVM_CHECK_EXTENSION, KVM_GET_VCPU_MMAP_SIZE,
	KVM_GET_SUPPORTED_CPUID, KVM_CREATE_VM, KVM_ENABLE_CAP,
	KVM_X86_SET_MSR_FILTER, KVM_CREATE_VCPU, KVM_SET_USER_MEMORY_REGION,
	KVM_SET_CPUID2, KVM_RUN, KVM_TRANSLATE, KVM_NMI, KVM_INTERRUPT,
	KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS,
	KVM_GET_MSRS, KVM_SET_MSRS, KVM_GET_XCRS, KVM_SET_XCRS,
	KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS, KVM_GET_VCPU_EVENTS,
	KVM_SET_VCPU_EVENTS, KVM_GET_XSAVE, KVM_SET_XSAVE,
};

const struct nvmm_impl nvmm_x86_kvm = {
	.init = nvmm_x86_init,
	.capability = nvmm_x86_capability,
	.mach_conf_max = NVMM_X86_MACH_NCONF,
	.vcpu_conf_max = NVMM_X86_VCPU_NCONF,
	.machine_create = nvmm_x86_machine_create,
	.machine_destroy = nvmm_x86_machine_destroy,
	.machine_configure = nvmm_x86_machine_configure,
	.vcpu_create = nvmm_x86_vcpu_create,
	.vcpu_destroy = nvmm_x86_vcpu_destroy,
	.vcpu_configure = nvmm_x86_vcpu_configure,
	.vcpu_setstate = nvmm_x86_vcpu_setstate,
	.vcpu_getstate = nvmm_x86_vcpu_getstate,
	.vcpu_inject = nvmm_x86_vcpu_inject,
	.vcpu_run = nvmm_x86_vcpu_run,
	.vcpu_complete = nvmm_x86_vcpu_complete,
	.vcpu_kick = nvmm_x86_vcpu_kick,
	.vcpu_invalid = nvmm_x86_vcpu_invalid,
	.memslot_set = nvmm_x86_memslot_set,
	.ioctls = nvmm_x86_ioctls,
	.nioctls = sizeof(nvmm_x86_ioctls) / sizeof(nvmm_x86_ioctls[0]),
};
