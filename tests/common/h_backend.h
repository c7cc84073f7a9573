/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Guest scenarios written once and run twice: in-process against kernel/
 * (hb_kern, over tests/kernel/h_vm) and through libnvmmclient and a private
 * nvmmd (hb_daemon, over tests/client/h_client and h_daemon).  As NetBSD's
 * nvmm_impl hides the CPU vendor from the driver, struct hb_backend hides
 * the way to the machine from the scenario: the scenario takes a backend
 * and calls the hb_* functions below, which are the one guest set-up and
 * the one run loop both ways share.  HB_TC declares a scenario as the two
 * ATF cases kern_NAME and daemon_NAME.
 *
 * Everything here fails the test case (ATF_REQUIRE) when something it
 * needs does not work; it is for the test's main thread.
 */
#ifndef H_BACKEND_H
#define H_BACKEND_H

#include <sys/mman.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <atf-c.h>

#include <nvmm.h>
#include "h_longmode.h"		/* TVM_*_GPA, TVM_GUEST */
#include "h_expect.h"		/* struct hx_write, the guests' checks */

#define HB_RWX		(PROT_READ | PROT_WRITE | PROT_EXEC)

/* A machine: its RAM at GPA 0 (RWX), and the backend's own state. */
struct hb_machine {
	const struct hb_backend *be;
	uint8_t *ram;
	size_t ramsize;
	void *impl;
};

/* A VCPU, serving the backend's device model. */
struct hb_vcpu {
	struct hb_machine *vm;
	const struct nvmm_vcpu_exit *exit;	/* the last run's */
	void *impl;
};

/*
 * What the device model saw: OUTs and MMIO writes logged in order (IN
 * data is the port number plus the byte index, MMIO goes to HX_MMIO_SIZE
 * bytes at TVM_MMIO_GPA, which the test may fill), and the elements of
 * each kind.
 */
struct hb_dev {
	const struct hx_write *log;
	uint8_t *mmio;
	size_t nlog;
	unsigned nio_in, nio_out, nmem_read, nmem_write;
};

struct hb_backend {
	const char *name;
	/* NONE exits may come at any run: the scenarios run past them. */
	bool exits_none;
	/* Before the first machine and after the last; cleanup for ATF. */
	void (*start)(void);
	void (*stop)(void);
	void (*cleanup)(void);
	/* ramsize bytes of RAM mapped RWX at GPA 0 (0: none). */
	void (*machine_create)(struct hb_machine *, size_t ramsize);
	/* Destroys the machine and releases what map gave it. */
	void (*machine_destroy)(struct hb_machine *);
	/* size more bytes mapped at gpa with prot; returns the host view. */
	uint8_t *(*map)(struct hb_machine *, gpaddr_t gpa, size_t size,
	    int prot);
	void (*vcpu_create)(struct hb_machine *, nvmm_cpuid_t,
	    struct hb_vcpu *);
	struct nvmm_x64_state *(*getstate)(struct hb_vcpu *, uint64_t flags);
	/* Commits flags of the state getstate returned. */
	void (*setstate)(struct hb_vcpu *, uint64_t flags);
	/*
	 * The comm page's cache, where the test can see it (NULL: libnvmm
	 * keeps it to itself): the state components cached, and forgetting
	 * them so that the next getstate asks.
	 */
	uint64_t (*cached)(struct hb_vcpu *);
	void (*uncache)(struct hb_vcpu *);
	/* The HVA and protection behind gpa (NULL: no such call). */
	void (*gpa_to_hva)(struct hb_machine *, gpaddr_t gpa, uintptr_t *hva,
	    int *prot);
	/* The event for the next run (exception: error is its code). */
	void (*inject)(struct hb_vcpu *, unsigned type, uint8_t vector,
	    uint64_t error);
	/* Whether an injected event still waits (NULL: cannot be seen). */
	bool (*event_pending)(struct hb_vcpu *);
	/* One run, required to succeed; the exit is in vcpu->exit. */
	void (*run)(struct hb_vcpu *);
	/* The data phase of the IO or MEMORY exit just taken, by the device. */
	void (*assist)(struct hb_vcpu *);
	void (*dev)(struct hb_vcpu *, struct hb_dev *);
};

extern const struct hb_backend hb_kern;
extern const struct hb_backend hb_daemon;

/* A machine of be's with ramsize bytes of RAM; a VCPU of it. */
void	hb_machine_create(const struct hb_backend *be, struct hb_machine *vm,
	    size_t ramsize);
void	hb_vcpu_create(struct hb_machine *vm, nvmm_cpuid_t cpuid,
	    struct hb_vcpu *vcpu);
/* Copies [begin, end) into RAM at gpa. */
void	hb_load(struct hb_machine *vm, gpaddr_t gpa, const void *begin,
	    const void *end);
/* Page tables and GDT in RAM (h_longmode), the VCPU in 64-bit mode at rip. */
void	hb_setup_longmode(struct hb_vcpu *vcpu, uint64_t rip);
/*
 * The guest set-up: a machine of TVM_RAM_SIZE, [begin, end) at
 * TVM_CODE_GPA, VCPU 0 in 64-bit mode there.
 */
void	hb_setup_guest(const struct hb_backend *be, struct hb_machine *vm,
	    struct hb_vcpu *vcpu, const uint8_t *begin, const uint8_t *end);
#define HB_SETUP_GUEST(be, vm, vcpu, name)				\
	hb_setup_guest(be, vm, vcpu, guest_##name##_begin,		\
	    guest_##name##_end)
void	hb_machine_destroy(struct hb_machine *vm);
uint8_t *hb_map(struct hb_machine *vm, gpaddr_t gpa, size_t size, int prot);

struct nvmm_x64_state *hb_getstate(struct hb_vcpu *vcpu, uint64_t flags);
void	hb_setstate(struct hb_vcpu *vcpu, uint64_t flags);
uint64_t hb_gpr(struct hb_vcpu *vcpu, int index);

void	hb_inject(struct hb_vcpu *vcpu, unsigned type, uint8_t vector,
	    uint64_t error);
/* A 64-bit interrupt gate for vector at handler in the IDT (h_longmode). */
void	hb_idt_gate(struct hb_machine *vm, unsigned vector, uint64_t handler);

/* Runs (past NONE where the backend has them); returns the exit reason. */
uint64_t hb_run(struct hb_vcpu *vcpu);
void	hb_assist(struct hb_vcpu *vcpu);
/* Runs, assisting IO and MEMORY exits, until HLT (or max_exits fails). */
void	hb_run_to_halt(struct hb_vcpu *vcpu, unsigned max_exits);
void	hb_dev(struct hb_vcpu *vcpu, struct hb_dev *dev);

/* Runs body between the backend's start and stop. */
void	hb_body(const struct hb_backend *be,
	    void (*body)(const struct hb_backend *));

#define HB_TC_ONE(prefix, be, name, descr)				\
	ATF_TC_WITH_CLEANUP(prefix##_##name);				\
	ATF_TC_HEAD(prefix##_##name, tc)				\
	{								\
		atf_tc_set_md_var(tc, "descr", descr);			\
		atf_tc_set_md_var(tc, "require.user", "root");		\
		atf_tc_set_md_var(tc, "require.files", "/dev/kvm");	\
	}								\
	ATF_TC_BODY(prefix##_##name, tc)				\
	{								\
		hb_body(&(be), name);					\
	}								\
	ATF_TC_CLEANUP(prefix##_##name, tc)				\
	{								\
		(be).cleanup();						\
	}

/*
 * Scenario name, a static void name(const struct hb_backend *) defined
 * after this, as the cases kern_NAME and daemon_NAME.
 */
#define HB_TC(name, descr)						\
	static void name(const struct hb_backend *);			\
	HB_TC_ONE(kern, hb_kern, name, descr)				\
	HB_TC_ONE(daemon, hb_daemon, name, descr)
#define HB_ADD_TC(tp, name) do {					\
	ATF_TP_ADD_TC(tp, kern_##name);					\
	ATF_TP_ADD_TC(tp, daemon_##name);				\
} while (0)

#endif /* H_BACKEND_H */
