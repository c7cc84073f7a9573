/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * What programs written for NetBSD's libnvmm rely on, through
 * libnvmmclient and a private nvmmd: every protection nvmm_gpa_map
 * accepts, as the guest sees it; the top page of guest memory mapped and
 * unmapped (NetBSD's h_misc "RAM"); IO exits at the instruction, executed
 * again when the emulator does not move RIP; MEMORY exits with the
 * instruction bytes; the assist guests of h_expect, one with an RW data
 * page.  (nvmm_vcpu_dump's lines are t_api's.)  tests/kernel/t_compat
 * checks the guest side in-process too.
 */
#include <sys/mman.h>
#include <errno.h>
#include <string.h>

#include "h_client.h"
#include "h_daemon.h"

#define PAGE		4096UL
#define MAX_RAM		(128ULL << 30)	/* NetBSD's guest physical space */
/* -------------------------------------------------------------------------- */

HC_DAEMON_TC(gpa_map_every_prot, "nvmm_gpa_map takes every protection NetBSD "
    "takes, and nvmm_gpa_to_hva gives back the one asked")
ATF_TC_BODY(gpa_map_every_prot, tc)
{
	pid_t pid;
	struct hc_machine vm;
	uintptr_t hva;
	nvmm_prot_t prot;
	uint8_t *p;
	int asked;

	pid = hc_start_daemon();
	hc_machine_create(&vm, TVM_RAM_SIZE);
	for (asked = 0; asked <= HC_RWX; asked++) {
		p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_ANON | MAP_PRIVATE, -1, 0);
		ATF_REQUIRE(p != MAP_FAILED);
		HC_REQUIRE_OK(nvmm_hva_map(&vm.mach, (uintptr_t)p, PAGE));
		HC_REQUIRE_OK(nvmm_gpa_map(&vm.mach, (uintptr_t)p,
		    0x40000000 + (gpaddr_t)asked * PAGE, PAGE, asked));
		HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach,
		    0x40000000 + (gpaddr_t)asked * PAGE, &hva, &prot));
		ATF_CHECK_EQ(hva, (uintptr_t)p);
		ATF_CHECK_EQ(prot, asked);
	}
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

HC_DAEMON_TC(gpa_unmap_top, "The last page of guest memory is mapped, "
    "unmapped and mapped again, as NetBSD's h_misc \"RAM\" does")
ATF_TC_BODY(gpa_unmap_top, tc)
{
	pid_t pid;
	struct hc_machine vm;
	uint8_t *p;

	pid = hc_start_daemon();
	hc_machine_create(&vm, 0);
	p = hc_map(&vm, MAX_RAM - PAGE, PAGE, HC_RWX);
	HC_CHECK_ERRNO(EINVAL, nvmm_gpa_map(&vm.mach, (uintptr_t)p, MAX_RAM,
	    PAGE, HC_RWX));
	HC_REQUIRE_OK(nvmm_gpa_unmap(&vm.mach, (uintptr_t)p, MAX_RAM - PAGE,
	    PAGE));
	HC_REQUIRE_OK(nvmm_gpa_map(&vm.mach, (uintptr_t)p, MAX_RAM - PAGE,
	    PAGE, PROT_READ));
	HC_REQUIRE_OK(nvmm_gpa_unmap(&vm.mach, (uintptr_t)p, MAX_RAM - PAGE,
	    PAGE));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

/* Runs until the next exit other than NONE; returns its reason. */
static uint64_t
run_reason(struct hc_vcpu *hv)
{
	uint64_t reason;

	do
		reason = hc_run_reason(hv);
	while (reason == NVMM_VCPU_EXIT_NONE);
	return reason;
}

/* guest_poke on a page mapped with prot (h_expect), with the assists. */
static void
poke_with(int prot)
{
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	uint64_t *page;
	unsigned k;

	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest_poke_begin, guest_poke_end);
	page = (uint64_t *)(void *)hc_map(&vm, TVM_MMIO_GPA, PAGE, prot);
	hx_poke_setup(page, hc_getstate(&hv, NVMM_X64_STATE_GPRS));
	hc_setstate(&hv, NVMM_X64_STATE_GPRS);
	for (k = 0; k < hx_poke_nexits(prot); k++) {
		(void)run_reason(&hv);
		hx_check_poke_exit(hv.vcpu.exit, prot, k);
		hc_assist(&hv);
	}
	ATF_REQUIRE_EQ_MSG(run_reason(&hv), NVMM_VCPU_EXIT_HALTED,
	    "prot %#x: exit %#jx", prot, (uintmax_t)hv.vcpu.exit->reason);
	hx_check_poke_results(prot, hc_getstate(&hv, NVMM_X64_STATE_GPRS),
	    page, dev.log, dev.nlog);
	hc_machine_destroy(&vm);
}

HC_DAEMON_TC(prot_as_guest_sees, "Every protection: writes without "
    "PROT_WRITE exit as MEMORY/WRITE, reads do not, no protection makes "
    "both exit, the read with its instruction bytes")
ATF_TC_BODY(prot_as_guest_sees, tc)
{
	pid_t pid;
	int prot;

	pid = hc_start_daemon();
	for (prot = 0; prot <= HC_RWX; prot++)
		poke_with(prot);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

HC_DAEMON_TC(io_at_instruction, "IO exits show RIP on the OUT and npc after "
    "it, also for the same OUT twice in a row; RIP left there executes it "
    "again")
ATF_TC_BODY(io_at_instruction, tc)
{
	pid_t pid;
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	unsigned k;

	pid = hc_start_daemon();
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest_outtwice_begin,
	    guest_outtwice_end);
	for (k = 0; k < 2; k++) {
		ATF_REQUIRE_EQ(run_reason(&hv), NVMM_VCPU_EXIT_IO);
		hx_check_outtwice_exit(hv.vcpu.exit,
		    hc_getstate(&hv, NVMM_X64_STATE_GPRS), k);
		/* Nothing done, RIP left on the OUT: the guest does it again. */
		ATF_REQUIRE_EQ(run_reason(&hv), NVMM_VCPU_EXIT_IO);
		hx_check_outtwice_exit(hv.vcpu.exit,
		    hc_getstate(&hv, NVMM_X64_STATE_GPRS), k);
		hc_assist(&hv);
	}
	ATF_REQUIRE_EQ(run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RIP), TVM_CODE_GPA +
	    (uint64_t)(guest_outtwice_end - guest_outtwice_begin));
	ATF_CHECK_EQ(dev.nio_out, 2);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

HC_DAEMON_TC(assist_every_form, "The h_mem_assist-style guest: every "
    "instruction form of nvmm_assist_mem, results in an RW data page")
ATF_TC_BODY(assist_every_form, tc)
{
	pid_t pid;
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	uint8_t *data;

	pid = hc_start_daemon();
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest_assist_begin, guest_assist_end);
	data = hc_map(&vm, HX_ASSIST_DATA_GPA, PAGE, PROT_READ | PROT_WRITE);
	hc_run_to_halt(&hv, 500);
	hx_check_assist_slots((const uint64_t *)(void *)data);
	ATF_CHECK(dev.nmem_read > 0 && dev.nmem_write > 0);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

HC_DAEMON_TC(ioassist_every_form, "The h_io_assist-style guest with "
    "nvmm_assist_io: string IO with a segment override, 32-bit addresses "
    "and DF set")
ATF_TC_BODY(ioassist_every_form, tc)
{
	unsigned seen[HX_IOASSIST_NPORTS] = { 0 };
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	uint64_t reason = NVMM_VCPU_EXIT_NONE;
	unsigned n;
	pid_t pid;

	pid = hc_start_daemon();
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest_ioassist_begin,
	    guest_ioassist_end);
	hx_ioassist_fill(vm.ram, hc_getstate(&hv, NVMM_X64_STATE_SEGS));
	hc_setstate(&hv, NVMM_X64_STATE_SEGS);
	for (n = 0; n < 100 && reason != NVMM_VCPU_EXIT_HALTED; n++) {
		reason = hc_run_reason(&hv);
		if (reason == NVMM_VCPU_EXIT_HALTED ||
		    reason == NVMM_VCPU_EXIT_NONE)
			continue;
		hx_check_ioassist_exit(hv.vcpu.exit,
		    hc_getstate(&hv, NVMM_X64_STATE_GPRS), seen);
		hc_assist(&hv);
	}
	ATF_REQUIRE_EQ(reason, NVMM_VCPU_EXIT_HALTED);
	hx_check_ioassist_results(dev.log, dev.nlog, vm.ram,
	    hc_getstate(&hv, NVMM_X64_STATE_GPRS), seen);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

HC_DAEMON_TC(exec_none, "Executing a PROT_NONE mapping exits as MEMORY "
    "with PROT_EXEC, again each run, as NetBSD")
ATF_TC_BODY(exec_none, tc)
{
	struct nvmm_x64_state *st;
	struct hc_machine vm;
	struct hc_vcpu hv;
	uint8_t *page;
	pid_t pid;

	pid = hc_start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_poke_begin, guest_poke_end);
	page = hc_map(&vm, TVM_MMIO_GPA, PAGE, PROT_NONE);
	memcpy(page, guest_poke_begin, (size_t)(guest_poke_end -
	    guest_poke_begin));
	st = hc_getstate(&hv, NVMM_X64_STATE_GPRS);
	st->gprs[NVMM_X64_GPR_RIP] = TVM_MMIO_GPA + 0x10;
	hc_setstate(&hv, NVMM_X64_STATE_GPRS);
	ATF_REQUIRE_EQ(run_reason(&hv), NVMM_VCPU_EXIT_MEMORY);
	ATF_CHECK_EQ(hv.vcpu.exit->u.mem.prot, PROT_EXEC);
	ATF_CHECK_EQ(hv.vcpu.exit->u.mem.gpa, TVM_MMIO_GPA + 0x10);
	ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RIP), TVM_MMIO_GPA + 0x10);
	ATF_REQUIRE_EQ(run_reason(&hv), NVMM_VCPU_EXIT_MEMORY);
	ATF_CHECK_EQ(hv.vcpu.exit->u.mem.prot, PROT_EXEC);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, gpa_map_every_prot);
	ATF_TP_ADD_TC(tp, gpa_unmap_top);
	ATF_TP_ADD_TC(tp, prot_as_guest_sees);
	ATF_TP_ADD_TC(tp, io_at_instruction);
	ATF_TP_ADD_TC(tp, assist_every_form);
	ATF_TP_ADD_TC(tp, ioassist_every_form);
	ATF_TP_ADD_TC(tp, exec_none);
	return atf_no_error();
}
