/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmmd: the daemon that owns the NVMM driver (kernel/) and serves it to
 * unprivileged emulators over a Unix socket.
 *   main.c      options, signals, the event loop
 *   log.c       syslog, or stderr in the foreground
 *   listener.c  accepting, peer credentials, who may connect as what
 *   sockpath.c  the socket: from systemd, or bound safely at its path
 *   session.c   one connection: hello, packets in, replies out
 *   ops.c       the requests, and the role table that admits them
 *   machine.c   machines, VCPUs and RAM: one call each, charged first
 *   vcpu.c      VCPU threads, the doorbell they answer, their stop bells
 *   limits.c    what one uid may hold
 *   config.c    nvmmd.conf and the command line
 *   sandbox.c   seccomp: what the daemon and its VCPU threads may call
 *   privsep.c   root for start-up only, then the nvmmd user for good
 *   stats.c     the host's statistics and the metrics text, built once
 *   metrics.c   /metrics over HTTP, at metrics-listen
 * Its functions that can fail return 0 or a positive errno, as kernel/'s
 * and proto/'s do, and never set errno.
 */
#ifndef NVMMD_H
#define NVMMD_H

#include <sys/types.h>
#include <bsd/sys/queue.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

struct evbuffer;
struct sockaddr_un;

#include "nvmm_kern.h"
#include "nvmm_doorbell.h"
#include "nvmm_wire.h"

#include "nvmmd_config.h"

extern struct event_base *nvmmd_base;

/* Who is at the other end of a connection. */
struct nvmmd_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool may_user;
	bool may_admin;
	bool may_monitor;
};

struct nvmmd_session {
	TAILQ_ENTRY(nvmmd_session) link;
	int fd;
	struct event *ev;
	struct nvmmd_peer peer;
	Nvmm__Role role;		/* ROLE_NONE until the hello */
	struct nvmm_owner *owner;	/* kernel/'s owner for this role */
};

/* A VCPU and the thread that alone runs it. */
struct nvmmd_vcpu {
	nvmm_machid_t machid;
	nvmm_cpuid_t cpuid;
	struct nvmm_owner *owner;
	struct nvmm_comm_page *comm;
	struct nvmm_doorbell *db;
	pthread_t thread;
	atomic_bool quit;
	int bell;			/* the stop bell: an eventfd */
	struct event *bell_ev;		/* the event loop's, on bell */
};

/* Why a peer was refused, as the metrics count it (log.c names them). */
enum nvmmd_refusal {
	NVMMD_REFUSAL_CONNECTION,	/* not let in: groups, connections */
	NVMMD_REFUSAL_ROLE,		/* a hello asking for a role refused */
	NVMMD_REFUSAL_REQUEST,		/* a request outside its role */
	NVMMD_REFUSAL_MALFORMED,	/* a bad packet, hello or request */
	NVMMD_REFUSAL_TIMEOUT,		/* no hello in time */
	NVMMD_REFUSAL_LIMIT,		/* over a limit of nvmmd.conf */
	NVMMD_NREFUSALS
};

/* log.c */
void	log_configure(bool to_syslog, int level, int facility);
bool	log_refusal_allowed(uid_t uid, enum nvmmd_refusal why);
uint64_t log_refusals(enum nvmmd_refusal why);
const char *log_refusal_name(enum nvmmd_refusal why);
void	log_peer_describe(const struct nvmmd_peer *peer, char *buf,
	    size_t len);
void	log_peer_refusal(const struct nvmmd_peer *peer,
	    enum nvmmd_refusal why, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_refusal(uid_t uid, enum nvmmd_refusal why, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* listener.c */
int	listener_open(const struct nvmmd_config *cfg, char *why,
	    size_t whylen);
int	listener_start(void);
bool	listener_is_activated(void);
void	listener_close(void);

/* sockpath.c */
int	sockpath_clear_stale(const struct sockaddr_un *sun, int type,
	    char *why, size_t whylen);
int	sockpath_open(const struct nvmmd_config *cfg, int *fdp,
	    bool *activated, char *why, size_t whylen);
void	sockpath_note(const char *path, bool activated);
void	sockpath_remove(void);
int	peer_identify(int fd, struct nvmmd_peer *peer);

/* session.c */
void	session_new(int fd, const struct nvmmd_peer *peer);
void	session_close_all(void);
unsigned session_count(void);	/* connections open now */
void	session_refuse(int fd, const char *reason);

/* What a reply points into; it lives until the reply is sent. */
struct nvmmd_scratch {
	uint8_t bytes[256];
	Nvmm__CapabilityResult capability;
	Nvmm__MachineCreateResult machine_create;
	Nvmm__CtlResult ctl;
	Nvmm__HostStatsResult host_stats;
	Nvmm__MetricsResult metrics;
};

/* ops.c: handles one request; false when the connection must close. */
bool	ops_dispatch(struct nvmmd_session *s, const Nvmm__Request *req,
	    int fd, Nvmm__Reply *reply, int *reply_fd,
	    struct nvmmd_scratch *scratch);
void	ops_session_end(struct nvmmd_session *s);

/* machine.c: kernel/'s errno order, then the limits, then kernel/. */
int	machine_create(struct nvmm_owner *owner, const struct nvmmd_peer *peer,
	    nvmm_machid_t *machidp, int *fdp);
void	machines_init(void);	/* before the first session */
int	machine_vcpu_create(struct nvmm_owner *owner, nvmm_machid_t machid,
	    nvmm_cpuid_t cpuid, int *bellfdp);
int	machine_vcpu_destroy(struct nvmm_owner *owner, nvmm_machid_t machid,
	    nvmm_cpuid_t cpuid);
int	machine_hva_map(struct nvmm_owner *owner, nvmm_machid_t machid,
	    uintptr_t hva, size_t size, int memfd, off_t offset);
int	machine_hva_unmap(struct nvmm_owner *owner, nvmm_machid_t machid,
	    uintptr_t hva, size_t size);

/*
 * vcpu.c: a VCPU's thread and stop bell; cancel tells the thread to end,
 * join waits for it and frees the record.  vcpu_bell_fd: a descriptor of
 * the bell for the client, the caller's to close.
 */
int	vcpu_start(struct nvmm_owner *owner, nvmm_machid_t machid,
	    nvmm_cpuid_t cpuid, struct nvmmd_vcpu **vp);
int	vcpu_bell_fd(const struct nvmmd_vcpu *v, int *fdp);
void	vcpu_cancel(struct nvmmd_vcpu *v);
void	vcpu_join(struct nvmmd_vcpu *v);

/* limits.c */
int	limits_charge(uid_t uid, enum nvmmd_limit what, uint64_t amount);
void	limits_refund(uid_t uid, enum nvmmd_limit what, uint64_t amount);
int	limits_connect(const struct nvmmd_peer *peer, const gid_t *groups,
	    size_t ngroups);

/* sandbox.c: 0 or an errno; a call outside the list kills the process. */
int	sandbox_enter_daemon(void);	/* every thread, after start-up */
int	sandbox_enter_vcpu(void);	/* the calling VCPU thread, on top */

/* privsep.c: prepare, then the files the user must remove, then drop. */
int	privsep_prepare(const struct nvmmd_config *cfg, char *why,
	    size_t whylen);
void	privsep_files_begin(void);
void	privsep_files_end(void);
int	privsep_drop(char *why, size_t whylen);

/* stats.c: what owner may see; each returns 0 or an errno. */
void	stats_init(void);		/* at start-up: the start time */
int	stats_host_memfd(struct nvmm_owner *owner, uint32_t *nmachsp,
	    uint32_t *nvcpusp, int *fdp);
int	stats_metrics(struct nvmm_owner *owner, struct evbuffer *b);
int	stats_metrics_memfd(struct nvmm_owner *owner, uint64_t *sizep,
	    int *fdp);

/* metrics.c: at start-up, before the sandbox; stop at the end. */
int	metrics_start(const struct nvmmd_config *cfg, char *why,
	    size_t whylen);
void	metrics_stop(void);

#endif /* NVMMD_H */
