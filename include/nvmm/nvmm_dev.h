/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmm_dev.h: the machine-independent definitions shared by the NVMM
 * "driver" and its users: id and address types, the interface version,
 * the capability, conf-op numbering, the per-VCPU comm page and its mmap
 * offset encoding, and the NVMM_CTL_MACH_INFO query.  Corresponds to
 * NetBSD's <dev/nvmm/nvmm.h> (plus the ctl part of <dev/nvmm/nvmm_ioctl.h>).
 */

#ifndef _NVMM_NVMM_DEV_H_
#define _NVMM_NVMM_DEV_H_

#if !defined(__x86_64__)
#error "NVMM: only x86_64 (LP64) is supported; the layouts below assume it"
#endif

#include <sys/types.h>
#include <stdint.h>
#ifndef __cplusplus
#include <stdbool.h>			/* bool is part of the shared layouts */
#endif

#include <nvmm/nvmm_compat.h>

typedef uint64_t	gpaddr_t;	/* guest physical address */
typedef uint64_t	gvaddr_t;	/* guest virtual address */
typedef uint32_t	nvmm_machid_t;
typedef uint32_t	nvmm_cpuid_t;	/* a VCPU number, not the instruction */

/*
 * Bumped on every incompatible change of what crosses the user/driver
 * boundary.  1: NetBSD 9.0.  2: the comm page gained "stop".
 */
#define NVMM_KERN_VERSION		2

/*
 * Conf ops are split in ranges: [0,100) are consumed by libnvmm and never
 * reach the driver, [100,200) are reserved for machine-independent driver
 * ops (none exist), and from 200 on they are machine-dependent.  The MD()
 * macros turn an op into an index into the backend's table; the unsigned
 * subtraction makes every op below 200 a huge index, which the driver
 * rejects with a single bound check.
 */
#define NVMM_MACH_CONF_LIBNVMM_BEGIN	0
#define NVMM_MACH_CONF_MI_BEGIN		100
#define NVMM_MACH_CONF_MD_BEGIN		200
#define NVMM_MACH_CONF_MD(op)		((op) - NVMM_MACH_CONF_MD_BEGIN)

#define NVMM_VCPU_CONF_LIBNVMM_BEGIN	0
#define NVMM_VCPU_CONF_MI_BEGIN		100
#define NVMM_VCPU_CONF_MD_BEGIN		200
#define NVMM_VCPU_CONF_MD(op)		((op) - NVMM_VCPU_CONF_MD_BEGIN)

/*
 * The machine-dependent half comes here, after the types and op bases it
 * uses, and before the structures that embed its types.
 */
#include <nvmm/nvmm_x86.h>

struct nvmm_capability {
	uint32_t version;		/* NVMM_KERN_VERSION of the driver */
	uint32_t state_size;		/* sizeof(struct nvmm_vcpu_state) */
	uint32_t max_machines;
	uint32_t max_vcpus;		/* per machine */
	uint64_t max_ram;		/* size of the guest physical space */
	struct nvmm_cap_md arch;
};

/*
 * Shared between userland and the driver, one per VCPU, so that state
 * access and event injection need no system call.  The three masks are
 * NVMM_X64_STATE_* groups: "wanted" asks the driver to fetch groups into
 * "state" on the next getstate, "cached" says which groups of "state" are
 * current, "commit" says which groups userland changed and the driver must
 * load before the next run.  Must fit in one page.
 */
struct nvmm_comm_page {
	uint64_t state_wanted;
	uint64_t state_cached;
	uint64_t state_commit;
	struct nvmm_vcpu_state state;

	bool event_commit;		/* inject "event" at the next run */
	struct nvmm_vcpu_event event;

	/* Set by nvmm_vcpu_stop(), possibly from a signal handler. */
	volatile int stop;
};

/*
 * mmap offset of a VCPU's comm page on the driver fd: 8 bits of machine
 * id, 8 bits of VCPU id, page aligned.
 */
#define NVMM_COMM_OFF(machid, cpuid)					\
	((((uint64_t)(machid) & 0xFFULL) << 20) |			\
	 (((uint64_t)(cpuid) & 0xFFULL) << 12))
#define NVMM_COMM_MACHID(off)		(((uint64_t)(off) >> 20) & 0xFF)
#define NVMM_COMM_CPUID(off)		(((uint64_t)(off) >> 12) & 0xFF)

/*
 * nvmm_ctl() operations.  NVMM_CTL_MACH_INFO: in machid, out the rest;
 * nram counts the bytes of host memory registered with nvmm_hva_map().
 */
#define NVMM_CTL_MACH_INFO		0

struct nvmm_ctl_mach_info {
	nvmm_machid_t machid;
	uint32_t nvcpus;
	uint64_t nram;
	pid_t pid;			/* owner */
	time_t time;			/* creation, seconds since the Epoch */
};

/*
 * nvmmd's extensions of nvmm_ctl(), not in NetBSD.  Their op numbers start
 * at 0x100 so that ops NetBSD may add cannot collide with them.  As with
 * NVMM_CTL_MACH_INFO, `size' must be the size of the structure.  A normal
 * owner (nvmm_init) sees only its own machines; the root owner
 * (nvmm_root_init) and monitors see every machine; only the root owner
 * may kill.
 */

/* Every machine the caller may see, as a bitmap: bit n is machine n. */
#define NVMM_CTL_MACH_LIST		0x100

struct nvmm_ctl_mach_list {
	uint64_t machids[2];		/* out */
};

/*
 * Destroys a machine, whoever owns it.  Its owner's nvmm_vcpu_run() in
 * progress returns -1 with ENOENT at once; its other machines live on.
 */
#define NVMM_CTL_MACH_KILL		0x101

struct nvmm_ctl_mach_kill {
	nvmm_machid_t machid;		/* in */
};

/* Who created a machine. */
#define NVMM_CTL_MACH_OWNER		0x102

struct nvmm_ctl_mach_owner {
	nvmm_machid_t machid;		/* in */
	uid_t uid;			/* out */
	pid_t pid;			/* out */
	char comm[16];			/* out: its command name */
};

/* What a VCPU has done: runs, time in the guest, exits by reason. */
#define NVMM_CTL_VCPU_STATS		0x103

#define NVMM_CTL_STATS_EXIT_NONE	0
#define NVMM_CTL_STATS_EXIT_MEMORY	1
#define NVMM_CTL_STATS_EXIT_IO		2
#define NVMM_CTL_STATS_EXIT_SHUTDOWN	3
#define NVMM_CTL_STATS_EXIT_INT_READY	4
#define NVMM_CTL_STATS_EXIT_NMI_READY	5
#define NVMM_CTL_STATS_EXIT_HALTED	6
#define NVMM_CTL_STATS_EXIT_TPR_CHANGED	7
#define NVMM_CTL_STATS_EXIT_RDMSR	8
#define NVMM_CTL_STATS_EXIT_WRMSR	9
#define NVMM_CTL_STATS_EXIT_MONITOR	10
#define NVMM_CTL_STATS_EXIT_MWAIT	11
#define NVMM_CTL_STATS_EXIT_CPUID	12
#define NVMM_CTL_STATS_EXIT_STOPPED	13
#define NVMM_CTL_STATS_EXIT_INVALID	14
#define NVMM_CTL_STATS_NEXITS		16

struct nvmm_ctl_vcpu_stats {
	nvmm_machid_t machid;		/* in */
	nvmm_cpuid_t cpuid;		/* in */
	uint64_t nruns;			/* out: runs */
	uint64_t run_ns;		/* out: nanoseconds inside runs */
	uint64_t exits[NVMM_CTL_STATS_NEXITS];	/* out: by reason */
};

/*
 * Who a machine is for its whole life: a random (version 4) UUID and its
 * creation time.  Its id is reused once it is gone; its UUID never is.
 */
#define NVMM_CTL_MACH_IDENT		0x104

#define NVMM_UUID_SIZE			16

struct nvmm_ctl_mach_ident {
	nvmm_machid_t machid;		/* in */
	uint32_t created_nsec;		/* out: creation, CLOCK_REALTIME */
	int64_t created_sec;		/* out */
	uint8_t uuid[NVMM_UUID_SIZE];	/* out */
};

/*
 * Every machine and VCPU of the host at once, as nvmmd's HostStats
 * request returns them (nvmm.proto): not an nvmm_ctl() op, because the
 * answer has no bound below a packet's.  One record per machine, then
 * one per VCPU, each VCPU after its machine's record.
 */
struct nvmm_ctl_host_mach {
	nvmm_machid_t machid;
	uint32_t nvcpus;
	uid_t uid;			/* its creator, as MACH_OWNER */
	pid_t pid;
	int64_t created_sec;		/* as MACH_IDENT */
	uint32_t created_nsec;
	uint8_t uuid[NVMM_UUID_SIZE];
	char comm[16];
	uint64_t nram;
};

struct nvmm_ctl_host_vcpu {
	nvmm_machid_t machid;
	nvmm_cpuid_t cpuid;
	uint64_t nruns;			/* as VCPU_STATS */
	uint64_t run_ns;
	uint64_t exits[NVMM_CTL_STATS_NEXITS];
};

#endif /* !_NVMM_NVMM_DEV_H_ */
