/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmmd's configuration: /etc/nvmmd.conf (nvmmd.conf(5)) with the command
 * line's overrides applied.  config.c alone builds, replaces and frees it;
 * everyone else reads the current one through config_current() and does
 * not keep pointers into it past the event-loop callback that asked,
 * because a SIGHUP may replace it between two callbacks.
 */
#ifndef NVMMD_NVMMD_CONFIG_H
#define NVMMD_NVMMD_CONFIG_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef NVMMD_CONFIG_FILE		/* $(sysconfdir)/nvmmd.conf */
#define NVMMD_CONFIG_FILE	"/etc/nvmmd.conf"
#endif
/* The user's own directory, for the default socket and pidfile (privsep.c). */
#define NVMMD_RUNDIR		"/run/nvmmd"
#define NVMMD_PIDFILE		NVMMD_RUNDIR "/nvmmd.pid"
#define NVMMD_USER		"nvmmd"
#define NVMMD_NAME_MAX		64	/* a group name, with room to spare */
#define NVMMD_PATH_MAX		108	/* sun_path; also enough for a pidfile */

/* x86-64's user address space (4-level paging), where mmap places maps. */
#define NVMMD_ADDRESS_SPACE	(1ULL << 47)

/* Per-uid limits; see limits.c for their names and errno values. */
enum nvmmd_limit {
	NVMMD_LIMIT_CONNECTIONS,
	NVMMD_LIMIT_MACHINES,
	NVMMD_LIMIT_VCPUS,
	NVMMD_LIMIT_RAM,
	NVMMD_LIMIT_MAPPED,	/* the daemon's address space it takes */
	NVMMD_NLIMITS
};

/* Some limits; 0 is "no limit", and only those in `set' are given. */
struct nvmmd_limit_set {
	uint64_t max[NVMMD_NLIMITS];
	bool set[NVMMD_NLIMITS];
};

/* A "limit user ..." or "limit group ..." line. */
struct nvmmd_limit_rule {
	bool is_group;
	uid_t uid;
	gid_t gid;
	struct nvmmd_limit_set limits;
};

struct nvmmd_config {
	char socket_path[NVMMD_PATH_MAX];
	mode_t socket_mode;
	char socket_group[NVMMD_NAME_MAX];	/* "" is root's group */
	char user_group[NVMMD_NAME_MAX];	/* may create, drive machines */
	char admin_group[NVMMD_NAME_MAX];	/* may act as the root owner */
	char monitor_group[NVMMD_NAME_MAX];	/* may only look */
	char pidfile[NVMMD_PATH_MAX];
	char user[NVMMD_NAME_MAX];		/* whom root becomes */
	int log_level;				/* syslog's LOG_ERR..LOG_DEBUG */
	int syslog_facility;
	unsigned refusal_log_rate;		/* per uid per minute; 0: all */
	struct nvmmd_limit_set default_limits;
	struct nvmmd_limit_rule *rules;
	size_t nrules;
	/* metrics-listen: where /metrics is served; metrics_addrlen 0: not. */
	char metrics_listen[NVMMD_PATH_MAX];
	struct sockaddr_storage metrics_addr;
	socklen_t metrics_addrlen;
};

/* What the command line says; NULL or false where it says nothing. */
struct nvmmd_options {
	const char *config_file;
	const char *socket_path;
	const char *user_group;
	const char *admin_group;
	const char *monitor_group;
	const char *pidfile;
	const char *user;
	const char *limits;		/* -l, over the default limits */
	bool debug;
};

int	config_load(const struct nvmmd_options *opts,
	    struct nvmmd_config **cfgp, char *why, size_t whylen);
void	config_install(struct nvmmd_config *cfg);
const struct nvmmd_config *config_current(void);
void	config_free(struct nvmmd_config *cfg);

/* limits.c: "name=value" of one limit, into a set. */
int	limits_parse_item(const char *item, struct nvmmd_limit_set *set);
int	limits_parse_list(const char *list, struct nvmmd_limit_set *set);

#endif /* NVMMD_NVMMD_CONFIG_H */
