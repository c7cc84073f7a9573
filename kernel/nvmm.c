/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The machine-independent core of the driver: owners, the machine table
 * (the daemon's one registry of machines), VCPU slots, ownership checks
 * and locking; NVMM_CTL answers from it in nvmm_ctl.c.  What a machine or
 * a VCPU is on the host is the backend's business (nvmm_x86_kvm.c).
 *
 * Locking, as NetBSD's: each machine has a reader/writer lock, taken as
 * writer only to create or destroy the machine; each VCPU has a mutex held
 * for the whole of every VCPU operation, run included.  Memory operations
 * take the machine's memlock under the reader lock, so that they go on
 * while VCPUs run.  Destroy marks the machine dying and kicks its VCPUs
 * before it waits for the writer lock, so it never waits on a guest.
 */
#include <sys/mman.h>
#include <sys/random.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmm_internal.h"

const struct nvmm_impl *const nvmm_impl = &nvmm_x86_kvm;

static struct nvmm_machine machines[NVMM_MAX_MACHINES];
static void (*nvmm_destroy_hook)(nvmm_machid_t);

static pthread_once_t nvmm_once = PTHREAD_ONCE_INIT;
static int nvmm_init_error;

static void
nvmm_kick_handler(int sig)
{
	/* Only there so that the signal interrupts KVM_RUN. */
	(void)sig;
}

static int
nvmm_install_kick_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nvmm_kick_handler;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the point is that KVM_RUN returns. */
	if (sigaction(NVMM_KERN_KICK_SIGNAL, &sa, NULL) == -1)
		return errno;
	return 0;
}

static void
nvmm_init_once(void)
{
	pthread_rwlockattr_t attr;
	size_t i;

	/*
	 * Writers first: a destroy must not starve behind VCPU threads that
	 * take the reader lock run after run.
	 */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	for (i = 0; i < NVMM_MAX_MACHINES; i++) {
		machines[i].machid = (nvmm_machid_t)i;
		machines[i].commfd = -1;
		pthread_rwlock_init(&machines[i].lock, &attr);
		pthread_mutex_init(&machines[i].memlock, NULL);
	}
	pthread_rwlockattr_destroy(&attr);

	nvmm_init_error = nvmm_install_kick_handler();
	if (nvmm_init_error == 0)
		nvmm_init_error = nvmm_impl->init();
}

/* -------------------------------------------------------------------------- */

bool
nvmm_owner_may(const struct nvmm_owner *owner, const struct nvmm_machine *mach)
{
	return owner->root || mach->owner == owner;
}

/*
 * Looks a machine up and locks it; on success the caller ends with
 * nvmm_machine_put().
 */
int
nvmm_machine_get(struct nvmm_owner *owner, nvmm_machid_t machid, bool writer,
    struct nvmm_machine **machp)
{
	struct nvmm_machine *mach;

	if (machid >= NVMM_MAX_MACHINES)
		return EINVAL;
	mach = &machines[machid];
	if (writer)
		pthread_rwlock_wrlock(&mach->lock);
	else
		pthread_rwlock_rdlock(&mach->lock);
	if (!mach->present) {
		pthread_rwlock_unlock(&mach->lock);
		return ENOENT;
	}
	if (!nvmm_owner_may(owner, mach)) {
		pthread_rwlock_unlock(&mach->lock);
		return EPERM;
	}
	*machp = mach;
	return 0;
}

void
nvmm_machine_put(struct nvmm_machine *mach)
{
	pthread_rwlock_unlock(&mach->lock);
}

static int
nvmm_vcpu_get(struct nvmm_machine *mach, nvmm_cpuid_t cpuid,
    struct nvmm_cpu **cpup)
{
	struct nvmm_cpu *cpu;

	if (cpuid >= NVMM_MAX_VCPUS)
		return EINVAL;
	cpu = nvmm_cpu_slot(mach, cpuid);
	if (cpu == NULL)
		return ENOENT;
	pthread_mutex_lock(&cpu->lock);
	if (!cpu->present) {
		pthread_mutex_unlock(&cpu->lock);
		return ENOENT;
	}
	*cpup = cpu;
	return 0;
}

static void
nvmm_vcpu_put(struct nvmm_cpu *cpu)
{
	pthread_mutex_unlock(&cpu->lock);
}

/* -------------------------------------------------------------------------- */

void
nvmm_cpu_enter(struct nvmm_cpu *cpu)
{
	pthread_mutex_lock(&cpu->kick_lock);
	cpu->running = true;
	cpu->runner = pthread_self();
	pthread_mutex_unlock(&cpu->kick_lock);
}

void
nvmm_cpu_leave(struct nvmm_cpu *cpu)
{
	pthread_mutex_lock(&cpu->kick_lock);
	cpu->running = false;
	pthread_mutex_unlock(&cpu->kick_lock);
}

/*
 * The backend's kick arms an immediate exit for a run about to start; the
 * signal interrupts one under way.  The runner clears the former and then
 * reads the comm page, so a stop written before the kick is never missed.
 */
static void
nvmm_cpu_kick(struct nvmm_cpu *cpu)
{
	pthread_mutex_lock(&cpu->kick_lock);
	if (cpu->cpudata != NULL) {
		nvmm_impl->vcpu_kick(cpu);
		if (cpu->running)
			pthread_kill(cpu->runner, NVMM_KERN_KICK_SIGNAL);
	}
	pthread_mutex_unlock(&cpu->kick_lock);
}

/* -------------------------------------------------------------------------- */

int
nvmm_kern_open(struct nvmm_owner **ownerp, pid_t pid, uid_t uid, bool root)
{
	struct nvmm_owner *owner;

	pthread_once(&nvmm_once, nvmm_init_once);
	if (nvmm_init_error != 0)
		return nvmm_init_error;

	/*
	 * NetBSD has one root owner, shared by every root descriptor, so
	 * that closing any of them destroys what all of them created.  Here
	 * each root opener is an owner of its own with the root owner's
	 * rights: an administrator's nvmmctl ending takes nothing with it.
	 */
	owner = calloc(1, sizeof(*owner));
	if (owner == NULL)
		return ENOMEM;
	owner->pid = pid;
	owner->uid = uid;
	owner->root = root;
	*ownerp = owner;
	return 0;
}

pid_t
nvmm_kern_owner_pid(const struct nvmm_owner *owner)
{
	return owner->pid;
}

int
nvmm_kern_capability(struct nvmm_owner *owner, struct nvmm_capability *cap)
{
	(void)owner;
	memset(cap, 0, sizeof(*cap));
	cap->version = NVMM_KERN_VERSION;
	cap->state_size = sizeof(struct nvmm_vcpu_state);
	cap->max_machines = NVMM_MAX_MACHINES;
	cap->max_vcpus = NVMM_MAX_VCPUS;
	cap->max_ram = NVMM_MAX_RAM;
	nvmm_impl->capability(cap);
	return 0;
}

/* -------------------------------------------------------------------------- */

static int
nvmm_comm_create(struct nvmm_machine *mach)
{
	const size_t size = NVMM_SLOTS_SIZE;
	int fd, error;
	void *base;

	fd = memfd_create("nvmm-comm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1)
		return errno;
	if (ftruncate(fd, (off_t)size) == -1 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL) == -1) {
		error = errno;
		goto out;
	}
	base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		error = errno;
		goto out;
	}
	mach->commfd = fd;
	mach->commbase = base;
	return 0;
out:
	close(fd);
	return error;
}

static void
nvmm_comm_destroy(struct nvmm_machine *mach)
{
	munmap(mach->commbase, NVMM_SLOTS_SIZE);
	close(mach->commfd);
	mach->commbase = NULL;
	mach->commfd = -1;
}

static int
nvmm_cpus_create(struct nvmm_machine *mach)
{
	mach->cpus = calloc(NVMM_MAX_VCPUS, sizeof(*mach->cpus));
	if (mach->cpus == NULL)
		return ENOMEM;
	atomic_store(&mach->ncpus, 0);
	return 0;
}

/*
 * The slot of cpuid, made if need be.  Creates may race under the reader
 * lock: the first slot published wins, and the loser frees its own.
 */
static struct nvmm_cpu *
nvmm_cpu_slot_make(struct nvmm_machine *mach, nvmm_cpuid_t cpuid)
{
	struct nvmm_cpu *cpu, *none = NULL;

	if ((cpu = nvmm_cpu_slot(mach, cpuid)) != NULL)
		return cpu;
	if ((cpu = calloc(1, sizeof(*cpu))) == NULL)
		return NULL;
	cpu->cpuid = cpuid;
	pthread_mutex_init(&cpu->lock, NULL);
	pthread_mutex_init(&cpu->kick_lock, NULL);
	if (__atomic_compare_exchange_n(&mach->cpus[cpuid], &none, cpu, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return cpu;
	pthread_mutex_destroy(&cpu->lock);
	pthread_mutex_destroy(&cpu->kick_lock);
	free(cpu);
	return none;
}

static void
nvmm_vcpu_free(struct nvmm_machine *mach, struct nvmm_cpu *cpu)
{
	nvmm_impl->vcpu_destroy(mach, cpu);
	pthread_mutex_lock(&cpu->kick_lock);
	cpu->cpudata = NULL;
	pthread_mutex_unlock(&cpu->kick_lock);
	__atomic_store_n(&cpu->present, false, __ATOMIC_RELEASE);
	atomic_fetch_sub(&mach->ncpus, 1);
}

static void
nvmm_cpus_destroy(struct nvmm_machine *mach)
{
	struct nvmm_cpu *cpu;
	size_t i;

	for (i = 0; i < NVMM_MAX_VCPUS; i++) {
		if ((cpu = mach->cpus[i]) == NULL)
			continue;
		if (cpu->present)
			nvmm_vcpu_free(mach, cpu);
		pthread_mutex_destroy(&cpu->lock);
		pthread_mutex_destroy(&cpu->kick_lock);
		free(cpu);
	}
	free(mach->cpus);
	mach->cpus = NULL;
}

/* Called with the machine's writer lock. */
static void
nvmm_machine_free(struct nvmm_machine *mach)
{
	nvmm_cpus_destroy(mach);
	nvmm_impl->machine_destroy(mach);
	nvmm_mem_fini(mach);
	nvmm_comm_destroy(mach);
	mach->machdata = NULL;
	mach->owner = NULL;
	mach->present = false;
}

/* The command name of a process, from /proc; empty if it is gone. */
static void
nvmm_owner_comm(pid_t pid, char comm[16])
{
	char path[64];
	ssize_t n;
	int fd;

	memset(comm, 0, 16);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return;
	n = read(fd, comm, 15);
	close(fd);
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
}

/*
 * A version 4 UUID (RFC 9562): 122 random bits, so that the next machine
 * of the same slot is told apart from this one by whoever labels series
 * with it.
 */
static int
nvmm_uuid_make(uint8_t uuid[NVMM_UUID_SIZE])
{
	ssize_t n;

	n = getrandom(uuid, NVMM_UUID_SIZE, 0);
	if (n == -1)
		return errno;
	if (n != NVMM_UUID_SIZE)
		return EAGAIN;
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);	/* version 4 */
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);	/* RFC variant */
	return 0;
}

/*
 * Takes the lowest free slot, returned write-locked.  Slots in use are
 * passed over without their lock: a running VCPU holds it as a reader
 * for as long as the guest runs.  Only brief lookups hold a free one.
 */
/* Slot i, write-locked, if it is free. */
static struct nvmm_machine *
nvmm_machine_take(size_t i)
{
	struct nvmm_machine *mach = &machines[i];

	if (atomic_load(&mach->present))
		return NULL;
	pthread_rwlock_wrlock(&mach->lock);
	if (!atomic_load(&mach->present))
		return mach;
	pthread_rwlock_unlock(&mach->lock);
	return NULL;
}

static struct nvmm_machine *
nvmm_machine_alloc(void)
{
	struct nvmm_machine *mach;
	size_t i;

	for (i = 0; i < NVMM_MAX_MACHINES; i++)
		if ((mach = nvmm_machine_take(i)) != NULL)
			return mach;
	return NULL;
}

/* Makes a machine in a slot taken and write-locked; unlocks it. */
static int
nvmm_machine_make(struct nvmm_owner *owner, struct nvmm_machine *mach)
{
	int error;

	error = nvmm_uuid_make(mach->uuid);
	if (error)
		goto out;
	error = nvmm_comm_create(mach);
	if (error)
		goto out;
	error = nvmm_cpus_create(mach);
	if (error)
		goto out_comm;
	nvmm_mem_init(mach);
	error = nvmm_impl->machine_create(mach);
	if (error)
		goto out_cpus;

	mach->owner = owner;
	nvmm_owner_comm(owner->pid, mach->comm);
	mach->gen++;
	clock_gettime(CLOCK_REALTIME, &mach->created);
	atomic_store(&mach->dying, false);
	mach->present = true;
	pthread_rwlock_unlock(&mach->lock);
	return 0;

out_cpus:
	nvmm_mem_fini(mach);
	nvmm_cpus_destroy(mach);
out_comm:
	nvmm_comm_destroy(mach);
out:
	pthread_rwlock_unlock(&mach->lock);
	return error;
}

int
nvmm_kern_machine_create(struct nvmm_owner *owner, nvmm_machid_t *machidp)
{
	struct nvmm_machine *mach;
	int error;

	mach = nvmm_machine_alloc();
	if (mach == NULL)
		return ENOBUFS;
	error = nvmm_machine_make(owner, mach);
	if (error == 0)
		*machidp = mach->machid;
	return error;
}

int
nvmm_kern_machine_create_at(struct nvmm_owner *owner, nvmm_machid_t machid)
{
	struct nvmm_machine *mach;

	if (machid >= NVMM_MAX_MACHINES)
		return EINVAL;
	mach = nvmm_machine_take(machid);
	if (mach == NULL)
		return EBUSY;
	return nvmm_machine_make(owner, mach);
}

/*
 * Destroys a machine that the caller holds the reader lock of and may
 * operate.  Returns with no lock held.
 */
static void
nvmm_machine_kill(struct nvmm_machine *mach)
{
	uint64_t gen = mach->gen;
	struct nvmm_cpu *cpu;
	size_t i;

	atomic_store(&mach->dying, true);
	for (i = 0; i < NVMM_MAX_VCPUS; i++)
		if ((cpu = nvmm_cpu_slot(mach, (nvmm_cpuid_t)i)) != NULL)
			nvmm_cpu_kick(cpu);
	pthread_rwlock_unlock(&mach->lock);
	if (nvmm_destroy_hook != NULL)
		nvmm_destroy_hook(mach->machid);

	pthread_rwlock_wrlock(&mach->lock);
	/* Unless someone else got there first, or the slot was reused. */
	if (mach->present && mach->gen == gen)
		nvmm_machine_free(mach);
	pthread_rwlock_unlock(&mach->lock);
}

void
nvmm_kern_set_destroy_hook(void (*fn)(nvmm_machid_t))
{
	nvmm_destroy_hook = fn;
}

int
nvmm_kern_machine_destroy(struct nvmm_owner *owner, nvmm_machid_t machid)
{
	struct nvmm_machine *mach;
	int error;

	error = nvmm_machine_get(owner, machid, false, &mach);
	if (error)
		return error;
	nvmm_machine_kill(mach);
	return 0;
}

void
nvmm_kern_close(struct nvmm_owner *owner)
{
	struct nvmm_machine *mach;
	size_t i;

	for (i = 0; i < NVMM_MAX_MACHINES; i++) {
		mach = &machines[i];
		pthread_rwlock_rdlock(&mach->lock);
		if (mach->present && mach->owner == owner)
			nvmm_machine_kill(mach);
		else
			pthread_rwlock_unlock(&mach->lock);
	}
	free(owner);
}

int
nvmm_kern_machine_access(struct nvmm_owner *owner, nvmm_machid_t machid)
{
	struct nvmm_machine *mach;
	int error;

	error = nvmm_machine_get(owner, machid, false, &mach);
	if (error == 0)
		nvmm_machine_put(mach);
	return error;
}

int
nvmm_kern_machine_configure(struct nvmm_owner *owner, nvmm_machid_t machid,
    uint64_t op, const void *conf)
{
	struct nvmm_machine *mach;
	uint64_t mdop = NVMM_MACH_CONF_MD(op);
	int error;

	/* As NetBSD: the op first; one below the MD range wraps around. */
	if (mdop >= nvmm_impl->mach_conf_max)
		return EINVAL;
	/* A reader: configuring must not wait for the machine's guests. */
	error = nvmm_machine_get(owner, machid, false, &mach);
	if (error)
		return error;
	error = nvmm_impl->machine_configure(mach, mdop, conf);
	nvmm_machine_put(mach);
	return error;
}

/* -------------------------------------------------------------------------- */

int
nvmm_kern_vcpu_create(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid)
{
	struct nvmm_machine *mach;
	struct nvmm_cpu *cpu;
	struct nvmm_slot *slot;
	int error;

	error = nvmm_machine_get(owner, machid, false, &mach);
	if (error)
		return error;
	if (cpuid >= NVMM_MAX_VCPUS) {
		error = EINVAL;
		goto out;
	}
	if ((cpu = nvmm_cpu_slot_make(mach, cpuid)) == NULL) {
		error = ENOMEM;
		goto out;
	}
	pthread_mutex_lock(&cpu->lock);
	if (cpu->present) {
		/* NetBSD's code says EBUSY, whatever its man page says. */
		error = EBUSY;
		goto out_cpu;
	}
	slot = nvmm_slot(mach->commbase, cpuid);
	memset(slot, 0, sizeof(*slot));
	cpu->comm = &slot->comm;
	cpu->access = &slot->access;
	cpu->data = slot->data;

	error = nvmm_impl->vcpu_create(mach, cpu);
	if (error)
		goto out_cpu;
	nvmm_stats_reset(cpu);
	atomic_store(&cpu->cancelled, false);
	/* Atomic: NVMM_CTL_VCPU_STATS looks without the VCPU lock. */
	__atomic_store_n(&cpu->present, true, __ATOMIC_RELEASE);
	atomic_fetch_add(&mach->ncpus, 1);
out_cpu:
	pthread_mutex_unlock(&cpu->lock);
out:
	nvmm_machine_put(mach);
	return error;
}

int
nvmm_kern_vcpu_destroy(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid)
{
	struct nvmm_machine *mach;
	struct nvmm_cpu *cpu;
	int error;

	error = nvmm_machine_get(owner, machid, false, &mach);
	if (error)
		return error;
	error = nvmm_vcpu_get(mach, cpuid, &cpu);
	if (error)
		goto out;
	nvmm_vcpu_free(mach, cpu);
	nvmm_vcpu_put(cpu);
out:
	nvmm_machine_put(mach);
	return error;
}

int
nvmm_kern_vcpu_configure(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid, uint64_t op, const void *conf)
{
	struct nvmm_machine *mach;
	struct nvmm_cpu *cpu;
	uint64_t mdop = NVMM_VCPU_CONF_MD(op);
	int error;

	if (mdop >= nvmm_impl->vcpu_conf_max)
		return EINVAL;
	error = nvmm_machine_get(owner, machid, false, &mach);
	if (error)
		return error;
	error = nvmm_vcpu_get(mach, cpuid, &cpu);
	if (error)
		goto out;
	error = nvmm_impl->vcpu_configure(cpu, mdop, conf);
	nvmm_vcpu_put(cpu);
out:
	nvmm_machine_put(mach);
	return error;
}

/*
 * The VCPU operations that only differ in what the backend does: look up,
 * lock, call, unlock.
 */
enum nvmm_vcpu_op {
	NVMM_VCPU_OP_SETSTATE,
	NVMM_VCPU_OP_GETSTATE,
	NVMM_VCPU_OP_INJECT,
	NVMM_VCPU_OP_COMPLETE,
};

static int
nvmm_vcpu_call(struct nvmm_cpu *cpu, enum nvmm_vcpu_op op, bool *done)
{
	struct nvmm_comm_page *comm = cpu->comm;
	uint64_t flags;
	int error;

	switch (op) {
	case NVMM_VCPU_OP_SETSTATE:
		flags = NVMM_READ_ONCE(comm->state_wanted) & NVMM_X64_STATE_ALL;
		return nvmm_impl->vcpu_setstate(cpu, flags);
	case NVMM_VCPU_OP_GETSTATE:
		flags = NVMM_READ_ONCE(comm->state_wanted) & NVMM_X64_STATE_ALL;
		error = nvmm_impl->vcpu_getstate(cpu, flags);
		if (error == 0) {
			NVMM_WRITE_ONCE(comm->state_wanted, 0);
			comm->state_cached |= flags;
		}
		return error;
	case NVMM_VCPU_OP_INJECT:
		return nvmm_impl->vcpu_inject(cpu);
	case NVMM_VCPU_OP_COMPLETE:
		return nvmm_impl->vcpu_complete(cpu, done);
	}
	return EINVAL;
}

static int
nvmm_vcpu_op(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid, enum nvmm_vcpu_op op, bool *done)
{
	struct nvmm_machine *mach;
	struct nvmm_cpu *cpu;
	int error;

	error = nvmm_machine_get(owner, machid, false, &mach);
	if (error)
		return error;
	error = nvmm_vcpu_get(mach, cpuid, &cpu);
	if (error == 0) {
		error = nvmm_vcpu_call(cpu, op, done);
		nvmm_vcpu_put(cpu);
	}
	nvmm_machine_put(mach);
	return error;
}

int
nvmm_kern_vcpu_setstate(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid)
{
	return nvmm_vcpu_op(owner, machid, cpuid, NVMM_VCPU_OP_SETSTATE, NULL);
}

int
nvmm_kern_vcpu_getstate(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid)
{
	return nvmm_vcpu_op(owner, machid, cpuid, NVMM_VCPU_OP_GETSTATE, NULL);
}

int
nvmm_kern_vcpu_inject(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid)
{
	return nvmm_vcpu_op(owner, machid, cpuid, NVMM_VCPU_OP_INJECT, NULL);
}

int
nvmm_kern_vcpu_complete(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid, bool *done)
{
	return nvmm_vcpu_op(owner, machid, cpuid, NVMM_VCPU_OP_COMPLETE, done);
}

int
nvmm_kern_vcpu_run(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid, struct nvmm_vcpu_exit *exit)
{
	struct nvmm_machine *mach;
	struct nvmm_cpu *cpu;
	uint64_t start;
	int error;

	error = nvmm_machine_get(owner, machid, false, &mach);
	if (error)
		return error;
	error = nvmm_vcpu_get(mach, cpuid, &cpu);
	if (error == 0) {
		start = nvmm_stats_enter(cpu);
		error = nvmm_impl->vcpu_run(mach, cpu, exit);
		nvmm_stats_leave(cpu, start, error == 0 ? exit : NULL);
		/*
		 * As NetBSD: a stop asked for is consumed by any return.  The
		 * word is written only when set: the client's thread waiting
		 * for this run reads it in its spin, and a store would take
		 * the line from it at every exit.
		 */
		if (NVMM_READ_ONCE(cpu->comm->stop) != 0)
			NVMM_WRITE_ONCE(cpu->comm->stop, 0);
		nvmm_vcpu_put(cpu);
	}
	nvmm_machine_put(mach);
	return error;
}

int
nvmm_kern_vcpu_invalid(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid, char *buf, size_t len)
{
	struct nvmm_machine *mach;
	struct nvmm_cpu *cpu;
	int error;

	if (buf == NULL || len == 0)
		return EINVAL;
	error = nvmm_machine_get(owner, machid, false, &mach);
	if (error)
		return error;
	error = nvmm_vcpu_get(mach, cpuid, &cpu);
	if (error == 0) {
		error = nvmm_impl->vcpu_invalid(cpu, buf, len);
		nvmm_vcpu_put(cpu);
	}
	nvmm_machine_put(mach);
	return error;
}

/* A kick; a cancel also sets the flag that the run loop reads first. */
static int
nvmm_vcpu_kick_op(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid, bool cancel)
{
	struct nvmm_machine *mach;
	struct nvmm_cpu *cpu;
	int error;

	error = nvmm_machine_get(owner, machid, false, &mach);
	if (error)
		return error;
	if (cpuid >= NVMM_MAX_VCPUS) {
		error = EINVAL;
	} else if ((cpu = nvmm_cpu_slot(mach, cpuid)) != NULL) {
		/* No slot: no VCPU of that id was ever made, none runs. */
		if (cancel)
			atomic_store(&cpu->cancelled, true);
		nvmm_cpu_kick(cpu);
	}
	nvmm_machine_put(mach);
	return error;
}

int
nvmm_kern_vcpu_kick(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid)
{
	return nvmm_vcpu_kick_op(owner, machid, cpuid, false);
}

int
nvmm_kern_vcpu_cancel(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid)
{
	return nvmm_vcpu_kick_op(owner, machid, cpuid, true);
}

int
nvmm_kern_vcpu_comm(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid, struct nvmm_comm_page **commp,
    struct nvmm_kern_access **accessp, uint8_t **datap)
{
	struct nvmm_machine *mach;
	struct nvmm_slot *slot;
	int error;

	error = nvmm_machine_get(owner, machid, false, &mach);
	if (error)
		return error;
	if (cpuid >= NVMM_MAX_VCPUS) {
		error = EINVAL;
	} else {
		/* As NetBSD's mmap, this does not ask that the VCPU exist. */
		slot = nvmm_slot(mach->commbase, cpuid);
		*commp = &slot->comm;
		if (accessp != NULL)
			*accessp = &slot->access;
		if (datap != NULL)
			*datap = slot->data;
	}
	nvmm_machine_put(mach);
	return error;
}

int
nvmm_kern_machine_comm_fd(struct nvmm_owner *owner, nvmm_machid_t machid,
    int *fdp)
{
	struct nvmm_machine *mach;
	int error, fd;

	error = nvmm_machine_get(owner, machid, false, &mach);
	if (error)
		return error;
	fd = fcntl(mach->commfd, F_DUPFD_CLOEXEC, 0);
	if (fd == -1)
		error = errno;
	else
		*fdp = fd;
	nvmm_machine_put(mach);
	return error;
}

/* -------------------------------------------------------------------------- */

/* The memory calls differ only in what they do with the machine held. */
static int
nvmm_machine_mem(struct nvmm_owner *owner, nvmm_machid_t machid,
    int (*fn)(struct nvmm_machine *, const struct nvmm_mem_req *),
    const struct nvmm_mem_req *req)
{
	struct nvmm_machine *mach;
	int error;

	error = nvmm_machine_get(owner, machid, false, &mach);
	if (error)
		return error;
	error = fn(mach, req);
	nvmm_machine_put(mach);
	return error;
}

int
nvmm_kern_hva_map(struct nvmm_owner *owner, nvmm_machid_t machid,
    uintptr_t hva, size_t size, int memfd, off_t offset)
{
	const struct nvmm_mem_req req = {
		.hva = hva, .size = size, .memfd = memfd, .offset = offset,
	};

	return nvmm_machine_mem(owner, machid, nvmm_mem_hva_map, &req);
}

int
nvmm_kern_hva_unmap(struct nvmm_owner *owner, nvmm_machid_t machid,
    uintptr_t hva, size_t size)
{
	const struct nvmm_mem_req req = { .hva = hva, .size = size };

	return nvmm_machine_mem(owner, machid, nvmm_mem_hva_unmap, &req);
}

int
nvmm_kern_gpa_map(struct nvmm_owner *owner, nvmm_machid_t machid,
    uintptr_t hva, gpaddr_t gpa, size_t size, int prot)
{
	const struct nvmm_mem_req req = {
		.hva = hva, .gpa = gpa, .size = size, .prot = prot,
	};

	return nvmm_machine_mem(owner, machid, nvmm_mem_gpa_map, &req);
}

int
nvmm_kern_gpa_unmap(struct nvmm_owner *owner, nvmm_machid_t machid,
    gpaddr_t gpa, size_t size)
{
	const struct nvmm_mem_req req = { .gpa = gpa, .size = size };

	return nvmm_machine_mem(owner, machid, nvmm_mem_gpa_unmap, &req);
}

/* -------------------------------------------------------------------------- */

size_t
nvmm_kern_ioctls(const unsigned long **reqsp)
{
	*reqsp = nvmm_impl->ioctls;
	return nvmm_impl->nioctls;
}
