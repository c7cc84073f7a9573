/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Logging: standard error until the daemon has detached (so that every
 * start-up failure reaches whoever started it), then syslog; standard
 * error throughout in the foreground.
 *
 * Refusals are logged at most refusal-log-rate times a minute per uid,
 * so that a user who reconnects in a loop cannot flood the log, or slow
 * the daemon down with syslog's writes.
 */
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#define LIBBSD_NETBSD_VIS
#include <bsd/vis.h>

#include "nvmmd.h"

#define LOG_REFUSAL_SLOTS	64	/* uids remembered, most recent */
#define LOG_REFUSAL_WINDOW_S	60

/* The longest message logged; the rest is cut. */
#define LOG_MSG_MAX		512

static bool log_to_syslog;
static int log_level = LOG_INFO;

struct refusal_slot {
	uid_t uid;
	bool used;
	time_t window;			/* start of its minute */
	unsigned count;
	unsigned suppressed;
};

static struct refusal_slot refusals[LOG_REFUSAL_SLOTS];

/* Every refusal since the start, logged or not, for the metrics. */
static uint64_t refusal_counts[NVMMD_NREFUSALS];

static const char *const refusal_names[NVMMD_NREFUSALS] = {
	[NVMMD_REFUSAL_CONNECTION] = "connection",
	[NVMMD_REFUSAL_ROLE] = "role",
	[NVMMD_REFUSAL_REQUEST] = "request",
	[NVMMD_REFUSAL_MALFORMED] = "malformed",
	[NVMMD_REFUSAL_TIMEOUT] = "hello_timeout",
	[NVMMD_REFUSAL_LIMIT] = "limit",
};

/* Called at start-up and on each reload; opening syslog twice is harmless. */
void
log_configure(bool to_syslog, int level, int facility)
{
	log_level = level;
	if (to_syslog) {
		closelog();
		openlog("nvmmd", LOG_PID | LOG_NDELAY, facility);
	}
	log_to_syslog = to_syslog;
}

/*
 * Messages carry what clients chose (names, their bytes in errors), and
 * an administrator reads them on a terminal: what is not printable is
 * written as a C escape, so that no line of the log can be forged.
 */
static void
log_vwrite(int prio, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX], safe[4 * LOG_MSG_MAX + 1];
	int n;

	if (prio > log_level)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (strvisx(safe, msg, (size_t)n, VIS_CSTYLE | VIS_OCTAL | VIS_TAB |
	    VIS_NL) == -1)
		return;
	if (!log_to_syslog)
		fprintf(stderr, "nvmmd: %s\n", safe);
	else
		syslog(prio, "%s", safe);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

/* The uid's slot, or the oldest one, taken over. */
static struct refusal_slot *
refusal_slot(uid_t uid)
{
	struct refusal_slot *s, *oldest = &refusals[0];
	size_t i;

	for (i = 0; i < LOG_REFUSAL_SLOTS; i++) {
		s = &refusals[i];
		if (s->used && s->uid == uid)
			return s;
		if (!s->used || (oldest->used && s->window < oldest->window))
			oldest = s;
	}
	oldest->used = true;
	oldest->uid = uid;
	oldest->window = 0;
	oldest->count = oldest->suppressed = 0;
	return oldest;
}

/*
 * Counts a refusal of uid; true when it may be logged.  Asked before the
 * message is made, so that a flood of refusals costs no name lookups.
 */
bool
log_refusal_allowed(uid_t uid, enum nvmmd_refusal why)
{
	unsigned rate = config_current()->refusal_log_rate;
	struct refusal_slot *s = refusal_slot(uid);
	struct timespec now;

	refusal_counts[why]++;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - s->window >= LOG_REFUSAL_WINDOW_S) {
		if (s->suppressed != 0)
			log_warnx("uid %u: %u more refusals not logged",
			    (unsigned)uid, s->suppressed);
		s->window = now.tv_sec;
		s->count = s->suppressed = 0;
	}
	if (rate != 0 && s->count >= rate) {
		s->suppressed++;
		return false;
	}
	s->count++;
	return true;
}

uint64_t
log_refusals(enum nvmmd_refusal why)
{
	return refusal_counts[why];
}

const char *
log_refusal_name(enum nvmmd_refusal why)
{
	return refusal_names[why];
}

/* "pid 12 uid 1000 (alice) gid 100 (users)", for the log. */
void
log_peer_describe(const struct nvmmd_peer *peer, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(peer->uid);
	struct group *gr = getgrgid(peer->gid);

	snprintf(buf, len, "pid %d uid %u (%s) gid %u (%s)", (int)peer->pid,
	    (unsigned)peer->uid, pw != NULL ? pw->pw_name : "no name",
	    (unsigned)peer->gid, gr != NULL ? gr->gr_name : "no name");
}

/*
 * A request or a hello refused, after the connection was accepted: the
 * same per-uid rate as refused connections, so that a client looping on
 * a forbidden request cannot flood the log; names only once it is let
 * through.
 */
void
log_peer_refusal(const struct nvmmd_peer *peer, enum nvmmd_refusal why,
    const char *fmt, ...)
{
	char msg[LOG_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The count and the rate are the parent's, over all its workers. */
	if (worker_is())
		worker_refusal(why, msg);
	else
		log_worker_refusal(peer, why, msg);
}

/* A refusal a worker made, or the parent's own: counted, maybe logged. */
void
log_worker_refusal(const struct nvmmd_peer *peer, enum nvmmd_refusal why,
    const char *text)
{
	char who[256];

	if (!log_refusal_allowed(peer->uid, why))
		return;
	log_peer_describe(peer, who, sizeof(who));
	log_warnx("%.*s; %s", LOG_MSG_MAX, text, who);
}

void
log_refusal(uid_t uid, enum nvmmd_refusal why, const char *fmt, ...)
{
	va_list ap;

	if (!log_refusal_allowed(uid, why))
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap);
	va_end(ap);
}
