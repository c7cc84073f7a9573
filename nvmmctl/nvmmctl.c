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
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/libutil.h>
#define LIBBSD_NETBSD_VIS
#include <bsd/vis.h>

#include <nvmm.h>

#include "nvmm_conn.h"
#include "nvmmctl.h"

#define EXIT_USAGE	2

static const char *socket_path;
static bool json;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: nvmmctl [-s socket] [--json] identify\n"
	    "       nvmmctl [-s socket] [--json] list\n"
	    "       nvmmctl [-s socket] [--json] info machine-id\n"
	    "       nvmmctl [-s socket] kill machine-id ...\n");
	exit(status);
}

/* -------------------------------------------------------------------------- */

static int
connect_as(Nvmm__Role role)
{
	int fd, error;

	error = nvmm_conn_open(socket_path, role, &fd);
	if (error)
		errc(1, error, "cannot use nvmmd at %s", socket_path);
	return fd;
}

static uint64_t next_id;

/* One ctl op; returns 0 or the errno the daemon gave. */
int
ctl_call(int fd, int op, void *data, size_t size)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__Ctl m = NVMM__CTL__INIT;
	Nvmm__Reply *reply;
	int error;

	m.op = op;
	m.data.data = data;
	m.data.len = size;
	req.id = ++next_id;
	req.op_case = NVMM__REQUEST__OP_CTL;
	req.ctl = &m;
	error = nvmm_conn_call(fd, &req, -1, &reply, NULL);
	if (error)
		errc(1, error, "nvmmd");
	error = reply->error;
	if (error == 0 && reply->result_case == NVMM__REPLY__RESULT_CTL &&
	    reply->ctl->data.len == size && size != 0)
		memcpy(data, reply->ctl->data.data, size);
	else if (error == 0)
		error = EPROTO;
	nvmm__reply__free_unpacked(reply, NULL);
	return error;
}

static void
capability_get(int fd, struct nvmm_capability *cap)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__Capability m = NVMM__CAPABILITY__INIT;
	Nvmm__Reply *reply;
	int error;

	req.id = ++next_id;
	req.op_case = NVMM__REQUEST__OP_CAPABILITY;
	req.capability = &m;
	error = nvmm_conn_call(fd, &req, -1, &reply, NULL);
	if (error)
		errc(1, error, "nvmmd");
	error = reply->error;
	if (error == 0 && (reply->result_case !=
	    NVMM__REPLY__RESULT_CAPABILITY ||
	    reply->capability->capability.len != sizeof(*cap)))
		error = EPROTO;
	if (error == 0)
		memcpy(cap, reply->capability->capability.data, sizeof(*cap));
	nvmm__reply__free_unpacked(reply, NULL);
	if (error)
		errc(1, error, "nvmm_capability failed");
}

/* -------------------------------------------------------------------------- */

static const char *const vcpu_conf_names[] = { "CPUID", "TPR", NULL };
static const char *const xcr0_names[] = {
	"x87", "SSE", "AVX", "BNDREGS", "BNDCSR", "Opmask", "ZMM_Hi256",
	"Hi16_ZMM", "PT", "PKRU", NULL,
};

/* NetBSD's snprintb: the value in hex, then the names of its set bits. */
void
format_bits(char *buf, size_t size, uint64_t value,
    const char *const *names)
{
	size_t len, i;
	bool first = true;

	if (value == 0) {
		snprintf(buf, size, "0");
		return;
	}
	len = (size_t)snprintf(buf, size, "%#jx<", (uintmax_t)value);
	for (i = 0; names[i] != NULL && i < 64 && len < size; i++) {
		if (!(value & (1ULL << i)))
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    first ? "" : ",", names[i]);
		first = false;
	}
	if (len < size)
		snprintf(buf + len, size - len, ">");
}

/* NetBSD's humanize_number use: four characters, decimal, e.g. 128G. */
void
format_size(char *buf, size_t size, uint64_t bytes)
{
	if (humanize_number(buf, size < 5 ? size : 5, (int64_t)bytes, "",
	    HN_AUTOSCALE, HN_DECIMAL | HN_NOSPACE | HN_B) == -1)
		snprintf(buf, size, "?");
}

static int
cmd_identify(int argc, char **argv)
{
	struct nvmm_capability cap;
	char ram[8], vconf[64], fpu[128];
	int fd;

	(void)argc;
	(void)argv;
	fd = connect_as(NVMM__ROLE__ROLE_MONITOR);
	capability_get(fd, &cap);
	close(fd);
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
machine_fetch(int fd, nvmm_machid_t machid, struct machine_view *m)
{
	int error;

	memset(m, 0, sizeof(*m));
	m->info.machid = machid;
	m->owner.machid = machid;
	error = ctl_call(fd, NVMM_CTL_MACH_INFO, &m->info, sizeof(m->info));
	if (error == 0)
		error = ctl_call(fd, NVMM_CTL_MACH_OWNER, &m->owner,
		    sizeof(m->owner));
	/* Printed as a string: it ends inside its field, whatever came. */
	m->owner.comm[sizeof(m->owner.comm) - 1] = '\0';
	return error;
}

const char *
user_name(uid_t uid, char *buf, size_t size)
{
	struct passwd *pw;

	pw = getpwuid(uid);
	if (pw != NULL)
		return pw->pw_name;
	snprintf(buf, size, "%u", (unsigned)uid);
	return buf;
}

/*
 * A string someone else chose (a command name, a user name) as it may go
 * to a terminal: whatever is not printable is shown as a C escape, so it
 * cannot move the cursor, erase a line or forge one.  What does not fit
 * in buf (TEXT_SAFE_SIZE) is cut.
 */
const char *
text_safe(const char *s, char *buf, size_t size)
{
	size_t len = strnlen(s, (size - 1) / 4);

	if (strvisx(buf, s, len, VIS_CSTYLE | VIS_OCTAL | VIS_TAB |
	    VIS_NL) == -1)
		snprintf(buf, size, "?");
	return buf;
}

/* asctime(3) without its newline, as NetBSD's nvmmctl list. */
void
format_time(char *buf, size_t size, time_t t)
{
	struct tm tm;
	char *nl;

	if (localtime_r(&t, &tm) == NULL || asctime_r(&tm, buf) == NULL) {
		snprintf(buf, size, "?");
		return;
	}
	nl = strchr(buf, '\n');
	if (nl != NULL)
		*nl = '\0';
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
	int fd, error, status = 0;

	(void)argc;
	(void)argv;
	fd = connect_as(NVMM__ROLE__ROLE_MONITOR);
	memset(&list, 0, sizeof(list));
	error = ctl_call(fd, NVMM_CTL_MACH_LIST, &list, sizeof(list));
	if (error)
		errc(1, error, "nvmm_ctl failed");
	if (json)
		json_list_begin();
	else
		printf("Machine ID VCPUs RAM  Owner PID Creation Time            "
		    "User     Command\n"
		    "---------- ----- ---- --------- ------------------------ "
		    "-------- ----------------\n");
	for (machid = 0; machid < 128; machid++) {
		if (!(list.machids[machid / 64] & (1ULL << (machid % 64))))
			continue;
		error = machine_fetch(fd, machid, &m);
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
	close(fd);
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
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v > 127)
		return false;
	*machid = (nvmm_machid_t)v;
	return true;
}

/* The VCPUs of a machine, until as many as it says it has are found. */
static size_t
vcpus_fetch(int fd, const struct machine_view *m,
    struct nvmm_ctl_vcpu_stats *stats, size_t max)
{
	nvmm_cpuid_t cpuid;
	size_t n = 0;
	int error;

	for (cpuid = 0; cpuid < 256 && n < m->info.nvcpus && n < max;
	    cpuid++) {
		memset(&stats[n], 0, sizeof(stats[n]));
		stats[n].machid = m->info.machid;
		stats[n].cpuid = cpuid;
		error = ctl_call(fd, NVMM_CTL_VCPU_STATS, &stats[n],
		    sizeof(stats[n]));
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
	static struct nvmm_ctl_vcpu_stats stats[256];
	struct machine_view m;
	nvmm_machid_t machid;
	size_t n;
	int fd, error;

	if (argc != 1 || !parse_machid(argv[0], &machid))
		usage(EXIT_USAGE);
	fd = connect_as(NVMM__ROLE__ROLE_MONITOR);
	error = machine_fetch(fd, machid, &m);
	if (error)
		errc(1, error, "machine %u", machid);
	n = vcpus_fetch(fd, &m, stats, 256);
	close(fd);
	if (json)
		print_info_json(&m, stats, n);
	else
		print_info_text(&m, stats, n);
	return 0;
}

static int
cmd_kill(int argc, char **argv)
{
	struct nvmm_ctl_mach_kill kill;
	int fd, i, error, status = 0;

	if (argc < 1)
		usage(EXIT_USAGE);
	for (i = 0; i < argc; i++)
		if (!parse_machid(argv[i], &kill.machid))
			usage(EXIT_USAGE);
	fd = connect_as(NVMM__ROLE__ROLE_ADMIN);
	for (i = 0; i < argc; i++) {
		parse_machid(argv[i], &kill.machid);
		error = ctl_call(fd, NVMM_CTL_MACH_KILL, &kill, sizeof(kill));
		if (error) {
			warnc(error, "kill %u", kill.machid);
			status = 1;
		} else {
			printf("Machine %u killed\n", kill.machid);
		}
	}
	close(fd);
	return status;
}

/* -------------------------------------------------------------------------- */

static const struct command {
	const char *name;
	int (*fn)(int, char **);
	bool json;
	bool args;
} commands[] = {
	{ "identify", cmd_identify, true, false },
	{ "list", cmd_list, true, false },
	{ "info", cmd_info, true, true },
	{ "kill", cmd_kill, false, true },
};

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

	socket_path = nvmm_conn_path();
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
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		if ((json && !commands[i].json) ||
		    (!commands[i].args && argc != 1))
			usage(EXIT_USAGE);
		return commands[i].fn(argc - 1, argv + 1);
	}
	warnx("unknown command ``%s''", argv[0]);
	usage(EXIT_USAGE);
}
