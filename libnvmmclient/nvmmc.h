/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * libnvmmclient internals: what its files share.
 *   nvmm_client.c   the connection to nvmmd and the checks before a request
 *   nvmm_machine.c  machines, VCPUs, memory, ctl
 *   nvmm_vcpu.c     state, events, run and stop: the comm page, the doorbell
 *   nvmm_assist.c   nvmm_assist_io, nvmm_assist_mem
 *   nvmm_assist_load.c  the MMIO loads nvmm_assist_mem finishes itself
 *   nvmm_gva.c      nvmm_gva_to_gpa, the x86 page walk
 *   nvmm_dump.c     nvmm_vcpu_dump
 * Two conventions, one per layer: the nvmmc_* functions return 0 or a
 * positive errno and leave errno alone; the libnvmm calls return 0, or -1
 * with errno set (nvmmc_result() converts).
 */
#ifndef NVMMC_H
#define NVMMC_H

#include <bsd/sys/queue.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <nvmm.h>
#include "nvmm_slot.h"
#include "nvmm_rpc.h"

/* A VCPU's shared pages, as this process maps them. */
struct nvmmc_vcpu {
	/* NetBSD's per-VCPU lock: one kernel operation at a time. */
	pthread_mutex_t lock;
	bool present;
	struct nvmm_comm_page *comm;
	struct nvmm_doorbell *db;
	struct nvmm_kern_access *access;	/* the pending IO/MMIO access */
	uint8_t *data;				/* its data */
	struct nvmm_vcpu_exit *exit;		/* vcpu->exit, ours to free */
	int bell;				/* the stop bell, or -1 */
};

/* A GPA mapping as libnvmm records it (gpa_to_hva, the page walk). */
struct nvmmc_area {
	LIST_ENTRY(nvmmc_area) link;
	gpaddr_t gpa;
	uintptr_t hva;
	size_t size;
	nvmm_prot_t prot;
};

/* Behind struct nvmm_machine's opaque `areas' pointer. */
struct nvmmc_machine {
	uint64_t generation;		/* of the connection that made it */
	pthread_mutex_t lock;		/* areas */
	LIST_HEAD(, nvmmc_area) areas;
	uint8_t *comm;			/* the machine's comm memfd, mapped */
	size_t commsize;
	struct nvmmc_vcpu vcpus[NVMM_MAX_VCPUS];
};

static inline struct nvmmc_machine *
nvmmc_machine(struct nvmm_machine *mach)
{
	return mach->areas;
}

static inline struct nvmmc_vcpu *
nvmmc_vcpu(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu)
{
	return &nvmmc_machine(mach)->vcpus[vcpu->cpuid];
}

/* nvmm_client.c */
extern struct nvmm_capability nvmmc_cap;
extern uint64_t nvmmc_generation;	/* bumped by each new connection */
extern struct nvmm_rpc nvmmc_rpc;	/* the connection: after nvmmc_check */
bool	nvmmc_connected(void);
/* A child forked after nvmm_init: its parent's comm pages are not mapped. */
bool	nvmmc_in_forked_child(void);
/* 0 when this process may act (not a child forked after nvmm_init). */
int	nvmmc_check(void);
/* The same, and the machine belongs to this process's connection. */
int	nvmmc_check_machine(struct nvmm_machine *mach);
/* Sets errno from error; returns 0 or -1, as every libnvmm call. */
int	nvmmc_result(int error);

/* nvmm_vcpu.c: one doorbell operation; returns 0 or an errno value. */
int	nvmmc_ring(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu,
	    enum nvmm_doorbell_op op);
/*
 * Hands the data phase in the access page to KVM: *done when the
 * instruction finished (GPRS|SEGS|CRS|MSRS then show it done and are
 * cached), else the access page holds the instruction's next access.
 * Returns 0 or an errno value, as nvmmc_ring; neither sets errno.
 */
int	nvmmc_complete(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu,
	    bool *done);

/*
 * nvmm_machine.c: the area containing gpa, with the bytes left in it.
 * Returns 0 or ENOENT; takes the areas lock itself, makes no system call.
 */
int	nvmmc_area_lookup(struct nvmm_machine *mach, gpaddr_t gpa,
	    uintptr_t *hva, nvmm_prot_t *prot, size_t *left);

#endif /* NVMMC_H */
