/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * How nvmmctl shows things.  The JSON field names are an interface
 * (nvmmctl(8) lists them); they change only by being added to.
 *
 * JSON is built with jansson, which writes UTF-8 as it is and escapes
 * what JSON asks to; a name that is not UTF-8 (a command name is any
 * bytes) goes through text_safe() first, so it is still shown.
 */
#include <bsd/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "nvmmctl.h"

static json_t *list_machines;	/* the array json_list_machine adds to */

/* Ends nvmmctl on a failed allocation: jansson's only failure here. */
static json_t *
json_checked(json_t *v)
{
	if (v == NULL)
		errx(1, "out of memory building JSON");
	return v;
}

void
json_set_new(json_t *obj, const char *key, json_t *v)
{
	if (json_object_set_new(obj, key, json_checked(v)) == -1)
		errx(1, "out of memory building JSON");
}

void
json_set_uint(json_t *obj, const char *key, uint64_t v)
{
	/* json_int_t is a long long: counters stay below 2^63. */
	json_set_new(obj, key, json_integer((json_int_t)v));
}

/* A name someone chose, as a JSON string even when it is not UTF-8. */
static void
json_set_name(json_t *obj, const char *key, const char *s)
{
	char buf[TEXT_SAFE_SIZE(64)];
	json_t *v;

	v = json_string(s);
	if (v == NULL)
		v = json_string(text_safe(s, buf, sizeof(buf)));
	json_set_new(obj, key, v);
}

void
json_print(json_t *v)
{
	if (json_dumpf(v, stdout, 0) == -1 ||
	    putchar('\n') == EOF)
		errx(1, "cannot write JSON");
	json_decref(v);
}

void
print_identify_json(const struct nvmm_capability *cap)
{
	json_t *o = json_checked(json_object());

	json_set_uint(o, "version", cap->version);
	json_set_uint(o, "state_size", cap->state_size);
	json_set_uint(o, "max_machines", cap->max_machines);
	json_set_uint(o, "max_vcpus", cap->max_vcpus);
	json_set_uint(o, "max_ram", cap->max_ram);
	json_set_uint(o, "mach_conf_support", cap->arch.mach_conf_support);
	json_set_uint(o, "vcpu_conf_support", cap->arch.vcpu_conf_support);
	json_set_uint(o, "xcr0_mask", cap->arch.xcr0_mask);
	json_set_uint(o, "mxcsr_mask", cap->arch.mxcsr_mask);
	json_set_uint(o, "conf_cpuid_maxops", cap->arch.conf_cpuid_maxops);
	json_print(o);
}

/* What a HostStats record says of a machine, as list and info see it. */
void
machine_view_of(const struct nvmm_ctl_host_mach *hm, struct machine_view *m)
{
	memset(m, 0, sizeof(*m));
	m->info.machid = m->owner.machid = m->ident.machid = hm->machid;
	m->info.nvcpus = hm->nvcpus;
	m->info.nram = hm->nram;
	m->info.pid = m->owner.pid = hm->pid;
	m->info.time = (time_t)hm->created_sec;
	m->owner.uid = hm->uid;
	memcpy(m->owner.comm, hm->comm, sizeof(m->owner.comm));
	m->owner.comm[sizeof(m->owner.comm) - 1] = '\0';
	m->ident.created_sec = hm->created_sec;
	m->ident.created_nsec = hm->created_nsec;
	memcpy(m->ident.uuid, hm->uuid, sizeof(m->ident.uuid));
}

/* The fields of a machine, shared by list, info and stats. */
json_t *
json_machine(const struct machine_view *m)
{
	json_t *o = json_checked(json_object());
	char ubuf[16], uuid[NVMM_UUID_STRLEN];

	json_set_uint(o, "id", m->info.machid);
	json_set_uint(o, "vcpus", m->info.nvcpus);
	json_set_uint(o, "ram", m->info.nram);
	json_set_new(o, "owner_pid", json_integer(m->owner.pid));
	json_set_uint(o, "owner_uid", m->owner.uid);
	json_set_name(o, "owner_user", user_name(m->owner.uid, ubuf,
	    sizeof(ubuf)));
	json_set_name(o, "command", m->owner.comm);
	json_set_new(o, "created", json_integer(m->info.time));
	json_set_uint(o, "created_nsec", m->ident.created_nsec);
	nvmm_uuid_format(m->ident.uuid, uuid);
	json_set_new(o, "uuid", json_string(uuid));
	return o;
}

void
json_list_begin(void)
{
	list_machines = json_checked(json_array());
}

void
json_list_machine(const struct machine_view *m)
{
	if (json_array_append_new(list_machines, json_machine(m)) == -1)
		errx(1, "out of memory building JSON");
}

void
json_list_end(void)
{
	json_t *o = json_checked(json_object());

	json_set_new(o, "machines", list_machines);
	list_machines = NULL;
	json_print(o);
}

void
print_info_json(const struct machine_view *m,
    const struct nvmm_ctl_vcpu_stats *stats, size_t n)
{
	json_t *o = json_machine(m), *vcpus, *v, *exits;
	size_t i, e;

	vcpus = json_checked(json_array());
	for (i = 0; i < n; i++) {
		v = json_checked(json_object());
		json_set_uint(v, "id", stats[i].cpuid);
		json_set_uint(v, "runs", stats[i].nruns);
		json_set_uint(v, "run_ns", stats[i].run_ns);
		exits = json_checked(json_object());
		for (e = 0; nvmm_exit_names[e] != NULL; e++)
			json_set_uint(exits, nvmm_exit_names[e], stats[i].exits[e]);
		json_set_new(v, "exits", exits);
		if (json_array_append_new(vcpus, v) == -1)
			errx(1, "out of memory building JSON");
	}
	json_set_new(o, "vcpu_stats", vcpus);
	json_print(o);
}
/* -------------------------------------------------------------------------- */

static void
print_exits_text(const struct nvmm_ctl_vcpu_stats *st)
{
	size_t e;
	bool any = false;

	for (e = 0; nvmm_exit_names[e] != NULL; e++) {
		if (st->exits[e] == 0)
			continue;
		printf("%s%s %ju", any ? ", " : "", nvmm_exit_names[e],
		    (uintmax_t)st->exits[e]);
		any = true;
	}
	printf("%s\n", any ? "" : "-");
}

void
print_info_text(const struct machine_view *m,
    const struct nvmm_ctl_vcpu_stats *stats, size_t n)
{
	char ram[8], when[32], ubuf[16], uuid[NVMM_UUID_STRLEN];
	char user[TEXT_SAFE_SIZE(32)], comm[TEXT_SAFE_SIZE(16)];
	size_t i;

	format_size(ram, sizeof(ram), m->info.nram);
	format_time(when, sizeof(when), m->info.time);
	nvmm_uuid_format(m->ident.uuid, uuid);
	printf("Machine ID:    %u\n", m->info.machid);
	printf("UUID:          %s\n", uuid);
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
