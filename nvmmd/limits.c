/*
 * Per-uid limits: how many connections, machines, VCPUs and bytes of
 * guest RAM one user may hold, so that one user cannot take what NVMM's
 * global limits leave for everyone.  Root is not limited.  A refused
 * request gets NVMM's errno for that resource: ENOBUFS for machines and
 * VCPUs, ENOMEM for RAM; a connection over the limit is refused at
 * connect, and logged.
 *
 * The table belongs to the event loop, like the machine table.
 */
#include <bsd/sys/tree.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/libutil.h>

#include "nvmmd.h"

struct nvmmd_limits nvmmd_limits;

struct uid_usage {
	RB_ENTRY(uid_usage) link;
	uid_t uid;
	uint64_t used[NVMMD_NLIMITS];
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

static const char *const limit_names[NVMMD_NLIMITS] = {
	[NVMMD_LIMIT_CONNECTIONS] = "connections",
	[NVMMD_LIMIT_MACHINES] = "machines",
	[NVMMD_LIMIT_VCPUS] = "vcpus",
	[NVMMD_LIMIT_RAM] = "ram",
};

static const int limit_errno[NVMMD_NLIMITS] = {
	[NVMMD_LIMIT_CONNECTIONS] = EAGAIN,
	[NVMMD_LIMIT_MACHINES] = ENOBUFS,
	[NVMMD_LIMIT_VCPUS] = ENOBUFS,
	[NVMMD_LIMIT_RAM] = ENOMEM,
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

int
limits_charge(uid_t uid, enum nvmmd_limit what, uint64_t amount)
{
	uint64_t max = nvmmd_limits.max[what];
	struct uid_usage *u;

	if (uid == 0 || max == 0)
		return 0;
	u = usage_find(uid, true);
	if (u == NULL)
		return ENOMEM;
	if (u->used[what] > max || amount > max - u->used[what]) {
		log_warnx("uid %u: over its %s limit (%ju)", (unsigned)uid,
		    limit_names[what], (uintmax_t)max);
		return limit_errno[what];
	}
	u->used[what] += amount;
	return 0;
}

void
limits_refund(uid_t uid, enum nvmmd_limit what, uint64_t amount)
{
	struct uid_usage *u;
	size_t i;

	if (uid == 0 || nvmmd_limits.max[what] == 0)
		return;
	u = usage_find(uid, false);
	if (u == NULL)
		return;
	u->used[what] -= amount < u->used[what] ? amount : u->used[what];
	for (i = 0; i < NVMMD_NLIMITS; i++)
		if (u->used[i] != 0)
			return;
	RB_REMOVE(uid_usage_tree, &usages, u);
	free(u);
}

/* One "name=value" of -l; the RAM takes a size with a suffix (8G). */
static bool
limits_parse_one(char *item)
{
	uint64_t value;
	char *eq, *end;
	size_t i;

	eq = strchr(item, '=');
	if (eq == NULL)
		return false;
	*eq++ = '\0';
	for (i = 0; i < NVMMD_NLIMITS; i++) {
		if (strcmp(item, limit_names[i]) != 0)
			continue;
		if (i == NVMMD_LIMIT_RAM) {
			if (expand_number(eq, &value) == -1)
				return false;
		} else {
			errno = 0;
			value = strtoull(eq, &end, 10);
			if (errno != 0 || end == eq || *end != '\0' ||
			    *eq == '-')
				return false;
		}
		nvmmd_limits.max[i] = value;
		return true;
	}
	return false;
}

/* -l connections=N,machines=N,vcpus=N,ram=SIZE (any of them). */
bool
limits_parse(const char *arg)
{
	char *copy, *item, *rest;
	bool ok = true;

	copy = strdup(arg);
	if (copy == NULL)
		return false;
	for (rest = copy; ok && (item = strsep(&rest, ",")) != NULL;)
		ok = limits_parse_one(item);
	free(copy);
	return ok;
}
