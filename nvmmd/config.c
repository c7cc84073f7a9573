/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The configuration file: one setting a line, "key value...", '#' to the
 * end of the line is a comment.  The parser is strict on purpose: an
 * unknown key, a missing or extra word, or a bad value is an error that
 * names the file and the line, and nothing of a file with an error is
 * used, so that a typo never silently weakens a limit.  Each key is one
 * row of config_keys[].
 */
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <bsd/string.h>

#include "nvmmd.h"

#define CONFIG_MAX_WORDS	16
#define CONFIG_LINE_MAX		1024
#define CONFIG_MAX_RULES	1024

/* What every uid may hold unless the file says otherwise. */
#define CONFIG_DEFAULT_CONNECTIONS	64
#define CONFIG_DEFAULT_REFUSAL_RATE	10

static struct nvmmd_config *current;

struct config_line {
	char *word[CONFIG_MAX_WORDS];
	int nwords;
	char *why;
	size_t whylen;
};

struct config_key {
	const char *name;
	int nargs;			/* words after the key; -1: 2 or more */
	int (*parse)(struct nvmmd_config *, const struct config_line *,
	    size_t off, size_t size);
	size_t off;			/* of the field, for the generic ones */
	size_t size;
};

static int __attribute__((format(printf, 2, 3)))
bad(const struct config_line *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->why, l->whylen, fmt, ap);
	va_end(ap);
	return EINVAL;
}

static int
parse_string(struct nvmmd_config *cfg, const struct config_line *l,
    size_t off, size_t size)
{
	if (strlcpy((char *)cfg + off, l->word[1], size) >= size)
		return bad(l, "%s: too long", l->word[1]);
	return 0;
}

static int
parse_path(struct nvmmd_config *cfg, const struct config_line *l,
    size_t off, size_t size)
{
	if (l->word[1][0] != '/')
		return bad(l, "%s: not an absolute path", l->word[1]);
	return parse_string(cfg, l, off, size);
}

static int
parse_mode(struct nvmmd_config *cfg, const struct config_line *l,
    size_t off, size_t size)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(l->word[1], &end, 8);
	if (errno != 0 || end == l->word[1] || *end != '\0' || v > 0777)
		return bad(l, "%s: not an octal mode from 0 to 0777",
		    l->word[1]);
	cfg->socket_mode = (mode_t)v;
	return 0;
}

static int
parse_count(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return EINVAL;
	*v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || *v > max)
		return EINVAL;
	return 0;
}

static int
parse_rate(struct nvmmd_config *cfg, const struct config_line *l,
    size_t off, size_t size)
{
	unsigned long long v;

	if (parse_count(l->word[1], 1000000, &v) != 0)
		return bad(l, "%s: not a count from 0 to 1000000", l->word[1]);
	cfg->refusal_log_rate = (unsigned)v;
	return 0;
}

struct config_name {
	const char *name;
	int value;
};

static const struct config_name log_levels[] = {
	{ "error", LOG_ERR }, { "warning", LOG_WARNING },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG }, { NULL, 0 },
};

static const struct config_name facilities[] = {
	{ "daemon", LOG_DAEMON }, { "auth", LOG_AUTH },
	{ "authpriv", LOG_AUTHPRIV }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 }, { NULL, 0 },
};

static int
parse_name(const struct config_line *l, const struct config_name *names,
    int *value)
{
	size_t i;

	for (i = 0; names[i].name != NULL; i++) {
		if (strcmp(l->word[1], names[i].name) == 0) {
			*value = names[i].value;
			return 0;
		}
	}
	return bad(l, "%s: not a valid %s", l->word[1], l->word[0]);
}

static int
parse_log_level(struct nvmmd_config *cfg, const struct config_line *l,
    size_t off, size_t size)
{
	return parse_name(l, log_levels, &cfg->log_level);
}

static int
parse_facility(struct nvmmd_config *cfg, const struct config_line *l,
    size_t off, size_t size)
{
	return parse_name(l, facilities, &cfg->syslog_facility);
}

/* "127.0.0.1:PORT" or "[::1]:PORT": the loopback, and nothing else. */
static int
parse_loopback(const char *s, struct sockaddr_storage *ss, socklen_t *lenp)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	unsigned long long port;
	const char *p;

	if (strncmp(s, "127.0.0.1:", 10) == 0) {
		p = s + 10;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*lenp = sizeof(*sin);
	} else if (strncmp(s, "[::1]:", 6) == 0) {
		p = s + 6;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		*lenp = sizeof(*sin6);
	} else {
		return EINVAL;
	}
	if (parse_count(p, 65535, &port) != 0 || port == 0)
		return EINVAL;
	/* sin_port and sin6_port are at the same offset. */
	sin->sin_port = htons((uint16_t)port);
	return 0;
}

/*
 * Metrics name machines, uids and commands: they are served where only
 * this host can ask, the loopback or a Unix socket.
 */
static int
parse_metrics_listen(struct nvmmd_config *cfg, const struct config_line *l,
    size_t off, size_t size)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&cfg->metrics_addr;
	const char *s = l->word[1];

	memset(&cfg->metrics_addr, 0, sizeof(cfg->metrics_addr));
	if (strlcpy(cfg->metrics_listen, s, sizeof(cfg->metrics_listen)) >=
	    sizeof(cfg->metrics_listen))
		return bad(l, "%s: too long", s);
	if (s[0] == '/') {
		if (strlen(s) >= sizeof(sun->sun_path))
			return bad(l, "%s: too long for a socket path", s);
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, s, strlen(s));
		cfg->metrics_addrlen = sizeof(*sun);
		return 0;
	}
	if (parse_loopback(s, &cfg->metrics_addr, &cfg->metrics_addrlen) != 0)
		return bad(l, "metrics-listen %s: not 127.0.0.1:PORT, "
		    "[::1]:PORT or the absolute path of a Unix socket "
		    "(metrics are served on the loopback only)", s);
	return 0;
}

/* The target of a limit line: "default", "user NAME|UID", "group NAME|GID". */
static int
parse_limit_target(struct nvmmd_config *cfg, const struct config_line *l,
    struct nvmmd_limit_set **set, int *first)
{
	struct nvmmd_limit_rule *r, *rules;
	unsigned long long id;
	struct passwd *pw;
	struct group *gr;

	*first = 2;
	if (strcmp(l->word[1], "default") == 0) {
		*set = &cfg->default_limits;
		return 0;
	}
	if (strcmp(l->word[1], "user") != 0 && strcmp(l->word[1], "group") != 0)
		return bad(l, "%s: not default, user or group", l->word[1]);
	if (l->nwords < 4)
		return bad(l, "limit %s: needs a name and a limit", l->word[1]);
	if (cfg->nrules == CONFIG_MAX_RULES)
		return bad(l, "more than %d limit lines", CONFIG_MAX_RULES);
	rules = reallocarray(cfg->rules, cfg->nrules + 1, sizeof(*rules));
	if (rules == NULL)
		return bad(l, "out of memory");
	cfg->rules = rules;
	r = &rules[cfg->nrules];
	memset(r, 0, sizeof(*r));
	r->is_group = l->word[1][0] == 'g';
	if (parse_count(l->word[2], (uid_t)-2, &id) == 0) {
		r->uid = r->gid = (uid_t)id;
	} else if (!r->is_group && (pw = getpwnam(l->word[2])) != NULL) {
		r->uid = pw->pw_uid;
	} else if (r->is_group && (gr = getgrnam(l->word[2])) != NULL) {
		r->gid = gr->gr_gid;
	} else {
		return bad(l, "%s: no such %s", l->word[2], l->word[1]);
	}
	cfg->nrules++;
	*set = &r->limits;
	*first = 3;
	return 0;
}

static int
parse_limit(struct nvmmd_config *cfg, const struct config_line *l,
    size_t off, size_t size)
{
	struct nvmmd_limit_set *set = NULL;
	int i, first, error;

	error = parse_limit_target(cfg, l, &set, &first);
	if (error)
		return error;
	for (i = first; i < l->nwords; i++)
		if (limits_parse_item(l->word[i], set) != 0)
			return bad(l, "%s: not a limit (name=value)",
			    l->word[i]);
	return 0;
}

#define FIELD(f)	offsetof(struct nvmmd_config, f), \
			sizeof(((struct nvmmd_config *)0)->f)

static const struct config_key config_keys[] = {
	{ "socket", 1, parse_path, FIELD(socket_path) },
	{ "socket-mode", 1, parse_mode, 0, 0 },
	{ "socket-group", 1, parse_string, FIELD(socket_group) },
	{ "user-group", 1, parse_string, FIELD(user_group) },
	{ "admin-group", 1, parse_string, FIELD(admin_group) },
	{ "monitor-group", 1, parse_string, FIELD(monitor_group) },
	{ "pidfile", 1, parse_path, FIELD(pidfile) },
	{ "user", 1, parse_string, FIELD(user) },
	{ "log-level", 1, parse_log_level, 0, 0 },
	{ "syslog-facility", 1, parse_facility, 0, 0 },
	{ "refusal-log-rate", 1, parse_rate, 0, 0 },
	{ "limit", -1, parse_limit, 0, 0 },
	{ "metrics-listen", 1, parse_metrics_listen, 0, 0 },
};

static void
config_defaults(struct nvmmd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strlcpy(cfg->socket_path, NVMM_DEFAULT_SOCKET,
	    sizeof(cfg->socket_path));
	cfg->socket_mode = 0666;
	strlcpy(cfg->user_group, "nvmm", sizeof(cfg->user_group));
	strlcpy(cfg->admin_group, "nvmm-admin", sizeof(cfg->admin_group));
	strlcpy(cfg->monitor_group, "nvmm-monitor",
	    sizeof(cfg->monitor_group));
	strlcpy(cfg->pidfile, NVMMD_PIDFILE, sizeof(cfg->pidfile));
	strlcpy(cfg->user, NVMMD_USER, sizeof(cfg->user));
	cfg->log_level = LOG_INFO;
	cfg->syslog_facility = LOG_DAEMON;
	cfg->refusal_log_rate = CONFIG_DEFAULT_REFUSAL_RATE;
	/*
	 * What one user could otherwise take from all: machines to a quarter
	 * of NVMM's 128, VCPUs (threads of the daemon) to four full
	 * machines, address space to an eighth of it.
	 */
	cfg->default_limits.max[NVMMD_LIMIT_CONNECTIONS] =
	    CONFIG_DEFAULT_CONNECTIONS;
	cfg->default_limits.max[NVMMD_LIMIT_MACHINES] = NVMM_MAX_MACHINES / 4;
	cfg->default_limits.max[NVMMD_LIMIT_VCPUS] = 4 * NVMM_MAX_VCPUS;
	cfg->default_limits.max[NVMMD_LIMIT_MAPPED] = NVMMD_ADDRESS_SPACE / 8;
}

static int
config_split(char *text, struct config_line *l)
{
	char *hash, *w;

	hash = strchr(text, '#');
	if (hash != NULL)
		*hash = '\0';
	l->nwords = 0;
	while ((w = strsep(&text, " \t\r\n")) != NULL) {
		if (*w == '\0')
			continue;
		if (l->nwords == CONFIG_MAX_WORDS)
			return bad(l, "more than %d words", CONFIG_MAX_WORDS);
		l->word[l->nwords++] = w;
	}
	return 0;
}

static int
config_line(struct nvmmd_config *cfg, char *text, struct config_line *l)
{
	const struct config_key *k;
	size_t i;
	int error;

	error = config_split(text, l);
	if (error || l->nwords == 0)
		return error;
	for (i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
		k = &config_keys[i];
		if (strcmp(l->word[0], k->name) != 0)
			continue;
		if (k->nargs >= 0 && l->nwords - 1 != k->nargs)
			return bad(l, "%s: takes %d value%s", k->name,
			    k->nargs, k->nargs == 1 ? "" : "s");
		if (k->nargs < 0 && l->nwords < 3)
			return bad(l, "%s: takes 2 or more values", k->name);
		return k->parse(cfg, l, k->off, k->size);
	}
	return bad(l, "%s: unknown key", l->word[0]);
}

static int
config_read(FILE *f, const char *path, struct nvmmd_config *cfg, char *why,
    size_t whylen)
{
	char text[CONFIG_LINE_MAX], msg[256];
	struct config_line l = { .why = msg, .whylen = sizeof(msg) };
	unsigned lineno = 0;
	int error;

	while (fgets(text, sizeof(text), f) != NULL) {
		lineno++;
		if (strchr(text, '\n') == NULL && !feof(f)) {
			snprintf(why, whylen, "%s:%u: line too long", path,
			    lineno);
			return EINVAL;
		}
		error = config_line(cfg, text, &l);
		if (error) {
			snprintf(why, whylen, "%s:%u: %s", path, lineno, msg);
			return error;
		}
	}
	if (ferror(f)) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return EIO;
	}
	return 0;
}

/* The command line wins over the file. */
static int
config_override(const struct nvmmd_options *o, struct nvmmd_config *cfg,
    char *why, size_t whylen)
{
	struct { const char *v; char *to; size_t size; } s[] = {
		{ o->socket_path, cfg->socket_path, sizeof(cfg->socket_path) },
		{ o->user_group, cfg->user_group, sizeof(cfg->user_group) },
		{ o->admin_group, cfg->admin_group, sizeof(cfg->admin_group) },
		{ o->monitor_group, cfg->monitor_group,
		    sizeof(cfg->monitor_group) },
		{ o->pidfile, cfg->pidfile, sizeof(cfg->pidfile) },
		{ o->user, cfg->user, sizeof(cfg->user) },
	};
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		if (s[i].v != NULL &&
		    strlcpy(s[i].to, s[i].v, s[i].size) >= s[i].size) {
			snprintf(why, whylen, "%s: too long", s[i].v);
			return ENAMETOOLONG;
		}
	}
	if (o->limits != NULL &&
	    limits_parse_list(o->limits, &cfg->default_limits) != 0) {
		snprintf(why, whylen, "bad limits: %s", o->limits);
		return EINVAL;
	}
	if (o->debug)
		cfg->log_level = LOG_DEBUG;
	return 0;
}

/*
 * The default file may be missing (the built-in defaults are the file's
 * own); a file named with -c may not.
 */
int
config_load(const struct nvmmd_options *opts, struct nvmmd_config **cfgp,
    char *why, size_t whylen)
{
	const char *path = opts->config_file ? opts->config_file :
	    NVMMD_CONFIG_FILE;
	struct nvmmd_config *cfg;
	FILE *f;
	int error = 0;

	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		snprintf(why, whylen, "out of memory");
		return ENOMEM;
	}
	config_defaults(cfg);
	f = fopen(path, "re");
	if (f == NULL && (errno != ENOENT || opts->config_file != NULL)) {
		error = errno;
		snprintf(why, whylen, "%s: %s", path, strerror(error));
	} else if (f != NULL) {
		error = config_read(f, path, cfg, why, whylen);
		fclose(f);
	}
	if (error == 0)
		error = config_override(opts, cfg, why, whylen);
	if (error) {
		config_free(cfg);
		return error;
	}
	*cfgp = cfg;
	return 0;
}

void
config_install(struct nvmmd_config *cfg)
{
	config_free(current);
	current = cfg;
}

const struct nvmmd_config *
config_current(void)
{
	return current;
}

void
config_free(struct nvmmd_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->rules);
	free(cfg);
}
