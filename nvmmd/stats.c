/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The host's statistics: kernel/'s snapshot of every machine and VCPU,
 * for the HostStats request, and the one place the Prometheus text is
 * built, for both /metrics (metrics.c) and the Metrics request, so that
 * nvmmctl metrics prints what a scrape sees.
 *
 * Series (nvmmd.8 lists them): per VCPU, counters labelled machine_uuid,
 * machine_id, vcpu and owner_uid (exits by reason, for the reasons that
 * occurred); per machine, an info series and its creation time; for the
 * daemon, its connections, refusals by reason, start time and build.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include <config.h>

#include "nvmm_stats.h"
#include "nvmmd.h"

/* Room for the first try; a larger host costs one more. */
#define STATS_FIRST_VCPUS	64

static struct timespec stats_started;

void
stats_init(void)
{
	clock_gettime(CLOCK_REALTIME, &stats_started);
}

/*
 * What owner may see of the host, in one allocation as a HostStats reply
 * lays it out.  kernel/ says how many there are when they do not fit;
 * machines may come between two tries, so it tries a few times.
 */
int
stats_snapshot(struct nvmm_owner *owner, struct nvmm_host_stats *hs)
{
	struct nvmm_kern_host h;
	size_t maxvcpus = STATS_FIRST_VCPUS, size;
	void *buf;
	int tries, error = ENOSPC;

	for (tries = 0; tries < 4 && error == ENOSPC; tries++) {
		size = NVMM_MAX_MACHINES * sizeof(struct nvmm_ctl_host_mach) +
		    maxvcpus * sizeof(struct nvmm_ctl_host_vcpu);
		buf = calloc(1, size);
		if (buf == NULL)
			return ENOMEM;
		memset(&h, 0, sizeof(h));
		h.machs = buf;
		h.maxmachs = NVMM_MAX_MACHINES;
		h.vcpus = (struct nvmm_ctl_host_vcpu *)(void *)(h.machs +
		    NVMM_MAX_MACHINES);
		h.maxvcpus = maxvcpus;
		error = nvmm_kern_host_stats(owner, &h);
		if (error == 0)
			break;
		free(buf);
		maxvcpus = h.nvcpus + STATS_FIRST_VCPUS;
	}
	if (error)
		return error;
	/* The VCPUs follow the machines, as the reply has them. */
	memmove(h.machs + h.nmachs, h.vcpus, h.nvcpus * sizeof(*h.vcpus));
	hs->machs = h.machs;
	hs->vcpus = (struct nvmm_ctl_host_vcpu *)(void *)(h.machs + h.nmachs);
	hs->nmachs = h.nmachs;
	hs->nvcpus = h.nvcpus;
	return 0;
}

int
stats_host_memfd(const struct nvmm_host_stats *hs, uint32_t *nmachsp,
    uint32_t *nvcpusp, int *fdp)
{
	int error;

	error = nvmm_memfd_sealed(hs->machs,
	    hs->nmachs * sizeof(*hs->machs) + hs->nvcpus * sizeof(*hs->vcpus),
	    fdp);
	*nmachsp = (uint32_t)hs->nmachs;
	*nvcpusp = (uint32_t)hs->nvcpus;
	return error;
}

/* -------------------------------------------------------------------------- */

/*
 * A label value as the text format has it: backslash, quote and newline
 * escaped; what is not printable ASCII (a command name is any bytes) as
 * '?', so that the text stays valid UTF-8.
 */
static void
metrics_label(struct evbuffer *b, const char *s, size_t max)
{
	size_t i;
	char c;

	for (i = 0; i < max && s[i] != '\0'; i++) {
		c = s[i];
		if (c == '\\' || c == '"')
			evbuffer_add_printf(b, "\\%c", c);
		else if (c == '\n')
			evbuffer_add(b, "\\n", 2);
		else if (c < 0x20 || c > 0x7e)
			evbuffer_add(b, "?", 1);
		else
			evbuffer_add(b, &c, 1);
	}
}

static void
metrics_head(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* The labels of a machine's series: {machine_uuid=..,...  (still open). */
static void
metrics_mach_labels(struct evbuffer *b, const struct nvmm_ctl_host_mach *m)
{
	char uuid[NVMM_UUID_STRLEN];

	nvmm_uuid_format(m->uuid, uuid);
	evbuffer_add_printf(b, "{machine_uuid=\"%s\",machine_id=\"%u\","
	    "owner_uid=\"%u\"", uuid, (unsigned)m->machid, (unsigned)m->uid);
}

static const struct nvmm_ctl_host_mach *
metrics_mach_of(const struct nvmm_host_stats *hs, nvmm_machid_t machid)
{
	size_t i;

	for (i = 0; i < hs->nmachs; i++)
		if (hs->machs[i].machid == machid)
			return &hs->machs[i];
	return NULL;
}

static void
metrics_machines(struct evbuffer *b, const struct nvmm_host_stats *hs)
{
	const struct nvmm_ctl_host_mach *m;
	size_t i;

	metrics_head(b, "nvmm_machines", "gauge", "Machines on the host.");
	evbuffer_add_printf(b, "nvmm_machines %zu\n", hs->nmachs);
	metrics_head(b, "nvmm_vcpus", "gauge", "VCPUs on the host.");
	evbuffer_add_printf(b, "nvmm_vcpus %zu\n", hs->nvcpus);
	metrics_head(b, "nvmm_machine_info", "gauge",
	    "A machine, with its creator's pid and command as labels.");
	for (i = 0; i < hs->nmachs; i++) {
		m = &hs->machs[i];
		evbuffer_add(b, "nvmm_machine_info", 17);
		metrics_mach_labels(b, m);
		evbuffer_add_printf(b, ",owner_pid=\"%d\",command=\"",
		    (int)m->pid);
		metrics_label(b, m->comm, sizeof(m->comm));
		evbuffer_add(b, "\"} 1\n", 5);
	}
	metrics_head(b, "nvmm_machine_created_timestamp_seconds", "gauge",
	    "When the machine was created, since the Epoch.");
	for (i = 0; i < hs->nmachs; i++) {
		m = &hs->machs[i];
		evbuffer_add(b, "nvmm_machine_created_timestamp_seconds", 38);
		metrics_mach_labels(b, m);
		evbuffer_add_printf(b, "} %jd.%09u\n", (intmax_t)m->created_sec,
		    (unsigned)m->created_nsec);
	}
	metrics_head(b, "nvmm_machine_ram_bytes", "gauge",
	    "Host memory registered with the machine.");
	for (i = 0; i < hs->nmachs; i++) {
		evbuffer_add(b, "nvmm_machine_ram_bytes", 22);
		metrics_mach_labels(b, &hs->machs[i]);
		evbuffer_add_printf(b, "} %ju\n", (uintmax_t)hs->machs[i].nram);
	}
}

/* One VCPU series: name{machine labels,vcpu="n"[,reason="r"]} value. */
static void
metrics_vcpu_series(struct evbuffer *b, const char *name,
    const struct nvmm_ctl_host_mach *m, const struct nvmm_ctl_host_vcpu *v,
    const char *reason)
{
	evbuffer_add(b, name, strlen(name));
	metrics_mach_labels(b, m);
	evbuffer_add_printf(b, ",vcpu=\"%u\"", (unsigned)v->cpuid);
	if (reason != NULL)
		evbuffer_add_printf(b, ",reason=\"%s\"", reason);
	evbuffer_add(b, "} ", 2);
}

enum metrics_vcpu_kind { MV_RUNS, MV_SECONDS, MV_EXITS };

static void
metrics_vcpu_all(struct evbuffer *b, const struct nvmm_host_stats *hs,
    const char *name, enum metrics_vcpu_kind kind)
{
	const struct nvmm_ctl_host_mach *m;
	const struct nvmm_ctl_host_vcpu *v;
	size_t i, e;

	for (i = 0; i < hs->nvcpus; i++) {
		v = &hs->vcpus[i];
		if ((m = metrics_mach_of(hs, v->machid)) == NULL)
			continue;
		if (kind == MV_RUNS) {
			metrics_vcpu_series(b, name, m, v, NULL);
			evbuffer_add_printf(b, "%ju\n", (uintmax_t)v->nruns);
		} else if (kind == MV_SECONDS) {
			metrics_vcpu_series(b, name, m, v, NULL);
			evbuffer_add_printf(b, "%ju.%09ju\n",
			    (uintmax_t)(v->run_ns / 1000000000),
			    (uintmax_t)(v->run_ns % 1000000000));
		} else {
			for (e = 0; nvmm_exit_names[e] != NULL; e++) {
				if (v->exits[e] == 0)
					continue;
				metrics_vcpu_series(b, name, m, v,
				    nvmm_exit_names[e]);
				evbuffer_add_printf(b, "%ju\n",
				    (uintmax_t)v->exits[e]);
			}
		}
	}
}

static void
metrics_vcpus(struct evbuffer *b, const struct nvmm_host_stats *hs)
{
	metrics_head(b, "nvmm_vcpu_runs_total", "counter",
	    "Runs of the VCPU (nvmm_vcpu_run calls that ended in an exit).");
	metrics_vcpu_all(b, hs, "nvmm_vcpu_runs_total", MV_RUNS);
	metrics_head(b, "nvmm_vcpu_guest_seconds_total", "counter",
	    "Time the VCPU spent in its runs.");
	metrics_vcpu_all(b, hs, "nvmm_vcpu_guest_seconds_total", MV_SECONDS);
	metrics_head(b, "nvmm_vcpu_exits_total", "counter",
	    "Exits of the VCPU by reason, for the reasons that occurred.");
	metrics_vcpu_all(b, hs, "nvmm_vcpu_exits_total", MV_EXITS);
}

static void
metrics_daemon(struct evbuffer *b)
{
	int r;

	metrics_head(b, "nvmmd_connections", "gauge",
	    "Client connections open now.");
	evbuffer_add_printf(b, "nvmmd_connections %u\n", workers_count());
	metrics_head(b, "nvmmd_refusals_total", "counter",
	    "Peers and requests refused, by reason.");
	for (r = 0; r < NVMMD_NREFUSALS; r++)
		evbuffer_add_printf(b, "nvmmd_refusals_total{reason=\"%s\"} "
		    "%ju\n", log_refusal_name(r), (uintmax_t)log_refusals(r));
	metrics_head(b, "nvmmd_start_time_seconds", "gauge",
	    "When nvmmd started, since the Epoch.");
	evbuffer_add_printf(b, "nvmmd_start_time_seconds %jd.%09ld\n",
	    (intmax_t)stats_started.tv_sec, stats_started.tv_nsec);
	metrics_head(b, "nvmmd_build_info", "gauge",
	    "The version of nvmmd and of its protocol.");
	evbuffer_add_printf(b, "nvmmd_build_info{version=\"%s\",protocol=\""
	    "%u\",kernel_api=\"%u\"} 1\n", PACKAGE_VERSION,
	    NVMM_PROTO_VERSION, NVMM_KERN_VERSION);
}

void
stats_metrics(const struct nvmm_host_stats *hs, struct evbuffer *b)
{
	metrics_machines(b, hs);
	metrics_vcpus(b, hs);
	metrics_daemon(b);
}

int
stats_metrics_memfd(const struct nvmm_host_stats *hs, uint64_t *sizep,
    int *fdp)
{
	struct evbuffer *b;
	size_t len;
	int error;

	b = evbuffer_new();
	if (b == NULL)
		return ENOMEM;
	stats_metrics(hs, b);
	len = evbuffer_get_length(b);
	error = nvmm_memfd_sealed(evbuffer_pullup(b, -1), len, fdp);
	*sizep = len;
	evbuffer_free(b);
	return error;
}
