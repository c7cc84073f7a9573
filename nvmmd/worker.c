/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * A worker: the process that serves one client connection, forked by the
 * parent when it accepts one (workers.c).  It alone holds that client's
 * machines, their KVM descriptors, guest memory, comm pages and VCPU
 * threads, so that a fault reachable from one client reaches no other
 * client's guests; the client talks to it directly, on the connection the
 * parent accepted.
 *
 * What is the host's stays the parent's: machine ids (host-global, as
 * NetBSD's), the per-uid limits, and every answer about the whole host.
 * So a worker asks its parent (proto/nvmm_worker.proto) for an id before
 * it makes a machine, for a charge before it takes a VCPU or guest RAM,
 * and hands requests that see past its own machines to the parent, which
 * asks every worker about its own.  A call waits for its answer, and
 * answers the parent's queries meanwhile: the parent may be asking every
 * worker, this one included, in order to answer it.
 *
 * When the parent goes (a restart, an upgrade), the worker keeps running
 * its guests and connects to the worker socket every WORKER_RETRY_MS
 * until a new parent takes it, and registers: its client's connection,
 * its role, its machine ids and what it was charged.  A call while no
 * parent has it fails with EAGAIN.
 *
 * It runs as the parent does (the nvmmd user, no capability, the parent's
 * seccomp filter), with a filter of its own on top (sandbox.c).
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "nvmm_stats.h"
#include "nvmmd.h"

/* How long a call waits for its parent: past this the parent is stuck. */
#define WORKER_CALL_TIMEOUT_MS	10000
#define WORKER_RETRY_MS		100	/* doubling to WORKER_RETRY_MAX_MS */
#define WORKER_RETRY_MAX_MS	5000
/*
 * How long a call looks for its answer before it sleeps on it.  The
 * parent answers a charge within tens of microseconds, and a process that
 * sleeps for that long pays as much again to be woken on some hosts (on a
 * nested guest, about 35 us here: a call took 60 us, 33 with the look).
 */
#define WORKER_CALL_SPIN_NS	100000ULL

static struct {
	int chan;			/* to the parent; -1: orphaned */
	struct event *chan_ev;
	struct event *retry_ev;
	uint64_t last_id;		/* of the last call */
	struct nvmm_owner *root;	/* answers the parent's queries */
	struct nvmmd_peer peer;		/* the client */
	int client;			/* its connection (the session's) */
	Nvmm__Role role;
	uint64_t charged[NVMMD_NLIMITS];
	uint64_t machids[(NVMM_MAX_MACHINES + 63) / 64];
	char path[NVMMD_PATH_MAX];	/* the worker socket */
	unsigned retry_ms;		/* until the next try */
} wk = { .chan = -1, .client = -1 };

static void	worker_orphan(void);
static int	worker_register(void);

bool
worker_is(void)
{
	return wk.client != -1;
}

static bool
worker_holds(nvmm_machid_t machid)
{
	return machid < NVMM_MAX_MACHINES &&
	    (wk.machids[machid / 64] & (1ULL << (machid % 64))) != 0;
}

static void
worker_hold(nvmm_machid_t machid, bool held)
{
	uint64_t bit = 1ULL << (machid % 64);

	if (held)
		wk.machids[machid / 64] |= bit;
	else
		wk.machids[machid / 64] &= ~bit;
}

static int
worker_send(Nvmmw__Up *up, int fd)
{
	if (wk.chan == -1)
		return EAGAIN;
	return nvmm_wire_send(wk.chan, &up->base, fd, 0);
}

/* -------------------------------------------------------------------------- */

/* NVMM_CTL as the root owner, which sees only this worker's machines. */
static void
worker_query_ctl(const Nvmm__Ctl *ctl, Nvmmw__Answer *a, uint8_t *buf)
{
	if (ctl->data.len > NVMMD_CTL_DATA_MAX) {
		a->error = EINVAL;
		return;
	}
	if (ctl->data.len != 0)
		memcpy(buf, ctl->data.data, ctl->data.len);
	a->error = nvmm_kern_ctl(wk.root, ctl->op, buf, ctl->data.len);
	if (a->error == 0) {
		a->data.data = buf;
		a->data.len = ctl->data.len;
	}
}

static void
worker_query_stats(Nvmmw__Answer *a, int *fdp)
{
	struct nvmm_host_stats hs;

	a->error = stats_snapshot(wk.root, &hs);
	if (a->error)
		return;
	a->error = stats_host_memfd(&hs, &a->nmachines, &a->nvcpus, fdp);
	nvmm_host_stats_free(&hs);
}

/* One of the parent's queries, answered now; a Quit ends the loop. */
static void
worker_query(const Nvmmw__Down *down)
{
	Nvmmw__Up up = NVMMW__UP__INIT;
	Nvmmw__Answer a = NVMMW__ANSWER__INIT;
	uint8_t buf[NVMMD_CTL_DATA_MAX];
	int fd = -1;

	switch (down->msg_case) {
	case NVMMW__DOWN__MSG_CTL:
		worker_query_ctl(down->ctl, &a, buf);
		break;
	case NVMMW__DOWN__MSG_HOST_STATS:
		worker_query_stats(&a, &fd);
		break;
	case NVMMW__DOWN__MSG_QUIT:
		log_debug("told to quit");
		session_close_all();
		event_base_loopbreak(nvmmd_base);
		return;
	default:
		log_warnx("parent: unexpected message %d", (int)down->msg_case);
		return;
	}
	up.id = down->id;
	up.msg_case = NVMMW__UP__MSG_ANSWER;
	up.answer = &a;
	(void)worker_send(&up, fd);
	if (fd != -1)
		close(fd);
}

/* poll() on the channel, looking without sleeping first if it may wait. */
static int
worker_poll(int timeout_ms)
{
	struct pollfd pfd = { .fd = wk.chan, .events = POLLIN };
	uint64_t end = nvmm_now_ns() + WORKER_CALL_SPIN_NS;
	int r;

	if (timeout_ms != 0)
		do {
			r = poll(&pfd, 1, 0);
			if (r > 0 || (r == -1 && errno != EINTR))
				return r;
		} while (nvmm_now_ns() < end);
	do
		r = poll(&pfd, 1, timeout_ms);
	while (r == -1 && errno == EINTR);
	return r;
}

/*
 * The next message from the parent, within timeout_ms (-1: none); NULL
 * with *errorp set when there is none: ETIMEDOUT, or the parent is gone.
 */
static Nvmmw__Down *
worker_recv(int timeout_ms, int *fdp, int *errorp)
{
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	Nvmmw__Down *down;
	size_t n;
	int r;

	r = worker_poll(timeout_ms);
	if (r == 0) {
		*errorp = ETIMEDOUT;
		return NULL;
	}
	*errorp = nvmm_wire_recv(wk.chan, buf, &n, fdp, 0);
	if (*errorp == 0 && n == 0)
		*errorp = ENXIO;
	if (*errorp)
		return NULL;
	down = nvmmw__down__unpack(NULL, n, buf);
	if (down == NULL) {
		*errorp = EPROTO;
		if (*fdp != -1)
			close(*fdp);
	}
	return down;
}

/*
 * Sends a call and waits for its answer (the caller frees *downp),
 * answering the parent's queries meanwhile.  *fdp: the descriptor that
 * came with the answer, or -1.
 */
static int
worker_call(Nvmmw__Up *up, int fd, Nvmmw__Down **downp, int *fdp)
{
	Nvmmw__Down *down;
	int error, rfd;

	if (wk.chan == -1 && (error = worker_register()) != 0)
		return EAGAIN;
	up->id = ++wk.last_id;
	error = worker_send(up, fd);
	while (error == 0) {
		down = worker_recv(WORKER_CALL_TIMEOUT_MS, &rfd, &error);
		if (down == NULL)
			break;
		if (down->msg_case == NVMMW__DOWN__MSG_ANSWER &&
		    down->id == up->id) {
			*downp = down;
			*fdp = rfd;
			return 0;
		}
		if (rfd != -1)
			close(rfd);
		worker_query(down);
		nvmmw__down__free_unpacked(down, NULL);
	}
	if (error != ETIMEDOUT) {
		log_warnx("parent: %s", strerror(error));
		worker_orphan();
	}
	return error == ETIMEDOUT ? ETIMEDOUT : EAGAIN;
}

/* A call with only an errno for an answer. */
static int
worker_call_error(Nvmmw__Up *up, int sendfd)
{
	Nvmmw__Down *down;
	int error, fd;

	error = worker_call(up, sendfd, &down, &fd);
	if (error)
		return error;
	if (fd != -1)
		close(fd);
	error = down->answer->error;
	nvmmw__down__free_unpacked(down, NULL);
	return error;
}

/* -------------------------------------------------------------------------- */

/* The parent's messages while the worker waits for nothing. */
static void
worker_chan_read(evutil_socket_t fd, short what, void *arg)
{
	Nvmmw__Down *down;
	int error, rfd;

	down = worker_recv(0, &rfd, &error);
	if (down == NULL) {
		if (error != ETIMEDOUT) {
			log_info("parent gone (%s): waiting for the next",
			    strerror(error));
			worker_orphan();
		}
		return;
	}
	if (rfd != -1)
		close(rfd);
	worker_query(down);
	nvmmw__down__free_unpacked(down, NULL);
}

static int
worker_chan_watch(int chan)
{
	wk.chan = chan;
	wk.chan_ev = event_new(nvmmd_base, chan, EV_READ | EV_PERSIST,
	    worker_chan_read, NULL);
	if (wk.chan_ev == NULL || event_add(wk.chan_ev, NULL) == -1)
		return ENOMEM;
	return 0;
}

static void
worker_retry_later(void)
{
	struct timeval later;

	later.tv_sec = wk.retry_ms / 1000;
	later.tv_usec = (wk.retry_ms % 1000) * 1000;
	evtimer_add(wk.retry_ev, &later);
}

/* A parent that refuses, or none yet: each try waits twice as long. */
static void
worker_retry(evutil_socket_t fd, short what, void *arg)
{
	if (wk.chan != -1 || worker_register() == 0)
		return;
	wk.retry_ms = wk.retry_ms * 2 > WORKER_RETRY_MAX_MS ?
	    WORKER_RETRY_MAX_MS : wk.retry_ms * 2;
	worker_retry_later();
}

/* The parent is gone: the guests run on, and a new parent is looked for. */
static void
worker_orphan(void)
{
	if (wk.chan_ev != NULL)
		event_free(wk.chan_ev);
	wk.chan_ev = NULL;
	if (wk.chan != -1)
		close(wk.chan);
	wk.chan = -1;
	wk.retry_ms = WORKER_RETRY_MS;
	worker_retry_later();
}

static int
worker_connect(int *fdp)
{
	struct sockaddr_un sun;
	int fd, error = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, wk.path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		error = errno;
		close(fd);
		return error;
	}
	*fdp = fd;
	return 0;
}

/* Tells a new parent what this worker holds; 0 once it is taken. */
static int
worker_register(void)
{
	Nvmmw__Up up = NVMMW__UP__INIT;
	Nvmmw__Register reg = NVMMW__REGISTER__INIT;
	uint32_t ids[NVMM_MAX_MACHINES];
	nvmm_machid_t machid;
	int chan = -1, error;

	error = worker_connect(&chan);
	if (error)
		return error;
	reg.version = NVMM_WORKER_VERSION;
	reg.role = wk.role;
	for (machid = 0; machid < NVMM_MAX_MACHINES; machid++)
		if (worker_holds(machid))
			ids[reg.n_machids++] = machid;
	reg.machids = ids;
	reg.n_charged = NVMMD_NLIMITS;
	reg.charged = wk.charged;
	up.msg_case = NVMMW__UP__MSG_REGISTER;
	up.register_ = &reg;
	wk.chan = chan;		/* for the call; watched once taken */
	error = worker_call_error(&up, wk.client);
	if (error == 0 && wk.chan != -1)
		error = worker_chan_watch(chan);
	if (error) {
		if (wk.chan != -1)
			close(wk.chan);
		wk.chan = -1;
		return error;
	}
	log_info("registered with a new parent");
	return 0;
}

/* -------------------------------------------------------------------------- */

/* A machine id and the charge of a machine, both from the parent. */
int
worker_reserve(nvmm_machid_t *machidp)
{
	Nvmmw__Up up = NVMMW__UP__INIT;
	Nvmmw__Reserve m = NVMMW__RESERVE__INIT;
	Nvmmw__Down *down;
	int error, fd;

	up.msg_case = NVMMW__UP__MSG_RESERVE;
	up.reserve = &m;
	error = worker_call(&up, -1, &down, &fd);
	if (error)
		return error;
	if (fd != -1)
		close(fd);
	error = down->answer->error;
	if (error == 0 && (down->answer->machid >= NVMM_MAX_MACHINES ||
	    worker_holds(down->answer->machid)))
		error = EPROTO;
	if (error == 0) {
		*machidp = down->answer->machid;
		worker_hold(*machidp, true);
		wk.charged[NVMMD_LIMIT_MACHINES]++;
		wk.charged[NVMMD_LIMIT_MAPPED] += NVMMD_MACHINE_COMM_SIZE;
	}
	nvmmw__down__free_unpacked(down, NULL);
	return error;
}

/* Told, not asked: a parent that is gone learns it at registration. */
void
worker_release(nvmm_machid_t machid)
{
	Nvmmw__Up up = NVMMW__UP__INIT;
	Nvmmw__Release m = NVMMW__RELEASE__INIT;

	if (!worker_holds(machid))
		return;
	worker_hold(machid, false);
	wk.charged[NVMMD_LIMIT_MACHINES]--;
	wk.charged[NVMMD_LIMIT_MAPPED] -= NVMMD_MACHINE_COMM_SIZE;
	m.machid = machid;
	up.msg_case = NVMMW__UP__MSG_RELEASE;
	up.release = &m;
	(void)worker_send(&up, -1);
}

int
worker_charge(enum nvmmd_limit what, uint64_t amount)
{
	Nvmmw__Up up = NVMMW__UP__INIT;
	Nvmmw__Charge m = NVMMW__CHARGE__INIT;
	int error;

	m.what = what;
	m.amount = amount;
	up.msg_case = NVMMW__UP__MSG_CHARGE;
	up.charge = &m;
	error = worker_call_error(&up, -1);
	if (error == 0)
		wk.charged[what] += amount;
	return error;
}

void
worker_refund(enum nvmmd_limit what, uint64_t amount)
{
	Nvmmw__Up up = NVMMW__UP__INIT;
	Nvmmw__Refund m = NVMMW__REFUND__INIT;

	if (amount > wk.charged[what])
		amount = wk.charged[what];
	if (amount == 0)
		return;
	wk.charged[what] -= amount;
	m.what = what;
	m.amount = amount;
	up.msg_case = NVMMW__UP__MSG_REFUND;
	up.refund = &m;
	(void)worker_send(&up, -1);
}

/* The hello granted role: the parent checks it against the peer. */
void
worker_role(Nvmm__Role role)
{
	Nvmmw__Up up = NVMMW__UP__INIT;
	Nvmmw__Role m = NVMMW__ROLE__INIT;

	wk.role = role;
	m.role = role;
	up.msg_case = NVMMW__UP__MSG_ROLE;
	up.role = &m;
	(void)worker_send(&up, -1);
}

/*
 * The parent counts it, and logs text at its per-uid rate: a call, so
 * that the log has it before the client has the answer.
 */
void
worker_refusal(enum nvmmd_refusal why, const char *text)
{
	Nvmmw__Up up = NVMMW__UP__INIT;
	Nvmmw__Refusal m = NVMMW__REFUSAL__INIT;

	m.why = why;
	m.text = (char *)(uintptr_t)text;
	up.msg_case = NVMMW__UP__MSG_REFUSAL;
	up.refusal = &m;
	(void)worker_call_error(&up, -1);
}

/* Whether machid is another worker's machine. */
bool
worker_elsewhere(nvmm_machid_t machid)
{
	Nvmmw__Up up = NVMMW__UP__INIT;
	Nvmmw__Held m = NVMMW__HELD__INIT;

	if (worker_holds(machid) || machid >= NVMM_MAX_MACHINES)
		return false;
	m.machid = machid;
	up.msg_case = NVMMW__UP__MSG_HELD;
	up.held = &m;
	return worker_call_error(&up, -1) == 0;
}

/*
 * A request about the whole host, answered by the parent: the reply is
 * the parent's, kept in *holdp until it is sent (worker_host_done).
 */
int
worker_host(const Nvmm__Request *req, Nvmm__Reply *reply, int *reply_fd,
    void **holdp)
{
	Nvmmw__Up up = NVMMW__UP__INIT;
	Nvmmw__Down *down;
	uint64_t id = reply->id;
	int error;

	up.msg_case = NVMMW__UP__MSG_HOST;
	up.host = (Nvmm__Request *)(uintptr_t)req;
	error = worker_call(&up, -1, &down, reply_fd);
	if (error)
		return error;
	if (down->answer->reply == NULL) {
		error = down->answer->error ? down->answer->error : EPROTO;
		nvmmw__down__free_unpacked(down, NULL);
		return error;
	}
	*reply = *down->answer->reply;
	reply->id = id;
	*holdp = down;
	return reply->error;
}

void
worker_host_done(void *hold)
{
	if (hold != NULL)
		nvmmw__down__free_unpacked(hold, NULL);
}

/* -------------------------------------------------------------------------- */

static int
worker_setup(int client, int chan, const struct nvmmd_peer *peer,
    const char *path)
{
	int error;

	/* So that ps tells it from its parent. */
	(void)prctl(PR_SET_NAME, "nvmmd-worker", 0, 0, 0);
	wk.client = client;
	wk.peer = *peer;
	wk.charged[NVMMD_LIMIT_CONNECTIONS] = 1;
	strlcpy(wk.path, path, sizeof(wk.path));
	nvmmd_base = event_base_new();
	if (nvmmd_base == NULL)
		return ENOMEM;
	wk.retry_ev = evtimer_new(nvmmd_base, worker_retry, NULL);
	if (wk.retry_ev == NULL)
		return ENOMEM;
	error = worker_chan_watch(chan);
	if (error == 0)
		error = nvmm_kern_open(&wk.root, getpid(), getuid(), true);
	if (error == 0)
		error = sandbox_enter_worker();
	return error;
}

/*
 * The child's life, from fork to exit: the parent's state it inherited
 * is forgotten by then (workers_spawn).  Returns the exit status.
 */
int
worker_main(int client, int chan, const struct nvmmd_peer *peer,
    const char *path)
{
	int error;

	error = worker_setup(client, chan, peer, path);
	if (error) {
		log_warnx("worker for pid %d: cannot start: %s",
		    (int)peer->pid, strerror(error));
		return 1;
	}
	session_new(client, peer);
	event_base_dispatch(nvmmd_base);
	session_close_all();
	if (wk.root != NULL)
		nvmm_kern_close(wk.root);
	if (wk.chan_ev != NULL)
		event_free(wk.chan_ev);
	event_free(wk.retry_ev);
	if (wk.chan != -1)
		close(wk.chan);
	event_base_free(nvmmd_base);
	return 0;
}
