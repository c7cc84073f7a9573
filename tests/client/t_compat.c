/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * What programs written for NetBSD's libnvmm rely on that only the API
 * shows, through libnvmmclient and a private nvmmd: nvmm_gpa_map takes
 * every protection and nvmm_gpa_to_hva gives it back; the top page of
 * guest memory mapped and unmapped (NetBSD's h_misc "RAM").  What the
 * guest sees of the same is tests/guest/t_compat's, run both ways;
 * nvmm_vcpu_dump's lines are t_api's.
 */
#include <sys/mman.h>
#include <errno.h>
#include <string.h>

#include "h_client.h"
#include "h_daemon.h"

#define PAGE		4096UL
#define MAX_RAM		(128ULL << 30)	/* NetBSD's guest physical space */
/* -------------------------------------------------------------------------- */

HC_DAEMON_TC(gpa_map_every_prot, "nvmm_gpa_map takes every protection NetBSD "
    "takes, and nvmm_gpa_to_hva gives back the one asked")
ATF_TC_BODY(gpa_map_every_prot, tc)
{
	pid_t pid;
	struct hc_machine vm;
	uintptr_t hva;
	nvmm_prot_t prot;
	uint8_t *p;
	int asked;

	pid = hc_start_daemon();
	hc_machine_create(&vm, TVM_RAM_SIZE);
	for (asked = 0; asked <= HC_RWX; asked++) {
		p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_ANON | MAP_PRIVATE, -1, 0);
		ATF_REQUIRE(p != MAP_FAILED);
		HC_REQUIRE_OK(nvmm_hva_map(&vm.mach, (uintptr_t)p, PAGE));
		HC_REQUIRE_OK(nvmm_gpa_map(&vm.mach, (uintptr_t)p,
		    0x40000000 + (gpaddr_t)asked * PAGE, PAGE, asked));
		HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach,
		    0x40000000 + (gpaddr_t)asked * PAGE, &hva, &prot));
		ATF_CHECK_EQ(hva, (uintptr_t)p);
		ATF_CHECK_EQ(prot, asked);
	}
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

HC_DAEMON_TC(gpa_unmap_top, "The last page of guest memory is mapped, "
    "unmapped and mapped again, as NetBSD's h_misc \"RAM\" does")
ATF_TC_BODY(gpa_unmap_top, tc)
{
	pid_t pid;
	struct hc_machine vm;
	uint8_t *p;

	pid = hc_start_daemon();
	hc_machine_create(&vm, 0);
	p = hc_map(&vm, MAX_RAM - PAGE, PAGE, HC_RWX);
	HC_CHECK_ERRNO(EINVAL, nvmm_gpa_map(&vm.mach, (uintptr_t)p, MAX_RAM,
	    PAGE, HC_RWX));
	HC_REQUIRE_OK(nvmm_gpa_unmap(&vm.mach, (uintptr_t)p, MAX_RAM - PAGE,
	    PAGE));
	HC_REQUIRE_OK(nvmm_gpa_map(&vm.mach, (uintptr_t)p, MAX_RAM - PAGE,
	    PAGE, PROT_READ));
	HC_REQUIRE_OK(nvmm_gpa_unmap(&vm.mach, (uintptr_t)p, MAX_RAM - PAGE,
	    PAGE));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, gpa_map_every_prot);
	ATF_TP_ADD_TC(tp, gpa_unmap_top);
	return atf_no_error();
}
