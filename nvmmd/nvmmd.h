/*
 * nvmmd: the daemon that owns the NVMM driver (kernel/) and serves it to
 * unprivileged emulators over a Unix socket.
 *   main.c      options, signals, the event loop
 *   log.c       syslog, or stderr in the foreground
 *   listener.c  accepting, peer credentials, who may connect as what
 *   sockpath.c  the socket: from systemd, or bound safely at its path
 *   session.c   one connection: hello, packets in, replies out
 *   ops.c       the requests, and the role table that admits them
 *   vcpu.c      machines' VCPU threads and the doorbell they answer
 *   watcher.c   turns a stop written in a comm page into a kick
 *   limits.c    what one uid may hold
 *   config.c    nvmmd.conf and the command line
 *   sandbox.c   seccomp: what the daemon and its VCPU threads may call
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
	LIST_ENTRY(nvmmd_vcpu) running;	/* on the watcher's list */
	bool on_watch;

	/* Statistics, written by the VCPU thread, read by anyone. */
	uint64_t nruns;
	uint64_t run_ns;
	uint64_t run_since;		/* start of the run under way, or 0 */
	uint64_t exits[NVMM_CTL_STATS_NEXITS];
};

/* What the daemon keeps of a machine beside kernel/'s own record. */
struct nvmmd_machine {
	bool present;
	struct nvmm_owner *owner;
	uid_t uid;			/* who created it, and is charged */
	pid_t pid;
	char comm[16];
	uint64_t ram;			/* bytes of hva_map, for the limits */
	uint64_t mapped;		/* address space, for the limits */
	struct nvmmd_vcpu *vcpus[NVMM_MAX_VCPUS];
};

/* log.c */
void	log_configure(bool to_syslog, int level, int facility);
bool	log_refusal_allowed(uid_t uid);
void	log_refusal(uid_t uid, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
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
int	sockpath_open(const struct nvmmd_config *cfg, int *fdp,
	    bool *activated, char *why, size_t whylen);
void	sockpath_note(const char *path, bool activated);
void	sockpath_remove(void);
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
};

/* ops.c: handles one request; false when the connection must close. */
bool	ops_dispatch(struct nvmmd_session *s, const Nvmm__Request *req,
	    int fd, Nvmm__Reply *reply, int *reply_fd,
	    struct nvmmd_scratch *scratch);
void	ops_session_end(struct nvmmd_session *s);

/* vcpu.c */
int	vcpu_start(struct nvmm_owner *owner, nvmm_machid_t machid,
	    nvmm_cpuid_t cpuid);
void	vcpu_stop(nvmm_machid_t machid, nvmm_cpuid_t cpuid);
int	machine_record(nvmm_machid_t machid, struct nvmm_owner *owner,
	    const struct nvmmd_peer *peer);
int	machine_ram_charge(nvmm_machid_t machid, uint64_t size);
void	machine_ram_refund(nvmm_machid_t machid, uint64_t size);
void	machine_stop_vcpus(nvmm_machid_t machid);
void	machine_forget(nvmm_machid_t machid);
void	machines_stop_owned(struct nvmm_owner *owner);
void	machine_list(struct nvmm_owner *owner, uint64_t machids[2]);
int	machine_owner(struct nvmm_owner *owner, struct nvmm_ctl_mach_owner *);
int	vcpu_stats(struct nvmm_owner *owner, struct nvmm_ctl_vcpu_stats *);

/* limits.c */
int	limits_charge(uid_t uid, enum nvmmd_limit what, uint64_t amount);
void	limits_refund(uid_t uid, enum nvmmd_limit what, uint64_t amount);
int	limits_connect(const struct nvmmd_peer *peer, const gid_t *groups,
	    size_t ngroups);

/* sandbox.c: 0 or an errno; a call outside the list kills the process. */
int	sandbox_enter_daemon(void);	/* every thread, after start-up */
int	sandbox_enter_vcpu(void);	/* the calling VCPU thread, on top */

/* watcher.c */
int	watcher_start(void);
void	watcher_add(struct nvmmd_vcpu *v);
void	watcher_remove(struct nvmmd_vcpu *v);

#endif /* NVMMD_H */
