/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * What the daemon (kernel/), libnvmmclient and the tests share about a
 * machine's comm memfd, laid out once: the driver's limits, and one
 * struct nvmm_slot per VCPU holding, in order,
 *
 *	0	NetBSD's struct nvmm_comm_page (state, events, stop)
 *	2048	the access header: the IO or MMIO data phase KVM waits for
 *	3072	the doorbell (proto/nvmm_doorbell.h)
 *	4096	the access data page
 *
 * Every boundary is asserted below; nobody computes an offset by hand.
 * Everything here is memory another process can rewrite at any moment.
 */
#ifndef NVMM_SLOT_H
#define NVMM_SLOT_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvmm/nvmm_dev.h>

#include "nvmm_doorbell.h"

/*
 * The driver's limits, NetBSD's, which nvmm_kern_capability() reports.
 * Defined here, once, for whatever is laid out by them: the machine table,
 * a machine's VCPU slots and comm memfd, the daemon's tables,
 * libnvmmclient's mapping of the comm memfd.
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

/* Every op of nvmm_kern_vcpu_conf_size() fits in the doorbell's conf. */
_Static_assert(sizeof(struct nvmm_vcpu_conf_cpuid) <= NVMM_DOORBELL_CONF_MAX &&
    sizeof(struct nvmm_vcpu_conf_tpr) <= NVMM_DOORBELL_CONF_MAX,
    "a VCPU configuration does not fit in the doorbell");

/*
 * The data phase of the IO or MMIO access that the last exit reported and
 * that KVM has yet to finish: the header, and its data in the slot's data
 * page.  The emulator (an assist) reads OUT and write data there, puts IN
 * and read data there, and sets `handled'; kernel/ copies and validates
 * what it takes from it.
 */
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

#define NVMM_SLOT_ACCESS_OFFSET		2048
#define NVMM_SLOT_DOORBELL_OFFSET	3072

/* One VCPU's part of the comm memfd: the comm page, then the data page. */
struct nvmm_slot {
	struct nvmm_comm_page comm;
	uint8_t pad0[NVMM_SLOT_ACCESS_OFFSET - sizeof(struct nvmm_comm_page)];
	struct nvmm_kern_access access;
	uint8_t pad1[NVMM_SLOT_DOORBELL_OFFSET - NVMM_SLOT_ACCESS_OFFSET -
	    sizeof(struct nvmm_kern_access)];
	struct nvmm_doorbell doorbell;
	uint8_t pad2[NVMM_PAGE_SIZE - NVMM_SLOT_DOORBELL_OFFSET -
	    sizeof(struct nvmm_doorbell)];
	uint8_t data[NVMM_KERN_ACCESS_DATA_MAX];
};

/*
 * The pads above fail to compile if a part outgrows its room; these say
 * where each part is, for the other process that maps the same memory.
 */
_Static_assert(offsetof(struct nvmm_slot, comm) == 0,
    "the comm page does not start the slot");
_Static_assert(offsetof(struct nvmm_slot, access) == NVMM_SLOT_ACCESS_OFFSET,
    "the access header moved");
_Static_assert(offsetof(struct nvmm_slot, doorbell) ==
    NVMM_SLOT_DOORBELL_OFFSET, "the doorbell moved");
_Static_assert(offsetof(struct nvmm_slot, data) == NVMM_PAGE_SIZE,
    "the data page is not the slot's second page");
_Static_assert(sizeof(struct nvmm_slot) == 2 * NVMM_PAGE_SIZE,
    "a slot is not two pages");

/* A machine's comm memfd: one slot per VCPU id. */
#define NVMM_SLOT_SIZE		sizeof(struct nvmm_slot)
#define NVMM_SLOTS_SIZE		(NVMM_MAX_VCPUS * NVMM_SLOT_SIZE)

static inline struct nvmm_slot *
nvmm_slot(void *base, uint32_t cpuid)
{
	return (struct nvmm_slot *)base + cpuid;
}

/* The slot whose comm page this is. */
static inline struct nvmm_slot *
nvmm_slot_of(struct nvmm_comm_page *comm)
{
	return (struct nvmm_slot *)(void *)comm;
}

#endif /* NVMM_SLOT_H */
