/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmm.h: the libnvmm programming interface, as NetBSD's <nvmm.h>, for
 * emulators driving NVMM virtual machines (see libnvmm(3)).  Every int
 * function returns 0 on success, or -1 with errno set.
 */

#ifndef _NVMM_H_
#define _NVMM_H_

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include <nvmm/nvmm_dev.h>

/*
 * The libnvmm API level: 2 added nvmm_vcpu_stop() and
 * NVMM_VCPU_EXIT_STOPPED.  Emulators test it with #if.
 */
#define NVMM_USER_VERSION		2

/*
 * Access rights, as reported by nvmm_gva_to_gpa() and nvmm_gpa_to_hva().
 * nvmm_gpa_map() takes mmap(2) PROT_* values instead; READ, WRITE and EXEC
 * have the same numeric values in both.
 */
typedef uint64_t nvmm_prot_t;

#define NVMM_PROT_READ			0x01
#define NVMM_PROT_WRITE			0x02
#define NVMM_PROT_EXEC			0x04
#define NVMM_PROT_USER			0x08
#define NVMM_PROT_ALL			0x0F

/*
 * VCPU conf op handled by libnvmm itself: conf is a
 * struct nvmm_assist_callbacks *, copied into the VCPU.
 */
#define NVMM_VCPU_CONF_CALLBACKS	NVMM_VCPU_CONF_LIBNVMM_BEGIN

struct nvmm_io;
struct nvmm_mem;

/*
 * Called by nvmm_assist_io() and nvmm_assist_mem() to perform the device
 * side of the access.  Either may be NULL if that assist is not used.
 */
struct nvmm_assist_callbacks {
	void (*io)(struct nvmm_io *);
	void (*mem)(struct nvmm_mem *);
};

/* Opaque to users: filled by nvmm_machine_create(). */
struct nvmm_machine {
	nvmm_machid_t machid;
	struct nvmm_comm_page **pages;	/* indexed by VCPU id */
	void *areas;			/* libnvmm's: GPA areas, comm, VCPUs */
};

/*
 * Filled by nvmm_vcpu_create().  state, event and stop point into the
 * VCPU's comm page; exit points to a buffer owned by libnvmm.  Users read
 * and write through the pointers but must not change them.
 */
struct nvmm_vcpu {
	nvmm_cpuid_t cpuid;
	struct nvmm_assist_callbacks cbs;
	struct nvmm_vcpu_state *state;
	struct nvmm_vcpu_event *event;
	struct nvmm_vcpu_exit *exit;
	volatile int *stop;
};

/* One I/O port access handed to the io callback; data is in or out. */
struct nvmm_io {
	struct nvmm_machine *mach;
	struct nvmm_vcpu *vcpu;
	uint16_t port;
	bool in;
	size_t size;
	uint8_t *data;
};

/* One MMIO access handed to the mem callback; data is in or out. */
struct nvmm_mem {
	struct nvmm_machine *mach;
	struct nvmm_vcpu *vcpu;
	gpaddr_t gpa;
	bool write;
	size_t size;
	uint8_t *data;
};

#ifdef __cplusplus
extern "C" {
#endif

int nvmm_init(void);
int nvmm_root_init(void);
int nvmm_capability(struct nvmm_capability *cap);

int nvmm_machine_create(struct nvmm_machine *mach);
int nvmm_machine_destroy(struct nvmm_machine *mach);
int nvmm_machine_configure(struct nvmm_machine *mach, uint64_t op,
    void *conf);

int nvmm_vcpu_create(struct nvmm_machine *mach, nvmm_cpuid_t cpuid,
    struct nvmm_vcpu *vcpu);
int nvmm_vcpu_destroy(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu);
int nvmm_vcpu_configure(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu,
    uint64_t op, void *conf);
int nvmm_vcpu_setstate(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu,
    uint64_t flags);
int nvmm_vcpu_getstate(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu,
    uint64_t flags);
int nvmm_vcpu_inject(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu);
int nvmm_vcpu_run(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu);
int nvmm_vcpu_stop(struct nvmm_vcpu *vcpu);

int nvmm_gpa_map(struct nvmm_machine *mach, uintptr_t hva, gpaddr_t gpa,
    size_t size, int prot);
int nvmm_gpa_unmap(struct nvmm_machine *mach, uintptr_t hva, gpaddr_t gpa,
    size_t size);
int nvmm_hva_map(struct nvmm_machine *mach, uintptr_t hva, size_t size);
int nvmm_hva_unmap(struct nvmm_machine *mach, uintptr_t hva, size_t size);

int nvmm_gva_to_gpa(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu,
    gvaddr_t gva, gpaddr_t *gpa, nvmm_prot_t *prot);
int nvmm_gpa_to_hva(struct nvmm_machine *mach, gpaddr_t gpa, uintptr_t *hva,
    nvmm_prot_t *prot);

int nvmm_assist_io(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu);
int nvmm_assist_mem(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu);

int nvmm_ctl(int op, void *data, size_t size);

/* Prints the VCPU state to stdout; undocumented, for debugging. */
int nvmm_vcpu_dump(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu);

#ifdef __cplusplus
}
#endif

#endif /* !_NVMM_H_ */
