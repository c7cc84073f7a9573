/*
 * The listening socket and who connects to it.  The socket is open to
 * everyone so that a refused peer is seen, and logged with its reason;
 * what a peer may do is decided from its credentials (SO_PEERCRED and
 * SO_PEERGROUPS), never from anything it says.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "nvmmd.h"

#define NVMMD_BACKLOG		64
#define NVMMD_MAX_GROUPS	256

static int listen_fd = -1;
static struct event *listen_ev;
static char listen_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static bool
group_lookup(const char *name, gid_t *gid)
{
	struct group *gr;

	if (name == NULL || *name == '\0')
		return false;
	gr = getgrnam(name);
	if (gr == NULL)
		return false;
	*gid = gr->gr_gid;
	return true;
}

static bool
peer_in_group(const struct nvmmd_peer *peer, const gid_t *groups, size_t n,
    const char *name)
{
	gid_t gid;
	size_t i;

	if (!group_lookup(name, &gid))
		return false;
	if (peer->gid == gid)
		return true;
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

int
peer_identify(int fd, struct nvmmd_peer *peer)
{
	gid_t groups[NVMMD_MAX_GROUPS];
	struct ucred cred;
	socklen_t len;
	size_t ngroups;

	len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return errno;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
		return errno;
	ngroups = len / sizeof(gid_t);

	memset(peer, 0, sizeof(*peer));
	peer->pid = cred.pid;
	peer->uid = cred.uid;
	peer->gid = cred.gid;
	peer->may_admin = cred.uid == 0 || peer_in_group(peer, groups, ngroups,
	    nvmmd_config.admin_group);
	peer->may_user = peer->may_admin || peer_in_group(peer, groups,
	    ngroups, nvmmd_config.user_group);
	peer->may_monitor = peer->may_admin || peer_in_group(peer, groups,
	    ngroups, nvmmd_config.monitor_group);
	return 0;
}

static void
listener_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct nvmmd_peer peer;
	int fd, error;

	(void)what;
	(void)arg;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warnx("accept: %s", strerror(errno));
		return;
	}
	error = peer_identify(fd, &peer);
	if (error) {
		log_warnx("refused a peer: no credentials: %s", strerror(error));
		close(fd);
		return;
	}
	if (!peer.may_user && !peer.may_monitor) {
		log_warnx("refused pid %d uid %u gid %u: not in group %s, %s or "
		    "%s", (int)peer.pid, (unsigned)peer.uid, (unsigned)peer.gid,
		    nvmmd_config.user_group, nvmmd_config.admin_group,
		    nvmmd_config.monitor_group);
		close(fd);
		return;
	}
	if (limits_charge(peer.uid, NVMMD_LIMIT_CONNECTIONS, 1) != 0) {
		log_warnx("refused pid %d uid %u: too many connections",
		    (int)peer.pid, (unsigned)peer.uid);
		close(fd);
		return;
	}
	session_new(fd, &peer);
}

/* Refuses to take over a socket another nvmmd still answers on. */
static int
listener_clear_stale(const struct sockaddr_un *sun)
{
	int fd;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return errno;
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0) {
		close(fd);
		return EADDRINUSE;
	}
	close(fd);
	if (unlink(sun->sun_path) == -1 && errno != ENOENT)
		return errno;
	return 0;
}

int
listener_open(const char *path)
{
	struct sockaddr_un sun;
	int error;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return ENAMETOOLONG;
	error = listener_clear_stale(&sun);
	if (error)
		return error;

	listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (listen_fd == -1)
		return errno;
	if (bind(listen_fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0666) == -1 || listen(listen_fd, NVMMD_BACKLOG) == -1) {
		error = errno;
		goto out;
	}
	strlcpy(listen_path, path, sizeof(listen_path));
	listen_ev = event_new(nvmmd_base, listen_fd, EV_READ | EV_PERSIST,
	    listener_accept, NULL);
	if (listen_ev == NULL || event_add(listen_ev, NULL) == -1) {
		error = ENOMEM;
		goto out;
	}
	return 0;
out:
	close(listen_fd);
	listen_fd = -1;
	unlink(path);
	return error;
}

void
listener_close(void)
{
	if (listen_ev != NULL)
		event_free(listen_ev);
	listen_ev = NULL;
	if (listen_fd != -1) {
		close(listen_fd);
		unlink(listen_path);
	}
	listen_fd = -1;
}
