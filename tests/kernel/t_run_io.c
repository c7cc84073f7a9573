/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * kernel/ with real guests: the RESET state in real mode, and IO, MMIO and
 * MSR exits in long mode, with the data phase done as the assists do it
 * and as an emulator without assists does it (setting the GPRs itself).
 * What the guests should do is tests/common/h_expect's, which
 * tests/client/t_run checks through nvmmd too.
 */
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

#include "h_vm.h"

/* io, repio, mmio and msr are h_expect.h's. */
TVM_GUEST(rm_main);
TVM_GUEST(rm_reset);

static uint64_t
gpr(struct tvcpu *vcpu, int index)
{
	return tvm_getstate(vcpu, NVMM_X64_STATE_GPRS)->gprs[index];
}

/* -------------------------------------------------------------------------- */

ATF_TC(realmode_reset_vector);
ATF_TC_HEAD(realmode_reset_vector, tc)
{
	atf_tc_set_md_var(tc, "descr", "A VCPU starts in the RESET state at "
	    "the reset vector, runs real-mode code and halts past the HLT");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(realmode_reset_vector, tc)
{
	const size_t romsize = 0x10000;
	const uint64_t hlt_ip = (uint64_t)(guest_rm_main_end -
	    guest_rm_main_begin);
	struct tvcpu vcpu;
	struct tvm vm;
	struct tdev dev;
	uint8_t *rom;
	int fd;

	tvm_create(&vm, TVM_RAM_SIZE);
	fd = tvm_memfd(romsize);
	rom = mmap(NULL, romsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ATF_REQUIRE(rom != MAP_FAILED);
	memcpy(rom, guest_rm_main_begin, hlt_ip);
	memcpy(rom + 0xFFF0, guest_rm_reset_begin,
	    (size_t)(guest_rm_reset_end - guest_rm_reset_begin));
	ATF_REQUIRE_EQ(nvmm_kern_hva_map(vm.owner, vm.machid, (uintptr_t)rom,
	    romsize, fd, 0), 0);
	/* A ROM: readable and executable, not writable. */
	ATF_REQUIRE_EQ(nvmm_kern_gpa_map(vm.owner, vm.machid, (uintptr_t)rom,
	    0xFFFF0000, romsize, PROT_READ | PROT_EXEC), 0);
	tvm_vcpu_create(&vm, 0, &vcpu);

	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_IO);
	ATF_CHECK_EQ(vcpu.exit.u.io.port, 0x70);
	ATF_CHECK_EQ(vcpu.exit.u.io.operand_size, 2);
	ATF_CHECK_EQ(vcpu.exit.u.io.address_size, 2);
	ATF_CHECK_EQ(gpr(&vcpu, NVMM_X64_GPR_RAX) & 0xFFFF, 5050);
	memset(&dev, 0, sizeof(dev));
	tvm_assist(&vcpu, tdev_access, &dev);
	ATF_CHECK_EQ(tdev_find(&dev, 0x70, 0)->value, 5050);

	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(gpr(&vcpu, NVMM_X64_GPR_RIP), hlt_ip);
	ATF_CHECK_EQ(tvm_getstate(&vcpu, NVMM_X64_STATE_SEGS)->
	    segs[NVMM_X64_SEG_CS].base, 0xFFFF0000);
	tvm_destroy(&vm);
	close(fd);
}

/* -------------------------------------------------------------------------- */

/*
 * Checks one IO exit against guest_io's table (h_expect), and that the
 * exit brought the state an emulator needs with it, in the comm page.
 */
static void
check_io_exit(struct tvcpu *vcpu, size_t i)
{
	hx_check_io_exit(&vcpu->exit, &vcpu->comm->state, i);
	ATF_CHECK_EQ(vcpu->comm->state_cached &
	    (NVMM_X64_STATE_GPRS | NVMM_X64_STATE_SEGS | NVMM_X64_STATE_CRS |
	    NVMM_X64_STATE_MSRS), NVMM_X64_STATE_GPRS | NVMM_X64_STATE_SEGS |
	    NVMM_X64_STATE_CRS | NVMM_X64_STATE_MSRS);
}

ATF_TC(io_every_form_assisted);
ATF_TC_HEAD(io_every_form_assisted, tc)
{
	atf_tc_set_md_var(tc, "descr", "IN and OUT in every form and size: "
	    "exit fields, data phase through the access page, results");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(io_every_form_assisted, tc)
{
	struct tvcpu vcpu;
	struct tvm vm;
	struct tdev dev;
	size_t i;

	memset(&dev, 0, sizeof(dev));
	tvm_setup_guest(&vm, &vcpu, guest_io_begin, guest_io_end);
	for (i = 0; i < HX_NIO; i++) {
		ATF_REQUIRE_EQ(tvm_run(&vcpu), 0);
		check_io_exit(&vcpu, i);
		tvm_assist(&vcpu, tdev_access, &dev);
		/* After the assist, the state shows the instruction done. */
		ATF_CHECK_EQ(gpr(&vcpu, NVMM_X64_GPR_RIP), vcpu.exit.u.io.npc);
	}
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	hx_check_io_writes(dev.log, dev.nlog);
	hx_check_io_results(tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS));
	tvm_destroy(&vm);
}

/*
 * An emulator without assists: it sets RAX for an IN and RIP to npc
 * itself, as NetBSD's emulators do, and the result is the same.
 */
ATF_TC(io_every_form_manual);
ATF_TC_HEAD(io_every_form_manual, tc)
{
	atf_tc_set_md_var(tc, "descr", "IN and OUT emulated by setting the "
	    "GPRs (RAX, RIP = npc) instead of using the access page");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(io_every_form_manual, tc)
{
	struct tvcpu vcpu;
	struct tvm vm;
	size_t i;

	tvm_setup_guest(&vm, &vcpu, guest_io_begin, guest_io_end);
	for (i = 0; i < HX_NIO; i++) {
		ATF_REQUIRE_EQ(tvm_run(&vcpu), 0);
		check_io_exit(&vcpu, i);
		hx_io_emulate(&vcpu.exit, tvm_getstate(&vcpu,
		    NVMM_X64_STATE_GPRS), i);
		tvm_setstate(&vcpu, NVMM_X64_STATE_GPRS);
	}
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	hx_check_io_results(tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS));
	tvm_destroy(&vm);
}

/* -------------------------------------------------------------------------- */

ATF_TC(io_rep_string);
ATF_TC_HEAD(io_rep_string, tc)
{
	atf_tc_set_md_var(tc, "descr", "REP OUTSB/OUTSW/INSB/INSL with counts "
	    "above 1 and a plain OUTSB: data, memory and registers");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(io_rep_string, tc)
{
	struct tvcpu vcpu;
	struct tvm vm;
	struct tdev dev;
	bool saw_rep = false;
	unsigned n;

	memset(&dev, 0, sizeof(dev));
	tvm_setup_guest(&vm, &vcpu, guest_repio_begin, guest_repio_end);
	hx_repio_fill(vm.ram);

	for (n = 0; n < 64; n++) {
		ATF_REQUIRE_EQ(tvm_run(&vcpu), 0);
		if (vcpu.exit.reason == NVMM_VCPU_EXIT_HALTED)
			break;
		ATF_REQUIRE_EQ(vcpu.exit.reason, NVMM_VCPU_EXIT_IO);
		if (vcpu.exit.u.io.port == 0x60 || vcpu.exit.u.io.port == 0x62) {
			ATF_CHECK(vcpu.exit.u.io.str);
			ATF_CHECK_EQ(vcpu.exit.u.io.address_size, 8);
			ATF_CHECK_EQ(vcpu.exit.u.io.seg, vcpu.exit.u.io.in ?
			    NVMM_X64_SEG_ES : NVMM_X64_SEG_DS);
			saw_rep |= vcpu.exit.u.io.rep;
		}
		tvm_assist(&vcpu, tdev_access, &dev);
	}
	ATF_REQUIRE_EQ(vcpu.exit.reason, NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_MSG(saw_rep, "no string exit was reported as REP");
	hx_check_repio_writes(dev.log, dev.nlog);
	hx_check_repio_results(vm.ram, tvm_getstate(&vcpu,
	    NVMM_X64_STATE_GPRS));
	tvm_destroy(&vm);
}

/* -------------------------------------------------------------------------- */

ATF_TC(mmio_read_write_rmw_movs);
ATF_TC_HEAD(mmio_read_write_rmw_movs, tc)
{
	atf_tc_set_md_var(tc, "descr", "MMIO at an unmapped GPA: read, write, "
	    "immediate write, read-modify-write, MOVS between two buffers");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(mmio_read_write_rmw_movs, tc)
{
	struct tvcpu vcpu;
	struct tvm vm;
	struct tdev dev;
	unsigned n;

	memset(&dev, 0, sizeof(dev));
	tvm_setup_guest(&vm, &vcpu, guest_mmio_begin, guest_mmio_end);
	hx_mmio_fill(dev.mmio);

	for (n = 0; n < 32; n++) {
		ATF_REQUIRE_EQ(tvm_run(&vcpu), 0);
		if (vcpu.exit.reason == NVMM_VCPU_EXIT_HALTED)
			break;
		hx_check_mmio_exit(&vcpu.exit);
		tvm_assist(&vcpu, tdev_access, &dev);
	}
	ATF_REQUIRE_EQ(vcpu.exit.reason, NVMM_VCPU_EXIT_HALTED);
	hx_check_mmio_results(dev.mmio, tvm_getstate(&vcpu,
	    NVMM_X64_STATE_GPRS));
	tvm_destroy(&vm);
}

/* -------------------------------------------------------------------------- */

ATF_TC(msr_unknown);
ATF_TC_HEAD(msr_unknown, tc)
{
	atf_tc_set_md_var(tc, "descr", "RDMSR and WRMSR of MSRs NVMM leaves "
	    "to the emulator exit with msr, val and npc; STAR stays inside");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(msr_unknown, tc)
{
	struct tvcpu vcpu;
	struct tvm vm;

	tvm_setup_guest(&vm, &vcpu, guest_msr_begin, guest_msr_end);

	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_RDMSR);
	/* kernel/ fills the comm page's GPRs at the exit: no getstate. */
	ATF_CHECK_EQ(vcpu.comm->state_cached & NVMM_X64_STATE_GPRS,
	    NVMM_X64_STATE_GPRS);
	hx_msr_rdmsr(&vcpu.exit, tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS));
	tvm_setstate(&vcpu, NVMM_X64_STATE_GPRS);

	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_WRMSR);
	hx_msr_wrmsr(&vcpu.exit, tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS));
	tvm_setstate(&vcpu, NVMM_X64_STATE_GPRS);

	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	hx_check_msr_results(tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS |
	    NVMM_X64_STATE_MSRS));
	tvm_destroy(&vm);
}

/*
 * An emulator that does not set the GPRs after an MSR exit (to inject
 * #GP, say) sees the guest at the same instruction again, as on NetBSD.
 */
ATF_TC(msr_not_emulated_reexecutes);
ATF_TC_HEAD(msr_not_emulated_reexecutes, tc)
{
	atf_tc_set_md_var(tc, "descr", "An MSR exit the emulator leaves alone "
	    "exits again at the same RIP");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(msr_not_emulated_reexecutes, tc)
{
	struct tvcpu vcpu;
	struct tvm vm;
	uint64_t rip;

	tvm_setup_guest(&vm, &vcpu, guest_msr_begin, guest_msr_end);
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_RDMSR);
	rip = gpr(&vcpu, NVMM_X64_GPR_RIP);
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_RDMSR);
	ATF_CHECK_EQ(gpr(&vcpu, NVMM_X64_GPR_RIP), rip);
	ATF_CHECK_EQ(vcpu.exit.u.rdmsr.msr, 0x1234);
	tvm_destroy(&vm);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, realmode_reset_vector);
	ATF_TP_ADD_TC(tp, io_every_form_assisted);
	ATF_TP_ADD_TC(tp, io_every_form_manual);
	ATF_TP_ADD_TC(tp, io_rep_string);
	ATF_TP_ADD_TC(tp, mmio_read_write_rmw_movs);
	ATF_TP_ADD_TC(tp, msr_unknown);
	ATF_TP_ADD_TC(tp, msr_not_emulated_reexecutes);
	return atf_no_error();
}
