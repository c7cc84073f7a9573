/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Test harness for kernel/ in-process: a machine with RAM, VCPUs, guest
 * code loaded from tests/kernel/guests.S, 64-bit set-up, state access with
 * the comm-page protocol, and an in-process assist for the data phase.
 * Every helper fails the test case (ATF_REQUIRE) when something it needs
 * does not work, so test bodies stay about what they test.
 */
#ifndef H_VM_H
#define H_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <atf-c.h>

#include <nvmm.h>
#include "nvmm_kern.h"
/* The guest physical layout (TVM_*_GPA), TVM_GUEST, the 64-bit set-up. */
#include "h_longmode.h"
/* The device log (struct hx_write), and what the guests should do. */
#include "h_expect.h"

#define RWX		(PROT_READ | PROT_WRITE | PROT_EXEC)
#define RX		(PROT_READ | PROT_EXEC)

/* HVA keys: kernel/ maps the memfd itself, these are only compared. */
#define HVA_A		((uintptr_t)0x7e0000000000ULL)
#define HVA_B		((uintptr_t)0x7e0100000000ULL)

/* Compares kernel/'s return value with the exact errno expected. */
#define ERR_IS(atf, want, call) do {					\
	int error_ = (call);						\
	atf(error_ == (want), "%s: got %d (%s), want %d (%s)", #call,	\
	    error_, strerror(error_), (want), strerror(want));		\
} while (0)
#define CHECK_ERR(want, call)	ERR_IS(ATF_CHECK_MSG, want, call)
#define REQUIRE_ERR(want, call)	ERR_IS(ATF_REQUIRE_MSG, want, call)

struct tvm {
	struct nvmm_owner *owner;
	nvmm_machid_t machid;
	uint8_t *ram;		/* the test's view; also the HVA key */
	size_t ramsize;
	int memfd;
};

struct tvcpu {
	struct tvm *vm;
	nvmm_cpuid_t cpuid;
	struct nvmm_comm_page *comm;
	struct nvmm_kern_access *access;
	uint8_t *data;
	struct nvmm_vcpu_exit exit;
};

/* Metadata for test cases that run guests: root and /dev/kvm. */
#define TVM_TC_NEEDS_KVM(tc) do {					\
	atf_tc_set_md_var(tc, "require.user", "root");			\
	atf_tc_set_md_var(tc, "require.files", "/dev/kvm");		\
} while (0)

/* A sealed memfd of size bytes, as a client would hand over. */
int	tvm_memfd(size_t size);

/* A machine owned by a new owner (pid getpid()), RAM mapped RWX at 0. */
void	tvm_create(struct tvm *vm, size_t ramsize);
void	tvm_destroy(struct tvm *vm);

void	tvm_vcpu_create(struct tvm *vm, nvmm_cpuid_t cpuid, struct tvcpu *vcpu);

/* Copies [start, end) of guest code into RAM at gpa. */
void	tvm_load(struct tvm *vm, gpaddr_t gpa, const void *start,
	    const void *end);

/* Page tables, GDT and 64-bit state (h_longmode): the VCPU starts at rip. */
void	tvm_setup_longmode(struct tvcpu *vcpu, uint64_t rip);

/* The comm-page protocol, as libnvmm does it. */
struct nvmm_x64_state *tvm_getstate(struct tvcpu *vcpu, uint64_t flags);
void	tvm_setstate(struct tvcpu *vcpu, uint64_t flags);
void	tvm_inject(struct tvcpu *vcpu, unsigned type, uint8_t vector,
	    uint64_t error);

/* tvm_create, the code at TVM_CODE_GPA, VCPU 0 in long mode there. */
void	tvm_setup_guest(struct tvm *vm, struct tvcpu *vcpu,
	    const uint8_t *begin, const uint8_t *end);

/* One run; returns kernel/'s error, the exit is in vcpu->exit. */
int	tvm_run(struct tvcpu *vcpu);
/* Runs, requiring success, and returns the exit reason. */
uint64_t tvm_run_reason(struct tvcpu *vcpu);

/*
 * The data phase of the pending access, in-process: cb is called for
 * every element (OUT and writes give data, IN and reads take it), then
 * KVM finishes the instruction; repeated while the instruction makes
 * further accesses.
 */
typedef void (*tvm_access_cb)(struct tvcpu *vcpu, bool is_io, bool write,
    uint64_t addr, uint8_t *data, size_t size, void *arg);
void	tvm_assist(struct tvcpu *vcpu, tvm_access_cb cb, void *arg);

/*
 * A device model for the tests: OUTs and MMIO writes are logged, IN data
 * is the port number plus the byte index, MMIO reads and writes go to a
 * 256-byte array at TVM_MMIO_GPA.
 */
#define TDEV_MAX_LOG	64

struct tdev {
	struct hx_write log[TDEV_MAX_LOG];	/* OUTs and MMIO writes */
	size_t nlog;
	uint8_t mmio[HX_MMIO_SIZE];
};

void	tdev_access(struct tvcpu *vcpu, bool is_io, bool write, uint64_t addr,
	    uint8_t *data, size_t size, void *arg);
/* The index-th logged write to addr (0 first), required to exist. */
const struct hx_write *tdev_find(const struct tdev *dev, uint64_t addr,
	    size_t index);

/* Loads snippet name of guests.S (declared with TVM_GUEST) at gpa. */
#define TVM_LOAD(vm, gpa, name)						\
	tvm_load(vm, gpa, guest_##name##_begin, guest_##name##_end)

#endif /* H_VM_H */
