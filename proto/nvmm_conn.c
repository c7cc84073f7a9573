/*
 * The client end of the protocol; see nvmm_conn.h.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvmm.h>

#include "nvmm_conn.h"

const char *
nvmm_conn_path(void)
{
	const char *path;

	path = secure_getenv(NVMM_SOCKET_ENV);
	if (path == NULL || *path == '\0')
		path = NVMM_DEFAULT_SOCKET;
	return path;
}

static int
nvmm_conn_connect(const char *path, int *fdp)
{
	struct sockaddr_un sun;
	int fd, error;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path));

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		error = errno;
		close(fd);
		return error == ECONNREFUSED ? ENOENT : error;
	}
	*fdp = fd;
	return 0;
}

/* The daemon closes on a peer it refuses: as a denied open, EACCES. */
static int
nvmm_conn_hello(int fd, Nvmm__Role role)
{
	Nvmm__Hello hello = NVMM__HELLO__INIT;
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	Nvmm__HelloReply *reply;
	ssize_t n;
	int error, rfd;

	hello.version = NVMM_PROTO_VERSION;
	hello.role = role;
	error = nvmm_wire_send(fd, &hello.base, -1, 0);
	if (error)
		return error == EPIPE || error == ECONNRESET ? EACCES : error;
	n = nvmm_wire_recv(fd, buf, &rfd, 0);
	if (rfd != -1)
		close(rfd);
	if (n == 0 || n == -ECONNRESET)
		return EACCES;
	if (n < 0)
		return (int)-n;
	reply = nvmm__hello_reply__unpack(NULL, (size_t)n, buf);
	if (reply == NULL)
		return EPROTO;
	error = reply->error;
	if (error == 0 && reply->version != NVMM_PROTO_VERSION)
		error = EPROGMISMATCH;
	nvmm__hello_reply__free_unpacked(reply, NULL);
	return error;
}

int
nvmm_conn_open(const char *path, Nvmm__Role role, int *fdp)
{
	int fd = -1, error;

	error = nvmm_conn_connect(path, &fd);
	if (error)
		return error;
	error = nvmm_conn_hello(fd, role);
	if (error) {
		close(fd);
		return error;
	}
	*fdp = fd;
	return 0;
}

static int
nvmm_conn_reply(int sock, uint64_t id, Nvmm__Reply **replyp, int *fdp)
{
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	Nvmm__Reply *reply;
	ssize_t n;
	int rfd;

	n = nvmm_wire_recv(sock, buf, &rfd, 0);
	if (n <= 0)
		return n == 0 || n == -ECONNRESET ? ENXIO : (int)-n;
	reply = nvmm__reply__unpack(NULL, (size_t)n, buf);
	if (reply == NULL || reply->id != id) {
		if (reply != NULL)
			nvmm__reply__free_unpacked(reply, NULL);
		if (rfd != -1)
			close(rfd);
		return EPROTO;
	}
	if (fdp != NULL)
		*fdp = rfd;
	else if (rfd != -1)
		close(rfd);
	*replyp = reply;
	return 0;
}

int
nvmm_conn_call(int sock, Nvmm__Request *req, int fd, Nvmm__Reply **replyp,
    int *fdp)
{
	int error;

	if (fdp != NULL)
		*fdp = -1;
	error = nvmm_wire_send(sock, &req->base, fd, 0);
	if (error == EPIPE || error == ECONNRESET)
		return ENXIO;
	if (error)
		return error;
	return nvmm_conn_reply(sock, req->id, replyp, fdp);
}
