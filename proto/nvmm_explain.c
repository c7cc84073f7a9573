/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Why a connection to nvmmd failed, in one line for a person: nvmmctl's
 * errors and libnvmmclient's NVMM_DEBUG lines.  The errno a caller gets
 * stays NetBSD's (ENOENT, EACCES, EPROGMISMATCH); this says which of the
 * cases behind it happened.
 */
#include <sys/stat.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nvmm_rpc.h"

static const char *
nvmm_role_name(Nvmm__Role role)
{
	switch (role) {
	case NVMM__ROLE__ROLE_USER:
		return "user";
	case NVMM__ROLE__ROLE_ADMIN:
		return "admin";
	case NVMM__ROLE__ROLE_MONITOR:
		return "monitor";
	default:
		return "unknown";
	}
}

/* The socket's own state tells a missing path from a wrong one. */
static void
nvmm_explain_connect(char *buf, size_t size, int raw, const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1 && errno == ENOENT)
		snprintf(buf, size, "no such socket %s", path);
	else if (raw != ENAMETOOLONG && lstat(path, &st) == 0 &&
	    !S_ISSOCK(st.st_mode))
		snprintf(buf, size, "%s is not a socket", path);
	else if (raw == ECONNREFUSED)
		snprintf(buf, size, "nvmmd is not running at %s "
		    "(connection refused)", path);
	else if (raw == EACCES)
		snprintf(buf, size, "permission denied: cannot connect to %s "
		    "(its mode or a directory's)", path);
	else
		snprintf(buf, size, "cannot connect to %s: %s", path,
		    strerror(raw));
}

void
nvmm_rpc_explain(char *buf, size_t size, int error, const char *path,
    Nvmm__Role role, const struct nvmm_rpc_why *why, const char *self,
    const char *what)
{
	char ubuf[32];
	struct passwd *pw;
	const char *user;

	if (why->connect_error != 0) {
		nvmm_explain_connect(buf, size, why->connect_error, path);
		return;
	}
	switch (error) {
	case EPROGMISMATCH:
		snprintf(buf, size, "nvmmd speaks protocol %u, this %s %u",
		    why->version, self, NVMM_PROTO_VERSION);
		return;
	case EACCES:
		pw = getpwuid(getuid());
		if (pw != NULL) {
			user = pw->pw_name;
		} else {
			snprintf(ubuf, sizeof(ubuf), "uid %u",
			    (unsigned)getuid());
			user = ubuf;
		}
		if (why->reason[0] != '\0')
			snprintf(buf, size, "nvmmd refuses user %s: %s", user,
			    why->reason);
		else if (why->groups[0] != '\0')
			snprintf(buf, size, "permission denied: user %s is not "
			    "in group %s (%s needs the %s role)", user,
			    why->groups, what, nvmm_role_name(role));
		else
			snprintf(buf, size, "permission denied: user %s may "
			    "not use nvmmd at %s (%s needs the %s role)", user,
			    path, what, nvmm_role_name(role));
		return;
	case ENXIO:
		snprintf(buf, size, "nvmmd at %s closed the connection", path);
		return;
	default:
		snprintf(buf, size, "nvmmd at %s: %s", path, strerror(error));
	}
}
