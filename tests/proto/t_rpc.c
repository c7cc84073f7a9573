/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The client end of the protocol without a daemon: proto/nvmm_wire.c's
 * receive and proto/nvmm_rpc.c's calls and hello, against a scripted peer
 * on a socketpair or a socket of the test's own.  What they return is 0 or a positive errno, the same for
 * the transport's errors as for the operation's, and ids are the
 * connection's own.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "nvmm_rpc.h"

static void
pair(int sv[2])
{
	ATF_REQUIRE_MSG(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv) == 0, "socketpair: %s", strerror(errno));
}

static int
fd_count(void)
{
	DIR *d;
	int n = 0;

	d = opendir("/proc/self/fd");
	ATF_REQUIRE(d != NULL);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* One packet of len bytes with nfds descriptors (copies of fd). */
static void
send_raw(int sock, const void *buf, size_t len, int fd, int nfds)
{
	union {
		struct cmsghdr hdr;
		uint8_t space[CMSG_SPACE(2 * sizeof(int))];
	} ctl;
	struct msghdr mh;
	struct iovec iov;
	int fds[2] = { fd, fd };

	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		mh.msg_control = ctl.space;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		ctl.hdr.cmsg_level = SOL_SOCKET;
		ctl.hdr.cmsg_type = SCM_RIGHTS;
		ctl.hdr.cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(&ctl.hdr), fds, nfds * sizeof(int));
	}
	ATF_REQUIRE_MSG(sendmsg(sock, &mh, 0) == (ssize_t)len, "sendmsg: %s",
	    strerror(errno));
}

ATF_TC_WITHOUT_HEAD(wire_recv_returns_errno);
ATF_TC_BODY(wire_recv_returns_errno, tc)
{
	static uint8_t big[NVMM_PROTO_MAX_MSG + 1];
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	size_t len;
	int sv[2], fd, before;

	pair(sv);
	before = fd_count();

	/* A packet at the bound, with one descriptor: its length and fd. */
	send_raw(sv[1], big, NVMM_PROTO_MAX_MSG, sv[1], 1);
	ATF_CHECK_EQ(nvmm_wire_recv(sv[0], buf, &len, &fd, 0), 0);
	ATF_CHECK_EQ(len, NVMM_PROTO_MAX_MSG);
	ATF_CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);

	/* One byte more, or two descriptors: the errno, no descriptor. */
	send_raw(sv[1], big, sizeof(big), sv[1], 1);
	ATF_CHECK_EQ(nvmm_wire_recv(sv[0], buf, &len, &fd, 0), EMSGSIZE);
	ATF_CHECK_EQ(fd, -1);
	ATF_CHECK_EQ(len, 0);
	send_raw(sv[1], "x", 1, sv[1], 2);
	ATF_CHECK_EQ(nvmm_wire_recv(sv[0], buf, &len, &fd, 0), EBADMSG);
	ATF_CHECK_EQ(fd, -1);
	ATF_CHECK_EQ_MSG(fd_count(), before, "a refused descriptor leaked");

	/* Nothing there yet, then the end of the stream: 0 bytes, no error. */
	ATF_CHECK_EQ(nvmm_wire_recv(sv[0], buf, &len, &fd, MSG_DONTWAIT),
	    EAGAIN);
	close(sv[1]);
	ATF_CHECK_EQ(nvmm_wire_recv(sv[0], buf, &len, &fd, 0), 0);
	ATF_CHECK_EQ(len, 0);
	ATF_CHECK_EQ(fd, -1);
	close(sv[0]);
}

/* -------------------------------------------------------------------------- */
/* A peer that answers each request as its script says. */

enum result { R_NONE, R_CAPABILITY, R_MACHINE_CREATE, R_CTL };

struct step {
	int error;		/* the reply's error */
	int id_skew;		/* added to the request's id in the reply */
	enum result result;
	size_t len;		/* of the capability or ctl data */
	bool fd;		/* a descriptor with the reply */
	bool hang_up;		/* no reply: close the connection */
};

struct peer {
	pthread_t thread;
	int sock;
	const struct step *script;
	size_t nsteps;
	uint64_t ids[16];	/* the ids the requests came with */
	int cases[16];		/* and their operations */
	size_t nseen;
};

static void
peer_answer(struct peer *p, const struct step *st, const Nvmm__Request *req)
{
	static uint8_t data[sizeof(struct nvmm_capability) + 64];
	Nvmm__Reply reply = NVMM__REPLY__INIT;
	Nvmm__CapabilityResult cap = NVMM__CAPABILITY_RESULT__INIT;
	Nvmm__MachineCreateResult mc = NVMM__MACHINE_CREATE_RESULT__INIT;
	Nvmm__CtlResult ctl = NVMM__CTL_RESULT__INIT;

	memset(data, 0x5A, sizeof(data));
	cap.capability.data = ctl.data.data = data;
	cap.capability.len = ctl.data.len = st->len;
	mc.machid = 42;
	reply.id = req->id + (uint64_t)(int64_t)st->id_skew;
	reply.error = st->error;
	if (st->result == R_CAPABILITY) {
		reply.result_case = NVMM__REPLY__RESULT_CAPABILITY;
		reply.capability = &cap;
	} else if (st->result == R_MACHINE_CREATE) {
		reply.result_case = NVMM__REPLY__RESULT_MACHINE_CREATE;
		reply.machine_create = &mc;
	} else if (st->result == R_CTL) {
		reply.result_case = NVMM__REPLY__RESULT_CTL;
		reply.ctl = &ctl;
	}
	(void)nvmm_wire_send(p->sock, &reply.base, st->fd ? p->sock : -1, 0);
}

static void *
peer_main(void *arg)
{
	struct peer *p = arg;
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	Nvmm__Request *req;
	size_t len;
	int fd;

	while (p->nseen < p->nsteps && nvmm_wire_recv(p->sock, buf, &len,
	    &fd, 0) == 0 && len != 0) {
		if (fd != -1)
			close(fd);
		req = nvmm__request__unpack(NULL, len, buf);
		if (req == NULL)
			break;
		p->ids[p->nseen] = req->id;
		p->cases[p->nseen] = req->op_case;
		if (p->script[p->nseen].hang_up) {
			nvmm__request__free_unpacked(req, NULL);
			break;
		}
		peer_answer(p, &p->script[p->nseen++], req);
		nvmm__request__free_unpacked(req, NULL);
	}
	close(p->sock);
	return NULL;
}

static void
peer_start(struct peer *p, struct nvmm_rpc *rpc, const struct step *script,
    size_t nsteps)
{
	int sv[2];

	ATF_REQUIRE(nsteps <= sizeof(p->ids) / sizeof(p->ids[0]));
	memset(p, 0, sizeof(*p));
	pair(sv);
	rpc->fd = sv[0];
	p->sock = sv[1];
	p->script = script;
	p->nsteps = nsteps;
	ATF_REQUIRE(pthread_create(&p->thread, NULL, peer_main, p) == 0);
}

static void
peer_end(struct peer *p, struct nvmm_rpc *rpc)
{
	nvmm_rpc_close(rpc);
	ATF_REQUIRE(pthread_join(p->thread, NULL) == 0);
}

ATF_TC_WITHOUT_HEAD(rpc_errors_and_ids);
ATF_TC_BODY(rpc_errors_and_ids, tc)
{
	static const struct step script[] = {
		{ .error = EPERM },
		{ .error = 0 },
		{ .id_skew = 1 },
		{ .result = R_MACHINE_CREATE },
		{ .result = R_MACHINE_CREATE, .fd = true },
		{ .result = R_CTL, .len = 7 },
		{ .result = R_CTL, .len = 8 },
		{ .result = R_CAPABILITY, .len = 3 },
		{ .hang_up = true },
	};
	struct nvmm_rpc rpc = NVMM_RPC_INITIALIZER;
	struct nvmm_capability cap;
	nvmm_machid_t machid = 0;
	uint8_t data[8];
	struct peer p;
	size_t i;
	int fd, before;

	before = fd_count();
	peer_start(&p, &rpc, script, sizeof(script) / sizeof(script[0]));
	ATF_CHECK_EQ(nvmm_rpc_machine_destroy(&rpc, 3), EPERM);
	ATF_CHECK_EQ(nvmm_rpc_vcpu_create(&rpc, 3, 4), 0);
	ATF_CHECK_EQ(nvmm_rpc_vcpu_destroy(&rpc, 3, 4), EPROTO);	/* not its id */

	/* machine_create's reply is nothing without the comm memfd. */
	ATF_CHECK_EQ(nvmm_rpc_machine_create(&rpc, &machid, &fd), EPROTO);
	ATF_CHECK_EQ(fd, -1);
	ATF_CHECK_EQ(nvmm_rpc_machine_create(&rpc, &machid, &fd), 0);
	ATF_CHECK_EQ(machid, 42);
	ATF_CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);

	/* Data of another size than asked for is refused, not copied. */
	memset(data, 0, sizeof(data));
	ATF_CHECK_EQ(nvmm_rpc_ctl(&rpc, 0, data, sizeof(data)), EPROTO);
	ATF_CHECK_EQ(data[0], 0);
	ATF_CHECK_EQ(nvmm_rpc_ctl(&rpc, 0, data, sizeof(data)), 0);
	ATF_CHECK_EQ(data[0], 0x5A);
	ATF_CHECK_EQ(nvmm_rpc_capability(&rpc, &cap), EPROTO);

	/* The peer gone: ENXIO, a positive errno as every other answer. */
	ATF_CHECK_EQ(nvmm_rpc_gpa_unmap(&rpc, 3, 0, 4096), ENXIO);
	peer_end(&p, &rpc);

	ATF_CHECK_EQ(p.cases[0], NVMM__REQUEST__OP_MACHINE_DESTROY);
	ATF_CHECK_EQ(p.cases[1], NVMM__REQUEST__OP_VCPU_CREATE);
	ATF_CHECK_EQ(p.cases[2], NVMM__REQUEST__OP_VCPU_DESTROY);
	ATF_CHECK_EQ(p.cases[8], NVMM__REQUEST__OP_GPA_UNMAP);
	for (i = 0; i < sizeof(script) / sizeof(script[0]); i++)
		ATF_CHECK_EQ_MSG(p.ids[i], i + 1, "request %zu had id %ju", i,
		    (uintmax_t)p.ids[i]);
	ATF_CHECK_EQ_MSG(fd_count(), before, "a descriptor leaked");
}

/*
 * Shutdown goes out as request 24 with nothing in it, and its answer is
 * the reply's error alone; a daemon that does not know it closes the
 * connection, which is ENXIO.
 */
ATF_TC_WITHOUT_HEAD(rpc_shutdown);
ATF_TC_BODY(rpc_shutdown, tc)
{
	static const struct step script[] = {
		{ .error = EPERM },
		{ .error = 0 },
		{ .hang_up = true },
	};
	struct nvmm_rpc rpc = NVMM_RPC_INITIALIZER;
	struct peer p;
	size_t i;
	int before;

	before = fd_count();
	peer_start(&p, &rpc, script, sizeof(script) / sizeof(script[0]));
	ATF_CHECK_EQ(nvmm_rpc_shutdown(&rpc), EPERM);
	ATF_CHECK_EQ(nvmm_rpc_shutdown(&rpc), 0);
	ATF_CHECK_EQ(nvmm_rpc_shutdown(&rpc), ENXIO);
	peer_end(&p, &rpc);
	for (i = 0; i < sizeof(script) / sizeof(script[0]); i++) {
		ATF_CHECK_EQ_MSG(p.cases[i], NVMM__REQUEST__OP_SHUTDOWN,
		    "request %zu was op %d", i, p.cases[i]);
		ATF_CHECK_EQ(p.ids[i], i + 1);
	}
	ATF_CHECK_EQ(NVMM__REQUEST__OP_SHUTDOWN, 24);
	ATF_CHECK_EQ_MSG(fd_count(), before, "a descriptor leaked");
}

/* -------------------------------------------------------------------------- */
/* A daemon that answers one hello as told. */

struct hello_peer {
	pthread_t thread;
	int lsock;
	int error;
	uint32_t version;
	Nvmm__Role role;
	bool hang_up;		/* close without a reply */
};

static void *
hello_main(void *arg)
{
	struct hello_peer *h = arg;
	Nvmm__HelloReply reply = NVMM__HELLO_REPLY__INIT;
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	size_t len;
	int s, fd;

	s = accept(h->lsock, NULL, NULL);
	if (s == -1)
		return NULL;
	if (nvmm_wire_recv(s, buf, &len, &fd, 0) == 0 && !h->hang_up) {
		reply.error = h->error;
		reply.version = h->version;
		reply.role = h->role;
		(void)nvmm_wire_send(s, &reply.base, -1, 0);
	}
	if (fd != -1)
		close(fd);
	close(s);
	return NULL;
}

ATF_TC_WITHOUT_HEAD(rpc_open_checks_the_hello);
ATF_TC_BODY(rpc_open_checks_the_hello, tc)
{
	static const struct {
		struct hello_peer h;
		int want;
	} cases[] = {
		{ { .version = NVMM_PROTO_VERSION,
		    .role = NVMM__ROLE__ROLE_MONITOR }, 0 },
		{ { .error = EACCES }, EACCES },
		{ { .version = NVMM_PROTO_VERSION + 1,
		    .role = NVMM__ROLE__ROLE_MONITOR }, EPROGMISMATCH },
		{ { .version = NVMM_PROTO_VERSION,
		    .role = NVMM__ROLE__ROLE_ADMIN }, EPROTO },
		{ { .hang_up = true }, EACCES },
	};
	const char *path = "hello.sock";
	struct nvmm_rpc rpc = NVMM_RPC_INITIALIZER;
	struct sockaddr_un sun;
	struct hello_peer h;
	size_t i;
	int lsock, error;

	ATF_CHECK_EQ(nvmm_rpc_open(&rpc, path, NVMM__ROLE__ROLE_MONITOR),
	    ENOENT);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	lsock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ATF_REQUIRE(lsock != -1);
	ATF_REQUIRE(bind(lsock, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	ATF_REQUIRE(listen(lsock, 1) == 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		h = cases[i].h;
		h.lsock = lsock;
		ATF_REQUIRE(pthread_create(&h.thread, NULL, hello_main, &h) ==
		    0);
		error = nvmm_rpc_open(&rpc, path, NVMM__ROLE__ROLE_MONITOR);
		ATF_REQUIRE(pthread_join(h.thread, NULL) == 0);
		ATF_CHECK_EQ_MSG(error, cases[i].want, "case %zu: %d, want %d",
		    i, error, cases[i].want);
		ATF_CHECK_EQ_MSG(rpc.fd != -1, error == 0, "case %zu: fd %d",
		    i, rpc.fd);
		nvmm_rpc_close(&rpc);
	}
	close(lsock);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, rpc_open_checks_the_hello);
	ATF_TP_ADD_TC(tp, wire_recv_returns_errno);
	ATF_TP_ADD_TC(tp, rpc_errors_and_ids);
	ATF_TP_ADD_TC(tp, rpc_shutdown);
	return atf_no_error();
}
