/*
 * nvmmctl: NetBSD's nvmmctl(8) for nvmmd, plus what an operator needs of
 * a daemon: identify, list, info and kill, in text or JSON.
 *
 * It looks with the monitor role, which changes nothing (and, unlike the
 * root owner, takes no machine with it when it disconnects), and kills
 * with the admin role.
 */
#include <bsd/err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmm.h>

#include "nvmm_rpc.h"
#include "nvmmctl.h"

#define EXIT_USAGE	2

/* Machine ids are bits of NVMM_CTL_MACH_LIST's bitmap. */
#define MAX_MACHINES \
	(sizeof(((struct nvmm_ctl_mach_list *)0)->machids) * CHAR_BIT)

static int	cmd_identify(int, char **);
static int	cmd_list(int, char **);
static int	cmd_info(int, char **);
static int	cmd_kill(int, char **);

/* What dispatches a command also says how to call it, as vmctl's table. */
static const struct command {
	const char *name;
	const char *args;	/* its synopsis; "": it takes no arguments */
	int (*fn)(int, char **);
	bool json;		/* it can answer in JSON */
} commands[] = {
	{ "identify", "", cmd_identify, true },
	{ "list", "", cmd_list, true },
	{ "info", "machine-id", cmd_info, true },
	{ "kill", "machine-id ...", cmd_kill, false },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static const char *socket_path;
static bool json;
static struct nvmm_rpc rpc = NVMM_RPC_INITIALIZER;

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status ? stderr : stdout;
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "%-6s nvmmctl [-s socket] %s%s%s%s\n",
		    i == 0 ? "usage:" : "", commands[i].json ? "[--json] " : "",
		    commands[i].name, *commands[i].args ? " " : "",
		    commands[i].args);
	exit(status);
}

/* -------------------------------------------------------------------------- */

static void
connect_as(Nvmm__Role role)
{
	int error;

	error = nvmm_rpc_open(&rpc, socket_path, role);
	if (error)
		errc(1, error, "cannot use nvmmd at %s", socket_path);
}

/* One ctl op; returns 0 or the errno the daemon gave.  A daemon gone ends. */
static int
ctl(int op, void *data, size_t size)
{
	int error;

	error = nvmm_rpc_ctl(&rpc, op, data, size);
	if (error == ENXIO)
		errc(1, error, "nvmmd");
	return error;
}

static void
capability_get(struct nvmm_capability *cap)
{
	int error;

	error = nvmm_rpc_capability(&rpc, cap);
	if (error == ENXIO)
		errc(1, error, "nvmmd");
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
	connect_as(NVMM__ROLE__ROLE_MONITOR);
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
	error = ctl(NVMM_CTL_MACH_INFO, &m->info, sizeof(m->info));
	if (error == 0)
		error = ctl(NVMM_CTL_MACH_OWNER, &m->owner, sizeof(m->owner));
	/* Printed as a string: it ends inside its field, whatever came. */
	m->owner.comm[sizeof(m->owner.comm) - 1] = '\0';
	return error;
}

static void
print_list_row(const struct machine_view *m)
{
	char ram[8], when[32], ubuf[16];
	char user[TEXT_SAFE_SIZE(32)], comm[TEXT_SAFE_SIZE(16)];

	format_size(ram, sizeof(ram), m->info.nram);
	format_time(when, sizeof(when), m->info.time);
	printf("%-10u %5u %4s %9d %-24s %-8s %s\n", m->info.machid,
	    m->info.nvcpus, ram, (int)m->info.pid, when,
	    text_safe(user_name(m->owner.uid, ubuf, sizeof(ubuf)), user,
	    sizeof(user)), text_safe(m->owner.comm, comm, sizeof(comm)));
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
	connect_as(NVMM__ROLE__ROLE_MONITOR);
	memset(&list, 0, sizeof(list));
	error = ctl(NVMM_CTL_MACH_LIST, &list, sizeof(list));
	if (error)
		errc(1, error, "nvmm_ctl failed");
	if (json)
		json_list_begin();
	else
		printf("Machine ID VCPUs RAM  Owner PID Creation Time            "
		    "User     Command\n"
		    "---------- ----- ---- --------- ------------------------ "
		    "-------- ----------------\n");
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

static bool
parse_machid(const char *s, nvmm_machid_t *machid)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' ||
	    v >= MAX_MACHINES)
		return false;
	*machid = (nvmm_machid_t)v;
	return true;
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

	if (argc != 1 || !parse_machid(argv[0], &machid))
		usage(EXIT_USAGE);
	connect_as(NVMM__ROLE__ROLE_MONITOR);
	error = machine_fetch(machid, &m);
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

static int
cmd_kill(int argc, char **argv)
{
	struct nvmm_ctl_mach_kill kill;
	int i, error, status = 0;

	if (argc < 1)
		usage(EXIT_USAGE);
	for (i = 0; i < argc; i++)
		if (!parse_machid(argv[i], &kill.machid))
			usage(EXIT_USAGE);
	connect_as(NVMM__ROLE__ROLE_ADMIN);
	for (i = 0; i < argc; i++) {
		parse_machid(argv[i], &kill.machid);
		error = ctl(NVMM_CTL_MACH_KILL, &kill, sizeof(kill));
		if (error) {
			warnc(error, "kill %u", kill.machid);
			status = 1;
		} else {
			printf("Machine %u killed\n", kill.machid);
		}
	}
	nvmm_rpc_close(&rpc);
	return status;
}

/* -------------------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t i;
	int ch;

	socket_path = nvmm_rpc_path();
	while ((ch = getopt_long(argc, argv, "+hs:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(0);
		case 'j':
			json = true;
			break;
		case 's':
			socket_path = optarg;
			break;
		default:
			usage(EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(EXIT_USAGE);
	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		if ((json && !commands[i].json) ||
		    (*commands[i].args == '\0' && argc != 1))
			usage(EXIT_USAGE);
		return commands[i].fn(argc - 1, argv + 1);
	}
	warnx("unknown command ``%s''", argv[0]);
	usage(EXIT_USAGE);
}
