/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmm-bench: the table of what each path costs.  See bench.h.
 */
#include <sys/stat.h>
#include <sys/utsname.h>
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nvmm.h>

#include "bench.h"

#define MAX_WAYS	5
#define IDLE_MACHINES	16
#define IDLE_SETTLE_MS	500
#define IDLE_WINDOW_MS	2000

/* One path: its ways, the first the baseline, measured in rounds. */
struct path {
	const char *key;		/* for -p */
	const char *title;
	unsigned samples;		/* per way, in all */
	unsigned rounds;
	struct bench_way ways[MAX_WAYS];
	uint64_t median[MAX_WAYS], p99[MAX_WAYS];
	bool ok[MAX_WAYS];
	bool selected;
};

#define EXIT_WAY(b, g)	{ .backend = &(b), .guest = (g), \
	.setup = bench_exits_setup, .round = bench_exits_round, \
	.teardown = bench_vm_teardown }
#define EXIT_WAYS(g)	{ EXIT_WAY(bench_kvm, g), EXIT_WAY(bench_kvm_nvmm, g), \
	EXIT_WAY(bench_kern, g), EXIT_WAY(bench_kvm_remote, g), \
	EXIT_WAY(bench_client, g) }
#define STOP_WAY(b)	{ .backend = &(b), \
	.setup = bench_stop_setup, .round = bench_stop_round, \
	.teardown = bench_stop_teardown }
#define LIFE_WAY(b)	{ .backend = &(b), \
	.round = bench_lifecycle_round }
/*
 * KVM counts the host's VCPUs in a static key (kvm_create_lapic): making
 * the first one and destroying the last patch the kernel's code on every
 * CPU, 250-450 us here, which whichever way of the create path crosses
 * zero pays, depending on what else runs on the host.  The baseline's way
 * holds a VM with a VCPU while the path runs, so that every way is
 * measured as on a host that runs guests.
 */
#define LIFE_BASE_WAY	{ .backend = &bench_kvm, \
	.guest = BENCH_GUEST_OUT, .setup = bench_exits_setup, \
	.round = bench_lifecycle_round, .teardown = bench_vm_teardown }

static struct path paths[] = {
	{ .key = "io-out", .title = "IO exit, OUT", .samples = 20000,
	  .rounds = 20, .ways = EXIT_WAYS(BENCH_GUEST_OUT) },
	{ .key = "io-in", .title = "IO exit, IN", .samples = 20000,
	  .rounds = 20, .ways = EXIT_WAYS(BENCH_GUEST_IN) },
	{ .key = "mmio-write", .title = "MMIO write, assist_mem",
	  .samples = 20000, .rounds = 20,
	  .ways = EXIT_WAYS(BENCH_GUEST_MMIO_WRITE) },
	{ .key = "mmio-read", .title = "MMIO read, assist_mem",
	  .samples = 20000, .rounds = 20,
	  .ways = EXIT_WAYS(BENCH_GUEST_MMIO_READ) },
	{ .key = "stop", .title = "stop to the run's return", .samples = 300,
	  .rounds = 10, .ways = { STOP_WAY(bench_kvm), STOP_WAY(bench_kern),
	  STOP_WAY(bench_client) } },
	{ .key = "rpc", .title = "control request", .samples = 5000,
	  .rounds = 10, .ways = {
	  { .name = "socketpair ping-pong", .setup = bench_pingpong_setup,
	    .round = bench_pingpong_round,
	    .teardown = bench_pingpong_teardown },
	  { .name = "nvmm_ctl MACH_INFO", .setup = bench_ctl_setup,
	    .round = bench_ctl_round, .teardown = bench_ctl_teardown } } },
	{ .key = "create", .title = "machine+VCPU create, destroy",
	  .samples = 1000, .rounds = 10, .ways = { LIFE_BASE_WAY,
	  LIFE_WAY(bench_kern), LIFE_WAY(bench_client) } },
	{ .key = "connect", .title = "connect, hello, close",
	  .samples = 2000, .rounds = 10, .ways = {
	  { .name = "socketpair+fork+wait", .round = bench_forkwait_round },
	  { .name = "nvmm_rpc_open+close", .round = bench_connect_round } } },
};
#define NPATHS	(sizeof(paths) / sizeof(paths[0]))

static const char *nvmmd_path = "nvmmd/nvmmd";
static unsigned scale_down = 1;		/* -q: a tenth of the samples */
static bool want_idle = true;

/* -------------------------------------------------------------------------- */

int
bench_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	return -1;
}

int
bench_failx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	return -1;
}

/* What each of n things added, from before to after; 0 for a fall. */
uint64_t
bench_growth(uint64_t before, uint64_t after, unsigned n)
{
	return (after > before ? after - before : 0) / n;
}

static size_t
path_nways(const struct path *p)
{
	size_t n = 0;

	while (n < MAX_WAYS && p->ways[n].round != NULL)
		n++;
	return n;
}

static const char *
way_name(const struct bench_way *w)
{
	return w->name != NULL ? w->name : w->backend->name;
}

static int
ns_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median and p99 (nearest rank) of n samples, sorted in place. */
static void
stats(uint64_t *ns, unsigned n, uint64_t *median, uint64_t *p99)
{
	qsort(ns, n, sizeof(ns[0]), ns_cmp);
	*median = ns[(n - 1) / 2];
	*p99 = ns[((size_t)n * 99 + 99) / 100 - 1];
}

/* -------------------------------------------------------------------------- */

/*
 * Sets every way up and warms it with one round; then the rounds go
 * a, b, c, a, b, c, ... so that whatever the host does falls on all.
 */
static void
path_measure(struct path *p, uint64_t **ns, unsigned per_round,
    unsigned rounds)
{
	size_t nways = path_nways(p), i;
	bool ready[MAX_WAYS];
	unsigned r;

	for (i = 0; i < nways; i++) {
		ready[i] = (p->ways[i].setup == NULL ||
		    p->ways[i].setup(&p->ways[i]) == 0) &&
		    p->ways[i].round(&p->ways[i], per_round, ns[i]) == 0;
		if (!ready[i])
			bench_failx("%s, %s: set-up or warm-up failed",
			    p->title, way_name(&p->ways[i]));
		p->ok[i] = ready[i];
	}
	for (r = 0; r < rounds; r++)
		for (i = 0; i < nways; i++)
			if (p->ok[i] && p->ways[i].round(&p->ways[i],
			    per_round, ns[i] + (size_t)r * per_round) == -1)
				p->ok[i] = false;
	for (i = 0; i < nways; i++) {
		if (p->ok[i])
			stats(ns[i], per_round * rounds, &p->median[i],
			    &p->p99[i]);
		if (p->ways[i].teardown != NULL)
			p->ways[i].teardown(&p->ways[i]);
	}
}

/* Returns 0 when every way of the path was measured. */
static int
path_run(struct path *p)
{
	unsigned rounds = p->rounds, per_round;
	uint64_t *ns[MAX_WAYS] = { NULL };
	size_t nways = path_nways(p), i;
	int status = 0;

	per_round = p->samples / scale_down / rounds;
	if (per_round == 0)
		per_round = 1;
	p->samples = per_round * rounds;
	for (i = 0; i < nways; i++)
		if ((ns[i] = calloc(p->samples, sizeof(uint64_t))) == NULL)
			err(1, "calloc");
	path_measure(p, ns, per_round, rounds);
	for (i = 0; i < nways; i++) {
		if (!p->ok[i])
			status = -1;
		free(ns[i]);
	}
	return status;
}

/* -------------------------------------------------------------------------- */

static void
host_line(void)
{
	char line[256], model[128] = "unknown CPU";
	const char *module = "no KVM module found";
	struct utsname u;
	struct stat st;
	FILE *f;

	if ((f = fopen("/proc/cpuinfo", "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "model name : %127[^\n]", model) == 1)
				break;
		fclose(f);
	}
	if (stat("/sys/module/kvm_pvm", &st) == 0)
		module = "kvm_pvm (no hardware virtualisation)";
	else if (stat("/sys/module/kvm_intel", &st) == 0)
		module = "kvm_intel";
	else if (stat("/sys/module/kvm_amd", &st) == 0)
		module = "kvm_amd";
	uname(&u);
	printf("nvmm-bench: host %s %s, %s, %ld CPUs, %s\n", u.sysname,
	    u.release, model, sysconf(_SC_NPROCESSORS_ONLN), module);
}

static void
print_paths(void)
{
	const struct path *p;
	size_t i, k;

	printf("nvmm-bench: the ways of a path run in interleaved rounds; "
	    "times in us; ratios to the path's first way\n\n");
	printf("%-30s %-24s %6s %9s %9s %8s %8s\n", "path", "way", "N",
	    "median", "p99", "med/base", "p99/base");
	for (k = 0; k < NPATHS; k++) {
		p = &paths[k];
		if (!p->selected)
			continue;
		for (i = 0; i < path_nways(p); i++) {
			printf("%-30s %-24s %6u", i == 0 ? p->title : "",
			    way_name(&p->ways[i]), p->samples);
			if (!p->ok[i])
				printf(" %9s\n", "FAILED");
			else if (!p->ok[0])
				printf(" %9.2f %9.2f %8s %8s\n",
				    p->median[i] / 1e3, p->p99[i] / 1e3, "-",
				    "-");
			else
				printf(" %9.2f %9.2f %8.2f %8.2f\n",
				    p->median[i] / 1e3, p->p99[i] / 1e3,
				    (double)p->median[i] / (double)p->median[0],
				    (double)p->p99[i] / (double)p->p99[0]);
		}
	}
}

/* -------------------------------------------------------------------------- */

struct idle {
	struct nvmm_machine mach[IDLE_MACHINES];
	struct nvmm_vcpu vcpu[IDLE_MACHINES];
	unsigned made;
};

static void
sleep_ms(unsigned ms)
{
	const struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * The daemon's memory per idle 1-VCPU machine (guest RAM apart, which
 * is the emulator's), and its CPU time while they all sit idle.
 */
static int
idle_measure(void)
{
	static struct idle idle;
	struct bench_mem m0, m1;
	uint64_t cpu0, cpu1, sl0, sl1;
	unsigned i;
	int status = -1;

	if (nvmm_init() == -1)
		return bench_fail("libnvmmclient: nvmm_init");
	if (bench_daemon_mem(&m0) == -1)
		return -1;
	for (; idle.made < IDLE_MACHINES; idle.made++) {
		i = idle.made;
		if (nvmm_machine_create(&idle.mach[i]) == -1 ||
		    nvmm_vcpu_create(&idle.mach[i], 0, &idle.vcpu[i]) == -1) {
			bench_fail("libnvmmclient: idle machine %u", i);
			goto out;
		}
	}
	sleep_ms(IDLE_SETTLE_MS);
	if (bench_daemon_mem(&m1) == -1 ||
	    bench_daemon_cpu(&cpu0, &sl0) == -1)
		goto out;
	sleep_ms(IDLE_WINDOW_MS);
	if (bench_daemon_cpu(&cpu1, &sl1) == -1)
		goto out;
	printf("\n%-30s %6ju KiB  (%u machines, %ju KiB before, %ju after)\n",
	    "daemon RSS per idle machine",
	    (uintmax_t)bench_growth(m0.rss_kib, m1.rss_kib, IDLE_MACHINES),
	    IDLE_MACHINES, (uintmax_t)m0.rss_kib, (uintmax_t)m1.rss_kib);
	printf("%-30s %6.3f ms in %.1f s, scheduled %ju times "
	    "(%u idle machines)\n", "daemon CPU while idle",
	    (double)(cpu1 - cpu0) / 1e6, IDLE_WINDOW_MS / 1e3,
	    (uintmax_t)(sl1 - sl0), IDLE_MACHINES);
	status = 0;
out:
	for (i = 0; i < idle.made; i++)
		nvmm_machine_destroy(&idle.mach[i]);
	idle.made = 0;
	return status;
}

/* -------------------------------------------------------------------------- */

static void __attribute__((noreturn))
usage(int status)
{
	size_t k;

	fprintf(status ? stderr : stdout,
	    "usage: nvmm-bench [-hq] [-d nvmmd] [-p path,...]\n"
	    "  -d  the nvmmd to start (default nvmmd/nvmmd)\n"
	    "  -p  only these paths, and no idle or per-owner figures:");
	for (k = 0; k < NPATHS; k++)
		fprintf(status ? stderr : stdout, " %s", paths[k].key);
	fprintf(status ? stderr : stdout,
	    "\n  -q  quick: a tenth of the samples\n");
	exit(status);
}

static void
select_paths(char *list)
{
	char *key;
	size_t k;

	want_idle = false;
	while ((key = strsep(&list, ",")) != NULL) {
		for (k = 0; k < NPATHS; k++)
			if (strcmp(key, paths[k].key) == 0)
				break;
		if (k == NPATHS) {
			warnx("no path %s", key);
			usage(2);
		}
		paths[k].selected = true;
	}
}

static void
parse_options(int argc, char **argv)
{
	bool chosen = false;
	size_t k;
	int ch;

	while ((ch = getopt(argc, argv, "d:hp:q")) != -1) {
		switch (ch) {
		case 'd':
			nvmmd_path = optarg;
			break;
		case 'h':
			usage(0);
		case 'p':
			select_paths(optarg);
			chosen = true;
			break;
		case 'q':
			scale_down = 10;
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	for (k = 0; !chosen && k < NPATHS; k++)
		paths[k].selected = true;
}

int
main(int argc, char **argv)
{
	int status = 0;
	size_t k;

	parse_options(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	host_line();
	if (bench_daemon_start(nvmmd_path) == -1)
		status = 1;
	for (k = 0; k < NPATHS; k++)
		if (paths[k].selected && path_run(&paths[k]) == -1)
			status = 1;
	print_paths();
	if (want_idle && status == 0 && (idle_measure() == -1 ||
	    bench_owners_measure() == -1))
		status = 1;
	if (bench_daemon_stop() == -1)
		status = 1;
	return status;
}
