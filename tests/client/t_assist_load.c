/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The MMIO loads nvmm_assist_mem finishes in the client
 * (libnvmmclient/nvmm_assist_load.c): the decoder alone, on encodings
 * written out by hand, and then the whole path against KVM itself, which
 * executes each load of guest_loads for real at the next run.  What the
 * client showed after the assist must be what KVM's registers say at the
 * OUT that follows each load.
 */
#include <sys/mman.h>

#include "h_client.h"
#include "h_daemon.h"
#include "nvmm_assist_load.h"
#include "nvmm_slot.h"		/* the access header in the comm page */

TVM_GUEST(loads);

/* The loads of guest_loads. */
#define LOADS		19

struct decode_case {
	const char *what;
	enum assist_load_mode mode;
	uint8_t bytes[15];
	size_t n;
	bool ok;
	struct assist_load want;	/* len, reg, high8, sign, src, dst */
};

#define M64	ASSIST_LOAD_64
#define M32	ASSIST_LOAD_32
#define M16	ASSIST_LOAD_16

static const struct decode_case decode_cases[] = {
	{ "mov (%rbx),%al", M64, { 0x8A, 0x03 }, 2, true,
	    { 2, 0, false, false, 1, 1 } },
	{ "mov 1(%rbx),%ah", M64, { 0x8A, 0x63, 0x01 }, 3, true,
	    { 3, 0, true, false, 1, 1 } },
	{ "mov 2(%rbx),%sil", M64, { 0x40, 0x8A, 0x73, 0x02 }, 4, true,
	    { 4, 6, false, false, 1, 1 } },
	{ "mov 4(%rbx),%dx", M64, { 0x66, 0x8B, 0x53, 0x04 }, 4, true,
	    { 4, 2, false, false, 2, 2 } },
	{ "mov 0x10(%rbx),%r12", M64, { 0x4C, 0x8B, 0x63, 0x10 }, 4, true,
	    { 4, 12, false, false, 8, 8 } },
	{ "mov 4(%rbx,%rsi,4),%r13d", M64, { 0x44, 0x8B, 0x6C, 0xB3, 0x04 },
	    5, true, { 5, 13, false, false, 4, 4 } },
	{ "mov 0x1000(,%rsi,4),%r14", M64,
	    { 0x4C, 0x8B, 0x34, 0xB5, 0x00, 0x10, 0x00, 0x00 }, 8, true,
	    { 8, 14, false, false, 8, 8 } },
	{ "mov 0x10(%rip),%eax", M64, { 0x8B, 0x05, 0x10, 0, 0, 0 }, 6,
	    true, { 6, 0, false, false, 4, 4 } },
	{ "movzwq 0x22(%rbx),%r14", M64, { 0x4C, 0x0F, 0xB7, 0x73, 0x22 }, 5,
	    true, { 5, 14, false, false, 2, 8 } },
	{ "movsbw 0x24(%rbx),%bp", M64, { 0x66, 0x0F, 0xBE, 0x6B, 0x24 }, 5,
	    true, { 5, 5, false, true, 1, 2 } },
	{ "movslq 0x28(%rbx),%r10", M64, { 0x4C, 0x63, 0x53, 0x28 }, 4, true,
	    { 4, 10, false, true, 4, 8 } },
	{ "movabs 0x10000030,%eax", M64,
	    { 0xA1, 0x30, 0, 0, 0x10, 0, 0, 0, 0 }, 9, true,
	    { 9, 0, false, false, 4, 4 } },
	{ "mov %fs:0x38(%rbx),%r11", M64, { 0x64, 0x4C, 0x8B, 0x5B, 0x38 },
	    5, true, { 5, 11, false, false, 8, 8 } },
	{ "mov 0x3c(%ebx),%eax", M64, { 0x67, 0x8B, 0x43, 0x3C }, 4, true,
	    { 4, 0, false, false, 4, 4 } },
	/* 32-bit code: no REX, 67 means 16-bit addresses. */
	{ "mov 8(%ebx),%ecx (32)", M32, { 0x8B, 0x4B, 0x08 }, 3, true,
	    { 3, 1, false, false, 4, 4 } },
	{ "mov 0x1234,%ax (32, 67 66)", M32, { 0x67, 0x66, 0x8B, 0x06, 0x34,
	    0x12 }, 6, true, { 6, 0, false, false, 2, 2 } },
	{ "movabs 0x12345678,%al (32)", M32, { 0xA0, 0x78, 0x56, 0x34, 0x12 },
	    5, true, { 5, 0, false, false, 1, 1 } },
	/* Real mode: 16-bit operands and addresses, 66 for 32 bits. */
	{ "mov (%bx),%ax (16)", M16, { 0x8B, 0x07 }, 2, true,
	    { 2, 0, false, false, 2, 2 } },
	{ "mov 0x1234,%eax (16)", M16, { 0x66, 0x8B, 0x06, 0x34, 0x12 }, 5,
	    true, { 5, 0, false, false, 4, 4 } },
	{ "mov 0x10(%bp,%si),%dl (16)", M16, { 0x8A, 0x52, 0x10 }, 3, true,
	    { 3, 2, false, false, 1, 1 } },
	{ "mov 0x1234,%al (16, moffs)", M16, { 0xA0, 0x34, 0x12 }, 3, true,
	    { 3, 0, false, false, 1, 1 } },

	/* Left to KVM. */
	{ "mov %ebx,%eax (register)", M64, { 0x8B, 0xC3 }, 2, false, { 0 } },
	{ "mov %eax,(%rbx) (a store)", M64, { 0x89, 0x03 }, 2, false, { 0 } },
	{ "orl $1,(%rbx) (RMW)", M64, { 0x83, 0x0B, 0x01 }, 3, false, { 0 } },
	{ "lock mov (%rbx),%eax", M64, { 0xF0, 0x8B, 0x03 }, 3, false, { 0 } },
	{ "rep mov (%rbx),%eax", M64, { 0xF3, 0x8B, 0x03 }, 3, false, { 0 } },
	{ "movsq", M64, { 0x48, 0xA5 }, 2, false, { 0 } },
	{ "REX then 66", M64, { 0x48, 0x66, 0x8B, 0x03 }, 4, false, { 0 } },
	{ "two REX", M64, { 0x48, 0x48, 0x8B, 0x03 }, 4, false, { 0 } },
	{ "arpl (32)", M32, { 0x63, 0x03 }, 2, false, { 0 } },
	{ "movsxd without REX.W", M64, { 0x63, 0x03 }, 2, false, { 0 } },
	{ "0F with another opcode", M64, { 0x0F, 0xB8, 0x03 }, 3, false, { 0 } },
	{ "cut in the SIB", M64, { 0x8B, 0x04 }, 2, false, { 0 } },
	{ "cut in the disp32", M64, { 0x8B, 0x83, 0x44, 0x00 }, 4, false, { 0 } },
	{ "cut in the moffs", M64, { 0xA1, 0x30, 0x00, 0x00 }, 4, false, { 0 } },
	{ "prefixes only", M64, { 0x66, 0x66, 0x67 }, 3, false, { 0 } },
	{ "nothing", M64, { 0 }, 0, false, { 0 } },
};

ATF_TC_WITHOUT_HEAD(decode);
ATF_TC_BODY(decode, tc)
{
	const struct decode_case *c;
	struct assist_load got;
	size_t i;
	bool ok;

	for (i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		c = &decode_cases[i];
		memset(&got, 0xA5, sizeof(got));
		ok = assist_load_decode(c->bytes, c->n, c->mode, &got);
		ATF_CHECK_MSG(ok == c->ok, "%s: decoded %d, want %d", c->what,
		    ok, c->ok);
		if (!ok || !c->ok)
			continue;
		ATF_CHECK_MSG(got.len == c->want.len &&
		    got.reg == c->want.reg && got.high8 == c->want.high8 &&
		    got.sign == c->want.sign &&
		    got.src_size == c->want.src_size &&
		    got.dst_size == c->want.dst_size,
		    "%s: len %u reg %u high8 %d sign %d src %u dst %u; want "
		    "%u %u %d %d %u %u", c->what, got.len, got.reg, got.high8,
		    got.sign, got.src_size, got.dst_size, c->want.len,
		    c->want.reg, c->want.high8, c->want.sign,
		    c->want.src_size, c->want.dst_size);
	}
}

ATF_TC_WITHOUT_HEAD(apply);
ATF_TC_BODY(apply, tc)
{
	static const uint8_t data[8] = { 0xF1, 0xE2, 0xD3, 0xC4,
	    0xB5, 0xA6, 0x97, 0x88 };
	const uint64_t old = 0x0123456789ABCDEFULL;
	struct assist_load ld;

	memset(&ld, 0, sizeof(ld));
	ld.src_size = ld.dst_size = 1;
	ATF_CHECK_EQ(assist_load_apply(old, &ld, data), 0x0123456789ABCDF1ULL);
	ld.high8 = true;
	ATF_CHECK_EQ(assist_load_apply(old, &ld, data), 0x0123456789ABF1EFULL);
	ld.high8 = false;
	ld.src_size = ld.dst_size = 2;
	ATF_CHECK_EQ(assist_load_apply(old, &ld, data), 0x0123456789ABE2F1ULL);
	ld.src_size = ld.dst_size = 4;
	ATF_CHECK_EQ(assist_load_apply(old, &ld, data), 0xC4D3E2F1ULL);
	ld.src_size = ld.dst_size = 8;
	ATF_CHECK_EQ(assist_load_apply(old, &ld, data), 0x8897A6B5C4D3E2F1ULL);
	/* Zero- and sign-extension. */
	ld.src_size = 1;
	ATF_CHECK_EQ(assist_load_apply(old, &ld, data), 0xF1ULL);
	ld.sign = true;
	ATF_CHECK_EQ(assist_load_apply(old, &ld, data), 0xFFFFFFFFFFFFFFF1ULL);
	ld.dst_size = 2;
	ATF_CHECK_EQ(assist_load_apply(old, &ld, data), 0x0123456789ABFFF1ULL);
	ld.src_size = 4;
	ld.dst_size = 8;
	ATF_CHECK_EQ(assist_load_apply(old, &ld, data), 0xFFFFFFFFC4D3E2F1ULL);
	ld.sign = false;
	ld.dst_size = 4;
	ld.src_size = 2;
	ATF_CHECK_EQ(assist_load_apply(old, &ld, data), 0xE2F1ULL);
}

/* -------------------------------------------------------------------------- */

HC_DAEMON_TC(loads_match_kvm, "Each MMIO load nvmm_assist_mem finishes "
    "itself leaves the access to KVM (no round trip), and the GPRs it "
    "shows are the ones KVM has once it executed the load")
ATF_TC_BODY(loads_match_kvm, tc)
{
	const struct nvmm_kern_access *acc;
	const struct nvmm_vcpu_exit *exit;
	struct nvmm_x64_state *state;
	uint64_t shown[NVMM_X64_NGPR];
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	unsigned i, loads = 0;
	int r;
	pid_t pid;

	pid = hc_start_daemon();
	hc_dev_init(&dev);
	/* High bits set, so that the extensions show. */
	for (i = 0; i < sizeof(dev.mmio); i++)
		dev.mmio[i] = (uint8_t)(0x81 + 37 * i);
	hc_setup_guest(&vm, &hv, &dev, guest_loads_begin, guest_loads_end);
	acc = &nvmm_slot_of(vm.mach.pages[0])->access;
	exit = hv.vcpu.exit;

	while (hc_run_reason(&hv) == NVMM_VCPU_EXIT_MEMORY) {
		ATF_REQUIRE(loads < LOADS);
		hc_assist(&hv);
		ATF_CHECK_MSG(acc->pending == 1 && acc->handled == 1,
		    "load %u at %#jx: finished by a round trip", loads,
		    (uintmax_t)exit->u.mem.gpa);
		state = hv.vcpu.state;
		memcpy(shown, state->gprs, sizeof(shown));

		/* The OUT after it: the state is KVM's, fresh. */
		ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_IO);
		state = hc_getstate(&hv, NVMM_X64_STATE_GPRS);
		for (r = 0; r <= NVMM_X64_GPR_RIP; r++)
			ATF_CHECK_MSG(state->gprs[r] == shown[r],
			    "load %u: GPR %d shown %#jx, KVM %#jx", loads, r,
			    (uintmax_t)shown[r], (uintmax_t)state->gprs[r]);
		hc_assist(&hv);
		loads++;
	}
	ATF_CHECK_EQ(exit->reason, NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(loads, LOADS);
	ATF_CHECK_EQ(dev.nmem_read, LOADS);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, decode);
	ATF_TP_ADD_TC(tp, apply);
	ATF_TP_ADD_TC(tp, loads_match_kvm);
	return atf_no_error();
}
