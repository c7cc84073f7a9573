/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * t_mem: kernel/'s HVA and GPA mappings, against NetBSD's driver
 * (reference §6.4): argument checks with NetBSD's exact errno, its quirks
 * (nested HVA ranges), every protection NetBSD accepts, the top of
 * guest space, and map/unmap churn, which must recycle
 * KVM memory slots.  What the guest then sees is for the guest tests.
 */
#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "h_vm.h"

#define PAGE		NVMM_PAGE_SIZE
#define MAX_RAM		(128ULL << 30)
#define MAX_HMAPPINGS	32


/* A machine of a fresh owner, without memory. */
struct tmach {
	struct nvmm_owner *o;
	nvmm_machid_t m;
};

static void
tmach_create(struct tmach *t)
{
	REQUIRE_ERR(0, nvmm_kern_open(&t->o, getpid(), getuid(), false));
	REQUIRE_ERR(0, nvmm_kern_machine_create(t->o, &t->m));
}

/* HVA bytes registered with the machine, as nvmmctl shows them. */
static uint64_t
nram(struct nvmm_owner *owner, nvmm_machid_t machid)
{
	struct nvmm_ctl_mach_info info;

	memset(&info, 0, sizeof(info));
	info.machid = machid;
	REQUIRE_ERR(0, nvmm_kern_ctl(owner, NVMM_CTL_MACH_INFO, &info,
	    sizeof(info)));
	return info.nram;
}

#define CHECK_NRAM(owner, machid, want) do {				\
	uint64_t nram_ = nram(owner, machid);				\
	ATF_CHECK_MSG(nram_ == (want), "nram is %ju, want %ju",	\
	    (uintmax_t)nram_, (uintmax_t)(want));			\
} while (0)

/* A memfd with size bytes that kernel/ must refuse for lack of seals. */
static int
memfd_unsealed(size_t size, unsigned seals)
{
	int fd;

	fd = memfd_create("t_mem", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ATF_REQUIRE_MSG(fd != -1, "memfd_create: %s", strerror(errno));
	ATF_REQUIRE(ftruncate(fd, (off_t)size) == 0);
	if (seals != 0)
		ATF_REQUIRE(fcntl(fd, F_ADD_SEALS, seals) == 0);
	return fd;
}

/* -------------------------------------------------------------------------- */

ATF_TC(hva_map_invalid);
ATF_TC_HEAD(hva_map_invalid, tc)
{
	atf_tc_set_md_var(tc, "descr", "hva_map: EINVAL for a bad address, "
	    "size or offset, and for a memfd that may shrink or is short");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(hva_map_invalid, tc)
{
	struct tmach t;
	int fd, fd2;

	tmach_create(&t);
	fd = tvm_memfd(4 * PAGE);

	CHECK_ERR(EINVAL, nvmm_kern_hva_map(t.o, t.m, 0, 4 * PAGE, fd, 0));
	CHECK_ERR(EINVAL, nvmm_kern_hva_map(t.o, t.m, HVA_A + 1, 2 * PAGE,
	    fd, 0));
	CHECK_ERR(EINVAL, nvmm_kern_hva_map(t.o, t.m, HVA_A + PAGE / 2,
	    2 * PAGE, fd, 0));
	CHECK_ERR(EINVAL, nvmm_kern_hva_map(t.o, t.m, HVA_A, PAGE + 1, fd,
	    0));
	CHECK_ERR(EINVAL, nvmm_kern_hva_map(t.o, t.m, HVA_A, 100, fd, 0));
	CHECK_ERR(EINVAL, nvmm_kern_hva_map(t.o, t.m, HVA_A, 0, fd, 0));
	/* hva + size wraps around. */
	CHECK_ERR(EINVAL, nvmm_kern_hva_map(t.o, t.m, (uintptr_t)0 - PAGE,
	    2 * PAGE, fd, 0));

	/* Offsets: negative, unaligned, or past what the memfd holds. */
	CHECK_ERR(EINVAL, nvmm_kern_hva_map(t.o, t.m, HVA_A, PAGE, fd,
	    -(off_t)PAGE));
	CHECK_ERR(EINVAL, nvmm_kern_hva_map(t.o, t.m, HVA_A, PAGE, fd, 100));
	CHECK_ERR(EINVAL, nvmm_kern_hva_map(t.o, t.m, HVA_A, PAGE, fd,
	    PAGE / 2));
	CHECK_ERR(EINVAL, nvmm_kern_hva_map(t.o, t.m, HVA_A, 8 * PAGE, fd,
	    0));
	CHECK_ERR(EINVAL, nvmm_kern_hva_map(t.o, t.m, HVA_A, 4 * PAGE, fd,
	    PAGE));
	CHECK_ERR(EINVAL, nvmm_kern_hva_map(t.o, t.m, HVA_A, PAGE, fd,
	    4 * PAGE));

	/*
	 * A memfd the client could shrink would turn guest accesses into
	 * SIGBUS in the daemon: no seal at all, or only against growing.
	 */
	fd2 = memfd_unsealed(4 * PAGE, 0);
	CHECK_ERR(EINVAL, nvmm_kern_hva_map(t.o, t.m, HVA_A, 4 * PAGE, fd2,
	    0));
	close(fd2);
	fd2 = memfd_unsealed(4 * PAGE, F_SEAL_GROW);
	CHECK_ERR(EINVAL, nvmm_kern_hva_map(t.o, t.m, HVA_A, 4 * PAGE, fd2,
	    0));
	close(fd2);
	CHECK_NRAM(t.o, t.m, 0);

	/* The same memfd and key, with good arguments, are accepted. */
	CHECK_ERR(0, nvmm_kern_hva_map(t.o, t.m, HVA_A, 4 * PAGE, fd, 0));
	/* The last pages of the memfd, exactly. */
	CHECK_ERR(0, nvmm_kern_hva_map(t.o, t.m, HVA_B, 2 * PAGE, fd,
	    2 * PAGE));
	CHECK_NRAM(t.o, t.m, 6 * PAGE);
	close(fd);
	nvmm_kern_close(t.o);
}

ATF_TC(hva_map_overlap);
ATF_TC_HEAD(hva_map_overlap, tc)
{
	atf_tc_set_md_var(tc, "descr", "hva_map: EEXIST for a partial "
	    "overlap; a range wholly inside another is accepted, as NetBSD");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(hva_map_overlap, tc)
{
	const uintptr_t a = HVA_A + 16 * PAGE;	/* [a, a + 4 pages) */
	struct tmach t;
	int fd;

	tmach_create(&t);
	fd = tvm_memfd(8 * PAGE);
	REQUIRE_ERR(0, nvmm_kern_hva_map(t.o, t.m, a, 4 * PAGE, fd, 0));

	/* Over the start, over the end, over all of it. */
	CHECK_ERR(EEXIST, nvmm_kern_hva_map(t.o, t.m, a - PAGE, 2 * PAGE,
	    fd, 0));
	CHECK_ERR(EEXIST, nvmm_kern_hva_map(t.o, t.m, a + 3 * PAGE,
	    2 * PAGE, fd, 0));
	CHECK_ERR(EEXIST, nvmm_kern_hva_map(t.o, t.m, a - PAGE, 6 * PAGE,
	    fd, 0));
	CHECK_ERR(EEXIST, nvmm_kern_hva_map(t.o, t.m, a + 2 * PAGE,
	    4 * PAGE, fd, 0));
	CHECK_NRAM(t.o, t.m, 4 * PAGE);

	/* Wholly inside, the same range again, and just next to it. */
	CHECK_ERR(0, nvmm_kern_hva_map(t.o, t.m, a + PAGE, PAGE, fd, 0));
	CHECK_ERR(0, nvmm_kern_hva_map(t.o, t.m, a, 4 * PAGE, fd, 0));
	CHECK_ERR(0, nvmm_kern_hva_map(t.o, t.m, a + 4 * PAGE, 2 * PAGE, fd,
	    0));
	CHECK_ERR(0, nvmm_kern_hva_map(t.o, t.m, a - 2 * PAGE, 2 * PAGE, fd,
	    0));
	/* As NetBSD, nram sums the mappings, nested ones included. */
	CHECK_NRAM(t.o, t.m, 13 * PAGE);

	/* The nested one goes by its own (hva, size). */
	CHECK_ERR(0, nvmm_kern_hva_unmap(t.o, t.m, a + PAGE, PAGE));
	CHECK_NRAM(t.o, t.m, 12 * PAGE);
	CHECK_ERR(0, nvmm_kern_hva_unmap(t.o, t.m, a, 4 * PAGE));
	CHECK_ERR(0, nvmm_kern_hva_unmap(t.o, t.m, a, 4 * PAGE));
	CHECK_ERR(ENOENT, nvmm_kern_hva_unmap(t.o, t.m, a, 4 * PAGE));
	CHECK_NRAM(t.o, t.m, 4 * PAGE);
	/* Its range is free for a mapping again. */
	CHECK_ERR(0, nvmm_kern_hva_map(t.o, t.m, a, 4 * PAGE, fd, 0));
	close(fd);
	nvmm_kern_close(t.o);
}

ATF_TC(hva_map_limit);
ATF_TC_HEAD(hva_map_limit, tc)
{
	atf_tc_set_md_var(tc, "descr", "hva_map: 32 mappings per machine, "
	    "then ENOBUFS; an unmap makes room");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(hva_map_limit, tc)
{
	struct tmach t, t2;
	unsigned i;
	int fd;

	tmach_create(&t);
	fd = tvm_memfd(PAGE);
	for (i = 0; i < MAX_HMAPPINGS; i++)
		REQUIRE_ERR(0, nvmm_kern_hva_map(t.o, t.m,
		    HVA_A + i * 2 * PAGE, PAGE, fd, 0));
	CHECK_NRAM(t.o, t.m, MAX_HMAPPINGS * PAGE);

	CHECK_ERR(ENOBUFS, nvmm_kern_hva_map(t.o, t.m, HVA_B, PAGE, fd, 0));
	/* A nested range needs a slot of its own too. */
	CHECK_ERR(ENOBUFS, nvmm_kern_hva_map(t.o, t.m, HVA_A, PAGE, fd, 0));
	/* As NetBSD, the range is checked before a slot is looked for. */
	CHECK_ERR(EEXIST, nvmm_kern_hva_map(t.o, t.m, HVA_A, 2 * PAGE, fd,
	    0));
	CHECK_NRAM(t.o, t.m, MAX_HMAPPINGS * PAGE);

	/* The limit is per machine. */
	tmach_create(&t2);
	CHECK_ERR(0, nvmm_kern_hva_map(t2.o, t2.m, HVA_B, PAGE, fd, 0));

	REQUIRE_ERR(0, nvmm_kern_hva_unmap(t.o, t.m, HVA_A + 6 * PAGE,
	    PAGE));
	CHECK_ERR(0, nvmm_kern_hva_map(t.o, t.m, HVA_B, PAGE, fd, 0));
	CHECK_ERR(ENOBUFS, nvmm_kern_hva_map(t.o, t.m, HVA_B + 2 * PAGE,
	    PAGE, fd, 0));
	close(fd);
	nvmm_kern_close(t.o);
	nvmm_kern_close(t2.o);
}

ATF_TC(hva_unmap_exact);
ATF_TC_HEAD(hva_unmap_exact, tc)
{
	atf_tc_set_md_var(tc, "descr", "hva_unmap needs the exact (hva, "
	    "size) of a mapping, else ENOENT");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(hva_unmap_exact, tc)
{
	struct tmach t;
	int fd;

	tmach_create(&t);
	fd = tvm_memfd(4 * PAGE);
	REQUIRE_ERR(0, nvmm_kern_hva_map(t.o, t.m, HVA_A, 4 * PAGE, fd, 0));

	CHECK_ERR(ENOENT, nvmm_kern_hva_unmap(t.o, t.m, HVA_A, 2 * PAGE));
	CHECK_ERR(ENOENT, nvmm_kern_hva_unmap(t.o, t.m, HVA_A, 8 * PAGE));
	CHECK_ERR(ENOENT, nvmm_kern_hva_unmap(t.o, t.m, HVA_A + PAGE,
	    3 * PAGE));
	CHECK_ERR(ENOENT, nvmm_kern_hva_unmap(t.o, t.m, HVA_A + PAGE, PAGE));
	CHECK_ERR(ENOENT, nvmm_kern_hva_unmap(t.o, t.m, HVA_B, 4 * PAGE));
	CHECK_ERR(ENOENT, nvmm_kern_hva_unmap(t.o, t.m, 0, 4 * PAGE));
	CHECK_NRAM(t.o, t.m, 4 * PAGE);

	CHECK_ERR(0, nvmm_kern_hva_unmap(t.o, t.m, HVA_A, 4 * PAGE));
	CHECK_ERR(ENOENT, nvmm_kern_hva_unmap(t.o, t.m, HVA_A, 4 * PAGE));
	CHECK_NRAM(t.o, t.m, 0);
	/* Gone means gone for the guest side too. */
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(t.o, t.m, HVA_A, 0, PAGE, RWX));
	close(fd);
	nvmm_kern_close(t.o);
}

ATF_TC(gpa_map_invalid);
ATF_TC_HEAD(gpa_map_invalid, tc)
{
	atf_tc_set_md_var(tc, "descr", "gpa_map: EINVAL for unknown prot "
	    "bits, bad alignment, hva 0, past 128 GiB, or outside one HVA "
	    "mapping");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(gpa_map_invalid, tc)
{
	static const int badprot[] = { 0x8, 0x10, RWX | 0x8, 0x100, -1 };
	struct tvm vm;
	uintptr_t ram, next;
	size_t i;
	int fd;

	tvm_create(&vm, TVM_RAM_SIZE);
	ram = (uintptr_t)vm.ram;

	for (i = 0; i < sizeof(badprot) / sizeof(badprot[0]); i++)
		CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, ram,
		    0, PAGE, badprot[i]));

	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, ram, 0x1001,
	    PAGE, RWX));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, ram, 0x800,
	    PAGE, RWX));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, ram, 0,
	    PAGE + 1, RWX));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, ram, 0, 0,
	    RWX));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, ram + 1, 0,
	    PAGE, RWX));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, 0, 0, PAGE,
	    RWX));
	/* A protection KVM lacks loses to a bad argument, as on NetBSD. */
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, ram, 0x1001,
	    PAGE, PROT_READ));

	/* Guest physical space is [0, 128 GiB). */
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, ram,
	    MAX_RAM - PAGE, 2 * PAGE, RWX));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, ram,
	    MAX_RAM, PAGE, RWX));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, ram,
	    1ULL << 40, PAGE, RWX));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, ram,
	    (gpaddr_t)0 - PAGE, 2 * PAGE, RWX));

	/*
	 * [hva, hva + size) must lie in one HVA mapping: not past its end,
	 * not before its start, not across two adjacent ones, not in none.
	 */
	next = ram + TVM_RAM_SIZE;
	fd = tvm_memfd(4 * PAGE);
	REQUIRE_ERR(0, nvmm_kern_hva_map(vm.owner, vm.machid, next,
	    4 * PAGE, fd, 0));
	close(fd);
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, next - PAGE,
	    0x100000, 2 * PAGE, RWX));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, ram - PAGE,
	    0x100000, 2 * PAGE, RWX));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, next,
	    0x100000, 5 * PAGE, RWX));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, HVA_A,
	    0x100000, PAGE, RWX));

	/* Each half on its own, and a mapping ending at 128 GiB, are fine. */
	CHECK_ERR(0, nvmm_kern_gpa_map(vm.owner, vm.machid, next - PAGE,
	    0x100000, PAGE, RWX));
	CHECK_ERR(0, nvmm_kern_gpa_map(vm.owner, vm.machid, next,
	    0x101000, 4 * PAGE, RWX));
	CHECK_ERR(0, nvmm_kern_gpa_map(vm.owner, vm.machid, ram,
	    MAX_RAM - PAGE, PAGE, RWX));
	tvm_destroy(&vm);
}

ATF_TC(gpa_map_prot);
ATF_TC_HEAD(gpa_map_prot, tc)
{
	atf_tc_set_md_var(tc, "descr", "gpa_map accepts every protection "
	    "NetBSD accepts, over RAM and in empty space");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(gpa_map_prot, tc)
{
	struct tvm vm;
	uintptr_t ram;
	int prot;

	tvm_create(&vm, TVM_RAM_SIZE);
	ram = (uintptr_t)vm.ram;
	/* NetBSD takes any combination of PROT_READ, PROT_WRITE, PROT_EXEC. */
	for (prot = 0; prot <= RWX; prot++) {
		CHECK_ERR(0, nvmm_kern_gpa_map(vm.owner, vm.machid,
		    ram + (uintptr_t)prot * PAGE, 0x1000 + (gpaddr_t)prot * PAGE,
		    PAGE, prot));
		CHECK_ERR(0, nvmm_kern_gpa_map(vm.owner, vm.machid, ram,
		    0x40000000 + (gpaddr_t)prot * 0x10000, 2 * PAGE, prot));
	}
	CHECK_ERR(EINVAL, nvmm_kern_gpa_map(vm.owner, vm.machid, ram,
	    0x1000, PAGE, RWX | 0x8));
	/* The whole RAM, back to what tvm_create made it. */
	CHECK_ERR(0, nvmm_kern_gpa_map(vm.owner, vm.machid, ram, 0,
	    TVM_RAM_SIZE, RWX));
	tvm_destroy(&vm);
}

ATF_TC(gpa_unmap);
ATF_TC_HEAD(gpa_unmap, tc)
{
	atf_tc_set_md_var(tc, "descr", "gpa_unmap: EINVAL for bad "
	    "alignment and ranges past 128 GiB; one ending there, and "
	    "unmapped space, unmap fine");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(gpa_unmap, tc)
{
	struct tvm vm;
	uintptr_t ram;

	tvm_create(&vm, TVM_RAM_SIZE);
	ram = (uintptr_t)vm.ram;

	CHECK_ERR(EINVAL, nvmm_kern_gpa_unmap(vm.owner, vm.machid, 0x1001,
	    PAGE));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_unmap(vm.owner, vm.machid, 0x1000,
	    PAGE - 1));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_unmap(vm.owner, vm.machid, 0x1000,
	    0));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_unmap(vm.owner, vm.machid, MAX_RAM,
	    PAGE));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_unmap(vm.owner, vm.machid,
	    MAX_RAM - PAGE, 2 * PAGE));
	CHECK_ERR(EINVAL, nvmm_kern_gpa_unmap(vm.owner, vm.machid,
	    (gpaddr_t)0 - PAGE, 2 * PAGE));

	/* Space nothing maps: no error, however often. */
	CHECK_ERR(0, nvmm_kern_gpa_unmap(vm.owner, vm.machid, 1ULL << 30,
	    PAGE));
	CHECK_ERR(0, nvmm_kern_gpa_unmap(vm.owner, vm.machid, 1ULL << 30,
	    PAGE));
	CHECK_ERR(0, nvmm_kern_gpa_unmap(vm.owner, vm.machid, 64ULL << 30,
	    16 * PAGE));
	CHECK_ERR(0, nvmm_kern_gpa_unmap(vm.owner, vm.machid,
	    MAX_RAM - 2 * PAGE, PAGE));
	/* Part mapped, part not: RAM's last page and what follows. */
	CHECK_ERR(0, nvmm_kern_gpa_unmap(vm.owner, vm.machid,
	    TVM_RAM_SIZE - PAGE, 4 * PAGE));

	/*
	 * The top page is mapped and unmapped like any other (NetBSD's
	 * h_misc "RAM" does it; its old driver refused the unmap), and so
	 * is all of guest space.
	 */
	REQUIRE_ERR(0, nvmm_kern_gpa_map(vm.owner, vm.machid, ram,
	    MAX_RAM - PAGE, PAGE, RWX));
	CHECK_ERR(0, nvmm_kern_gpa_unmap(vm.owner, vm.machid,
	    MAX_RAM - PAGE, PAGE));
	CHECK_ERR(0, nvmm_kern_gpa_unmap(vm.owner, vm.machid,
	    MAX_RAM - PAGE, PAGE));
	REQUIRE_ERR(0, nvmm_kern_gpa_map(vm.owner, vm.machid, ram,
	    MAX_RAM - 2 * PAGE, 2 * PAGE, RWX));
	CHECK_ERR(0, nvmm_kern_gpa_unmap(vm.owner, vm.machid, 0, MAX_RAM));
	/* The HVA side is untouched by all of it. */
	CHECK_NRAM(vm.owner, vm.machid, TVM_RAM_SIZE);
	tvm_destroy(&vm);
}

ATF_TC(gpa_map_overlap);
ATF_TC_HEAD(gpa_map_overlap, tc)
{
	atf_tc_set_md_var(tc, "descr", "gpa_map over existing guest "
	    "mappings replaces them, whole or in part, as NetBSD");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(gpa_map_overlap, tc)
{
	struct tmach t;
	int fd;

	tmach_create(&t);
	fd = tvm_memfd(8 * PAGE);
	REQUIRE_ERR(0, nvmm_kern_hva_map(t.o, t.m, HVA_A, 8 * PAGE, fd, 0));
	close(fd);

	/* A: three pages at 0.  B over A's middle page, from elsewhere. */
	CHECK_ERR(0, nvmm_kern_gpa_map(t.o, t.m, HVA_A, 0, 3 * PAGE, RWX));
	CHECK_ERR(0, nvmm_kern_gpa_map(t.o, t.m, HVA_A + 4 * PAGE, PAGE,
	    PAGE, RWX));
	/* B again, read-only now; then over A's tail and beyond. */
	CHECK_ERR(0, nvmm_kern_gpa_map(t.o, t.m, HVA_A + 4 * PAGE, PAGE,
	    PAGE, RX));
	CHECK_ERR(0, nvmm_kern_gpa_map(t.o, t.m, HVA_A + 5 * PAGE, 2 * PAGE,
	    2 * PAGE, RWX));
	/* Over A's head and B, from before both. */
	CHECK_ERR(0, nvmm_kern_gpa_map(t.o, t.m, HVA_A + 6 * PAGE, 0,
	    2 * PAGE, RX));
	/* Everything at once, then a hole without protection in it. */
	CHECK_ERR(0, nvmm_kern_gpa_map(t.o, t.m, HVA_A, 0, 8 * PAGE, RWX));
	CHECK_ERR(0, nvmm_kern_gpa_map(t.o, t.m, HVA_A, 3 * PAGE, PAGE,
	    PROT_NONE));
	/* Unmaps that cut through the pieces. */
	CHECK_ERR(0, nvmm_kern_gpa_unmap(t.o, t.m, PAGE, 3 * PAGE));
	CHECK_ERR(0, nvmm_kern_gpa_unmap(t.o, t.m, 6 * PAGE, PAGE));
	CHECK_ERR(0, nvmm_kern_gpa_unmap(t.o, t.m, 0, 8 * PAGE));
	/* Guest mappings never count as RAM: nram is the one HVA range. */
	CHECK_NRAM(t.o, t.m, 8 * PAGE);
	nvmm_kern_close(t.o);
}

/*
 * One churn step: its own page mapped and unmapped, and every tenth
 * step overlaps that split and merge KVM slots, including the RAM one.
 */
static int
churn_step(struct tvm *vm, unsigned i)
{
	const uintptr_t ram = (uintptr_t)vm->ram;
	const gpaddr_t gpa = 0x1000000 + (i % 8) * PAGE;
	const gpaddr_t x = 0x2000000;
	struct nvmm_owner *o = vm->owner;
	nvmm_machid_t m = vm->machid;
	int error;

	if ((error = nvmm_kern_gpa_map(o, m, ram + (i % 64) * PAGE, gpa,
	    PAGE, (i & 1) ? RX : RWX)) != 0 ||
	    (error = nvmm_kern_gpa_unmap(o, m, gpa, PAGE)) != 0)
		return error;
	if (i % 10 != 0)
		return 0;
	if ((error = nvmm_kern_gpa_map(o, m, ram, x, 3 * PAGE, RWX)) != 0 ||
	    (error = nvmm_kern_gpa_map(o, m, ram + 4 * PAGE, x + PAGE, PAGE,
	    RX)) != 0 ||
	    (error = nvmm_kern_gpa_map(o, m, ram, x + 2 * PAGE, 2 * PAGE,
	    RWX)) != 0 ||
	    (error = nvmm_kern_gpa_unmap(o, m, x + PAGE, 2 * PAGE)) != 0 ||
	    (error = nvmm_kern_gpa_unmap(o, m, x, 4 * PAGE)) != 0)
		return error;
	/* A page of the RAM slot replaced, then the RAM mapped whole. */
	if ((error = nvmm_kern_gpa_map(o, m, ram + (i % 64) * PAGE,
	    ((i / 10) % 1024) * PAGE, PAGE, RX)) != 0 ||
	    (error = nvmm_kern_gpa_map(o, m, ram, 0, vm->ramsize, RWX)) != 0)
		return error;
	return 0;
}

ATF_TC(gpa_churn);
ATF_TC_HEAD(gpa_churn, tc)
{
	atf_tc_set_md_var(tc, "descr", "10,000 gpa_map/gpa_unmap cycles "
	    "with partial overlaps all succeed: KVM slots are recycled");
	atf_tc_set_md_var(tc, "timeout", "600");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(gpa_churn, tc)
{
	struct tvm vm;
	unsigned i;
	int error;

	tvm_create(&vm, TVM_RAM_SIZE);
	for (i = 0; i < 10000; i++) {
		error = churn_step(&vm, i);
		/* Stop at the first failure: the next 9,999 say no more. */
		ATF_REQUIRE_MSG(error == 0, "cycle %u: %d (%s)", i, error,
		    strerror(error));
	}
	CHECK_NRAM(vm.owner, vm.machid, TVM_RAM_SIZE);
	tvm_destroy(&vm);
}

ATF_TC(hva_churn);
ATF_TC_HEAD(hva_churn, tc)
{
	atf_tc_set_md_var(tc, "descr", "1,000 hva_map/hva_unmap cycles, "
	    "some with guest mappings alive, leave no slot behind");
	atf_tc_set_md_var(tc, "timeout", "600");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(hva_churn, tc)
{
	const size_t size = 16 * PAGE;
	struct tmach t;
	uintptr_t hva;
	unsigned i;
	int fd, error;

	tmach_create(&t);
	fd = tvm_memfd(size);
	for (i = 0; i < 1000; i++) {
		hva = HVA_A + (i % 4) * size;
		error = nvmm_kern_hva_map(t.o, t.m, hva, size, fd, 0);
		ATF_REQUIRE_MSG(error == 0, "cycle %u: hva_map: %s", i,
		    strerror(error));
		/*
		 * Every tenth cycle the guest still maps the memory when the
		 * HVA goes: NetBSD keeps it for the guest, and only the
		 * guest mapping then holds it.
		 */
		if (i % 10 == 0) {
			REQUIRE_ERR(0, nvmm_kern_gpa_map(t.o, t.m, hva,
			    (i % 4) * size, size, RWX));
		}
		error = nvmm_kern_hva_unmap(t.o, t.m, hva, size);
		ATF_REQUIRE_MSG(error == 0, "cycle %u: hva_unmap: %s", i,
		    strerror(error));
		if (i % 10 == 0) {
			REQUIRE_ERR(EINVAL, nvmm_kern_gpa_map(t.o, t.m, hva,
			    (i % 4) * size, size, RWX));
			REQUIRE_ERR(0, nvmm_kern_gpa_unmap(t.o, t.m,
			    (i % 4) * size, size));
		}
	}
	CHECK_NRAM(t.o, t.m, 0);

	/* All 32 slots are free again. */
	for (i = 0; i < MAX_HMAPPINGS; i++)
		CHECK_ERR(0, nvmm_kern_hva_map(t.o, t.m, HVA_B + i * size, size,
		    fd, 0));
	CHECK_NRAM(t.o, t.m, MAX_HMAPPINGS * size);
	close(fd);
	nvmm_kern_close(t.o);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, hva_map_invalid);
	ATF_TP_ADD_TC(tp, hva_map_overlap);
	ATF_TP_ADD_TC(tp, hva_map_limit);
	ATF_TP_ADD_TC(tp, hva_unmap_exact);
	ATF_TP_ADD_TC(tp, gpa_map_invalid);
	ATF_TP_ADD_TC(tp, gpa_map_prot);
	ATF_TP_ADD_TC(tp, gpa_unmap);
	ATF_TP_ADD_TC(tp, gpa_map_overlap);
	ATF_TP_ADD_TC(tp, gpa_churn);
	ATF_TP_ADD_TC(tp, hva_churn);

	return atf_no_error();
}
