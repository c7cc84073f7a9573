/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The framing of the nvmmd protocol; see nvmm_wire.h.
 */
#include <sys/socket.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "nvmm_wire.h"

int
nvmm_wire_send(int sock, const ProtobufCMessage *msg, int fd, int flags)
{
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	union {
		struct cmsghdr hdr;
		uint8_t space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh;
	struct iovec iov;
	size_t len;

	len = protobuf_c_message_get_packed_size(msg);
	if (len > sizeof(buf))
		return EMSGSIZE;
	protobuf_c_message_pack(msg, buf);

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.space;
		mh.msg_controllen = sizeof(ctl.space);
		ctl.hdr.cmsg_level = SOL_SOCKET;
		ctl.hdr.cmsg_type = SCM_RIGHTS;
		ctl.hdr.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&ctl.hdr), &fd, sizeof(int));
	}
	for (;;) {
		if (sendmsg(sock, &mh, flags | MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno != EINTR)
			return errno;
	}
}

/* Closes every descriptor of a message that must be refused. */
static void
nvmm_wire_close_fds(struct msghdr *mh)
{
	struct cmsghdr *c;
	size_t i, n;
	int fd;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
}

int
nvmm_wire_recv(int sock, uint8_t *buf, size_t *lenp, int *fdp, int flags)
{
	/* Room for more than one descriptor, so that extras are seen. */
	union {
		struct cmsghdr hdr;
		uint8_t space[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct cmsghdr *c;
	struct msghdr mh;
	struct iovec iov;
	ssize_t n;

	*fdp = -1;
	*lenp = 0;
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = NVMM_PROTO_MAX_MSG;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.space;
	mh.msg_controllen = sizeof(ctl.space);
	do
		n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		nvmm_wire_close_fds(&mh);
		return (mh.msg_flags & MSG_TRUNC) ? EMSGSIZE : EBADMSG;
	}
	c = CMSG_FIRSTHDR(&mh);
	/*
	 * An empty packet reads as the end of the connection, which callers
	 * take it for; one that carries descriptors is no end but garbage,
	 * and its descriptors must not outlive it.
	 */
	if (c != NULL && n == 0) {
		nvmm_wire_close_fds(&mh);
		return EBADMSG;
	}
	if (c != NULL && (c->cmsg_level != SOL_SOCKET ||
	    c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)) ||
	    CMSG_NXTHDR(&mh, c) != NULL)) {
		nvmm_wire_close_fds(&mh);
		return EBADMSG;
	}
	if (c != NULL)
		memcpy(fdp, CMSG_DATA(c), sizeof(int));
	*lenp = (size_t)n;
	return 0;
}
