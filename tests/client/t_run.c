/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The guest scenarios of tests/kernel (t_run_io, t_run_events) again, this
 * time as an emulator sees them: through libnvmmclient's public API and a
 * private nvmmd per test case.  The RESET state in real mode; IO, MMIO
 * and MSR exits in long mode with the assists and without them; an
 * exception injected through the guest's IDT; nvmm_vcpu_stop from another
 * thread.  The rest of the API, and its errno values, are t_api's.
 * What the guests should do is tests/common/h_expect's, as for kernel/.
 */
#include <sys/mman.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "h_client.h"
#include "h_daemon.h"

/* io, repio, mmio and msr are h_expect.h's. */
TVM_GUEST(rm_main);
TVM_GUEST(rm_reset);
TVM_GUEST(excp);
extern const uint8_t guest_excp_handler[];
TVM_GUEST(spin);

/* -------------------------------------------------------------------------- */

HC_DAEMON_TC(realmode_reset_vector, "A VCPU starts in the RESET state at the "
    "reset vector of a ROM mapped R|X from a second hva_map, runs real-mode "
    "code and halts past the HLT")
ATF_TC_BODY(realmode_reset_vector, tc)
{
	const uint64_t hlt_ip = (uint64_t)(guest_rm_main_end -
	    guest_rm_main_begin);
	struct nvmm_x64_state *st;
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	uintptr_t hva;
	nvmm_prot_t prot;
	uint8_t *rom;
	pid_t pid;

	pid = hc_start_daemon();
	hc_dev_init(&dev);
	hc_machine_create(&vm, TVM_RAM_SIZE);
	rom = hc_map(&vm, HC_ROM_GPA, HC_ROM_SIZE, PROT_READ | PROT_EXEC);
	memcpy(rom, guest_rm_main_begin, hlt_ip);
	memcpy(rom + 0xFFF0, guest_rm_reset_begin,
	    (size_t)(guest_rm_reset_end - guest_rm_reset_begin));
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, HC_ROM_GPA + 0xFFF0, &hva,
	    &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)rom + 0xFFF0);
	ATF_CHECK_EQ(prot, NVMM_PROT_READ | NVMM_PROT_EXEC);
	hc_vcpu_create(&vm, 0, &hv, &dev);

	/* The RESET state, as NetBSD gives it. */
	st = hc_getstate(&hv, NVMM_X64_STATE_SEGS | NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(st->segs[NVMM_X64_SEG_CS].selector, 0xF000);
	ATF_CHECK_EQ(st->segs[NVMM_X64_SEG_CS].base, HC_ROM_GPA);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RIP], 0xFFF0);

	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_IO);
	ATF_CHECK_EQ(hv.vcpu.exit->u.io.port, 0x70);
	ATF_CHECK(!hv.vcpu.exit->u.io.in);
	ATF_CHECK_EQ(hv.vcpu.exit->u.io.operand_size, 2);
	ATF_CHECK_EQ(hv.vcpu.exit->u.io.address_size, 2);
	ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RAX) & 0xFFFF, 5050);
	HC_REQUIRE_OK(nvmm_assist_io(&vm.mach, &hv.vcpu));
	ATF_REQUIRE_EQ(dev.nlog, 1);
	ATF_CHECK_EQ(hc_dev_find(&dev, 0x70, 0)->value, 5050);
	ATF_CHECK_EQ(hc_dev_find(&dev, 0x70, 0)->size, 2);

	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RIP), hlt_ip);
	ATF_CHECK_EQ(hc_getstate(&hv, NVMM_X64_STATE_SEGS)->
	    segs[NVMM_X64_SEG_CS].base, HC_ROM_GPA);
	ATF_CHECK_EQ(dev.nlog, 1);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

HC_DAEMON_TC(io_every_form_assisted, "IN and OUT in every form and size "
    "with nvmm_assist_io: exit fields, RIP at npc after the assist, data")
ATF_TC_BODY(io_every_form_assisted, tc)
{
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	pid_t pid;
	size_t i;

	pid = hc_start_daemon();
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest_io_begin, guest_io_end);
	for (i = 0; i < HX_NIO; i++) {
		ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_IO);
		hx_check_io_exit(hv.vcpu.exit, hc_getstate(&hv,
		    NVMM_X64_STATE_GPRS), i);
		HC_REQUIRE_OK(nvmm_assist_io(&vm.mach, &hv.vcpu));
		ATF_REQUIRE_EQ_MSG(dev.error, 0, "%s", dev.errmsg);
		/* After the assist, the state shows the instruction done. */
		ATF_CHECK_EQ_MSG(hc_gpr(&hv, NVMM_X64_GPR_RIP),
		    hv.vcpu.exit->u.io.npc, "exit %zu", i);
	}
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(dev.nio_out, 6);
	ATF_CHECK_EQ(dev.nio_in, 6);
	ATF_CHECK_EQ(dev.nlog, 6);
	hx_check_io_writes(dev.log, dev.nlog);
	for (i = 0; i < HX_NIO_OUT; i++)
		ATF_CHECK_EQ(hc_dev_find(&dev, hx_io_expected[i].port, 0)->size,
		    hx_io_expected[i].size);
	hx_check_io_results(hc_getstate(&hv, NVMM_X64_STATE_GPRS));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/*
 * An emulator without assists: it sets RAX for an IN and RIP to npc
 * itself, as NetBSD's emulators may, and the result is the same.
 */
HC_DAEMON_TC(io_every_form_manual, "IN and OUT emulated without the assist, "
    "by setting RAX and RIP = npc with nvmm_vcpu_setstate")
ATF_TC_BODY(io_every_form_manual, tc)
{
	struct nvmm_x64_state *st;
	struct hc_machine vm;
	struct hc_vcpu hv;
	pid_t pid;
	size_t i;

	pid = hc_start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_io_begin, guest_io_end);
	for (i = 0; i < HX_NIO; i++) {
		ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_IO);
		st = hc_getstate(&hv, NVMM_X64_STATE_GPRS);
		hx_check_io_exit(hv.vcpu.exit, st, i);
		hx_io_emulate(hv.vcpu.exit, st, i);
		hc_setstate(&hv, NVMM_X64_STATE_GPRS);
	}
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	hx_check_io_results(hc_getstate(&hv, NVMM_X64_STATE_GPRS));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

HC_DAEMON_TC(io_rep_string, "REP OUTSB/OUTSW/INSB/INSL with counts above 1 "
    "and a plain OUTSB with nvmm_assist_io: data, memory and registers")
ATF_TC_BODY(io_rep_string, tc)
{
	const struct nvmm_vcpu_exit *exit;
	const struct nvmm_x64_state *st;
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	bool saw_rep = false;
	unsigned n;
	pid_t pid;
	size_t i;
	int seg;

	pid = hc_start_daemon();
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest_repio_begin, guest_repio_end);
	hx_repio_fill(vm.ram);

	exit = hv.vcpu.exit;
	for (n = 0; n < 64; n++) {
		if (hc_run_reason(&hv) == NVMM_VCPU_EXIT_HALTED)
			break;
		ATF_REQUIRE_EQ_MSG(exit->reason, NVMM_VCPU_EXIT_IO,
		    "exit %#jx", (uintmax_t)exit->reason);
		ATF_CHECK_MSG(exit->u.io.port >= 0x60 &&
		    exit->u.io.port <= 0x64, "port %#x", exit->u.io.port);
		/* Every IO of this guest is a string instruction. */
		ATF_CHECK_MSG(exit->u.io.str, "port %#x not str",
		    exit->u.io.port);
		ATF_CHECK_EQ(exit->u.io.address_size, 8);
		ATF_CHECK_EQ(exit->u.io.in, exit->u.io.port == 0x62 ||
		    exit->u.io.port == 0x63);
		if (exit->u.io.port == 0x64)
			ATF_CHECK(!exit->u.io.rep);
		/* Known for the REP ones (as in kernel/), else maybe -1. */
		seg = exit->u.io.in ? NVMM_X64_SEG_ES : NVMM_X64_SEG_DS;
		if (exit->u.io.port == 0x60 || exit->u.io.port == 0x62)
			ATF_CHECK_EQ(exit->u.io.seg, seg);
		else
			ATF_CHECK_MSG(exit->u.io.seg == seg ||
			    exit->u.io.seg == -1, "port %#x: seg %d",
			    exit->u.io.port, exit->u.io.seg);
		saw_rep |= exit->u.io.rep;
		hc_assist(&hv);
	}
	ATF_REQUIRE_EQ(exit->reason, NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_MSG(saw_rep, "no string exit was reported as REP");

	hx_check_repio_writes(dev.log, dev.nlog);
	ATF_CHECK_EQ(hc_dev_count(&dev, 0x60), 5);
	ATF_CHECK_EQ(hc_dev_count(&dev, 0x61), 3);
	for (i = 0; i < 3; i++)
		ATF_CHECK_EQ(hc_dev_find(&dev, 0x61, i)->size, 2);
	ATF_CHECK_EQ(hc_dev_count(&dev, 0x64), 1);
	ATF_CHECK_EQ(dev.nlog, 9);
	ATF_CHECK_EQ(dev.nio_in, 5 + 2);
	st = hc_getstate(&hv, NVMM_X64_STATE_GPRS);
	hx_check_repio_results(vm.ram, st);
	/* Nothing stored past the INS data (hx_repio_fill's filler). */
	ATF_CHECK_EQ(vm.ram[0x8105], 0xEE);
	ATF_CHECK_EQ(vm.ram[0x8208], 0xEE);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RIP],
	    TVM_GUEST_ADDR(repio, guest_repio_end));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

HC_DAEMON_TC(mmio_read_write_rmw_movs, "MMIO with nvmm_assist_mem: read, "
    "write, immediate write, read-modify-write (OR), MOVS between two "
    "MMIO buffers")
ATF_TC_BODY(mmio_read_write_rmw_movs, tc)
{
	const struct nvmm_vcpu_exit *exit;
	const struct nvmm_x64_state *st;
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	unsigned n;
	pid_t pid;

	pid = hc_start_daemon();
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest_mmio_begin, guest_mmio_end);
	hx_mmio_fill(dev.mmio);

	exit = hv.vcpu.exit;
	for (n = 0; n < 32; n++) {
		if (hc_run_reason(&hv) == NVMM_VCPU_EXIT_HALTED)
			break;
		hx_check_mmio_exit(exit);
		hc_assist(&hv);
	}
	ATF_REQUIRE_EQ(exit->reason, NVMM_VCPU_EXIT_HALTED);

	st = hc_getstate(&hv, NVMM_X64_STATE_GPRS);
	hx_check_mmio_results(dev.mmio, st);
	/* Each write of its size, once; the byte written alone. */
	ATF_CHECK_EQ(hc_dev_find(&dev, TVM_MMIO_GPA + 8, 0)->size, 4);
	ATF_CHECK_EQ(hc_dev_find(&dev, TVM_MMIO_GPA + 16, 0)->size, 1);
	ATF_CHECK_EQ(dev.mmio[17], 0);
	ATF_CHECK_EQ(hc_dev_count(&dev, TVM_MMIO_GPA + 24), 1);
	ATF_CHECK_EQ(hc_dev_find(&dev, TVM_MMIO_GPA + 64, 0)->size, 8);
	/* Writes: +8, +16, +24 (the OR), +64 (MOVS); nothing else. */
	ATF_CHECK_EQ(dev.nlog, 4);
	/* Reads: +0, +24, +32 (MOVS), +40. */
	ATF_CHECK_EQ(dev.nmem_read, 4);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RIP],
	    TVM_GUEST_ADDR(mmio, guest_mmio_end));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

HC_DAEMON_TC(msr_emulated, "RDMSR and WRMSR of MSRs NVMM leaves to the "
    "emulator exit with msr, val and npc; the program emulates them with "
    "setstate; STAR stays inside")
ATF_TC_BODY(msr_emulated, tc)
{
	const struct nvmm_vcpu_exit *exit;
	struct nvmm_x64_state *st;
	struct hc_machine vm;
	struct hc_vcpu hv;
	pid_t pid;

	pid = hc_start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_msr_begin, guest_msr_end);
	exit = hv.vcpu.exit;

	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_RDMSR);
	st = hc_getstate(&hv, NVMM_X64_STATE_GPRS);
	/* At the RDMSR, past the 5-byte MOV to ECX. */
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RIP], TVM_CODE_GPA + 5);
	hx_msr_rdmsr(exit, st);
	hc_setstate(&hv, NVMM_X64_STATE_GPRS);

	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_WRMSR);
	hx_msr_wrmsr(exit, hc_getstate(&hv, NVMM_X64_STATE_GPRS));
	hc_setstate(&hv, NVMM_X64_STATE_GPRS);

	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	hx_check_msr_results(hc_getstate(&hv, NVMM_X64_STATE_GPRS |
	    NVMM_X64_STATE_MSRS));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

HC_DAEMON_TC(msr_not_emulated_reexecutes, "An MSR exit the program leaves "
    "alone exits again at the same RIP")
ATF_TC_BODY(msr_not_emulated_reexecutes, tc)
{
	struct hc_machine vm;
	struct hc_vcpu hv;
	uint64_t rip;
	pid_t pid;

	pid = hc_start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_msr_begin, guest_msr_end);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_RDMSR);
	rip = hc_gpr(&hv, NVMM_X64_GPR_RIP);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_RDMSR);
	ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RIP), rip);
	ATF_CHECK_EQ(hv.vcpu.exit->u.rdmsr.msr, 0x1234);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

HC_DAEMON_TC(exception_with_error_code, "An exception with an error code "
    "injected with nvmm_vcpu_inject is delivered through the guest's IDT "
    "with that code")
ATF_TC_BODY(exception_with_error_code, tc)
{
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	pid_t pid;

	pid = hc_start_daemon();
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest_excp_begin, guest_excp_end);
	hc_idt_gate(&vm, 13, TVM_GUEST_ADDR(excp, guest_excp_handler));
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(dev.nlog, 0);

	hc_inject(&hv, NVMM_VCPU_EVENT_EXCP, 13, 0x1234);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_IO);
	ATF_CHECK_EQ(hv.vcpu.exit->u.io.port, 0x70);
	/* In the handler, with the error code popped off the stack. */
	ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RSP), TVM_STACK_TOP - 40);
	hc_assist(&hv);
	ATF_REQUIRE_EQ(dev.nlog, 1);
	ATF_CHECK_EQ(hc_dev_find(&dev, 0x70, 0)->value, 0x1234);
	/* Delivered once: the handler's HLT, no second delivery. */
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RIP),
	    TVM_GUEST_ADDR(excp, guest_excp_end));
	ATF_CHECK_EQ(dev.nlog, 1);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

struct stopper {
	struct nvmm_vcpu *vcpu;
	long delay_ms;
	int ret;
};

static void *
stopper_main(void *arg)
{
	struct stopper *s = arg;

	hc_sleep_ms(s->delay_ms);
	s->ret = nvmm_vcpu_stop(s->vcpu);
	return NULL;
}

HC_DAEMON_TC(stop_from_thread, "nvmm_vcpu_stop from another thread makes the "
    "run of a spinning guest return NVMM_VCPU_EXIT_STOPPED")
ATF_TC_BODY(stop_from_thread, tc)
{
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct stopper s;
	pthread_t t;
	pid_t pid;
	int i;

	pid = hc_start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_spin_begin, guest_spin_end);
	for (i = 0; i < 3; i++) {
		s.vcpu = &hv.vcpu;
		s.delay_ms = 20 + 20 * i;
		s.ret = -2;
		ATF_REQUIRE_EQ(pthread_create(&t, NULL, stopper_main, &s), 0);
		ATF_CHECK_EQ_MSG(hc_run_reason(&hv), NVMM_VCPU_EXIT_STOPPED,
		    "round %d: exit %#jx", i,
		    (uintmax_t)hv.vcpu.exit->reason);
		ATF_REQUIRE_EQ(pthread_join(t, NULL), 0);
		ATF_CHECK_EQ(s.ret, 0);
		/* Consumed by the return, as on NetBSD. */
		ATF_CHECK_EQ(*hv.vcpu.stop, 0);
		/* The guest was spinning, not elsewhere. */
		ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RIP), TVM_CODE_GPA);
	}
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, realmode_reset_vector);
	ATF_TP_ADD_TC(tp, io_every_form_assisted);
	ATF_TP_ADD_TC(tp, io_every_form_manual);
	ATF_TP_ADD_TC(tp, io_rep_string);
	ATF_TP_ADD_TC(tp, mmio_read_write_rmw_movs);
	ATF_TP_ADD_TC(tp, msr_emulated);
	ATF_TP_ADD_TC(tp, msr_not_emulated_reexecutes);
	ATF_TP_ADD_TC(tp, exception_with_error_code);
	ATF_TP_ADD_TC(tp, stop_from_thread);
	return atf_no_error();
}
