/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Requests about the whole host, answered by the parent: NVMM_CTL for the
 * root owner's roles (admins and monitors see every machine, whichever
 * worker holds it), HostStats, Metrics and Shutdown.  A worker hands them
 * over as its client made them (worker.c); the role table (ops.c) is
 * checked again here, against the role the parent itself granted.
 *
 * The parent knows which worker holds which id and nothing else of a
 * machine, so what is asked of one machine is asked of its worker, and
 * what is asked of all is asked of every worker that holds one.  Each
 * answer is believed only about the machines that worker holds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "nvmm_stats.h"
#include "nvmmd.h"

static void
host_ctl_reply(Nvmm__Reply *reply, struct nvmmd_scratch *scratch,
    const void *data, size_t size)
{
	Nvmm__CtlResult *result = &scratch->ctl;

	memcpy(scratch->bytes, data, size);
	nvmm__ctl_result__init(result);
	result->data.data = scratch->bytes;
	result->data.len = size;
	reply->result_case = NVMM__REPLY__RESULT_CTL;
	reply->ctl = result;
}

/* Every machine id in use: the root owner sees them all. */
static int
host_ctl_list(Nvmm__Reply *reply, struct nvmmd_scratch *scratch)
{
	struct nvmm_ctl_mach_list list;
	nvmm_machid_t machid;

	memset(&list, 0, sizeof(list));
	for (machid = 0; machid < NVMM_MAX_MACHINES; machid++)
		if (workers_holder(machid) != NULL)
			list.machids[machid / 64] |= 1ULL << (machid % 64);
	host_ctl_reply(reply, scratch, &list, sizeof(list));
	return 0;
}

/* An op on one machine, asked of the worker that holds it. */
static int
host_ctl_machine(const struct nvmmd_worker *from, const Nvmm__Ctl *ctl,
    Nvmm__Reply *reply, struct nvmmd_scratch *scratch)
{
	Nvmmw__Down down = NVMMW__DOWN__INIT;
	struct nvmmd_worker *w;
	Nvmmw__Answer *a;
	Nvmmw__Up *up;
	nvmm_machid_t machid;
	int error, fd;

	memcpy(&machid, ctl->data.data, sizeof(machid));
	if (machid >= NVMM_MAX_MACHINES)
		return EINVAL;
	if ((w = workers_holder(machid)) == NULL)
		return ENOENT;
	down.msg_case = NVMMW__DOWN__MSG_CTL;
	down.ctl = (Nvmm__Ctl *)(uintptr_t)ctl;
	if ((a = workers_query(w, &down, &fd, &up)) == NULL)
		return workers_holder(machid) == NULL ? ENOENT : EIO;
	if (fd != -1)
		close(fd);
	error = a->error;
	if (error == 0 && a->data.len != ctl->data.len)
		error = EIO;
	if (error == 0)
		host_ctl_reply(reply, scratch, a->data.data, a->data.len);
	nvmmw__up__free_unpacked(up, NULL);
	if (error == 0 && ctl->op == NVMM_CTL_MACH_KILL)
		log_info("pid %d uid %u killed machine %u",
		    (int)from->peer.pid, (unsigned)from->peer.uid,
		    (unsigned)machid);
	return error;
}

/* kernel/'s errno for an op it does not have or data of the wrong size. */
static int
host_ctl(const struct nvmmd_worker *from, const Nvmm__Ctl *ctl,
    Nvmm__Reply *reply, struct nvmmd_scratch *scratch)
{
	size_t size = nvmm_kern_ctl_size(ctl->op);

	if (size == 0 || ctl->data.len != size)
		return EINVAL;
	if (ctl->op == NVMM_CTL_MACH_LIST)
		return host_ctl_list(reply, scratch);
	return host_ctl_machine(from, ctl, reply, scratch);
}

/* -------------------------------------------------------------------------- */

/* True if every record of w's answer is of a machine w holds. */
static bool
host_stats_believable(struct nvmmd_worker *w, const struct nvmm_host_stats *hs)
{
	size_t i;

	for (i = 0; i < hs->nmachs; i++)
		if (workers_holder(hs->machs[i].machid) != w)
			return false;
	for (i = 0; i < hs->nvcpus; i++)
		if (workers_holder(hs->vcpus[i].machid) != w)
			return false;
	return true;
}

/* w's own machines and VCPUs, into *hs (empty when w has nothing to say). */
static void
host_stats_of(struct nvmmd_worker *w, struct nvmm_host_stats *hs)
{
	Nvmmw__Down down = NVMMW__DOWN__INIT;
	Nvmm__HostStats q = NVMM__HOST_STATS__INIT;
	Nvmmw__Answer *a;
	Nvmmw__Up *up;
	void *buf = NULL;
	size_t len;
	int fd;

	memset(hs, 0, sizeof(*hs));
	down.msg_case = NVMMW__DOWN__MSG_HOST_STATS;
	down.host_stats = &q;
	if ((a = workers_query(w, &down, &fd, &up)) == NULL)
		return;
	if (a->error == 0 && fd != -1 &&
	    nvmm_host_stats_len(a->nmachines, a->nvcpus, &len) == 0 &&
	    nvmm_memfd_read(fd, len, &buf) == 0) {
		nvmm_host_stats_take(hs, buf, a->nmachines, a->nvcpus);
		if (!host_stats_believable(w, hs)) {
			log_warnx("worker %d: statistics of machines it does "
			    "not hold; ignored", (int)w->pid);
			nvmm_host_stats_free(hs);
			memset(hs, 0, sizeof(*hs));
		}
	}
	if (fd != -1)
		close(fd);
	nvmmw__up__free_unpacked(up, NULL);
}

static int
host_mach_cmp(const void *a, const void *b)
{
	const struct nvmm_ctl_host_mach *x = a, *y = b;

	return (x->machid > y->machid) - (x->machid < y->machid);
}

static int
host_vcpu_cmp(const void *a, const void *b)
{
	const struct nvmm_ctl_host_vcpu *x = a, *y = b;

	if (x->machid != y->machid)
		return (x->machid > y->machid) - (x->machid < y->machid);
	return (x->cpuid > y->cpuid) - (x->cpuid < y->cpuid);
}

/* One worker's records after those gathered so far. */
static int
host_stats_add(struct nvmm_host_stats *all, const struct nvmm_host_stats *hs)
{
	size_t nm = all->nmachs + hs->nmachs, nv = all->nvcpus + hs->nvcpus;
	struct nvmm_host_stats grown;
	size_t len;
	void *buf;

	if (nvmm_host_stats_len(nm, nv, &len) != 0)
		return EPROTO;
	if ((buf = malloc(len == 0 ? 1 : len)) == NULL)
		return ENOMEM;
	nvmm_host_stats_take(&grown, buf, nm, nv);
	/* Empty ones have no arrays at all, which memcpy may not be given. */
	if (all->nmachs != 0)
		memcpy(grown.machs, all->machs,
		    all->nmachs * sizeof(*all->machs));
	if (hs->nmachs != 0)
		memcpy(grown.machs + all->nmachs, hs->machs,
		    hs->nmachs * sizeof(*hs->machs));
	if (all->nvcpus != 0)
		memcpy(grown.vcpus, all->vcpus,
		    all->nvcpus * sizeof(*all->vcpus));
	if (hs->nvcpus != 0)
		memcpy(grown.vcpus + all->nvcpus, hs->vcpus,
		    hs->nvcpus * sizeof(*hs->vcpus));
	nvmm_host_stats_free(all);
	*all = grown;
	return 0;
}

/*
 * Every machine of the host and its VCPUs, in id order, from every
 * worker that holds one (the caller frees it).
 */
int
host_snapshot(struct nvmm_host_stats *all)
{
	struct nvmm_host_stats hs;
	struct nvmmd_worker *w;
	int error = 0;

	memset(all, 0, sizeof(*all));
	for (w = workers_first(); w != NULL && error == 0;
	    w = workers_next(w)) {
		if (w->nmachines == 0 || w->doomed)
			continue;
		host_stats_of(w, &hs);
		error = host_stats_add(all, &hs);
		nvmm_host_stats_free(&hs);
	}
	if (error) {
		nvmm_host_stats_free(all);
		return error;
	}
	if (all->nmachs > 1)
		qsort(all->machs, all->nmachs, sizeof(*all->machs),
		    host_mach_cmp);
	if (all->nvcpus > 1)
		qsort(all->vcpus, all->nvcpus, sizeof(*all->vcpus),
		    host_vcpu_cmp);
	return 0;
}

/* -------------------------------------------------------------------------- */

static int
host_stats(Nvmm__Reply *reply, int *fdp, struct nvmmd_scratch *scratch)
{
	Nvmm__HostStatsResult *result = &scratch->host_stats;
	struct nvmm_host_stats hs;
	int error;

	error = host_snapshot(&hs);
	if (error)
		return error;
	nvmm__host_stats_result__init(result);
	error = stats_host_memfd(&hs, &result->nmachines, &result->nvcpus,
	    fdp);
	nvmm_host_stats_free(&hs);
	if (error == 0) {
		reply->result_case = NVMM__REPLY__RESULT_HOST_STATS;
		reply->host_stats = result;
	}
	return error;
}

static int
host_metrics(Nvmm__Reply *reply, int *fdp, struct nvmmd_scratch *scratch)
{
	Nvmm__MetricsResult *result = &scratch->metrics;
	struct nvmm_host_stats hs;
	int error;

	error = host_snapshot(&hs);
	if (error)
		return error;
	nvmm__metrics_result__init(result);
	error = stats_metrics_memfd(&hs, &result->size, fdp);
	nvmm_host_stats_free(&hs);
	if (error == 0) {
		reply->result_case = NVMM__REPLY__RESULT_METRICS;
		reply->metrics = result;
	}
	return error;
}

/*
 * Answers from's request into reply and *fdp; false when from had no
 * business handing it over (a request that is not about the host), which
 * only a worker gone wrong does.
 */
bool
host_request(struct nvmmd_worker *from, const Nvmm__Request *req,
    Nvmm__Reply *reply, int *fdp, struct nvmmd_scratch *scratch)
{
	if (!ops_host_request(req, from->role))
		return false;
	if (!ops_permits(req, from->role)) {
		log_peer_refusal(&from->peer, NVMMD_REFUSAL_REQUEST,
		    "pid %d uid %u: a host request outside role %d",
		    (int)from->peer.pid, (unsigned)from->peer.uid,
		    (int)from->role);
		reply->error = EPERM;
		return true;
	}
	switch (req->op_case) {
	case NVMM__REQUEST__OP_CTL:
		reply->error = host_ctl(from, req->ctl, reply, scratch);
		break;
	case NVMM__REQUEST__OP_HOST_STATS:
		reply->error = host_stats(reply, fdp, scratch);
		break;
	case NVMM__REQUEST__OP_METRICS:
		reply->error = host_metrics(reply, fdp, scratch);
		break;
	case NVMM__REQUEST__OP_SHUTDOWN:
		log_info("pid %d uid %u: shutdown", (int)from->peer.pid,
		    (unsigned)from->peer.uid);
		main_shutdown();
		reply->error = 0;
		break;
	default:
		return false;
	}
	return true;
}
