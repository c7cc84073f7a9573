/*
 * The connection to nvmmd: nvmm_init(), nvmm_root_init(), and one
 * request at a time over it.  What NetBSD's libnvmm does with its /dev/nvmm
 * descriptor, this file does with a socket.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmmc.h"

struct nvmm_capability nvmmc_cap;

static pthread_mutex_t nvmmc_lock = PTHREAD_MUTEX_INITIALIZER;
static int nvmmc_fd = -1;
static uint64_t nvmmc_next_id;
static pthread_once_t nvmmc_atfork_once = PTHREAD_ONCE_INIT;

/*
 * Set in a child forked after nvmm_init: the connection (and the comm
 * pages) are its parent's, and the child may not use them.
 */
static volatile bool nvmmc_forked;
uint64_t nvmmc_generation;

static void
nvmmc_atfork_child(void)
{
	nvmmc_forked = true;
}

static void
nvmmc_atfork_register(void)
{
	pthread_atfork(NULL, NULL, nvmmc_atfork_child);
}

int
nvmmc_check(void)
{
	if (nvmmc_forked)
		return EPERM;
	if (nvmmc_fd == -1)
		return EBADF;
	return 0;
}

/* -------------------------------------------------------------------------- */

static int
nvmmc_connect(int *fdp)
{
	struct sockaddr_un sun;
	const char *path;
	int fd, error;

	path = secure_getenv(NVMM_SOCKET_ENV);
	if (path == NULL || *path == '\0')
		path = NVMM_DEFAULT_SOCKET;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return ENAMETOOLONG;
	strcpy(sun.sun_path, path);

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		error = errno;
		close(fd);
		/* No daemon: as no /dev/nvmm node. */
		return error == ECONNREFUSED ? ENOENT : error;
	}
	*fdp = fd;
	return 0;
}

/* The daemon closes on a peer it refuses: as a denied open, EACCES. */
static int
nvmmc_hello(int fd, Nvmm__Role role)
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

static int
nvmmc_fetch_capability(void)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__Capability op = NVMM__CAPABILITY__INIT;
	Nvmm__Reply *reply;
	int error;

	req.op_case = NVMM__REQUEST__OP_CAPABILITY;
	req.capability = &op;
	error = nvmmc_request(&req, -1, &reply, NULL);
	if (error)
		return error;
	error = reply->error;
	if (error == 0 && (reply->result_case !=
	    NVMM__REPLY__RESULT_CAPABILITY ||
	    reply->capability->capability.len != sizeof(nvmmc_cap)))
		error = EPROTO;
	if (error == 0)
		memcpy(&nvmmc_cap, reply->capability->capability.data,
		    sizeof(nvmmc_cap));
	nvmm__reply__free_unpacked(reply, NULL);
	return error;
}

static int
nvmmc_open(Nvmm__Role role)
{
	int fd = -1, error;

	pthread_once(&nvmmc_atfork_once, nvmmc_atfork_register);
	if (nvmmc_fd != -1 && !nvmmc_forked)
		return 0;
	if (nvmmc_forked) {
		/* The parent's connection stays the parent's. */
		close(nvmmc_fd);
		nvmmc_fd = -1;
		nvmmc_forked = false;
	}
	error = nvmmc_connect(&fd);
	if (error)
		return error;
	error = nvmmc_hello(fd, role);
	if (error)
		goto out;
	nvmmc_fd = fd;
	nvmmc_generation++;
	error = nvmmc_fetch_capability();
	if (error == 0 && nvmmc_cap.version != NVMM_KERN_VERSION)
		error = EPROGMISMATCH;
	if (error == 0)
		return 0;
	nvmmc_fd = -1;
out:
	close(fd);
	return error;
}

int
nvmm_init(void)
{
	return nvmmc_result(nvmmc_open(NVMM__ROLE__ROLE_USER));
}

int
nvmm_root_init(void)
{
	return nvmmc_result(nvmmc_open(NVMM__ROLE__ROLE_ADMIN));
}

/* -------------------------------------------------------------------------- */

static int
nvmmc_recv_reply(uint64_t id, Nvmm__Reply **replyp, int *fdp)
{
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	Nvmm__Reply *reply;
	ssize_t n;
	int rfd;

	n = nvmm_wire_recv(nvmmc_fd, buf, &rfd, 0);
	if (n <= 0)
		return n == 0 ? ENXIO : (int)-n;
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
nvmmc_request(Nvmm__Request *req, int fd, Nvmm__Reply **replyp, int *fdp)
{
	int error;

	error = nvmmc_check();
	if (error)
		return error;
	if (fdp != NULL)
		*fdp = -1;
	pthread_mutex_lock(&nvmmc_lock);
	req->id = ++nvmmc_next_id;
	error = nvmm_wire_send(nvmmc_fd, &req->base, fd, 0);
	if (error == EPIPE || error == ECONNRESET)
		error = ENXIO;
	if (error == 0)
		error = nvmmc_recv_reply(req->id, replyp, fdp);
	pthread_mutex_unlock(&nvmmc_lock);
	return error;
}

/* True while the daemon is still there (for waits on shared memory). */
bool
nvmmc_connected(void)
{
	uint8_t byte;
	ssize_t n;

	if (nvmmc_fd == -1)
		return false;
	n = recv(nvmmc_fd, &byte, sizeof(byte), MSG_PEEK | MSG_DONTWAIT);
	return n == -1 && (errno == EAGAIN || errno == EINTR);
}

int
nvmmc_check_machine(struct nvmm_machine *mach)
{
	int error;

	error = nvmmc_check();
	if (error)
		return error;
	if (mach == NULL || mach->areas == NULL)
		return EINVAL;
	if (nvmmc_machine(mach)->generation != nvmmc_generation)
		return EPERM;
	return 0;
}

int
nvmmc_result(int error)
{
	if (error == 0)
		return 0;
	errno = error;
	return -1;
}
