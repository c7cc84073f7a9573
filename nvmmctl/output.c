/*
 * How nvmmctl shows things.  The JSON field names are an interface
 * (nvmmctl(8) lists them); they change only by being added to.
 */
#include <stdio.h>
#include <string.h>

#include "nvmmctl.h"

/* The names of NVMM_CTL_STATS_EXIT_*, in their order. */
static const char *const exit_names[NVMM_CTL_STATS_NEXITS] = {
	"none", "memory", "io", "shutdown", "int_ready", "nmi_ready",
	"halted", "tpr_changed", "rdmsr", "wrmsr", "monitor", "mwait",
	"cpuid", "stopped", "invalid", NULL,
};

static bool list_first;

static void
json_string(const char *s)
{
	const unsigned char *p;

	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7F)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

void
print_identify_json(const struct nvmm_capability *cap)
{
	printf("{\"version\": %u, \"state_size\": %u, \"max_machines\": %u, "
	    "\"max_vcpus\": %u, \"max_ram\": %ju, \"mach_conf_support\": %ju, "
	    "\"vcpu_conf_support\": %ju, \"xcr0_mask\": %ju, "
	    "\"mxcsr_mask\": %u, \"conf_cpuid_maxops\": %u}\n",
	    cap->version, cap->state_size, cap->max_machines, cap->max_vcpus,
	    (uintmax_t)cap->max_ram, (uintmax_t)cap->arch.mach_conf_support,
	    (uintmax_t)cap->arch.vcpu_conf_support,
	    (uintmax_t)cap->arch.xcr0_mask, cap->arch.mxcsr_mask,
	    cap->arch.conf_cpuid_maxops);
}

/* The fields of a machine, without braces, shared by list and info. */
static void
json_machine_fields(const struct machine_view *m)
{
	char ubuf[16];

	printf("\"id\": %u, \"vcpus\": %u, \"ram\": %ju, \"owner_pid\": %d, "
	    "\"owner_uid\": %u, \"owner_user\": ", m->info.machid,
	    m->info.nvcpus, (uintmax_t)m->info.nram, (int)m->owner.pid,
	    (unsigned)m->owner.uid);
	json_string(user_name(m->owner.uid, ubuf, sizeof(ubuf)));
	printf(", \"command\": ");
	json_string(m->owner.comm);
	printf(", \"created\": %jd", (intmax_t)m->info.time);
}

void
json_list_begin(void)
{
	list_first = true;
	printf("{\"machines\": [");
}

void
json_list_machine(const struct machine_view *m)
{
	printf("%s{", list_first ? "" : ", ");
	json_machine_fields(m);
	printf("}");
	list_first = false;
}

void
json_list_end(void)
{
	printf("]}\n");
}

void
print_info_json(const struct machine_view *m,
    const struct nvmm_ctl_vcpu_stats *stats, size_t n)
{
	size_t i, e;

	printf("{");
	json_machine_fields(m);
	printf(", \"vcpu_stats\": [");
	for (i = 0; i < n; i++) {
		printf("%s{\"id\": %u, \"runs\": %ju, \"run_ns\": %ju, "
		    "\"exits\": {", i ? ", " : "", stats[i].cpuid,
		    (uintmax_t)stats[i].nruns, (uintmax_t)stats[i].run_ns);
		for (e = 0; exit_names[e] != NULL; e++)
			printf("%s\"%s\": %ju", e ? ", " : "", exit_names[e],
			    (uintmax_t)stats[i].exits[e]);
		printf("}}");
	}
	printf("]}\n");
}

/* -------------------------------------------------------------------------- */

static void
print_exits_text(const struct nvmm_ctl_vcpu_stats *st)
{
	size_t e;
	bool any = false;

	for (e = 0; exit_names[e] != NULL; e++) {
		if (st->exits[e] == 0)
			continue;
		printf("%s%s %ju", any ? ", " : "", exit_names[e],
		    (uintmax_t)st->exits[e]);
		any = true;
	}
	printf("%s\n", any ? "" : "-");
}

void
print_info_text(const struct machine_view *m,
    const struct nvmm_ctl_vcpu_stats *stats, size_t n)
{
	char ram[8], when[32], ubuf[16];
	char user[TEXT_SAFE_SIZE(32)], comm[TEXT_SAFE_SIZE(16)];
	size_t i;

	format_size(ram, sizeof(ram), m->info.nram);
	format_time(when, sizeof(when), m->info.time);
	printf("Machine ID:    %u\n", m->info.machid);
	printf("Owner:         pid %d, uid %u (%s), command %s\n",
	    (int)m->owner.pid, (unsigned)m->owner.uid,
	    text_safe(user_name(m->owner.uid, ubuf, sizeof(ubuf)), user,
	    sizeof(user)), text_safe(m->owner.comm, comm, sizeof(comm)));
	printf("Created:       %s\n", when);
	printf("VCPUs:         %u\n", m->info.nvcpus);
	printf("RAM:           %s (%ju bytes)\n", ram,
	    (uintmax_t)m->info.nram);
	printf("\nVCPU Runs       Guest time    Exits\n");
	for (i = 0; i < n; i++) {
		printf("%-4u %-10ju %-13.6f ", stats[i].cpuid,
		    (uintmax_t)stats[i].nruns, (double)stats[i].run_ns / 1e9);
		print_exits_text(&stats[i]);
	}
}
