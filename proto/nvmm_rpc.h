/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The client end of the nvmmd protocol, for libnvmmclient, nvmmctl and
 * the tests: a connection, and one typed call per request.  The request
 * ids and the socket of a connection live in its struct nvmm_rpc and
 * nowhere else.
 *
 * Every call returns 0 or a positive errno value and leaves errno alone:
 * the operation's errno as the daemon gives it, or one of the transport's.
 * ENXIO: the daemon is gone.  EPROTO: the reply is not the one asked for.
 * Calls on one connection are serialised by its lock; each waits for its
 * own reply.
 */
#ifndef NVMM_RPC_H
#define NVMM_RPC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <nvmm.h>

#include "nvmm_stats.h"
#include "nvmm_wire.h"

struct nvmm_rpc {
	pthread_mutex_t lock;	/* one request and its reply at a time */
	int fd;			/* the socket, or -1 */
	uint64_t next_id;	/* the id of the last request sent */
};

#define NVMM_RPC_INITIALIZER	{ PTHREAD_MUTEX_INITIALIZER, -1, 0 }

/* $NVMM_SOCKET, or the default socket. */
const char *nvmm_rpc_path(void);

/*
 * Connects rpc, which is not connected, to the daemon at path and asks for
 * role.  A daemon that is not there is ENOENT (as no /dev/nvmm), one that
 * refuses the caller EACCES, one that speaks another protocol
 * EPROGMISMATCH, one that grants another role EPROTO.
 */
int	nvmm_rpc_open(struct nvmm_rpc *rpc, const char *path, Nvmm__Role role);

/* Room for the group names a refusal may name ("a or b"). */
#define NVMM_RPC_GROUPS_MAX	136

/* What a client can tell of why nvmm_rpc_open_why failed. */
struct nvmm_rpc_why {
	int connect_error;	/* connect(2)'s errno; 0: it connected */
	uint32_t version;	/* the daemon's protocol; 0: unknown */
	char groups[NVMM_RPC_GROUPS_MAX]; /* granting the role; "": unknown */
	char reason[64];	/* the daemon's other reason for an EACCES */
};

/* nvmm_rpc_open, and on failure why (which may be NULL). */
int	nvmm_rpc_open_why(struct nvmm_rpc *rpc, const char *path,
	    Nvmm__Role role, struct nvmm_rpc_why *why);
/*
 * One line for a person, of error from nvmm_rpc_open_why: self is the
 * program ("nvmmctl"), what the act that asked for role ("kill").
 */
void	nvmm_rpc_explain(char *buf, size_t size, int error, const char *path,
	    Nvmm__Role role, const struct nvmm_rpc_why *why, const char *self,
	    const char *what);
void	nvmm_rpc_close(struct nvmm_rpc *rpc);

int	nvmm_rpc_capability(struct nvmm_rpc *rpc, struct nvmm_capability *cap);
/* *commfdp: the machine's comm memfd, the caller's to close. */
int	nvmm_rpc_machine_create(struct nvmm_rpc *rpc, nvmm_machid_t *machidp,
	    int *commfdp);
int	nvmm_rpc_machine_destroy(struct nvmm_rpc *rpc, nvmm_machid_t machid);
int	nvmm_rpc_machine_configure(struct nvmm_rpc *rpc, nvmm_machid_t machid,
	    uint64_t op, const void *conf, size_t size);
/*
 * *bellfdp: the VCPU's stop bell (proto/nvmm_doorbell.h), the caller's to
 * close; nvmm_rpc_vcpu_create closes it, for a caller that never runs.
 */
int	nvmm_rpc_vcpu_create_bell(struct nvmm_rpc *rpc, nvmm_machid_t machid,
	    nvmm_cpuid_t cpuid, int *bellfdp);
int	nvmm_rpc_vcpu_create(struct nvmm_rpc *rpc, nvmm_machid_t machid,
	    nvmm_cpuid_t cpuid);
int	nvmm_rpc_vcpu_destroy(struct nvmm_rpc *rpc, nvmm_machid_t machid,
	    nvmm_cpuid_t cpuid);
/* memfd backs [hva, hva + size) from its offset 0; it stays the caller's. */
int	nvmm_rpc_hva_map(struct nvmm_rpc *rpc, nvmm_machid_t machid,
	    uint64_t hva, uint64_t size, int memfd);
int	nvmm_rpc_hva_unmap(struct nvmm_rpc *rpc, nvmm_machid_t machid,
	    uint64_t hva, uint64_t size);
int	nvmm_rpc_gpa_map(struct nvmm_rpc *rpc, nvmm_machid_t machid,
	    uint64_t hva, uint64_t gpa, uint64_t size, int prot);
int	nvmm_rpc_gpa_unmap(struct nvmm_rpc *rpc, nvmm_machid_t machid,
	    uint64_t gpa, uint64_t size);
/* On success the reply's data, which must be size bytes, is in data. */
int	nvmm_rpc_ctl(struct nvmm_rpc *rpc, int op, void *data, size_t size);
/* Every machine and VCPU, in one request; free with nvmm_host_stats_free. */
int	nvmm_rpc_host_stats(struct nvmm_rpc *rpc, struct nvmm_host_stats *hs);
/* The daemon's metrics text, NUL-terminated; the caller frees *textp. */
int	nvmm_rpc_metrics(struct nvmm_rpc *rpc, char **textp, size_t *lenp);
/*
 * Ends every guest and the daemon (the admin role).  The daemon answers
 * before it ends anything: ENXIO here is one that closed the connection
 * unanswered, a daemon that does not know the request.
 */
int	nvmm_rpc_shutdown(struct nvmm_rpc *rpc);

#endif /* NVMM_RPC_H */
