/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The connection to nvmmd: nvmm_init(), nvmm_root_init(), and the checks
 * every call makes before it sends a request (proto/nvmm_rpc.h) over it.
 * What NetBSD's libnvmm does with its /dev/nvmm descriptor, this file does
 * with a socket.
 */
#include <sys/socket.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmmc.h"

struct nvmm_capability nvmmc_cap;
struct nvmm_rpc nvmmc_rpc = NVMM_RPC_INITIALIZER;

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
	if (nvmmc_rpc.fd == -1)
		return EBADF;
	return 0;
}

/* -------------------------------------------------------------------------- */

/*
 * The errno stays NetBSD's; with NVMM_DEBUG set, which of its causes it
 * was goes to stderr (libnvmm(3)).
 */
static void
nvmmc_debug_open(int error, const char *path, Nvmm__Role role,
    const struct nvmm_rpc_why *why)
{
	const char *debug = secure_getenv("NVMM_DEBUG");
	char line[512];

	if (debug == NULL || *debug == '\0')
		return;
	nvmm_rpc_explain(line, sizeof(line), error, path, role, why,
	    "libnvmmclient", role == NVMM__ROLE__ROLE_ADMIN ?
	    "nvmm_root_init" : "nvmm_init");
	fprintf(stderr, "libnvmmclient: %s\n", line);
}

static int
nvmmc_open(Nvmm__Role role)
{
	struct nvmm_rpc_why why;
	const char *path;
	int error;

	pthread_once(&nvmmc_atfork_once, nvmmc_atfork_register);
	if (nvmmc_rpc.fd != -1 && !nvmmc_forked)
		return 0;
	if (nvmmc_forked) {
		/* The parent's connection stays the parent's. */
		nvmm_rpc_close(&nvmmc_rpc);
		nvmmc_forked = false;
	}
	path = nvmm_rpc_path();
	error = nvmm_rpc_open_why(&nvmmc_rpc, path, role, &why);
	if (error) {
		nvmmc_debug_open(error, path, role, &why);
		return error;
	}
	nvmmc_generation++;
	error = nvmm_rpc_capability(&nvmmc_rpc, &nvmmc_cap);
	if (error == 0 && nvmmc_cap.version != NVMM_KERN_VERSION)
		error = EPROGMISMATCH;
	if (error)
		nvmm_rpc_close(&nvmmc_rpc);
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

/*
 * True while the daemon is still there (for waits on shared memory).  A
 * reply waiting for another thread is data, not the end of the stream.
 */
bool
nvmmc_connected(void)
{
	uint8_t byte;
	ssize_t n;

	if (nvmmc_rpc.fd == -1)
		return false;
	n = recv(nvmmc_rpc.fd, &byte, sizeof(byte), MSG_PEEK | MSG_DONTWAIT);
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
