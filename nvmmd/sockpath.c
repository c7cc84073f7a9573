/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Getting the listening socket: from systemd (LISTEN_FDS) or by binding
 * the configured path.  The path is in a directory other users may be
 * able to write, so root never follows it:
 *   - what is already there is looked at with lstat, and only a socket
 *     that refuses connections (ECONNREFUSED: nobody listens) is
 *     replaced; a live socket, a socket of another type, a regular file,
 *     a directory, a symlink or anything else is left alone and named in
 *     the error;
 *   - the new socket gets its mode from the umask, its group from the
 *     effective gid and its owner from the filesystem uid at bind (the
 *     nvmmd user's, who removes it at exit; see privsep.c), so that no
 *     chmod or chown goes through a path someone could have swapped for
 *     a symlink since the bind.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <systemd/sd-daemon.h>

#include "nvmmd.h"

#define SOCKPATH_BACKLOG	64

/* The sockets bound, to remove at exit only if they are still ours. */
enum { SOCK_CLIENTS, SOCK_WORKERS, NSOCKS };
static struct {
	char path[NVMMD_PATH_MAX];
	struct stat st;
	bool bound;
} socks[NSOCKS];

static const char *
sockpath_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISLNK(mode))
		return "a symlink";
	return "not a socket";
}

/*
 * 0 when the path is free now, or an errno with why it is not; type is
 * the socket's (metrics.c's is a stream).
 */
int
sockpath_clear_stale(const struct sockaddr_un *sun, int type, char *why,
    size_t whylen)
{
	const char *path = sun->sun_path;
	struct stat st, again;
	int fd, r, error;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		error = errno;
		snprintf(why, whylen, "%s: %s", path, strerror(error));
		return error;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, whylen, "%s: %s is in the way; not replacing it",
		    path, sockpath_kind(st.st_mode));
		return EEXIST;
	}
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return errno;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	error = r == 0 ? EADDRINUSE : errno;
	close(fd);
	if (error != ECONNREFUSED) {
		snprintf(why, whylen, "%s: %s; not replacing it", path,
		    error == EADDRINUSE ? "a live socket answers there" :
		    error == EPROTOTYPE ? "a socket of another type is there" :
		    strerror(error));
		return error == EADDRINUSE ? error : EEXIST;
	}
	/* Only the stale socket just tried goes, not what replaced it. */
	if (lstat(path, &again) == -1 || again.st_dev != st.st_dev ||
	    again.st_ino != st.st_ino) {
		snprintf(why, whylen, "%s: changed while being checked; "
		    "not replacing it", path);
		return EEXIST;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		error = errno;
		snprintf(why, whylen, "%s: cannot remove the stale socket: %s",
		    path, strerror(error));
		return error;
	}
	return 0;
}

/* A socket to bind at path, whatever stale one was there cleared. */
static int
sockpath_socket(const char *path, struct sockaddr_un *sun, int *fdp,
    char *why, size_t whylen)
{
	int error;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlcpy(sun->sun_path, path, sizeof(sun->sun_path)) >=
	    sizeof(sun->sun_path)) {
		snprintf(why, whylen, "%s: path too long", path);
		return ENAMETOOLONG;
	}
	error = sockpath_clear_stale(sun, SOCK_SEQPACKET, why, whylen);
	if (error)
		return error;
	*fdp = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (*fdp == -1) {
		error = errno;
		snprintf(why, whylen, "socket: %s", strerror(error));
		return error;
	}
	return 0;
}

/* Binds with the configured mode and group already on the new inode. */
static int
sockpath_bind(int fd, const struct sockaddr_un *sun,
    const struct nvmmd_config *cfg, char *why, size_t whylen)
{
	gid_t egid = getegid(), gid = egid;
	struct group *gr;
	mode_t umask_was;
	int r, error;

	if (cfg->socket_group[0] != '\0') {
		gr = getgrnam(cfg->socket_group);
		if (gr == NULL) {
			snprintf(why, whylen, "socket-group %s: no such group",
			    cfg->socket_group);
			return ENOENT;
		}
		gid = gr->gr_gid;
	}
	if (gid != egid && setegid(gid) == -1) {
		error = errno;
		snprintf(why, whylen, "socket-group %s: %s", cfg->socket_group,
		    strerror(error));
		return error;
	}
	umask_was = umask(~cfg->socket_mode & 0777);
	privsep_files_begin();
	r = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
	error = r == -1 ? errno : 0;
	privsep_files_end();
	umask(umask_was);
	if (gid != egid && setegid(egid) == -1)
		error = errno;
	if (error)
		snprintf(why, whylen, "%s: %s", sun->sun_path, strerror(error));
	return error;
}

/* systemd's socket, when started by nvmmd.socket: -1 when there is none. */
static int
sockpath_activated(int *fdp, char *why, size_t whylen)
{
	int n;

	n = sd_listen_fds(1);
	if (n == 0)
		return -1;
	if (n != 1 || sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_SEQPACKET,
	    1, NULL, 0) <= 0) {
		snprintf(why, whylen, "LISTEN_FDS: expected one listening "
		    "SOCK_SEQPACKET Unix socket, got %d descriptors", n);
		return EINVAL;
	}
	*fdp = SD_LISTEN_FDS_START;
	if (fcntl(*fdp, F_SETFL, fcntl(*fdp, F_GETFL) | O_NONBLOCK) == -1 ||
	    fcntl(*fdp, F_SETFD, FD_CLOEXEC) == -1) {
		n = errno;
		snprintf(why, whylen, "LISTEN_FDS: %s", strerror(n));
		return n;
	}
	return 0;
}

int
sockpath_open(const struct nvmmd_config *cfg, int *fdp, bool *activated,
    char *why, size_t whylen)
{
	struct sockaddr_un sun;
	int fd, error;

	error = sockpath_activated(fdp, why, whylen);
	*activated = error == 0;
	if (error != -1)
		return error;
	error = sockpath_socket(cfg->socket_path, &sun, &fd, why, whylen);
	if (error)
		return error;
	error = sockpath_bind(fd, &sun, cfg, why, whylen);
	if (error == 0 && listen(fd, SOCKPATH_BACKLOG) == -1) {
		error = errno;
		snprintf(why, whylen, "listen: %s", strerror(error));
		unlink(sun.sun_path);	/* ours: bound just now */
	}
	if (error) {
		close(fd);
		return error;
	}
	*fdp = fd;
	return 0;
}

static void
sockpath_note_as(int which, const char *path)
{
	if (lstat(path, &socks[which].st) == -1)
		return;
	strlcpy(socks[which].path, path, sizeof(socks[which].path));
	socks[which].bound = true;
}

void
sockpath_note(const char *path, bool activated)
{
	if (!activated)
		sockpath_note_as(SOCK_CLIENTS, path);
}

/*
 * The worker socket (workers.c): the nvmmd user's alone, mode 0600,
 * where a worker whose parent is gone finds the next one.
 */
int
sockpath_open_workers(const char *path, int *fdp, char *why, size_t whylen)
{
	struct sockaddr_un sun;
	mode_t umask_was;
	int fd, r, error;

	error = sockpath_socket(path, &sun, &fd, why, whylen);
	if (error)
		return error;
	umask_was = umask(0177);
	privsep_files_begin();
	r = bind(fd, (const struct sockaddr *)&sun, sizeof(sun));
	error = r == -1 ? errno : 0;
	privsep_files_end();
	umask(umask_was);
	if (error == 0 && listen(fd, SOCKPATH_BACKLOG) == -1) {
		error = errno;
		unlink(sun.sun_path);
	}
	if (error) {
		snprintf(why, whylen, "%s: %s", path, strerror(error));
		close(fd);
		return error;
	}
	sockpath_note_as(SOCK_WORKERS, path);
	*fdp = fd;
	return 0;
}

/* Leaves alone whatever someone put in a socket's place since. */
void
sockpath_remove(void)
{
	struct stat st;
	int i;

	for (i = 0; i < NSOCKS; i++) {
		if (!socks[i].bound || lstat(socks[i].path, &st) == -1)
			continue;
		if (S_ISSOCK(st.st_mode) && st.st_dev == socks[i].st.st_dev &&
		    st.st_ino == socks[i].st.st_ino)
			unlink(socks[i].path);
		socks[i].bound = false;
	}
}
