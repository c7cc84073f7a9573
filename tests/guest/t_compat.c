/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * What the guests of programs written for NetBSD's libnvmm see, written
 * once and run in-process against kernel/ (kern_*) and through
 * libnvmmclient and a private nvmmd (daemon_*): every protection gpa_map
 * accepts, as the guest sees it; IO exits at the instruction, executed
 * again when the emulator does not move RIP; MEMORY exits with the
 * instruction bytes; the assist guests of h_expect, one with an RW data
 * page.  What only the API shows (nvmm_gpa_to_hva, the top page of guest
 * memory) is tests/client/t_compat's.
 */
#include <sys/mman.h>
#include <string.h>

#include "h_backend.h"

#define PAGE		4096UL

/* guest_poke on a page mapped with prot (h_expect), with the assists. */
static void
poke_with(const struct hb_backend *be, int prot)
{
	struct hb_machine vm;
	struct hb_vcpu vcpu;
	struct hb_dev dev;
	uint64_t *page;
	unsigned k;

	HB_SETUP_GUEST(be, &vm, &vcpu, poke);
	page = (uint64_t *)(void *)hb_map(&vm, TVM_MMIO_GPA, PAGE, prot);
	hx_poke_setup(page, hb_getstate(&vcpu, NVMM_X64_STATE_GPRS));
	hb_setstate(&vcpu, NVMM_X64_STATE_GPRS);
	for (k = 0; k < hx_poke_nexits(prot); k++) {
		(void)hb_run(&vcpu);
		hx_check_poke_exit(vcpu.exit, prot, k);
		hb_assist(&vcpu);
	}
	ATF_REQUIRE_EQ_MSG(hb_run(&vcpu), NVMM_VCPU_EXIT_HALTED,
	    "prot %#x: exit %#jx", prot, (uintmax_t)vcpu.exit->reason);
	hb_dev(&vcpu, &dev);
	hx_check_poke_results(prot, hb_getstate(&vcpu, NVMM_X64_STATE_GPRS),
	    page, dev.log, dev.nlog);
	hb_machine_destroy(&vm);
}

HB_TC(prot_as_guest_sees, "Every protection NetBSD accepts: writes without "
    "PROT_WRITE exit as MEMORY/WRITE, reads do not, no protection makes "
    "both exit, the read with its instruction bytes")
static void
prot_as_guest_sees(const struct hb_backend *be)
{
	int prot;

	for (prot = 0; prot <= HB_RWX; prot++)
		poke_with(be, prot);
}

/* -------------------------------------------------------------------------- */

HB_TC(io_at_instruction, "IO exits show RIP on the OUT and npc after it, "
    "also for the same OUT twice in a row; RIP left there executes it "
    "again")
static void
io_at_instruction(const struct hb_backend *be)
{
	struct hb_machine vm;
	struct hb_vcpu vcpu;
	struct hb_dev dev;
	unsigned k;

	HB_SETUP_GUEST(be, &vm, &vcpu, outtwice);
	for (k = 0; k < 2; k++) {
		ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_IO);
		hx_check_outtwice_exit(vcpu.exit,
		    hb_getstate(&vcpu, NVMM_X64_STATE_GPRS), k);
		/* Read outside the run, the state shows the same. */
		if (k == 1 && be->uncache != NULL) {
			be->uncache(&vcpu);
			hx_check_outtwice_exit(vcpu.exit,
			    hb_getstate(&vcpu, NVMM_X64_STATE_GPRS), k);
		}
		/* Nothing done, RIP left on the OUT: it runs again. */
		ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_IO);
		hx_check_outtwice_exit(vcpu.exit,
		    hb_getstate(&vcpu, NVMM_X64_STATE_GPRS), k);
		hb_assist(&vcpu);
	}
	ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(hb_gpr(&vcpu, NVMM_X64_GPR_RIP), TVM_CODE_GPA +
	    (uint64_t)(guest_outtwice_end - guest_outtwice_begin));
	/* Each OUT reached the device once: the repeats had no data phase. */
	hb_dev(&vcpu, &dev);
	ATF_CHECK_EQ(dev.nlog, 2);
	ATF_CHECK_EQ(dev.nio_out, 2);
	hb_machine_destroy(&vm);
}

/* -------------------------------------------------------------------------- */

HB_TC(assist_every_form, "The h_mem_assist-style guest: every instruction "
    "form of the memory assist, results in an RW data page")
static void
assist_every_form(const struct hb_backend *be)
{
	struct hb_machine vm;
	struct hb_vcpu vcpu;
	struct hb_dev dev;
	uint8_t *data;

	HB_SETUP_GUEST(be, &vm, &vcpu, assist);
	data = hb_map(&vm, HX_ASSIST_DATA_GPA, PAGE, PROT_READ | PROT_WRITE);
	hb_run_to_halt(&vcpu, 500);
	hx_check_assist_slots((const uint64_t *)(void *)data);
	hb_dev(&vcpu, &dev);
	ATF_CHECK(dev.nmem_read > 0 && dev.nmem_write > 0);
	hb_machine_destroy(&vm);
}

HB_TC(ioassist_every_form, "The h_io_assist-style guest with the IO "
    "assist: string IO with a segment override, 32-bit addresses and DF "
    "set")
static void
ioassist_every_form(const struct hb_backend *be)
{
	unsigned seen[HX_IOASSIST_NPORTS] = { 0 };
	struct hb_machine vm;
	struct hb_vcpu vcpu;
	struct hb_dev dev;
	uint64_t reason = NVMM_VCPU_EXIT_NONE;
	unsigned n;

	HB_SETUP_GUEST(be, &vm, &vcpu, ioassist);
	hx_ioassist_fill(vm.ram, hb_getstate(&vcpu, NVMM_X64_STATE_SEGS));
	hb_setstate(&vcpu, NVMM_X64_STATE_SEGS);
	for (n = 0; n < 100 && reason != NVMM_VCPU_EXIT_HALTED; n++) {
		reason = hb_run(&vcpu);
		if (reason == NVMM_VCPU_EXIT_HALTED ||
		    reason == NVMM_VCPU_EXIT_NONE)
			continue;
		hx_check_ioassist_exit(vcpu.exit,
		    hb_getstate(&vcpu, NVMM_X64_STATE_GPRS), seen);
		hb_assist(&vcpu);
	}
	ATF_REQUIRE_EQ(reason, NVMM_VCPU_EXIT_HALTED);
	hb_dev(&vcpu, &dev);
	hx_check_ioassist_results(dev.log, dev.nlog, vm.ram,
	    hb_getstate(&vcpu, NVMM_X64_STATE_GPRS), seen);
	hb_machine_destroy(&vm);
}

HB_TC(exec_none, "Executing a PROT_NONE mapping exits as MEMORY with "
    "PROT_EXEC, again each run, as NetBSD")
static void
exec_none(const struct hb_backend *be)
{
	struct nvmm_x64_state *st;
	struct hb_machine vm;
	struct hb_vcpu vcpu;
	uint8_t *page;

	HB_SETUP_GUEST(be, &vm, &vcpu, poke);
	/* Executing there even with code at hand: PROT_NONE. */
	page = hb_map(&vm, TVM_MMIO_GPA, PAGE, PROT_NONE);
	memcpy(page, guest_poke_begin, (size_t)(guest_poke_end -
	    guest_poke_begin));
	st = hb_getstate(&vcpu, NVMM_X64_STATE_GPRS);
	st->gprs[NVMM_X64_GPR_RIP] = TVM_MMIO_GPA + 0x10;
	hb_setstate(&vcpu, NVMM_X64_STATE_GPRS);
	ATF_REQUIRE_EQ_MSG(hb_run(&vcpu), NVMM_VCPU_EXIT_MEMORY,
	    "reason %#jx hwcode %#jx", (uintmax_t)vcpu.exit->reason,
	    (uintmax_t)vcpu.exit->u.inv.hwcode);
	ATF_CHECK_EQ(vcpu.exit->u.mem.prot, PROT_EXEC);
	ATF_CHECK_EQ(vcpu.exit->u.mem.gpa, TVM_MMIO_GPA + 0x10);
	/* Nothing moved: the guest is where it was, and exits again. */
	ATF_CHECK_EQ(hb_gpr(&vcpu, NVMM_X64_GPR_RIP), TVM_MMIO_GPA + 0x10);
	ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_MEMORY);
	ATF_CHECK_EQ(vcpu.exit->u.mem.prot, PROT_EXEC);
	hb_machine_destroy(&vm);
}

ATF_TP_ADD_TCS(tp)
{
	HB_ADD_TC(tp, prot_as_guest_sees);
	HB_ADD_TC(tp, io_at_instruction);
	HB_ADD_TC(tp, assist_every_form);
	HB_ADD_TC(tp, ioassist_every_form);
	HB_ADD_TC(tp, exec_none);
	return atf_no_error();
}
