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

#endif /* !_NVMM_NVMM_DEV_H_ */
