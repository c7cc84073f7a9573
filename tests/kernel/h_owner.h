/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * What t_owner and t_ctl share: owners, machines and their MACH_INFO,
 * without a guest.  Like h_vm's, every helper fails the test case when
 * what it needs does not work.
 */
#ifndef H_OWNER_H
#define H_OWNER_H

#include "h_vm.h"

#define PAGE		NVMM_PAGE_SIZE

#define CHECK_VAL(what, got, want)					\
	ATF_CHECK_MSG((uint64_t)(got) == (uint64_t)(want),		\
	    "%s: %s is %#jx, want %#jx", (what), #got,			\
	    (uintmax_t)(got), (uintmax_t)(want))

/* An owner of pid with the test's uid, and the root owner. */
struct nvmm_owner *owner_open(pid_t pid);
struct nvmm_owner *root_open(void);
nvmm_machid_t mach_create(struct nvmm_owner *owner);
/* NVMM_CTL_MACH_INFO of machid: kernel/'s error, the answer in *info. */
int	mach_info(struct nvmm_owner *owner, nvmm_machid_t machid,
	    struct nvmm_ctl_mach_info *info);
/* What MACH_INFO says of machine m, asked by owner. */
void	check_info(const char *what, struct nvmm_owner *owner,
	    nvmm_machid_t m, uint32_t nvcpus, uint64_t nram, pid_t pid);
/* Registers size bytes of a fresh sealed memfd under the key hva. */
void	hva_add(struct nvmm_owner *owner, nvmm_machid_t machid,
	    uintptr_t hva, size_t size);

#endif /* H_OWNER_H */
