/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The framing of the nvmmd protocol, for both ends: one protobuf message
 * per SOCK_SEQPACKET packet, at most NVMM_PROTO_MAX_MSG bytes, with at
 * most one file descriptor.  Both calls return 0 or an errno value and
 * leave errno alone, as every internal function of the project.
 */
#ifndef NVMM_WIRE_H
#define NVMM_WIRE_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "nvmm.pb-c.h"

/* 2: VcpuCreate's reply brings the stop bell, which a stop now needs. */
#define NVMM_PROTO_VERSION	2
#define NVMM_PROTO_MAX_MSG	4096
/* Of proto/nvmm_worker.proto: a parent takes only workers that speak it. */
#define NVMM_WORKER_VERSION	1
#define NVMM_DEFAULT_SOCKET	"/run/nvmmd/nvmmd.sock"
#define NVMM_SOCKET_ENV		"NVMM_SOCKET"

/*
 * Sends msg as one packet, with fd (if >= 0) as SCM_RIGHTS.  flags go to
 * sendmsg (MSG_DONTWAIT for the daemon).  Returns 0 or an errno value.
 */
int	nvmm_wire_send(int sock, const ProtobufCMessage *msg, int fd, int flags);

/*
 * Receives one packet into buf (NVMM_PROTO_MAX_MSG bytes) and its length
 * into *lenp, 0 at end of file.  Returns 0 or an errno value: EMSGSIZE
 * for a packet larger than the bound, EBADMSG for more than one
 * descriptor, a descriptor on an empty packet or any other ancillary
 * data.  *fdp is the descriptor received, or -1; none is leaked.
 */
int	nvmm_wire_recv(int sock, uint8_t *buf, size_t *lenp, int *fdp,
	    int flags);

#endif /* NVMM_WIRE_H */
