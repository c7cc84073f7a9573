/*
 * bench_exits: what an exit costs through kernel/ and through nvmmd,
 * against KVM itself.
 *
 * One exit-heavy real-mode guest (an OUT in a loop of N, then HLT) is run
 * three ways in one process:
 *	(a) /dev/kvm directly, KVM finishing each OUT as it re-enters;
 *	(b) kernel/ in-process, each OUT handled as an assist does;
 *	(c) libnvmmclient through an nvmmd started on a private socket,
 *	    each OUT handled by nvmm_assist_io().
 * Each iteration of the emulator's loop, the run call and the handling of
 * its exit, is timed with CLOCK_MONOTONIC.  The table gives the median and
 * p99 per exit and their ratios to (a): absolute times depend on the host
 * (on PVM the guest is emulated), the ratios are what this measures.
 */
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nvmm.h>

#include "nvmm_kern.h"

#define GUEST_RAM	0x10000
#define GUEST_CODE	0x1000
#define GUEST_PORT	0x80
#define N_DEFAULT	20000
#define N_MAX		65535	/* the loop counts in CX */
#define WARMUP_MAX	2000
#define DAEMON_WAIT_MS	5000

/*
 * 1:	out %al,$0x80 ; dec %cx ; jnz 1b
 *	hlt
 */
static const uint8_t guest[] = { 0xE6, 0x80, 0x49, 0x75, 0xFB, 0xF4 };

/* What one iteration of an emulator's loop saw. */
enum step {
	STEP_IO,	/* the OUT, handled */
	STEP_HALT,	/* the HLT at the end */
	STEP_OTHER,	/* nothing for the emulator (a signal): run on */
	STEP_FAIL,	/* an error, already reported */
};

/* One way of running the guest. */
struct way {
	const char *name;
	int (*setup)(void);
	int (*start)(unsigned n);	/* CS:IP at the code, CX = n */
	enum step (*step)(void);
	bool ready, ok;			/* set up and warm; measured */
	uint64_t median, p99;		/* ns per exit */
};

static unsigned bench_n = N_DEFAULT;

/* Reports what failed, with errno's message; returns -1. */
static int __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	return -1;
}

/* -------------------------------------------------------------------------- */
/* (a) raw KVM */

static struct {
	int kvm, vm, vcpu;
	struct kvm_run *run;
} raw;

/* An ioctl whose failure is reported; returns its result or -1. */
static int
raw_ioctl(int fd, unsigned long req, void *arg, const char *what)
{
	int ret;

	if ((ret = ioctl(fd, req, arg)) == -1)
		warn("raw KVM: %s", what);
	return ret;
}

static int
raw_setup(void)
{
	struct kvm_userspace_memory_region region;
	uint8_t *ram;
	int size;

	if ((raw.kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) == -1)
		return fail("raw KVM: /dev/kvm");
	if ((raw.vm = raw_ioctl(raw.kvm, KVM_CREATE_VM, 0,
	    "KVM_CREATE_VM")) == -1)
		return -1;
	ram = mmap(NULL, GUEST_RAM, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return fail("raw KVM: mmap");
	memcpy(ram + GUEST_CODE, guest, sizeof(guest));
	memset(&region, 0, sizeof(region));
	region.memory_size = GUEST_RAM;
	region.userspace_addr = (uintptr_t)ram;
	if (raw_ioctl(raw.vm, KVM_SET_USER_MEMORY_REGION, &region,
	    "KVM_SET_USER_MEMORY_REGION") == -1 ||
	    (raw.vcpu = raw_ioctl(raw.vm, KVM_CREATE_VCPU, 0,
	    "KVM_CREATE_VCPU")) == -1 ||
	    (size = raw_ioctl(raw.kvm, KVM_GET_VCPU_MMAP_SIZE, 0,
	    "KVM_GET_VCPU_MMAP_SIZE")) == -1)
		return -1;
	raw.run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    raw.vcpu, 0);
	if (raw.run == MAP_FAILED)
		return fail("raw KVM: mmap kvm_run");
	return 0;
}

static int
raw_start(unsigned n)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (raw_ioctl(raw.vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS") == -1)
		return -1;
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	memset(&regs, 0, sizeof(regs));
	regs.rip = GUEST_CODE;
	regs.rcx = n;
	regs.rflags = 0x2;
	if (raw_ioctl(raw.vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS") == -1 ||
	    raw_ioctl(raw.vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS") == -1)
		return -1;
	return 0;
}

static enum step
raw_step(void)
{
	if (ioctl(raw.vcpu, KVM_RUN, 0) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return STEP_OTHER;
		warn("raw KVM: KVM_RUN");
		return STEP_FAIL;
	}
	switch (raw.run->exit_reason) {
	case KVM_EXIT_IO:
		if (raw.run->io.direction != KVM_EXIT_IO_OUT ||
		    raw.run->io.port != GUEST_PORT)
			break;
		/* KVM finishes the OUT as it enters the guest again. */
		return STEP_IO;
	case KVM_EXIT_HLT:
		return STEP_HALT;
	case KVM_EXIT_INTR:
		return STEP_OTHER;
	}
	warnx("raw KVM: unexpected exit %u", raw.run->exit_reason);
	return STEP_FAIL;
}

/* -------------------------------------------------------------------------- */
/* (b) kernel/ in-process */

static struct {
	struct nvmm_owner *owner;
	nvmm_machid_t machid;
	struct nvmm_comm_page *comm;
	struct nvmm_kern_access *access;
	struct nvmm_vcpu_exit exit;
} kern;

static int
kern_fail(const char *what, int error)
{
	warnx("kernel/: %s: %s", what, strerror(error));
	return -1;
}

/* Guest RAM as kernel/ wants it: a sealed memfd, mapped here. */
static int
kern_memory(void)
{
	uint8_t *ram;
	int fd, error;

	fd = memfd_create("bench_exits", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1 || ftruncate(fd, GUEST_RAM) == -1 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == -1)
		return kern_fail("memfd", errno);
	ram = mmap(NULL, GUEST_RAM, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ram == MAP_FAILED)
		return kern_fail("mmap", errno);
	memcpy(ram + GUEST_CODE, guest, sizeof(guest));
	error = nvmm_kern_hva_map(kern.owner, kern.machid, (uintptr_t)ram,
	    GUEST_RAM, fd, 0);
	close(fd);	/* kernel/ does not keep it */
	if (error)
		return kern_fail("hva_map", error);
	if ((error = nvmm_kern_gpa_map(kern.owner, kern.machid, (uintptr_t)ram,
	    0, GUEST_RAM, PROT_READ | PROT_WRITE | PROT_EXEC)) != 0)
		return kern_fail("gpa_map", error);
	return 0;
}

static int
kern_setup(void)
{
	int error;

	if ((error = nvmm_kern_open(&kern.owner, getpid(), false)) != 0)
		return kern_fail("open", error);
	if ((error = nvmm_kern_machine_create(kern.owner, &kern.machid)) != 0)
		return kern_fail("machine_create", error);
	if (kern_memory() == -1)
		return -1;
	if ((error = nvmm_kern_vcpu_create(kern.owner, kern.machid, 0)) != 0)
		return kern_fail("vcpu_create", error);
	if ((error = nvmm_kern_vcpu_comm(kern.owner, kern.machid, 0,
	    &kern.comm, &kern.access, NULL)) != 0)
		return kern_fail("vcpu_comm", error);
	return 0;
}

static int
kern_start(unsigned n)
{
	const uint64_t flags = NVMM_X64_STATE_SEGS | NVMM_X64_STATE_GPRS;
	struct nvmm_x64_state *st = &kern.comm->state;
	int error;

	kern.comm->state_wanted = flags;
	if ((error = nvmm_kern_vcpu_getstate(kern.owner, kern.machid, 0)) != 0)
		return kern_fail("getstate", error);
	st->segs[NVMM_X64_SEG_CS].selector = 0;
	st->segs[NVMM_X64_SEG_CS].base = 0;
	st->gprs[NVMM_X64_GPR_RIP] = GUEST_CODE;
	st->gprs[NVMM_X64_GPR_RCX] = n;
	kern.comm->state_commit |= flags;
	kern.comm->state_cached |= flags;
	return 0;
}

static enum step
kern_step(void)
{
	const struct nvmm_x86_exit_io *io = &kern.exit.u.io;
	int error;

	error = nvmm_kern_vcpu_run(kern.owner, kern.machid, 0, &kern.exit);
	if (error) {
		kern_fail("vcpu_run", error);
		return STEP_FAIL;
	}
	switch (kern.exit.reason) {
	case NVMM_VCPU_EXIT_IO:
		if (io->in || io->port != GUEST_PORT || !kern.access->pending)
			break;
		/* What an assist does for an OUT; KVM finishes it. */
		kern.access->handled = 1;
		kern.comm->state.gprs[NVMM_X64_GPR_RIP] = io->npc;
		return STEP_IO;
	case NVMM_VCPU_EXIT_HALTED:
		return STEP_HALT;
	case NVMM_VCPU_EXIT_NONE:
		return STEP_OTHER;
	}
	warnx("kernel/: unexpected exit %#jx", (uintmax_t)kern.exit.reason);
	return STEP_FAIL;
}

/* -------------------------------------------------------------------------- */
/* (c) libnvmmclient through nvmmd */

static struct {
	const char *path;	/* the nvmmd to start */
	char dir[64];		/* private: its socket and its log */
	char sock[128];
	char log[128];
	pid_t pid;
	bool keep_log;		/* something failed: leave the log */
} nvmmd = { .path = "nvmmd/nvmmd", .pid = -1 };

static struct {
	struct nvmm_machine mach;
	struct nvmm_vcpu vcpu;
	bool made;		/* the machine exists */
} client;

static void
daemon_failed(const char *why)
{
	warnx("nvmmd %s; its log is %s", why, nvmmd.log);
	nvmmd.keep_log = true;
}

/* Until nvmmd accepts a connection on its socket. */
static int
daemon_wait(void)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	struct sockaddr_un sun;
	unsigned ms;
	int fd, ret, status;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, nvmmd.sock);
	for (ms = 0; ms < DAEMON_WAIT_MS; ms += 10) {
		if (waitpid(nvmmd.pid, &status, WNOHANG) == nvmmd.pid) {
			nvmmd.pid = -1;
			daemon_failed("exited before listening");
			return -1;
		}
		if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) ==
		    -1)
			return fail("socket");
		ret = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
		close(fd);
		if (ret == 0)
			return 0;
		nanosleep(&tick, NULL);
	}
	daemon_failed("does not listen");
	return -1;
}

/* nvmmd -f -s SOCK, its output in its log, and NVMM_SOCKET set. */
static int
daemon_start(void)
{
	int logfd;

	if (access(nvmmd.path, X_OK) == -1)
		return fail("%s (give nvmmd's path with -d)", nvmmd.path);
	strcpy(nvmmd.dir, "/tmp/bench_exits.XXXXXX");
	if (mkdtemp(nvmmd.dir) == NULL) {
		nvmmd.dir[0] = '\0';
		return fail("mkdtemp");
	}
	snprintf(nvmmd.sock, sizeof(nvmmd.sock), "%s/sock", nvmmd.dir);
	snprintf(nvmmd.log, sizeof(nvmmd.log), "%s/nvmmd.log", nvmmd.dir);
	if ((logfd = open(nvmmd.log, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) == -1)
		return fail("%s", nvmmd.log);
	if ((nvmmd.pid = fork()) == -1) {
		close(logfd);
		return fail("fork");
	}
	if (nvmmd.pid == 0) {
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		execl(nvmmd.path, nvmmd.path, "-f", "-s", nvmmd.sock,
		    (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", nvmmd.path, strerror(errno));
		_exit(127);
	}
	close(logfd);
	if (daemon_wait() == -1)
		return -1;
	return setenv("NVMM_SOCKET", nvmmd.sock, 1);
}

/* SIGTERM and a bounded wait; -1 unless it ended with status 0. */
static int
daemon_stop(void)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	unsigned ms;
	int status = 0;

	if (nvmmd.pid != -1) {
		kill(nvmmd.pid, SIGTERM);
		for (ms = 0; waitpid(nvmmd.pid, &status, WNOHANG) == 0 &&
		    ms < DAEMON_WAIT_MS; ms += 10)
			nanosleep(&tick, NULL);
		if (ms >= DAEMON_WAIT_MS) {
			kill(nvmmd.pid, SIGKILL);
			waitpid(nvmmd.pid, &status, 0);
		}
		nvmmd.pid = -1;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			daemon_failed("did not end cleanly on SIGTERM");
	}
	if (nvmmd.dir[0] != '\0' && !nvmmd.keep_log) {
		unlink(nvmmd.log);
		unlink(nvmmd.sock);
		rmdir(nvmmd.dir);
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void
client_io(struct nvmm_io *io)
{
	(void)io;
}

static int
client_setup(void)
{
	static struct nvmm_assist_callbacks cbs = { client_io, NULL };
	uint8_t *ram;

	if (daemon_start() == -1)
		return -1;
	if (nvmm_init() == -1 || nvmm_machine_create(&client.mach) == -1)
		return fail("libnvmmclient: nvmm_init/nvmm_machine_create");
	client.made = true;
	ram = mmap(NULL, GUEST_RAM, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return fail("libnvmmclient: mmap");
	if (nvmm_hva_map(&client.mach, (uintptr_t)ram, GUEST_RAM) == -1 ||
	    nvmm_gpa_map(&client.mach, (uintptr_t)ram, 0, GUEST_RAM,
	    PROT_READ | PROT_WRITE | PROT_EXEC) == -1)
		return fail("libnvmmclient: nvmm_hva_map/nvmm_gpa_map");
	/* hva_map put shared memory in place of ours: load the code now. */
	memcpy(ram + GUEST_CODE, guest, sizeof(guest));
	if (nvmm_vcpu_create(&client.mach, 0, &client.vcpu) == -1 ||
	    nvmm_vcpu_configure(&client.mach, &client.vcpu,
	    NVMM_VCPU_CONF_CALLBACKS, &cbs) == -1)
		return fail("libnvmmclient: nvmm_vcpu_create/configure");
	return 0;
}

static int
client_start(unsigned n)
{
	const uint64_t flags = NVMM_X64_STATE_SEGS | NVMM_X64_STATE_GPRS;
	struct nvmm_x64_state *st;

	if (nvmm_vcpu_getstate(&client.mach, &client.vcpu, flags) == -1)
		return fail("libnvmmclient: nvmm_vcpu_getstate");
	st = client.vcpu.state;
	st->segs[NVMM_X64_SEG_CS].selector = 0;
	st->segs[NVMM_X64_SEG_CS].base = 0;
	st->gprs[NVMM_X64_GPR_RIP] = GUEST_CODE;
	st->gprs[NVMM_X64_GPR_RCX] = n;
	if (nvmm_vcpu_setstate(&client.mach, &client.vcpu, flags) == -1)
		return fail("libnvmmclient: nvmm_vcpu_setstate");
	return 0;
}

static enum step
client_step(void)
{
	const struct nvmm_vcpu_exit *exit = client.vcpu.exit;

	if (nvmm_vcpu_run(&client.mach, &client.vcpu) == -1) {
		warn("libnvmmclient: nvmm_vcpu_run");
		return STEP_FAIL;
	}
	switch (exit->reason) {
	case NVMM_VCPU_EXIT_IO:
		if (exit->u.io.in || exit->u.io.port != GUEST_PORT)
			break;
		if (nvmm_assist_io(&client.mach, &client.vcpu) == -1) {
			warn("libnvmmclient: nvmm_assist_io");
			return STEP_FAIL;
		}
		return STEP_IO;
	case NVMM_VCPU_EXIT_HALTED:
		return STEP_HALT;
	case NVMM_VCPU_EXIT_NONE:
		return STEP_OTHER;
	}
	warnx("libnvmmclient: unexpected exit %#jx", (uintmax_t)exit->reason);
	return STEP_FAIL;
}

static void
client_teardown(void)
{
	if (client.made && nvmm_machine_destroy(&client.mach) == -1)
		warn("libnvmmclient: nvmm_machine_destroy");
}

/* -------------------------------------------------------------------------- */
/* Measuring */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Runs the guest, n iterations, to its HLT; ns[i]: the i-th OUT exit. */
static int
way_run(const struct way *w, unsigned n, uint64_t *ns)
{
	uint64_t t0;
	unsigned io = 0, other = 0;

	if (w->start(n) == -1)
		return -1;
	for (;;) {
		t0 = now_ns();
		switch (w->step()) {
		case STEP_IO:
			if (io == n) {
				warnx("%s: more than %u OUT exits", w->name, n);
				return -1;
			}
			ns[io++] = now_ns() - t0;
			break;
		case STEP_HALT:
			if (io == n)
				return 0;
			warnx("%s: HLT after %u OUT exits of %u", w->name,
			    io, n);
			return -1;
		case STEP_OTHER:
			if (++other > n) {
				warnx("%s: the guest makes no progress",
				    w->name);
				return -1;
			}
			break;
		case STEP_FAIL:
			return -1;
		}
	}
}

static int
ns_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median and p99 (nearest rank) of n samples, sorted in place. */
static void
way_stats(struct way *w, uint64_t *ns, unsigned n)
{
	qsort(ns, n, sizeof(ns[0]), ns_cmp);
	w->median = ns[(n - 1) / 2];
	w->p99 = ns[((size_t)n * 99 + 99) / 100 - 1];
}

static void
print_table(const struct way *ways, size_t nways, unsigned warmup)
{
	const struct way *a = &ways[0];
	size_t i;

	printf("bench_exits: %u OUT exits per way, after %u of warm-up; "
	    "time per exit = run call + exit handling\n", bench_n, warmup);
	printf("%-27s %6s %11s %9s %11s %9s\n", "way", "N", "median(us)",
	    "p99(us)", "median/(a)", "p99/(a)");
	for (i = 0; i < nways; i++) {
		printf("%-27s %6u", ways[i].name, bench_n);
		if (!ways[i].ok)
			printf(" %11s\n", "FAILED");
		else if (!a->ok)
			printf(" %11.2f %9.2f %11s %9s\n",
			    ways[i].median / 1e3, ways[i].p99 / 1e3, "-", "-");
		else
			printf(" %11.2f %9.2f %11.2f %9.2f\n",
			    ways[i].median / 1e3, ways[i].p99 / 1e3,
			    (double)ways[i].median / (double)a->median,
			    (double)ways[i].p99 / (double)a->p99);
	}
}

/* -------------------------------------------------------------------------- */

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: bench_exits [-h] [-n exits] [-d nvmmd]\n"
	    "  -n  OUT exits per way, 1..%u (default %u)\n"
	    "  -d  the nvmmd to start (default nvmmd/nvmmd)\n",
	    N_MAX, N_DEFAULT);
	exit(status);
}

static void
parse_options(int argc, char **argv)
{
	unsigned long n;
	char *end;
	int ch;

	while ((ch = getopt(argc, argv, "d:hn:")) != -1) {
		switch (ch) {
		case 'd':
			nvmmd.path = optarg;
			break;
		case 'h':
			usage(0);
		case 'n':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end != '\0' || n == 0 || n > N_MAX)
				usage(2);
			bench_n = (unsigned)n;
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
}

int
main(int argc, char **argv)
{
	struct way ways[] = {
		{ .name = "(a) raw KVM in-process", .setup = raw_setup,
		  .start = raw_start, .step = raw_step },
		{ .name = "(b) kernel/ in-process", .setup = kern_setup,
		  .start = kern_start, .step = kern_step },
		{ .name = "(c) libnvmmclient + nvmmd", .setup = client_setup,
		  .start = client_start, .step = client_step },
	};
	const size_t nways = sizeof(ways) / sizeof(ways[0]);
	unsigned warmup;
	uint64_t *ns;
	size_t i;
	int status = 0;

	parse_options(argc, argv);
	warmup = bench_n < WARMUP_MAX ? bench_n : WARMUP_MAX;
	if ((ns = calloc(bench_n, sizeof(*ns))) == NULL)
		err(1, "calloc");
	for (i = 0; i < nways; i++) {
		ways[i].ready = ways[i].setup() == 0 &&
		    way_run(&ways[i], warmup, ns) == 0;
		if (!ways[i].ready) {
			warnx("%s: set-up or warm-up failed", ways[i].name);
			status = 1;
		}
	}
	for (i = 0; i < nways; i++) {
		if (!ways[i].ready)
			continue;
		if ((ways[i].ok = way_run(&ways[i], bench_n, ns) == 0))
			way_stats(&ways[i], ns, bench_n);
		else
			status = 1;
	}
	/* (a) and (b) go with the process; nvmmd's machine goes first. */
	client_teardown();
	if (daemon_stop() == -1)
		status = 1;
	free(ns);
	print_table(ways, nways, warmup);
	return status;
}
