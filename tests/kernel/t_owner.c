/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * t_owner: kernel/'s owners, machines and VCPUs, their configuration and
 * the capability, against NetBSD's driver (reference §5, §6); NVMM_CTL is
 * t_ctl's.  Errors are compared with the exact errno NetBSD returns:
 * emulators such as QEMU branch on them, and EBUSY versus EEXIST is a
 * known trap.
 */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "h_owner.h"

#define CPUID_MAXOPS	32

static struct nvmm_comm_page *
vcpu_comm(struct nvmm_owner *owner, nvmm_machid_t machid, nvmm_cpuid_t cpuid)
{
	struct nvmm_comm_page *comm;

	REQUIRE_ERR(0, nvmm_kern_vcpu_comm(owner, machid, cpuid, &comm, NULL,
	    NULL));
	return comm;
}

/*
 * The x86 RESET state NetBSD installs at VCPU creation (reference §7.5).
 * attrs: also the segment attributes, which only the comm page holds
 * exactly as NetBSD writes them.
 */
static void
check_reset(const char *what, const struct nvmm_x64_state *st, bool attrs)
{
	const struct nvmm_x64_state_seg *cs = &st->segs[NVMM_X64_SEG_CS];
	const struct nvmm_x64_state_seg *ds = &st->segs[NVMM_X64_SEG_DS];

	CHECK_VAL(what, cs->selector, 0xF000);
	CHECK_VAL(what, cs->base, 0xFFFF0000);
	CHECK_VAL(what, cs->limit, 0xFFFF);
	CHECK_VAL(what, ds->selector, 0);
	CHECK_VAL(what, ds->base, 0);
	CHECK_VAL(what, ds->limit, 0xFFFF);
	if (attrs) {
		CHECK_VAL(what, cs->attrib.type, 3);
		CHECK_VAL(what, cs->attrib.s, 1);
		CHECK_VAL(what, cs->attrib.p, 1);
	}
	CHECK_VAL(what, st->gprs[NVMM_X64_GPR_RIP], 0xFFF0);
	CHECK_VAL(what, st->gprs[NVMM_X64_GPR_RFLAGS], 0x2);
	CHECK_VAL(what, st->gprs[NVMM_X64_GPR_RDX], 0x600);
	CHECK_VAL(what, st->gprs[NVMM_X64_GPR_RAX], 0);
	CHECK_VAL(what, st->crs[NVMM_X64_CR_CR0], 0x60000010);
	CHECK_VAL(what, st->crs[NVMM_X64_CR_XCR0], 1);
	CHECK_VAL(what, st->drs[NVMM_X64_DR_DR6], 0xFFFF0FF0);
	CHECK_VAL(what, st->drs[NVMM_X64_DR_DR7], 0x400);
	CHECK_VAL(what, st->msrs[NVMM_X64_MSR_PAT], 0x0007040600070406ULL);
	CHECK_VAL(what, st->msrs[NVMM_X64_MSR_EFER], 0);
	CHECK_VAL(what, st->fpu.fx_cw, 0x40);
	CHECK_VAL(what, st->fpu.fx_mxcsr, 0x1F80);
}

/* -------------------------------------------------------------------------- */

ATF_TC(capability);
ATF_TC_HEAD(capability, tc)
{
	atf_tc_set_md_var(tc, "descr", "The capability reports NetBSD's "
	    "version, layout and limits, and what x86 conf exists");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(capability, tc)
{
	struct nvmm_owner *owner = owner_open(getpid());
	struct nvmm_capability cap;

	memset(&cap, 0xA5, sizeof(cap));
	REQUIRE_ERR(0, nvmm_kern_capability(owner, &cap));
	CHECK_VAL("cap", cap.version, 2);
	CHECK_VAL("cap", cap.state_size, 1008);
	/* NetBSD's limits, which the rest of this file takes from kernel/. */
	CHECK_VAL("cap", cap.max_machines, 128);
	CHECK_VAL("cap", cap.max_vcpus, 256);
	CHECK_VAL("cap", cap.max_ram, 128ULL << 30);
	CHECK_VAL("cap", cap.arch.mach_conf_support, 0);
	CHECK_VAL("cap", cap.arch.conf_cpuid_maxops, CPUID_MAXOPS);
	ATF_CHECK_MSG(cap.arch.vcpu_conf_support &
	    NVMM_CAP_ARCH_VCPU_CONF_CPUID, "vcpu_conf_support %#jx lacks "
	    "CPUID", (uintmax_t)cap.arch.vcpu_conf_support);
	/* x87 state always exists: XCR0 bit 0 cannot be cleared. */
	ATF_CHECK_MSG(cap.arch.xcr0_mask & 1, "xcr0_mask %#jx lacks x87",
	    (uintmax_t)cap.arch.xcr0_mask);
	ATF_CHECK_MSG(cap.arch.mxcsr_mask != 0, "mxcsr_mask is 0");
	/* The 0xA5 fill must not leak through the reserved words. */
	CHECK_VAL("cap", cap.arch.rsvd[0], 0);
	nvmm_kern_close(owner);
}

ATF_TC(machine_ids);
ATF_TC_HEAD(machine_ids, tc)
{
	atf_tc_set_md_var(tc, "descr", "Machine ids are the lowest free "
	    "slot of one table for all owners; 128 fit, then ENOBUFS");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(machine_ids, tc)
{
	struct nvmm_owner *o1 = owner_open(getpid());
	struct nvmm_owner *o2 = owner_open(getpid());
	struct nvmm_ctl_mach_info info;
	nvmm_machid_t machid;
	unsigned i;

	/* Each test case runs in a process of its own: the table is empty. */
	CHECK_VAL("first", mach_create(o1), 0);
	CHECK_VAL("second", mach_create(o2), 1);
	CHECK_VAL("third", mach_create(o1), 2);
	REQUIRE_ERR(0, nvmm_kern_machine_destroy(o1, 0));
	REQUIRE_ERR(0, nvmm_kern_machine_destroy(o1, 2));
	CHECK_VAL("after destroying 0 and 2", mach_create(o2), 0);
	CHECK_VAL("then", mach_create(o1), 2);

	for (i = 3; i < NVMM_MAX_MACHINES; i++) {
		REQUIRE_ERR(0, nvmm_kern_machine_create(o1, &machid));
		ATF_REQUIRE_EQ_MSG(i, machid, "machine %u got id %u", i,
		    machid);
	}
	CHECK_ERR(ENOBUFS, nvmm_kern_machine_create(o1, &machid));
	CHECK_ERR(ENOBUFS, nvmm_kern_machine_create(o2, &machid));
	/* One slot freed is one slot usable. */
	REQUIRE_ERR(0, nvmm_kern_machine_destroy(o1, 77));
	REQUIRE_ERR(0, nvmm_kern_machine_create(o2, &machid));
	CHECK_VAL("reused", machid, 77);
	CHECK_ERR(ENOBUFS, nvmm_kern_machine_create(o2, &machid));

	/* Closing o1 frees its 125 machines and leaves o2's alone. */
	nvmm_kern_close(o1);
	CHECK_ERR(ENOENT, mach_info(root_open(), 2, &info));
	CHECK_ERR(ENOENT, mach_info(root_open(), 127, &info));
	CHECK_ERR(0, mach_info(o2, 77, &info));
	CHECK_VAL("after close", mach_create(o2), 2);
	nvmm_kern_close(o2);
}

/* Every machine operation on machid must fail with want. */
static void
check_machid_ops(struct nvmm_owner *owner, nvmm_machid_t machid, int want,
    int fd)
{
	struct nvmm_vcpu_conf_cpuid conf;
	struct nvmm_ctl_mach_info info;

	memset(&conf, 0, sizeof(conf));
	conf.mask = 1;
	conf.leaf = 0x40000000;
	CHECK_ERR(want, nvmm_kern_machine_destroy(owner, machid));
	CHECK_ERR(want, nvmm_kern_vcpu_create(owner, machid, 0));
	CHECK_ERR(want, nvmm_kern_vcpu_destroy(owner, machid, 0));
	CHECK_ERR(want, nvmm_kern_vcpu_configure(owner, machid, 0,
	    NVMM_VCPU_CONF_CPUID, &conf));
	CHECK_ERR(want, nvmm_kern_vcpu_getstate(owner, machid, 0));
	CHECK_ERR(want, nvmm_kern_hva_map(owner, machid, HVA_A, PAGE, fd, 0));
	CHECK_ERR(want, nvmm_kern_hva_unmap(owner, machid, HVA_A, PAGE));
	CHECK_ERR(want, nvmm_kern_gpa_map(owner, machid, HVA_A, 0, PAGE, RX));
	CHECK_ERR(want, nvmm_kern_gpa_unmap(owner, machid, 0, PAGE));
	CHECK_ERR(want, mach_info(owner, machid, &info));
	CHECK_ERR(want, mach_info(root_open(), machid, &info));
}

ATF_TC(machine_bad_id);
ATF_TC_HEAD(machine_bad_id, tc)
{
	atf_tc_set_md_var(tc, "descr", "Ids past the table are EINVAL, "
	    "free ids ENOENT, for every machine operation");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(machine_bad_id, tc)
{
	static const nvmm_machid_t bad[] = { 128, 129, 255, 256, UINT32_MAX };
	struct nvmm_owner *owner = owner_open(getpid());
	int fd = tvm_memfd(PAGE);
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_machid_ops(owner, bad[i], EINVAL, fd);
	/* Free ids: 0 and 1 were created and are gone again. */
	CHECK_VAL("create", mach_create(owner), 0);
	CHECK_VAL("create", mach_create(owner), 1);
	REQUIRE_ERR(0, nvmm_kern_machine_destroy(owner, 0));
	REQUIRE_ERR(0, nvmm_kern_machine_destroy(owner, 1));
	check_machid_ops(owner, 0, ENOENT, fd);
	check_machid_ops(owner, 1, ENOENT, fd);
	close(fd);
	nvmm_kern_close(owner);
}

ATF_TC(owner_eperm);
ATF_TC_HEAD(owner_eperm, tc)
{
	atf_tc_set_md_var(tc, "descr", "A normal owner gets EPERM on "
	    "another owner's machine and changes nothing there");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(owner_eperm, tc)
{
	/* Same pid on purpose: ownership is per owner, not per process. */
	struct nvmm_owner *o1 = owner_open(getpid());
	struct nvmm_owner *o2 = owner_open(getpid());
	struct nvmm_vcpu_conf_cpuid conf;
	struct nvmm_ctl_mach_info info;
	nvmm_machid_t m1 = mach_create(o1);
	int fd = tvm_memfd(4 * PAGE);

	REQUIRE_ERR(0, nvmm_kern_vcpu_create(o1, m1, 0));
	hva_add(o1, m1, HVA_A, 4 * PAGE);
	memset(&conf, 0, sizeof(conf));
	conf.mask = 1;
	conf.leaf = 0x40000000;

	/* Every call below would succeed for o1, as checked after. */
	CHECK_ERR(EPERM, nvmm_kern_machine_destroy(o2, m1));
	CHECK_ERR(EPERM, nvmm_kern_vcpu_create(o2, m1, 1));
	CHECK_ERR(EPERM, nvmm_kern_vcpu_configure(o2, m1, 0,
	    NVMM_VCPU_CONF_CPUID, &conf));
	CHECK_ERR(EPERM, nvmm_kern_hva_map(o2, m1, HVA_B, 4 * PAGE, fd, 0));
	CHECK_ERR(EPERM, nvmm_kern_gpa_map(o2, m1, HVA_A, 0, PAGE, RX));
	CHECK_ERR(EPERM, nvmm_kern_gpa_unmap(o2, m1, 0, PAGE));
	CHECK_ERR(EPERM, nvmm_kern_hva_unmap(o2, m1, HVA_A, 4 * PAGE));
	CHECK_ERR(EPERM, mach_info(o2, m1, &info));
	CHECK_ERR(EPERM, nvmm_kern_vcpu_destroy(o2, m1, 0));

	/* Nothing of it happened. */
	check_info("after EPERMs", o1, m1, 1, 4 * PAGE, getpid());

	CHECK_ERR(0, nvmm_kern_vcpu_create(o1, m1, 1));
	CHECK_ERR(0, nvmm_kern_vcpu_configure(o1, m1, 0,
	    NVMM_VCPU_CONF_CPUID, &conf));
	CHECK_ERR(0, nvmm_kern_hva_map(o1, m1, HVA_B, 4 * PAGE, fd, 0));
	CHECK_ERR(0, nvmm_kern_gpa_map(o1, m1, HVA_A, 0, PAGE, RX));
	CHECK_ERR(0, nvmm_kern_gpa_unmap(o1, m1, 0, PAGE));
	CHECK_ERR(0, nvmm_kern_hva_unmap(o1, m1, HVA_A, 4 * PAGE));
	CHECK_ERR(0, nvmm_kern_vcpu_destroy(o1, m1, 0));
	CHECK_ERR(0, nvmm_kern_machine_destroy(o1, m1));
	close(fd);
	nvmm_kern_close(o1);
	nvmm_kern_close(o2);
}

ATF_TC(owner_root);
ATF_TC_HEAD(owner_root, tc)
{
	atf_tc_set_md_var(tc, "descr", "The root owner operates and queries "
	    "any machine; its own are pid 0 and closed together");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(owner_root, tc)
{
	struct nvmm_owner *o1 = owner_open(4242);
	struct nvmm_owner *root = root_open();
	struct nvmm_ctl_mach_info info;
	nvmm_machid_t m1 = mach_create(o1), mr;

	/* nvmmctl list: root sees the machine with its owner's pid. */
	check_info("o1's machine via root", root, m1, 0, 0, 4242);

	CHECK_ERR(0, nvmm_kern_vcpu_create(root, m1, 5));
	hva_add(root, m1, HVA_A, 2 * PAGE);
	CHECK_ERR(0, nvmm_kern_gpa_map(root, m1, HVA_A, 0, 2 * PAGE, RWX));
	/* What root did is o1's machine's state, seen by o1. */
	check_info("o1's view", o1, m1, 1, 2 * PAGE, 4242);
	CHECK_ERR(0, nvmm_kern_vcpu_destroy(root, m1, 5));
	CHECK_ERR(0, nvmm_kern_machine_destroy(root, m1));
	CHECK_ERR(ENOENT, mach_info(o1, m1, &info));

	/* A machine of root's own. */
	mr = mach_create(root);
	check_info("root's machine", root, mr, 0, 0, 0);
	CHECK_ERR(EPERM, mach_info(o1, mr, &info));
	CHECK_ERR(EPERM, nvmm_kern_vcpu_create(o1, mr, 0));
	CHECK_ERR(EPERM, nvmm_kern_machine_destroy(o1, mr));

	/* There is one root owner: closing it ends every root machine. */
	m1 = mach_create(o1);
	nvmm_kern_close(root);
	root = root_open();
	CHECK_ERR(ENOENT, mach_info(root, mr, &info));
	CHECK_ERR(0, mach_info(root, m1, &info));
	nvmm_kern_close(o1);
	CHECK_ERR(ENOENT, mach_info(root, m1, &info));
}

ATF_TC(owner_close);
ATF_TC_HEAD(owner_close, tc)
{
	atf_tc_set_md_var(tc, "descr", "Closing an owner destroys its "
	    "machines, in use or not, and no other owner's");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(owner_close, tc)
{
	struct nvmm_owner *o1 = owner_open(1111);
	struct nvmm_owner *o2 = owner_open(2222);
	struct nvmm_owner *root = root_open();
	struct nvmm_ctl_mach_info info;
	nvmm_machid_t a, b, c;

	a = mach_create(o1);
	c = mach_create(o2);
	b = mach_create(o1);
	/* b has everything a machine can hold. */
	REQUIRE_ERR(0, nvmm_kern_vcpu_create(o1, b, 0));
	REQUIRE_ERR(0, nvmm_kern_vcpu_create(o1, b, 255));
	hva_add(o1, b, HVA_A, 8 * PAGE);
	REQUIRE_ERR(0, nvmm_kern_gpa_map(o1, b, HVA_A, 0, 8 * PAGE, RWX));
	REQUIRE_ERR(0, nvmm_kern_vcpu_create(o2, c, 0));

	nvmm_kern_close(o1);
	CHECK_ERR(ENOENT, mach_info(root, a, &info));
	CHECK_ERR(ENOENT, mach_info(root, b, &info));
	check_info("o2's machine", root, c, 1, 0, 2222);
	CHECK_ERR(0, nvmm_kern_vcpu_create(o2, c, 1));

	/* The slots are free again, lowest first. */
	CHECK_VAL("after close", mach_create(o2), a);
	CHECK_VAL("after close", mach_create(o2), b);
	nvmm_kern_close(o2);
	CHECK_ERR(ENOENT, mach_info(root, c, &info));
	CHECK_ERR(ENOENT, mach_info(root, a, &info));
}

ATF_TC(vcpu_ids);
ATF_TC_HEAD(vcpu_ids, tc)
{
	atf_tc_set_md_var(tc, "descr", "VCPU ids: EBUSY when taken, EINVAL "
	    "past 255, ENOENT when absent; a freed id can be used again");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(vcpu_ids, tc)
{
	struct nvmm_owner *owner = owner_open(getpid());
	nvmm_machid_t m = mach_create(owner);
	struct nvmm_comm_page *comm;

	REQUIRE_ERR(0, nvmm_kern_vcpu_create(owner, m, 0));
	comm = vcpu_comm(owner, m, 0);
	comm->state.gprs[NVMM_X64_GPR_RAX] = 0x1234;
	/* NetBSD's code says EBUSY (its man page EEXIST)... */
	CHECK_ERR(EBUSY, nvmm_kern_vcpu_create(owner, m, 0));
	/* ... and leaves the VCPU and its comm page as they were. */
	CHECK_VAL("comm after EBUSY", comm->state.gprs[NVMM_X64_GPR_RAX],
	    0x1234);

	CHECK_ERR(0, nvmm_kern_vcpu_create(owner, m, NVMM_MAX_VCPUS - 1));
	CHECK_ERR(EBUSY, nvmm_kern_vcpu_create(owner, m, NVMM_MAX_VCPUS - 1));
	CHECK_ERR(EINVAL, nvmm_kern_vcpu_create(owner, m, NVMM_MAX_VCPUS));
	CHECK_ERR(EINVAL, nvmm_kern_vcpu_create(owner, m, UINT32_MAX));
	CHECK_ERR(EINVAL, nvmm_kern_vcpu_destroy(owner, m, NVMM_MAX_VCPUS));
	CHECK_ERR(ENOENT, nvmm_kern_vcpu_destroy(owner, m, 1));
	CHECK_ERR(ENOENT, nvmm_kern_vcpu_getstate(owner, m, 1));
	check_info("two VCPUs", owner, m, 2, 0, getpid());

	CHECK_ERR(0, nvmm_kern_vcpu_destroy(owner, m, 0));
	CHECK_ERR(ENOENT, nvmm_kern_vcpu_destroy(owner, m, 0));
	CHECK_ERR(ENOENT, nvmm_kern_vcpu_getstate(owner, m, 0));
	check_info("one VCPU", owner, m, 1, 0, getpid());
	CHECK_ERR(0, nvmm_kern_vcpu_create(owner, m, 0));
	CHECK_ERR(EBUSY, nvmm_kern_vcpu_create(owner, m, 0));
	check_info("two again", owner, m, 2, 0, getpid());
	nvmm_kern_close(owner);
}

ATF_TC(vcpu_reset_state);
ATF_TC_HEAD(vcpu_reset_state, tc)
{
	atf_tc_set_md_var(tc, "descr", "A new VCPU is in the x86 RESET "
	    "state, all of it cached in the comm page");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(vcpu_reset_state, tc)
{
	static const nvmm_cpuid_t ids[] = { 0, 1, NVMM_MAX_VCPUS - 1 };
	struct nvmm_owner *owner = owner_open(getpid());
	nvmm_machid_t m = mach_create(owner);
	struct nvmm_comm_page *comm;
	char what[32];
	size_t i;

	/* The last id too: its comm page is the last of the memfd. */
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		REQUIRE_ERR(0, nvmm_kern_vcpu_create(owner, m, ids[i]));
		comm = vcpu_comm(owner, m, ids[i]);
		snprintf(what, sizeof(what), "VCPU %u", ids[i]);
		CHECK_VAL(what, comm->state_cached, NVMM_X64_STATE_ALL);
		CHECK_VAL(what, comm->state_commit, 0);
		CHECK_VAL(what, comm->state_wanted, 0);
		CHECK_VAL(what, comm->event_commit, 0);
		CHECK_VAL(what, comm->stop, 0);
		check_reset(what, &comm->state, true);
	}
	nvmm_kern_close(owner);
}

ATF_TC(vcpu_recreate);
ATF_TC_HEAD(vcpu_recreate, tc)
{
	atf_tc_set_md_var(tc, "descr", "A VCPU destroyed and created again "
	    "starts from RESET, in the comm page and in KVM");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(vcpu_recreate, tc)
{
	struct nvmm_owner *owner = owner_open(getpid());
	nvmm_machid_t m = mach_create(owner);
	struct nvmm_comm_page *comm;
	struct nvmm_x64_state *st;

	REQUIRE_ERR(0, nvmm_kern_vcpu_create(owner, m, 3));
	comm = vcpu_comm(owner, m, 3);
	st = &comm->state;

	/* Load a state far from RESET into KVM... */
	st->gprs[NVMM_X64_GPR_RAX] = 0xDEADBEEF;
	st->gprs[NVMM_X64_GPR_RIP] = 0x1234;
	st->segs[NVMM_X64_SEG_CS].selector = 0x1000;
	st->segs[NVMM_X64_SEG_CS].base = 0x10000;
	comm->state_wanted = NVMM_X64_STATE_GPRS | NVMM_X64_STATE_SEGS;
	REQUIRE_ERR(0, nvmm_kern_vcpu_setstate(owner, m, 3));
	/* ... and read it back, so the test knows the change took. */
	memset(st->gprs, 0, sizeof(st->gprs));
	comm->state_cached = 0;
	comm->state_wanted = NVMM_X64_STATE_GPRS;
	REQUIRE_ERR(0, nvmm_kern_vcpu_getstate(owner, m, 3));
	ATF_REQUIRE_EQ(0xDEADBEEF, st->gprs[NVMM_X64_GPR_RAX]);
	comm->state_commit = NVMM_X64_STATE_GPRS;

	REQUIRE_ERR(0, nvmm_kern_vcpu_destroy(owner, m, 3));
	REQUIRE_ERR(0, nvmm_kern_vcpu_create(owner, m, 3));
	CHECK_VAL("comm", comm->state_cached, NVMM_X64_STATE_ALL);
	/* A commit left from the old life would clobber the new state. */
	CHECK_VAL("comm", comm->state_commit, 0);
	check_reset("comm page", st, true);

	/*
	 * KVM keeps a destroyed VCPU for the next create of its id: what it
	 * holds must be RESET too, not the state loaded above.
	 */
	memset(st, 0xA5, sizeof(*st));
	comm->state_cached = 0;
	comm->state_wanted = NVMM_X64_STATE_ALL;
	REQUIRE_ERR(0, nvmm_kern_vcpu_getstate(owner, m, 3));
	CHECK_VAL("getstate", comm->state_cached, NVMM_X64_STATE_ALL);
	check_reset("KVM", st, false);
	nvmm_kern_close(owner);
}

ATF_TC(configure_ops);
ATF_TC_HEAD(configure_ops, tc)
{
	atf_tc_set_md_var(tc, "descr", "x86 has no machine conf; VCPU conf "
	    "is CPUID (200) and TPR (201) as advertised, other ops EINVAL");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(configure_ops, tc)
{
	static const uint64_t mops[] = { 0, 1, 100, 199, 200, 201, ~0ULL };
	/* 0 is NVMM_VCPU_CONF_CALLBACKS, which libnvmm keeps to itself. */
	static const uint64_t vops[] = { 0, 1, 100, 199, 202, 1000, ~0ULL };
	struct nvmm_owner *owner = owner_open(getpid());
	nvmm_machid_t m = mach_create(owner);
	struct nvmm_vcpu_conf_tpr tpr;
	struct nvmm_capability cap;
	uint8_t conf[64];
	size_t i;
	int want;

	REQUIRE_ERR(0, nvmm_kern_vcpu_create(owner, m, 0));
	memset(conf, 0, sizeof(conf));
	for (i = 0; i < sizeof(mops) / sizeof(mops[0]); i++)
		CHECK_ERR(EINVAL, nvmm_kern_machine_configure(owner, m,
		    mops[i], conf));
	for (i = 0; i < sizeof(vops) / sizeof(vops[0]); i++)
		CHECK_ERR(EINVAL, nvmm_kern_vcpu_configure(owner, m, 0,
		    vops[i], conf));

	/*
	 * TPR conf: VMX's NetBSD backend takes it, SVM's refuses it with
	 * EINVAL; either way the capability must say which.
	 */
	REQUIRE_ERR(0, nvmm_kern_capability(owner, &cap));
	want = (cap.arch.vcpu_conf_support & NVMM_CAP_ARCH_VCPU_CONF_TPR) ?
	    0 : EINVAL;
	memset(&tpr, 0, sizeof(tpr));
	tpr.exit_changed = 1;
	CHECK_ERR(want, nvmm_kern_vcpu_configure(owner, m, 0,
	    NVMM_VCPU_CONF_TPR, &tpr));
	tpr.exit_changed = 0;
	CHECK_ERR(want, nvmm_kern_vcpu_configure(owner, m, 0,
	    NVMM_VCPU_CONF_TPR, &tpr));
	/* A valid op on an absent VCPU. */
	CHECK_ERR(ENOENT, nvmm_kern_vcpu_configure(owner, m, 1,
	    NVMM_VCPU_CONF_CPUID, conf));
	CHECK_ERR(EINVAL, nvmm_kern_vcpu_configure(owner, m, NVMM_MAX_VCPUS,
	    NVMM_VCPU_CONF_CPUID, conf));
	nvmm_kern_close(owner);
}

ATF_TC(configure_op_first);
ATF_TC_HEAD(configure_op_first, tc)
{
	atf_tc_set_md_var(tc, "descr", "An unknown conf op is EINVAL before "
	    "the machine and VCPU are looked up, as NetBSD checks it first");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(configure_op_first, tc)
{
	struct nvmm_owner *o1 = owner_open(getpid());
	struct nvmm_owner *o2 = owner_open(getpid());
	nvmm_machid_t m = mach_create(o1);
	uint8_t conf[64];

	/*
	 * NetBSD's machine_configure and vcpu_configure refuse the op
	 * before nvmm_machine_get(): a free id, another owner's machine or
	 * an absent VCPU still make EINVAL, not ENOENT or EPERM.
	 */
	memset(conf, 0, sizeof(conf));
	REQUIRE_ERR(0, nvmm_kern_vcpu_create(o1, m, 0));
	CHECK_ERR(EINVAL, nvmm_kern_machine_configure(o1, 100, 200, conf));
	CHECK_ERR(EINVAL, nvmm_kern_machine_configure(o2, m, 0, conf));
	CHECK_ERR(EINVAL, nvmm_kern_vcpu_configure(o1, 100, 0, 202, conf));
	CHECK_ERR(EINVAL, nvmm_kern_vcpu_configure(o2, m, 0, 100, conf));
	CHECK_ERR(EINVAL, nvmm_kern_vcpu_configure(o1, m, 3, 0, conf));
	/* With a valid op, the lookups speak. */
	CHECK_ERR(EPERM, nvmm_kern_vcpu_configure(o2, m, 0,
	    NVMM_VCPU_CONF_CPUID, conf));
	CHECK_ERR(ENOENT, nvmm_kern_vcpu_configure(o1, m, 3,
	    NVMM_VCPU_CONF_CPUID, conf));
	nvmm_kern_close(o1);
	nvmm_kern_close(o2);
}

#define C_MASK		1
#define C_EXIT		2

/*
 * A CPUID conf for leaf on VCPU 0.  The bits set and deleted differ by
 * register, so never conflict, and change per leaf, so that a replacement
 * is a real change.
 */
static int
cpuid_conf(struct nvmm_owner *owner, nvmm_machid_t m, uint32_t leaf,
    int flags)
{
	struct nvmm_vcpu_conf_cpuid conf;

	memset(&conf, 0, sizeof(conf));
	conf.mask = (flags & C_MASK) != 0;
	conf.exit = (flags & C_EXIT) != 0;
	conf.leaf = leaf;
	conf.u.mask.set.eax = leaf & 0xFF;
	conf.u.mask.del.ebx = 1;
	return nvmm_kern_vcpu_configure(owner, m, 0, NVMM_VCPU_CONF_CPUID,
	    &conf);
}

/* Leaves that neither KVM nor NVMM's policy fill: masks change nothing. */
#define LEAF(i)		(0x40000100U + (uint32_t)(i))

ATF_TC(vcpu_configure_cpuid);
ATF_TC_HEAD(vcpu_configure_cpuid, tc)
{
	atf_tc_set_md_var(tc, "descr", "CPUID conf: validation, the 32-leaf "
	    "table, replacement and deletion");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(vcpu_configure_cpuid, tc)
{
	struct nvmm_owner *owner = owner_open(getpid());
	nvmm_machid_t m = mach_create(owner);
	struct nvmm_vcpu_conf_cpuid conf;
	uint32_t *set, *del;
	unsigned i;

	REQUIRE_ERR(0, nvmm_kern_vcpu_create(owner, m, 0));

	/*
	 * Refused confs, on leaves the table fill below does not use: had
	 * any of them taken a slot, the 32nd leaf would not fit.
	 */
	CHECK_ERR(EINVAL, cpuid_conf(owner, m, 1, C_MASK | C_EXIT));
	/* KVM has no CPUID exit: refused rather than never honoured. */
	CHECK_ERR(EOPNOTSUPP, cpuid_conf(owner, m, 1, C_EXIT));
	CHECK_ERR(EOPNOTSUPP, cpuid_conf(owner, m, LEAF(100), C_EXIT));
	/* A bit both set and deleted, in each register in turn. */
	memset(&conf, 0, sizeof(conf));
	conf.mask = 1;
	conf.leaf = 1;
	set = &conf.u.mask.set.eax;
	del = &conf.u.mask.del.eax;
	for (i = 0; i < 4; i++) {
		memset(&conf.u, 0, sizeof(conf.u));
		set[i] = 0x11;
		del[i] = 0x10;
		CHECK_ERR(EINVAL, nvmm_kern_vcpu_configure(owner, m, 0,
		    NVMM_VCPU_CONF_CPUID, &conf));
	}
	/* Deleting a leaf never configured is no error and takes no slot. */
	CHECK_ERR(0, cpuid_conf(owner, m, LEAF(101), 0));

	/* 31 leaves, then a replacement, which must not take slot 32. */
	for (i = 0; i < CPUID_MAXOPS - 1; i++)
		REQUIRE_ERR(0, cpuid_conf(owner, m, LEAF(i), C_MASK));
	CHECK_ERR(0, cpuid_conf(owner, m, LEAF(0), C_MASK));
	CHECK_ERR(0, cpuid_conf(owner, m, LEAF(CPUID_MAXOPS - 1), C_MASK));
	CHECK_ERR(ENOBUFS, cpuid_conf(owner, m, LEAF(CPUID_MAXOPS), C_MASK));
	/* A full table still takes replacements. */
	CHECK_ERR(0, cpuid_conf(owner, m, LEAF(3), C_MASK));
	CHECK_ERR(ENOBUFS, cpuid_conf(owner, m, LEAF(CPUID_MAXOPS), C_MASK));

	/* mask=0, exit=0 deletes: exactly one new leaf fits then. */
	CHECK_ERR(0, cpuid_conf(owner, m, LEAF(7), 0));
	CHECK_ERR(0, cpuid_conf(owner, m, LEAF(CPUID_MAXOPS), C_MASK));
	CHECK_ERR(ENOBUFS, cpuid_conf(owner, m, LEAF(CPUID_MAXOPS + 1),
	    C_MASK));
	/* A deleted leaf is a new one again. */
	CHECK_ERR(ENOBUFS, cpuid_conf(owner, m, LEAF(7), C_MASK));

	/* The table is per VCPU: a new one starts empty. */
	REQUIRE_ERR(0, nvmm_kern_vcpu_create(owner, m, 1));
	memset(&conf, 0, sizeof(conf));
	conf.mask = 1;
	conf.leaf = LEAF(CPUID_MAXOPS + 1);
	CHECK_ERR(0, nvmm_kern_vcpu_configure(owner, m, 1,
	    NVMM_VCPU_CONF_CPUID, &conf));
	nvmm_kern_close(owner);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, capability);
	ATF_TP_ADD_TC(tp, machine_ids);
	ATF_TP_ADD_TC(tp, machine_bad_id);
	ATF_TP_ADD_TC(tp, owner_eperm);
	ATF_TP_ADD_TC(tp, owner_root);
	ATF_TP_ADD_TC(tp, owner_close);
	ATF_TP_ADD_TC(tp, vcpu_ids);
	ATF_TP_ADD_TC(tp, vcpu_reset_state);
	ATF_TP_ADD_TC(tp, vcpu_recreate);
	ATF_TP_ADD_TC(tp, configure_ops);
	ATF_TP_ADD_TC(tp, configure_op_first);
	ATF_TP_ADD_TC(tp, vcpu_configure_cpuid);

	return atf_no_error();
}
