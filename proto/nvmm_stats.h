/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * What the daemon and nvmmctl share of the host's statistics: the names
 * of the exit reasons, and the sealed memfd that carries an answer too
 * large for a packet (HostStats, Metrics in nvmm.proto).
 */
#ifndef NVMM_STATS_H
#define NVMM_STATS_H

#include <stddef.h>
#include <stdint.h>

#include <nvmm.h>

#include "nvmm_slot.h"		/* NVMM_MAX_MACHINES, NVMM_MAX_VCPUS */

/* The names of NVMM_CTL_STATS_EXIT_*, in their order; NULL after. */
extern const char *const nvmm_exit_names[NVMM_CTL_STATS_NEXITS];

/* The most a HostStats reply can name: a full host. */
#define NVMM_HOST_MAX_VCPUS	((size_t)NVMM_MAX_MACHINES * NVMM_MAX_VCPUS)

/* The most Metrics text a client accepts (a full host is far below). */
#define NVMM_METRICS_MAX	((size_t)1 << 30)

/* A HostStats answer: machs[nmachs], then vcpus[nvcpus], one allocation. */
struct nvmm_host_stats {
	size_t nmachs;
	size_t nvcpus;
	struct nvmm_ctl_host_mach *machs;
	struct nvmm_ctl_host_vcpu *vcpus;
};

void	nvmm_host_stats_free(struct nvmm_host_stats *hs);

/*
 * The bytes of a HostStats memfd naming nmachs machines and nvcpus VCPUs,
 * into *lenp; EPROTO for more than a full host.
 */
int	nvmm_host_stats_len(uint64_t nmachs, uint64_t nvcpus, size_t *lenp);
/* hs over buf, that memfd's content, which hs now holds. */
void	nvmm_host_stats_take(struct nvmm_host_stats *hs, void *buf,
	    size_t nmachs, size_t nvcpus);

/* A UUID as RFC 9562 writes it: 36 characters and a NUL. */
#define NVMM_UUID_STRLEN	37
void	nvmm_uuid_format(const uint8_t uuid[NVMM_UUID_SIZE],
	    char buf[NVMM_UUID_STRLEN]);

/*
 * A new memfd holding the len bytes of data, sealed against any change;
 * the caller closes *fdp.  Returns 0 or an errno value.
 */
int	nvmm_memfd_sealed(const void *data, size_t len, int *fdp);

/*
 * The content of a memfd that must be exactly len bytes, into a new
 * allocation (the caller frees *bufp).  EPROTO when it is not that size.
 */
int	nvmm_memfd_read(int fd, size_t len, void **bufp);

#endif /* NVMM_STATS_H */
