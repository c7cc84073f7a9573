/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The floor of nvmmd's design: raw KVM run by another process and driven
 * through the doorbell (proto/nvmm_doorbell.c), as nvmmd's VCPU threads
 * are, with nothing else between: no kernel/, no comm page, no assist.
 * The child runs the raw backend's calls (bench_kvm.c) one request at a
 * time; one cache line goes each way per exit.  What this way costs beyond
 * raw KVM is the hand-off between two processes on this host; what nvmmd
 * costs beyond this way and kernel/ is the comm page's traffic and the
 * client library.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

enum remote_op {
	REMOTE_MADE = 1,	/* the first request: was the VM made? */
	REMOTE_START,		/* conf_op: the loop's count */
	REMOTE_STEP,
	REMOTE_QUIT,
};

struct bench_vm {
	struct nvmm_doorbell *db;	/* shared with the child */
	pid_t child;
};

/* The child of the one remote VM there is at a time, for remote_alive. */
static pid_t remote_child = -1;

/* A child that died without closing the doorbell ends the wait: ENXIO. */
static bool
remote_alive(void)
{
	int status;

	if (remote_child <= 0 || waitpid(remote_child, &status, WNOHANG) == 0)
		return true;
	remote_child = -1;
	return false;
}

/* One request; the child's answer is in db->error. */
static int
remote_call(struct bench_vm *vm, enum remote_op op, uint64_t arg)
{
	struct nvmm_doorbell *db = vm->db;
	int error;

	db->op = op;
	db->conf_op = arg;
	error = nvmm_doorbell_wait(db, nvmm_doorbell_ring(db), remote_alive);
	if (error == ENOENT || error == ENXIO) {
		bench_failx("raw KVM, another process: the child is gone");
		return -1;
	}
	return db->error;
}

static int
remote_serve(struct bench_vm *raw, const struct nvmm_doorbell *db,
    bool *quit)
{
	switch (db->op) {
	case REMOTE_START:
		return bench_kvm.start(raw, (unsigned)db->conf_op);
	case REMOTE_STEP:
		return (int)bench_kvm.step(raw);
	case REMOTE_QUIT:
		*quit = true;
		return 0;
	default:
		return -1;
	}
}

/* The child: its own VM (KVM serves a VM to its creator's process only). */
static void __attribute__((noreturn))
remote_main(struct nvmm_doorbell *db, enum bench_guest g)
{
	struct bench_vm *raw = NULL;
	atomic_bool quit;
	uint32_t seq, served = 0;
	bool done = false;
	int made;

	atomic_init(&quit, false);
	made = bench_kvm.create(g, &raw);
	/* The first request learns whether the VM was made. */
	if (!nvmm_doorbell_next(db, served, &quit, &seq))
		_exit(1);
	nvmm_doorbell_answer(db, seq, made, false);
	served = seq;
	while (made == 0 && !done &&
	    nvmm_doorbell_next(db, served, &quit, &seq)) {
		nvmm_doorbell_answer(db, seq, remote_serve(raw, db, &done),
		    false);
		served = seq;
	}
	nvmm_doorbell_close(db, served);
	if (raw != NULL)
		bench_kvm.destroy(raw);
	_exit(made == 0 ? 0 : 1);
}

static void
remote_destroy(struct bench_vm *vm)
{
	if (vm->child > 0 && remote_child == vm->child) {
		(void)remote_call(vm, REMOTE_QUIT, 0);
		if (remote_child > 0)
			waitpid(vm->child, NULL, 0);
	}
	remote_child = -1;
	munmap(vm->db, sizeof(*vm->db));
	free(vm);
}

static int
remote_create(enum bench_guest g, struct bench_vm **vmp)
{
	struct bench_vm *vm;

	if ((vm = calloc(1, sizeof(*vm))) == NULL)
		return bench_fail("calloc");
	vm->db = mmap(NULL, sizeof(*vm->db), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (vm->db == MAP_FAILED) {
		free(vm);
		return bench_fail("mmap");
	}
	if ((vm->child = fork()) == -1) {
		bench_fail("fork");
		goto out;
	}
	if (vm->child == 0)
		remote_main(vm->db, g);
	remote_child = vm->child;
	if (remote_call(vm, REMOTE_MADE, 0) == 0) {
		*vmp = vm;
		return 0;
	}
	bench_failx("raw KVM, another process: no VM");
out:
	remote_destroy(vm);
	return -1;
}

static int
remote_start(struct bench_vm *vm, unsigned n)
{
	return remote_call(vm, REMOTE_START, n);
}

static enum bench_step
remote_step(struct bench_vm *vm)
{
	int step = remote_call(vm, REMOTE_STEP, 0);

	return step < 0 ? BENCH_STEP_FAIL : (enum bench_step)step;
}

const struct bench_backend bench_kvm_remote = {
	.name = "raw KVM, another process",
	.create = remote_create,
	.start = remote_start,
	.step = remote_step,
	.destroy = remote_destroy,
};
