/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Guests as an emulator sees them through libnvmmclient's public API and a
 * private nvmmd per test case: nvmm_vcpu_stop from another thread.  The
 * scenarios kernel/ runs too (the RESET state, IO, MMIO and MSR exits, an
 * injected exception) are tests/guest/t_run's, written once for both;
 * the rest of the API, and its errno values, are t_api's.
 */
#include <sys/mman.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "h_client.h"
#include "h_daemon.h"

TVM_GUEST(spin);

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
	ATF_TP_ADD_TC(tp, stop_from_thread);
	return atf_no_error();
}
