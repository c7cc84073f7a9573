/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Privilege: nvmmd is root for start-up only.  Once /dev/kvm is open and
 * the socket is bound, it becomes the system user nvmmd (or the one named
 * by -u or "user"), for good, before it detaches and before any thread
 * exists (capabilities and no_new_privs are per thread).
 *
 * What still needs root, and why; all of it is done before the switch:
 *   - opening /dev/kvm, which is root's alone (0600) on a plain host;
 *     kernel/ keeps that descriptor, and KVM asks nothing but it of the
 *     VM, VCPU and memory ioctls that follow;
 *   - the socket's group (socket-group): the inode takes the effective
 *     gid at bind, and only root may take a group it is not in;
 *   - making /run/nvmmd, the user's, for the default socket and pidfile;
 *   - the switch itself: setgroups, setresgid, setresuid, and emptying
 *     the capability bounding set, which needs CAP_SETPCAP.
 * What the user does unprivileged: accept and SO_PEERCRED/SO_PEERGROUPS
 * (the kernel tells any listener), group and name lookups (files anyone
 * may read, systemd's userdb socket; NSS is loaded before the seccomp
 * filter, see sandbox.c), /proc/PID/comm of peers (anyone may read it),
 * syslog, sd_notify, memfds that clients send, and signals to its own
 * threads.  The SIGHUP reload reads the file as the user: one it cannot
 * read is a failed reload that keeps the old configuration.
 *
 * The files the daemon removes at exit, the socket it binds and the
 * pidfile, are made with the user's filesystem uid: they are its own, and
 * a directory in which the user could not remove them fails the start
 * (EACCES) instead of leaving them behind at the end.
 *
 * After the switch, no capability is left in any set, the bounding set is
 * empty, no_new_privs is set, and the environment holds NOTIFY_SOCKET
 * alone, if systemd gave one (sd_notify's address).  That root cannot be
 * had back is checked: a setresuid(0) that succeeds fails the start.
 *
 * The process stays non-dumpable, as the kernel makes it at the uid
 * change: no core file of guest memory, and no other process of the user
 * may ptrace it or read its /proc files.  The sanitizer build needs no
 * exception: LeakSanitizer, which ptraces the process at exit, makes it
 * dumpable itself for that moment (prctl is in sandbox.c's sanitizer
 * list).
 *
 * Started by another user than root, nvmmd has nothing to switch from:
 * it stays that user (it must then have /dev/kvm), with the rest applied.
 */
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmmd.h"

/* The one variable kept: where systemd listens for READY=1, STOPPING=1. */
#define PRIVSEP_KEEP_ENV	"NOTIFY_SOCKET"

static bool switching;		/* started as root: there is a user to be */
static uid_t user_uid;
static gid_t user_gid;

/* The directory of path is NVMMD_RUNDIR itself. */
static bool
in_rundir(const char *path)
{
	size_t n = strlen(NVMMD_RUNDIR);

	return strncmp(path, NVMMD_RUNDIR "/", n + 1) == 0 &&
	    strchr(path + n + 1, '/') == NULL;
}

/* /run/nvmmd, the user's; root's or the user's already, never followed. */
static int
rundir_make(char *why, size_t whylen)
{
	struct stat st;
	int fd, error = 0;

	if (mkdir(NVMMD_RUNDIR, 0755) == -1 && errno != EEXIST)
		error = errno;
	fd = error ? -1 : open(NVMMD_RUNDIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && error == 0)
		error = errno;
	if (error == 0 && fstat(fd, &st) == -1)
		error = errno;
	if (error == 0 && st.st_uid != 0 && st.st_uid != user_uid) {
		snprintf(why, whylen, "%s: owned by uid %u, not by root or "
		    "the nvmmd user", NVMMD_RUNDIR, (unsigned)st.st_uid);
		close(fd);
		return EPERM;
	}
	/* In this order, so that root needs no CAP_FOWNER for the mode. */
	if (error == 0 && (fchmod(fd, 0755) == -1 ||
	    fchown(fd, user_uid, user_gid) == -1))
		error = errno;
	if (fd != -1)
		close(fd);
	if (error)
		snprintf(why, whylen, "%s: %s", NVMMD_RUNDIR, strerror(error));
	return error;
}

int
privsep_prepare(const struct nvmmd_config *cfg, char *why, size_t whylen)
{
	struct passwd *pw;
	int error;

	if (geteuid() != 0)
		return 0;
	errno = 0;
	pw = getpwnam(cfg->user);
	/* NSS may say "not found" with any of these, or with none. */
	if (pw == NULL && (errno == 0 || errno == ENOENT || errno == ESRCH ||
	    errno == EBADF || errno == EPERM)) {
		snprintf(why, whylen, "user %s: no such user; create it with "
		    "\"systemd-sysusers\" (nvmmd's sysusers.d file) or "
		    "\"adduser --system --group --no-create-home %s\"",
		    cfg->user, cfg->user);
		return ENOENT;
	}
	if (pw == NULL) {
		error = errno;
		snprintf(why, whylen, "user %s: %s", cfg->user,
		    strerror(error));
		return error;
	}
	if (pw->pw_uid == 0) {
		snprintf(why, whylen, "user %s: is root; nvmmd runs as an "
		    "unprivileged user", cfg->user);
		return EINVAL;
	}
	user_uid = pw->pw_uid;
	user_gid = pw->pw_gid;
	switching = true;
	if (in_rundir(cfg->socket_path) || in_rundir(cfg->pidfile))
		return rundir_make(why, whylen);
	return 0;
}

/* Files made from here to privsep_files_end() are the user's. */
void
privsep_files_begin(void)
{
	if (switching)
		setfsuid(user_uid);
}

void
privsep_files_end(void)
{
	if (switching)
		setfsuid(0);
}

/* The bounding set emptied: no execve could give a capability back. */
static int
bset_drop(void)
{
	int cap, r;

	/* Beyond the last capability the kernel knows, READ says EINVAL. */
	for (cap = 0; (r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0)) >= 0; cap++)
		if (r == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1)
			return errno;
	return 0;
}

/* capget or capset of this thread's three sets, without libcap. */
static int
caps_call(long nr, struct __user_cap_data_struct *data)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};

	return syscall(nr, &hdr, data) == -1 ? errno : 0;
}

/* This thread's other sets: effective, permitted, inheritable, ambient. */
static int
caps_clear(void)
{
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		return errno;
	memset(data, 0, sizeof(data));
	return caps_call(SYS_capset, data);
}

/* The bounding set counts only when root had one to empty. */
static bool
caps_none(void)
{
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	size_t i;
	int cap, r;

	if (caps_call(SYS_capget, data) != 0)
		return false;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted ||
		    data[i].inheritable)
			return false;
	for (cap = 0; (r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0)) >= 0; cap++)
		if ((r == 1 && switching) ||
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) > 0)
			return false;
	return true;
}

static int
switch_user(void)
{
	if (setgroups(0, NULL) == -1 ||
	    setresgid(user_gid, user_gid, user_gid) == -1 ||
	    setresuid(user_uid, user_uid, user_uid) == -1)
		return errno;
	return 0;
}

/* What the switch must have left: the user alone, and no way back. */
static const char *
switch_check(void)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1)
		return "cannot read the ids back";
	if (switching && (ruid != user_uid || euid != user_uid ||
	    suid != user_uid || rgid != user_gid || egid != user_gid ||
	    sgid != user_gid || getgroups(0, NULL) != 0))
		return "the ids are not the user's";
	if (setresuid(0, 0, 0) != -1 || setresgid(0, 0, 0) != -1)
		return "root could be had back";
	if (!caps_none())
		return "a capability is left";
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return "no_new_privs is not set";
	return NULL;
}

/*
 * Where the environment's strings were at exec, from /proc/self/stat
 * (fields 50 and 51): what /proc/PID/environ shows, whatever environ says.
 */
static int
env_area(char **startp, char **endp)
{
	char buf[1024], *p;
	unsigned long start, end;
	ssize_t n;
	int fd, field;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return EIO;
	buf[n] = '\0';
	/* The command name may hold anything: count from its ')'. */
	p = strrchr(buf, ')');
	for (field = 2; p != NULL && field < 50; field++)
		if ((p = strchr(p + 1, ' ')) != NULL)
			p++;
	if (p == NULL || sscanf(p, "%lu %lu", &start, &end) != 2 ||
	    start > end)
		return EINVAL;
	*startp = (char *)start;
	*endp = (char *)end;
	return 0;
}

/*
 * The environment emptied but for PRIVSEP_KEEP_ENV, and so is the copy
 * exec left: overwritten with NULs, and cut to what is kept where the
 * kernel lets us say so (PR_SET_MM needs CAP_SYS_RESOURCE).
 */
static int
env_clear(void)
{
	char *value = getenv(PRIVSEP_KEEP_ENV), *kept = NULL;
	char *start = NULL, *end = NULL;
	size_t len = 0;
	int error;

	if (value != NULL && asprintf(&kept, "%s=%s", PRIVSEP_KEEP_ENV,
	    value) == -1)
		return ENOMEM;
	error = env_area(&start, &end);
	if (clearenv() != 0 || (kept != NULL &&
	    setenv(PRIVSEP_KEEP_ENV, kept + strlen(PRIVSEP_KEEP_ENV) + 1,
	    1) == -1))
		error = ENOMEM;
	if (error == 0) {
		if (kept != NULL && strlen(kept) < (size_t)(end - start))
			len = strlen(kept) + 1;
		memset(start, 0, (size_t)(end - start));
		if (len != 0)
			memcpy(start, kept, len);
		/* Best effort (a container may withhold it): NULs are as empty. */
		(void)prctl(PR_SET_MM, PR_SET_MM_ENV_END,
		    (unsigned long)(start + len), 0, 0);
	}
	free(kept);
	return error;
}

int
privsep_drop(char *why, size_t whylen)
{
	const char *broken;
	int error;

	error = env_clear();
	if (error == 0 && switching)
		error = bset_drop();
	if (error == 0 && switching)
		error = switch_user();
	/* setresuid cleared all but the inheritable set; a user may have some. */
	if (error == 0)
		error = caps_clear();
	if (error == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		error = errno;
	if (error) {
		snprintf(why, whylen, "cannot drop privilege: %s",
		    strerror(error));
		return error;
	}
	if ((broken = switch_check()) != NULL) {
		snprintf(why, whylen, "privilege not dropped: %s", broken);
		return EPERM;
	}
	return 0;
}
