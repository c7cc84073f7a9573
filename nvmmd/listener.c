/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The listening socket and who connects to it.  The socket is open to
 * everyone by default so that a refused peer is seen, and logged with its
 * reason; what a peer may do is decided from its credentials (SO_PEERCRED
 * and SO_PEERGROUPS), never from anything it says.
 *
 * Accepting must not hurt the daemon when descriptors run out: one
 * descriptor is kept in reserve, so that at EMFILE the waiting peer can
 * still be taken, told no (closed) and logged, and the listener then
 * rests for a moment instead of spinning on a level-triggered event that
 * cannot be served.
 */
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmmd.h"

#define LISTENER_BACKOFF_MS	100

static int listen_fd = -1;
static bool listen_activated;		/* systemd's: not ours to unlink */
static struct event *listen_ev;
static struct event *backoff_ev;
static int reserve_fd = -1;

static bool
group_lookup(const char *name, gid_t *gid)
{
	struct group *gr;

	if (name == NULL || *name == '\0')
		return false;
	gr = getgrnam(name);
	if (gr == NULL)
		return false;
	*gid = gr->gr_gid;
	return true;
}

static bool
peer_in_group(const struct nvmmd_peer *peer, const gid_t *groups, size_t n,
    const char *name)
{
	gid_t gid;
	size_t i;

	if (!group_lookup(name, &gid))
		return false;
	if (peer->gid == gid)
		return true;
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

static int
peer_credentials(int fd, struct nvmmd_peer *peer, gid_t *groups,
    size_t *ngroups)
{
	struct ucred cred;
	socklen_t len;

	len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return errno;
	len = NVMMD_MAX_GROUPS * sizeof(gid_t);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
		return errno;
	*ngroups = len / sizeof(gid_t);
	memset(peer, 0, sizeof(*peer));
	peer->pid = cred.pid;
	peer->uid = cred.uid;
	peer->gid = cred.gid;
	return 0;
}

int
peer_identify_groups(int fd, struct nvmmd_peer *peer, gid_t *groups,
    size_t *ngroups)
{
	const struct nvmmd_config *cfg = config_current();
	int error;

	error = peer_credentials(fd, peer, groups, ngroups);
	if (error)
		return error;
	peer->may_admin = peer->uid == 0 || peer_in_group(peer, groups,
	    *ngroups, cfg->admin_group);
	peer->may_user = peer->may_admin || peer_in_group(peer, groups,
	    *ngroups, cfg->user_group);
	peer->may_monitor = peer->may_admin || peer_in_group(peer, groups,
	    *ngroups, cfg->monitor_group);
	return 0;
}

/* Whether a hello may have role: as the role table's columns say. */
bool
peer_may_role(const struct nvmmd_peer *peer, Nvmm__Role role)
{
	switch (role) {
	case NVMM__ROLE__ROLE_USER:
		return peer->may_user;
	case NVMM__ROLE__ROLE_ADMIN:
		return peer->may_admin;
	case NVMM__ROLE__ROLE_MONITOR:
		return peer->may_monitor || peer->may_user;
	default:
		return false;
	}
}

int
peer_identify(int fd, struct nvmmd_peer *peer)
{
	gid_t groups[NVMMD_MAX_GROUPS];
	size_t ngroups;

	return peer_identify_groups(fd, peer, groups, &ngroups);
}

static void
listener_refuse(int fd, const struct nvmmd_peer *peer, const char *reason)
{
	const struct nvmmd_config *cfg = config_current();
	char who[256];

	/* The log first: a peer told no may look for why at once. */
	if (log_refusal_allowed(peer->uid, NVMMD_REFUSAL_CONNECTION)) {
		log_peer_describe(peer, who, sizeof(who));
		if (reason != NULL)
			log_warnx("refused %s: %s", who, reason);
		else
			log_warnx("refused %s: not in group %s, %s or %s", who,
			    cfg->user_group, cfg->admin_group,
			    cfg->monitor_group);
	}
	session_refuse(fd, reason);
	close(fd);
}

static void
listener_resume(evutil_socket_t fd, short what, void *arg)
{
	if (event_add(listen_ev, NULL) == -1)
		log_warnx("cannot listen again");
}

/* No accepting for a while: what ran out may come back. */
static void
listener_rest(void)
{
	const struct timeval rest = { 0, LISTENER_BACKOFF_MS * 1000 };

	event_del(listen_ev);
	evtimer_add(backoff_ev, &rest);
}

/* Out of descriptors: the reserve takes one waiting peer to say no. */
static void
listener_shed(int lfd, int error)
{
	struct nvmmd_peer peer;
	gid_t groups[NVMMD_MAX_GROUPS];
	size_t ngroups;
	int fd;

	if (reserve_fd != -1)
		close(reserve_fd);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd != -1 && peer_credentials(fd, &peer, groups, &ngroups) == 0)
		listener_refuse(fd, &peer, "the daemon is out of descriptors");
	else if (fd != -1)
		close(fd);
	else
		log_warnx("accept: %s", strerror(error));
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	listener_rest();
}

/*
 * A worker for the peer, or a refusal that says why there is none; out
 * of descriptors (the worker's socketpair), the listener rests as at
 * accept.
 */
static void
listener_hand_over(int fd, const struct nvmmd_peer *peer)
{
	int error;

	error = workers_spawn(fd, peer);
	if (error == 0)
		return;
	limits_refund(peer->uid, NVMMD_LIMIT_CONNECTIONS, 1);
	if (error == EMFILE || error == ENFILE) {
		listener_refuse(fd, peer, "the daemon is out of descriptors");
		listener_rest();
		return;
	}
	log_warnx("no worker for pid %d: %s", (int)peer->pid,
	    strerror(error));
	listener_refuse(fd, peer, "the daemon cannot make a worker");
}

static void
listener_accept(evutil_socket_t lfd, short what, void *arg)
{
	gid_t groups[NVMMD_MAX_GROUPS];
	struct nvmmd_peer peer;
	size_t ngroups;
	int fd, error;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd == -1) {
		if (errno == EMFILE || errno == ENFILE)
			listener_shed(lfd, errno);
		else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warnx("accept: %s", strerror(errno));
		return;
	}
	error = peer_identify_groups(fd, &peer, groups, &ngroups);
	if (error) {
		log_warnx("refused a peer: no credentials: %s", strerror(error));
		close(fd);
		return;
	}
	if (!peer.may_user && !peer.may_monitor) {
		listener_refuse(fd, &peer, NULL);
		return;
	}
	if (limits_connect(&peer, groups, ngroups) != 0) {
		listener_refuse(fd, &peer, "too many connections");
		return;
	}
	listener_hand_over(fd, &peer);
}

/* Before detaching: so that a path that cannot be had fails the start. */
int
listener_open(const struct nvmmd_config *cfg, char *why, size_t whylen)
{
	int error;

	error = sockpath_open(cfg, &listen_fd, &listen_activated, why,
	    whylen);
	if (error)
		return error;
	sockpath_note(cfg->socket_path, listen_activated);
	return 0;
}

/* In the event loop, once it exists (after detaching). */
int
listener_start(void)
{
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (reserve_fd == -1)
		return errno;
	listen_ev = event_new(nvmmd_base, listen_fd, EV_READ | EV_PERSIST,
	    listener_accept, NULL);
	backoff_ev = evtimer_new(nvmmd_base, listener_resume, NULL);
	if (listen_ev == NULL || backoff_ev == NULL ||
	    event_add(listen_ev, NULL) == -1)
		return ENOMEM;
	return 0;
}

bool
listener_is_activated(void)
{
	return listen_activated;
}

void
listener_forget(void)
{
	if (listen_ev != NULL)
		event_free(listen_ev);
	if (backoff_ev != NULL)
		event_free(backoff_ev);
	listen_ev = backoff_ev = NULL;
	if (reserve_fd != -1)
		close(reserve_fd);
	if (listen_fd != -1)
		close(listen_fd);
	reserve_fd = listen_fd = -1;
}

/* The parent's end: the sockets' paths go too. */
void
listener_close(void)
{
	bool bound = listen_fd != -1;

	listener_forget();
	if (bound)
		sockpath_remove();
}
