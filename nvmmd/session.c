/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * A worker's connection: the hello that fixes its role, then one request
 * per packet and one reply each.  The parent charged the connection and
 * refunds it when the worker ends; the worker ends with the connection.  Every packet is validated at the door: a
 * malformed, oversized or unexpected one closes this connection and
 * touches nothing else.  Replies are sent without blocking; a client that
 * does not read them is disconnected rather than allowed to stall the
 * daemon.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmmd.h"

/* A peer that does not say hello within this is disconnected. */
#define SESSION_HELLO_TIMEOUT_S	10

static TAILQ_HEAD(, nvmmd_session) sessions =
    TAILQ_HEAD_INITIALIZER(sessions);

static void session_read(evutil_socket_t, short, void *);

void
session_new(int fd, const struct nvmmd_peer *peer)
{
	const struct timeval hello_timeout = { SESSION_HELLO_TIMEOUT_S, 0 };
	struct nvmmd_session *s;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		log_warnx("out of memory for pid %d", (int)peer->pid);
		close(fd);
		return;
	}
	s->fd = fd;
	s->peer = *peer;
	s->role = NVMM__ROLE__ROLE_NONE;
	s->ev = event_new(nvmmd_base, fd, EV_READ | EV_PERSIST, session_read,
	    s);
	if (s->ev == NULL || event_add(s->ev, &hello_timeout) == -1) {
		log_warnx("cannot watch the connection of pid %d",
		    (int)peer->pid);
		if (s->ev != NULL)
			event_free(s->ev);
		close(fd);
		free(s);
		return;
	}
	TAILQ_INSERT_TAIL(&sessions, s, link);
	log_debug("pid %d uid %u connected", (int)peer->pid,
	    (unsigned)peer->uid);
}

static void
session_close(struct nvmmd_session *s, const char *why)
{
	log_debug("pid %d: closing: %s", (int)s->peer.pid, why);
	event_free(s->ev);
	ops_session_end(s);
	close(s->fd);
	TAILQ_REMOVE(&sessions, s, link);
	free(s);
	if (TAILQ_EMPTY(&sessions))
		event_base_loopbreak(nvmmd_base);
}

void
session_close_all(void)
{
	struct nvmmd_session *s;

	while ((s = TAILQ_FIRST(&sessions)) != NULL)
		session_close(s, "shutting down");
}

/* -------------------------------------------------------------------------- */

static int
session_role_error(const struct nvmmd_session *s, const Nvmm__Hello *hello)
{
	if (hello->version != NVMM_PROTO_VERSION)
		return EPROGMISMATCH;
	switch (hello->role) {
	case NVMM__ROLE__ROLE_USER:
	case NVMM__ROLE__ROLE_ADMIN:
	case NVMM__ROLE__ROLE_MONITOR:
		return peer_may_role(&s->peer, hello->role) ? 0 : EACCES;
	default:
		return EINVAL;
	}
}

/*
 * A refused peer is told the daemon's group names (nvmm.proto), so that
 * its error names the group it lacks.  They are no secret: nvmmd.conf is
 * world-readable and the groups are in /etc/group.
 */
static void
session_reply_groups(Nvmm__HelloReply *reply)
{
	const struct nvmmd_config *cfg = config_current();

	reply->user_group = (char *)(uintptr_t)cfg->user_group;
	reply->admin_group = (char *)(uintptr_t)cfg->admin_group;
	reply->monitor_group = (char *)(uintptr_t)cfg->monitor_group;
}

/*
 * A peer refused before its hello gets the reply a refused hello does:
 * the groups, or the reason when it is not about groups.
 */
void
session_refuse(int fd, const char *reason)
{
	Nvmm__HelloReply reply = NVMM__HELLO_REPLY__INIT;

	reply.version = NVMM_PROTO_VERSION;
	reply.error = EACCES;
	if (reason != NULL)
		reply.reason = (char *)(uintptr_t)reason;
	else
		session_reply_groups(&reply);
	(void)nvmm_wire_send(fd, &reply.base, -1, MSG_DONTWAIT);
}

/* The kernel owner of a role: its own for a user, the root owner else. */
static int
session_open_owner(struct nvmmd_session *s, Nvmm__Role role)
{
	return nvmm_kern_open(&s->owner, s->peer.pid, s->peer.uid,
	    role != NVMM__ROLE__ROLE_USER);
}

/* Returns false when the connection is to close. */
static bool
session_hello(struct nvmmd_session *s, const uint8_t *buf, size_t len)
{
	Nvmm__HelloReply reply = NVMM__HELLO_REPLY__INIT;
	Nvmm__Hello *hello;
	int error;

	hello = nvmm__hello__unpack(NULL, len, buf);
	if (hello == NULL) {
		log_peer_refusal(&s->peer, NVMMD_REFUSAL_MALFORMED,
		    "pid %d: malformed hello",
		    (int)s->peer.pid);
		return false;
	}
	error = session_role_error(s, hello);
	if (error == 0)
		error = session_open_owner(s, hello->role);
	reply.version = NVMM_PROTO_VERSION;
	reply.error = error;
	if (error == 0) {
		s->role = hello->role;
		reply.role = hello->role;
		worker_role(s->role);
	} else {
		if (error == EACCES)
			session_reply_groups(&reply);
		log_peer_refusal(&s->peer, NVMMD_REFUSAL_ROLE,
		    "pid %d uid %u: refused role %d: %s",
		    (int)s->peer.pid, (unsigned)s->peer.uid, (int)hello->role,
		    strerror(error));
	}
	nvmm__hello__free_unpacked(hello, NULL);
	if (nvmm_wire_send(s->fd, &reply.base, -1, MSG_DONTWAIT) != 0)
		return false;
	/*
	 * The deadline was for the hello; requests may come any time.  Only
	 * a delete removes a timeout: an add without one keeps it.
	 */
	if (error == 0 && (event_del(s->ev) == -1 ||
	    event_add(s->ev, NULL) == -1))
		return false;
	return error == 0;
}

static bool
session_request(struct nvmmd_session *s, const uint8_t *buf, size_t len,
    int fd)
{
	Nvmm__Reply reply = NVMM__REPLY__INIT;
	struct nvmmd_scratch scratch;
	Nvmm__Request *req;
	int reply_fd = -1;
	bool ok;

	req = nvmm__request__unpack(NULL, len, buf);
	if (req == NULL) {
		log_peer_refusal(&s->peer, NVMMD_REFUSAL_MALFORMED,
		    "pid %d: malformed request",
		    (int)s->peer.pid);
		return false;
	}
	reply.id = req->id;
	scratch.hold = NULL;
	ok = ops_dispatch(s, req, fd, &reply, &reply_fd, &scratch);
	if (ok && nvmm_wire_send(s->fd, &reply.base, reply_fd,
	    MSG_DONTWAIT) != 0) {
		log_warnx("pid %d: cannot reply; disconnecting",
		    (int)s->peer.pid);
		ok = false;
	}
	if (reply_fd != -1)
		close(reply_fd);
	worker_host_done(scratch.hold);
	nvmm__request__free_unpacked(req, NULL);
	return ok;
}

static void
session_read(evutil_socket_t fd, short what, void *arg)
{
	struct nvmmd_session *s = arg;
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	size_t n;
	int rfd, error;
	bool ok;

	if ((what & EV_TIMEOUT) && s->role == NVMM__ROLE__ROLE_NONE) {
		log_peer_refusal(&s->peer, NVMMD_REFUSAL_TIMEOUT,
		    "pid %d: no hello in %d s",
		    (int)s->peer.pid, SESSION_HELLO_TIMEOUT_S);
		session_close(s, "no hello");
		return;
	}
	error = nvmm_wire_recv(fd, buf, &n, &rfd, MSG_DONTWAIT);
	if (error == EAGAIN)
		return;
	if (error) {
		log_peer_refusal(&s->peer, NVMMD_REFUSAL_MALFORMED,
		    "pid %d: bad packet: %s",
		    (int)s->peer.pid,
		    strerror(error));
		session_close(s, "bad packet");
		return;
	}
	if (n == 0) {
		session_close(s, "end of connection");
		return;
	}
	if (s->role == NVMM__ROLE__ROLE_NONE) {
		ok = rfd == -1 && session_hello(s, buf, n);
	} else {
		ok = session_request(s, buf, n, rfd);
	}
	if (rfd != -1)
		close(rfd);
	if (!ok)
		session_close(s, "refused or malformed");
}
