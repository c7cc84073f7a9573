/*
 * The guest scenarios of tests/kernel (t_run_io, t_run_events) again, this
 * time as an emulator sees them: through libnvmmclient's public API and a
 * private nvmmd per test case.  The RESET state in real mode; IO, MMIO
 * and MSR exits in long mode with the assists and without them; an
 * exception injected through the guest's IDT; nvmm_vcpu_stop from another
 * thread; the page walk, gpa_to_hva and the dump; and the errno values
 * the library promises.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
TVM_GUEST(tpr);
TVM_GUEST(poke);

#define ROM_GPA		0xFFFF0000ULL
#define ROM_SIZE	0x10000UL

/*
 * A test case with its own daemon: HD_TC_NEEDS_DAEMON, and a cleanup
 * that kills the daemon a failed body left running.  The body starts it
 * with start_daemon() and ends with hd_stop().
 */
#define DAEMON_TC(name, descr)						\
	ATF_TC_WITH_CLEANUP(name);					\
	ATF_TC_HEAD(name, tc)						\
	{								\
		atf_tc_set_md_var(tc, "descr", descr);			\
		HD_TC_NEEDS_DAEMON(tc);					\
	}								\
	ATF_TC_CLEANUP(name, tc)					\
	{								\
		hd_cleanup();						\
	}

/* A private daemon, and the library connected to it. */
static pid_t
start_daemon(void)
{
	pid_t pid;

	pid = hd_start(NULL);
	hc_init();
	return pid;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* -------------------------------------------------------------------------- */

DAEMON_TC(realmode_reset_vector, "A VCPU starts in the RESET state at the "
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

	pid = start_daemon();
	hc_dev_init(&dev);
	hc_machine_create(&vm, TVM_RAM_SIZE);
	rom = hc_map(&vm, ROM_GPA, ROM_SIZE, PROT_READ | PROT_EXEC);
	memcpy(rom, guest_rm_main_begin, hlt_ip);
	memcpy(rom + 0xFFF0, guest_rm_reset_begin,
	    (size_t)(guest_rm_reset_end - guest_rm_reset_begin));
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, ROM_GPA + 0xFFF0, &hva,
	    &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)rom + 0xFFF0);
	ATF_CHECK_EQ(prot, NVMM_PROT_READ | NVMM_PROT_EXEC);
	hc_vcpu_create(&vm, 0, &hv, &dev);

	/* The RESET state, as NetBSD gives it. */
	st = hc_getstate(&hv, NVMM_X64_STATE_SEGS | NVMM_X64_STATE_GPRS);
	ATF_CHECK_EQ(st->segs[NVMM_X64_SEG_CS].selector, 0xF000);
	ATF_CHECK_EQ(st->segs[NVMM_X64_SEG_CS].base, ROM_GPA);
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
	    segs[NVMM_X64_SEG_CS].base, ROM_GPA);
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

DAEMON_TC(io_every_form_assisted, "IN and OUT in every form and size "
    "with nvmm_assist_io: exit fields, RIP at npc after the assist, data")
ATF_TC_BODY(io_every_form_assisted, tc)
{
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	pid_t pid;
	size_t i;

	pid = start_daemon();
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
DAEMON_TC(io_every_form_manual, "IN and OUT emulated without the assist, "
    "by setting RAX and RIP = npc with nvmm_vcpu_setstate")
ATF_TC_BODY(io_every_form_manual, tc)
{
	struct nvmm_x64_state *st;
	struct hc_machine vm;
	struct hc_vcpu hv;
	uint64_t mask, data;
	pid_t pid;
	size_t i, b;

	pid = start_daemon();
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

DAEMON_TC(io_rep_string, "REP OUTSB/OUTSW/INSB/INSL with counts above 1 "
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

	pid = start_daemon();
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

DAEMON_TC(mmio_read_write_rmw_movs, "MMIO with nvmm_assist_mem: read, "
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

	pid = start_daemon();
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

DAEMON_TC(msr_emulated, "RDMSR and WRMSR of MSRs NVMM leaves to the "
    "emulator exit with msr, val and npc; the program emulates them with "
    "setstate; STAR stays inside")
ATF_TC_BODY(msr_emulated, tc)
{
	const struct nvmm_vcpu_exit *exit;
	struct nvmm_x64_state *st;
	struct hc_machine vm;
	struct hc_vcpu hv;
	pid_t pid;

	pid = start_daemon();
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

DAEMON_TC(msr_not_emulated_reexecutes, "An MSR exit the program leaves "
    "alone exits again at the same RIP")
ATF_TC_BODY(msr_not_emulated_reexecutes, tc)
{
	struct hc_machine vm;
	struct hc_vcpu hv;
	uint64_t rip;
	pid_t pid;

	pid = start_daemon();
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

DAEMON_TC(exception_with_error_code, "An exception with an error code "
    "injected with nvmm_vcpu_inject is delivered through the guest's IDT "
    "with that code")
ATF_TC_BODY(exception_with_error_code, tc)
{
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	pid_t pid;

	pid = start_daemon();
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

	sleep_ms(s->delay_ms);
	s->ret = nvmm_vcpu_stop(s->vcpu);
	return NULL;
}

DAEMON_TC(stop_from_thread, "nvmm_vcpu_stop from another thread makes the "
    "run of a spinning guest return NVMM_VCPU_EXIT_STOPPED")
ATF_TC_BODY(stop_from_thread, tc)
{
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct stopper s;
	pthread_t t;
	pid_t pid;
	int i;

	pid = start_daemon();
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

/*
 * An emulator's connection lasts as long as its guest: a program that
 * leaves its machine alone for a while (the guest halted, waiting for an
 * event) finds it there afterwards, past any deadline the daemon keeps
 * for peers that have not said hello yet.  The wait is a sleep, not a
 * guest running: it costs no CPU.
 */
DAEMON_TC(session_outlives_seconds, "A machine left alone for 11 s after "
    "a run is still there and still runs: the connection is not closed")
ATF_TC_BODY(session_outlives_seconds, tc)
{
	struct nvmm_ctl_mach_info info;
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	pid_t pid;

	pid = start_daemon();
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest_excp_begin, guest_excp_end);
	hc_idt_gate(&vm, 13, TVM_GUEST_ADDR(excp, guest_excp_handler));
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);

	sleep_ms(11000);
	memset(&info, 0, sizeof(info));
	info.machid = vm.mach.machid;
	HC_REQUIRE_OK(nvmm_ctl(NVMM_CTL_MACH_INFO, &info, sizeof(info)));
	ATF_CHECK_EQ(info.nvcpus, 1);
	hc_inject(&hv, NVMM_VCPU_EVENT_EXCP, 13, 0x4321);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_IO);
	hc_assist(&hv);
	ATF_CHECK_EQ(hc_dev_find(&dev, 0x70, 0)->value, 0x4321);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

static void
check_gva(struct hc_vcpu *hv, gvaddr_t gva, const char *when)
{
	const nvmm_prot_t rwx = NVMM_PROT_READ | NVMM_PROT_WRITE |
	    NVMM_PROT_EXEC;
	gpaddr_t gpa = 0xBAD;
	nvmm_prot_t prot = 0;

	HC_REQUIRE_OK(nvmm_gva_to_gpa(&hv->vm->mach, &hv->vcpu, gva, &gpa,
	    &prot));
	ATF_CHECK_EQ_MSG(gpa, gva, "%s: gva %#jx -> gpa %#jx", when,
	    (uintmax_t)gva, (uintmax_t)gpa);
	/* Supervisor pages: no USER right. */
	ATF_CHECK_EQ_MSG(prot, rwx, "%s: gva %#jx prot %#jx", when,
	    (uintmax_t)gva, (uintmax_t)prot);
}

static void
check_gva_fault(struct hc_vcpu *hv, gvaddr_t gva)
{
	gpaddr_t gpa;
	nvmm_prot_t prot;

	HC_CHECK_ERRNO(EFAULT, nvmm_gva_to_gpa(&hv->vm->mach, &hv->vcpu, gva,
	    &gpa, &prot));
}

DAEMON_TC(gva_to_gpa, "nvmm_gva_to_gpa walks the long-mode identity page "
    "tables: mapped addresses translate, unmapped ones are EFAULT")
ATF_TC_BODY(gva_to_gpa, tc)
{
	struct hc_machine vm;
	struct hc_vcpu hv;
	pid_t pid;

	pid = start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_excp_begin, guest_excp_end);

	/* With the state set up but not yet run: as committed. */
	check_gva(&hv, TVM_CODE_GPA + 0x234, "before the run");

	/* After a run: the state comes from the VCPU. */
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	check_gva(&hv, TVM_CODE_GPA + 0x234, "after the run");
	check_gva(&hv, 0x123456, "after the run");
	/* Mapped by the tables though no RAM is there: the walk says so. */
	check_gva(&hv, TVM_MMIO_GPA + 0x10, "after the run");
	check_gva(&hv, TVM_PT_LIMIT - 1, "after the run");

	/* PDPT entry 1 is not present; nor is PML4 entry 256. */
	check_gva_fault(&hv, TVM_PT_LIMIT);
	check_gva_fault(&hv, TVM_PT_LIMIT + 0x5000);
	check_gva_fault(&hv, 0xFFFF800000001000ULL);
	/* Not canonical. */
	check_gva_fault(&hv, 0x0000800000000000ULL);

	/* The walk reads the guest's tables: unmapping PD entry 1 shows. */
	memset(vm.ram + TVM_PT_GPA + 0x2000 + 8, 0, 8);
	check_gva_fault(&hv, 0x200000 + 0x1234);
	check_gva(&hv, 0x1FFFFF, "after the PD change");
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

DAEMON_TC(gpa_to_hva, "nvmm_gpa_to_hva gives the host address and rights "
    "of mapped GPAs, which are what the guest sees, and ENOENT elsewhere")
ATF_TC_BODY(gpa_to_hva, tc)
{
	const nvmm_prot_t rwx = NVMM_PROT_READ | NVMM_PROT_WRITE |
	    NVMM_PROT_EXEC;
	struct nvmm_x64_state *st;
	struct hc_machine vm;
	struct hc_vcpu hv;
	nvmm_prot_t prot;
	uintptr_t hva;
	uint64_t v;
	uint8_t *rom;
	pid_t pid;

	pid = start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_poke_begin, guest_poke_end);
	rom = hc_map(&vm, ROM_GPA, ROM_SIZE, PROT_READ | PROT_EXEC);

	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, 0, &hva, &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)vm.ram);
	ATF_CHECK_EQ(prot, rwx);
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, 0x9008, &hva, &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)vm.ram + 0x9008);
	ATF_CHECK_EQ(prot, rwx);
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, TVM_RAM_SIZE - 1, &hva,
	    &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)vm.ram + TVM_RAM_SIZE - 1);
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, ROM_GPA + 0x123, &hva,
	    &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)rom + 0x123);
	ATF_CHECK_EQ(prot, NVMM_PROT_READ | NVMM_PROT_EXEC);

	HC_CHECK_ERRNO(ENOENT, nvmm_gpa_to_hva(&vm.mach, TVM_RAM_SIZE, &hva,
	    &prot));
	HC_CHECK_ERRNO(ENOENT, nvmm_gpa_to_hva(&vm.mach, TVM_MMIO_GPA, &hva,
	    &prot));
	HC_CHECK_ERRNO(ENOENT, nvmm_gpa_to_hva(&vm.mach, ROM_GPA - 1, &hva,
	    &prot));

	/* The guest writes GPA 0x9008; the HVA of 0x9008 has it. */
	st = hc_getstate(&hv, NVMM_X64_STATE_GPRS);
	st->gprs[NVMM_X64_GPR_RAX] = 0x1122334455667788ULL;
	st->gprs[NVMM_X64_GPR_RBX] = 0x9008;
	hc_setstate(&hv, NVMM_X64_STATE_GPRS);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, 0x9008, &hva, &prot));
	memcpy(&v, (void *)hva, 8);
	ATF_CHECK_EQ(v, 0x1122334455667788ULL);

	/* Unmapped: gone from the list. */
	HC_REQUIRE_OK(nvmm_gpa_unmap(&vm.mach, (uintptr_t)rom, ROM_GPA,
	    ROM_SIZE));
	HC_CHECK_ERRNO(ENOENT, nvmm_gpa_to_hva(&vm.mach, ROM_GPA + 0x123,
	    &hva, &prot));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

/* Runs nvmm_vcpu_dump with stdout in path; returns its result. */
static int
dump_to_file(struct hc_vcpu *hv, const char *path)
{
	int fd, saved, ret, error;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	ATF_REQUIRE(saved != -1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ATF_REQUIRE(fd != -1);
	ATF_REQUIRE(dup2(fd, STDOUT_FILENO) != -1);
	close(fd);
	ret = nvmm_vcpu_dump(&hv->vm->mach, &hv->vcpu);
	error = errno;
	fflush(stdout);
	ATF_REQUIRE(dup2(saved, STDOUT_FILENO) != -1);
	close(saved);
	errno = error;
	return ret;
}

static char *
read_file(const char *path)
{
	static char buf[16384];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	ATF_REQUIRE(fd != -1);
	n = read(fd, buf, sizeof(buf) - 1);
	ATF_REQUIRE(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

DAEMON_TC(vcpu_dump, "nvmm_vcpu_dump prints the VCPU's registers to stdout, "
    "RIP among them")
ATF_TC_BODY(vcpu_dump, tc)
{
	char rip[32], cr3[32];
	struct hc_machine vm;
	struct hc_vcpu hv;
	const char *text;
	pid_t pid;

	pid = start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_excp_begin, guest_excp_end);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);

	HC_REQUIRE_OK(dump_to_file(&hv, "dump.txt"));
	text = read_file("dump.txt");
	snprintf(rip, sizeof(rip), "%016jx", (uintmax_t)(TVM_CODE_GPA + 1));
	snprintf(cr3, sizeof(cr3), "%016jx", (uintmax_t)TVM_PT_GPA);
	ATF_CHECK_MSG(strcasestr(text, "rip") != NULL, "no RIP in:\n%s",
	    text);
	ATF_CHECK_MSG(strstr(text, rip) != NULL, "no RIP value %s in:\n%s",
	    rip, text);
	ATF_CHECK_MSG(strcasestr(text, "cr3") != NULL &&
	    strstr(text, cr3) != NULL, "no CR3 %s in:\n%s", cr3, text);
	/* The dump does not disturb the VCPU. */
	ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RIP), TVM_CODE_GPA + 1);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

DAEMON_TC(vcpu_create_twice_ebusy, "nvmm_vcpu_create of an existing VCPU "
    "fails with EBUSY and leaves that VCPU working")
ATF_TC_BODY(vcpu_create_twice_ebusy, tc)
{
	struct nvmm_ctl_mach_info info;
	struct nvmm_vcpu other;
	struct hc_machine vm;
	struct hc_vcpu hv;
	pid_t pid;

	pid = start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_excp_begin, guest_excp_end);
	memset(&other, 0, sizeof(other));
	HC_CHECK_ERRNO(EBUSY, nvmm_vcpu_create(&vm.mach, 0, &other));
	memset(&info, 0, sizeof(info));
	info.machid = vm.mach.machid;
	HC_REQUIRE_OK(nvmm_ctl(NVMM_CTL_MACH_INFO, &info, sizeof(info)));
	ATF_CHECK_EQ(info.nvcpus, 1);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RIP), TVM_CODE_GPA + 1);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* An hva_map'd region of size bytes, not in the guest yet. */
static uint8_t *
hva_region(struct hc_machine *vm, size_t size)
{
	void *p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE,
	    -1, 0);
	ATF_REQUIRE(p != MAP_FAILED);
	HC_REQUIRE_OK(nvmm_hva_map(&vm->mach, (uintptr_t)p, size));
	return p;
}

DAEMON_TC(gpa_map_overlap_einval, "nvmm_gpa_map over part of an existing "
    "area fails with EINVAL and changes nothing")
ATF_TC_BODY(gpa_map_overlap_einval, tc)
{
	const size_t size = 0x2000;
	struct hc_machine vm;
	nvmm_prot_t prot;
	uintptr_t hva;
	uint8_t *p;
	pid_t pid;

	pid = start_daemon();
	hc_machine_create(&vm, TVM_RAM_SIZE);
	p = hva_region(&vm, size);
	HC_CHECK_ERRNO(EINVAL, nvmm_gpa_map(&vm.mach, (uintptr_t)p, 0x1000,
	    size, HC_RWX));
	HC_CHECK_ERRNO(EINVAL, nvmm_gpa_map(&vm.mach, (uintptr_t)p,
	    TVM_RAM_SIZE - 0x1000, size, HC_RWX));
	HC_CHECK_ERRNO(EINVAL, nvmm_gpa_map(&vm.mach, (uintptr_t)p, 0, size,
	    HC_RWX));
	/* RAM is still RAM. */
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, 0x1000, &hva, &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)vm.ram + 0x1000);
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, TVM_RAM_SIZE - 0x1000, &hva,
	    &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)vm.ram + TVM_RAM_SIZE - 0x1000);
	/* Right after it is free. */
	HC_CHECK_ERRNO(ENOENT, nvmm_gpa_to_hva(&vm.mach, TVM_RAM_SIZE, &hva,
	    &prot));
	HC_REQUIRE_OK(nvmm_gpa_map(&vm.mach, (uintptr_t)p, TVM_RAM_SIZE,
	    size, HC_RWX));
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, TVM_RAM_SIZE, &hva, &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)p);
	hc_machine_destroy(&vm);
	munmap(p, size);
	hd_stop(pid);
}

DAEMON_TC(gpa_unmap_unknown_esrch, "nvmm_gpa_unmap of a triple that is not "
    "a mapped area fails with ESRCH")
ATF_TC_BODY(gpa_unmap_unknown_esrch, tc)
{
	struct hc_machine vm;
	nvmm_prot_t prot;
	uintptr_t hva, ram;
	pid_t pid;

	pid = start_daemon();
	hc_machine_create(&vm, TVM_RAM_SIZE);
	ram = (uintptr_t)vm.ram;
	HC_CHECK_ERRNO(ESRCH, nvmm_gpa_unmap(&vm.mach, ram, 0x1000,
	    TVM_RAM_SIZE));
	HC_CHECK_ERRNO(ESRCH, nvmm_gpa_unmap(&vm.mach, ram + 0x1000, 0,
	    TVM_RAM_SIZE));
	HC_CHECK_ERRNO(ESRCH, nvmm_gpa_unmap(&vm.mach, ram, 0,
	    TVM_RAM_SIZE / 2));
	HC_CHECK_ERRNO(ESRCH, nvmm_gpa_unmap(&vm.mach, ram, TVM_MMIO_GPA,
	    0x1000));
	/* Still mapped; the exact triple unmaps it, once. */
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, 0, &hva, &prot));
	HC_REQUIRE_OK(nvmm_gpa_unmap(&vm.mach, ram, 0, TVM_RAM_SIZE));
	HC_CHECK_ERRNO(ENOENT, nvmm_gpa_to_hva(&vm.mach, 0, &hva, &prot));
	HC_CHECK_ERRNO(ESRCH, nvmm_gpa_unmap(&vm.mach, ram, 0, TVM_RAM_SIZE));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

DAEMON_TC(gpa_map_rw_eopnotsupp, "nvmm_gpa_map with PROT_READ|PROT_WRITE "
    "fails with EOPNOTSUPP (execution cannot be refused) and records no "
    "area")
ATF_TC_BODY(gpa_map_rw_eopnotsupp, tc)
{
	const gpaddr_t gpa = 0x200000;
	const size_t size = 0x2000;
	struct hc_machine vm;
	nvmm_prot_t prot;
	uintptr_t hva;
	uint8_t *p;
	pid_t pid;

	pid = start_daemon();
	hc_machine_create(&vm, 0);
	p = hva_region(&vm, size);
	HC_CHECK_ERRNO(EOPNOTSUPP, nvmm_gpa_map(&vm.mach, (uintptr_t)p, gpa,
	    size, PROT_READ | PROT_WRITE));
	HC_CHECK_ERRNO(ENOENT, nvmm_gpa_to_hva(&vm.mach, gpa, &hva, &prot));
	/* The place is free for a map the backend can do. */
	HC_REQUIRE_OK(nvmm_gpa_map(&vm.mach, (uintptr_t)p, gpa, size,
	    PROT_READ | PROT_EXEC));
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, gpa, &hva, &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)p);
	ATF_CHECK_EQ(prot, NVMM_PROT_READ | NVMM_PROT_EXEC);
	hc_machine_destroy(&vm);
	munmap(p, size);
	hd_stop(pid);
}

DAEMON_TC(assist_io_after_halt_einval, "nvmm_assist_io (and "
    "nvmm_assist_mem) after an exit of another kind fail with EINVAL")
ATF_TC_BODY(assist_io_after_halt_einval, tc)
{
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	pid_t pid;

	pid = start_daemon();
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest_excp_begin, guest_excp_end);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	HC_CHECK_ERRNO(EINVAL, nvmm_assist_io(&vm.mach, &hv.vcpu));
	HC_CHECK_ERRNO(EINVAL, nvmm_assist_mem(&vm.mach, &hv.vcpu));
	ATF_CHECK_EQ(dev.nio_in + dev.nio_out + dev.nmem_read +
	    dev.nmem_write, 0);
	/* Nothing changed: the guest goes on. */
	ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RIP), TVM_CODE_GPA + 1);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RIP), TVM_CODE_GPA + 1);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

DAEMON_TC(machine_configure_einval, "x86 has no machine configuration: "
    "nvmm_machine_configure fails with EINVAL")
ATF_TC_BODY(machine_configure_einval, tc)
{
	static const uint64_t ops[] = {
		NVMM_MACH_CONF_LIBNVMM_BEGIN, NVMM_MACH_CONF_MI_BEGIN,
		NVMM_MACH_CONF_MD_BEGIN, NVMM_MACH_CONF_MD_BEGIN + 1,
	};
	uint64_t conf[8];
	struct hc_machine vm;
	pid_t pid;
	size_t i;

	pid = start_daemon();
	hc_machine_create(&vm, 0);
	memset(conf, 0, sizeof(conf));
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		HC_CHECK_ERRNO(EINVAL, nvmm_machine_configure(&vm.mach, ops[i],
		    conf));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

DAEMON_TC(vcpu_configure_tpr_einval, "NVMM_VCPU_CONF_TPR is not in the "
    "capability and nvmm_vcpu_configure refuses it with EINVAL; CR8 "
    "writes take effect in the guest")
ATF_TC_BODY(vcpu_configure_tpr_einval, tc)
{
	struct nvmm_vcpu_conf_tpr tpr = { .exit_changed = 1 };
	struct nvmm_capability cap;
	struct hc_machine vm;
	struct hc_vcpu hv;
	pid_t pid;

	pid = start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_tpr_begin, guest_tpr_end);
	HC_REQUIRE_OK(nvmm_capability(&cap));
	ATF_CHECK_EQ(cap.arch.vcpu_conf_support & NVMM_CAP_ARCH_VCPU_CONF_TPR,
	    0);
	HC_CHECK_ERRNO(EINVAL, nvmm_vcpu_configure(&vm.mach, &hv.vcpu,
	    NVMM_VCPU_CONF_TPR, &tpr));
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(hv.vcpu.exit->exitstate.cr8, 2);
	ATF_CHECK_EQ(hc_getstate(&hv, NVMM_X64_STATE_CRS)->
	    crs[NVMM_X64_CR_CR8], 2);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

DAEMON_TC(ctl_mach_info, "NVMM_CTL_MACH_INFO of the program's own machine: "
    "VCPUs, RAM (the hva_map sizes), owner pid and creation time")
ATF_TC_BODY(ctl_mach_info, tc)
{
	struct nvmm_ctl_mach_info info;
	struct hc_machine vm;
	struct hc_vcpu hv[3];
	time_t t0, t1;
	pid_t pid;
	int i;

	pid = start_daemon();
	t0 = time(NULL);
	hc_machine_create(&vm, TVM_RAM_SIZE);
	hc_map(&vm, ROM_GPA, ROM_SIZE, PROT_READ | PROT_EXEC);
	for (i = 0; i < 3; i++)
		hc_vcpu_create(&vm, (nvmm_cpuid_t)(i * 2), &hv[i], NULL);
	t1 = time(NULL);

	memset(&info, 0xA5, sizeof(info));
	info.machid = vm.mach.machid;
	HC_REQUIRE_OK(nvmm_ctl(NVMM_CTL_MACH_INFO, &info, sizeof(info)));
	ATF_CHECK_EQ(info.machid, vm.mach.machid);
	ATF_CHECK_EQ(info.nvcpus, 3);
	ATF_CHECK_EQ(info.nram, TVM_RAM_SIZE + ROM_SIZE);
	ATF_CHECK_EQ(info.pid, getpid());
	ATF_CHECK_MSG(info.time >= t0 && info.time <= t1,
	    "time %jd not in [%jd, %jd]", (intmax_t)info.time, (intmax_t)t0,
	    (intmax_t)t1);

	/* Another VCPU shows. */
	HC_REQUIRE_OK(nvmm_vcpu_destroy(&vm.mach, &hv[1].vcpu));
	memset(&info, 0, sizeof(info));
	info.machid = vm.mach.machid;
	HC_REQUIRE_OK(nvmm_ctl(NVMM_CTL_MACH_INFO, &info, sizeof(info)));
	ATF_CHECK_EQ(info.nvcpus, 2);

	/* A machine that does not exist. */
	memset(&info, 0, sizeof(info));
	info.machid = vm.mach.machid + 1;
	HC_CHECK_ERRNO(ENOENT, nvmm_ctl(NVMM_CTL_MACH_INFO, &info,
	    sizeof(info)));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

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
	ATF_TP_ADD_TC(tp, session_outlives_seconds);
	ATF_TP_ADD_TC(tp, gva_to_gpa);
	ATF_TP_ADD_TC(tp, gpa_to_hva);
	ATF_TP_ADD_TC(tp, vcpu_dump);
	ATF_TP_ADD_TC(tp, vcpu_create_twice_ebusy);
	ATF_TP_ADD_TC(tp, gpa_map_overlap_einval);
	ATF_TP_ADD_TC(tp, gpa_unmap_unknown_esrch);
	ATF_TP_ADD_TC(tp, gpa_map_rw_eopnotsupp);
	ATF_TP_ADD_TC(tp, assist_io_after_halt_einval);
	ATF_TP_ADD_TC(tp, machine_configure_einval);
	ATF_TP_ADD_TC(tp, vcpu_configure_tpr_einval);
	ATF_TP_ADD_TC(tp, ctl_mach_info);
	return atf_no_error();
}
