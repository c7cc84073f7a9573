/*
 * Requests on a connection of one's own (proto/nvmm_conn.h): the way to
 * the monitor role, and to each row of the role table as such.  For the
 * children of h_roles, which never call ATF: each call returns the
 * reply's error (0, or an errno value), or -errno if the transport
 * failed or the reply is not the one asked for (-EPROTO).
 */
#ifndef H_REQUEST_H
#define H_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvmm.h>

#include "nvmm_conn.h"

int	rq_capability(int s, struct nvmm_capability *cap);
/* *commfd: whether the comm memfd came with the reply. */
int	rq_machine_create(int s, nvmm_machid_t *machid, bool *commfd);
int	rq_machine_destroy(int s, nvmm_machid_t machid);
int	rq_machine_configure(int s, nvmm_machid_t machid, uint64_t op,
	    const void *conf, size_t len);
/* vcpu_create, or vcpu_destroy. */
int	rq_vcpu(int s, bool create, nvmm_machid_t machid, nvmm_cpuid_t cpuid);
/* With a sealed memfd of size bytes, as libnvmm gives the daemon. */
int	rq_hva_map(int s, nvmm_machid_t machid, uint64_t hva, uint64_t size);
int	rq_hva_unmap(int s, nvmm_machid_t machid, uint64_t hva, uint64_t size);
int	rq_gpa_map(int s, nvmm_machid_t machid, uint64_t hva, uint64_t gpa,
	    uint64_t size, int prot);
int	rq_gpa_unmap(int s, nvmm_machid_t machid, uint64_t gpa, uint64_t size);
int	rq_kick(int s, nvmm_machid_t machid, nvmm_cpuid_t cpuid);
/* On success the reply's data, which must be size bytes, is in data. */
int	rq_ctl(int s, int op, void *data, size_t size);

#endif /* H_REQUEST_H */
