/*
 * Per-uid limits: how many connections, machines, VCPUs, bytes of guest
 * RAM and bytes of the daemon's address space one user may hold, so that
 * one user cannot take what NVMM's global limits leave for everyone.
 * Root is not limited.  A refused request gets NVMM's errno for that
 * resource: ENOBUFS for machines and VCPUs, ENOMEM for RAM and address
 * space; a connection over the limit is refused at connect, and logged.
 *
 * What one user could otherwise take from all is bounded by default:
 * machines to a quarter of NVMM's 128, VCPUs (threads of the daemon) to
 * four full machines, and address space, which costs nothing to take (a
 * sparse memfd uses no RAM) and which every machine needs, to an eighth
 * of it; and all users together to three quarters of the address space,
 * which keeps the rest for the daemon itself and root however many users
 * there are.
 *
 * The table belongs to the event loop, like the machine table.
 */
#include <bsd/sys/tree.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/libutil.h>

#include "nvmmd.h"

/* x86-64's user address space (4-level paging), where mmap places maps. */
#define LIMITS_SPACE		(1ULL << 47)

struct nvmmd_limits nvmmd_limits = {
	.max = {
		[NVMMD_LIMIT_MACHINES] = NVMM_MAX_MACHINES / 4,
		[NVMMD_LIMIT_VCPUS] = 4 * NVMM_MAX_VCPUS,
		[NVMMD_LIMIT_MAPPED] = LIMITS_SPACE / 8,
	},
};

/* What all users together may hold; 0 is no bound. */
static const uint64_t limit_total[NVMMD_NLIMITS] = {
	[NVMMD_LIMIT_MAPPED] = LIMITS_SPACE - LIMITS_SPACE / 4,
};
static uint64_t total_used[NVMMD_NLIMITS];

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
	[NVMMD_LIMIT_MAPPED] = "mapped",
};

static const int limit_errno[NVMMD_NLIMITS] = {
	[NVMMD_LIMIT_CONNECTIONS] = EAGAIN,
	[NVMMD_LIMIT_MACHINES] = ENOBUFS,
	[NVMMD_LIMIT_VCPUS] = ENOBUFS,
	[NVMMD_LIMIT_RAM] = ENOMEM,
	[NVMMD_LIMIT_MAPPED] = ENOMEM,
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

static bool
limits_counted(uid_t uid, enum nvmmd_limit what)
{
	return uid != 0 &&
	    (nvmmd_limits.max[what] != 0 || limit_total[what] != 0);
}

/* Whether amount more stays within max (0: no bound) over used. */
static bool
limits_fits(uint64_t used, uint64_t amount, uint64_t max)
{
	return max == 0 || (used <= max && amount <= max - used);
}

int
limits_charge(uid_t uid, enum nvmmd_limit what, uint64_t amount)
{
	uint64_t max = nvmmd_limits.max[what];
	struct uid_usage *u;

	if (!limits_counted(uid, what))
		return 0;
	u = usage_find(uid, true);
	if (u == NULL)
		return ENOMEM;
	if (!limits_fits(u->used[what], amount, max)) {
		log_warnx("uid %u: over its %s limit (%ju)", (unsigned)uid,
		    limit_names[what], (uintmax_t)max);
		return limit_errno[what];
	}
	if (!limits_fits(total_used[what], amount, limit_total[what])) {
		log_warnx("uid %u: all users together are at the %s bound "
		    "(%ju)", (unsigned)uid, limit_names[what],
		    (uintmax_t)limit_total[what]);
		return limit_errno[what];
	}
	u->used[what] += amount;
	total_used[what] += amount;
	return 0;
}

void
limits_refund(uid_t uid, enum nvmmd_limit what, uint64_t amount)
{
	struct uid_usage *u;
	size_t i;

	if (!limits_counted(uid, what))
		return;
	u = usage_find(uid, false);
	if (u == NULL)
		return;
	if (amount > u->used[what])
		amount = u->used[what];
	u->used[what] -= amount;
	total_used[what] -= amount;
	for (i = 0; i < NVMMD_NLIMITS; i++)
		if (u->used[i] != 0)
			return;
	RB_REMOVE(uid_usage_tree, &usages, u);
	free(u);
}

/* One "name=value" of -l; the sizes take a suffix (8G). */
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
		if (i == NVMMD_LIMIT_RAM || i == NVMMD_LIMIT_MAPPED) {
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

/* -l connections=N,machines=N,vcpus=N,ram=SIZE,mapped=SIZE (any). */
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
