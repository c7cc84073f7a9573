/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The parent's side of its workers (worker.c has the other): one record
 * per worker, the host's machine ids, and what each worker was charged.
 *
 * The parent forks a worker for each connection it accepts and keeps the
 * other end of a socketpair to it; a worker that a previous parent forked
 * comes back through the worker socket and registers.  Either way the
 * parent believes a worker only about the worker's own machines: it
 * hands out the ids and charges the limits itself, to the uid it read
 * from the client's connection, refunds no more than it charged that
 * worker, and when the worker goes (it exits, crashes, is killed, or says
 * something it should not) every id and charge of the worker goes with
 * it.  A worker that breaks the protocol is killed.
 *
 * A worker's call is answered at once.  The parent's own queries to a
 * worker (host.c) wait for the answer, up to WORKERS_QUERY_TIMEOUT_MS;
 * while they wait, what the worker sends of its own is handled as it
 * comes, except a request about the host, which waits (the stash) until
 * the query is over: a worker has at most one call under way.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nvmmd.h"

#define WORKERS_QUERY_TIMEOUT_MS	2000
#define WORKERS_REGISTER_TIMEOUT_S	5
#define WORKERS_QUIT_TIMEOUT_MS		5000


static TAILQ_HEAD(, nvmmd_worker) workers = TAILQ_HEAD_INITIALIZER(workers);
static unsigned nworkers;
static struct nvmmd_worker *holders[NVMM_MAX_MACHINES];
static uint64_t last_query_id;
static struct event *adopt_ev;
static int adopt_fd = -1;

static void	workers_read(evutil_socket_t, short, void *);
static void	workers_adopt_close(void);

unsigned
workers_count(void)
{
	return nworkers;
}

struct nvmmd_worker *
workers_first(void)
{
	return TAILQ_FIRST(&workers);
}

struct nvmmd_worker *
workers_next(struct nvmmd_worker *w)
{
	return TAILQ_NEXT(w, link);
}

/* A worker found gone during a query holds nothing any more. */
struct nvmmd_worker *
workers_holder(nvmm_machid_t machid)
{
	if (machid >= NVMM_MAX_MACHINES || holders[machid] == NULL ||
	    holders[machid]->doomed)
		return NULL;
	return holders[machid];
}

static int
workers_send(struct nvmmd_worker *w, Nvmmw__Down *down, int fd)
{
	return nvmm_wire_send(w->chan, &down->base, fd, MSG_DONTWAIT);
}

/* -------------------------------------------------------------------------- */

static void
workers_charge_undo(struct nvmmd_worker *w, enum nvmmd_limit what,
    uint64_t amount)
{
	if (amount > w->charged[what])
		amount = w->charged[what];
	w->charged[what] -= amount;
	limits_refund(w->peer.uid, what, amount);
}

static int
workers_charge(struct nvmmd_worker *w, enum nvmmd_limit what,
    uint64_t amount)
{
	int error;

	error = limits_charge(w->peer.uid, what, amount);
	if (error == 0)
		w->charged[what] += amount;
	return error;
}

/* The lowest free id, as NVMM's driver gives them, and its charge. */
static int
workers_reserve(struct nvmmd_worker *w, nvmm_machid_t *machidp)
{
	nvmm_machid_t machid;
	int error;

	for (machid = 0; machid < NVMM_MAX_MACHINES; machid++)
		if (holders[machid] == NULL)
			break;
	if (machid == NVMM_MAX_MACHINES)
		return ENOBUFS;
	error = workers_charge(w, NVMMD_LIMIT_MACHINES, 1);
	if (error)
		return error;
	error = workers_charge(w, NVMMD_LIMIT_MAPPED, NVMMD_MACHINE_COMM_SIZE);
	if (error) {
		workers_charge_undo(w, NVMMD_LIMIT_MACHINES, 1);
		return error;
	}
	holders[machid] = w;
	w->nmachines++;
	*machidp = machid;
	return 0;
}

static void
workers_release(struct nvmmd_worker *w, nvmm_machid_t machid)
{
	if (machid >= NVMM_MAX_MACHINES || holders[machid] != w)
		return;
	holders[machid] = NULL;
	w->nmachines--;
	workers_charge_undo(w, NVMMD_LIMIT_MAPPED, NVMMD_MACHINE_COMM_SIZE);
	workers_charge_undo(w, NVMMD_LIMIT_MACHINES, 1);
}

/* -------------------------------------------------------------------------- */

static void
workers_free(struct nvmmd_worker *w)
{
	nvmm_machid_t machid;
	int what;

	for (machid = 0; machid < NVMM_MAX_MACHINES; machid++)
		if (holders[machid] == w)
			holders[machid] = NULL;
	for (what = 0; what < NVMMD_NLIMITS; what++)
		workers_charge_undo(w, what, w->charged[what]);
	if (w->ev != NULL)
		event_free(w->ev);
	if (w->stash != NULL)
		nvmmw__up__free_unpacked(w->stash, NULL);
	close(w->chan);
	if (w->listed) {
		TAILQ_REMOVE(&workers, w, link);
		nworkers--;
	}
	free(w);
}

/*
 * A worker is gone, or is to go: a worker that broke the protocol is
 * killed first, so that none of its machines outlives its ids.
 */
void
workers_gone(struct nvmmd_worker *w, bool kill_it, const char *why)
{
	if (kill_it && w->pid > 0)
		kill(w->pid, SIGKILL);
	if (w->nmachines != 0 || kill_it)
		log_warnx("worker %d (pid %d uid %u): %s; its %u machine(s) "
		    "are gone", (int)w->pid, (int)w->peer.pid,
		    (unsigned)w->peer.uid, why, w->nmachines);
	else
		log_debug("worker %d: %s", (int)w->pid, why);
	workers_free(w);
}

/* The role the worker says its client's hello got, if the peer may. */
static bool
workers_role(struct nvmmd_worker *w, Nvmm__Role role)
{
	if (w->role != NVMM__ROLE__ROLE_NONE || !peer_may_role(&w->peer, role))
		return false;
	w->role = role;
	return true;
}

static bool
workers_answer(struct nvmmd_worker *w, uint64_t id, Nvmmw__Answer *a, int fd)
{
	Nvmmw__Down down = NVMMW__DOWN__INIT;

	down.id = id;
	down.msg_case = NVMMW__DOWN__MSG_ANSWER;
	down.answer = a;
	return workers_send(w, &down, fd) == 0;
}

/* What a worker may say at any time; false: it broke the protocol. */
static bool
workers_simple(struct nvmmd_worker *w, const Nvmmw__Up *up)
{
	Nvmmw__Answer a = NVMMW__ANSWER__INIT;

	switch (up->msg_case) {
	case NVMMW__UP__MSG_ROLE:
		return workers_role(w, up->role->role);
	case NVMMW__UP__MSG_RESERVE:
		a.error = workers_reserve(w, &a.machid);
		return workers_answer(w, up->id, &a, -1);
	case NVMMW__UP__MSG_CHARGE:
		if (up->charge->what >= NVMMD_NLIMITS ||
		    up->charge->what == NVMMD_LIMIT_CONNECTIONS)
			return false;
		a.error = workers_charge(w, up->charge->what,
		    up->charge->amount);
		return workers_answer(w, up->id, &a, -1);
	case NVMMW__UP__MSG_REFUND:
		if (up->refund->what >= NVMMD_NLIMITS ||
		    up->refund->what == NVMMD_LIMIT_CONNECTIONS)
			return false;
		workers_charge_undo(w, up->refund->what, up->refund->amount);
		return true;
	case NVMMW__UP__MSG_RELEASE:
		workers_release(w, up->release->machid);
		return true;
	case NVMMW__UP__MSG_REFUSAL:
		if (up->refusal->why >= NVMMD_NREFUSALS)
			return false;
		log_worker_refusal(&w->peer, up->refusal->why,
		    up->refusal->text);
		return up->id == 0 || workers_answer(w, up->id, &a, -1);
	case NVMMW__UP__MSG_HELD:
		a.error = workers_holder(up->held->machid) != NULL &&
		    workers_holder(up->held->machid) != w ? 0 : ENOENT;
		return workers_answer(w, up->id, &a, -1);
	default:
		return false;
	}
}

/* A request about the host: host.c answers it, asking other workers. */
static bool
workers_host(struct nvmmd_worker *w, const Nvmmw__Up *up)
{
	Nvmmw__Answer a = NVMMW__ANSWER__INIT;
	Nvmm__Reply reply = NVMM__REPLY__INIT;
	struct nvmmd_scratch scratch;
	int fd = -1;
	bool ok;

	if (w->role == NVMM__ROLE__ROLE_NONE)
		return false;
	reply.id = up->host->id;
	if (!host_request(w, up->host, &reply, &fd, &scratch))
		return false;
	a.reply = &reply;
	ok = workers_answer(w, up->id, &a, fd);
	if (fd != -1)
		close(fd);
	return ok;
}

static bool
workers_dispatch(struct nvmmd_worker *w, Nvmmw__Up *up)
{
	if (up->msg_case == NVMMW__UP__MSG_HOST)
		return workers_host(w, up);
	return workers_simple(w, up);
}

/*
 * One message from w into *upp (NULL at end of file); false when w must
 * go.  No worker message carries a descriptor but a registration, which
 * only comes first on the worker socket.
 */
static bool
workers_recv(struct nvmmd_worker *w, Nvmmw__Up **upp, int *errorp)
{
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	size_t n;
	int fd;

	*upp = NULL;
	*errorp = nvmm_wire_recv(w->chan, buf, &n, &fd, MSG_DONTWAIT);
	if (*errorp)
		return *errorp == EAGAIN;
	if (fd != -1) {
		close(fd);
		*errorp = EBADMSG;
		return false;
	}
	if (n == 0)
		return false;
	*upp = nvmmw__up__unpack(NULL, n, buf);
	*errorp = *upp == NULL ? EBADMSG : 0;
	return *upp != NULL;
}

static void
workers_read(evutil_socket_t fd, short what, void *arg)
{
	struct nvmmd_worker *w = arg;
	Nvmmw__Up *up;
	int error;
	bool ok;

	if (w->doomed) {
		workers_gone(w, !w->exited, w->exited ? "exited" :
		    "broke the protocol");
		return;
	}
	if (w->stash != NULL) {
		up = w->stash;
		w->stash = NULL;
	} else if (!workers_recv(w, &up, &error)) {
		workers_gone(w, error != 0 && error != ECONNRESET,
		    error == 0 ? "exited" : strerror(error));
		return;
	}
	if (up == NULL)
		return;
	ok = workers_dispatch(w, up);
	nvmmw__up__free_unpacked(up, NULL);
	if (!ok)
		workers_gone(w, true, "broke the protocol");
}

/* -------------------------------------------------------------------------- */

/*
 * Waits for w's answer to the query id, handling what w sends meanwhile.
 * Returns the answer (the caller frees it) or NULL when w did not answer
 * in time or had to go; *fdp is the descriptor that came with it.
 */
static Nvmmw__Up *
workers_wait(struct nvmmd_worker *w, uint64_t id, int *fdp)
{
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	struct pollfd pfd = { .fd = w->chan, .events = POLLIN };
	Nvmmw__Up *up;
	size_t n;
	int r;

	for (;;) {
		r = poll(&pfd, 1, WORKERS_QUERY_TIMEOUT_MS);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return NULL;
		if (nvmm_wire_recv(w->chan, buf, &n, fdp, MSG_DONTWAIT) != 0 ||
		    n == 0) {
			/* Gone (its client closed, say): workers_read says so. */
			w->doomed = w->exited = true;
			event_active(w->ev, EV_READ, 0);
			return NULL;
		}
		up = nvmmw__up__unpack(NULL, n, buf);
		if (up == NULL)
			return NULL;
		if (up->msg_case == NVMMW__UP__MSG_ANSWER && up->id == id)
			return up;
		if (*fdp != -1 || up->msg_case == NVMMW__UP__MSG_ANSWER)
			goto bad;
		if (up->msg_case == NVMMW__UP__MSG_HOST && w->stash == NULL) {
			w->stash = up;
			event_active(w->ev, EV_READ, 0);
			continue;
		}
		if (up->msg_case == NVMMW__UP__MSG_HOST ||
		    !workers_simple(w, up))
			goto bad;
		nvmmw__up__free_unpacked(up, NULL);
	}
bad:
	/* Killed once the caller is done with it: workers_read. */
	w->doomed = true;
	event_active(w->ev, EV_READ, 0);
	if (*fdp != -1)
		close(*fdp);
	*fdp = -1;
	nvmmw__up__free_unpacked(up, NULL);
	return NULL;
}

/*
 * Asks w (down's id is set here) and waits for its answer; NULL when
 * there is none, which the log says.  A worker that does not answer is
 * left alone: it may be busy, and its machines are its own.
 */
Nvmmw__Answer *
workers_query(struct nvmmd_worker *w, Nvmmw__Down *down, int *fdp,
    Nvmmw__Up **upp)
{
	Nvmmw__Up *up;

	*fdp = -1;
	down->id = ++last_query_id;
	if (workers_send(w, down, -1) != 0)
		return NULL;
	up = workers_wait(w, down->id, fdp);
	if (up == NULL) {
		log_warnx("worker %d did not answer", (int)w->pid);
		return NULL;
	}
	*upp = up;
	return up->answer;
}

/* -------------------------------------------------------------------------- */

static struct nvmmd_worker *
workers_new(int chan, pid_t pid, const struct nvmmd_peer *peer)
{
	struct nvmmd_worker *w;

	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->chan = chan;
	w->pid = pid;
	w->peer = *peer;
	w->role = NVMM__ROLE__ROLE_NONE;
	w->ev = event_new(nvmmd_base, chan, EV_READ | EV_PERSIST,
	    workers_read, w);
	if (w->ev == NULL || event_add(w->ev, NULL) == -1) {
		if (w->ev != NULL)
			event_free(w->ev);
		free(w);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&workers, w, link);
	w->listed = true;
	nworkers++;
	return w;
}

/*
 * In the child, before it becomes a worker: the parent's event loop made
 * its own (event_reinit: a child that changed the shared epoll set would
 * change the parent's), then everything of the parent's closed and freed,
 * nothing removed or refunded: it is still the parent's.
 */
static int
workers_forget(void)
{
	struct nvmmd_worker *w;

	if (event_reinit(nvmmd_base) == -1)
		return ENOMEM;
	while ((w = TAILQ_FIRST(&workers)) != NULL) {
		TAILQ_REMOVE(&workers, w, link);
		if (w->ev != NULL)
			event_free(w->ev);
		if (w->stash != NULL)
			nvmmw__up__free_unpacked(w->stash, NULL);
		close(w->chan);
		free(w);
	}
	nworkers = 0;
	memset(holders, 0, sizeof(holders));
	workers_adopt_close();
	listener_forget();
	metrics_forget();
	main_forget();
	event_base_free(nvmmd_base);
	nvmmd_base = NULL;
	return 0;
}

/*
 * A worker for the connection fd, whose peer is charged a connection
 * already; the connection is the worker's from here on.  An errno when
 * there is none, the connection and its charge left to the caller.
 */
int
workers_spawn(int fd, const struct nvmmd_peer *peer)
{
	struct nvmmd_worker *w;
	int sv[2], error;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return errno;
	pid = fork();
	if (pid == -1) {
		error = errno;
		close(sv[0]);
		close(sv[1]);
		return error;
	}
	if (pid == 0) {
		close(sv[0]);
		exit(workers_forget() == 0 ?
		    worker_main(fd, sv[1], peer, workers_path()) : 1);
	}
	close(sv[1]);
	close(fd);
	w = workers_new(sv[0], pid, peer);
	if (w == NULL) {
		/* The worker has the connection: its end is the client's. */
		kill(pid, SIGKILL);
		close(sv[0]);
		limits_refund(peer->uid, NVMMD_LIMIT_CONNECTIONS, 1);
		return 0;
	}
	w->charged[NVMMD_LIMIT_CONNECTIONS] = 1;
	log_debug("pid %d uid %u: worker %d", (int)peer->pid,
	    (unsigned)peer->uid, (int)pid);
	return 0;
}

/* SIGCHLD: the workers this parent forked, reaped and their end told. */
void
workers_reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (WIFSIGNALED(status))
			log_warnx("worker %d killed by signal %d", (int)pid,
			    WTERMSIG(status));
		else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			log_warnx("worker %d exited with %d", (int)pid,
			    WEXITSTATUS(status));
	}
}

/* Shutdown: every worker told to end its connection, and waited for. */
void
workers_quit_all(void)
{
	Nvmmw__Down down = NVMMW__DOWN__INIT;
	Nvmmw__Quit quit = NVMMW__QUIT__INIT;
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	struct nvmmd_worker *w;
	struct pollfd pfd;
	int r;

	down.msg_case = NVMMW__DOWN__MSG_QUIT;
	down.quit = &quit;
	TAILQ_FOREACH(w, &workers, link)
		(void)workers_send(w, &down, -1);
	while ((w = TAILQ_FIRST(&workers)) != NULL) {
		pfd.fd = w->chan;
		pfd.events = POLLIN;
		/* What it still says does not matter; its end does. */
		while ((r = poll(&pfd, 1, WORKERS_QUIT_TIMEOUT_MS)) == 1 &&
		    recv(w->chan, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			continue;
		workers_gone(w, r != 1, r == 1 ? "shut down" :
		    "did not quit in time");
	}
	workers_reap();
}

/* -------------------------------------------------------------------------- */

/*
 * Registration: a worker that another parent forked (this one restarted)
 * connects to the worker socket and says what it holds.  Only a process
 * of the parent's own uid may, the client's credentials are read from
 * the client's connection the worker passes, and every id it claims must
 * be free: two workers cannot both hold one.  What it was charged is
 * counted again whatever the limits, since its machines exist.
 */

static char workers_sock[NVMMD_PATH_MAX];

const char *
workers_path(void)
{
	return workers_sock;
}

/* Its claims, as far as the parent can check them; EPROTO else. */
static int
workers_claims(const Nvmmw__Register *reg)
{
	bool seen[NVMM_MAX_MACHINES] = { false };
	size_t i;

	if (reg->n_charged != NVMMD_NLIMITS ||
	    reg->charged[NVMMD_LIMIT_CONNECTIONS] != 1 ||
	    reg->charged[NVMMD_LIMIT_MACHINES] != reg->n_machids ||
	    reg->charged[NVMMD_LIMIT_VCPUS] >
	    reg->n_machids * NVMM_MAX_VCPUS ||
	    reg->charged[NVMMD_LIMIT_RAM] > NVMMD_ADDRESS_SPACE ||
	    reg->charged[NVMMD_LIMIT_MAPPED] > NVMMD_ADDRESS_SPACE)
		return EPROTO;
	for (i = 0; i < reg->n_machids; i++) {
		if (reg->machids[i] >= NVMM_MAX_MACHINES ||
		    seen[reg->machids[i]])
			return EPROTO;
		if (holders[reg->machids[i]] != NULL)
			return EEXIST;
		seen[reg->machids[i]] = true;
	}
	return 0;
}

static int
workers_register(struct nvmmd_worker *w, const Nvmmw__Register *reg,
    int client)
{
	gid_t groups[NVMMD_MAX_GROUPS];
	size_t ngroups, i;
	int error;

	if (reg->version != NVMM_WORKER_VERSION)
		return EPROGMISMATCH;
	if (client == -1)
		return EPROTO;
	error = peer_identify_groups(client, &w->peer, groups, &ngroups);
	if (error)
		return error;
	if (reg->role != NVMM__ROLE__ROLE_NONE &&
	    !peer_may_role(&w->peer, reg->role))
		return EACCES;
	if ((error = workers_claims(reg)) != 0)
		return error;
	w->role = reg->role;
	for (i = 0; i < reg->n_machids; i++)
		holders[reg->machids[i]] = w;
	w->nmachines = (unsigned)reg->n_machids;
	memcpy(w->charged, reg->charged, sizeof(w->charged));
	limits_adopt(&w->peer, groups, ngroups, w->charged);
	w->registered = true;
	return 0;
}

/* The first message on a worker socket connection: a registration. */
static void
workers_register_read(evutil_socket_t fd, short what, void *arg)
{
	struct nvmmd_worker *w = arg;
	Nvmmw__Answer a = NVMMW__ANSWER__INIT;
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	Nvmmw__Up *up = NULL;
	int client = -1;
	size_t n;

	a.error = EPROTO;
	if (what & EV_TIMEOUT)
		goto out;
	if (nvmm_wire_recv(w->chan, buf, &n, &client, MSG_DONTWAIT) != 0 ||
	    n == 0 || (up = nvmmw__up__unpack(NULL, n, buf)) == NULL ||
	    up->msg_case != NVMMW__UP__MSG_REGISTER)
		goto out;
	a.error = workers_register(w, up->register_, client);
	if (a.error == 0 && (event_del(w->ev) == -1 ||
	    event_assign(w->ev, nvmmd_base, w->chan, EV_READ | EV_PERSIST,
	    workers_read, w) == -1 || event_add(w->ev, NULL) == -1))
		a.error = ENOMEM;
out:
	if (client != -1)
		close(client);
	if (up != NULL) {
		(void)workers_answer(w, up->id, &a, -1);
		nvmmw__up__free_unpacked(up, NULL);
	}
	if (a.error == 0) {
		log_info("worker %d (pid %d uid %u) registered with %u "
		    "machine(s)", (int)w->pid, (int)w->peer.pid,
		    (unsigned)w->peer.uid, w->nmachines);
		return;
	}
	log_warnx("worker %d: registration refused: %s", (int)w->pid,
	    strerror(a.error));
	/* A claim on another's machine is a lie; the rest may try again. */
	workers_gone(w, a.error == EEXIST || a.error == EACCES,
	    "not registered");
}

static void
workers_adopt(evutil_socket_t lfd, short what, void *arg)
{
	const struct timeval deadline = { WORKERS_REGISTER_TIMEOUT_S, 0 };
	struct nvmmd_worker *w;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd == -1)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    cred.uid != geteuid() || (w = calloc(1, sizeof(*w))) == NULL) {
		close(fd);
		return;
	}
	w->chan = fd;
	w->pid = cred.pid;
	w->role = NVMM__ROLE__ROLE_NONE;
	w->ev = event_new(nvmmd_base, fd, EV_READ, workers_register_read, w);
	if (w->ev == NULL || event_add(w->ev, &deadline) == -1) {
		workers_free(w);
		return;
	}
	TAILQ_INSERT_TAIL(&workers, w, link);
	w->listed = true;
	nworkers++;
}

static void
workers_adopt_close(void)
{
	if (adopt_ev != NULL)
		event_free(adopt_ev);
	adopt_ev = NULL;
	if (adopt_fd != -1)
		close(adopt_fd);
	adopt_fd = -1;
}

/* Start-up, before the switch to the nvmmd user: the worker socket. */
int
workers_open(const struct nvmmd_config *cfg, char *why, size_t whylen)
{
	if ((size_t)snprintf(workers_sock, sizeof(workers_sock), "%s.workers",
	    cfg->socket_path) >= sizeof(workers_sock)) {
		snprintf(why, whylen, "%s.workers: path too long",
		    cfg->socket_path);
		return ENAMETOOLONG;
	}
	return sockpath_open_workers(workers_sock, &adopt_fd, why, whylen);
}

int
workers_start(void)
{
	adopt_ev = event_new(nvmmd_base, adopt_fd, EV_READ | EV_PERSIST,
	    workers_adopt, NULL);
	if (adopt_ev == NULL || event_add(adopt_ev, NULL) == -1)
		return ENOMEM;
	return 0;
}

/*
 * The parent ends and leaves its workers to the next: each sees its
 * channel close and looks for the worker socket again.
 */
void
workers_close(void)
{
	struct nvmmd_worker *w;

	if (nworkers != 0)
		log_info("%u worker(s) left running for the next nvmmd",
		    nworkers);
	while ((w = TAILQ_FIRST(&workers)) != NULL)
		workers_free(w);
	workers_adopt_close();
}
