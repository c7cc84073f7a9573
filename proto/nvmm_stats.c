/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The host's statistics as both ends of the protocol see them; see
 * nvmm_stats.h.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nvmm_stats.h"

const char *const nvmm_exit_names[NVMM_CTL_STATS_NEXITS] = {
	"none", "memory", "io", "shutdown", "int_ready", "nmi_ready",
	"halted", "tpr_changed", "rdmsr", "wrmsr", "monitor", "mwait",
	"cpuid", "stopped", "invalid", NULL,
};

void
nvmm_uuid_format(const uint8_t u[NVMM_UUID_SIZE], char buf[NVMM_UUID_STRLEN])
{
	snprintf(buf, NVMM_UUID_STRLEN, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4],
	    u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
	    u[15]);
}

void
nvmm_host_stats_free(struct nvmm_host_stats *hs)
{
	free(hs->machs);	/* the VCPUs are in the same allocation */
	hs->machs = NULL;
	hs->vcpus = NULL;
	hs->nmachs = hs->nvcpus = 0;
}

int
nvmm_host_stats_len(uint64_t nmachs, uint64_t nvcpus, size_t *lenp)
{
	if (nmachs > NVMM_MAX_MACHINES || nvcpus > NVMM_HOST_MAX_VCPUS)
		return EPROTO;
	*lenp = nmachs * sizeof(struct nvmm_ctl_host_mach) +
	    nvcpus * sizeof(struct nvmm_ctl_host_vcpu);
	return 0;
}

void
nvmm_host_stats_take(struct nvmm_host_stats *hs, void *buf, size_t nmachs,
    size_t nvcpus)
{
	hs->nmachs = nmachs;
	hs->nvcpus = nvcpus;
	hs->machs = buf;
	hs->vcpus = (struct nvmm_ctl_host_vcpu *)(void *)(hs->machs + nmachs);
}

int
nvmm_memfd_sealed(const void *data, size_t len, int *fdp)
{
	const uint8_t *p = data;
	size_t done = 0;
	ssize_t n;
	int fd, error;

	fd = memfd_create("nvmm-reply", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1)
		return errno;
	while (done < len) {
		n = write(fd, p + done, len - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			error = n == -1 ? errno : EIO;
			goto out;
		}
		done += (size_t)n;
	}
	/* The reader trusts the size it is told: it cannot change now. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1) {
		error = errno;
		goto out;
	}
	*fdp = fd;
	return 0;
out:
	close(fd);
	return error;
}

int
nvmm_memfd_read(int fd, size_t len, void **bufp)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;
	ssize_t n;

	if (fstat(fd, &st) == -1)
		return errno;
	if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (uint64_t)st.st_size != len)
		return EPROTO;
	buf = malloc(len + 1);	/* + 1: never malloc(0); room for a NUL */
	if (buf == NULL)
		return ENOMEM;
	while (done < len) {
		n = pread(fd, buf + done, len - done, (off_t)done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n == -1 ? errno : EPROTO;
		}
		done += (size_t)n;
	}
	buf[len] = '\0';
	*bufp = buf;
	return 0;
}
