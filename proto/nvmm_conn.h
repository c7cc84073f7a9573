/*
 * The client end of the protocol, shared by libnvmmclient and nvmmctl:
 * connect and say hello, then one request and its reply at a time.
 * Every call returns 0 or an errno value.
 */
#ifndef NVMM_CONN_H
#define NVMM_CONN_H

#include "nvmm_wire.h"

/* $NVMM_SOCKET, or the default socket. */
const char *nvmm_conn_path(void);

/*
 * Connects to the daemon and asks for role.  A daemon that is not there
 * is ENOENT (as no /dev/nvmm), one that refuses the caller EACCES, one
 * that speaks another protocol EPROGMISMATCH.
 */
int	nvmm_conn_open(const char *path, Nvmm__Role role, int *fdp);

/*
 * Sends req with fd (if >= 0) and waits for the reply with the same id;
 * a descriptor that comes with the reply is in *fdp (if fdp is not NULL,
 * else it is closed).  The caller frees the reply with
 * nvmm__reply__free_unpacked().  A daemon gone is ENXIO.
 */
int	nvmm_conn_call(int sock, Nvmm__Request *req, int fd,
	    Nvmm__Reply **replyp, int *fdp);

#endif /* NVMM_CONN_H */
