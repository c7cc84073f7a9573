/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Test harness for guests run through libnvmmclient, with NetBSD's public
 * <nvmm.h> API only: a machine whose RAM is an mmap'd region given to
 * nvmm_hva_map and mapped RWX at GPA 0, VCPUs with the assist callbacks
 * wired to a small device model, guest code from tests/kernel/guests.S,
 * the 64-bit set-up of tests/common/h_longmode, and a run loop that does
 * the data phase of IO and MMIO exits with nvmm_assist_io and
 * nvmm_assist_mem.
 *
 * A daemon must be running first (h_daemon.h: hd_start), then hc_init();
 * hc_start_daemon() does both, for the test cases HC_DAEMON_TC declares.
 *
 * Helpers whose name says nothing else fail the test case (ATF_REQUIRE)
 * when something they need does not work, so test bodies stay about what
 * they test; they are for the test's main thread.  The hc_try_* functions
 * and the device callbacks never call ATF: they return or record an errno
 * value instead, and may be used from other threads (one thread per VCPU,
 * as libnvmm wants).
 */
#ifndef H_CLIENT_H
#define H_CLIENT_H

#include <sys/mman.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <atf-c.h>

#include <nvmm.h>
#include "h_daemon.h"
#include "h_longmode.h"		/* TVM_*_GPA, TVM_GUEST, TVM_GUEST_ADDR */
#include "h_expect.h"		/* struct hx_write, what the guests should do */

#define HC_RWX		(PROT_READ | PROT_WRITE | PROT_EXEC)

/* The 64 KiB below 4 GiB, the reset vector's: a ROM where guests want one. */
#define HC_ROM_GPA	0xFFFF0000ULL
#define HC_ROM_SIZE	0x10000UL

/* Checks that a libnvmm call fails with exactly errno want. */
#define HC_ERRNO_IS(atf, want, call) do {				\
	int ret_, errno_;						\
	errno = 0;							\
	ret_ = (call);							\
	errno_ = errno;							\
	atf(ret_ == -1 && errno_ == (want),				\
	    "%s: returned %d, errno %d (%s); want -1, errno %d (%s)",	\
	    #call, ret_, errno_, strerror(errno_), (want),		\
	    strerror(want));						\
} while (0)
#define HC_CHECK_ERRNO(want, call)	HC_ERRNO_IS(ATF_CHECK_MSG, want, call)
#define HC_REQUIRE_ERRNO(want, call)	HC_ERRNO_IS(ATF_REQUIRE_MSG, want, call)
/* Requires a libnvmm call to succeed (return 0), with errno if not. */
#define HC_REQUIRE_OK(call) do {					\
	int ret_ = (call);						\
	ATF_REQUIRE_MSG(ret_ == 0, "%s: returned %d, errno %d (%s)",	\
	    #call, ret_, errno, strerror(errno));			\
} while (0)

/* -------------------------------------------------------------------------- */

/*
 * The device model behind the callbacks: OUTs and MMIO writes are logged
 * in order, IN data is the port number plus the byte index, MMIO reads
 * and writes go to a 256-byte array at TVM_MMIO_GPA.  Not locked: a
 * device is used by one VCPU thread at a time.
 */
#define HC_DEV_MAX_LOG	256
#define HC_DEV_MMIO_SIZE HX_MMIO_SIZE

struct hc_dev {
	struct hx_write log[HC_DEV_MAX_LOG];	/* OUTs and MMIO writes */
	size_t nlog;
	uint8_t mmio[HC_DEV_MMIO_SIZE];
	/* Callback calls (elements) of each kind. */
	unsigned nio_in, nio_out, nmem_read, nmem_write;
	/*
	 * First misuse seen (0: none), with a message: ERANGE an MMIO access
	 * outside the array (reads get 0xFF), ENOSPC the log full, EINVAL an
	 * access of 0 or more than 8 bytes.  hc_assist fails on it.
	 */
	int error;
	char errmsg[128];
};

void	hc_dev_init(struct hc_dev *dev);
/* The index-th logged write to addr (0 first), required to exist. */
const struct hx_write *hc_dev_find(const struct hc_dev *dev, uint64_t addr,
	    size_t index);
/* How many writes to addr are logged. */
size_t	hc_dev_count(const struct hc_dev *dev, uint64_t addr);

/* -------------------------------------------------------------------------- */

/* A machine and the guest memory this harness gave it. */
#define HC_MAX_REGIONS	8

struct hc_region {
	uint8_t *hva;
	gpaddr_t gpa;
	size_t size;
	int prot;
};

struct hc_machine {
	struct nvmm_machine mach;
	uint8_t *ram;		/* GPA 0, RWX: regions[0] */
	size_t ramsize;
	struct hc_region regions[HC_MAX_REGIONS];
	size_t nregions;
};

/*
 * A VCPU.  Always pass &hv->vcpu (never a copy) to libnvmm: the callbacks
 * find the hc_vcpu, and its device, from the nvmm_vcpu pointer they get.
 */
struct hc_vcpu {
	struct nvmm_vcpu vcpu;		/* first */
	uint32_t magic;
	struct hc_machine *vm;
	struct hc_dev *dev;		/* NULL: every IO/MMIO access is refused */
};

/* nvmm_init(), and the capability this harness relies on. */
void	hc_init(void);

/*
 * nvmm_machine_create; ramsize bytes mmap'd, nvmm_hva_map'd and
 * nvmm_gpa_map'd RWX at GPA 0 (ramsize 0: no RAM).
 */
void	hc_machine_create(struct hc_machine *vm, size_t ramsize);
/*
 * One more region: size bytes mmap'd, nvmm_hva_map'd, nvmm_gpa_map'd at
 * gpa with prot (mmap PROT_* values).  Returns the host view.  The guest
 * cannot write a region without PROT_WRITE: fill it before or through the
 * pointer.
 */
uint8_t *hc_map(struct hc_machine *vm, gpaddr_t gpa, size_t size, int prot);
/* nvmm_machine_destroy, then the regions are unmapped from the process. */
void	hc_machine_destroy(struct hc_machine *vm);

/*
 * nvmm_vcpu_create, and NVMM_VCPU_CONF_CALLBACKS with hc_io_callback and
 * hc_mem_callback serving dev (which may be NULL).
 */
void	hc_vcpu_create(struct hc_machine *vm, nvmm_cpuid_t cpuid,
	    struct hc_vcpu *hv, struct hc_dev *dev);
/* The callbacks hc_vcpu_create installs: they serve hv->dev. */
void	hc_io_callback(struct nvmm_io *io);
void	hc_mem_callback(struct nvmm_mem *mem);

/* Copies [begin, end) into RAM at gpa. */
void	hc_load(struct hc_machine *vm, gpaddr_t gpa, const void *begin,
	    const void *end);
/* Loads snippet name of guests.S (declared with TVM_GUEST) at gpa. */
#define HC_LOAD(vm, gpa, name)						\
	hc_load(vm, gpa, guest_##name##_begin, guest_##name##_end)

/* Page tables and GDT in RAM, VCPU state in 64-bit mode at rip. */
void	hc_setup_longmode(struct hc_vcpu *hv, uint64_t rip);
/*
 * hc_machine_create with TVM_RAM_SIZE, [begin, end) at TVM_CODE_GPA,
 * VCPU 0 serving dev, in 64-bit mode at TVM_CODE_GPA.
 */
void	hc_setup_guest(struct hc_machine *vm, struct hc_vcpu *hv,
	    struct hc_dev *dev, const uint8_t *begin, const uint8_t *end);

/* nvmm_vcpu_getstate of flags; returns the state (the comm page). */
struct nvmm_x64_state *hc_getstate(struct hc_vcpu *hv, uint64_t flags);
/* nvmm_vcpu_setstate of flags, changed in the state hc_getstate returned. */
void	hc_setstate(struct hc_vcpu *hv, uint64_t flags);
/* One GPR (NVMM_X64_GPR_*), fetched if need be. */
uint64_t hc_gpr(struct hc_vcpu *hv, int index);
/* Fills the VCPU's event and nvmm_vcpu_inject. */
void	hc_inject(struct hc_vcpu *hv, unsigned type, uint8_t vector,
	    uint64_t error);

/* nvmm_vcpu_run, requiring success; returns the exit reason. */
uint64_t hc_run_reason(struct hc_vcpu *hv);
/*
 * The data phase of the exit just taken: nvmm_assist_io for an IO exit,
 * nvmm_assist_mem for a MEMORY exit; requires success, and no misuse of
 * the device.
 */
void	hc_assist(struct hc_vcpu *hv);
/* Runs, assisting IO and MEMORY exits, until HLT (or max_exits fails). */
void	hc_run_to_halt(struct hc_vcpu *hv, unsigned max_exits);

/*
 * No ATF, for any thread: nvmm_vcpu_run, and hc_assist's work; return 0
 * or an errno value (EINVAL: the exit is neither IO nor MEMORY; the
 * device's error if the callbacks saw a misuse).
 */
int	hc_try_run(struct hc_vcpu *hv);
int	hc_try_assist(struct hc_vcpu *hv);
/*
 * Runs, assisting IO and MEMORY exits and ignoring NONE, until HLT: 0.
 * Otherwise an errno value: a failed run or assist, EPROTO for any other
 * exit (left in hv->vcpu.exit), ETIMEDOUT after max_exits.
 */
int	hc_try_run_to_halt(struct hc_vcpu *hv, unsigned max_exits);

/*
 * Writes a 64-bit interrupt gate (DPL 0, TVM_SEL_CODE64) for vector at
 * handler into the IDT at TVM_IDT_GPA.
 */
void	hc_idt_gate(struct hc_machine *vm, unsigned vector, uint64_t handler);

/*
 * A guest of 64-bit code built here rather than in guests.S, since its
 * count is the test's: count OUTs of AL to HC_IO_PORT, then HLT.
 *	mov $count, %ecx ; 1: out %al, $0x80 ; loop 1b ; hlt
 * Load it with hc_load(vm, gpa, g.code, g.code + sizeof(g.code)).
 */
#define HC_IO_PORT	0x80

struct hc_ioloop {
	uint8_t code[10];
};

void	hc_ioloop(struct hc_ioloop *g, uint32_t count);

/*
 * NVMM_CTL_MACH_INFO of machid into info.  No ATF: nvmm_ctl's result and
 * errno, so that forked children may use it too.
 */
int	hc_mach_info(nvmm_machid_t machid, struct nvmm_ctl_mach_info *info);

/* -------------------------------------------------------------------------- */

/*
 * A test case with its own daemon: HD_TC_NEEDS_DAEMON, and a cleanup
 * that kills the daemon a failed body left running.  The body starts it
 * with hc_start_daemon() and ends with hd_stop().
 */
#define HC_DAEMON_TC(name, descr)					\
	ATF_TC_WITH_CLEANUP(name);					\
	ATF_TC_HEAD(name, tc)						\
	{								\
		atf_tc_set_md_var(tc, "descr", descr);			\
		HD_TC_NEEDS_DAEMON(tc);					\
	}								\
	ATF_TC_CLEANUP(name, tc)					\
	{								\
		hd_cleanup();						\
	}

/* A private daemon, and the library connected to it; returns its pid. */
pid_t	hc_start_daemon(void);

/*
 * Time, for any thread or child: the monotonic clock in milliseconds, and
 * a sleep that an interrupting signal does not cut short.
 */
uint64_t hc_now_ms(void);
void	hc_sleep_ms(unsigned ms);

#endif /* H_CLIENT_H */
