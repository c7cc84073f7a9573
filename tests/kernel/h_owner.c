/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Owners and machines for t_owner and t_ctl; see h_owner.h.
 */
#include <string.h>
#include <unistd.h>

#include "h_owner.h"

struct nvmm_owner *
owner_open(pid_t pid)
{
	struct nvmm_owner *owner;

	REQUIRE_ERR(0, nvmm_kern_open(&owner, pid, getuid(), false));
	return owner;
}

struct nvmm_owner *
root_open(void)
{
	struct nvmm_owner *owner;

	REQUIRE_ERR(0, nvmm_kern_open(&owner, 0, 0, true));
	return owner;
}

nvmm_machid_t
mach_create(struct nvmm_owner *owner)
{
	nvmm_machid_t machid;

	REQUIRE_ERR(0, nvmm_kern_machine_create(owner, &machid));
	return machid;
}

int
mach_info(struct nvmm_owner *owner, nvmm_machid_t machid,
    struct nvmm_ctl_mach_info *info)
{
	memset(info, 0, sizeof(*info));
	info->machid = machid;
	return nvmm_kern_ctl(owner, NVMM_CTL_MACH_INFO, info, sizeof(*info));
}

void
check_info(const char *what, struct nvmm_owner *owner, nvmm_machid_t m,
    uint32_t nvcpus, uint64_t nram, pid_t pid)
{
	struct nvmm_ctl_mach_info info;
	int error;

	error = mach_info(owner, m, &info);
	ATF_REQUIRE_MSG(error == 0, "%s: MACH_INFO of %u: %s", what, m,
	    strerror(error));
	CHECK_VAL(what, info.machid, m);
	CHECK_VAL(what, info.nvcpus, nvcpus);
	CHECK_VAL(what, info.nram, nram);
	CHECK_VAL(what, info.pid, pid);
}

void
hva_add(struct nvmm_owner *owner, nvmm_machid_t machid, uintptr_t hva,
    size_t size)
{
	int fd = tvm_memfd(size);

	REQUIRE_ERR(0, nvmm_kern_hva_map(owner, machid, hva, size, fd, 0));
	/* kernel/ keeps no descriptor: the mapping must outlive this one. */
	close(fd);
}
