/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Test harness: a private nvmmd per test case; see h_daemon.h.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "h_daemon.h"

#define HD_PIDFILE	"nvmmd.pid"
#define HD_LOG		"nvmmd.log"
#define HD_MAX_ARGS	32

static bool
hd_connectable(void)
{
	struct sockaddr_un sun;
	struct pollfd pfd;
	char buf[64];
	int fd, ok;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, HD_SOCKET);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return false;
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	/*
	 * Its worker sees the end and closes its side: once recv sees that,
	 * the worker exists and is ending, and hd_start waits for it.
	 */
	if (ok && shutdown(fd, SHUT_WR) == 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		while (poll(&pfd, 1, 10000) == 1 &&
		    recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			continue;
	}
	close(fd);
	return ok;
}

static void
hd_exec(const char *const *extra)
{
	const char *argv[HD_MAX_ARGS];
	size_t n = 0;
	int fd;

	argv[n++] = NVMMD_PATH;
	argv[n++] = "-f";
	argv[n++] = "-d";
	argv[n++] = "-c";		/* the built-in defaults, not the host's */
	argv[n++] = "/dev/null";
	argv[n++] = "-s";
	argv[n++] = HD_SOCKET;
	while (extra != NULL && *extra != NULL && n < HD_MAX_ARGS - 1)
		argv[n++] = *extra++;
	if (extra != NULL && *extra != NULL) {
		/* Better no daemon than one started without some options. */
		fprintf(stderr, "h_daemon: more than %d arguments\n",
		    HD_MAX_ARGS - 1);
		_exit(127);
	}
	argv[n] = NULL;
	fd = open(HD_LOG, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd != -1) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	execv(NVMMD_PATH, (char *const *)argv);
	_exit(127);
}

void
hd_give_dir(const char *dir)
{
	struct passwd *pw;

	pw = getpwnam(HD_USER);
	ATF_REQUIRE_MSG(pw != NULL, "no user %s: run scripts/install-deps",
	    HD_USER);
	ATF_REQUIRE_MSG(chown(dir, pw->pw_uid, (gid_t)-1) == 0,
	    "chown %s: %s", dir, strerror(errno));
}

static int	hd_live_workers(pid_t daemon);

pid_t
hd_start(const char *const *extra)
{
	struct timespec ms = { 0, 1000000 };
	char path[4096];
	FILE *f;
	pid_t pid;
	int i;

	hd_give_dir(".");
	pid = fork();
	ATF_REQUIRE(pid != -1);
	if (pid == 0)
		hd_exec(extra);
	f = fopen(HD_PIDFILE, "w");
	ATF_REQUIRE(f != NULL);
	fprintf(f, "%d\n", (int)pid);
	fclose(f);
	for (i = 0; i < 5000 && !hd_connectable(); i++) {
		ATF_REQUIRE_MSG(waitpid(pid, NULL, WNOHANG) == 0,
		    "nvmmd exited at start; see %s", HD_LOG);
		nanosleep(&ms, NULL);
	}
	ATF_REQUIRE_MSG(hd_connectable(), "nvmmd does not listen");
	/* The probe's worker gone, the test's first is its oldest. */
	for (i = 0; i < 5000 && hd_live_workers(pid) != 0; i++)
		nanosleep(&ms, NULL);
	ATF_REQUIRE(getcwd(path, sizeof(path) - sizeof(HD_SOCKET) - 1) !=
	    NULL);
	strcat(path, "/" HD_SOCKET);
	setenv("NVMM_SOCKET", path, 1);
	return pid;
}

void
hd_stop(pid_t pid)
{
	int status;

	/* SIGINT, not SIGTERM: the guests end too (nvmmd.8). */
	ATF_REQUIRE(kill(pid, SIGINT) == 0);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "nvmmd did not exit cleanly: status %#x", status);
	ATF_CHECK_MSG(access(HD_SOCKET, F_OK) == -1 && errno == ENOENT,
	    "nvmmd left its socket behind");
	unlink(HD_PIDFILE);
}

void
hd_cleanup(void)
{
	FILE *f;
	int pid;

	f = fopen(HD_PIDFILE, "r");
	if (f == NULL)
		return;
	if (fscanf(f, "%d", &pid) == 1 && pid > 0)
		kill(pid, SIGKILL);
	fclose(f);
}

/* The entries of /proc/PID/what, a directory of one entry per thing. */
static int
hd_proc_count(pid_t pid, const char *what)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	d = opendir(path);
	ATF_REQUIRE_MSG(d != NULL, "%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int
hd_fd_count(pid_t pid)
{
	return hd_proc_count(pid, "fd");
}

int
hd_thread_count(pid_t pid)
{
	return hd_proc_count(pid, "task");
}

/* Whether pid has exited, though its parent has not reaped it yet. */
static bool
hd_zombie(int pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p == NULL || p[1] == '\0' || p[2] == 'Z' || p[2] == 'X';
}

/* How many workers of the daemon are alive. */
static int
hd_live_workers(pid_t daemon)
{
	char path[64];
	FILE *f;
	int pid, n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)daemon,
	    (int)daemon);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fscanf(f, "%d", &pid) == 1)
		if (!hd_zombie(pid))
			n++;
	fclose(f);
	return n;
}

/*
 * The daemon's oldest live worker: the child the parent forked for the
 * first connection of those open (the kernel lists children oldest
 * first; one whose client just left may not be reaped yet).
 */
pid_t
hd_worker(pid_t daemon)
{
	char path[64];
	FILE *f;
	int pid = -1;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)daemon,
	    (int)daemon);
	f = fopen(path, "r");
	ATF_REQUIRE_MSG(f != NULL, "%s: %s", path, strerror(errno));
	while (fscanf(f, "%d", &pid) == 1 && hd_zombie(pid))
		pid = -1;
	fclose(f);
	ATF_REQUIRE_MSG(pid != -1, "nvmmd %d has no worker", (int)daemon);
	return pid;
}

bool
hd_log_has(const char *text)
{
	char line[1024];
	bool found = false;
	FILE *f;

	f = fopen(HD_LOG, "r");
	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}
