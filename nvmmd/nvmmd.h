/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmmd: the daemon that owns the NVMM driver (kernel/) and serves it to
 * unprivileged emulators over a Unix socket.
 *   main.c      options, signals, the event loop
 *   log.c       syslog, or stderr in the foreground
 *   listener.c  accepting, peer credentials, who may connect as what
 *   workers.c   the parent's workers: one a connection, the machine ids
 *   host.c      requests about the whole host, asked of every worker
 *   worker.c    a worker: one connection's machines, and its parent
 *   sockpath.c  the socket: from systemd, or bound safely at its path
 *   session.c   a worker's connection: hello, packets in, replies out
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
#include "nvmm_stats.h"
#include "nvmm_wire.h"
#include "nvmm_worker.pb-c.h"

#include "nvmmd_config.h"

extern struct event_base *nvmmd_base;

/* The most supplementary groups of a peer the daemon reads. */
#define NVMMD_MAX_GROUPS	256

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

/* What a machine is charged beside itself: its comm memfd, mapped. */
#define NVMMD_MACHINE_COMM_SIZE	((uint64_t)NVMM_SLOTS_SIZE)

/* NVMM_CTL data larger than any NVMM structure is refused. */
#define NVMMD_CTL_DATA_MAX	256

/* The parent's record of a worker (workers.c). */
struct nvmmd_worker {
	TAILQ_ENTRY(nvmmd_worker) link;
	pid_t pid;
	int chan;			/* the socketpair, or the registration */
	struct event *ev;
	struct nvmmd_peer peer;		/* its client, as the parent read it */
	Nvmm__Role role;		/* granted by its hello */
	uint64_t charged[NVMMD_NLIMITS];
	unsigned nmachines;		/* ids it holds */
	Nvmmw__Up *stash;		/* a host request read during a query */
	bool listed;
	bool registered;		/* forked, or registration accepted */
	bool doomed;			/* to go at the next event */
	bool exited;			/* ... as it closed its end */
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
void	log_worker_refusal(const struct nvmmd_peer *peer,
	    enum nvmmd_refusal why, const char *text);
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
void	listener_forget(void);		/* in a worker: close, remove nothing */
bool	peer_may_role(const struct nvmmd_peer *peer, Nvmm__Role role);
int	peer_identify_groups(int fd, struct nvmmd_peer *peer, gid_t *groups,
	    size_t *ngroups);

/* main.c */
void	main_shutdown(void);		/* end every guest, then the daemon */
void	main_forget(void);		/* in a worker */

/* workers.c: the parent's */
int	workers_open(const struct nvmmd_config *cfg, char *why,
	    size_t whylen);		/* the worker socket, at start-up */
int	workers_start(void);
void	workers_close(void);
const char *workers_path(void);
int	workers_spawn(int fd, const struct nvmmd_peer *peer);
void	workers_gone(struct nvmmd_worker *w, bool kill_it, const char *why);
void	workers_reap(void);
void	workers_quit_all(void);
unsigned workers_count(void);
struct nvmmd_worker *workers_first(void);
struct nvmmd_worker *workers_next(struct nvmmd_worker *w);
struct nvmmd_worker *workers_holder(nvmm_machid_t machid);
Nvmmw__Answer *workers_query(struct nvmmd_worker *w, Nvmmw__Down *down,
	    int *fdp, Nvmmw__Up **upp);

/* worker.c: a worker's */
int	worker_main(int client, int chan, const struct nvmmd_peer *peer,
	    const char *path);
bool	worker_is(void);
int	worker_reserve(nvmm_machid_t *machidp);
void	worker_release(nvmm_machid_t machid);
int	worker_charge(enum nvmmd_limit what, uint64_t amount);
void	worker_refund(enum nvmmd_limit what, uint64_t amount);
void	worker_role(Nvmm__Role role);
void	worker_refusal(enum nvmmd_refusal why, const char *text);
bool	worker_elsewhere(nvmm_machid_t machid);
int	worker_host(const Nvmm__Request *req, Nvmm__Reply *reply,
	    int *reply_fd, void **holdp);
void	worker_host_done(void *hold);

/* sockpath.c */
int	sockpath_clear_stale(const struct sockaddr_un *sun, int type,
	    char *why, size_t whylen);
int	sockpath_open(const struct nvmmd_config *cfg, int *fdp,
	    bool *activated, char *why, size_t whylen);
void	sockpath_note(const char *path, bool activated);
void	sockpath_remove(void);
int	sockpath_open_workers(const char *path, int *fdp, char *why,
	    size_t whylen);
int	peer_identify(int fd, struct nvmmd_peer *peer);

/* session.c */
void	session_new(int fd, const struct nvmmd_peer *peer);
void	session_close_all(void);
void	session_refuse(int fd, const char *reason);

/* What a reply points into; it lives until the reply is sent. */
struct nvmmd_scratch {
	uint8_t bytes[256];
	Nvmm__CapabilityResult capability;
	Nvmm__MachineCreateResult machine_create;
	Nvmm__CtlResult ctl;
	Nvmm__HostStatsResult host_stats;
	Nvmm__MetricsResult metrics;
	void *hold;		/* the parent's reply to a host request */
};

/* ops.c: handles one request; false when the connection must close. */
bool	ops_dispatch(struct nvmmd_session *s, const Nvmm__Request *req,
	    int fd, Nvmm__Reply *reply, int *reply_fd,
	    struct nvmmd_scratch *scratch);
void	ops_session_end(struct nvmmd_session *s);
bool	ops_permits(const Nvmm__Request *req, Nvmm__Role role);
bool	ops_host_request(const Nvmm__Request *req, Nvmm__Role role);

/* host.c: the parent's */
bool	host_request(struct nvmmd_worker *from, const Nvmm__Request *req,
	    Nvmm__Reply *reply, int *fdp, struct nvmmd_scratch *scratch);
int	host_snapshot(struct nvmm_host_stats *hs);

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
/* A worker a new parent takes over: counted whatever the limits. */
void	limits_adopt(const struct nvmmd_peer *peer, const gid_t *groups,
	    size_t ngroups, const uint64_t charged[NVMMD_NLIMITS]);

/* sandbox.c: 0 or an errno; a call outside the list kills the process. */
int	sandbox_enter_daemon(void);	/* every thread, after start-up */
int	sandbox_enter_vcpu(void);	/* the calling VCPU thread, on top */
int	sandbox_enter_worker(void);	/* a worker, on top, once forked */

/* privsep.c: prepare, then the files the user must remove, then drop. */
int	privsep_prepare(const struct nvmmd_config *cfg, char *why,
	    size_t whylen);
void	privsep_files_begin(void);
void	privsep_files_end(void);
int	privsep_drop(char *why, size_t whylen);

/* stats.c: snapshot what owner may see; build the answers from one. */
void	stats_init(void);		/* at start-up: the start time */
int	stats_snapshot(struct nvmm_owner *owner, struct nvmm_host_stats *hs);
int	stats_host_memfd(const struct nvmm_host_stats *hs, uint32_t *nmachsp,
	    uint32_t *nvcpusp, int *fdp);
void	stats_metrics(const struct nvmm_host_stats *hs, struct evbuffer *b);
int	stats_metrics_memfd(const struct nvmm_host_stats *hs, uint64_t *sizep,
	    int *fdp);

/* metrics.c: at start-up, before the sandbox; stop at the end. */
int	metrics_start(const struct nvmmd_config *cfg, char *why,
	    size_t whylen);
void	metrics_stop(void);
void	metrics_forget(void);		/* in a worker */

#endif /* NVMMD_H */
