/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * h_scribble: a client that writes garbage over its own VCPU's comm page
 * and runs the VCPU, through NetBSD's API only, for t_workers: whatever
 * it does to its own worker, no other owner's guest may notice.
 *
 *   h_scribble
 *
 * Creates a machine with one VCPU and H_RAM bytes of RAM (a HLT loop at
 * the reset vector), runs it once to the HLT, prints "machid N" and
 * "ready", and waits for a SIGUSR1 (so that the test may find its worker
 * first).  Then, round after round, it writes garbage over the comm page
 * (mach.pages[0]) and calls nvmm_vcpu_run, printing "round N WHERE:"
 * and the run's exit reason or "failed ERRNO":
 *   - NetBSD's struct nvmm_comm_page: random bytes, then all ones;
 *   - random registers, events and flags, but with the flags and bools
 *     that the worker checks first made valid, so that the garbage is
 *     committed to the VCPU and injected;
 *   - both kinds, rewritten by a second thread all along a series of runs;
 *   - the whole page, which libnvmm's own words share: random, all ones.
 * A run that has no answer NO_ANSWER_S seconds on is asked to stop; if
 * that does not end it either, the program prints "no answer" and exits
 * 3.  A run that fails with ENXIO (the worker is gone) ends the rounds.
 * Then it prints "done" and exits 0, whatever the runs did.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvmm.h>

#include "h_resetvec.h"

#define H_PAGE		4096	/* NetBSD's comm page is one page */
#define NO_ANSWER_S	2
#define BUSY_RUNS	200	/* runs while the second thread scribbles */

static struct nvmm_machine mach;
static struct nvmm_vcpu vcpu;
static volatile sig_atomic_t alarms;
static atomic_bool busy;
static bool gone;		/* a run failed with ENXIO */

static void __attribute__((noreturn))
fail(const char *what)
{
	fprintf(stderr, "h_scribble: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* xorshift64: garbage that differs from round to round, and repeats. */
static uint64_t
next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void
scribble(size_t len, int fill, uint64_t seed)
{
	volatile uint8_t *p = (volatile uint8_t *)mach.pages[0];
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = fill >= 0 ? (uint8_t)fill : (uint8_t)next_random(&seed);
}

/*
 * Random registers and event that pass the first checks: valid state
 * flags (at least one group committed), an event to inject every other
 * time, no stop.
 */
static void
plausible(uint64_t seed)
{
	struct nvmm_comm_page *c = mach.pages[0];

	scribble(sizeof(*c), -1, seed);
	c->state_wanted = 0;
	c->state_cached = 0;
	c->state_commit = (next_random(&seed) & NVMM_X64_STATE_ALL) |
	    NVMM_X64_STATE_GPRS;
	c->event_commit = (seed & 1) != 0;
	c->stop = 0;
}

/* First a stop (safe in a handler, as NetBSD's); then the end. */
static void
on_alarm(int sig)
{
	static const char msg[] = "no answer\n";

	(void)sig;
	if (alarms++ == 0) {
		(void)nvmm_vcpu_stop(&vcpu);
		alarm(NO_ANSWER_S);
		return;
	}
	(void)write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	_exit(3);
}

/* One run under the alarm; prints its outcome. */
static void
run_once(int round, const char *where)
{
	const char *name;
	int error;

	if (gone)
		return;
	alarms = 0;
	alarm(NO_ANSWER_S);
	error = nvmm_vcpu_run(&mach, &vcpu) == 0 ? 0 : errno;
	alarm(0);
	if (error == 0) {
		printf("round %d %s: exit %#jx\n", round, where,
		    (uintmax_t)vcpu.exit->reason);
	} else {
		name = strerrorname_np(error);
		printf("round %d %s: failed %s\n", round, where,
		    name != NULL ? name : "?");
		gone = error == ENXIO;
	}
	fflush(stdout);
}

static void *
scribbler(void *arg)
{
	uint64_t seed = (uintptr_t)arg;

	while (atomic_load(&busy)) {
		if (next_random(&seed) & 1)
			plausible(next_random(&seed));
		else
			scribble(sizeof(struct nvmm_comm_page), -1,
			    next_random(&seed));
	}
	return NULL;
}

static void
busy_rounds(int round)
{
	pthread_t t;
	int i;

	atomic_store(&busy, true);
	if (pthread_create(&t, NULL, scribbler, (void *)(uintptr_t)0x5eed) != 0)
		fail("pthread_create");
	for (i = 0; i < BUSY_RUNS && !gone; i++)
		run_once(round, "busy");
	atomic_store(&busy, false);
	pthread_join(t, NULL);
}

static void
setup(void)
{
	/* hlt; jmp . - 1 */
	static const uint8_t hlt_loop[] = { 0xF4, 0xEB, 0xFD };
	const char *what;

	if (h_resetvec_machine(&mach, hlt_loop, sizeof(hlt_loop), &what) ==
	    NULL)
		fail(what);
	if (nvmm_vcpu_create(&mach, 0, &vcpu) == -1)
		fail("nvmm_vcpu_create");
	if (nvmm_vcpu_run(&mach, &vcpu) == -1)
		fail("nvmm_vcpu_run");
	if (vcpu.exit->reason != NVMM_VCPU_EXIT_HALTED) {
		fprintf(stderr, "h_scribble: exit %#jx, not HALTED\n",
		    (uintmax_t)vcpu.exit->reason);
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	const size_t comm = sizeof(struct nvmm_comm_page);
	sigset_t go;
	int round = 0, seed, sig;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: h_scribble\n");
		return 2;
	}
	sigemptyset(&go);
	sigaddset(&go, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &go, NULL) == -1)
		fail("sigprocmask");
	setup();
	if (signal(SIGALRM, on_alarm) == SIG_ERR)
		fail("signal");
	printf("machid %u\nready\n", mach.machid);
	fflush(stdout);
	if (sigwait(&go, &sig) != 0)
		fail("sigwait");

	for (seed = 1; seed <= 8; seed++) {
		scribble(comm, -1, (uint64_t)seed * 0x9E3779B97F4A7C15ULL);
		run_once(++round, "comm");
	}
	scribble(comm, 0xFF, 0);
	run_once(++round, "comm");
	for (seed = 1; seed <= 32; seed++) {
		plausible((uint64_t)seed * 0xD1B54A32D192ED03ULL);
		run_once(++round, "state");
	}
	busy_rounds(++round);
	scribble(H_PAGE, -1, 0xC0FFEE);
	run_once(++round, "page");
	scribble(H_PAGE, 0xFF, 0);
	run_once(++round, "page");
	printf("done\n");
	return 0;
}
