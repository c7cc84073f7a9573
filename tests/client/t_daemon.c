/*
 * nvmmd as its clients see it: isolation between connections, cleanup
 * after a client dies, concurrency on one machine, stop from a signal
 * handler, who is let in, robustness against malformed packets, the
 * system-call-free hot path, fork, and shutdown.
 *
 * Each test case starts its own daemon (h_daemon.h).  Guests run by the
 * test process itself use h_client.h.  Clients that must be separate
 * processes are forked children, which cannot fail the test through ATF:
 * a child reports a failure through a pipe (td_fail) and exits non-zero,
 * the parent turns that into the test's failure message, and the child's
 * guests are set up by the td_ helpers below, which return errors instead
 * of failing.  Children end with _exit().
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/seccomp.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

#include <nvmm.h>
#include "nvmm_wire.h"
#include "h_client.h"
#include "h_daemon.h"

/* guests.S: "1: jmp 1b", the same bytes in real and in long mode. */
TVM_GUEST(spin);

#define TD_RAM_SIZE	0x10000UL
#define TD_CODE_GPA	0x1000
#define TD_SPARE_GPA	0x100000UL
#define TD_CHILDREN	"children.pids"
#define TD_NOBODY	65534

/* -------------------------------------------------------------------------- */
/* Time. */

static uint64_t
td_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
td_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/* -------------------------------------------------------------------------- */
/* Forked helpers. */

struct td_child {
	pid_t pid;
	int msg;	/* parent: read end of the child's failure message */
	int cmd;	/* parent: write end, to the child */
	int ev;		/* parent: read end, from the child */
};

/* In a child: where its failure message goes, and its pipe ends. */
static int td_msgfd = -1;
static int td_cmdfd = -1;
static int td_evfd = -1;

static void __attribute__((noreturn, format(printf, 2, 3)))
td_fail(int line, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (td_msgfd != -1)
		(void)write(td_msgfd, buf, strlen(buf));
	_exit(1);
}

/* Checks for children; they fail by message and exit status. */
#define C_CHECK(cond, ...) do {						\
	if (!(cond))							\
		td_fail(__LINE__, __VA_ARGS__);				\
} while (0)
#define C_CALL(call) do {						\
	errno = 0;							\
	C_CHECK((call) == 0, "%s: %s", #call, strerror(errno));		\
} while (0)
#define C_ERRNO(want, call) do {					\
	int r_;								\
	errno = 0;							\
	r_ = (call);							\
	C_CHECK(r_ == -1 && errno == (want),				\
	    "%s: returned %d, errno %d (%s); want -1, errno %s",	\
	    #call, r_, errno, strerror(errno), #want);			\
} while (0)

/* Remembers a child so that the cleanup routine can kill it. */
static void
td_note_child(pid_t pid)
{
	FILE *f;

	f = fopen(TD_CHILDREN, "a");
	if (f != NULL) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
}

static void
td_kill_children(void)
{
	FILE *f;
	int pid;

	f = fopen(TD_CHILDREN, "r");
	if (f == NULL)
		return;
	while (fscanf(f, "%d", &pid) == 1)
		if (pid > 0)
			kill(pid, SIGKILL);
	fclose(f);
}

/* Returns true in the child. */
static bool
td_fork(struct td_child *c)
{
	int msg[2], cmd[2], ev[2];

	ATF_REQUIRE(pipe2(msg, O_CLOEXEC) == 0);
	ATF_REQUIRE(pipe2(cmd, O_CLOEXEC) == 0);
	ATF_REQUIRE(pipe2(ev, O_CLOEXEC) == 0);
	fflush(NULL);
	c->pid = fork();
	ATF_REQUIRE(c->pid != -1);
	if (c->pid == 0) {
		close(msg[0]);
		close(cmd[1]);
		close(ev[0]);
		td_msgfd = msg[1];
		td_cmdfd = cmd[0];
		td_evfd = ev[1];
		return true;
	}
	td_note_child(c->pid);
	close(msg[1]);
	close(cmd[0]);
	close(ev[1]);
	c->msg = msg[0];
	c->cmd = cmd[1];
	c->ev = ev[0];
	return false;
}

/* One byte from fd within ms: the byte, -1 on time-out, -2 at EOF. */
static int
td_recv_byte(int fd, unsigned ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t b;
	ssize_t n;
	int r;

	do
		r = poll(&pfd, 1, (int)ms);
	while (r == -1 && errno == EINTR);
	if (r <= 0)
		return -1;
	do
		n = read(fd, &b, 1);
	while (n == -1 && errno == EINTR);
	return n == 1 ? b : -2;
}

static void
td_send_byte(int fd, uint8_t b)
{
	ssize_t n;

	do
		n = write(fd, &b, 1);
	while (n == -1 && errno == EINTR);
}

/* In a child: the parent's next command; EOF (the parent died) ends it. */
static int
td_child_cmd(void)
{
	int b = td_recv_byte(td_cmdfd, 60000);

	C_CHECK(b >= 0, "no command from the parent");
	return b;
}

/* In a child: tells the parent an event. */
static void
td_child_ev(uint8_t b)
{
	td_send_byte(td_evfd, b);
}

/* In the parent: the child's next event, required within ms. */
static int
td_event(struct td_child *c, unsigned ms, const char *what)
{
	int b = td_recv_byte(c->ev, ms);

	if (b < 0) {
		char msg[512] = "";
		ssize_t n;

		/* Has the child failed?  Say why. */
		if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
			n = read(c->msg, msg, sizeof(msg) - 1);
			msg[n > 0 ? n : 0] = '\0';
			c->pid = -1;
		}
		atf_tc_fail("no %s from the child (%s): %s", what,
		    b == -1 ? "time-out" : "EOF", msg);
	}
	return b;
}

/* Waits at most ms for the child; returns its status, or -1. */
static int
td_waitpid(pid_t pid, unsigned ms)
{
	uint64_t end = td_now_ms() + ms;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r == -1 || td_now_ms() >= end)
			return -1;
		td_sleep_ms(5);
	}
}

/* Requires that a reaped child (status, or -1: it hung) exited 0. */
static void
td_check_status(struct td_child *c, int status, const char *name)
{
	char msg[512];
	ssize_t n;

	n = read(c->msg, msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(c->msg);
	close(c->cmd);
	close(c->ev);
	if (status == -1)
		atf_tc_fail("%s: did not exit in time %s", name, msg);
	ATF_REQUIRE_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s: status %#x: %s", name, status,
	    msg[0] != '\0' ? msg : "(no message)");
}

/* Requires that the child exits 0 within ms; reports its message if not. */
static void
td_wait_ok(struct td_child *c, unsigned ms, const char *name)
{
	int status;

	status = td_waitpid(c->pid, ms);
	if (status == -1) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	td_check_status(c, status, name);
}

/* -------------------------------------------------------------------------- */
/*
 * Guests through the public API alone: RAM at GPA 0 and a VCPU in real
 * mode (from the RESET state, which is cached) at TD_CODE_GPA.  The
 * helpers return 0, or -1 with errno set and td_what naming the call.
 */

struct td_vm {
	struct nvmm_machine mach;
	uint8_t *ram;
	size_t ramsize;
};

static const char *td_what = "";

#define TD_TRY(call) do {						\
	if ((call) == -1) {						\
		td_what = #call;					\
		return -1;						\
	}								\
} while (0)

static int
td_vm_create(struct td_vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	TD_TRY(nvmm_machine_create(&vm->mach));
	vm->ramsize = TD_RAM_SIZE;
	vm->ram = mmap(NULL, vm->ramsize, PROT_READ | PROT_WRITE,
	    MAP_ANON | MAP_PRIVATE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		td_what = "mmap";
		return -1;
	}
	TD_TRY(nvmm_hva_map(&vm->mach, (uintptr_t)vm->ram, vm->ramsize));
	TD_TRY(nvmm_gpa_map(&vm->mach, (uintptr_t)vm->ram, 0, vm->ramsize,
	    PROT_READ | PROT_WRITE | PROT_EXEC));
	return 0;
}

static int
td_vcpu_create(struct td_vm *vm, nvmm_cpuid_t cpuid, struct nvmm_vcpu *vcpu,
    uint64_t ip, uint64_t rax)
{
	struct nvmm_x64_state *st;

	TD_TRY(nvmm_vcpu_create(&vm->mach, cpuid, vcpu));
	TD_TRY(nvmm_vcpu_getstate(&vm->mach, vcpu, NVMM_X64_STATE_SEGS |
	    NVMM_X64_STATE_GPRS));
	st = vcpu->state;
	st->segs[NVMM_X64_SEG_CS].selector = 0;
	st->segs[NVMM_X64_SEG_CS].base = 0;
	st->gprs[NVMM_X64_GPR_RIP] = ip;
	st->gprs[NVMM_X64_GPR_RAX] = rax;
	TD_TRY(nvmm_vcpu_setstate(&vm->mach, vcpu, NVMM_X64_STATE_SEGS |
	    NVMM_X64_STATE_GPRS));
	return 0;
}

/* A machine with the spinning guest on VCPU 0. */
static int
td_spin_vm(struct td_vm *vm, struct nvmm_vcpu *vcpu)
{
	if (td_vm_create(vm) == -1)
		return -1;
	memcpy(vm->ram + TD_CODE_GPA, guest_spin_begin,
	    (size_t)(guest_spin_end - guest_spin_begin));
	return td_vcpu_create(vm, 0, vcpu, TD_CODE_GPA, 0);
}

/*
 * 64-bit: count OUTs of AL to port 0x80, then HLT.
 *	mov $count, %ecx ; 1: out %al, $0x80 ; loop 1b ; hlt
 */
struct td_ioloop {
	uint8_t code[10];
};

static void
td_ioloop(struct td_ioloop *g, uint32_t count)
{
	const uint8_t code[] = {
		0xB9, (uint8_t)count, (uint8_t)(count >> 8),
		(uint8_t)(count >> 16), (uint8_t)(count >> 24),
		0xE6, 0x80,
		0xE2, 0xFC,
		0xF4,
	};

	_Static_assert(sizeof(code) == sizeof(g->code), "td_ioloop");
	memcpy(g->code, code, sizeof(code));
}

#define TD_IO_PORT	0x80

static int
td_mach_info(nvmm_machid_t machid, struct nvmm_ctl_mach_info *info)
{
	memset(info, 0, sizeof(*info));
	info->machid = machid;
	return nvmm_ctl(NVMM_CTL_MACH_INFO, info, sizeof(*info));
}

/*
 * The daemon's descriptor count once it stops moving: connections that
 * just ended (hd_start's probes) take a moment to be closed.
 */
static int
td_fd_settled(pid_t daemon)
{
	uint64_t end = td_now_ms() + 5000;
	int n, last = -1, same = 0;

	while (same < 10 && td_now_ms() < end) {
		n = hd_fd_count(daemon);
		same = n == last ? same + 1 : 0;
		last = n;
		td_sleep_ms(10);
	}
	return last;
}

/* Waits up to 5 s for the daemon's descriptor count to be want. */
static int
td_fd_wait(pid_t daemon, int want)
{
	uint64_t end = td_now_ms() + 5000;
	int n;

	while ((n = hd_fd_count(daemon)) != want && td_now_ms() < end)
		td_sleep_ms(10);
	return n;
}

/* -------------------------------------------------------------------------- */

#define TD_HEAD(name, text)						\
ATF_TC_HEAD(name, tc)							\
{									\
	atf_tc_set_md_var(tc, "descr", text);				\
	atf_tc_set_md_var(tc, "timeout", "120");			\
	HD_TC_NEEDS_DAEMON(tc);						\
}									\
ATF_TC_CLEANUP(name, tc)						\
{									\
	td_kill_children();						\
	hd_cleanup();							\
}

/* -------------------------------------------------------------------------- */

ATF_TC_WITH_CLEANUP(two_clients_isolated);
TD_HEAD(two_clients_isolated, "A client cannot destroy, create VCPUs on, "
    "map memory of, or query another client's machine: EPERM")
ATF_TC_BODY(two_clients_isolated, tc)
{
	struct td_child a, b;
	struct nvmm_ctl_mach_info info;
	pid_t daemon;
	int victim;

	daemon = hd_start(NULL);

	/* A: a machine with a VCPU and RAM, then waits. */
	if (td_fork(&a)) {
		struct td_vm vm;
		struct nvmm_vcpu vcpu;

		C_CALL(nvmm_init());
		C_CHECK(td_spin_vm(&vm, &vcpu) == 0, "%s: %s", td_what,
		    strerror(errno));
		td_child_ev((uint8_t)vm.mach.machid);
		C_CHECK(td_child_cmd() == 'c', "bad command");
		/* Still whole after B's attempts. */
		C_CALL(td_mach_info(vm.mach.machid, &info));
		C_CHECK(info.nvcpus == 1, "nvcpus %u, want 1", info.nvcpus);
		C_CHECK(info.nram == TD_RAM_SIZE, "nram %ju, want %lu",
		    (uintmax_t)info.nram, TD_RAM_SIZE);
		C_CHECK(info.pid == getpid(), "pid %d, want %d",
		    (int)info.pid, (int)getpid());
		C_CALL(nvmm_vcpu_getstate(&vm.mach, &vcpu,
		    NVMM_X64_STATE_GPRS));
		C_CALL(nvmm_machine_destroy(&vm.mach));
		_exit(0);
	}
	victim = td_event(&a, 30000, "machine id");

	/*
	 * B: its own connection and machine, whose handle it then points
	 * at A's machine, so that each call reaches the daemon.
	 */
	if (td_fork(&b)) {
		struct nvmm_machine mine, theirs;
		struct nvmm_vcpu vcpu;
		uint8_t *page;

		C_CALL(nvmm_init());
		C_CALL(nvmm_machine_create(&mine));
		C_CHECK(mine.machid != (nvmm_machid_t)victim,
		    "B was given A's machine id %d", victim);
		page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_ANON | MAP_PRIVATE, -1, 0);
		C_CHECK(page != MAP_FAILED, "mmap");

		/* The same calls work on B's own machine. */
		C_CALL(td_mach_info(mine.machid, &info));
		C_CALL(nvmm_vcpu_create(&mine, 5, &vcpu));
		C_CALL(nvmm_vcpu_destroy(&mine, &vcpu));

		theirs = mine;
		theirs.machid = (nvmm_machid_t)victim;
		C_ERRNO(EPERM, td_mach_info(theirs.machid, &info));
		C_ERRNO(EPERM, nvmm_vcpu_create(&theirs, 1, &vcpu));
		vcpu.cpuid = 0;
		C_ERRNO(EPERM, nvmm_vcpu_destroy(&theirs, &vcpu));
		C_ERRNO(EPERM, nvmm_hva_map(&theirs, (uintptr_t)page, 4096));
		C_ERRNO(EPERM, nvmm_gpa_map(&theirs, (uintptr_t)page,
		    TD_SPARE_GPA, 4096, HC_RWX));
		C_ERRNO(EPERM, nvmm_machine_destroy(&theirs));

		C_CALL(nvmm_machine_destroy(&mine));
		_exit(0);
	}
	td_wait_ok(&b, 30000, "the second client");

	td_send_byte(a.cmd, 'c');
	td_wait_ok(&a, 30000, "the first client");
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */

/* An admin connection in a child: MACH_INFO of every id. */
static void
td_admin_scan(int want_present, pid_t owner)
{
	struct td_child c;

	if (td_fork(&c)) {
		struct nvmm_ctl_mach_info info;
		int id, found = 0;

		C_CALL(nvmm_root_init());
		for (id = 0; id < 128; id++) {
			if (td_mach_info((nvmm_machid_t)id, &info) == 0) {
				C_CHECK(want_present == id,
				    "machine %d exists (owner pid %d, %u vcpus)",
				    id, (int)info.pid, info.nvcpus);
				C_CHECK(info.pid == owner && info.nvcpus == 1,
				    "machine %d: pid %d, %u vcpus; want %d, 1",
				    id, (int)info.pid, info.nvcpus, (int)owner);
				found++;
				continue;
			}
			C_CHECK(errno == ENOENT, "MACH_INFO %d: %s, want ENOENT",
			    id, strerror(errno));
		}
		C_CHECK(want_present < 0 || found == 1,
		    "machine %d not seen", want_present);
		_exit(0);
	}
	td_wait_ok(&c, 30000, "the admin client");
}

ATF_TC_WITH_CLEANUP(sigkill_in_run_cleans_up);
TD_HEAD(sigkill_in_run_cleans_up, "A client killed inside nvmm_vcpu_run "
    "leaves no descriptor and no machine behind")
ATF_TC_BODY(sigkill_in_run_cleans_up, tc)
{
	struct td_child c;
	pid_t daemon;
	int before, now, machid, status;

	daemon = hd_start(NULL);
	before = td_fd_settled(daemon);

	if (td_fork(&c)) {
		struct td_vm vm;
		struct nvmm_vcpu vcpu;

		C_CALL(nvmm_init());
		C_CHECK(td_spin_vm(&vm, &vcpu) == 0, "%s: %s", td_what,
		    strerror(errno));
		td_child_ev((uint8_t)vm.mach.machid);
		/* Never returns: the guest spins. */
		C_CALL(nvmm_vcpu_run(&vm.mach, &vcpu));
		td_child_ev('!');
		C_CHECK(0, "the run returned, reason %#jx",
		    (uintmax_t)vcpu.exit->reason);
	}
	machid = td_event(&c, 30000, "machine id");
	td_sleep_ms(200);
	ATF_REQUIRE_MSG(td_recv_byte(c.ev, 0) == -1,
	    "the spinning guest's run returned");
	ATF_REQUIRE_MSG(hd_fd_count(daemon) > before,
	    "the client holds no descriptor in the daemon");
	/* The scan sees the machine while its owner lives. */
	td_admin_scan(machid, c.pid);

	ATF_REQUIRE(kill(c.pid, SIGKILL) == 0);
	status = td_waitpid(c.pid, 10000);
	ATF_REQUIRE_MSG(status != -1 && WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGKILL, "the client was not killed: %#x",
	    status);

	now = td_fd_wait(daemon, before);
	ATF_CHECK_MSG(now == before, "the daemon has %d descriptors, %d "
	    "before the client", now, before);

	td_admin_scan(-1, 0);
	now = td_fd_wait(daemon, before);
	ATF_CHECK_MSG(now == before, "the daemon has %d descriptors after "
	    "the admin scan, %d before", now, before);
	hd_stop(daemon);
}

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
	struct td_ioloop guest;
	struct four_map map;
	const struct hc_dev_log *log;
	pid_t daemon;
	size_t i, j, n;

	daemon = hd_start(NULL);
	hc_init();
	hc_machine_create(&four_vm, TVM_RAM_SIZE);
	td_ioloop(&guest, FOUR_OUTS);
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
		n = hc_dev_count(&runs[i].dev, TD_IO_PORT);
		ATF_CHECK_MSG(n == FOUR_OUTS, "VCPU %zu: %zu OUTs, want %u",
		    i, n, FOUR_OUTS);
		for (j = 0; j < n; j++) {
			log = hc_dev_find(&runs[i].dev, TD_IO_PORT, j);
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

	HC_REQUIRE_OK(td_mach_info(four_vm.mach.machid, &info));
	ATF_CHECK_EQ(info.nvcpus, FOUR_NVCPUS);
	ATF_CHECK_EQ(info.nram, TVM_RAM_SIZE + 4096);
	hc_machine_destroy(&four_vm);
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
			r->stopped_at[n] = td_now_ms();
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
	td_sleep_ms(50);

	/*
	 * Plain signals: the run goes on.  Each is handled before the next
	 * is sent, since a pending signal absorbs the same one sent again.
	 */
	for (i = 0; i < STOP_PLAIN; i++) {
		ATF_REQUIRE(pthread_kill(t, SIGUSR2) == 0);
		end = td_now_ms() + 2000;
		while (stop_plain_seen == (sig_atomic_t)i && td_now_ms() < end)
			td_sleep_ms(1);
		td_sleep_ms(5);
	}
	td_sleep_ms(100);
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
		td_sleep_ms(20);
		t0 = td_now_ms();
		ATF_REQUIRE(pthread_kill(t, SIGUSR1) == 0);
		end = t0 + 5000;
		while (atomic_load(&r.stops) == i && !atomic_load(&r.over) &&
		    td_now_ms() < end)
			td_sleep_ms(1);
		if (atomic_load(&r.stops) == i) {
			if (!atomic_load(&r.over)) {
				/* Let the test end: stop until it does. */
				while (!atomic_load(&r.over)) {
					nvmm_vcpu_stop(&stop_vcpu);
					td_sleep_ms(10);
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

/* A group that exists, to admit users with: gid 100 ("users") or another. */
static const struct group *
td_some_group(void)
{
	struct group *gr;

	gr = getgrgid(100);
	if (gr != NULL)
		return gr;
	setgrent();
	while ((gr = getgrent()) != NULL)
		if (gr->gr_gid != 0 && gr->gr_gid != TD_NOBODY)
			break;
	endgrent();
	return gr;
}

/* In a child: no longer root; the socket by a path relative to the cwd. */
static void
td_drop_to(gid_t gid)
{
	C_CALL(setgroups(0, NULL));
	C_CALL(setgid(gid));
	C_CALL(setuid(TD_NOBODY));
	C_CHECK(getuid() == TD_NOBODY && geteuid() == TD_NOBODY &&
	    getgid() == gid, "still privileged");
	C_CALL(setenv("NVMM_SOCKET", HD_SOCKET, 1));
}

ATF_TC_WITH_CLEANUP(outside_group_refused);
TD_HEAD(outside_group_refused, "A peer outside the user group is refused "
    "with EACCES and the refusal logged; a member is accepted")
ATF_TC_BODY(outside_group_refused, tc)
{
	const char *extra[] = { "-g", NULL, NULL };
	const struct group *gr;
	struct td_child c;
	char line[128];
	gid_t gid;
	pid_t daemon;

	gr = td_some_group();
	if (gr == NULL)
		atf_tc_skip("no group other than root and nogroup");
	gid = gr->gr_gid;
	extra[1] = strdup(gr->gr_name);
	ATF_REQUIRE(extra[1] != NULL);

	/* The unprivileged children look the socket up from here. */
	ATF_REQUIRE(chmod(".", 0711) == 0);
	daemon = hd_start(extra);

	if (td_fork(&c)) {
		td_drop_to(TD_NOBODY);
		C_ERRNO(EACCES, nvmm_init());
		_exit(0);
	}
	snprintf(line, sizeof(line), "refused pid %d uid %d", (int)c.pid,
	    TD_NOBODY);
	td_wait_ok(&c, 30000, "the outsider");
	ATF_CHECK_MSG(hd_log_has(line), "nvmmd.log has no \"%s\"", line);

	if (td_fork(&c)) {
		struct nvmm_machine mach;

		td_drop_to(gid);
		C_CALL(nvmm_init());
		C_CALL(nvmm_machine_create(&mach));
		C_CALL(nvmm_machine_destroy(&mach));
		_exit(0);
	}
	snprintf(line, sizeof(line), "refused pid %d", (int)c.pid);
	td_wait_ok(&c, 30000, "the member of the group");
	ATF_CHECK_MSG(!hd_log_has(line), "nvmmd.log refuses the member of "
	    "group %s: \"%s\"", extra[1], line);
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */

static int
td_raw_connect(void)
{
	struct timeval tv = { 5, 0 };
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, HD_SOCKET);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ATF_REQUIRE(fd != -1);
	ATF_REQUIRE_MSG(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0,
	    "connect: %s", strerror(errno));
	ATF_REQUIRE(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == 0);
	return fd;
}

static void
td_raw_send(int fd, const void *buf, size_t len)
{
	ATF_REQUIRE_MSG(send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len,
	    "send %zu bytes: %s", len, strerror(errno));
}

/* A valid Hello for the user role, and its reply: error 0. */
static void
td_raw_hello(int fd)
{
	Nvmm__Hello hello = NVMM__HELLO__INIT;
	Nvmm__HelloReply *reply;
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	ssize_t n;
	int rfd;

	hello.version = NVMM_PROTO_VERSION;
	hello.role = NVMM__ROLE__ROLE_USER;
	ATF_REQUIRE_EQ(nvmm_wire_send(fd, &hello.base, -1, 0), 0);
	n = nvmm_wire_recv(fd, buf, &rfd, 0);
	ATF_REQUIRE_MSG(n > 0, "no hello reply: %zd", n);
	ATF_REQUIRE_EQ(rfd, -1);
	reply = nvmm__hello_reply__unpack(NULL, (size_t)n, buf);
	ATF_REQUIRE(reply != NULL);
	ATF_REQUIRE_EQ_MSG(reply->error, 0, "hello refused: %s",
	    strerror(reply->error));
	ATF_REQUIRE_EQ(reply->role, NVMM__ROLE__ROLE_USER);
	nvmm__hello_reply__free_unpacked(reply, NULL);
}

/* A valid request (capability) and its reply, as a control. */
static void
td_raw_capability(int fd, uint64_t id, int attach)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__Capability op = NVMM__CAPABILITY__INIT;
	Nvmm__Reply *reply;
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	ssize_t n;
	int rfd;

	req.id = id;
	req.op_case = NVMM__REQUEST__OP_CAPABILITY;
	req.capability = &op;
	ATF_REQUIRE_EQ(nvmm_wire_send(fd, &req.base, attach, 0), 0);
	if (attach != -1)
		return;
	n = nvmm_wire_recv(fd, buf, &rfd, 0);
	ATF_REQUIRE_MSG(n > 0, "no capability reply: %zd", n);
	reply = nvmm__reply__unpack(NULL, (size_t)n, buf);
	ATF_REQUIRE(reply != NULL);
	ATF_REQUIRE_EQ(reply->id, id);
	ATF_REQUIRE_EQ(reply->error, 0);
	ATF_REQUIRE_EQ(reply->result_case, NVMM__REPLY__RESULT_CAPABILITY);
	nvmm__reply__free_unpacked(reply, NULL);
}

/* The daemon must close the connection now: recv sees the end. */
static void
td_raw_closed(int fd, const char *what)
{
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), 0);
	ATF_CHECK_MSG(n == 0, "%s: recv returned %zd (%s), want 0 (closed)",
	    what, n, n == -1 ? strerror(errno) : "a packet");
	close(fd);
}

/* The proper client answers; the daemon lives. */
static void
td_keeper_ok(struct td_child *k, pid_t daemon, const char *after)
{
	int b;

	td_send_byte(k->cmd, 'i');
	b = td_event(k, 30000, "answer");
	ATF_CHECK_MSG(b == 'y', "after %s: the proper client's machine does "
	    "not answer", after);
	ATF_REQUIRE_MSG(waitpid(daemon, NULL, WNOHANG) == 0 &&
	    kill(daemon, 0) == 0, "after %s: nvmmd is gone", after);
}

ATF_TC_WITH_CLEANUP(malformed_closes_only_that_connection);
TD_HEAD(malformed_closes_only_that_connection, "Garbage, an oversized "
    "packet, an unexpected descriptor or an unknown operation closes "
    "that connection and nothing else")
ATF_TC_BODY(malformed_closes_only_that_connection, tc)
{
	/* Overlong varints: no protobuf message parses from these. */
	static const uint8_t garbage[64] = {
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	};
	/* Request id 7 with field 22, past the last operation. */
	static const uint8_t unknown_op[] = { 0x08, 0x07, 0xB2, 0x01, 0x00 };
	Nvmm__Hello hello = NVMM__HELLO__INIT;
	struct td_child k;
	uint8_t *big;
	size_t hlen, len;
	pid_t daemon;
	int fd, before, now, devnull;

	daemon = hd_start(NULL);

	/* The proper client: a machine, and MACH_INFO on it when asked. */
	if (td_fork(&k)) {
		struct nvmm_ctl_mach_info info;
		struct nvmm_machine mach;
		int cmd;

		C_CALL(nvmm_init());
		C_CALL(nvmm_machine_create(&mach));
		td_child_ev('r');
		while ((cmd = td_child_cmd()) == 'i')
			td_child_ev(td_mach_info(mach.machid, &info) == 0 &&
			    info.pid == getpid() ? 'y' : 'n');
		C_CALL(nvmm_machine_destroy(&mach));
		_exit(0);
	}
	ATF_REQUIRE_EQ(td_event(&k, 30000, "ready"), 'r');
	td_keeper_ok(&k, daemon, "start");
	before = td_fd_settled(daemon);

	/* Garbage as the first packet, and after a good hello. */
	fd = td_raw_connect();
	td_raw_send(fd, garbage, sizeof(garbage));
	td_raw_closed(fd, "garbage for a hello");
	td_keeper_ok(&k, daemon, "garbage for a hello");

	fd = td_raw_connect();
	td_raw_hello(fd);
	td_raw_send(fd, garbage, sizeof(garbage));
	td_raw_closed(fd, "garbage for a request");
	td_keeper_ok(&k, daemon, "garbage for a request");

	/*
	 * Oversized: a valid Hello with an unknown field padding it.  Padded
	 * to exactly the bound it is accepted, one byte more and it is not.
	 */
	hello.version = NVMM_PROTO_VERSION;
	hello.role = NVMM__ROLE__ROLE_USER;
	hlen = nvmm__hello__get_packed_size(&hello);
	big = calloc(1, 2 * NVMM_PROTO_MAX_MSG);
	ATF_REQUIRE(big != NULL);
	for (len = NVMM_PROTO_MAX_MSG; len <= NVMM_PROTO_MAX_MSG + 1; len++) {
		Nvmm__HelloReply *reply;
		size_t pad = len - hlen - 3;	/* tag and 2-byte length */

		nvmm__hello__pack(&hello, big);
		big[hlen] = (15 << 3) | 2;
		big[hlen + 1] = (uint8_t)(0x80 | (pad & 0x7F));
		big[hlen + 2] = (uint8_t)(pad >> 7);
		memset(big + hlen + 3, 'x', pad);
		fd = td_raw_connect();
		td_raw_send(fd, big, len);
		if (len > NVMM_PROTO_MAX_MSG) {
			td_raw_closed(fd, "an oversized packet");
			break;
		}
		/* The control: the same, at the bound, is a good hello. */
		{
			uint8_t buf[NVMM_PROTO_MAX_MSG];
			ssize_t n;
			int rfd;

			n = nvmm_wire_recv(fd, buf, &rfd, 0);
			ATF_REQUIRE_MSG(n > 0, "a %zu-byte hello: %zd", len, n);
			reply = nvmm__hello_reply__unpack(NULL, (size_t)n, buf);
			ATF_REQUIRE(reply != NULL);
			ATF_CHECK_EQ_MSG(reply->error, 0, "a %zu-byte hello: "
			    "%s", len, strerror(reply->error));
			nvmm__hello_reply__free_unpacked(reply, NULL);
		}
		close(fd);
	}
	td_keeper_ok(&k, daemon, "an oversized packet");

	/* Large, after a hello. */
	fd = td_raw_connect();
	td_raw_hello(fd);
	memset(big, 0, 2 * NVMM_PROTO_MAX_MSG);
	td_raw_send(fd, big, 2 * NVMM_PROTO_MAX_MSG);
	td_raw_closed(fd, "an oversized request");
	td_keeper_ok(&k, daemon, "an oversized request");
	free(big);

	/* A descriptor with the hello, and with a request that takes none. */
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ATF_REQUIRE(devnull != -1);
	fd = td_raw_connect();
	ATF_REQUIRE_EQ(nvmm_wire_send(fd, &hello.base, devnull, 0), 0);
	td_raw_closed(fd, "a hello with a descriptor");
	td_keeper_ok(&k, daemon, "a hello with a descriptor");

	fd = td_raw_connect();
	td_raw_hello(fd);
	td_raw_capability(fd, 1, -1);
	td_raw_capability(fd, 2, devnull);
	td_raw_closed(fd, "a request with a descriptor");
	td_keeper_ok(&k, daemon, "a request with a descriptor");
	close(devnull);

	/* An operation the protocol does not have. */
	fd = td_raw_connect();
	td_raw_hello(fd);
	td_raw_capability(fd, 1, -1);
	td_raw_send(fd, unknown_op, sizeof(unknown_op));
	td_raw_closed(fd, "an unknown operation");
	td_keeper_ok(&k, daemon, "an unknown operation");

	/* Every connection and descriptor gone, nothing else. */
	now = td_fd_wait(daemon, before);
	ATF_CHECK_MSG(now == before, "the daemon has %d descriptors, %d "
	    "before the malformed clients", now, before);

	td_send_byte(k.cmd, 'q');
	td_wait_ok(&k, 30000, "the proper client");
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
		td_sleep_ms(200);
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

ATF_TC_WITH_CLEANUP(forked_child_cannot_operate);
TD_HEAD(forked_child_cannot_operate, "A child forked after nvmm_init "
    "cannot operate its parent's machine: EPERM")
ATF_TC_BODY(forked_child_cannot_operate, tc)
{
	struct nvmm_ctl_mach_info info;
	struct td_ioloop guest;
	struct td_child c;
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	size_t i;
	pid_t daemon;

	daemon = hd_start(NULL);
	hc_init();
	td_ioloop(&guest, 10);
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest.code,
	    guest.code + sizeof(guest.code));

	if (td_fork(&c)) {
		struct nvmm_machine own;

		C_ERRNO(EPERM, nvmm_vcpu_run(&vm.mach, &hv.vcpu));
		C_ERRNO(EPERM, nvmm_vcpu_setstate(&vm.mach, &hv.vcpu,
		    NVMM_X64_STATE_GPRS));
		C_ERRNO(EPERM, nvmm_vcpu_getstate(&vm.mach, &hv.vcpu,
		    NVMM_X64_STATE_GPRS));
		C_ERRNO(EPERM, nvmm_machine_destroy(&vm.mach));
		C_ERRNO(EPERM, td_mach_info(vm.mach.machid, &info));

		/* Its own connection does not make it the owner. */
		C_CALL(nvmm_init());
		C_CALL(nvmm_machine_create(&own));
		C_ERRNO(EPERM, nvmm_vcpu_run(&vm.mach, &hv.vcpu));
		C_ERRNO(EPERM, nvmm_machine_destroy(&vm.mach));
		C_ERRNO(EPERM, td_mach_info(vm.mach.machid, &info));
		C_CALL(nvmm_machine_destroy(&own));
		_exit(0);
	}
	td_wait_ok(&c, 30000, "the forked child");

	/* The parent's machine is whole and runs. */
	HC_REQUIRE_OK(td_mach_info(vm.mach.machid, &info));
	ATF_CHECK_EQ(info.nvcpus, 1);
	ATF_CHECK_EQ(info.pid, getpid());
	hc_run_to_halt(&hv, 100);
	ATF_CHECK_EQ_MSG(hc_dev_count(&dev, TD_IO_PORT), 10,
	    "%zu OUTs, want 10", hc_dev_count(&dev, TD_IO_PORT));
	for (i = 0; i < dev.nlog; i++)
		ATF_CHECK_EQ(dev.log[i].addr, TD_IO_PORT);
	hc_machine_destroy(&vm);
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
		if (td_now_ms() - b->start >= BESIDE_MS)
			nvmm_vcpu_stop(&beside_hv.vcpu);
		if (b->error != 0)
			continue;
		if (td_mach_info(beside_vm.mach.machid, &info) == -1)
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
	b.start = start = td_now_ms();
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
	    "beside %lu control requests: %s", (unsigned)(td_now_ms() -
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

ATF_TC_WITH_CLEANUP(sigterm_clean_shutdown);
TD_HEAD(sigterm_clean_shutdown, "SIGTERM stops nvmmd cleanly with a "
    "client inside nvmm_vcpu_run, whose run then fails")
ATF_TC_BODY(sigterm_clean_shutdown, tc)
{
	struct td_child c;
	pid_t daemon;
	int b, err;

	daemon = hd_start(NULL);
	if (td_fork(&c)) {
		struct td_vm vm;
		struct nvmm_vcpu vcpu;
		int r;

		C_CALL(nvmm_init());
		C_CHECK(td_spin_vm(&vm, &vcpu) == 0, "%s: %s", td_what,
		    strerror(errno));
		td_child_ev('R');
		errno = 0;
		r = nvmm_vcpu_run(&vm.mach, &vcpu);
		err = errno;
		C_CHECK(r == -1, "the run returned %d, exit %#jx", r,
		    (uintmax_t)vcpu.exit->reason);
		td_child_ev((uint8_t)err);
		_exit(0);
	}
	ATF_REQUIRE_EQ(td_event(&c, 30000, "ready"), 'R');
	td_sleep_ms(200);
	ATF_REQUIRE_MSG(td_recv_byte(c.ev, 0) == -1,
	    "the spinning guest's run returned before the SIGTERM");

	hd_stop(daemon);

	b = td_recv_byte(c.ev, 5000);
	if (b == -1)
		atf_tc_fail("nvmm_vcpu_run still waits 5 s after nvmmd "
		    "stopped");
	td_wait_ok(&c, 5000, "the running client");
	ATF_CHECK_MSG(b > 0, "the run failed with errno %d", b);
	printf("nvmm_vcpu_run failed with errno %d (%s)\n", b, strerror(b));
}

/* -------------------------------------------------------------------------- */

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, two_clients_isolated);
	ATF_TP_ADD_TC(tp, sigkill_in_run_cleans_up);
	ATF_TP_ADD_TC(tp, four_vcpus_and_a_mapper);
	ATF_TP_ADD_TC(tp, run_beside_control_requests);
	ATF_TP_ADD_TC(tp, stop_from_signal_handler);
	ATF_TP_ADD_TC(tp, outside_group_refused);
	ATF_TP_ADD_TC(tp, malformed_closes_only_that_connection);
	ATF_TP_ADD_TC(tp, no_syscall_hot_calls);
	ATF_TP_ADD_TC(tp, forked_child_cannot_operate);
	ATF_TP_ADD_TC(tp, sigterm_clean_shutdown);
	return atf_no_error();
}
