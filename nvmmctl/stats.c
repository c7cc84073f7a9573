/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * How stats shows the host: every machine and VCPU with its runs, guest
 * time and exits by reason, as totals, or as rates between two
 * snapshots (stats -i).  A VCPU's rate is against the same VCPU of the
 * same machine, told by its UUID: a machine destroyed and replaced under
 * the same id between two snapshots starts from zero.
 *
 * Both snapshots list machines by id and VCPUs by machine then VCPU id
 * (kernel/ walks its table in order), so they are matched by one walk.
 */
#include <bsd/err.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "nvmmctl.h"

static const struct nvmm_ctl_host_vcpu zero_vcpu;

/* The record of the machine of VCPU v, walking from *k on. */
static const struct nvmm_ctl_host_mach *
mach_of(const struct nvmm_host_stats *hs, const struct nvmm_ctl_host_vcpu *v,
    size_t *k)
{
	while (*k < hs->nmachs && hs->machs[*k].machid < v->machid)
		(*k)++;
	if (*k < hs->nmachs && hs->machs[*k].machid == v->machid)
		return &hs->machs[*k];
	return NULL;
}

static int
vcpu_cmp(const struct nvmm_ctl_host_vcpu *a, const struct nvmm_ctl_host_vcpu *b)
{
	if (a->machid != b->machid)
		return a->machid < b->machid ? -1 : 1;
	if (a->cpuid != b->cpuid)
		return a->cpuid < b->cpuid ? -1 : 1;
	return 0;
}

/* v's record in the previous snapshot, or zeros: walking from *j on. */
static const struct nvmm_ctl_host_vcpu *
prev_of(const struct stats_show *show, const struct nvmm_ctl_host_mach *m,
    const struct nvmm_ctl_host_vcpu *v, size_t *j, size_t *k)
{
	const struct nvmm_host_stats *p = show->prev;
	const struct nvmm_ctl_host_mach *pm;

	while (*j < p->nvcpus && vcpu_cmp(&p->vcpus[*j], v) < 0)
		(*j)++;
	if (*j == p->nvcpus || vcpu_cmp(&p->vcpus[*j], v) != 0)
		return &zero_vcpu;
	pm = mach_of(p, &p->vcpus[*j], k);
	if (pm == NULL || memcmp(pm->uuid, m->uuid, sizeof(m->uuid)) != 0)
		return &zero_vcpu;
	return &p->vcpus[*j];
}

/* -------------------------------------------------------------------------- */

static void
text_exits(const struct stats_show *show, const struct nvmm_ctl_host_vcpu *v,
    const struct nvmm_ctl_host_vcpu *pv)
{
	bool any = false;
	size_t e;

	for (e = 0; nvmm_exit_names[e] != NULL; e++) {
		if (v->exits[e] == pv->exits[e])
			continue;
		if (show->prev == NULL)
			printf("%s%s %ju", any ? ", " : "", nvmm_exit_names[e],
			    (uintmax_t)v->exits[e]);
		else
			printf("%s%s %.1f", any ? ", " : "", nvmm_exit_names[e],
			    (double)(v->exits[e] - pv->exits[e]) / show->secs);
		any = true;
	}
	printf("%s\n", any ? "" : "-");
}

static void
text_vcpu(const struct stats_show *show, const struct nvmm_ctl_host_mach *m,
    const struct nvmm_ctl_host_vcpu *v, const struct nvmm_ctl_host_vcpu *pv)
{
	char uuid[NVMM_UUID_STRLEN];

	nvmm_uuid_format(m->uuid, uuid);
	printf("%-7u %-36s %-4u ", (unsigned)m->machid, uuid,
	    (unsigned)v->cpuid);
	if (show->prev == NULL)
		printf("%-10ju %-13.6f ", (uintmax_t)v->nruns,
		    (double)v->run_ns / 1e9);
	else
		printf("%-10.1f %-13.1f ",
		    (double)(v->nruns - pv->nruns) / show->secs,
		    (double)(v->run_ns - pv->run_ns) / 1e7 / show->secs);
	text_exits(show, v, pv);
}

static void
text_print(const struct stats_show *show)
{
	const struct nvmm_host_stats *hs = show->cur;
	const struct nvmm_ctl_host_mach *m;
	size_t i, j = 0, k = 0, pk = 0;
	char when[32];
	time_t now;

	if (show->prev != NULL) {
		now = time(NULL);
		strftime(when, sizeof(when), "%F %T", localtime(&now));
		printf("%s, rates over %.3f s\n", when, show->secs);
	}
	printf("Machine UUID                                 VCPU %s\n",
	    show->prev == NULL ? "Runs       Guest time    Exits" :
	    "Runs/s     Guest %       Exits/s");
	for (i = 0; i < hs->nvcpus; i++) {
		m = mach_of(hs, &hs->vcpus[i], &k);
		if (m == NULL)
			continue;
		text_vcpu(show, m, &hs->vcpus[i], show->prev == NULL ?
		    &zero_vcpu : prev_of(show, m, &hs->vcpus[i], &j, &pk));
	}
	if (show->prev != NULL)
		printf("\n");
}

/* -------------------------------------------------------------------------- */

static json_t *
json_vcpu(const struct stats_show *show, const struct nvmm_ctl_host_vcpu *v,
    const struct nvmm_ctl_host_vcpu *pv)
{
	json_t *o = json_object(), *exits = json_object();
	double s = show->secs;
	size_t e;

	if (o == NULL || exits == NULL)
		errx(1, "out of memory building JSON");
	json_set_uint(o, "id", v->cpuid);
	if (show->prev == NULL) {
		json_set_uint(o, "runs", v->nruns);
		json_set_uint(o, "run_ns", v->run_ns);
	} else {
		json_set_new(o, "runs_per_s",
		    json_real((double)(v->nruns - pv->nruns) / s));
		json_set_new(o, "guest_ratio",
		    json_real((double)(v->run_ns - pv->run_ns) / 1e9 / s));
	}
	for (e = 0; nvmm_exit_names[e] != NULL; e++) {
		if (show->prev == NULL)
			json_set_uint(exits, nvmm_exit_names[e], v->exits[e]);
		else
			json_set_new(exits, nvmm_exit_names[e], json_real(
			    (double)(v->exits[e] - pv->exits[e]) / s));
	}
	json_set_new(o, show->prev == NULL ? "exits" : "exits_per_s", exits);
	return o;
}

/* A machine and its VCPUs, from vcpus[*i] on. */
static json_t *
json_stats_machine(const struct stats_show *show,
    const struct nvmm_ctl_host_mach *hm, size_t *i, size_t *j, size_t *pk)
{
	const struct nvmm_host_stats *hs = show->cur;
	const struct nvmm_ctl_host_vcpu *v;
	struct machine_view view;
	json_t *o, *vcpus;

	machine_view_of(hm, &view);
	o = json_machine(&view);
	vcpus = json_array();
	if (vcpus == NULL)
		errx(1, "out of memory building JSON");
	for (; *i < hs->nvcpus && hs->vcpus[*i].machid == hm->machid; (*i)++) {
		v = &hs->vcpus[*i];
		if (json_array_append_new(vcpus, json_vcpu(show, v,
		    show->prev == NULL ? &zero_vcpu :
		    prev_of(show, hm, v, j, pk))) == -1)
			errx(1, "out of memory building JSON");
	}
	json_set_new(o, "vcpu_stats", vcpus);
	return o;
}

/* One object; with -i one a line, as JSON Lines, one per interval. */
static void
json_stats_print(const struct stats_show *show)
{
	const struct nvmm_host_stats *hs = show->cur;
	json_t *o = json_object(), *machs = json_array();
	size_t m, i = 0, j = 0, pk = 0;
	struct timespec now;

	if (o == NULL || machs == NULL)
		errx(1, "out of memory building JSON");
	for (m = 0; m < hs->nmachs; m++)
		if (json_array_append_new(machs, json_stats_machine(show,
		    &hs->machs[m], &i, &j, &pk)) == -1)
			errx(1, "out of memory building JSON");
	if (show->prev != NULL) {
		clock_gettime(CLOCK_REALTIME, &now);
		json_set_new(o, "time", json_real((double)now.tv_sec +
		    (double)now.tv_nsec / 1e9));
		json_set_new(o, "interval", json_real(show->secs));
	}
	json_set_new(o, "machines", machs);
	json_print(o);
}

void
stats_print(const struct stats_show *show)
{
	if (show->json)
		json_stats_print(show);
	else
		text_print(show);
}
