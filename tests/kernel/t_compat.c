/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * kernel/ in-process, against what NetBSD's NVMM documents and its own
 * tests (tests/lib/libnvmm) rely on: every protection gpa_map accepts,
 * as the guest sees it; IO exits at the instruction, executed again when
 * the emulator does not move RIP; MEMORY exits with the instruction
 * bytes; the assist guests of h_expect, one with an RW data page.
 * tests/client/t_compat checks the same through nvmmd.
 */
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

#include "h_vm.h"

#define PAGE		4096UL
/* size bytes of a memfd of their own, hva_map'd and gpa_map'd at gpa. */
static uint64_t *
map_extra(struct tvm *vm, gpaddr_t gpa, size_t size, int prot, int *fdp)
{
	uint64_t *p;

	*fdp = tvm_memfd(size);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fdp, 0);
	ATF_REQUIRE(p != MAP_FAILED);
	REQUIRE_ERR(0, nvmm_kern_hva_map(vm->owner, vm->machid, (uintptr_t)p,
	    size, *fdp, 0));
	REQUIRE_ERR(0, nvmm_kern_gpa_map(vm->owner, vm->machid, (uintptr_t)p,
	    gpa, size, prot));
	return p;
}

static uint64_t
gpr(struct tvcpu *vcpu, int index)
{
	return tvm_getstate(vcpu, NVMM_X64_STATE_GPRS)->gprs[index];
}

/* -------------------------------------------------------------------------- */

/* guest_poke on a page mapped with prot (h_expect). */
static void
poke_with(int prot)
{
	struct tvcpu vcpu;
	struct tvm vm;
	struct tdev dev;
	uint64_t *page;
	unsigned k;
	int fd;

	memset(&dev, 0, sizeof(dev));
	tvm_setup_guest(&vm, &vcpu, guest_poke_begin, guest_poke_end);
	page = map_extra(&vm, TVM_MMIO_GPA, PAGE, prot, &fd);
	hx_poke_setup(page, tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS));
	tvm_setstate(&vcpu, NVMM_X64_STATE_GPRS);
	for (k = 0; k < hx_poke_nexits(prot); k++) {
		ATF_REQUIRE_EQ(tvm_run(&vcpu), 0);
		hx_check_poke_exit(&vcpu.exit, prot, k);
		tvm_assist(&vcpu, tdev_access, &dev);
	}
	ATF_REQUIRE_EQ_MSG(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED,
	    "prot %#x: exit %#jx", prot, (uintmax_t)vcpu.exit.reason);
	hx_check_poke_results(prot, tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS),
	    page, dev.log, dev.nlog);
	tvm_destroy(&vm);
	munmap(page, PAGE);
	close(fd);
}

ATF_TC(prot_as_guest_sees);
ATF_TC_HEAD(prot_as_guest_sees, tc)
{
	atf_tc_set_md_var(tc, "descr", "Every protection NetBSD accepts: "
	    "writes without PROT_WRITE exit as MEMORY/WRITE, reads do not, "
	    "no protection makes both exit");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(prot_as_guest_sees, tc)
{
	int prot;

	for (prot = 0; prot <= RWX; prot++)
		poke_with(prot);
}

/* -------------------------------------------------------------------------- */

ATF_TC(io_at_instruction);
ATF_TC_HEAD(io_at_instruction, tc)
{
	atf_tc_set_md_var(tc, "descr", "IO exits show RIP on the OUT and "
	    "npc after it, also for the same OUT twice in a row; RIP left "
	    "there executes it again");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(io_at_instruction, tc)
{
	struct tvcpu vcpu;
	struct tvm vm;
	struct tdev dev;

	memset(&dev, 0, sizeof(dev));
	tvm_setup_guest(&vm, &vcpu, guest_outtwice_begin, guest_outtwice_end);
	ATF_REQUIRE_EQ(tvm_run(&vcpu), 0);
	hx_check_outtwice_exit(&vcpu.exit, tvm_getstate(&vcpu,
	    NVMM_X64_STATE_GPRS), 0);
	/* Nothing done, RIP left on the OUT: the guest does it again. */
	ATF_REQUIRE_EQ(tvm_run(&vcpu), 0);
	hx_check_outtwice_exit(&vcpu.exit, tvm_getstate(&vcpu,
	    NVMM_X64_STATE_GPRS), 0);
	tvm_assist(&vcpu, tdev_access, &dev);
	ATF_REQUIRE_EQ(tvm_run(&vcpu), 0);
	hx_check_outtwice_exit(&vcpu.exit, tvm_getstate(&vcpu,
	    NVMM_X64_STATE_GPRS), 1);
	/* Read outside the run, the state shows the same. */
	vcpu.comm->state_cached = 0;
	hx_check_outtwice_exit(&vcpu.exit, tvm_getstate(&vcpu,
	    NVMM_X64_STATE_GPRS), 1);
	ATF_REQUIRE_EQ(tvm_run(&vcpu), 0);
	hx_check_outtwice_exit(&vcpu.exit, tvm_getstate(&vcpu,
	    NVMM_X64_STATE_GPRS), 1);
	tvm_assist(&vcpu, tdev_access, &dev);
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(gpr(&vcpu, NVMM_X64_GPR_RIP), TVM_CODE_GPA +
	    (uint64_t)(guest_outtwice_end - guest_outtwice_begin));
	/* Each OUT reached the device once: the repeats had no data phase. */
	ATF_CHECK_EQ(dev.nlog, 2);
	tvm_destroy(&vm);
}

/* -------------------------------------------------------------------------- */

ATF_TC(assist_every_form);
ATF_TC_HEAD(assist_every_form, tc)
{
	atf_tc_set_md_var(tc, "descr", "The h_mem_assist-style guest: "
	    "every instruction form of the assists, results in an RW page");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(assist_every_form, tc)
{
	struct tvcpu vcpu;
	struct tvm vm;
	struct tdev dev;
	uint64_t *data;
	int fd;

	memset(&dev, 0, sizeof(dev));
	tvm_setup_guest(&vm, &vcpu, guest_assist_begin, guest_assist_end);
	data = map_extra(&vm, HX_ASSIST_DATA_GPA, PAGE,
	    PROT_READ | PROT_WRITE, &fd);
	tdev_run_to_halt(&vcpu, &dev, 500);
	hx_check_assist_slots(data);
	tvm_destroy(&vm);
	munmap(data, PAGE);
	close(fd);
}

ATF_TC(ioassist_every_form);
ATF_TC_HEAD(ioassist_every_form, tc)
{
	atf_tc_set_md_var(tc, "descr", "The h_io_assist-style guest: string "
	    "IO with a segment override, 32-bit addresses and DF set");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(ioassist_every_form, tc)
{
	unsigned seen[HX_IOASSIST_NPORTS] = { 0 };
	struct tvcpu vcpu;
	struct tvm vm;
	struct tdev dev;
	uint64_t reason = NVMM_VCPU_EXIT_NONE;
	unsigned n;

	memset(&dev, 0, sizeof(dev));
	tvm_setup_guest(&vm, &vcpu, guest_ioassist_begin, guest_ioassist_end);
	hx_ioassist_fill(vm.ram, tvm_getstate(&vcpu, NVMM_X64_STATE_SEGS));
	tvm_setstate(&vcpu, NVMM_X64_STATE_SEGS);
	for (n = 0; n < 100 && reason != NVMM_VCPU_EXIT_HALTED; n++) {
		reason = tvm_run_reason(&vcpu);
		if (reason == NVMM_VCPU_EXIT_HALTED ||
		    reason == NVMM_VCPU_EXIT_NONE)
			continue;
		hx_check_ioassist_exit(&vcpu.exit,
		    tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS), seen);
		tvm_assist(&vcpu, tdev_access, &dev);
	}
	ATF_REQUIRE_EQ(reason, NVMM_VCPU_EXIT_HALTED);
	hx_check_ioassist_results(dev.log, dev.nlog, vm.ram,
	    tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS), seen);
	tvm_destroy(&vm);
}

ATF_TC(exec_none);
ATF_TC_HEAD(exec_none, tc)
{
	atf_tc_set_md_var(tc, "descr", "Executing a PROT_NONE mapping exits "
	    "as MEMORY with PROT_EXEC, again each run, as NetBSD");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(exec_none, tc)
{
	struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;
	uint64_t *page;
	int fd;

	tvm_setup_guest(&vm, &vcpu, guest_poke_begin, guest_poke_end);
	/* Executing there even with code at hand: PROT_NONE. */
	page = map_extra(&vm, TVM_MMIO_GPA, PAGE, PROT_NONE, &fd);
	memcpy(page, guest_poke_begin, (size_t)(guest_poke_end -
	    guest_poke_begin));
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS);
	st->gprs[NVMM_X64_GPR_RIP] = TVM_MMIO_GPA + 0x10;
	tvm_setstate(&vcpu, NVMM_X64_STATE_GPRS);
	ATF_REQUIRE_EQ(tvm_run(&vcpu), 0);
	ATF_CHECK_EQ_MSG(vcpu.exit.reason, NVMM_VCPU_EXIT_MEMORY,
	    "reason %#jx hwcode %#jx", (uintmax_t)vcpu.exit.reason,
	    (uintmax_t)vcpu.exit.u.inv.hwcode);
	ATF_CHECK_EQ(vcpu.exit.u.mem.prot, PROT_EXEC);
	ATF_CHECK_EQ(vcpu.exit.u.mem.gpa, TVM_MMIO_GPA + 0x10);
	/* Nothing moved: the guest is where it was, and exits again. */
	ATF_CHECK_EQ(gpr(&vcpu, NVMM_X64_GPR_RIP), TVM_MMIO_GPA + 0x10);
	ATF_REQUIRE_EQ(tvm_run(&vcpu), 0);
	ATF_CHECK_EQ(vcpu.exit.reason, NVMM_VCPU_EXIT_MEMORY);
	ATF_CHECK_EQ(vcpu.exit.u.mem.prot, PROT_EXEC);
	tvm_destroy(&vm);
	munmap(page, PAGE);
	close(fd);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, prot_as_guest_sees);
	ATF_TP_ADD_TC(tp, io_at_instruction);
	ATF_TP_ADD_TC(tp, assist_every_form);
	ATF_TP_ADD_TC(tp, ioassist_every_form);
	ATF_TP_ADD_TC(tp, exec_none);
	return atf_no_error();
}
