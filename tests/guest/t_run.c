/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Real guests, written once and run in-process against kernel/ (kern_*)
 * and through libnvmmclient and a private nvmmd (daemon_*): the RESET
 * state in real mode; IO, MMIO and MSR exits in long mode, with the data
 * phase done by the assists and as an emulator without assists does it
 * (setting the GPRs itself); an exception injected through the guest's
 * IDT.  What the guests should do is
 * tests/common/h_expect's; what only one side can see (the comm page's
 * cache, nvmm_gpa_to_hva) is checked where the backend shows it.
 */
#include <sys/mman.h>
#include <string.h>

#include "h_backend.h"

/* io, repio, mmio and msr are h_expect.h's. */
TVM_GUEST(rm_main);
TVM_GUEST(rm_reset);
TVM_GUEST(excp);
extern const uint8_t guest_excp_handler[];

/* The 64 KiB below 4 GiB, the reset vector's: a ROM. */
#define ROM_GPA		0xFFFF0000ULL
#define ROM_SIZE	0x10000UL

/*
 * What an IO exit brings along in the comm page, where visible: a plain
 * IN or OUT the GPRs its assist needs, a string one all its assist may.
 */
#define EXIT_STATE_STR	(NVMM_X64_STATE_GPRS | NVMM_X64_STATE_SEGS |	\
	NVMM_X64_STATE_CRS | NVMM_X64_STATE_MSRS)
#define EXIT_STATE(exit) ((exit)->u.io.str ? EXIT_STATE_STR :		\
	NVMM_X64_STATE_GPRS)

static void
check_cached(struct hb_vcpu *vcpu, uint64_t flags)
{
	const struct hb_backend *be = vcpu->vm->be;

	if (be->cached != NULL)
		ATF_CHECK_EQ_MSG(be->cached(vcpu) & flags, flags,
		    "cached %#jx at the exit, want %#jx",
		    (uintmax_t)be->cached(vcpu), (uintmax_t)flags);
}

/* -------------------------------------------------------------------------- */

/* The ROM with guest_rm_main at its base and guest_rm_reset at 0xFFF0. */
static uint8_t *
map_rom(struct hb_machine *vm)
{
	const size_t main_len = (size_t)(guest_rm_main_end -
	    guest_rm_main_begin);
	uintptr_t hva;
	uint8_t *rom;
	int prot;

	/* A ROM: readable and executable, not writable. */
	rom = hb_map(vm, ROM_GPA, ROM_SIZE, PROT_READ | PROT_EXEC);
	memcpy(rom, guest_rm_main_begin, main_len);
	memcpy(rom + 0xFFF0, guest_rm_reset_begin,
	    (size_t)(guest_rm_reset_end - guest_rm_reset_begin));
	if (vm->be->gpa_to_hva != NULL) {
		vm->be->gpa_to_hva(vm, ROM_GPA + 0xFFF0, &hva, &prot);
		ATF_CHECK_EQ(hva, (uintptr_t)rom + 0xFFF0);
		ATF_CHECK_EQ(prot, NVMM_PROT_READ | NVMM_PROT_EXEC);
	}
	return rom;
}

HB_TC(realmode_reset_vector, "A VCPU starts in the RESET state at the reset "
    "vector of a ROM mapped R|X from a second hva_map, runs real-mode code "
    "and halts past the HLT")
static void
realmode_reset_vector(const struct hb_backend *be)
{
	const uint64_t hlt_ip = (uint64_t)(guest_rm_main_end -
	    guest_rm_main_begin);
	struct nvmm_x64_state *st;
	struct hb_machine vm;
	struct hb_vcpu vcpu;
	struct hb_dev dev;

	hb_machine_create(be, &vm, TVM_RAM_SIZE);
	(void)map_rom(&vm);
	hb_vcpu_create(&vm, 0, &vcpu);

	/* The RESET state, as NetBSD gives it. */
	st = hb_getstate(&vcpu, NVMM_X64_STATE_SEGS | NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(st->segs[NVMM_X64_SEG_CS].selector, 0xF000);
	ATF_CHECK_EQ(st->segs[NVMM_X64_SEG_CS].base, ROM_GPA);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RIP], 0xFFF0);

	ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_IO);
	ATF_CHECK_EQ(vcpu.exit->u.io.port, 0x70);
	ATF_CHECK(!vcpu.exit->u.io.in);
	ATF_CHECK_EQ(vcpu.exit->u.io.operand_size, 2);
	ATF_CHECK_EQ(vcpu.exit->u.io.address_size, 2);
	ATF_CHECK_EQ(hb_gpr(&vcpu, NVMM_X64_GPR_RAX) & 0xFFFF, 5050);
	hb_assist(&vcpu);
	hb_dev(&vcpu, &dev);
	ATF_REQUIRE_EQ(dev.nlog, 1);
	ATF_CHECK_EQ(hx_find_write(dev.log, dev.nlog, 0x70, 0)->value, 5050);
	ATF_CHECK_EQ(hx_find_write(dev.log, dev.nlog, 0x70, 0)->size, 2);

	ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(hb_gpr(&vcpu, NVMM_X64_GPR_RIP), hlt_ip);
	ATF_CHECK_EQ(hb_getstate(&vcpu, NVMM_X64_STATE_SEGS)->
	    segs[NVMM_X64_SEG_CS].base, ROM_GPA);
	hb_dev(&vcpu, &dev);
	ATF_CHECK_EQ(dev.nlog, 1);
	hb_machine_destroy(&vm);
}

/* -------------------------------------------------------------------------- */

HB_TC(io_every_form_assisted, "IN and OUT in every form and size with the "
    "IO assist: exit fields, the state the exit brings, RIP at npc after "
    "the assist, data")
static void
io_every_form_assisted(const struct hb_backend *be)
{
	struct hb_machine vm;
	struct hb_vcpu vcpu;
	struct hb_dev dev;
	size_t i;

	HB_SETUP_GUEST(be, &vm, &vcpu, io);
	for (i = 0; i < HX_NIO; i++) {
		ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_IO);
		check_cached(&vcpu, EXIT_STATE(vcpu.exit));
		hx_check_io_exit(vcpu.exit, hb_getstate(&vcpu,
		    NVMM_X64_STATE_GPRS), i);
		hb_assist(&vcpu);
		/* After the assist, the state shows the instruction done. */
		ATF_CHECK_EQ_MSG(hb_gpr(&vcpu, NVMM_X64_GPR_RIP),
		    vcpu.exit->u.io.npc, "exit %zu", i);
	}
	ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_HALTED);
	hb_dev(&vcpu, &dev);
	ATF_CHECK_EQ(dev.nio_out, 6);
	ATF_CHECK_EQ(dev.nio_in, 6);
	ATF_CHECK_EQ(dev.nlog, 6);
	hx_check_io_writes(dev.log, dev.nlog);
	for (i = 0; i < HX_NIO_OUT; i++)
		ATF_CHECK_EQ(hx_find_write(dev.log, dev.nlog,
		    hx_io_expected[i].port, 0)->size, hx_io_expected[i].size);
	hx_check_io_results(hb_getstate(&vcpu, NVMM_X64_STATE_GPRS));
	hb_machine_destroy(&vm);
}

/*
 * An emulator without assists: it sets RAX for an IN and RIP to npc
 * itself, as NetBSD's emulators may, and the result is the same.
 */
HB_TC(io_every_form_manual, "IN and OUT emulated without the assist, by "
    "setting RAX and RIP = npc with setstate")
static void
io_every_form_manual(const struct hb_backend *be)
{
	struct nvmm_x64_state *st;
	struct hb_machine vm;
	struct hb_vcpu vcpu;
	size_t i;

	HB_SETUP_GUEST(be, &vm, &vcpu, io);
	for (i = 0; i < HX_NIO; i++) {
		ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_IO);
		check_cached(&vcpu, EXIT_STATE(vcpu.exit));
		st = hb_getstate(&vcpu, NVMM_X64_STATE_GPRS);
		hx_check_io_exit(vcpu.exit, st, i);
		hx_io_emulate(vcpu.exit, st, i);
		hb_setstate(&vcpu, NVMM_X64_STATE_GPRS);
	}
	ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_HALTED);
	hx_check_io_results(hb_getstate(&vcpu, NVMM_X64_STATE_GPRS));
	hb_machine_destroy(&vm);
}

/* -------------------------------------------------------------------------- */

/* One exit of guest_repio: every IO of it is a string instruction. */
static void
check_repio_exit(const struct nvmm_vcpu_exit *exit)
{
	int seg;

	ATF_CHECK_MSG(exit->u.io.port >= 0x60 && exit->u.io.port <= 0x64,
	    "port %#x", exit->u.io.port);
	ATF_CHECK_MSG(exit->u.io.str, "port %#x not str", exit->u.io.port);
	ATF_CHECK_EQ(exit->u.io.address_size, 8);
	ATF_CHECK_EQ(exit->u.io.in, exit->u.io.port == 0x62 ||
	    exit->u.io.port == 0x63);
	if (exit->u.io.port == 0x64)
		ATF_CHECK(!exit->u.io.rep);
	/* Known for the REP ones, else maybe -1. */
	seg = exit->u.io.in ? NVMM_X64_SEG_ES : NVMM_X64_SEG_DS;
	if (exit->u.io.port == 0x60 || exit->u.io.port == 0x62)
		ATF_CHECK_EQ(exit->u.io.seg, seg);
	else
		ATF_CHECK_MSG(exit->u.io.seg == seg || exit->u.io.seg == -1,
		    "port %#x: seg %d", exit->u.io.port, exit->u.io.seg);
}

HB_TC(io_rep_string, "REP OUTSB/OUTSW/INSB/INSL with counts above 1 and a "
    "plain OUTSB with the IO assist: data, memory and registers")
static void
io_rep_string(const struct hb_backend *be)
{
	const struct nvmm_x64_state *st;
	struct hb_machine vm;
	struct hb_vcpu vcpu;
	struct hb_dev dev;
	bool saw_rep = false;
	unsigned n;
	size_t i;

	HB_SETUP_GUEST(be, &vm, &vcpu, repio);
	hx_repio_fill(vm.ram);
	for (n = 0; n < 64; n++) {
		if (hb_run(&vcpu) == NVMM_VCPU_EXIT_HALTED)
			break;
		ATF_REQUIRE_EQ_MSG(vcpu.exit->reason, NVMM_VCPU_EXIT_IO,
		    "exit %#jx", (uintmax_t)vcpu.exit->reason);
		check_repio_exit(vcpu.exit);
		saw_rep |= vcpu.exit->u.io.rep;
		hb_assist(&vcpu);
	}
	ATF_REQUIRE_EQ(vcpu.exit->reason, NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_MSG(saw_rep, "no string exit was reported as REP");

	hb_dev(&vcpu, &dev);
	hx_check_repio_writes(dev.log, dev.nlog);
	ATF_CHECK_EQ(hx_count_writes(dev.log, dev.nlog, 0x60), 5);
	ATF_CHECK_EQ(hx_count_writes(dev.log, dev.nlog, 0x61), 3);
	for (i = 0; i < 3; i++)
		ATF_CHECK_EQ(hx_find_write(dev.log, dev.nlog, 0x61,
		    i)->size, 2);
	ATF_CHECK_EQ(hx_count_writes(dev.log, dev.nlog, 0x64), 1);
	ATF_CHECK_EQ(dev.nlog, 9);
	ATF_CHECK_EQ(dev.nio_in, 5 + 2);
	st = hb_getstate(&vcpu, NVMM_X64_STATE_GPRS);
	hx_check_repio_results(vm.ram, st);
	/* Nothing stored past the INS data (hx_repio_fill's filler). */
	ATF_CHECK_EQ(vm.ram[0x8105], 0xEE);
	ATF_CHECK_EQ(vm.ram[0x8208], 0xEE);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RIP],
	    TVM_GUEST_ADDR(repio, guest_repio_end));
	hb_machine_destroy(&vm);
}

/* -------------------------------------------------------------------------- */

HB_TC(mmio_read_write_rmw_movs, "MMIO at an unmapped GPA with the memory "
    "assist: read, write, immediate write, read-modify-write (OR), MOVS "
    "between two MMIO buffers")
static void
mmio_read_write_rmw_movs(const struct hb_backend *be)
{
	const struct nvmm_x64_state *st;
	struct hb_machine vm;
	struct hb_vcpu vcpu;
	struct hb_dev dev;
	unsigned n;

	HB_SETUP_GUEST(be, &vm, &vcpu, mmio);
	hb_dev(&vcpu, &dev);
	hx_mmio_fill(dev.mmio);
	for (n = 0; n < 32; n++) {
		if (hb_run(&vcpu) == NVMM_VCPU_EXIT_HALTED)
			break;
		hx_check_mmio_exit(vcpu.exit);
		hb_assist(&vcpu);
	}
	ATF_REQUIRE_EQ(vcpu.exit->reason, NVMM_VCPU_EXIT_HALTED);

	hb_dev(&vcpu, &dev);
	st = hb_getstate(&vcpu, NVMM_X64_STATE_GPRS);
	hx_check_mmio_results(dev.mmio, st);
	/* Each write of its size, once; the byte written alone. */
	ATF_CHECK_EQ(hx_find_write(dev.log, dev.nlog, TVM_MMIO_GPA + 8,
	    0)->size, 4);
	ATF_CHECK_EQ(hx_find_write(dev.log, dev.nlog, TVM_MMIO_GPA + 16,
	    0)->size, 1);
	ATF_CHECK_EQ(dev.mmio[17], 0);
	ATF_CHECK_EQ(hx_count_writes(dev.log, dev.nlog, TVM_MMIO_GPA + 24), 1);
	ATF_CHECK_EQ(hx_find_write(dev.log, dev.nlog, TVM_MMIO_GPA + 64,
	    0)->size, 8);
	/* Writes: +8, +16, +24 (the OR), +64 (MOVS); nothing else. */
	ATF_CHECK_EQ(dev.nlog, 4);
	/* Reads: +0, +24, +32 (MOVS), +40. */
	ATF_CHECK_EQ(dev.nmem_read, 4);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RIP],
	    TVM_GUEST_ADDR(mmio, guest_mmio_end));
	hb_machine_destroy(&vm);
}

/* -------------------------------------------------------------------------- */

HB_TC(msr_emulated, "RDMSR and WRMSR of MSRs NVMM leaves to the emulator "
    "exit with msr, val and npc and the GPRs at hand; the emulator "
    "emulates them with setstate; STAR stays inside")
static void
msr_emulated(const struct hb_backend *be)
{
	struct nvmm_x64_state *st;
	struct hb_machine vm;
	struct hb_vcpu vcpu;

	HB_SETUP_GUEST(be, &vm, &vcpu, msr);
	ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_RDMSR);
	/* The comm page's GPRs are filled at the exit: no getstate. */
	check_cached(&vcpu, NVMM_X64_STATE_GPRS);
	st = hb_getstate(&vcpu, NVMM_X64_STATE_GPRS);
	/* At the RDMSR, past the 5-byte MOV to ECX. */
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RIP], TVM_CODE_GPA + 5);
	hx_msr_rdmsr(vcpu.exit, st);
	hb_setstate(&vcpu, NVMM_X64_STATE_GPRS);

	ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_WRMSR);
	hx_msr_wrmsr(vcpu.exit, hb_getstate(&vcpu, NVMM_X64_STATE_GPRS));
	hb_setstate(&vcpu, NVMM_X64_STATE_GPRS);

	ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_HALTED);
	hx_check_msr_results(hb_getstate(&vcpu, NVMM_X64_STATE_GPRS |
	    NVMM_X64_STATE_MSRS));
	hb_machine_destroy(&vm);
}

/*
 * An emulator that does not set the GPRs after an MSR exit (to inject
 * #GP, say) sees the guest at the same instruction again, as on NetBSD.
 */
HB_TC(msr_not_emulated_reexecutes, "An MSR exit the emulator leaves alone "
    "exits again at the same RIP")
static void
msr_not_emulated_reexecutes(const struct hb_backend *be)
{
	struct hb_machine vm;
	struct hb_vcpu vcpu;
	uint64_t rip;

	HB_SETUP_GUEST(be, &vm, &vcpu, msr);
	ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_RDMSR);
	rip = hb_gpr(&vcpu, NVMM_X64_GPR_RIP);
	ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_RDMSR);
	ATF_CHECK_EQ(hb_gpr(&vcpu, NVMM_X64_GPR_RIP), rip);
	ATF_CHECK_EQ(vcpu.exit->u.rdmsr.msr, 0x1234);
	hb_machine_destroy(&vm);
}

/* -------------------------------------------------------------------------- */

HB_TC(exception_with_error_code, "An injected #GP with an error code is "
    "delivered through the guest's IDT with that code, once")
static void
exception_with_error_code(const struct hb_backend *be)
{
	struct hb_machine vm;
	struct hb_vcpu vcpu;
	struct hb_dev dev;

	HB_SETUP_GUEST(be, &vm, &vcpu, excp);
	hb_idt_gate(&vm, 13, TVM_GUEST_ADDR(excp, guest_excp_handler));
	ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_HALTED);
	hb_dev(&vcpu, &dev);
	ATF_CHECK_EQ(dev.nlog, 0);

	hb_inject(&vcpu, NVMM_VCPU_EVENT_EXCP, 13, 0x1234);
	ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_IO);
	ATF_CHECK_EQ(vcpu.exit->u.io.port, 0x70);
	if (be->event_pending != NULL)
		ATF_CHECK(!be->event_pending(&vcpu));
	/* In the handler, with the error code popped off the stack. */
	ATF_CHECK_EQ(hb_gpr(&vcpu, NVMM_X64_GPR_RSP), TVM_STACK_TOP - 40);
	hb_assist(&vcpu);
	hb_dev(&vcpu, &dev);
	ATF_REQUIRE_EQ(dev.nlog, 1);
	ATF_CHECK_EQ(hx_find_write(dev.log, dev.nlog, 0x70, 0)->value, 0x1234);
	/* Delivered once: the handler's HLT, no second delivery. */
	ATF_REQUIRE_EQ(hb_run(&vcpu), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(hb_gpr(&vcpu, NVMM_X64_GPR_RIP),
	    TVM_GUEST_ADDR(excp, guest_excp_end));
	hb_dev(&vcpu, &dev);
	ATF_CHECK_EQ(dev.nlog, 1);
	hb_machine_destroy(&vm);
}

ATF_TP_ADD_TCS(tp)
{
	HB_ADD_TC(tp, realmode_reset_vector);
	HB_ADD_TC(tp, io_every_form_assisted);
	HB_ADD_TC(tp, io_every_form_manual);
	HB_ADD_TC(tp, io_rep_string);
	HB_ADD_TC(tp, mmio_read_write_rmw_movs);
	HB_ADD_TC(tp, msr_emulated);
	HB_ADD_TC(tp, msr_not_emulated_reexecutes);
	HB_ADD_TC(tp, exception_with_error_code);
	return atf_no_error();
}
