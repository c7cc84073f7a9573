/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The guests, and the measurements made of any backend with them: the
 * cost of an exit (the run call and the handling of its exit, as an
 * emulator's loop makes them), the latency of a stop from another thread
 * to the return of the run, and the cost of a machine's life.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nvmm.h>

#include "bench.h"

/*
 * Each loop body is two bytes, so that `jnz 1b' jumps back over the
 * body, `dec %cx' and itself: five bytes.
 */
#define LOOP(b0, b1)	{ b0, b1, 0x49, 0x75, 0xFB, 0xF4 }

static const uint8_t code_out[] = LOOP(0xE6, BENCH_PORT);
static const uint8_t code_in[] = LOOP(0xE4, BENCH_PORT);
static const uint8_t code_mmio_write[] = LOOP(0x88, 0x07);
static const uint8_t code_mmio_read[] = LOOP(0x8A, 0x07);
static const uint8_t code_spin[] = { 0xEB, 0xFE };

static const struct {
	const uint8_t *code;
	size_t size;
} guests[BENCH_NGUESTS] = {
	[BENCH_GUEST_OUT] = { code_out, sizeof(code_out) },
	[BENCH_GUEST_IN] = { code_in, sizeof(code_in) },
	[BENCH_GUEST_MMIO_WRITE] = { code_mmio_write, sizeof(code_mmio_write) },
	[BENCH_GUEST_MMIO_READ] = { code_mmio_read, sizeof(code_mmio_read) },
	[BENCH_GUEST_SPIN] = { code_spin, sizeof(code_spin) },
};

const uint8_t *
bench_guest_code(enum bench_guest g, size_t *sizep)
{
	*sizep = guests[g].size;
	return guests[g].code;
}

/* The loop's start in NVMM's terms: CS:IP at the code, CX = n, BX = MMIO. */
void
bench_guest_state(struct nvmm_x64_state *st, unsigned n)
{
	st->segs[NVMM_X64_SEG_CS].selector = 0;
	st->segs[NVMM_X64_SEG_CS].base = 0;
	st->segs[NVMM_X64_SEG_DS].selector = 0;
	st->segs[NVMM_X64_SEG_DS].base = 0;
	st->gprs[NVMM_X64_GPR_RIP] = BENCH_CODE;
	st->gprs[NVMM_X64_GPR_RCX] = n;
	st->gprs[NVMM_X64_GPR_RBX] = BENCH_MMIO;
}

/* -------------------------------------------------------------------------- */

int
bench_exits_setup(struct bench_way *w)
{
	struct bench_vm *vm;

	if (w->backend->create(w->guest, &vm) == -1)
		return -1;
	w->state = vm;
	return 0;
}

void
bench_vm_teardown(struct bench_way *w)
{
	if (w->state != NULL)
		w->backend->destroy(w->state);
	w->state = NULL;
}

/* Runs the loop of n to its HLT; ns[i] is the i-th exit. */
int
bench_exits_round(struct bench_way *w, unsigned n, uint64_t *ns)
{
	struct bench_vm *vm = w->state;
	unsigned exits = 0, other = 0;
	uint64_t t0;

	if (w->backend->start(vm, n) == -1)
		return -1;
	for (;;) {
		t0 = nvmm_now_ns();
		switch (w->backend->step(vm)) {
		case BENCH_STEP_EXIT:
			if (exits == n)
				return bench_failx("%s: more than %u exits",
				    w->backend->name, n);
			ns[exits++] = nvmm_now_ns() - t0;
			break;
		case BENCH_STEP_HALT:
			if (exits == n)
				return 0;
			return bench_failx("%s: HLT after %u exits of %u",
			    w->backend->name, exits, n);
		case BENCH_STEP_OTHER:
			if (++other > n)
				return bench_failx("%s: no progress", w->backend->name);
			break;
		case BENCH_STEP_STOPPED:
		case BENCH_STEP_FAIL:
			return bench_failx("%s: the loop failed", w->backend->name);
		}
	}
}

/* -------------------------------------------------------------------------- */

/*
 * The stop latency: the VCPU spins in the guest; another thread waits a
 * little, so that the run is under way, notes the time and asks for the
 * stop; the sample ends when the run returns.
 */
#define STOP_DELAY_NS	300000L

/*
 * The stopper sleeps between samples, so that it takes no core from the
 * VCPU (this host may have only two).
 */
struct stopper {
	const struct bench_backend *backend;
	struct bench_vm *vm;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	unsigned go;		/* the number of the sample to stop */
	unsigned done;		/* the last sample stopped */
	bool quit;
	uint64_t t_stop;
	int error;
};

/* Waits under the lock until `go' moves past `done', or quit. */
static bool
stopper_wait_go(struct stopper *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->go == s->done && !s->quit)
		pthread_cond_wait(&s->cv, &s->lock);
	pthread_mutex_unlock(&s->lock);
	return !s->quit;
}

static void *
stopper_main(void *arg)
{
	const struct timespec delay = { 0, STOP_DELAY_NS };
	struct stopper *s = arg;
	uint64_t t;
	int error;

	while (stopper_wait_go(s)) {
		nanosleep(&delay, NULL);
		t = nvmm_now_ns();
		error = s->backend->stop(s->vm);
		pthread_mutex_lock(&s->lock);
		s->t_stop = t;
		if (error == -1)
			s->error = -1;
		s->done = s->go;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

int
bench_stop_setup(struct bench_way *w)
{
	struct stopper *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return bench_fail("calloc");
	s->backend = w->backend;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cv, NULL);
	w->state = s;
	if (w->backend->create(BENCH_GUEST_SPIN, &s->vm) == -1)
		return -1;
	if (w->backend->start(s->vm, 0) == -1)
		return -1;
	if ((errno = pthread_create(&s->thread, NULL, stopper_main, s)) != 0)
		return bench_fail("pthread_create");
	s->started = true;
	return 0;
}

void
bench_stop_teardown(struct bench_way *w)
{
	struct stopper *s = w->state;

	if (s == NULL)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->quit = true;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
	}
	if (s->vm != NULL)
		w->backend->destroy(s->vm);
	free(s);
	w->state = NULL;
}

/* One sample: run until the stop that sample `seq' asks for. */
static int
stop_sample(struct bench_way *w, struct stopper *s, unsigned seq,
    uint64_t *ns)
{
	enum bench_step step;
	uint64_t t_ret;
	int error;

	pthread_mutex_lock(&s->lock);
	s->go = seq;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->lock);
	do
		step = w->backend->step(s->vm);
	while (step == BENCH_STEP_OTHER);
	t_ret = nvmm_now_ns();

	pthread_mutex_lock(&s->lock);
	while (s->done != seq)
		pthread_cond_wait(&s->cv, &s->lock);
	error = s->error;
	*ns = t_ret > s->t_stop ? t_ret - s->t_stop : 0;
	pthread_mutex_unlock(&s->lock);
	if (step != BENCH_STEP_STOPPED)
		return bench_failx("%s: the spinning guest exited", w->backend->name);
	if (error)
		return bench_failx("%s: the stop failed", w->backend->name);
	return 0;
}

int
bench_stop_round(struct bench_way *w, unsigned n, uint64_t *ns)
{
	struct stopper *s = w->state;
	unsigned i;

	for (i = 0; i < n; i++)
		if (stop_sample(w, s, s->done + 1, &ns[i]) == -1)
			return -1;
	return 0;
}

/* -------------------------------------------------------------------------- */

int
bench_lifecycle_round(struct bench_way *w, unsigned n, uint64_t *ns)
{
	uint64_t t0;
	unsigned i;

	for (i = 0; i < n; i++) {
		t0 = nvmm_now_ns();
		if (w->backend->lifecycle() == -1)
			return -1;
		ns[i] = nvmm_now_ns() - t0;
	}
	return 0;
}
