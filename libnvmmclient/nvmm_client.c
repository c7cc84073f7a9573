/*
 * The connection to nvmmd: nvmm_init(), nvmm_root_init(), and one
 * request at a time over it.  What NetBSD's libnvmm does with its /dev/nvmm
 * descriptor, this file does with a socket.
 */
#include <sys/socket.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmmc.h"
#include "nvmm_conn.h"

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
	error = nvmm_conn_open(nvmm_conn_path(), role, &fd);
	if (error)
		return error;
	nvmmc_fd = fd;
	nvmmc_generation++;
	error = nvmmc_fetch_capability();
	if (error == 0 && nvmmc_cap.version != NVMM_KERN_VERSION)
		error = EPROGMISMATCH;
	if (error == 0)
		return 0;
	nvmmc_fd = -1;
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

int
nvmmc_request(Nvmm__Request *req, int fd, Nvmm__Reply **replyp, int *fdp)
{
	int error;

	error = nvmmc_check();
	if (error)
		return error;
	pthread_mutex_lock(&nvmmc_lock);
	req->id = ++nvmmc_next_id;
	error = nvmm_conn_call(nvmmc_fd, req, fd, replyp, fdp);
	pthread_mutex_unlock(&nvmmc_lock);
	return error;
}

/*
 * True while the daemon is still there (for waits on shared memory).  A
 * reply waiting for another thread is data, not the end of the stream.
 */
bool
nvmmc_connected(void)
{
	uint8_t byte;
	ssize_t n;

	if (nvmmc_fd == -1)
		return false;
	n = recv(nvmmc_fd, &byte, sizeof(byte), MSG_PEEK | MSG_DONTWAIT);
	return n > 0 || (n == -1 && (errno == EAGAIN || errno == EINTR));
}

bool
nvmmc_in_forked_child(void)
{
	return nvmmc_forked;
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
