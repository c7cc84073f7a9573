/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Per-uid limits: how many connections, machines, VCPUs, bytes of guest
 * RAM and bytes of the daemon's address space one user may hold, so that
 * one user cannot take what NVMM's global limits, or the daemon's
 * descriptors, leave for everyone.  Root is not limited.  A refused
 * request gets NVMM's errno for that resource: ENOBUFS for machines and
 * VCPUs, ENOMEM for RAM and address space; a connection over the limit
 * is refused at connect, and logged.
 *
 * Address space costs nothing to take (a sparse memfd uses no RAM) and
 * every machine needs some, so besides each user's limit all users
 * together are bounded to three quarters of it, which keeps the rest for
 * the daemon itself and root however many users there are.
 *
 * Which limit applies is looked up in the current configuration at each
 * charge, so that a reload applies to the next request: the uid's own
 * "limit user" line, else the first "limit group" line of one of its
 * groups (as its last connection had them) that sets that limit, else
 * the default.  What is in use is counted whatever the limits, so that a
 * reload that tightens one finds the true count.
 *
 * The table belongs to the event loop, like the machine table.
 */
#include <bsd/sys/tree.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/libutil.h>

#include "nvmmd.h"

#define LIMITS_MAX_GROUPS	64	/* of a uid's groups, for group rules */

/* What all users together may hold; 0 is no bound. */
static const uint64_t limit_total[NVMMD_NLIMITS] = {
	[NVMMD_LIMIT_MAPPED] = NVMMD_ADDRESS_SPACE - NVMMD_ADDRESS_SPACE / 4,
};
static uint64_t total_used[NVMMD_NLIMITS];

struct uid_usage {
	RB_ENTRY(uid_usage) link;
	uid_t uid;
	uint64_t used[NVMMD_NLIMITS];
	gid_t groups[LIMITS_MAX_GROUPS];
	size_t ngroups;
};

static int
uid_usage_cmp(const struct uid_usage *a, const struct uid_usage *b)
{
	return a->uid < b->uid ? -1 : a->uid > b->uid;
}

/* libbsd's _STATIC variants need the __unused it leaves undefined. */
RB_HEAD(uid_usage_tree, uid_usage);
RB_PROTOTYPE(uid_usage_tree, uid_usage, link, uid_usage_cmp)
RB_GENERATE(uid_usage_tree, uid_usage, link, uid_usage_cmp)

static struct uid_usage_tree usages = RB_INITIALIZER(&usages);

/* One row per limit: its name in -l and nvmmd.conf, and how it fails. */
static const struct {
	const char *name;
	int error;
	bool is_size;			/* takes a suffix: 512M, 8G */
} limit_keys[NVMMD_NLIMITS] = {
	[NVMMD_LIMIT_CONNECTIONS] = { "connections", EAGAIN, false },
	[NVMMD_LIMIT_MACHINES] = { "machines", ENOBUFS, false },
	[NVMMD_LIMIT_VCPUS] = { "vcpus", ENOBUFS, false },
	[NVMMD_LIMIT_RAM] = { "ram", ENOMEM, true },
	[NVMMD_LIMIT_MAPPED] = { "mapped", ENOMEM, true },
};

static struct uid_usage *
usage_find(uid_t uid, bool create)
{
	struct uid_usage key, *u;

	key.uid = uid;
	u = RB_FIND(uid_usage_tree, &usages, &key);
	if (u != NULL || !create)
		return u;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return NULL;
	u->uid = uid;
	RB_INSERT(uid_usage_tree, &usages, u);
	return u;
}

static void
usage_release_if_idle(struct uid_usage *u)
{
	size_t i;

	for (i = 0; i < NVMMD_NLIMITS; i++)
		if (u->used[i] != 0)
			return;
	RB_REMOVE(uid_usage_tree, &usages, u);
	free(u);
}

static bool
usage_in_group(const struct uid_usage *u, gid_t gid)
{
	size_t i;

	for (i = 0; i < u->ngroups; i++)
		if (u->groups[i] == gid)
			return true;
	return false;
}

/* The limit of `what' for this uid in the current configuration. */
static uint64_t
limits_max(const struct uid_usage *u, enum nvmmd_limit what)
{
	const struct nvmmd_config *cfg = config_current();
	const struct nvmmd_limit_rule *r;
	size_t i;

	for (i = 0; i < cfg->nrules; i++) {
		r = &cfg->rules[i];
		if (!r->is_group && r->uid == u->uid && r->limits.set[what])
			return r->limits.max[what];
	}
	for (i = 0; i < cfg->nrules; i++) {
		r = &cfg->rules[i];
		if (r->is_group && usage_in_group(u, r->gid) &&
		    r->limits.set[what])
			return r->limits.max[what];
	}
	return cfg->default_limits.max[what];
}

/* Whether amount more stays within max (0: no bound) over used. */
static bool
limits_fits(uint64_t used, uint64_t amount, uint64_t max)
{
	return max == 0 || (used <= max && amount <= max - used);
}

static int
usage_charge(struct uid_usage *u, enum nvmmd_limit what, uint64_t amount)
{
	uint64_t max = limits_max(u, what);

	if (!limits_fits(u->used[what], amount, max)) {
		/* The connection's own refusal says it, with the names. */
		if (what != NVMMD_LIMIT_CONNECTIONS)
			log_refusal(u->uid, NVMMD_REFUSAL_LIMIT,
			    "uid %u: over its %s limit (%ju)",
			    (unsigned)u->uid, limit_keys[what].name,
			    (uintmax_t)max);
		return limit_keys[what].error;
	}
	if (!limits_fits(total_used[what], amount, limit_total[what])) {
		log_refusal(u->uid, NVMMD_REFUSAL_LIMIT,
			    "uid %u: all users together are at the "
		    "%s bound (%ju)", (unsigned)u->uid, limit_keys[what].name,
		    (uintmax_t)limit_total[what]);
		return limit_keys[what].error;
	}
	u->used[what] += amount;
	total_used[what] += amount;
	return 0;
}

int
limits_charge(uid_t uid, enum nvmmd_limit what, uint64_t amount)
{
	struct uid_usage *u;
	int error;

	if (uid == 0)
		return 0;
	u = usage_find(uid, true);
	if (u == NULL)
		return ENOMEM;
	error = usage_charge(u, what, amount);
	if (error)
		usage_release_if_idle(u);
	return error;
}

/* The groups the group rules look at: the last connection's. */
static void
usage_note_groups(struct uid_usage *u, const struct nvmmd_peer *peer,
    const gid_t *groups, size_t ngroups)
{
	u->groups[0] = peer->gid;
	u->ngroups = 1;
	while (ngroups-- > 0 && u->ngroups < LIMITS_MAX_GROUPS)
		u->groups[u->ngroups++] = *groups++;
}

/* A new connection: notes the peer's groups, then charges it. */
int
limits_connect(const struct nvmmd_peer *peer, const gid_t *groups,
    size_t ngroups)
{
	struct uid_usage *u;
	int error;

	if (peer->uid == 0)
		return 0;
	u = usage_find(peer->uid, true);
	if (u == NULL)
		return ENOMEM;
	usage_note_groups(u, peer, groups, ngroups);
	error = usage_charge(u, NVMMD_LIMIT_CONNECTIONS, 1);
	if (error)
		usage_release_if_idle(u);
	return error;
}

/*
 * What a worker a new parent takes over holds: its machines exist, so it
 * is counted whatever the limits say now.
 */
void
limits_adopt(const struct nvmmd_peer *peer, const gid_t *groups,
    size_t ngroups, const uint64_t charged[NVMMD_NLIMITS])
{
	struct uid_usage *u;
	int what;

	if (peer->uid == 0 || (u = usage_find(peer->uid, true)) == NULL)
		return;
	usage_note_groups(u, peer, groups, ngroups);
	for (what = 0; what < NVMMD_NLIMITS; what++) {
		u->used[what] += charged[what];
		total_used[what] += charged[what];
	}
}

void
limits_refund(uid_t uid, enum nvmmd_limit what, uint64_t amount)
{
	struct uid_usage *u;

	if (uid == 0)
		return;
	u = usage_find(uid, false);
	if (u == NULL)
		return;
	if (amount > u->used[what])
		amount = u->used[what];
	u->used[what] -= amount;
	total_used[what] -= amount;
	usage_release_if_idle(u);
}

/* One "name=value"; the sizes take a suffix (8G). */
int
limits_parse_item(const char *item, struct nvmmd_limit_set *set)
{
	const char *eq = strchr(item, '=');
	uint64_t value;
	char *end;
	size_t i;

	if (eq == NULL)
		return EINVAL;
	for (i = 0; i < NVMMD_NLIMITS; i++) {
		if (strncmp(item, limit_keys[i].name, (size_t)(eq - item)) ||
		    limit_keys[i].name[eq - item] != '\0')
			continue;
		eq++;
		if (*eq < '0' || *eq > '9')
			return EINVAL;
		if (limit_keys[i].is_size) {
			if (expand_number(eq, &value) == -1)
				return EINVAL;
		} else {
			errno = 0;
			value = strtoull(eq, &end, 10);
			if (errno != 0 || *end != '\0')
				return EINVAL;
		}
		set->max[i] = value;
		set->set[i] = true;
		return 0;
	}
	return EINVAL;
}

/* -l connections=N,machines=N,vcpus=N,ram=SIZE,mapped=SIZE (any). */
int
limits_parse_list(const char *list, struct nvmmd_limit_set *set)
{
	char *copy, *item, *rest;
	int error = 0;

	copy = strdup(list);
	if (copy == NULL)
		return ENOMEM;
	for (rest = copy; !error && (item = strsep(&rest, ",")) != NULL;)
		error = limits_parse_item(item, set);
	free(copy);
	return error;
}
