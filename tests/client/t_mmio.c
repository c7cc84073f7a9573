/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The cost of an MMIO exit as an emulator sees it: an instruction whose
 * first MMIO access is a write (KVM finished it before the exit), or a
 * plain load into a register, is assisted without a round trip to the
 * daemon, the access left for the next run to hand KVM; any other that
 * reads (read-modify-write, MOVS) waits for KVM to finish it.  guest_mmio
 * does all three, and its results must be NetBSD's either way.
 */
#include <sys/mman.h>

#include "h_client.h"
#include "h_daemon.h"
#include "nvmm_slot.h"		/* the access header in the comm page */

/* guest_mmio's plain loads, which the client finishes: +0 and +40. */
static bool
mmio_plain_load(uint64_t gpa)
{
	return gpa == TVM_MMIO_GPA || gpa == TVM_MMIO_GPA + 40;
}

HC_DAEMON_TC(mmio_write_without_round_trip, "After nvmm_assist_mem of an "
    "MMIO write or a plain load the access is handled but still pending "
    "(no round trip); after a read-modify-write or MOVS it is finished; "
    "the guest's results are unchanged")
ATF_TC_BODY(mmio_write_without_round_trip, tc)
{
	const struct nvmm_kern_access *acc;
	const struct nvmm_vcpu_exit *exit;
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	unsigned n, writes = 0, loads = 0, reads = 0;
	pid_t pid;

	pid = hc_start_daemon();
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest_mmio_begin, guest_mmio_end);
	hx_mmio_fill(dev.mmio);
	acc = &nvmm_slot_of(vm.mach.pages[0])->access;

	exit = hv.vcpu.exit;
	for (n = 0; n < 32; n++) {
		if (hc_run_reason(&hv) == NVMM_VCPU_EXIT_HALTED)
			break;
		hx_check_mmio_exit(exit);
		hc_assist(&hv);
		if (exit->u.mem.prot == PROT_WRITE ||
		    mmio_plain_load(exit->u.mem.gpa)) {
			ATF_CHECK_MSG(acc->pending == 1 && acc->handled == 1,
			    "access to %#jx: pending %u, handled %u",
			    (uintmax_t)exit->u.mem.gpa, acc->pending,
			    acc->handled);
			if (exit->u.mem.prot == PROT_WRITE)
				writes++;
			else
				loads++;
		} else {
			ATF_CHECK_MSG(acc->pending == 0, "read of %#jx: still "
			    "pending", (uintmax_t)exit->u.mem.gpa);
			reads++;
		}
	}
	ATF_REQUIRE_EQ(exit->reason, NVMM_VCPU_EXIT_HALTED);
	/* Two plain writes, two plain loads (+0, +40); the OR and MOVS. */
	ATF_CHECK_EQ(writes, 2);
	ATF_CHECK_EQ(loads, 2);
	ATF_CHECK_EQ(reads, 2);
	hx_check_mmio_results(dev.mmio,
	    hc_getstate(&hv, NVMM_X64_STATE_GPRS));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, mmio_write_without_round_trip);
	return atf_no_error();
}
