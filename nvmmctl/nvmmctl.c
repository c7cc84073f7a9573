/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmmctl: NetBSD's nvmmctl(8) for nvmmd, plus what an operator needs of
 * a daemon: identify, list, info, stats, metrics, kill and shutdown, in
 * text or JSON, and help.
 * Options may come anywhere; errors are one line each, with the exit
 * statuses of nvmmctl(8).
 *
 * It looks with the monitor role, which changes nothing (and, unlike the
 * root owner, takes no machine with it when it disconnects), and kills
 * and shuts down with the admin role.
 */
#include <bsd/err.h>
#include <bsd/stdlib.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <config.h>
#include <nvmm.h>

#include "nvmm_rpc.h"
#include "nvmmctl.h"

/* nvmmctl(8) EXIT STATUS. */
#define EXIT_USAGE	2	/* the command line is wrong */
#define EXIT_DAEMON	3	/* no nvmmd to ask, or one that cannot answer */
#define EXIT_DENIED	4	/* nvmmd refuses this user the role */

/* Machine ids are bits of NVMM_CTL_MACH_LIST's bitmap. */
#define MAX_MACHINES \
	(sizeof(((struct nvmm_ctl_mach_list *)0)->machids) * CHAR_BIT)

static int	cmd_identify(int, char **);
static int	cmd_list(int, char **);
static int	cmd_info(int, char **);
static int	cmd_stats(int, char **);
static int	cmd_metrics(int, char **);
static int	cmd_kill(int, char **);
static int	cmd_shutdown(int, char **);
static int	cmd_help(int, char **);

/* What dispatches a command also says how to call it, as vmctl's table. */
static const struct command {
	const char *name;
	const char *args;	/* its synopsis; "": it takes no arguments */
	int (*fn)(int, char **);
	bool json;		/* it can answer in JSON */
	bool interval;		/* it takes -i seconds and -c count */
	const char *descr;	/* what it does, for help */
} commands[] = {
	{ "identify", "", cmd_identify, true, false,
	    "show the capability of this host's NVMM" },
	{ "list", "", cmd_list, true, false, "list the machines" },
	{ "info", "machine-id", cmd_info, true, false,
	    "show a machine and its VCPUs' statistics" },
	{ "stats", "", cmd_stats, true, true,
	    "every machine's VCPUs: totals, or rates every -i seconds" },
	{ "metrics", "", cmd_metrics, false, false,
	    "print nvmmd's metrics in Prometheus's text format" },
	{ "kill", "machine-id ...", cmd_kill, false, false,
	    "destroy machines (the admin role)" },
	{ "shutdown", "", cmd_shutdown, false, false,
	    "end every guest and nvmmd (the admin role)" },
	{ "help", "[command]", cmd_help, false, false,
	    "show the usage, or a command's" },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

/* stats -i: at most an hour, at least what a timer can do well. */
#define INTERVAL_MIN	0.01
#define INTERVAL_MAX	3600.0

static const char *socket_path;
static bool json;
static double interval;		/* stats -i; 0: totals once */
static long count;		/* stats -c; 0: until SIGINT */
static volatile sig_atomic_t interrupted;
static struct nvmm_rpc rpc = NVMM_RPC_INITIALIZER;

static void
usage_line(FILE *f, const struct command *c, const char *lead)
{
	fprintf(f, "%-6s nvmmctl [-s socket] %s%s%s%s%s\n", lead,
	    c->json ? "[--json] " : "",
	    c->interval ? "[-i seconds [-c count]] " : "", c->name,
	    *c->args ? " " : "", c->args);
}

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status ? stderr : stdout;
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		usage_line(f, &commands[i], i == 0 ? "usage:" : "");
	fprintf(f, "%-6s nvmmctl --version\n", "");
	exit(status);
}

/* A usage error, in one line that says what is wrong; nothing is asked. */
static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	exit(EXIT_USAGE);
}

static const struct command *
command_find(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

static void __attribute__((noreturn))
command_help(const struct command *c)
{
	usage_line(stdout, c, "usage:");
	printf("%-6s %s\n", "", c->descr);
	exit(0);
}

/* -------------------------------------------------------------------------- */

/* what: the command, for an error that says what needed the role. */
static void
connect_as(Nvmm__Role role, const char *what)
{
	struct nvmm_rpc_why why;
	char line[512];
	int error;

	error = nvmm_rpc_open_why(&rpc, socket_path, role, &why);
	if (error == 0)
		return;
	nvmm_rpc_explain(line, sizeof(line), error, socket_path, role, &why,
	    getprogname(), what);
	errx(error == EACCES ? EXIT_DENIED : EXIT_DAEMON, "%s", line);
}

/* One ctl op; returns 0 or the errno the daemon gave.  A daemon gone ends. */
static int
ctl(int op, void *data, size_t size)
{
	int error;

	error = nvmm_rpc_ctl(&rpc, op, data, size);
	if (error == ENXIO)
		errx(EXIT_DAEMON, "nvmmd at %s closed the connection",
		    socket_path);
	return error;
}

static void
capability_get(struct nvmm_capability *cap)
{
	int error;

	error = nvmm_rpc_capability(&rpc, cap);
	if (error == ENXIO)
		errx(EXIT_DAEMON, "nvmmd at %s closed the connection",
		    socket_path);
	if (error)
		errc(1, error, "nvmm_capability failed");
}

/* -------------------------------------------------------------------------- */

static const char *const vcpu_conf_names[] = { "CPUID", "TPR", NULL };
static const char *const xcr0_names[] = {
	"x87", "SSE", "AVX", "BNDREGS", "BNDCSR", "Opmask", "ZMM_Hi256",
	"Hi16_ZMM", "PT", "PKRU", NULL,
};

static int
cmd_identify(int argc, char **argv)
{
	struct nvmm_capability cap;
	char ram[8], vconf[64], fpu[128];

	(void)argc;
	(void)argv;
	connect_as(NVMM__ROLE__ROLE_MONITOR, "identify");
	capability_get(&cap);
	nvmm_rpc_close(&rpc);
	if (json) {
		print_identify_json(&cap);
		return 0;
	}
	format_size(ram, sizeof(ram), cap.max_ram);
	format_bits(vconf, sizeof(vconf), cap.arch.vcpu_conf_support,
	    vcpu_conf_names);
	format_bits(fpu, sizeof(fpu), cap.arch.xcr0_mask, xcr0_names);
	printf("nvmm: Kernel API version %u\n", cap.version);
	printf("nvmm: State size %u\n", cap.state_size);
	printf("nvmm: Max machines %u\n", cap.max_machines);
	printf("nvmm: Max VCPUs per machine %u\n", cap.max_vcpus);
	printf("nvmm: Max RAM per machine %s\n", ram);
	printf("nvmm: Arch Mach conf %ju\n",
	    (uintmax_t)cap.arch.mach_conf_support);
	printf("nvmm: Arch VCPU conf %s\n", vconf);
	printf("nvmm: Guest FPU states %s\n", fpu);
	return 0;
}

/* -------------------------------------------------------------------------- */

/* What nvmmctl shows of a machine. */
static int
machine_fetch(nvmm_machid_t machid, struct machine_view *m)
{
	int error;

	memset(m, 0, sizeof(*m));
	m->info.machid = machid;
	m->owner.machid = machid;
	m->ident.machid = machid;
	error = ctl(NVMM_CTL_MACH_INFO, &m->info, sizeof(m->info));
	if (error == 0)
		error = ctl(NVMM_CTL_MACH_OWNER, &m->owner, sizeof(m->owner));
	if (error == 0)
		error = ctl(NVMM_CTL_MACH_IDENT, &m->ident, sizeof(m->ident));
	/* Printed as a string: it ends inside its field, whatever came. */
	m->owner.comm[sizeof(m->owner.comm) - 1] = '\0';
	return error;
}

static void
print_list_row(const struct machine_view *m)
{
	char ram[8], when[32], ubuf[16], uuid[NVMM_UUID_STRLEN];
	char user[TEXT_SAFE_SIZE(32)], comm[TEXT_SAFE_SIZE(16)];

	format_size(ram, sizeof(ram), m->info.nram);
	format_time(when, sizeof(when), m->info.time);
	nvmm_uuid_format(m->ident.uuid, uuid);
	printf("%-10u %5u %4s %9d %-24s %-8s %-16s %s\n", m->info.machid,
	    m->info.nvcpus, ram, (int)m->info.pid, when,
	    text_safe(user_name(m->owner.uid, ubuf, sizeof(ubuf)), user,
	    sizeof(user)), text_safe(m->owner.comm, comm, sizeof(comm)),
	    uuid);
}

static int
cmd_list(int argc, char **argv)
{
	struct nvmm_ctl_mach_list list;
	struct machine_view m;
	nvmm_machid_t machid;
	int error, status = 0;

	(void)argc;
	(void)argv;
	connect_as(NVMM__ROLE__ROLE_MONITOR, "list");
	memset(&list, 0, sizeof(list));
	error = ctl(NVMM_CTL_MACH_LIST, &list, sizeof(list));
	if (error)
		errc(1, error, "nvmm_ctl failed");
	if (json)
		json_list_begin();
	else
		printf("Machine ID VCPUs RAM  Owner PID Creation Time            "
		    "User     Command          UUID\n"
		    "---------- ----- ---- --------- ------------------------ "
		    "-------- ---------------- "
		    "------------------------------------\n");
	for (machid = 0; machid < MAX_MACHINES; machid++) {
		if (!(list.machids[machid / 64] & (1ULL << (machid % 64))))
			continue;
		error = machine_fetch(machid, &m);
		if (error == ENOENT)
			continue;	/* gone since the list */
		if (error) {
			warnc(error, "machine %u", machid);
			status = 1;
			continue;
		}
		if (json)
			json_list_machine(&m);
		else
			print_list_row(&m);
	}
	if (json)
		json_list_end();
	nvmm_rpc_close(&rpc);
	return status;
}

/* -------------------------------------------------------------------------- */

/* A machine id in decimal, as list shows it; anything else ends nvmmctl. */
static nvmm_machid_t
parse_machid(const char *s)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s < '0' || *s > '9' ||
	    v >= MAX_MACHINES)
		usage_error("not a machine id: %s", s);
	return (nvmm_machid_t)v;
}

/*
 * The VCPUs of a machine, until as many as it said it has (max) are found
 * or the capability's VCPU ids run out.
 */
static size_t
vcpus_fetch(const struct machine_view *m, struct nvmm_ctl_vcpu_stats *stats,
    size_t max)
{
	struct nvmm_capability cap;
	nvmm_cpuid_t cpuid;
	size_t n = 0;
	int error;

	capability_get(&cap);
	for (cpuid = 0; cpuid < cap.max_vcpus && n < max; cpuid++) {
		memset(&stats[n], 0, sizeof(stats[n]));
		stats[n].machid = m->info.machid;
		stats[n].cpuid = cpuid;
		error = ctl(NVMM_CTL_VCPU_STATS, &stats[n], sizeof(stats[n]));
		if (error == 0)
			n++;
		else if (error != ENOENT)
			errc(1, error, "VCPU %u", cpuid);
	}
	return n;
}

static int
cmd_info(int argc, char **argv)
{
	struct nvmm_ctl_vcpu_stats *stats;
	struct machine_view m;
	nvmm_machid_t machid;
	size_t n;
	int error;

	if (argc != 1)
		usage_error(argc == 0 ? "info needs a machine id" :
		    "info takes one machine id");
	machid = parse_machid(argv[0]);
	connect_as(NVMM__ROLE__ROLE_MONITOR, "info");
	error = machine_fetch(machid, &m);
	if (error == ENOENT)
		errx(1, "no machine %u", machid);
	if (error)
		errc(1, error, "machine %u", machid);
	stats = calloc((size_t)m.info.nvcpus + 1, sizeof(*stats));
	if (stats == NULL)
		err(1, "calloc");
	n = vcpus_fetch(&m, stats, m.info.nvcpus);
	nvmm_rpc_close(&rpc);
	if (json)
		print_info_json(&m, stats, n);
	else
		print_info_text(&m, stats, n);
	free(stats);
	return 0;
}

/* -------------------------------------------------------------------------- */

static void
host_stats_get(struct nvmm_host_stats *hs)
{
	int error;

	error = nvmm_rpc_host_stats(&rpc, hs);
	if (error == ENXIO)
		errx(EXIT_DAEMON, "nvmmd at %s closed the connection",
		    socket_path);
	if (error == EPERM)
		errx(EXIT_DENIED, "permission denied: stats needs the monitor "
		    "or the admin role");
	if (error)
		errc(1, error, "host statistics");
}

static void
on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Sleeps secs, or less if SIGINT comes: it ends stats -i at a boundary. */
static void
interval_sleep(double secs)
{
	struct timespec ts;

	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	if (!interrupted)
		(void)nanosleep(&ts, NULL);
}

/* Seconds since *t, which becomes now: what a rate divides by. */
static double
elapsed(struct timespec *t)
{
	struct timespec now;
	double secs;

	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - t->tv_sec) +
	    (double)(now.tv_nsec - t->tv_nsec) / 1e9;
	*t = now;
	return secs;
}

static int
cmd_stats(int argc, char **argv)
{
	struct nvmm_host_stats prev, cur;
	struct stats_show show = { &cur, NULL, 0, json };
	struct sigaction sa;
	struct timespec t;
	long n;

	(void)argc;
	(void)argv;
	connect_as(NVMM__ROLE__ROLE_MONITOR, "stats");
	host_stats_get(&cur);
	(void)elapsed(&t);
	if (interval == 0) {
		stats_print(&show);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;	/* no SA_RESTART: the sleep ends */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	show.prev = &prev;
	for (n = 0; (count == 0 || n < count) && !interrupted; n++) {
		interval_sleep(interval);
		if (interrupted)
			break;
		prev = cur;
		host_stats_get(&cur);
		/* The time between the snapshots, not the time asked for. */
		show.secs = elapsed(&t);
		stats_print(&show);
		fflush(stdout);
		nvmm_host_stats_free(&prev);
	}
out:
	nvmm_host_stats_free(&cur);
	nvmm_rpc_close(&rpc);
	return 0;
}

static int
cmd_metrics(int argc, char **argv)
{
	size_t len;
	char *text;
	int error;

	(void)argc;
	(void)argv;
	connect_as(NVMM__ROLE__ROLE_MONITOR, "metrics");
	error = nvmm_rpc_metrics(&rpc, &text, &len);
	if (error == ENXIO)
		errx(EXIT_DAEMON, "nvmmd at %s closed the connection",
		    socket_path);
	if (error == EPERM)
		errx(EXIT_DENIED, "permission denied: metrics needs the "
		    "monitor or the admin role");
	if (error)
		errc(1, error, "metrics");
	nvmm_rpc_close(&rpc);
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) == EOF)
		err(1, "stdout");
	free(text);
	return 0;
}

static int
cmd_kill(int argc, char **argv)
{
	struct nvmm_ctl_mach_kill kill;
	int i, error, status = 0;

	if (argc < 1)
		usage_error("kill needs a machine id");
	for (i = 0; i < argc; i++)
		(void)parse_machid(argv[i]);
	connect_as(NVMM__ROLE__ROLE_ADMIN, "kill");
	for (i = 0; i < argc; i++) {
		kill.machid = parse_machid(argv[i]);
		error = ctl(NVMM_CTL_MACH_KILL, &kill, sizeof(kill));
		if (error == ENOENT) {
			warnx("no machine %u", kill.machid);
			status = 1;
		} else if (error) {
			warnc(error, "kill %u", kill.machid);
			status = 1;
		} else {
			printf("Machine %u killed\n", kill.machid);
		}
	}
	nvmm_rpc_close(&rpc);
	return status;
}

/*
 * Silent on success, as kill(1).  The daemon answers before it ends
 * anything: one that closes the connection unanswered does not know the
 * request (nvmm_rpc_shutdown).
 */
static int
cmd_shutdown(int argc, char **argv)
{
	int error;

	(void)argc;
	(void)argv;
	connect_as(NVMM__ROLE__ROLE_ADMIN, "shutdown");
	error = nvmm_rpc_shutdown(&rpc);
	if (error == ENXIO)
		errx(EXIT_DAEMON, "this nvmmd does not know shutdown (%s closed "
		    "the connection)", socket_path);
	if (error == EPERM)
		errx(EXIT_DENIED, "permission denied: shutdown needs the admin "
		    "role");
	if (error)
		errc(1, error, "shutdown");
	nvmm_rpc_close(&rpc);
	return 0;
}

/* -------------------------------------------------------------------------- */

static int
cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc == 0)
		usage(0);
	if (argc > 1)
		usage_error("help takes one command");
	c = command_find(argv[0]);
	if (c == NULL)
		usage_error("unknown command: %s", argv[0]);
	command_help(c);
}

/* -------------------------------------------------------------------------- */

/* -i's seconds, or -c's count: a number in its range, or a usage error. */
static double
parse_number(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) ||
	    v < min || v > max)
		usage_error("%s %s: not a number from %g to %g", opt, s, min,
		    max);
	return v;
}

/* -i and -c, with their values; false if a is neither. */
static bool
parse_interval_option(int argc, char **argv, int *ip)
{
	const char *a = argv[*ip];

	if (strcmp(a, "-i") != 0 && strcmp(a, "-c") != 0)
		return false;
	if (++*ip == argc)
		usage_error("%s needs a value", a);
	if (a[1] == 'i')
		interval = parse_number(a, argv[*ip], INTERVAL_MIN,
		    INTERVAL_MAX);
	else
		count = (long)parse_number(a, argv[*ip], 1, 1e9);
	if (a[1] == 'c' && strchr(argv[*ip], '.') != NULL)
		usage_error("-c %s: not a whole number", argv[*ip]);
	return true;
}

/*
 * The options, where the command line may have them: before the command
 * (c is NULL) and after it, among its operands.  A "-" and a digit is an
 * operand, for kill -1 to say what is wrong with -1.  Returns the number
 * of operands, moved to the front of argv.
 */
static int
parse_options(int argc, char **argv, const struct command *c)
{
	int i, n = 0;
	const char *a;

	for (i = 0; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--") == 0 && c != NULL) {
			while (++i < argc)
				argv[n++] = argv[i];
			break;
		}
		if (a[0] != '-' || a[1] == '\0' || (a[1] >= '0' && a[1] <= '9')) {
			if (c == NULL)
				break;		/* the command */
			argv[n++] = argv[i];
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			if (c == NULL)
				usage(0);
			command_help(c);
		} else if (strcmp(a, "--version") == 0) {
			printf("nvmmctl %s (protocol %u)\n", PACKAGE_VERSION,
			    NVMM_PROTO_VERSION);
			exit(0);
		} else if (strcmp(a, "--json") == 0) {
			json = true;
		} else if (parse_interval_option(argc, argv, &i)) {
			continue;
		} else if (strcmp(a, "-s") == 0) {
			if (++i == argc)
				usage_error("-s needs a socket path");
			socket_path = argv[i];
		} else if (strncmp(a, "-s", 2) == 0) {
			socket_path = a + 2;
		} else {
			usage_error("unknown option %s (nvmmctl help shows "
			    "the usage)", a);
		}
	}
	return c == NULL ? i : n;
}

int
main(int argc, char **argv)
{
	const struct command *c;
	int i;

	setprogname(argv[0]);
	socket_path = nvmm_rpc_path();
	i = parse_options(argc - 1, argv + 1, NULL) + 1;
	if (i >= argc)
		usage(EXIT_USAGE);
	c = command_find(argv[i]);
	if (c == NULL)
		usage_error("unknown command: %s (nvmmctl help lists them)",
		    argv[i]);
	argc = parse_options(argc - i - 1, argv + i + 1, c);
	argv += i + 1;
	if (json && !c->json)
		usage_error("%s has no JSON output", c->name);
	if ((interval != 0 || count != 0) && !c->interval)
		usage_error("%s takes no -i or -c", c->name);
	if (count != 0 && interval == 0)
		usage_error("-c needs -i");
	if (*c->args == '\0' && argc != 0)
		usage_error("%s takes no arguments", c->name);
	return c->fn(argc, argv);
}
