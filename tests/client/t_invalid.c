/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * EXIT_INVALID through nvmmd: an MMIO access KVM cannot emulate (an x87
 * load, tests/client/guest_invalid.S) ends the run with EXIT_INVALID and
 * KVM's exit reason as hwcode, and the daemon's log tells an
 * administrator the rest: the internal-error sub-code, RIP and the
 * instruction bytes.
 */
#include <stdio.h>

#include "h_client.h"
#include "h_daemon.h"

#define KVM_EXIT_INTERNAL_ERROR_CODE	17	/* <linux/kvm.h> */

TVM_GUEST(invalid);
extern const uint8_t guest_invalid_insn[];

HC_DAEMON_TC(mmio_emulation_failure_logged, "An x87 load from MMIO: the "
    "run ends in EXIT_INVALID with hwcode KVM_EXIT_INTERNAL_ERROR, and "
    "nvmmd logs the sub-code, RIP and the instruction bytes once")
ATF_TC_BODY(mmio_emulation_failure_logged, tc)
{
	const uint64_t rip = TVM_GUEST_ADDR(invalid, guest_invalid_insn);
	const struct nvmm_vcpu_exit *exit;
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	char want[256];
	pid_t pid;

	pid = hc_start_daemon();
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest_invalid_begin, guest_invalid_end);
	exit = hv.vcpu.exit;
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_INVALID);
	ATF_CHECK_EQ(exit->u.inv.hwcode, KVM_EXIT_INTERNAL_ERROR_CODE);
	/* No device access was made of the load. */
	ATF_CHECK_EQ(dev.nmem_read, 0);
	hc_machine_destroy(&vm);
	hd_stop(pid);

	snprintf(want, sizeof(want), "machine %u vcpu 0 (pid %d): "
	    "EXIT_INVALID, hwcode 0x11: KVM exit 17 (internal error), "
	    "suberror 1 (emulation failed)", (unsigned)vm.mach.machid,
	    (int)getpid());
	ATF_CHECK_MSG(hd_log_has(want), "no \"%s\" in nvmmd.log", want);
	snprintf(want, sizeof(want), ", rip %#llx, insn db 2b f4",
	    (unsigned long long)rip);
	ATF_CHECK_MSG(hd_log_has(want), "no \"%s\" in nvmmd.log", want);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, mmio_emulation_failure_logged);
	return atf_no_error();
}
