/*
 * kernel/ with real guests: the RESET state in real mode, and IO, MMIO and
 * MSR exits in long mode, with the data phase done as the assists do it
 * and as an emulator without assists does it (setting the GPRs itself).
 */
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

#include "h_vm.h"

TVM_GUEST(rm_main);
TVM_GUEST(rm_reset);
TVM_GUEST(io);
TVM_GUEST(repio);
TVM_GUEST(mmio);
TVM_GUEST(msr);

#define GUEST_ADDR(name, sym) \
	(TVM_CODE_GPA + (uint64_t)(sym - guest_##name##_begin))

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

/* The IO instructions of guest_io, in order, with their lengths. */
static const struct {
	uint16_t port;
	bool in;
	uint8_t size;
	uint8_t len;
	uint64_t value;		/* OUT data */
} io_expected[] = {
	{ 0x40, false, 1, 2, 0x11 },
	{ 0x41, false, 2, 3, 0x2233 },
	{ 0x42, false, 4, 2, 0x44556677 },
	{ 0x43, false, 1, 1, 0x88 },
	{ 0x44, false, 2, 2, 0x99AA },
	{ 0x45, false, 4, 1, 0xBBCCDDEE },
	{ 0x50, true, 1, 2, 0 },
	{ 0x51, true, 2, 3, 0 },
	{ 0x52, true, 4, 2, 0 },
	{ 0x53, true, 1, 1, 0 },
	{ 0x54, true, 2, 2, 0 },
	{ 0x55, true, 4, 1, 0 },
};
#define NIO (sizeof(io_expected) / sizeof(io_expected[0]))

/*
 * Checks one IO exit against the table.  A read is reported before it
 * happens (RIP at the instruction); a write may have been finished by KVM
 * already, and then npc is RIP.
 */
static void
check_io_exit(struct tvcpu *vcpu, size_t i)
{
	const struct nvmm_x64_state *st;
	uint64_t rip;

	ATF_REQUIRE_EQ_MSG(vcpu->exit.reason, NVMM_VCPU_EXIT_IO,
	    "exit %zu: reason %#jx", i, (uintmax_t)vcpu->exit.reason);
	ATF_CHECK_EQ(vcpu->exit.u.io.port, io_expected[i].port);
	ATF_CHECK_EQ(vcpu->exit.u.io.in, io_expected[i].in);
	ATF_CHECK_EQ(vcpu->exit.u.io.operand_size, io_expected[i].size);
	ATF_CHECK_EQ(vcpu->exit.u.io.address_size, 8);
	ATF_CHECK(!vcpu->exit.u.io.rep);
	ATF_CHECK(!vcpu->exit.u.io.str);
	ATF_CHECK_EQ(vcpu->comm->state_cached &
	    (NVMM_X64_STATE_GPRS | NVMM_X64_STATE_SEGS | NVMM_X64_STATE_CRS |
	    NVMM_X64_STATE_MSRS), NVMM_X64_STATE_GPRS | NVMM_X64_STATE_SEGS |
	    NVMM_X64_STATE_CRS | NVMM_X64_STATE_MSRS);
	st = &vcpu->comm->state;
	rip = st->gprs[NVMM_X64_GPR_RIP];
	if (io_expected[i].in)
		ATF_CHECK_EQ_MSG(vcpu->exit.u.io.npc, rip + io_expected[i].len,
		    "IN %#x: npc %#jx rip %#jx", io_expected[i].port,
		    (uintmax_t)vcpu->exit.u.io.npc, (uintmax_t)rip);
	else
		ATF_CHECK_MSG(vcpu->exit.u.io.npc == rip ||
		    vcpu->exit.u.io.npc == rip + io_expected[i].len,
		    "OUT %#x: npc %#jx rip %#jx", io_expected[i].port,
		    (uintmax_t)vcpu->exit.u.io.npc, (uintmax_t)rip);
	if (!io_expected[i].in)
		ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RAX] &
		    ((1ULL << (8 * io_expected[i].size)) - 1),
		    io_expected[i].value);
}

static void
check_io_results(struct tvcpu *vcpu)
{
	const struct nvmm_x64_state *st;

	/* IN data is port + byte index; sizes 1 and 2 keep RAX's upper bits. */
	st = tvm_getstate(vcpu, NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R8], 0xFFFFFFFFFFFFFF50ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R9], 0xFFFFFFFFFFFF5251ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R10], 0x0000000055545352ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R11], 0xFFFFFFFFFFFFFF53ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R12], 0xFFFFFFFFFFFF5554ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R13], 0x0000000058575655ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RIP],
	    GUEST_ADDR(io, guest_io_end));
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
	for (i = 0; i < NIO; i++) {
		ATF_REQUIRE_EQ(tvm_run(&vcpu), 0);
		check_io_exit(&vcpu, i);
		tvm_assist(&vcpu, tdev_access, &dev);
		/* After the assist, the state shows the instruction done. */
		ATF_CHECK_EQ(gpr(&vcpu, NVMM_X64_GPR_RIP), vcpu.exit.u.io.npc);
	}
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	for (i = 0; i < 6; i++)
		ATF_CHECK_EQ(tdev_find(&dev, io_expected[i].port, 0)->value,
		    io_expected[i].value);
	check_io_results(&vcpu);
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
	struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;
	uint64_t mask, data;
	size_t i, b;

	tvm_setup_guest(&vm, &vcpu, guest_io_begin, guest_io_end);
	for (i = 0; i < NIO; i++) {
		ATF_REQUIRE_EQ(tvm_run(&vcpu), 0);
		check_io_exit(&vcpu, i);
		st = tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS);
		if (io_expected[i].in) {
			data = 0;
			for (b = 0; b < io_expected[i].size; b++)
				data |= (uint64_t)(uint8_t)(io_expected[i].port +
				    b) << (8 * b);
			mask = (1ULL << (8 * io_expected[i].size)) - 1;
			if (io_expected[i].size == 4)
				st->gprs[NVMM_X64_GPR_RAX] = data;
			else
				st->gprs[NVMM_X64_GPR_RAX] =
				    (st->gprs[NVMM_X64_GPR_RAX] & ~mask) | data;
		}
		st->gprs[NVMM_X64_GPR_RIP] = vcpu.exit.u.io.npc;
		tvm_setstate(&vcpu, NVMM_X64_STATE_GPRS);
	}
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	check_io_results(&vcpu);
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
	static const uint16_t words[3] = { 0x1111, 0x2222, 0x3333 };
	const struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;
	struct tdev dev;
	bool saw_rep = false;
	unsigned n;
	size_t i;

	memset(&dev, 0, sizeof(dev));
	tvm_setup_guest(&vm, &vcpu, guest_repio_begin, guest_repio_end);
	memcpy(vm.ram + 0x8000, "ABCDE", 5);
	memcpy(vm.ram + 0x8010, words, sizeof(words));
	vm.ram[0x8020] = 'Z';

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

	for (i = 0; i < 5; i++)
		ATF_CHECK_EQ(tdev_find(&dev, 0x60, i)->value, (uint64_t)"ABCDE"[i]);
	for (i = 0; i < 3; i++)
		ATF_CHECK_EQ(tdev_find(&dev, 0x61, i)->value, words[i]);
	ATF_CHECK_EQ(tdev_find(&dev, 0x64, 0)->value, 'Z');
	/* IN data is port + byte index, per element. */
	for (i = 0; i < 5; i++)
		ATF_CHECK_EQ(vm.ram[0x8100 + i], 0x62);
	for (i = 0; i < 8; i++)
		ATF_CHECK_EQ(vm.ram[0x8200 + i], (uint8_t)(0x63 + i % 4));
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RCX], 0);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RSI], 0x8021);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RDI], 0x8208);
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
	static const uint8_t src[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	const struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;
	struct tdev dev;
	uint32_t v32;
	unsigned n;

	memset(&dev, 0, sizeof(dev));
	tvm_setup_guest(&vm, &vcpu, guest_mmio_begin, guest_mmio_end);
	v32 = 0x44332211;
	memcpy(&dev.mmio[0], &v32, 4);
	v32 = 0x0000ABCD;
	memcpy(&dev.mmio[24], &v32, 4);
	memcpy(&dev.mmio[32], src, 8);
	memcpy(&dev.mmio[40], "nvmmd!!!", 8);

	for (n = 0; n < 32; n++) {
		ATF_REQUIRE_EQ(tvm_run(&vcpu), 0);
		if (vcpu.exit.reason == NVMM_VCPU_EXIT_HALTED)
			break;
		ATF_REQUIRE_EQ(vcpu.exit.reason, NVMM_VCPU_EXIT_MEMORY);
		ATF_CHECK(vcpu.exit.u.mem.gpa >= TVM_MMIO_GPA &&
		    vcpu.exit.u.mem.gpa < TVM_MMIO_GPA + 256);
		ATF_CHECK(vcpu.exit.u.mem.prot == PROT_READ ||
		    vcpu.exit.u.mem.prot == PROT_WRITE);
		tvm_assist(&vcpu, tdev_access, &dev);
	}
	ATF_REQUIRE_EQ(vcpu.exit.reason, NVMM_VCPU_EXIT_HALTED);

	st = tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R8], 0x44332211);
	memcpy(&v32, &dev.mmio[8], 4);
	ATF_CHECK_EQ(v32, 0xDEADBEEF);
	ATF_CHECK_EQ(dev.mmio[16], 5);
	memcpy(&v32, &dev.mmio[24], 4);
	ATF_CHECK_EQ(v32, 0x0000ABCD | 0x100);
	ATF_CHECK(memcmp(&dev.mmio[64], src, 8) == 0);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R10], TVM_MMIO_GPA + 40);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R11], TVM_MMIO_GPA + 72);
	ATF_CHECK(memcmp(&st->gprs[NVMM_X64_GPR_R9], "nvmmd!!!", 8) == 0);
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
	struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;

	tvm_setup_guest(&vm, &vcpu, guest_msr_begin, guest_msr_end);

	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_RDMSR);
	ATF_CHECK_EQ(vcpu.exit.u.rdmsr.msr, 0x1234);
	ATF_CHECK_EQ(vcpu.comm->state_cached & NVMM_X64_STATE_GPRS,
	    NVMM_X64_STATE_GPRS);
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(vcpu.exit.u.rdmsr.npc, st->gprs[NVMM_X64_GPR_RIP] + 2);
	st->gprs[NVMM_X64_GPR_RAX] = 0x5678;
	st->gprs[NVMM_X64_GPR_RDX] = 0x1234;
	st->gprs[NVMM_X64_GPR_RIP] = vcpu.exit.u.rdmsr.npc;
	tvm_setstate(&vcpu, NVMM_X64_STATE_GPRS);

	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_WRMSR);
	ATF_CHECK_EQ(vcpu.exit.u.wrmsr.msr, 0x1235);
	ATF_CHECK_EQ(vcpu.exit.u.wrmsr.val, 0x11223344AABBCCDDULL);
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(vcpu.exit.u.wrmsr.npc, st->gprs[NVMM_X64_GPR_RIP] + 2);
	st->gprs[NVMM_X64_GPR_RIP] = vcpu.exit.u.wrmsr.npc;
	tvm_setstate(&vcpu, NVMM_X64_STATE_GPRS);

	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS | NVMM_X64_STATE_MSRS);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R8], 0x5678);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R9], 0x1234);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R10], 0x12345678);
	ATF_CHECK_EQ(st->msrs[NVMM_X64_MSR_STAR], 0x12345678);
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
