/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmmd's hot path as its clients see it: four VCPUs of one machine on
 * four threads beside a mapper, a long run beside control requests,
 * nvmm_vcpu_stop from a signal handler, and the calls that make no system
 * call at all.
 *
 * Each test case starts its own daemon (h_daemon.h).  Guests run by the
 * test process itself use h_client.h; the clients that must be separate
 * processes are forked children (h_fork.h).
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/seccomp.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include <nvmm.h>
#include "h_client.h"
#include "h_daemon.h"
#include "h_fork.h"

/* guests.S: "1: jmp 1b", the same bytes in real and in long mode. */
TVM_GUEST(spin);

/* -------------------------------------------------------------------------- */

#define FOUR_NVCPUS	4
#define FOUR_OUTS	250	/* each VCPU; the device logs 256 */
#define FOUR_MAPS	300
#define FOUR_SPARE_GPA	0x1000000ULL	/* above the RAM */

static struct hc_machine four_vm;

struct four_run {
	struct hc_vcpu hv;
	struct hc_dev dev;
	int error;		/* hc_try_run_to_halt */
	atomic_bool done;
};

struct four_map {
	struct four_run *runs;
	uint8_t *page;
	unsigned rounds;
	int error;
	const char *failed;
};

static void *
four_runner(void *arg)
{
	struct four_run *r = arg;

	r->error = hc_try_run_to_halt(&r->hv, FOUR_OUTS + 100);
	atomic_store(&r->done, true);
	return NULL;
}

/* Maps and unmaps the spare page while any VCPU runs, FOUR_MAPS at least. */
static void *
four_mapper(void *arg)
{
	struct four_map *m = arg;
	bool running = true;
	size_t i;

	while (m->rounds < FOUR_MAPS || running) {
		if (nvmm_gpa_map(&four_vm.mach, (uintptr_t)m->page,
		    FOUR_SPARE_GPA, 4096, HC_RWX) == -1) {
			m->error = errno;
			m->failed = "nvmm_gpa_map";
			break;
		}
		if (nvmm_gpa_unmap(&four_vm.mach, (uintptr_t)m->page,
		    FOUR_SPARE_GPA, 4096) == -1) {
			m->error = errno;
			m->failed = "nvmm_gpa_unmap";
			break;
		}
		m->rounds++;
		running = false;
		for (i = 0; i < FOUR_NVCPUS; i++)
			if (!atomic_load(&m->runs[i].done))
				running = true;
	}
	return NULL;
}

ATF_TC_WITH_CLEANUP(four_vcpus_and_a_mapper);
TD_HEAD(four_vcpus_and_a_mapper, "Four VCPUs of one machine run to "
    "completion on four threads while a fifth maps and unmaps memory")
ATF_TC_BODY(four_vcpus_and_a_mapper, tc)
{
	static struct four_run runs[FOUR_NVCPUS];
	pthread_t threads[FOUR_NVCPUS], mapper;
	struct nvmm_ctl_mach_info info;
	struct hc_ioloop guest;
	struct four_map map;
	const struct hx_write *log;
	pid_t daemon;
	size_t i, j, n;

	daemon = hd_start(NULL);
	hc_init();
	hc_machine_create(&four_vm, TVM_RAM_SIZE);
	hc_ioloop(&guest, FOUR_OUTS);
	hc_load(&four_vm, TVM_CODE_GPA, guest.code,
	    guest.code + sizeof(guest.code));

	memset(&map, 0, sizeof(map));
	map.runs = runs;
	map.page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_ANON | MAP_PRIVATE, -1, 0);
	ATF_REQUIRE(map.page != MAP_FAILED);
	HC_REQUIRE_OK(nvmm_hva_map(&four_vm.mach, (uintptr_t)map.page, 4096));

	/* Each VCPU reports 0x40 + its id. */
	for (i = 0; i < FOUR_NVCPUS; i++) {
		hc_dev_init(&runs[i].dev);
		hc_vcpu_create(&four_vm, (nvmm_cpuid_t)i, &runs[i].hv,
		    &runs[i].dev);
		hc_setup_longmode(&runs[i].hv, TVM_CODE_GPA);
		hc_getstate(&runs[i].hv, NVMM_X64_STATE_GPRS)->
		    gprs[NVMM_X64_GPR_RAX] = 0x40 + i;
		hc_setstate(&runs[i].hv, NVMM_X64_STATE_GPRS);
	}

	ATF_REQUIRE(pthread_create(&mapper, NULL, four_mapper, &map) == 0);
	for (i = 0; i < FOUR_NVCPUS; i++)
		ATF_REQUIRE(pthread_create(&threads[i], NULL, four_runner,
		    &runs[i]) == 0);
	for (i = 0; i < FOUR_NVCPUS; i++)
		ATF_REQUIRE(pthread_join(threads[i], NULL) == 0);
	ATF_REQUIRE(pthread_join(mapper, NULL) == 0);

	for (i = 0; i < FOUR_NVCPUS; i++) {
		ATF_CHECK_MSG(runs[i].error == 0, "VCPU %zu: %s%s%s after "
		    "%zu OUTs (exit %#jx)", i, strerror(runs[i].error),
		    runs[i].dev.error ? ": " : "", runs[i].dev.errmsg,
		    runs[i].dev.nlog, (uintmax_t)runs[i].hv.vcpu.exit->reason);
		n = hc_dev_count(&runs[i].dev, HC_IO_PORT);
		ATF_CHECK_MSG(n == FOUR_OUTS, "VCPU %zu: %zu OUTs, want %u",
		    i, n, FOUR_OUTS);
		for (j = 0; j < n; j++) {
			log = hc_dev_find(&runs[i].dev, HC_IO_PORT, j);
			if (log->value != 0x40 + i || log->size != 1) {
				ATF_CHECK_MSG(false, "VCPU %zu: OUT %zu of "
				    "%#jx, %zu bytes; want %#zx, 1", i, j,
				    (uintmax_t)log->value, log->size,
				    0x40 + i);
				break;
			}
		}
		ATF_CHECK_EQ_MSG(runs[i].dev.nlog, n, "VCPU %zu: other "
		    "accesses", i);
	}
	ATF_CHECK_MSG(map.failed == NULL, "mapper: %s: %s after %u rounds",
	    map.failed, strerror(map.error), map.rounds);
	ATF_CHECK_MSG(map.rounds >= FOUR_MAPS, "mapper: %u rounds",
	    map.rounds);

	HC_REQUIRE_OK(hc_mach_info(four_vm.mach.machid, &info));
	ATF_CHECK_EQ(info.nvcpus, FOUR_NVCPUS);
	ATF_CHECK_EQ(info.nram, TVM_RAM_SIZE + 4096);
	hc_machine_destroy(&four_vm);
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */

#define BESIDE_MS	1500

static struct hc_machine beside_vm;
static struct hc_vcpu beside_hv;

struct beside_ctl {
	atomic_bool quit;
	uint64_t start;
	unsigned long requests;
	int error;
};

/* Control requests in a loop; after BESIDE_MS, stops the VCPU too. */
static void *
beside_requests(void *arg)
{
	struct beside_ctl *b = arg;
	struct nvmm_ctl_mach_info info;

	while (!atomic_load(&b->quit)) {
		if (hc_now_ms() - b->start >= BESIDE_MS)
			nvmm_vcpu_stop(&beside_hv.vcpu);
		if (b->error != 0)
			continue;
		if (hc_mach_info(beside_vm.mach.machid, &info) == -1)
			b->error = errno;
		else
			b->requests++;
	}
	return NULL;
}

ATF_TC_WITH_CLEANUP(run_beside_control_requests);
TD_HEAD(run_beside_control_requests, "A long nvmm_vcpu_run does not fail "
    "while another thread of the client makes control requests")
ATF_TC_BODY(run_beside_control_requests, tc)
{
	struct beside_ctl b;
	pthread_t t;
	uint64_t start;
	unsigned runs = 0;
	int r = 0, error = 0;
	pid_t daemon;

	daemon = hd_start(NULL);
	hc_init();
	hc_setup_guest(&beside_vm, &beside_hv, NULL, guest_spin_begin,
	    guest_spin_end);
	memset(&b, 0, sizeof(b));
	b.start = start = hc_now_ms();
	ATF_REQUIRE(pthread_create(&t, NULL, beside_requests, &b) == 0);

	/*
	 * The guest spins: the run waits far longer than the client's
	 * spin, and sleeps on the doorbell, looking now and then whether
	 * the daemon is still there, while replies come and go on the
	 * connection for the other thread.  It ends with the stop.
	 */
	do {
		runs++;
		r = nvmm_vcpu_run(&beside_vm.mach, &beside_hv.vcpu);
		error = errno;
	} while (r == 0 && beside_hv.vcpu.exit->reason ==
	    NVMM_VCPU_EXIT_NONE && runs < 1000);
	atomic_store(&b.quit, true);
	ATF_REQUIRE(pthread_join(t, NULL) == 0);

	ATF_CHECK_MSG(r == 0, "nvmm_vcpu_run failed after %u ms, run %u, "
	    "beside %lu control requests: %s", (unsigned)(hc_now_ms() -
	    start), runs, b.requests, strerror(error));
	ATF_CHECK_MSG(r == -1 || beside_hv.vcpu.exit->reason ==
	    NVMM_VCPU_EXIT_STOPPED, "the run did not stop: exit %#jx",
	    (uintmax_t)beside_hv.vcpu.exit->reason);
	ATF_CHECK_MSG(b.error == 0, "MACH_INFO failed: %s",
	    strerror(b.error));
	ATF_CHECK_MSG(b.requests > 0, "no control request was answered");
	hc_machine_destroy(&beside_vm);
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */

#define STOP_ROUNDS	5
#define STOP_PLAIN	20
#define STOP_MAX_MS	500

static struct hc_machine stop_vm;
static struct hc_vcpu stop_hv;
#define stop_vcpu	stop_hv.vcpu
static volatile sig_atomic_t stop_plain_seen;
static volatile sig_atomic_t stop_handler_seen;

struct stop_run {
	atomic_uint stops;		/* STOPPED exits seen */
	atomic_bool over;		/* the runner returned */
	uint64_t stopped_at[STOP_ROUNDS];
	unsigned nones;
	int error;			/* errno of a failed run */
	uint64_t unexpected;		/* another exit reason */
	int stop_after;			/* *vcpu.stop after a STOPPED */
};

static void
stop_on_plain(int sig)
{
	(void)sig;
	stop_plain_seen++;
}

static void
stop_on_stop(int sig)
{
	int saved = errno;

	(void)sig;
	nvmm_vcpu_stop(&stop_vcpu);
	stop_handler_seen++;
	errno = saved;
}

static void *
stop_runner(void *arg)
{
	struct stop_run *r = arg;
	unsigned n;

	while ((n = atomic_load(&r->stops)) < STOP_ROUNDS) {
		if (nvmm_vcpu_run(&stop_vm.mach, &stop_vcpu) == -1) {
			r->error = errno;
			break;
		}
		switch (stop_vcpu.exit->reason) {
		case NVMM_VCPU_EXIT_NONE:
			r->nones++;
			break;
		case NVMM_VCPU_EXIT_STOPPED:
			r->stopped_at[n] = hc_now_ms();
			r->stop_after |= *stop_vcpu.stop;
			atomic_store(&r->stops, n + 1);
			break;
		default:
			r->unexpected = stop_vcpu.exit->reason;
			atomic_store(&r->over, true);
			return NULL;
		}
	}
	atomic_store(&r->over, true);
	return NULL;
}

ATF_TC_WITH_CLEANUP(stop_from_signal_handler);
TD_HEAD(stop_from_signal_handler, "nvmm_vcpu_stop from a signal handler "
    "ends a run promptly with EXIT_STOPPED; signals never make "
    "nvmm_vcpu_run fail")
ATF_TC_BODY(stop_from_signal_handler, tc)
{
	struct sigaction sa;
	struct stop_run r;
	pthread_t t;
	uint64_t t0, end;
	pid_t daemon;
	unsigned i;

	daemon = hd_start(NULL);
	hc_init();
	hc_setup_guest(&stop_vm, &stop_hv, NULL, guest_spin_begin,
	    guest_spin_end);

	/* No SA_RESTART: an interrupted wait sees EINTR. */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = stop_on_plain;
	ATF_REQUIRE(sigaction(SIGUSR2, &sa, NULL) == 0);
	sa.sa_handler = stop_on_stop;
	ATF_REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);

	memset(&r, 0, sizeof(r));
	ATF_REQUIRE(pthread_create(&t, NULL, stop_runner, &r) == 0);
	hc_sleep_ms(50);

	/*
	 * Plain signals: the run goes on.  Each is handled before the next
	 * is sent, since a pending signal absorbs the same one sent again.
	 */
	for (i = 0; i < STOP_PLAIN; i++) {
		ATF_REQUIRE(pthread_kill(t, SIGUSR2) == 0);
		end = hc_now_ms() + 2000;
		while (stop_plain_seen == (sig_atomic_t)i && hc_now_ms() < end)
			hc_sleep_ms(1);
		hc_sleep_ms(5);
	}
	hc_sleep_ms(100);
	ATF_CHECK_EQ_MSG(stop_plain_seen, STOP_PLAIN,
	    "%d of %d plain signals handled", (int)stop_plain_seen,
	    STOP_PLAIN);
	ATF_REQUIRE_MSG(!atomic_load(&r.over), "the run ended on plain "
	    "signals: errno %d (%s), exit %#jx", r.error, strerror(r.error),
	    (uintmax_t)r.unexpected);
	ATF_REQUIRE_EQ_MSG(atomic_load(&r.stops), 0,
	    "STOPPED without a stop");

	/* Stops from the handler. */
	for (i = 0; i < STOP_ROUNDS; i++) {
		hc_sleep_ms(20);
		t0 = hc_now_ms();
		ATF_REQUIRE(pthread_kill(t, SIGUSR1) == 0);
		end = t0 + 5000;
		while (atomic_load(&r.stops) == i && !atomic_load(&r.over) &&
		    hc_now_ms() < end)
			hc_sleep_ms(1);
		if (atomic_load(&r.stops) == i) {
			if (!atomic_load(&r.over)) {
				/* Let the test end: stop until it does. */
				while (!atomic_load(&r.over)) {
					nvmm_vcpu_stop(&stop_vcpu);
					hc_sleep_ms(10);
				}
			}
			atf_tc_fail("round %u: no STOPPED within 5 s: errno %d "
			    "(%s), exit %#jx", i, r.error, strerror(r.error),
			    (uintmax_t)r.unexpected);
		}
		ATF_CHECK_MSG(r.stopped_at[i] - t0 < STOP_MAX_MS,
		    "round %u: STOPPED %ju ms after the signal", i,
		    (uintmax_t)(r.stopped_at[i] - t0));
	}
	ATF_REQUIRE(pthread_join(t, NULL) == 0);
	ATF_CHECK_EQ_MSG(r.error, 0, "nvmm_vcpu_run failed: %s",
	    strerror(r.error));
	ATF_CHECK_EQ_MSG(r.unexpected, 0, "unexpected exit %#jx",
	    (uintmax_t)r.unexpected);
	ATF_CHECK_EQ(stop_handler_seen, STOP_ROUNDS);
	ATF_CHECK_EQ_MSG(r.stop_after, 0, "the stop was not consumed by the "
	    "run that it ended");
	hc_machine_destroy(&stop_vm);
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */

/*
 * Under seccomp strict mode only read, write, _exit and sigreturn are
 * allowed; any other system call is SIGKILL.  The child reports each step
 * with one byte, so that the last byte names the call that was running.
 */
static void
td_strict(void)
{
	/* Bind write and syscall now: lazy binding is the linker's. */
	td_child_ev('r');
	(void)syscall(SYS_getpid);
	C_CHECK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) == 0,
	    "seccomp strict: %s", strerror(errno));
}

ATF_TC_WITH_CLEANUP(no_syscall_hot_calls);
TD_HEAD(no_syscall_hot_calls, "setstate, inject, stop and a cached "
    "getstate make no system call (seccomp strict); run does")
ATF_TC_BODY(no_syscall_hot_calls, tc)
{
	struct td_child c;
	char got[8];
	size_t n;
	pid_t daemon;
	int b, status;

	daemon = hd_start(NULL);

	if (td_fork(&c)) {
		struct nvmm_machine mach;
		struct nvmm_vcpu vcpu;
		struct nvmm_comm_page *comm;
		int r;

		C_CALL(nvmm_init());
		C_CALL(nvmm_machine_create(&mach));
		C_CALL(nvmm_vcpu_create(&mach, 0, &vcpu));
		comm = mach.pages[0];
		C_CHECK(comm != NULL && (comm->state_cached &
		    NVMM_X64_STATE_ALL) == NVMM_X64_STATE_ALL,
		    "the RESET state is not cached: %#jx",
		    comm != NULL ? (uintmax_t)comm->state_cached : 0);
		/* Once each first (binding), then back as they were. */
		C_CALL(nvmm_vcpu_getstate(&mach, &vcpu, NVMM_X64_STATE_ALL));
		C_CALL(nvmm_vcpu_setstate(&mach, &vcpu, 0));
		C_CALL(nvmm_vcpu_inject(&mach, &vcpu));
		C_CALL(nvmm_vcpu_stop(&vcpu));
		comm->event_commit = false;
		comm->state_commit = 0;
		*vcpu.stop = 0;
		vcpu.event->type = NVMM_VCPU_EVENT_INTR;
		vcpu.event->vector = 0x20;
		td_strict();

		r = nvmm_vcpu_getstate(&mach, &vcpu, NVMM_X64_STATE_ALL);
		td_child_ev(r == 0 ? 'g' : 'G');
		vcpu.state->gprs[NVMM_X64_GPR_RAX] = 0x1234;
		r = nvmm_vcpu_setstate(&mach, &vcpu, NVMM_X64_STATE_GPRS);
		td_child_ev(r == 0 && (comm->state_commit &
		    NVMM_X64_STATE_GPRS) ? 's' : 'S');
		r = nvmm_vcpu_inject(&mach, &vcpu);
		td_child_ev(r == 0 && comm->event_commit ? 'i' : 'I');
		r = nvmm_vcpu_stop(&vcpu);
		td_child_ev(r == 0 && *vcpu.stop == 1 ? 'p' : 'P');
		syscall(SYS_exit, 0);
	}
	status = td_waitpid(c.pid, 30000);
	n = 0;
	while (n < sizeof(got) - 1 && (b = td_recv_byte(c.ev, 0)) >= 0)
		got[n++] = (char)b;
	got[n] = '\0';
	if (status == -1) {
		kill(c.pid, SIGKILL);
		atf_tc_fail("the child hangs; steps \"%s\"", got);
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		atf_tc_fail("a system call was made after steps \"%s\" "
		    "(r: strict mode, g: getstate, s: setstate, i: inject, "
		    "p: stop)", got);
	if (n > 0 && got[0] == 'r' && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0) {
		ATF_CHECK_STREQ_MSG(got, "rgsip", "steps \"%s\": upper case "
		    "is a call that failed or did nothing", got);
	} else {
		/* Failed before strict mode: the child says why. */
		td_check_status(&c, status, "the hot-path client");
	}

	/*
	 * The control: run, which must wake the daemon, is seen.  Strict
	 * mode also disables RDTSC, so a client that spins on clock_gettime
	 * (vDSO) before its first system call dies of SIGSEGV, not SIGKILL:
	 * the daemon's VCPU thread is let fall asleep first (it sleeps when
	 * idle), so that ringing the doorbell is a futex wake.
	 */
	if (td_fork(&c)) {
		struct td_vm vm;
		struct nvmm_vcpu vcpu;

		C_CALL(nvmm_init());
		C_CHECK(td_spin_vm(&vm, &vcpu) == 0, "%s: %s", td_what,
		    strerror(errno));
		hc_sleep_ms(200);
		td_strict();
		td_child_ev('x');
		(void)nvmm_vcpu_run(&vm.mach, &vcpu);
		td_child_ev('N');
		syscall(SYS_exit, 0);
	}
	status = td_waitpid(c.pid, 30000);
	n = 0;
	while (n < sizeof(got) - 1 && (b = td_recv_byte(c.ev, 0)) >= 0)
		got[n++] = (char)b;
	got[n] = '\0';
	if (status == -1) {
		kill(c.pid, SIGKILL);
		atf_tc_fail("the control child hangs; steps \"%s\"", got);
	}
	if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
	    strcmp(got, "rx") != 0) {
		if (got[0] != 'r')
			td_check_status(&c, status, "the control client");
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
			atf_tc_fail("the control died of SIGSEGV in "
			    "nvmm_vcpu_run: it read the time (RDTSC) before "
			    "any system call, so the daemon's VCPU thread "
			    "was not asleep after 200 ms idle");
		atf_tc_fail("the control was not killed (status %#x, steps "
		    "\"%s\"): the method does not see system calls", status,
		    got);
	}
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, four_vcpus_and_a_mapper);
	ATF_TP_ADD_TC(tp, run_beside_control_requests);
	ATF_TP_ADD_TC(tp, stop_from_signal_handler);
	ATF_TP_ADD_TC(tp, no_syscall_hot_calls);
	return atf_no_error();
}
