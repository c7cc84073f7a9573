/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The doorbell protocol (proto/nvmm_doorbell.c) on its own: no daemon, no
 * KVM.  A client and a server ring and answer as fast as they can, as two
 * threads and as two processes over shared memory, and every answer must
 * be the one to its request; a server that goes away must be reported at
 * once.  No wait has a timeout: a lost wake-up hangs, and Kyua fails it.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "nvmm_doorbell.h"

#define ROUNDS_MAX	1000000U
#define ROUNDS_NS	2000000000ULL	/* or as many as fit in 2 s */

/* What the server answers to request seq of op: both must have crossed. */
static int
answer_for(uint32_t op, uint32_t seq)
{
	return (int)((op * 31U + seq) % 1000U);
}

struct bell {
	struct nvmm_doorbell db;
	atomic_bool quit;
};

static struct bell *
bell_new(void)
{
	struct bell *b;

	b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ATF_REQUIRE(b != MAP_FAILED);
	memset(b, 0, sizeof(*b));
	atomic_init(&b->quit, false);
	return b;
}

/* The server: answers until told to quit, then closes the doorbell. */
static void
serve(struct bell *b)
{
	uint32_t seq, served = 0;

	while (nvmm_doorbell_next(&b->db, served, &b->quit, &seq)) {
		nvmm_doorbell_answer(&b->db, seq,
		    answer_for(__atomic_load_n(&b->db.op, __ATOMIC_RELAXED), seq), seq % 2 == 0);
		served = seq;
	}
	nvmm_doorbell_close(&b->db, served);
}

static void *
serve_main(void *arg)
{
	serve(arg);
	return NULL;
}

/* Rings until ROUNDS_MAX or ROUNDS_NS; every answer must be its own. */
static unsigned
ring_rounds(struct bell *b)
{
	uint64_t end = nvmm_now_ns() + ROUNDS_NS;
	uint32_t seq, op;
	unsigned n;
	int error;

	for (n = 0; n < ROUNDS_MAX; n++) {
		if (n % 1024 == 0 && nvmm_now_ns() >= end)
			break;
		op = 1 + n % 4;
		b->db.op = op;
		seq = nvmm_doorbell_ring(&b->db);
		error = nvmm_doorbell_wait(&b->db, seq, NULL);
		ATF_REQUIRE_EQ_MSG(error, answer_for(op, seq),
		    "round %u: answer %d to request %u", n, error, seq);
		ATF_REQUIRE_EQ(b->db.done, seq % 2 == 0);
	}
	return n;
}

/* Some sleeps, so that both futex paths are crossed, not only spins. */
static void
ring_sleepy(struct bell *b, unsigned n)
{
	struct timespec pause = { 0, 300000 };	/* past both spin budgets */
	uint32_t seq;

	while (n-- > 0) {
		nanosleep(&pause, NULL);
		b->db.op = 3;
		seq = nvmm_doorbell_ring(&b->db);
		ATF_REQUIRE_EQ(nvmm_doorbell_wait(&b->db, seq, NULL),
		    answer_for(3, seq));
	}
}

/*
 * The client's sleeps have no timeout here (alive is NULL), nor has the
 * server's: a lost wake-up in either direction hangs the test until Kyua's
 * timeout fails it.
 */
static void
report(const char *how, unsigned n)
{
	printf("%s: %u rounds, each answered\n", how, n);
	ATF_CHECK(n > 0);
}

ATF_TC(threads);
ATF_TC_HEAD(threads, tc)
{
	atf_tc_set_md_var(tc, "descr", "Two threads ring and answer up to a "
	    "million times; each answer is its request's, no wake-up is lost");
	atf_tc_set_md_var(tc, "timeout", "30");
}
ATF_TC_BODY(threads, tc)
{
	struct bell *b = bell_new();
	pthread_t t;
	unsigned n;

	ATF_REQUIRE_EQ(pthread_create(&t, NULL, serve_main, b), 0);
	n = ring_rounds(b);
	ring_sleepy(b, 50);
	atomic_store(&b->quit, true);
	nvmm_doorbell_poke(&b->db);
	ATF_REQUIRE_EQ(pthread_join(t, NULL), 0);
	ATF_CHECK_EQ(b->db.dead, 1);
	report("threads", n);
}

ATF_TC(processes);
ATF_TC_HEAD(processes, tc)
{
	atf_tc_set_md_var(tc, "descr", "A client and a forked server ring and "
	    "answer over shared memory; each answer is its request's");
	atf_tc_set_md_var(tc, "timeout", "30");
}
ATF_TC_BODY(processes, tc)
{
	struct bell *b = bell_new();
	unsigned n;
	pid_t pid;
	int status;

	pid = fork();
	ATF_REQUIRE(pid != -1);
	if (pid == 0) {
		serve(b);
		_exit(0);
	}
	n = ring_rounds(b);
	ring_sleepy(b, 50);
	atomic_store(&b->quit, true);
	nvmm_doorbell_poke(&b->db);
	ATF_REQUIRE_EQ(waitpid(pid, &status, 0), pid);
	ATF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	report("processes", n);
}

/* A server that takes a request and dies instead of answering it. */
static void *
die_main(void *arg)
{
	struct timespec nap = { 0, 50000000 };	/* the client is asleep */
	struct bell *b = arg;
	uint32_t seq;

	if (nvmm_doorbell_next(&b->db, 0, &b->quit, &seq))
		nanosleep(&nap, NULL);
	nvmm_doorbell_close(&b->db, 0);
	return NULL;
}

ATF_TC(dead);
ATF_TC_HEAD(dead, tc)
{
	atf_tc_set_md_var(tc, "descr", "A server that dies with a request in "
	    "flight is reported as ENOENT at once, and so is every later ring");
	atf_tc_set_md_var(tc, "timeout", "10");
}
ATF_TC_BODY(dead, tc)
{
	struct bell *b = bell_new();
	pthread_t t;
	uint32_t seq;

	ATF_REQUIRE_EQ(pthread_create(&t, NULL, die_main, b), 0);
	b->db.op = 1;
	seq = nvmm_doorbell_ring(&b->db);
	ATF_CHECK_EQ(nvmm_doorbell_wait(&b->db, seq, NULL), ENOENT);
	ATF_REQUIRE_EQ(pthread_join(t, NULL), 0);
	ATF_CHECK_EQ(b->db.dead, 1);

	seq = nvmm_doorbell_ring(&b->db);
	ATF_CHECK_EQ(nvmm_doorbell_wait(&b->db, seq, NULL), ENOENT);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, threads);
	ATF_TP_ADD_TC(tp, processes);
	ATF_TP_ADD_TC(tp, dead);
	return atf_no_error();
}
