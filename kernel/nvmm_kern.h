/*
 * The NVMM "driver": NetBSD's /dev/nvmm semantics as C calls on an owner
 * handle, implemented over /dev/kvm.  One call per NVMM ioctl; where NetBSD
 * passes a user address the caller passes what a daemon can receive from a
 * client instead (a memfd and the client's address as the key).
 *
 * Every call returns 0 or a positive errno value, as the kernel does; none
 * of them sets errno.  All calls are thread-safe.
 */
#ifndef NVMM_KERN_H
#define NVMM_KERN_H

#include <sys/types.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>

#include <nvmm/nvmm_dev.h>

struct nvmm_owner;

/*
 * The driver's limits, NetBSD's, which nvmm_kern_capability() reports.
 * They are defined here, once, for whatever is laid out by them: the
 * machine table, a machine's VCPU slots and comm memfd (a stride per
 * VCPU), the daemon's tables, libnvmmclient's mapping of the comm memfd.
 */
#define NVMM_MAX_MACHINES	128
#define NVMM_MAX_VCPUS		256
#define NVMM_PAGE_SIZE		4096UL	/* the x86 page, as guest and host */
#define NVMM_PAGE_MASK		(NVMM_PAGE_SIZE - 1)

_Static_assert(sizeof(((struct nvmm_ctl_mach_list *)0)->machids) * CHAR_BIT
    >= NVMM_MAX_MACHINES, "NVMM_CTL_MACH_LIST cannot name every machine");

/*
 * A value in memory another process can rewrite at any moment (the comm
 * pages): read exactly once, then only the copy is used.
 */
#define NVMM_READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#define NVMM_WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))

/*
 * A bool of shared memory holds whatever byte the other process wrote, and
 * loading anything but 0 or 1 as a bool is undefined: it is read once as
 * the byte it is, and another value is refused with EINVAL.
 */
_Static_assert(sizeof(bool) == sizeof(uint8_t), "bool is not one byte");

static inline int
nvmm_read_bool_once(const bool *p, bool *valuep)
{
	uint8_t byte = NVMM_READ_ONCE(*(const uint8_t *)(const void *)p);

	if (byte > 1)
		return EINVAL;
	*valuep = byte != 0;
	return 0;
}

/*
 * The signal that kicks a VCPU thread out of KVM_RUN.  kernel/ installs a
 * no-op handler for it; a process using kernel/ must leave it alone.
 */
#define NVMM_KERN_KICK_SIGNAL	(SIGRTMIN + 0)

/* Pages per VCPU in the machine's comm memfd: the comm page, then data. */
#define NVMM_KERN_COMM_PAGES	2
#define NVMM_KERN_COMM_STRIDE	(NVMM_KERN_COMM_PAGES * NVMM_PAGE_SIZE)

/*
 * The data phase of the IO or MMIO access that the last exit reported and
 * that KVM has yet to finish.  Its header lies in the comm page at
 * NVMM_KERN_ACCESS_OFFSET, its data fills the VCPU's second page.  The
 * emulator (an assist) reads OUT and write data there, puts IN and read
 * data there, and sets `handled'; kernel/ copies and validates what it
 * takes from it.
 */
#define NVMM_KERN_ACCESS_OFFSET		2048
#define NVMM_KERN_ACCESS_DATA_MAX	NVMM_PAGE_SIZE

struct nvmm_kern_access {
	uint32_t pending;	/* set by kernel/: KVM waits for this access */
	uint32_t handled;	/* set by the emulator: data phase done */
	uint32_t is_io;		/* IO port access, else MMIO */
	uint32_t write;		/* OUT or MMIO write */
	uint32_t size;		/* bytes per element */
	uint32_t count;		/* elements (> 1 for batched string IO) */
	uint64_t addr;		/* port or GPA */
};

/*
 * Owners: each records the pid and uid of its process (the uid is whom
 * NVMM_CTL_MACH_OWNER names as a machine's creator); a root owner may
 * operate every machine.
 */
int	nvmm_kern_open(struct nvmm_owner **ownerp, pid_t pid, uid_t uid,
	    bool root);
void	nvmm_kern_close(struct nvmm_owner *owner);
pid_t	nvmm_kern_owner_pid(const struct nvmm_owner *owner);

int	nvmm_kern_capability(struct nvmm_owner *owner,
	    struct nvmm_capability *cap);

int	nvmm_kern_machine_create(struct nvmm_owner *owner,
	    nvmm_machid_t *machidp);
int	nvmm_kern_machine_destroy(struct nvmm_owner *owner,
	    nvmm_machid_t machid);
/* 0 if owner may operate the machine, else what any call would say. */
int	nvmm_kern_machine_access(struct nvmm_owner *owner,
	    nvmm_machid_t machid);
int	nvmm_kern_machine_configure(struct nvmm_owner *owner,
	    nvmm_machid_t machid, uint64_t op, const void *conf);

int	nvmm_kern_vcpu_create(struct nvmm_owner *owner, nvmm_machid_t machid,
	    nvmm_cpuid_t cpuid);
int	nvmm_kern_vcpu_destroy(struct nvmm_owner *owner, nvmm_machid_t machid,
	    nvmm_cpuid_t cpuid);
/* conf holds nvmm_kern_vcpu_conf_size(op) bytes. */
int	nvmm_kern_vcpu_configure(struct nvmm_owner *owner,
	    nvmm_machid_t machid, nvmm_cpuid_t cpuid, uint64_t op,
	    const void *conf);
int	nvmm_kern_vcpu_setstate(struct nvmm_owner *owner,
	    nvmm_machid_t machid, nvmm_cpuid_t cpuid);
int	nvmm_kern_vcpu_getstate(struct nvmm_owner *owner,
	    nvmm_machid_t machid, nvmm_cpuid_t cpuid);
int	nvmm_kern_vcpu_inject(struct nvmm_owner *owner, nvmm_machid_t machid,
	    nvmm_cpuid_t cpuid);
int	nvmm_kern_vcpu_run(struct nvmm_owner *owner, nvmm_machid_t machid,
	    nvmm_cpuid_t cpuid, struct nvmm_vcpu_exit *exit);

/*
 * Hands KVM the data phase in the access page and lets it finish the
 * instruction.  Returns 0 with *done set when the instruction completed
 * (GPRS|SEGS|CRS|MSRS are then cached in the comm page, showing it done),
 * or with *done clear when the same instruction needs one more access,
 * now described in the access page (a read-modify-write, MOVS).
 */
int	nvmm_kern_vcpu_complete(struct nvmm_owner *owner,
	    nvmm_machid_t machid, nvmm_cpuid_t cpuid, bool *done);

/*
 * Describes in words, for a log, why the VCPU's last run ended in
 * NVMM_VCPU_EXIT_INVALID: KVM's exit reason, its internal-error sub-code
 * and data, RIP and the instruction bytes.  Once per such exit: ENOENT
 * when there is none left to describe.
 */
int	nvmm_kern_vcpu_invalid(struct nvmm_owner *owner, nvmm_machid_t machid,
	    nvmm_cpuid_t cpuid, char *buf, size_t len);

/*
 * Makes a VCPU that is inside nvmm_kern_vcpu_run() look at its comm page
 * now, so that a stop set there is seen at once.  Never blocks on the run.
 */
int	nvmm_kern_vcpu_kick(struct nvmm_owner *owner, nvmm_machid_t machid,
	    nvmm_cpuid_t cpuid);

/*
 * For a caller about to tear the VCPU down: its run under way returns
 * ENOENT within one guest exit whatever the guest does, and so does every
 * later run until the VCPU is made again.  Never blocks on the run.
 */
int	nvmm_kern_vcpu_cancel(struct nvmm_owner *owner, nvmm_machid_t machid,
	    nvmm_cpuid_t cpuid);

/*
 * The VCPU's comm page, its access header and data as mapped in this
 * process (for in-process use).
 */
int	nvmm_kern_vcpu_comm(struct nvmm_owner *owner, nvmm_machid_t machid,
	    nvmm_cpuid_t cpuid, struct nvmm_comm_page **commp,
	    struct nvmm_kern_access **accessp, uint8_t **datap);

/*
 * A new descriptor of the machine's comm memfd, for a client to map; VCPU
 * n's pages start at n * NVMM_KERN_COMM_STRIDE.  The caller closes it.
 */
int	nvmm_kern_machine_comm_fd(struct nvmm_owner *owner,
	    nvmm_machid_t machid, int *fdp);

/*
 * Memory.  hva_map maps size bytes of memfd at offset into this process;
 * hva is the caller's own address for that memory, the key that gpa_map
 * and hva_unmap name it by.  The memfd must be sealed against shrinking
 * and large enough; kernel/ does not keep the descriptor.
 */
int	nvmm_kern_hva_map(struct nvmm_owner *owner, nvmm_machid_t machid,
	    uintptr_t hva, size_t size, int memfd, off_t offset);
int	nvmm_kern_hva_unmap(struct nvmm_owner *owner, nvmm_machid_t machid,
	    uintptr_t hva, size_t size);
int	nvmm_kern_gpa_map(struct nvmm_owner *owner, nvmm_machid_t machid,
	    uintptr_t hva, gpaddr_t gpa, size_t size, int prot);
int	nvmm_kern_gpa_unmap(struct nvmm_owner *owner, nvmm_machid_t machid,
	    gpaddr_t gpa, size_t size);

/*
 * NVMM_CTL (nvmm_ctl.c): NetBSD's MACH_INFO and nvmmd's LIST, OWNER,
 * VCPU_STATS and MACH_KILL, a machine_destroy by whoever may operate the
 * machine (nvmmd lets only admins ask).
 */
int	nvmm_kern_ctl(struct nvmm_owner *owner, int op, void *data,
	    size_t size);

/*
 * A process that runs VCPUs from threads of its own (nvmmd) is told of
 * every machine that goes, however it goes (destroy, MACH_KILL, its
 * owner's close): fn(machid) is called after the machine's runs were
 * told to end and before its comm pages are unmapped, with no lock held,
 * so that it can stop the threads that read them.  Set once, before any
 * machine is made.
 */
void	nvmm_kern_set_destroy_hook(void (*fn)(nvmm_machid_t machid));

/*
 * The ioctl requests kernel/ may make, for a process that allows no
 * other (seccomp).  Returns their number; *reqsp points to them.
 */
size_t	nvmm_kern_ioctls(const unsigned long **reqsp);

/*
 * The size of the structure of each VCPU conf op the driver takes
 * (NetBSD's per-op table), or 0 for an op it does not know.  Whoever
 * copies a configuration across (libnvmmclient into the doorbell) copies
 * exactly this much of the caller's.
 */
static inline size_t
nvmm_kern_vcpu_conf_size(uint64_t op)
{
	static const size_t sizes[NVMM_X86_VCPU_NCONF] = {
		[NVMM_VCPU_CONF_MD(NVMM_VCPU_CONF_CPUID)] =
		    sizeof(struct nvmm_vcpu_conf_cpuid),
		[NVMM_VCPU_CONF_MD(NVMM_VCPU_CONF_TPR)] =
		    sizeof(struct nvmm_vcpu_conf_tpr),
	};

	if (NVMM_VCPU_CONF_MD(op) >= NVMM_X86_VCPU_NCONF)
		return 0;
	return sizes[NVMM_VCPU_CONF_MD(op)];
}

#endif /* NVMM_KERN_H */
