/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * t_ctl: kernel/'s NVMM_CTL, NetBSD's MACH_INFO (reference §6) and
 * nvmmd's extensions, and the host-wide statistics nvmmctl reads, each
 * seen only by whoever may operate the machine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "h_owner.h"

ATF_TC(ctl_mach_info);
ATF_TC_HEAD(ctl_mach_info, tc)
{
	atf_tc_set_md_var(tc, "descr", "NVMM_CTL_MACH_INFO: VCPU count, "
	    "HVA bytes (not GPA), owner pid, creation time");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(ctl_mach_info, tc)
{
	struct nvmm_owner *owner = owner_open(31337);
	struct nvmm_ctl_mach_info info;
	nvmm_machid_t m, m2;
	time_t before, after;

	before = time(NULL);
	m = mach_create(owner);
	after = time(NULL);
	m2 = mach_create(owner);

	check_info("new", owner, m, 0, 0, 31337);
	REQUIRE_ERR(0, mach_info(owner, m, &info));
	ATF_CHECK_MSG(info.time >= before && info.time <= after,
	    "time %jd not in [%jd, %jd]", (intmax_t)info.time,
	    (intmax_t)before, (intmax_t)after);

	REQUIRE_ERR(0, nvmm_kern_vcpu_create(owner, m, 0));
	REQUIRE_ERR(0, nvmm_kern_vcpu_create(owner, m, 7));
	REQUIRE_ERR(0, nvmm_kern_vcpu_create(owner, m, NVMM_MAX_VCPUS - 1));
	hva_add(owner, m, HVA_A, 4 * PAGE);
	hva_add(owner, m, HVA_B, 16 * PAGE);
	check_info("3 VCPUs, 20 pages", owner, m, 3, 20 * PAGE, 31337);

	/* Guest mappings, several of one HVA range, count for nothing. */
	REQUIRE_ERR(0, nvmm_kern_gpa_map(owner, m, HVA_A, 0, 4 * PAGE, RWX));
	REQUIRE_ERR(0, nvmm_kern_gpa_map(owner, m, HVA_A, 1ULL << 30,
	    4 * PAGE, RX));
	REQUIRE_ERR(0, nvmm_kern_gpa_map(owner, m, HVA_B + 4 * PAGE,
	    2ULL << 30, 8 * PAGE, RWX));
	check_info("with GPA mappings", owner, m, 3, 20 * PAGE, 31337);

	/* Unmapping the HVA range with guest mappings still using it. */
	REQUIRE_ERR(0, nvmm_kern_hva_unmap(owner, m, HVA_A, 4 * PAGE));
	REQUIRE_ERR(0, nvmm_kern_vcpu_destroy(owner, m, 7));
	check_info("after unmaps", owner, m, 2, 16 * PAGE, 31337);
	/* Another machine of the same owner has counts of its own. */
	check_info("other machine", owner, m2, 0, 0, 31337);
	/* And root sees the same as the owner. */
	check_info("via root", root_open(), m, 2, 16 * PAGE, 31337);
	nvmm_kern_close(owner);
}

ATF_TC(ctl_invalid);
ATF_TC_HEAD(ctl_invalid, tc)
{
	atf_tc_set_md_var(tc, "descr", "NVMM_CTL: EINVAL for a wrong size "
	    "or an unknown op, and nothing written back");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(ctl_invalid, tc)
{
	static const int ops[] = { 1, 2, 100, -1 };
	static const size_t sizes[] = { 0, 8, 31, 33, 64 };
	struct nvmm_owner *owner = owner_open(getpid());
	/* Room for the largest size tried. */
	struct nvmm_ctl_mach_info info[2];
	nvmm_machid_t m = mach_create(owner);
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(info, 0, sizeof(info));
		info[0].machid = m;
		CHECK_ERR(EINVAL, nvmm_kern_ctl(owner, NVMM_CTL_MACH_INFO,
		    info, sizes[i]));
		CHECK_VAL("refused", info[0].pid, 0);
	}
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		memset(info, 0, sizeof(info));
		info[0].machid = m;
		CHECK_ERR(EINVAL, nvmm_kern_ctl(owner, ops[i], info, 32));
		CHECK_ERR(EINVAL, nvmm_kern_ctl(root_open(), ops[i], info, 32));
		CHECK_VAL("refused", info[0].pid, 0);
	}
	/* The right size (32 bytes, as NetBSD) and op do work. */
	CHECK_ERR(0, nvmm_kern_ctl(owner, NVMM_CTL_MACH_INFO, info, 32));
	CHECK_VAL("accepted", info[0].pid, getpid());
	nvmm_kern_close(owner);
}

/*
 * nvmmd's NVMM_CTL extensions are the driver's too: LIST and OWNER from
 * the machine table, VCPU_STATS from the VCPU, each seen only by whoever
 * may operate the machine.
 */
#define CTL_UID_A	47311
#define CTL_UID_B	47312

static bool
ctl_listed(struct nvmm_owner *owner, nvmm_machid_t m)
{
	struct nvmm_ctl_mach_list list;

	memset(&list, 0xff, sizeof(list));
	REQUIRE_ERR(0, nvmm_kern_ctl(owner, NVMM_CTL_MACH_LIST, &list,
	    sizeof(list)));
	return (list.machids[m / 64] >> (m % 64)) & 1;
}

static int
ctl_owner(struct nvmm_owner *owner, nvmm_machid_t m,
    struct nvmm_ctl_mach_owner *info)
{
	memset(info, 0, sizeof(*info));
	info->machid = m;
	return nvmm_kern_ctl(owner, NVMM_CTL_MACH_OWNER, info, sizeof(*info));
}

static int
ctl_stats(struct nvmm_owner *owner, nvmm_machid_t m, nvmm_cpuid_t c,
    struct nvmm_ctl_vcpu_stats *st)
{
	memset(st, 0xff, sizeof(*st));
	st->machid = m;
	st->cpuid = c;
	return nvmm_kern_ctl(owner, NVMM_CTL_VCPU_STATS, st, sizeof(*st));
}

static int
ctl_ident(struct nvmm_owner *owner, nvmm_machid_t machid,
    struct nvmm_ctl_mach_ident *id)
{
	memset(id, 0, sizeof(*id));
	id->machid = machid;
	return nvmm_kern_ctl(owner, NVMM_CTL_MACH_IDENT, id, sizeof(*id));
}

ATF_TC(ctl_mach_ident);
ATF_TC_HEAD(ctl_mach_ident, tc)
{
	atf_tc_set_md_var(tc, "descr", "NVMM_CTL_MACH_IDENT: a version 4 "
	    "UUID that stays the machine's for its life and differs from the "
	    "next machine's of the same id, and a CLOCK_REALTIME creation "
	    "time to the nanosecond, consistent with MACH_INFO");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(ctl_mach_ident, tc)
{
	struct nvmm_owner *a, *b, *root = root_open();
	struct nvmm_ctl_mach_ident id, again, next;
	struct nvmm_ctl_mach_info info;
	struct timespec before, after;
	nvmm_machid_t m, m2;

	REQUIRE_ERR(0, nvmm_kern_open(&a, getpid(), CTL_UID_A, false));
	REQUIRE_ERR(0, nvmm_kern_open(&b, getpid(), CTL_UID_B, false));
	clock_gettime(CLOCK_REALTIME, &before);
	m = mach_create(a);
	clock_gettime(CLOCK_REALTIME, &after);
	REQUIRE_ERR(0, ctl_ident(a, m, &id));
	CHECK_VAL("machid", id.machid, m);
	CHECK_VAL("version", id.uuid[6] >> 4, 4);
	CHECK_VAL("variant", id.uuid[8] >> 6, 2);
	ATF_CHECK(id.created_nsec < 1000000000);
	ATF_CHECK_MSG((id.created_sec > before.tv_sec ||
	    (id.created_sec == before.tv_sec &&
	    id.created_nsec >= before.tv_nsec)) &&
	    (id.created_sec < after.tv_sec ||
	    (id.created_sec == after.tv_sec &&
	    id.created_nsec <= after.tv_nsec)),
	    "created %jd.%09u not in [%jd.%09ld, %jd.%09ld]",
	    (intmax_t)id.created_sec, id.created_nsec,
	    (intmax_t)before.tv_sec, before.tv_nsec, (intmax_t)after.tv_sec,
	    after.tv_nsec);
	REQUIRE_ERR(0, mach_info(a, m, &info));
	CHECK_VAL("MACH_INFO's time", info.time, id.created_sec);

	/* The same for its whole life, whoever asks. */
	REQUIRE_ERR(0, nvmm_kern_vcpu_create(a, m, 0));
	hva_add(a, m, HVA_A, 4 * PAGE);
	REQUIRE_ERR(0, ctl_ident(root, m, &again));
	ATF_CHECK(memcmp(&id, &again, sizeof(id)) == 0);
	CHECK_ERR(EPERM, ctl_ident(b, m, &again));
	CHECK_ERR(EINVAL, nvmm_kern_ctl(a, NVMM_CTL_MACH_IDENT, &again,
	    sizeof(again) - 1));

	/* Gone, then the next machine in the same slot is another. */
	REQUIRE_ERR(0, nvmm_kern_machine_destroy(a, m));
	CHECK_ERR(ENOENT, ctl_ident(root, m, &again));
	m2 = mach_create(a);
	CHECK_VAL("the slot is reused", m2, m);
	REQUIRE_ERR(0, ctl_ident(a, m2, &next));
	ATF_CHECK_MSG(memcmp(next.uuid, id.uuid, sizeof(id.uuid)) != 0,
	    "machine %u has its predecessor's UUID", m2);
	nvmm_kern_close(a);
	nvmm_kern_close(b);
	nvmm_kern_close(root);
}

ATF_TC(host_stats);
ATF_TC_HEAD(host_stats, tc)
{
	atf_tc_set_md_var(tc, "descr", "nvmm_kern_host_stats: every machine "
	    "the owner may see and every VCPU, in order, with MACH_IDENT's "
	    "identity; too little room is ENOSPC with the counts needed");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(host_stats, tc)
{
	struct nvmm_owner *a, *b, *root = root_open();
	struct nvmm_ctl_host_mach machs[4];
	struct nvmm_ctl_host_vcpu vcpus[8];
	struct nvmm_ctl_mach_ident id;
	struct nvmm_kern_host h;
	nvmm_machid_t ma, mb;

	REQUIRE_ERR(0, nvmm_kern_open(&a, getpid(), CTL_UID_A, false));
	REQUIRE_ERR(0, nvmm_kern_open(&b, getpid(), CTL_UID_B, false));
	ma = mach_create(a);
	mb = mach_create(b);
	REQUIRE_ERR(0, nvmm_kern_vcpu_create(a, ma, 3));
	REQUIRE_ERR(0, nvmm_kern_vcpu_create(b, mb, 0));
	REQUIRE_ERR(0, nvmm_kern_vcpu_create(b, mb, 5));

	memset(&h, 0, sizeof(h));
	h.machs = machs;
	h.maxmachs = 4;
	h.vcpus = vcpus;
	h.maxvcpus = 8;
	REQUIRE_ERR(0, nvmm_kern_host_stats(root, &h));
	CHECK_VAL("machines", h.nmachs, 2);
	CHECK_VAL("VCPUs", h.nvcpus, 3);
	CHECK_VAL("first", machs[0].machid, ma);
	CHECK_VAL("its uid", machs[0].uid, CTL_UID_A);
	CHECK_VAL("its VCPUs", machs[0].nvcpus, 1);
	CHECK_VAL("second", machs[1].machid, mb);
	CHECK_VAL("its uid", machs[1].uid, CTL_UID_B);
	REQUIRE_ERR(0, ctl_ident(root, mb, &id));
	ATF_CHECK(memcmp(machs[1].uuid, id.uuid, sizeof(id.uuid)) == 0);
	CHECK_VAL("created", machs[1].created_sec, id.created_sec);
	CHECK_VAL("VCPU 0", vcpus[0].machid * 1000 + vcpus[0].cpuid,
	    ma * 1000 + 3);
	CHECK_VAL("VCPU 1", vcpus[1].machid * 1000 + vcpus[1].cpuid, mb * 1000);
	CHECK_VAL("VCPU 2", vcpus[2].machid * 1000 + vcpus[2].cpuid,
	    mb * 1000 + 5);

	/* An owner sees its own alone. */
	REQUIRE_ERR(0, nvmm_kern_host_stats(b, &h));
	CHECK_VAL("b's machines", h.nmachs, 1);
	CHECK_VAL("b's VCPUs", h.nvcpus, 2);

	/* Too little room: what fits, and how many there are. */
	h.maxmachs = 1;
	h.maxvcpus = 1;
	CHECK_ERR(ENOSPC, nvmm_kern_host_stats(root, &h));
	CHECK_VAL("machines needed", h.nmachs, 2);
	CHECK_VAL("VCPUs needed", h.nvcpus, 3);
	nvmm_kern_close(a);
	nvmm_kern_close(b);
	nvmm_kern_close(root);
}

ATF_TC(ctl_registry);
ATF_TC_HEAD(ctl_registry, tc)
{
	atf_tc_set_md_var(tc, "descr", "NVMM_CTL_MACH_LIST, MACH_OWNER, "
	    "VCPU_STATS and MACH_KILL work on kernel/'s machine table, for "
	    "the owner and the root owner alone");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(ctl_registry, tc)
{
	struct nvmm_owner *a, *b, *root = root_open();
	struct nvmm_ctl_mach_owner info;
	struct nvmm_ctl_vcpu_stats st;
	struct nvmm_ctl_mach_kill kill;
	char comm[16] = "";
	nvmm_machid_t m;
	FILE *f;

	REQUIRE_ERR(0, nvmm_kern_open(&a, getpid(), CTL_UID_A, false));
	REQUIRE_ERR(0, nvmm_kern_open(&b, getpid(), CTL_UID_B, false));
	m = mach_create(a);
	ATF_CHECK(ctl_listed(a, m));
	ATF_CHECK(ctl_listed(root, m));
	ATF_CHECK(!ctl_listed(b, m));

	CHECK_ERR(0, ctl_owner(a, m, &info));
	CHECK_VAL("owner", info.uid, CTL_UID_A);
	CHECK_VAL("owner", info.pid, getpid());
	f = fopen("/proc/self/comm", "r");
	ATF_REQUIRE(f != NULL && fgets(comm, sizeof(comm), f) != NULL);
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	ATF_CHECK_STREQ(info.comm, comm);
	CHECK_ERR(0, ctl_owner(root, m, &info));
	CHECK_VAL("root", info.uid, CTL_UID_A);
	CHECK_ERR(EPERM, ctl_owner(b, m, &info));
	CHECK_ERR(EINVAL, nvmm_kern_ctl(a, NVMM_CTL_MACH_OWNER, &info,
	    sizeof(info) - 1));

	CHECK_ERR(ENOENT, ctl_stats(a, m, 0, &st));
	REQUIRE_ERR(0, nvmm_kern_vcpu_create(a, m, 0));
	CHECK_ERR(0, ctl_stats(a, m, 0, &st));
	CHECK_VAL("new VCPU", st.nruns, 0);
	CHECK_VAL("new VCPU", st.run_ns, 0);
	CHECK_VAL("new VCPU", st.exits[NVMM_CTL_STATS_EXIT_NONE], 0);
	CHECK_ERR(0, ctl_stats(root, m, 0, &st));
	CHECK_ERR(EPERM, ctl_stats(b, m, 0, &st));
	CHECK_ERR(EINVAL, ctl_stats(a, m, NVMM_MAX_VCPUS, &st));

	/* MACH_KILL: a destroy by whoever may operate the machine. */
	kill.machid = m;
	CHECK_ERR(EPERM, nvmm_kern_ctl(b, NVMM_CTL_MACH_KILL, &kill,
	    sizeof(kill)));
	CHECK_ERR(EINVAL, nvmm_kern_ctl(root, NVMM_CTL_MACH_KILL, &kill,
	    sizeof(kill) + 1));
	ATF_CHECK(ctl_listed(a, m));
	CHECK_ERR(0, nvmm_kern_ctl(root, NVMM_CTL_MACH_KILL, &kill,
	    sizeof(kill)));
	ATF_CHECK(!ctl_listed(root, m));
	CHECK_ERR(ENOENT, ctl_owner(root, m, &info));
	CHECK_ERR(ENOENT, nvmm_kern_machine_destroy(a, m));
	nvmm_kern_close(a);
	nvmm_kern_close(b);
	nvmm_kern_close(root);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, ctl_mach_info);
	ATF_TP_ADD_TC(tp, ctl_invalid);
	ATF_TP_ADD_TC(tp, ctl_registry);
	ATF_TP_ADD_TC(tp, ctl_mach_ident);
	ATF_TP_ADD_TC(tp, host_stats);

	return atf_no_error();
}
