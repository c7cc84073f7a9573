/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The client end of the nvmmd protocol; see nvmm_rpc.h.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmm_rpc.h"

const char *
nvmm_rpc_path(void)
{
	const char *path;

	path = secure_getenv(NVMM_SOCKET_ENV);
	if (path == NULL || *path == '\0')
		path = NVMM_DEFAULT_SOCKET;
	return path;
}

/* *rawp: connect(2)'s own errno, which the returned one may hide. */
static int
nvmm_rpc_connect(const char *path, int *fdp, int *rawp)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*rawp = ENAMETOOLONG;
		return ENAMETOOLONG;
	}
	memcpy(sun.sun_path, path, strlen(path));

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		*rawp = errno;
		return errno;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		*rawp = errno;
		close(fd);
		/* No daemon there, as NetBSD's missing /dev/nvmm. */
		return *rawp == ECONNREFUSED ? ENOENT : *rawp;
	}
	*rawp = 0;
	*fdp = fd;
	return 0;
}

/* The groups of reply that grant role, into why. */
static void
nvmm_rpc_groups(const Nvmm__HelloReply *reply, Nvmm__Role role,
    struct nvmm_rpc_why *why)
{
	const char *g = NULL, *alt = NULL;

	switch (role) {
	case NVMM__ROLE__ROLE_USER:
		g = reply->user_group;
		break;
	case NVMM__ROLE__ROLE_ADMIN:
		g = reply->admin_group;
		break;
	case NVMM__ROLE__ROLE_MONITOR:
		g = reply->monitor_group;
		alt = reply->user_group;	/* users may look too */
		break;
	default:
		return;
	}
	if (g == NULL || *g == '\0')
		return;
	if (alt != NULL && *alt != '\0')
		snprintf(why->groups, sizeof(why->groups), "%s or %s", g, alt);
	else
		snprintf(why->groups, sizeof(why->groups), "%s", g);
}

/*
 * A daemon that refuses the peer before its hello closes, after a reply
 * if it can: the reply is still read after a failed send.  No reply is
 * a denied open, EACCES, as NetBSD's /dev/nvmm.
 */
static int
nvmm_rpc_hello(int fd, Nvmm__Role role, struct nvmm_rpc_why *why)
{
	Nvmm__Hello hello = NVMM__HELLO__INIT;
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	Nvmm__HelloReply *reply;
	size_t n;
	int error, rfd;

	hello.version = NVMM_PROTO_VERSION;
	hello.role = role;
	error = nvmm_wire_send(fd, &hello.base, -1, 0);
	if (error && error != EPIPE && error != ECONNRESET)
		return error;
	error = nvmm_wire_recv(fd, buf, &n, &rfd, 0);
	/*
	 * A daemon that closes before reading the hello resets the
	 * connection; the error is reported once, the reply still queued.
	 */
	if (error == ECONNRESET)
		error = nvmm_wire_recv(fd, buf, &n, &rfd, MSG_DONTWAIT);
	if (rfd != -1)
		close(rfd);
	if ((error == 0 && n == 0) || error == ECONNRESET || error == EAGAIN)
		return EACCES;
	if (error)
		return error;
	reply = nvmm__hello_reply__unpack(NULL, n, buf);
	if (reply == NULL)
		return EPROTO;
	why->version = reply->version;
	error = reply->error;
	if (error == 0 && reply->version != NVMM_PROTO_VERSION)
		error = EPROGMISMATCH;
	else if (error == 0 && reply->role != role)
		error = EPROTO;		/* not what was asked: use none */
	if (error == EACCES && reply->reason != NULL && *reply->reason != '\0')
		snprintf(why->reason, sizeof(why->reason), "%s", reply->reason);
	else if (error == EACCES)
		nvmm_rpc_groups(reply, role, why);
	nvmm__hello_reply__free_unpacked(reply, NULL);
	return error;
}

int
nvmm_rpc_open_why(struct nvmm_rpc *rpc, const char *path, Nvmm__Role role,
    struct nvmm_rpc_why *why)
{
	struct nvmm_rpc_why scratch;
	int fd = -1, error;

	if (why == NULL)
		why = &scratch;
	memset(why, 0, sizeof(*why));
	error = nvmm_rpc_connect(path, &fd, &why->connect_error);
	if (error)
		return error;
	error = nvmm_rpc_hello(fd, role, why);
	if (error) {
		close(fd);
		return error;
	}
	rpc->fd = fd;
	return 0;
}

int
nvmm_rpc_open(struct nvmm_rpc *rpc, const char *path, Nvmm__Role role)
{
	return nvmm_rpc_open_why(rpc, path, role, NULL);
}

void
nvmm_rpc_close(struct nvmm_rpc *rpc)
{
	if (rpc->fd != -1)
		close(rpc->fd);
	rpc->fd = -1;
}

/* -------------------------------------------------------------------------- */

static int
nvmm_rpc_reply(int sock, uint64_t id, Nvmm__Reply **replyp, int *fdp)
{
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	Nvmm__Reply *reply;
	size_t n;
	int error;

	error = nvmm_wire_recv(sock, buf, &n, fdp, 0);
	if ((error == 0 && n == 0) || error == ECONNRESET)
		return ENXIO;
	if (error)
		return error;
	reply = nvmm__reply__unpack(NULL, n, buf);
	if (reply == NULL || reply->id != id) {
		if (reply != NULL)
			nvmm__reply__free_unpacked(reply, NULL);
		return EPROTO;
	}
	*replyp = reply;
	return 0;
}

/*
 * Sends req, with fd if >= 0, and waits for its reply.  Returns the
 * transport's error or the operation's.  When that is 0, *replyp (if not
 * NULL) is the reply, the caller's to free with nvmm__reply__free_unpacked,
 * and *fdp (if not NULL) the descriptor that came with it, or -1; what the
 * caller does not take is freed here.
 */
static int
nvmm_rpc_call(struct nvmm_rpc *rpc, Nvmm__Request *req, int fd,
    Nvmm__Reply **replyp, int *fdp)
{
	Nvmm__Reply *reply = NULL;
	int error, rfd = -1;

	if (fdp != NULL)
		*fdp = -1;
	pthread_mutex_lock(&rpc->lock);
	req->id = ++rpc->next_id;
	error = nvmm_wire_send(rpc->fd, &req->base, fd, 0);
	if (error == EPIPE || error == ECONNRESET)
		error = ENXIO;
	if (error == 0)
		error = nvmm_rpc_reply(rpc->fd, req->id, &reply, &rfd);
	pthread_mutex_unlock(&rpc->lock);
	if (error == 0)
		error = reply->error;
	if (error == 0 && replyp != NULL) {
		*replyp = reply;
		reply = NULL;
	}
	if (error == 0 && fdp != NULL) {
		*fdp = rfd;
		rfd = -1;
	}
	if (reply != NULL)
		nvmm__reply__free_unpacked(reply, NULL);
	if (rfd != -1)
		close(rfd);
	return error;
}

/*
 * nvmm_rpc_call for the operation op, of the request's case opcase: the
 * request's field for it is found by its number, as protobuf-c packs it.
 */
static int
nvmm_rpc_op(struct nvmm_rpc *rpc, Nvmm__Request__OpCase opcase,
    ProtobufCMessage *op, int fd, Nvmm__Reply **replyp, int *fdp)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	const ProtobufCFieldDescriptor *field;

	field = protobuf_c_message_descriptor_get_field(
	    &nvmm__request__descriptor, (unsigned)opcase);
	if (field == NULL || field->descriptor != op->descriptor)
		return EINVAL;
	req.op_case = opcase;
	memcpy((uint8_t *)&req + field->offset, &op, sizeof(op));
	return nvmm_rpc_call(rpc, &req, fd, replyp, fdp);
}

/* -------------------------------------------------------------------------- */

int
nvmm_rpc_capability(struct nvmm_rpc *rpc, struct nvmm_capability *cap)
{
	Nvmm__Capability op = NVMM__CAPABILITY__INIT;
	Nvmm__Reply *reply;
	int error;

	error = nvmm_rpc_op(rpc, NVMM__REQUEST__OP_CAPABILITY,
	    &op.base, -1, &reply, NULL);
	if (error)
		return error;
	if (reply->result_case == NVMM__REPLY__RESULT_CAPABILITY &&
	    reply->capability->capability.len == sizeof(*cap))
		memcpy(cap, reply->capability->capability.data, sizeof(*cap));
	else
		error = EPROTO;
	nvmm__reply__free_unpacked(reply, NULL);
	return error;
}

int
nvmm_rpc_machine_create(struct nvmm_rpc *rpc, nvmm_machid_t *machidp,
    int *commfdp)
{
	Nvmm__MachineCreate op = NVMM__MACHINE_CREATE__INIT;
	Nvmm__Reply *reply;
	int error, fd;

	*commfdp = -1;
	error = nvmm_rpc_op(rpc, NVMM__REQUEST__OP_MACHINE_CREATE,
	    &op.base, -1, &reply, &fd);
	if (error)
		return error;
	if (reply->result_case == NVMM__REPLY__RESULT_MACHINE_CREATE &&
	    fd != -1) {
		*machidp = reply->machine_create->machid;
		*commfdp = fd;
	} else {
		if (fd != -1)
			close(fd);
		error = EPROTO;
	}
	nvmm__reply__free_unpacked(reply, NULL);
	return error;
}

int
nvmm_rpc_machine_destroy(struct nvmm_rpc *rpc, nvmm_machid_t machid)
{
	Nvmm__MachineDestroy op = NVMM__MACHINE_DESTROY__INIT;

	op.machid = machid;
	return nvmm_rpc_op(rpc, NVMM__REQUEST__OP_MACHINE_DESTROY,
	    &op.base, -1, NULL, NULL);
}

int
nvmm_rpc_machine_configure(struct nvmm_rpc *rpc, nvmm_machid_t machid,
    uint64_t op, const void *conf, size_t size)
{
	Nvmm__MachineConfigure m = NVMM__MACHINE_CONFIGURE__INIT;

	m.machid = machid;
	m.op = op;
	m.conf.data = (uint8_t *)(uintptr_t)conf;
	m.conf.len = size;
	return nvmm_rpc_op(rpc, NVMM__REQUEST__OP_MACHINE_CONFIGURE,
	    &m.base, -1, NULL, NULL);
}

int
nvmm_rpc_vcpu_create_bell(struct nvmm_rpc *rpc, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid, int *bellfdp)
{
	Nvmm__VcpuCreate op = NVMM__VCPU_CREATE__INIT;
	int error, fd;

	op.machid = machid;
	op.cpuid = cpuid;
	error = nvmm_rpc_op(rpc, NVMM__REQUEST__OP_VCPU_CREATE,
	    &op.base, -1, NULL, &fd);
	if (error == 0 && bellfdp != NULL && fd == -1)
		error = EPROTO;
	if (error == 0 && bellfdp != NULL)
		*bellfdp = fd;
	else if (fd != -1)
		close(fd);
	return error;
}

int
nvmm_rpc_vcpu_create(struct nvmm_rpc *rpc, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid)
{
	return nvmm_rpc_vcpu_create_bell(rpc, machid, cpuid, NULL);
}

int
nvmm_rpc_vcpu_destroy(struct nvmm_rpc *rpc, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid)
{
	Nvmm__VcpuDestroy op = NVMM__VCPU_DESTROY__INIT;

	op.machid = machid;
	op.cpuid = cpuid;
	return nvmm_rpc_op(rpc, NVMM__REQUEST__OP_VCPU_DESTROY,
	    &op.base, -1, NULL, NULL);
}

int
nvmm_rpc_hva_map(struct nvmm_rpc *rpc, nvmm_machid_t machid, uint64_t hva,
    uint64_t size, int memfd)
{
	Nvmm__HvaMap op = NVMM__HVA_MAP__INIT;

	op.machid = machid;
	op.hva = hva;
	op.size = size;
	return nvmm_rpc_op(rpc, NVMM__REQUEST__OP_HVA_MAP,
	    &op.base, memfd, NULL, NULL);
}

int
nvmm_rpc_hva_unmap(struct nvmm_rpc *rpc, nvmm_machid_t machid, uint64_t hva,
    uint64_t size)
{
	Nvmm__HvaUnmap op = NVMM__HVA_UNMAP__INIT;

	op.machid = machid;
	op.hva = hva;
	op.size = size;
	return nvmm_rpc_op(rpc, NVMM__REQUEST__OP_HVA_UNMAP,
	    &op.base, -1, NULL, NULL);
}

int
nvmm_rpc_gpa_map(struct nvmm_rpc *rpc, nvmm_machid_t machid, uint64_t hva,
    uint64_t gpa, uint64_t size, int prot)
{
	Nvmm__GpaMap op = NVMM__GPA_MAP__INIT;

	op.machid = machid;
	op.hva = hva;
	op.gpa = gpa;
	op.size = size;
	op.prot = prot;
	return nvmm_rpc_op(rpc, NVMM__REQUEST__OP_GPA_MAP,
	    &op.base, -1, NULL, NULL);
}

int
nvmm_rpc_gpa_unmap(struct nvmm_rpc *rpc, nvmm_machid_t machid, uint64_t gpa,
    uint64_t size)
{
	Nvmm__GpaUnmap op = NVMM__GPA_UNMAP__INIT;

	op.machid = machid;
	op.gpa = gpa;
	op.size = size;
	return nvmm_rpc_op(rpc, NVMM__REQUEST__OP_GPA_UNMAP,
	    &op.base, -1, NULL, NULL);
}

int
nvmm_rpc_ctl(struct nvmm_rpc *rpc, int op, void *data, size_t size)
{
	Nvmm__Ctl m = NVMM__CTL__INIT;
	Nvmm__Reply *reply;
	int error;

	m.op = op;
	m.data.data = data;
	m.data.len = size;
	error = nvmm_rpc_op(rpc, NVMM__REQUEST__OP_CTL,
	    &m.base, -1, &reply, NULL);
	if (error)
		return error;
	if (reply->result_case == NVMM__REPLY__RESULT_CTL &&
	    reply->ctl->data.len == size) {
		if (size != 0)
			memcpy(data, reply->ctl->data.data, size);
	} else {
		error = EPROTO;
	}
	nvmm__reply__free_unpacked(reply, NULL);
	return error;
}

/*
 * A reply of case want with a memfd of len bytes, where len comes from
 * the reply itself (lenf): the memfd's content into *bufp.
 */
static int
nvmm_rpc_memfd_op(struct nvmm_rpc *rpc, Nvmm__Request__OpCase opcase,
    ProtobufCMessage *op, Nvmm__Reply__ResultCase want,
    int (*lenf)(const Nvmm__Reply *, size_t *), void **bufp,
    Nvmm__Reply **replyp)
{
	Nvmm__Reply *reply;
	size_t len;
	int error, fd;

	error = nvmm_rpc_op(rpc, opcase, op, -1, &reply, &fd);
	if (error)
		return error;
	if (reply->result_case != want || fd == -1 || lenf(reply, &len) != 0)
		error = EPROTO;
	else
		error = nvmm_memfd_read(fd, len, bufp);
	if (fd != -1)
		close(fd);
	if (error)
		nvmm__reply__free_unpacked(reply, NULL);
	else
		*replyp = reply;
	return error;
}

static int
nvmm_rpc_host_stats_len(const Nvmm__Reply *reply, size_t *lenp)
{
	return nvmm_host_stats_len(reply->host_stats->nmachines,
	    reply->host_stats->nvcpus, lenp);
}

int
nvmm_rpc_host_stats(struct nvmm_rpc *rpc, struct nvmm_host_stats *hs)
{
	Nvmm__HostStats op = NVMM__HOST_STATS__INIT;
	Nvmm__Reply *reply;
	void *buf;
	int error;

	error = nvmm_rpc_memfd_op(rpc, NVMM__REQUEST__OP_HOST_STATS, &op.base,
	    NVMM__REPLY__RESULT_HOST_STATS, nvmm_rpc_host_stats_len, &buf,
	    &reply);
	if (error)
		return error;
	nvmm_host_stats_take(hs, buf, reply->host_stats->nmachines,
	    reply->host_stats->nvcpus);
	nvmm__reply__free_unpacked(reply, NULL);
	return 0;
}

static int
nvmm_rpc_metrics_len(const Nvmm__Reply *reply, size_t *lenp)
{
	if (reply->metrics->size > NVMM_METRICS_MAX)
		return EPROTO;
	*lenp = (size_t)reply->metrics->size;
	return 0;
}

int
nvmm_rpc_metrics(struct nvmm_rpc *rpc, char **textp, size_t *lenp)
{
	Nvmm__Metrics op = NVMM__METRICS__INIT;
	Nvmm__Reply *reply;
	void *buf;
	int error;

	error = nvmm_rpc_memfd_op(rpc, NVMM__REQUEST__OP_METRICS, &op.base,
	    NVMM__REPLY__RESULT_METRICS, nvmm_rpc_metrics_len, &buf, &reply);
	if (error)
		return error;
	*textp = buf;
	*lenp = (size_t)reply->metrics->size;
	nvmm__reply__free_unpacked(reply, NULL);
	return 0;
}

int
nvmm_rpc_shutdown(struct nvmm_rpc *rpc)
{
	Nvmm__Shutdown op = NVMM__SHUTDOWN__INIT;

	return nvmm_rpc_op(rpc, NVMM__REQUEST__OP_SHUTDOWN, &op.base, -1,
	    NULL, NULL);
}
