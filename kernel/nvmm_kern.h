/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
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

#include "nvmm_slot.h"	/* limits, the comm memfd's layout */

struct nvmm_owner;

/*
 * The signal that kicks a VCPU thread out of KVM_RUN.  kernel/ installs a
 * no-op handler for it; a process using kernel/ must leave it alone.
 */
#define NVMM_KERN_KICK_SIGNAL	(SIGRTMIN + 0)

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
/*
 * A machine with the id machid, for a process whose ids another hands
 * out (nvmmd's workers): EBUSY if this process has one by that id.
 */
int	nvmm_kern_machine_create_at(struct nvmm_owner *owner,
	    nvmm_machid_t machid);
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
 * n's pages are nvmm_slot(base, n).  The caller closes it.
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
 * VCPU_STATS, MACH_IDENT and MACH_KILL, a machine_destroy by whoever may operate the
 * machine (nvmmd lets only admins ask).
 */
int	nvmm_kern_ctl(struct nvmm_owner *owner, int op, void *data,
	    size_t size);
/* The size an op's data must have; 0 for an op there is not. */
size_t	nvmm_kern_ctl_size(int op);

/*
 * Every machine owner may see and all their VCPUs, each machine read
 * under its lock: machs and vcpus have room for maxmachs and maxvcpus
 * records; nmachs and nvcpus say how many there are.  ENOSPC when that
 * is more than the room (the records that fit are filled): the caller
 * asks again with more.
 */
struct nvmm_kern_host {
	struct nvmm_ctl_host_mach *machs;	/* in */
	size_t maxmachs;			/* in */
	struct nvmm_ctl_host_vcpu *vcpus;	/* in */
	size_t maxvcpus;			/* in */
	size_t nmachs;				/* out */
	size_t nvcpus;				/* out */
};

int	nvmm_kern_host_stats(struct nvmm_owner *owner,
	    struct nvmm_kern_host *h);

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

#endif /* NVMM_KERN_H */
