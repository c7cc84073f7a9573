/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * kernel/ internals shared by the machine-independent core (nvmm.c,
 * nvmm_mem.c) and the machine-dependent backend (nvmm_x86_kvm*.c).
 */
#ifndef NVMM_INTERNAL_H
#define NVMM_INTERNAL_H

#include <bsd/sys/queue.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "nvmm_kern.h"
#include "nvmm_doorbell.h"	/* nvmm_now_ns */

/* NVMM_MAX_MACHINES, NVMM_MAX_VCPUS and the page size: nvmm_kern.h. */
#define NVMM_MAX_HMAPPINGS	32
#define NVMM_MAX_RAM		(128ULL << 30)

/*
 * KVM slot numbers per machine.  A map splits at most one slot in two and
 * adds one, so it never needs more than two free numbers.
 */
#define NVMM_MAX_GSLOTS		1024


struct nvmm_owner {
	pid_t pid;
	uid_t uid;		/* whom its machines are charged to */
	bool root;
};

/*
 * Memory the caller gave with hva_map, mapped here.  Guest slots hold a
 * reference, so that hva_unmap leaves what the guest sees in place, as
 * NetBSD's object references do.
 */
struct nvmm_hmapping {
	uintptr_t hva;		/* the caller's address: the key */
	size_t size;
	void *uva;		/* where it is mapped in this process */
	unsigned refs;
};

/* One KVM memory slot: a guest range backed by part of an hmapping. */
struct nvmm_gslot {
	TAILQ_ENTRY(nvmm_gslot) link;
	uint32_t slot;
	gpaddr_t gpa;
	size_t size;
	struct nvmm_hmapping *hmap;
	size_t hmoff;
	int prot;
};
TAILQ_HEAD(nvmm_gslot_list, nvmm_gslot);

struct nvmm_cpu {
	pthread_mutex_t lock;		/* held by every op, the whole run */
	bool present;
	nvmm_cpuid_t cpuid;
	struct nvmm_comm_page *comm;
	struct nvmm_kern_access *access;
	uint8_t *data;			/* NVMM_KERN_ACCESS_DATA_MAX bytes */
	void *cpudata;			/* backend */

	/* Who is inside KVM_RUN, for kicks; see nvmm_cpu_kick(). */
	pthread_mutex_t kick_lock;
	bool running;
	pthread_t runner;
	/* Set before the kick of a cancel; cleared when the VCPU is made. */
	atomic_bool cancelled;

	/*
	 * NVMM_CTL_VCPU_STATS: written by the runner under the VCPU lock,
	 * read without it (the lock is held for the whole run), so atomic.
	 */
	uint64_t nruns;
	uint64_t run_ns;
	uint64_t run_since;		/* start of the run under way, or 0 */
	uint64_t exits[NVMM_CTL_STATS_NEXITS];
};

struct nvmm_machine {
	pthread_rwlock_t lock;	/* writer: create, destroy; reader: the rest */
	/* Written under the writer lock; read without it to find free slots. */
	atomic_bool present;
	nvmm_machid_t machid;
	uint64_t gen;		/* tells one life of the slot from the next */
	struct timespec created;	/* CLOCK_REALTIME */
	uint8_t uuid[NVMM_UUID_SIZE];	/* never reused, unlike machid */
	struct nvmm_owner *owner;
	char comm[16];		/* the creator's command name, for ctl */
	atomic_bool dying;	/* destroy waits for runs; runs see this */

	atomic_uint ncpus;
	/*
	 * NVMM_MAX_VCPUS slots, each made by the first create of its cpuid
	 * and kept until the machine goes (nvmm_cpu_slot): an idle machine
	 * pays for the VCPUs it has had, not for 256 locks and counters.
	 */
	struct nvmm_cpu **cpus;

	int commfd;		/* comm pages of all VCPUs */
	uint8_t *commbase;

	pthread_mutex_t memlock;	/* hmap, gslots, nram */
	struct nvmm_hmapping *hmap[NVMM_MAX_HMAPPINGS];
	struct nvmm_gslot_list gslots;
	uint64_t slotmap[NVMM_MAX_GSLOTS / 64];
	uint64_t nram;

	void *machdata;		/* backend */
};

/* The slot of cpuid (< NVMM_MAX_VCPUS), or NULL: no such VCPU ever made. */
static inline struct nvmm_cpu *
nvmm_cpu_slot(const struct nvmm_machine *mach, nvmm_cpuid_t cpuid)
{
	return __atomic_load_n(&mach->cpus[cpuid], __ATOMIC_ACQUIRE);
}

/*
 * The backend: NetBSD's nvmm_impl, for KVM on x86.  Calls are made with
 * the machine lock held (as writer for machine_create/destroy) and, for
 * VCPU calls, the VCPU lock.  They return 0 or an errno value.
 */
struct nvmm_impl {
	int (*init)(void);
	void (*capability)(struct nvmm_capability *);

	/* The number of MD conf ops; their sizes: nvmm_kern_vcpu_conf_size. */
	size_t mach_conf_max;
	size_t vcpu_conf_max;

	int (*machine_create)(struct nvmm_machine *);
	void (*machine_destroy)(struct nvmm_machine *);
	int (*machine_configure)(struct nvmm_machine *, uint64_t, const void *);

	int (*vcpu_create)(struct nvmm_machine *, struct nvmm_cpu *);
	void (*vcpu_destroy)(struct nvmm_machine *, struct nvmm_cpu *);
	int (*vcpu_configure)(struct nvmm_cpu *, uint64_t, const void *);
	int (*vcpu_setstate)(struct nvmm_cpu *, uint64_t flags);
	int (*vcpu_getstate)(struct nvmm_cpu *, uint64_t flags);
	int (*vcpu_inject)(struct nvmm_cpu *);
	int (*vcpu_run)(struct nvmm_machine *, struct nvmm_cpu *,
	    struct nvmm_vcpu_exit *);
	int (*vcpu_complete)(struct nvmm_cpu *, bool *);
	void (*vcpu_kick)(struct nvmm_cpu *);
	int (*vcpu_invalid)(struct nvmm_cpu *, char *, size_t);

	int (*memslot_set)(struct nvmm_machine *, const struct nvmm_gslot *,
	    bool present);

	const unsigned long *ioctls;	/* every request the backend makes */
	size_t nioctls;
};

extern const struct nvmm_impl nvmm_x86_kvm;
extern const struct nvmm_impl *const nvmm_impl;	/* the one in use */

/* nvmm_mem.c: the arguments of the four memory calls, each using some. */
struct nvmm_mem_req {
	uintptr_t hva;
	gpaddr_t gpa;
	size_t size;
	int memfd;
	off_t offset;
	int prot;
};

void	nvmm_mem_init(struct nvmm_machine *);
void	nvmm_mem_fini(struct nvmm_machine *);
int	nvmm_mem_hva_map(struct nvmm_machine *, const struct nvmm_mem_req *);
int	nvmm_mem_hva_unmap(struct nvmm_machine *, const struct nvmm_mem_req *);
int	nvmm_mem_gpa_map(struct nvmm_machine *, const struct nvmm_mem_req *);
int	nvmm_mem_gpa_unmap(struct nvmm_machine *, const struct nvmm_mem_req *);
uint64_t nvmm_mem_nram(struct nvmm_machine *);
size_t	nvmm_mem_read(struct nvmm_machine *, gpaddr_t, void *, size_t);

/* nvmm.c: shared with the backend for the run loop. */
void	nvmm_cpu_enter(struct nvmm_cpu *);
void	nvmm_cpu_leave(struct nvmm_cpu *);

/* nvmm.c: the machine table, for nvmm_ctl.c. */
int	nvmm_machine_get(struct nvmm_owner *, nvmm_machid_t, bool writer,
	    struct nvmm_machine **);
void	nvmm_machine_put(struct nvmm_machine *);
bool	nvmm_owner_may(const struct nvmm_owner *,
	    const struct nvmm_machine *);

/* nvmm_ctl.c: a VCPU's statistics, kept by the run. */
void	nvmm_stats_reset(struct nvmm_cpu *);
uint64_t nvmm_stats_enter(struct nvmm_cpu *);
void	nvmm_stats_leave(struct nvmm_cpu *, uint64_t start,
	    const struct nvmm_vcpu_exit *);

/*
 * Whether a run must end now: its machine or its VCPU is going away.  The
 * flags stay set, so the run loop sees them whenever it looks, even when
 * the kick that followed them was spent on a KVM_RUN already returning.
 */
static inline bool
nvmm_cpu_doomed(struct nvmm_machine *mach, struct nvmm_cpu *cpu)
{
	return atomic_load(&mach->dying) || atomic_load(&cpu->cancelled);
}

#endif /* NVMM_INTERNAL_H */
