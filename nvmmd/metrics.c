/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * /metrics over HTTP (libevent's evhttp), at metrics-listen: the
 * loopback or a Unix socket, off unless nvmmd.conf names it.  The text
 * is stats.c's, the same the Metrics request returns.
 *
 * The listening socket is made at start-up, before the seccomp filter,
 * which allows socket() for AF_UNIX only (sandbox.c): after it the
 * daemon accepts and serves, and can open no TCP socket.  So a reload
 * cannot move or start the listener (main.c says so in the log), though
 * it could close it; nvmmd.conf(5) says that the key needs a restart.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include <bsd/string.h>

#include "nvmmd.h"

#define METRICS_BACKLOG		16
#define METRICS_TIMEOUT_S	10	/* a scraper slower than this goes */
#define METRICS_REQUEST_MAX	4096	/* headers; a GET has no body */

static struct evhttp *metrics_http;
static char metrics_path[NVMMD_PATH_MAX];	/* a Unix socket to remove */

static void
metrics_serve(struct evhttp_request *req, void *arg)
{
	struct nvmm_host_stats hs;
	struct evbuffer *b;
	int error;

	(void)arg;
	b = evbuffer_new();
	if (b == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	error = host_snapshot(&hs);
	if (error == 0) {
		stats_metrics(&hs, b);
		nvmm_host_stats_free(&hs);
	}
	if (error) {
		log_warnx("/metrics: %s", strerror(error));
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	} else {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
		evhttp_send_reply(req, HTTP_OK, "OK", b);
	}
	evbuffer_free(b);
}

/* The listening socket, bound; a Unix one replaces only a stale one. */
static int
metrics_socket(const struct nvmmd_config *cfg, int *fdp, char *why,
    size_t whylen)
{
	const struct sockaddr *sa = (const struct sockaddr *)&cfg->metrics_addr;
	const int one = 1;
	int fd, error;

	if (sa->sa_family == AF_UNIX) {
		error = sockpath_clear_stale((const struct sockaddr_un *)sa,
		    SOCK_STREAM, why, whylen);
		if (error)
			return error;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		goto fail;
	if (sa->sa_family != AF_UNIX &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	if (bind(fd, sa, cfg->metrics_addrlen) == -1 ||
	    listen(fd, METRICS_BACKLOG) == -1)
		goto fail;
	if (sa->sa_family == AF_UNIX)
		strlcpy(metrics_path, cfg->metrics_listen,
		    sizeof(metrics_path));
	*fdp = fd;
	return 0;
fail:
	error = errno;
	snprintf(why, whylen, "metrics-listen %s: %s", cfg->metrics_listen,
	    strerror(error));
	if (fd != -1)
		close(fd);
	return error;
}

static int
metrics_http_start(int fd)
{
	metrics_http = evhttp_new(nvmmd_base);
	if (metrics_http == NULL)
		return ENOMEM;
	evhttp_set_allowed_methods(metrics_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD);
	evhttp_set_timeout(metrics_http, METRICS_TIMEOUT_S);
	evhttp_set_max_headers_size(metrics_http, METRICS_REQUEST_MAX);
	evhttp_set_max_body_size(metrics_http, 0);
	if (evhttp_set_cb(metrics_http, "/metrics", metrics_serve, NULL) != 0 ||
	    evhttp_accept_socket_with_handle(metrics_http, fd) == NULL)
		return ENOMEM;
	return 0;
}

int
metrics_start(const struct nvmmd_config *cfg, char *why, size_t whylen)
{
	int fd = -1, error;

	stats_init();
	if (cfg->metrics_addrlen == 0)
		return 0;
	error = metrics_socket(cfg, &fd, why, whylen);
	if (error)
		return error;
	error = metrics_http_start(fd);
	if (error) {
		close(fd);
		snprintf(why, whylen, "metrics-listen %s: %s",
		    cfg->metrics_listen, strerror(error));
		return error;
	}
	log_info("serving /metrics on %s", cfg->metrics_listen);
	return 0;
}

void
metrics_stop(void)
{
	if (metrics_http != NULL)
		evhttp_free(metrics_http);	/* closes the socket */
	metrics_http = NULL;
	if (metrics_path[0] != '\0')
		unlink(metrics_path);
	metrics_path[0] = '\0';
}

/* A worker closes the listener it inherited, and removes nothing. */
void
metrics_forget(void)
{
	if (metrics_http != NULL)
		evhttp_free(metrics_http);
	metrics_http = NULL;
	metrics_path[0] = '\0';
}
