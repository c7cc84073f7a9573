/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * h_guest: a guest for t_nvmmctl to look at, through NetBSD's API only.
 *
 *   h_guest cap   prints the capability, one "name value" a line, with
 *                 the names of nvmmctl's JSON, and exits 0.
 *   h_guest run   creates a machine with 2 VCPUs and H_RAM bytes of RAM,
 *                 runs VCPU 1 once to a HLT, then prints what the machine
 *                 is ("machid", "pid", "created", "nvcpus", "nram") and
 *                 "ready", and spins VCPU 0 in a guest loop until
 *                 nvmm_vcpu_run fails; then prints "run failed: <errno
 *                 name>" and exits 0 for ENOENT (the machine was killed),
 *                 1 otherwise.
 *   h_guest io    as run, but VCPU 0 loops on an OUT to port 0x80: an
 *                 I/O exit each time round, and another run, until the
 *                 machine is killed.
 *   h_guest many N V  creates N machines of V VCPUs each, prints the
 *                 last one's "machid" and "ready", and waits to be
 *                 killed: a host whose statistics no packet could hold.
 *   h_guest run NAME  the same under the command name NAME (any bytes),
 *                 as nvmmd sees it: for names a terminal or JSON must
 *                 escape.
 *   h_guest again  creates a machine, prints its "machid" and "ready",
 *                 then at each SIGUSR1 tries one more machine and prints
 *                 "create: ok" or "create: <errno name>": for calls made
 *                 while the daemon's parent restarts.
 *   h_guest root  with nvmm_root_init (the root owner), creates two
 *                 machines with a VCPU and H_RAM bytes of RAM each, prints
 *                 "machid A", "machid2 B" and "ready", and waits to be
 *                 killed.
 *
 * The guest is real-mode code at the reset vector: the RAM is mapped so
 * that it ends at 4 GiB, and a new VCPU starts at 0xFFFFFFF0.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <nvmm.h>

#include "h_resetvec.h"

static void __attribute__((noreturn))
fail(const char *what)
{
	fprintf(stderr, "h_guest: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int
cap_main(void)
{
	struct nvmm_capability cap;

	if (nvmm_init() == -1)
		fail("nvmm_init");
	if (nvmm_capability(&cap) == -1)
		fail("nvmm_capability");
	printf("version %u\n", cap.version);
	printf("state_size %u\n", cap.state_size);
	printf("max_machines %u\n", cap.max_machines);
	printf("max_vcpus %u\n", cap.max_vcpus);
	printf("max_ram %ju\n", (uintmax_t)cap.max_ram);
	printf("mach_conf_support %ju\n", (uintmax_t)cap.arch.mach_conf_support);
	printf("vcpu_conf_support %ju\n", (uintmax_t)cap.arch.vcpu_conf_support);
	printf("xcr0_mask %ju\n", (uintmax_t)cap.arch.xcr0_mask);
	printf("mxcsr_mask %u\n", cap.arch.mxcsr_mask);
	printf("conf_cpuid_maxops %u\n", cap.arch.conf_cpuid_maxops);
	return 0;
}

static int
run_main(bool io)
{
	static const uint8_t hlt_loop[] = { 0xF4, 0xEB, 0xFD };	/* hlt; jmp . - 1 */
	static const uint8_t spin[] = { 0xEB, 0xFE };		/* jmp . */
	/* out 0x80, al; jmp . - 2 */
	static const uint8_t out_loop[] = { 0xE6, 0x80, 0xEB, 0xFC };
	struct nvmm_ctl_mach_info info;
	struct nvmm_machine mach;
	struct nvmm_vcpu vcpu0, vcpu1;
	uint8_t *ram;
	const char *name, *what;
	int error;

	ram = h_resetvec_machine(&mach, hlt_loop, sizeof(hlt_loop), &what);
	if (ram == NULL)
		fail(what);
	if (nvmm_vcpu_create(&mach, 0, &vcpu0) == -1 ||
	    nvmm_vcpu_create(&mach, 1, &vcpu1) == -1)
		fail("nvmm_vcpu_create");

	/* VCPU 1 runs once, to its HLT: its statistics show one exit. */
	if (nvmm_vcpu_run(&mach, &vcpu1) == -1)
		fail("nvmm_vcpu_run (VCPU 1)");
	if (vcpu1.exit->reason != NVMM_VCPU_EXIT_HALTED) {
		fprintf(stderr, "h_guest: VCPU 1 exit %#jx, not HALTED\n",
		    (uintmax_t)vcpu1.exit->reason);
		return 2;
	}

	memset(&info, 0, sizeof(info));
	info.machid = mach.machid;
	if (nvmm_ctl(NVMM_CTL_MACH_INFO, &info, sizeof(info)) == -1)
		fail("nvmm_ctl");
	printf("machid %u\npid %d\ncreated %jd\nnvcpus %u\nnram %ju\n",
	    mach.machid, (int)getpid(), (intmax_t)info.time, info.nvcpus,
	    (uintmax_t)info.nram);
	printf("ready\n");
	fflush(stdout);

	/* VCPU 0 spins, in one run that only a kill ends, or exits on I/O. */
	if (io)
		memcpy(ram + H_RESET_OFF, out_loop, sizeof(out_loop));
	else
		memcpy(ram + H_RESET_OFF, spin, sizeof(spin));
	while (nvmm_vcpu_run(&mach, &vcpu0) == 0)
		continue;
	error = errno;
	name = strerrorname_np(error);
	printf("run failed: %s\n", name != NULL ? name : "?");
	fflush(stdout);
	/* A killed machine is gone; destroying it frees our side of it. */
	if (error == ENOENT && (nvmm_machine_destroy(&mach) == 0 ||
	    errno != ENOENT))
		return 1;
	return error == ENOENT ? 0 : 1;
}

static void
root_machine(struct nvmm_machine *mach)
{
	struct nvmm_vcpu vcpu;
	uint8_t *ram;

	if (nvmm_machine_create(mach) == -1)
		fail("nvmm_machine_create");
	ram = mmap(NULL, H_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		fail("mmap");
	if (nvmm_hva_map(mach, (uintptr_t)ram, H_RAM) == -1)
		fail("nvmm_hva_map");
	if (nvmm_vcpu_create(mach, 0, &vcpu) == -1)
		fail("nvmm_vcpu_create");
}

static int
root_main(void)
{
	struct nvmm_machine a, b;

	if (nvmm_root_init() == -1)
		fail("nvmm_root_init");
	root_machine(&a);
	root_machine(&b);
	printf("machid %u\nmachid2 %u\nready\n", a.machid, b.machid);
	fflush(stdout);
	for (;;)
		pause();
}

static int
many_main(const char *n, const char *v)
{
	struct nvmm_machine mach;
	struct nvmm_vcpu vcpu;
	int i, j, nmach = atoi(n), nvcpu = atoi(v);

	if (nvmm_init() == -1)
		fail("nvmm_init");
	for (i = 0; i < nmach; i++) {
		if (nvmm_machine_create(&mach) == -1)
			fail("nvmm_machine_create");
		for (j = 0; j < nvcpu; j++)
			if (nvmm_vcpu_create(&mach, (nvmm_cpuid_t)j, &vcpu) == -1)
				fail("nvmm_vcpu_create");
	}
	printf("machid %u\nready\n", mach.machid);
	fflush(stdout);
	for (;;)
		pause();
}

static volatile sig_atomic_t again_asked;

static void
again_on_usr1(int sig)
{
	(void)sig;
	again_asked = 1;
}

static int
again_main(void)
{
	struct nvmm_machine mach, more;
	struct sigaction sa;
	sigset_t usr1, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = again_on_usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	if (sigaction(SIGUSR1, &sa, NULL) == -1)
		fail("sigaction");
	if (nvmm_init() == -1)
		fail("nvmm_init");
	if (nvmm_machine_create(&mach) == -1)
		fail("nvmm_machine_create");
	printf("machid %u\nready\n", mach.machid);
	fflush(stdout);
	for (;;) {
		while (!again_asked)
			sigsuspend(&old);
		again_asked = 0;
		if (nvmm_machine_create(&more) == 0)
			printf("create: ok\n");
		else
			printf("create: %s\n", strerrorname_np(errno));
		fflush(stdout);
	}
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "cap") == 0)
		return cap_main();
	if (argc == 2 && strcmp(argv[1], "run") == 0)
		return run_main(false);
	if (argc == 2 && strcmp(argv[1], "io") == 0)
		return run_main(true);
	if (argc == 3 && strcmp(argv[1], "run") == 0) {
		if (prctl(PR_SET_NAME, argv[2]) == -1)
			fail("PR_SET_NAME");
		return run_main(false);
	}
	if (argc == 2 && strcmp(argv[1], "root") == 0)
		return root_main();
	if (argc == 2 && strcmp(argv[1], "again") == 0)
		return again_main();
	if (argc == 4 && strcmp(argv[1], "many") == 0)
		return many_main(argv[2], argv[3]);
	fprintf(stderr, "usage: h_guest cap|run [name]|io|again|root|many N "
	    "V\n");
	return 2;
}
