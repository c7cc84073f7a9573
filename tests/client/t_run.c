/*
 * The guest scenarios of tests/kernel (t_run_io, t_run_events) again, this
 * time as an emulator sees them: through libnvmmclient's public API and a
 * private nvmmd per test case.  The RESET state in real mode; IO, MMIO
 * and MSR exits in long mode with the assists and without them; an
 * exception injected through the guest's IDT; nvmm_vcpu_stop from another
 * thread.  The rest of the API, and its errno values, are t_api's.
 */
#include <sys/mman.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "h_client.h"
#include "h_daemon.h"

TVM_GUEST(rm_main);
TVM_GUEST(rm_reset);
TVM_GUEST(io);
TVM_GUEST(repio);
TVM_GUEST(mmio);
TVM_GUEST(msr);
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
 * Checks one IO exit against the table.  An IN is reported before it
 * happens (RIP at the instruction); an OUT may have been finished
 * already, and then npc is RIP.
 */
static void
check_io_exit(struct hc_vcpu *hv, size_t i)
{
	const struct nvmm_vcpu_exit *exit = hv->vcpu.exit;
	const struct nvmm_x64_state *st;
	uint64_t rip;

	ATF_REQUIRE_EQ_MSG(exit->reason, NVMM_VCPU_EXIT_IO,
	    "exit %zu: reason %#jx", i, (uintmax_t)exit->reason);
	ATF_CHECK_EQ_MSG(exit->u.io.port, io_expected[i].port, "exit %zu: "
	    "port %#x", i, exit->u.io.port);
	ATF_CHECK_EQ(exit->u.io.in, io_expected[i].in);
	ATF_CHECK_EQ(exit->u.io.operand_size, io_expected[i].size);
	ATF_CHECK_EQ(exit->u.io.address_size, 8);
	ATF_CHECK(!exit->u.io.rep);
	ATF_CHECK(!exit->u.io.str);
	st = hc_getstate(hv, NVMM_X64_STATE_GPRS);
	rip = st->gprs[NVMM_X64_GPR_RIP];
	if (io_expected[i].in)
		ATF_CHECK_EQ_MSG(exit->u.io.npc, rip + io_expected[i].len,
		    "IN %#x: npc %#jx rip %#jx", io_expected[i].port,
		    (uintmax_t)exit->u.io.npc, (uintmax_t)rip);
	else
		ATF_CHECK_MSG(exit->u.io.npc == rip ||
		    exit->u.io.npc == rip + io_expected[i].len,
		    "OUT %#x: npc %#jx rip %#jx", io_expected[i].port,
		    (uintmax_t)exit->u.io.npc, (uintmax_t)rip);
	if (!io_expected[i].in)
		ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RAX] &
		    ((1ULL << (8 * io_expected[i].size)) - 1),
		    io_expected[i].value);
}

static void
check_io_results(struct hc_vcpu *hv)
{
	const struct nvmm_x64_state *st;

	/* IN data is port + byte index; sizes 1 and 2 keep RAX's upper bits. */
	st = hc_getstate(hv, NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R8], 0xFFFFFFFFFFFFFF50ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R9], 0xFFFFFFFFFFFF5251ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R10], 0x0000000055545352ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R11], 0xFFFFFFFFFFFFFF53ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R12], 0xFFFFFFFFFFFF5554ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R13], 0x0000000058575655ULL);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RIP],
	    TVM_GUEST_ADDR(io, guest_io_end));
}

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
	for (i = 0; i < NIO; i++) {
		ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_IO);
		check_io_exit(&hv, i);
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
	for (i = 0; i < 6; i++) {
		ATF_CHECK_EQ(hc_dev_find(&dev, io_expected[i].port, 0)->value,
		    io_expected[i].value);
		ATF_CHECK_EQ(hc_dev_find(&dev, io_expected[i].port, 0)->size,
		    io_expected[i].size);
	}
	check_io_results(&hv);
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
	uint64_t mask, data;
	pid_t pid;
	size_t i, b;

	pid = hc_start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_io_begin, guest_io_end);
	for (i = 0; i < NIO; i++) {
		ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_IO);
		check_io_exit(&hv, i);
		st = hc_getstate(&hv, NVMM_X64_STATE_GPRS);
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
		st->gprs[NVMM_X64_GPR_RIP] = hv.vcpu.exit->u.io.npc;
		hc_setstate(&hv, NVMM_X64_STATE_GPRS);
	}
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	check_io_results(&hv);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

HC_DAEMON_TC(io_rep_string, "REP OUTSB/OUTSW/INSB/INSL with counts above 1 "
    "and a plain OUTSB with nvmm_assist_io: data, memory and registers")
ATF_TC_BODY(io_rep_string, tc)
{
	static const uint16_t words[3] = { 0x1111, 0x2222, 0x3333 };
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
	memcpy(vm.ram + 0x8000, "ABCDE", 5);
	memcpy(vm.ram + 0x8010, words, sizeof(words));
	vm.ram[0x8020] = 'Z';
	memset(vm.ram + 0x8100, 0xEE, 0x200);

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

	ATF_CHECK_EQ(hc_dev_count(&dev, 0x60), 5);
	for (i = 0; i < 5; i++)
		ATF_CHECK_EQ(hc_dev_find(&dev, 0x60, i)->value,
		    (uint64_t)"ABCDE"[i]);
	ATF_CHECK_EQ(hc_dev_count(&dev, 0x61), 3);
	for (i = 0; i < 3; i++) {
		ATF_CHECK_EQ(hc_dev_find(&dev, 0x61, i)->value, words[i]);
		ATF_CHECK_EQ(hc_dev_find(&dev, 0x61, i)->size, 2);
	}
	ATF_CHECK_EQ(hc_dev_count(&dev, 0x64), 1);
	ATF_CHECK_EQ(hc_dev_find(&dev, 0x64, 0)->value, 'Z');
	ATF_CHECK_EQ(dev.nlog, 9);
	ATF_CHECK_EQ(dev.nio_in, 5 + 2);
	/* IN data is port + byte index, per element; nothing past it. */
	for (i = 0; i < 5; i++)
		ATF_CHECK_EQ(vm.ram[0x8100 + i], 0x62);
	ATF_CHECK_EQ(vm.ram[0x8105], 0xEE);
	for (i = 0; i < 8; i++)
		ATF_CHECK_EQ(vm.ram[0x8200 + i], (uint8_t)(0x63 + i % 4));
	ATF_CHECK_EQ(vm.ram[0x8208], 0xEE);
	st = hc_getstate(&hv, NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RCX], 0);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RSI], 0x8021);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RDI], 0x8208);
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
	static const uint8_t src[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	const struct nvmm_vcpu_exit *exit;
	const struct nvmm_x64_state *st;
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	uint32_t v32;
	unsigned n;
	pid_t pid;

	pid = hc_start_daemon();
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest_mmio_begin, guest_mmio_end);
	v32 = 0x44332211;
	memcpy(&dev.mmio[0], &v32, 4);
	v32 = 0x0000ABCD;
	memcpy(&dev.mmio[24], &v32, 4);
	memcpy(&dev.mmio[32], src, 8);
	memcpy(&dev.mmio[40], "nvmmd!!!", 8);

	exit = hv.vcpu.exit;
	for (n = 0; n < 32; n++) {
		if (hc_run_reason(&hv) == NVMM_VCPU_EXIT_HALTED)
			break;
		ATF_REQUIRE_EQ_MSG(exit->reason, NVMM_VCPU_EXIT_MEMORY,
		    "exit %#jx", (uintmax_t)exit->reason);
		ATF_CHECK_MSG(exit->u.mem.gpa >= TVM_MMIO_GPA &&
		    exit->u.mem.gpa < TVM_MMIO_GPA + 256, "gpa %#jx",
		    (uintmax_t)exit->u.mem.gpa);
		ATF_CHECK(exit->u.mem.prot == PROT_READ ||
		    exit->u.mem.prot == PROT_WRITE);
		hc_assist(&hv);
	}
	ATF_REQUIRE_EQ(exit->reason, NVMM_VCPU_EXIT_HALTED);

	st = hc_getstate(&hv, NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R8], 0x44332211);
	memcpy(&v32, &dev.mmio[8], 4);
	ATF_CHECK_EQ(v32, 0xDEADBEEF);
	ATF_CHECK_EQ(hc_dev_find(&dev, TVM_MMIO_GPA + 8, 0)->size, 4);
	ATF_CHECK_EQ(dev.mmio[16], 5);
	ATF_CHECK_EQ(hc_dev_find(&dev, TVM_MMIO_GPA + 16, 0)->size, 1);
	ATF_CHECK_EQ(dev.mmio[17], 0);
	memcpy(&v32, &dev.mmio[24], 4);
	ATF_CHECK_EQ(v32, 0x0000ABCD | 0x100);
	ATF_CHECK_EQ(hc_dev_count(&dev, TVM_MMIO_GPA + 24), 1);
	ATF_CHECK(memcmp(&dev.mmio[64], src, 8) == 0);
	ATF_CHECK_EQ(hc_dev_find(&dev, TVM_MMIO_GPA + 64, 0)->size, 8);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R10], TVM_MMIO_GPA + 40);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R11], TVM_MMIO_GPA + 72);
	ATF_CHECK(memcmp(&st->gprs[NVMM_X64_GPR_R9], "nvmmd!!!", 8) == 0);
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
	ATF_CHECK_EQ(exit->u.rdmsr.msr, 0x1234);
	st = hc_getstate(&hv, NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_RIP], TVM_CODE_GPA + 5);
	ATF_CHECK_EQ(exit->u.rdmsr.npc, st->gprs[NVMM_X64_GPR_RIP] + 2);
	st->gprs[NVMM_X64_GPR_RAX] = 0x5678;
	st->gprs[NVMM_X64_GPR_RDX] = 0x1234;
	st->gprs[NVMM_X64_GPR_RIP] = exit->u.rdmsr.npc;
	hc_setstate(&hv, NVMM_X64_STATE_GPRS);

	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_WRMSR);
	ATF_CHECK_EQ(exit->u.wrmsr.msr, 0x1235);
	ATF_CHECK_EQ(exit->u.wrmsr.val, 0x11223344AABBCCDDULL);
	st = hc_getstate(&hv, NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(exit->u.wrmsr.npc, st->gprs[NVMM_X64_GPR_RIP] + 2);
	st->gprs[NVMM_X64_GPR_RIP] = exit->u.wrmsr.npc;
	hc_setstate(&hv, NVMM_X64_STATE_GPRS);

	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	st = hc_getstate(&hv, NVMM_X64_STATE_GPRS | NVMM_X64_STATE_MSRS);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R8], 0x5678);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R9], 0x1234);
	ATF_CHECK_EQ(st->gprs[NVMM_X64_GPR_R10], 0x12345678);
	ATF_CHECK_EQ(st->msrs[NVMM_X64_MSR_STAR], 0x12345678);
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
