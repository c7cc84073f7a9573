/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmm-bench: what each path of nvmmd costs, against a baseline measured
 * in the same run.  The ways of one path run in interleaved rounds (a, b,
 * c, a, b, c, ...) so that host noise falls on all of them alike, and the
 * table gives their ratios to the first way: on PVM, where the guest is
 * emulated, absolute times say little; the ratios are what is measured.
 *
 *   bench_main.c    options, the paths, rounds, statistics, the table
 *   bench_guest.c   the guest programs, and the exit and stop loops
 *   bench_kvm.c     backends: /dev/kvm directly, bare or set up as
 *                   kernel/ sets it up
 *   bench_remote.c  backend: raw KVM in another process, behind the
 *                   doorbell
 *   bench_kern.c    backend: kernel/ in-process
 *   bench_client.c  backend: libnvmmclient through nvmmd
 *   bench_daemon.c  the private nvmmd: start, stop, the RSS, PSS and CPU
 *                   time of all its processes
 *   bench_rpc.c     control requests against a socketpair ping-pong
 *   bench_conn.c    a connection against a fork; the memory per owner
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "nvmm_doorbell.h"	/* nvmm_now_ns, the clock of every path */

/*
 * Real-mode guests: RAM at [0, BENCH_RAM), code at BENCH_CODE, CX counts
 * the iterations, and BX holds the MMIO address, just past RAM.
 */
#define BENCH_RAM	0x8000
#define BENCH_CODE	0x1000
#define BENCH_MMIO	BENCH_RAM
#define BENCH_PORT	0x80

enum bench_guest {
	BENCH_GUEST_OUT,	/* out %al,$0x80 in a loop, then hlt */
	BENCH_GUEST_IN,		/* in $0x80,%al */
	BENCH_GUEST_MMIO_WRITE,	/* mov %al,(%bx) */
	BENCH_GUEST_MMIO_READ,	/* mov (%bx),%al */
	BENCH_GUEST_SPIN,	/* jmp . : runs until stopped */
	BENCH_NGUESTS
};

/* The code of a guest, BENCH_CODE onwards. */
const uint8_t *bench_guest_code(enum bench_guest g, size_t *sizep);

struct nvmm_x64_state;
void	bench_guest_state(struct nvmm_x64_state *st, unsigned n);

/* What one run of a backend's VCPU gave, once its exit was handled. */
enum bench_step {
	BENCH_STEP_EXIT,	/* the IO or MMIO exit of the loop */
	BENCH_STEP_HALT,	/* the HLT at its end */
	BENCH_STEP_STOPPED,	/* a stop asked for from another thread */
	BENCH_STEP_OTHER,	/* nothing for the emulator: run on */
	BENCH_STEP_FAIL,	/* an error, already reported */
};

struct bench_vm;

/*
 * One way of running a guest: a machine with one VCPU and the guest in
 * its RAM.  Each call returns 0, or -1 once it has said what failed.
 */
struct bench_backend {
	const char *name;
	int (*create)(enum bench_guest, struct bench_vm **);
	int (*start)(struct bench_vm *, unsigned n);	/* CS:IP, CX = n */
	enum bench_step (*step)(struct bench_vm *);
	int (*stop)(struct bench_vm *);		/* from another thread */
	void (*destroy)(struct bench_vm *);
	int (*lifecycle)(void);	/* one machine and VCPU, made and destroyed */
};

extern const struct bench_backend bench_kvm;
extern const struct bench_backend bench_kvm_nvmm;
extern const struct bench_backend bench_kvm_remote;
extern const struct bench_backend bench_kern;
extern const struct bench_backend bench_client;

/*
 * A way of one path: `round' makes n measurements into ns[], in
 * nanoseconds.  It returns 0 or -1.
 */
struct bench_way {
	const char *name;
	int (*setup)(struct bench_way *);
	int (*round)(struct bench_way *, unsigned n, uint64_t *ns);
	void (*teardown)(struct bench_way *);
	const struct bench_backend *backend;
	enum bench_guest guest;
	void *state;
};

/* bench_guest.c: exit loops and stop latency, for any backend. */
int	bench_exits_setup(struct bench_way *);
int	bench_exits_round(struct bench_way *, unsigned n, uint64_t *ns);
int	bench_stop_setup(struct bench_way *);
int	bench_stop_round(struct bench_way *, unsigned n, uint64_t *ns);
void	bench_vm_teardown(struct bench_way *);
void	bench_stop_teardown(struct bench_way *);
int	bench_lifecycle_round(struct bench_way *, unsigned n, uint64_t *ns);

/* bench_rpc.c */
int	bench_pingpong_setup(struct bench_way *);
int	bench_pingpong_round(struct bench_way *, unsigned n, uint64_t *ns);
void	bench_pingpong_teardown(struct bench_way *);
int	bench_ctl_setup(struct bench_way *);
int	bench_ctl_round(struct bench_way *, unsigned n, uint64_t *ns);
void	bench_ctl_teardown(struct bench_way *);

/* bench_conn.c */
int	bench_forkwait_round(struct bench_way *, unsigned n, uint64_t *ns);
int	bench_connect_round(struct bench_way *, unsigned n, uint64_t *ns);
int	bench_owners_measure(void);

/* bench_daemon.c */
int	bench_daemon_start(const char *path);
int	bench_daemon_stop(void);
pid_t	bench_daemon_pid(void);
const char *bench_daemon_socket(void);
/* root and its descendants, root first; free *pidsp. */
int	bench_proc_tree(pid_t root, pid_t **pidsp, size_t *np);
/*
 * Summed over the daemon's processes, from /proc/PID/smaps_rollup, once
 * their number holds still.
 */
struct bench_mem {
	uint64_t rss_kib;
	uint64_t pss_kib;
	unsigned nprocs;
};
int	bench_daemon_mem(struct bench_mem *m);
int	bench_daemon_cpu(uint64_t *ns, uint64_t *slices);

/* bench_main.c */
int	bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	bench_failx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t bench_growth(uint64_t before, uint64_t after, unsigned n);

#endif /* BENCH_H */
