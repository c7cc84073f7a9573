/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The private nvmmd the client ways talk to: started on a socket of its
 * own in a temporary directory, its output in a log there (left behind
 * when something failed), and what it costs the host read from /proc.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define DAEMON_WAIT_MS	5000
#define MEM_POLL_MS	50
#define MEM_STEADY_MS	200

static struct {
	char dir[64];
	char sock[128];
	char log[128];
	pid_t pid;
	bool keep_log;
} d = { .pid = -1 };

static void
daemon_failed(const char *why)
{
	bench_failx("nvmmd %s; its log is %s", why, d.log);
	d.keep_log = true;
}

static void
sleep_ms(unsigned ms)
{
	const struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Until nvmmd accepts a connection on its socket. */
static int
daemon_wait(void)
{
	struct sockaddr_un sun;
	unsigned ms;
	int fd, ret, status;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, d.sock);
	for (ms = 0; ms < DAEMON_WAIT_MS; ms += 10) {
		if (waitpid(d.pid, &status, WNOHANG) == d.pid) {
			d.pid = -1;
			daemon_failed("exited before listening");
			return -1;
		}
		if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) ==
		    -1)
			return bench_fail("socket");
		ret = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
		close(fd);
		if (ret == 0)
			return 0;
		sleep_ms(10);
	}
	daemon_failed("does not listen");
	return -1;
}

/* nvmmd -f -s SOCK, with NVMM_SOCKET set for the client ways. */
int
bench_daemon_start(const char *path)
{
	struct passwd *pw;
	int logfd;

	if (access(path, X_OK) == -1)
		return bench_fail("%s (give nvmmd's path with -d)", path);
	strcpy(d.dir, "/tmp/nvmm-bench.XXXXXX");
	if (mkdtemp(d.dir) == NULL) {
		d.dir[0] = '\0';
		return bench_fail("mkdtemp");
	}
	/* nvmmd started by root becomes nvmmd, who removes its socket. */
	if (geteuid() == 0 && (pw = getpwnam("nvmmd")) != NULL &&
	    chown(d.dir, pw->pw_uid, (gid_t)-1) == -1)
		return bench_fail("chown %s", d.dir);
	snprintf(d.sock, sizeof(d.sock), "%s/sock", d.dir);
	snprintf(d.log, sizeof(d.log), "%s/nvmmd.log", d.dir);
	if ((logfd = open(d.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return bench_fail("%s", d.log);
	if ((d.pid = fork()) == -1) {
		close(logfd);
		return bench_fail("fork");
	}
	if (d.pid == 0) {
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		execl(path, path, "-f", "-s", d.sock, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(logfd);
	if (daemon_wait() == -1)
		return -1;
	return setenv("NVMM_SOCKET", d.sock, 1);
}

/*
 * SIGINT, which ends the workers and their machines with the daemon
 * (SIGTERM would leave them to a next nvmmd), and a bounded wait; -1
 * unless it ended with status 0.
 */
int
bench_daemon_stop(void)
{
	unsigned ms;
	int status = 0;

	if (d.pid != -1) {
		kill(d.pid, SIGINT);
		for (ms = 0; waitpid(d.pid, &status, WNOHANG) == 0 &&
		    ms < DAEMON_WAIT_MS; ms += 10)
			sleep_ms(10);
		if (ms >= DAEMON_WAIT_MS) {
			kill(d.pid, SIGKILL);
			waitpid(d.pid, &status, 0);
		}
		d.pid = -1;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			daemon_failed("did not end cleanly on SIGINT");
	}
	if (d.dir[0] != '\0' && !d.keep_log) {
		unlink(d.log);
		unlink(d.sock);
		rmdir(d.dir);
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

pid_t
bench_daemon_pid(void)
{
	return d.pid;
}

const char *
bench_daemon_socket(void)
{
	return d.sock;
}

/* -------------------------------------------------------------------------- */
/* What the daemon costs the host: its process and every descendant. */

/* Reads /proc/PID/NAME into buf, NUL-terminated; -1 and errno if not. */
static int
proc_read(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0) {
		errno = n == 0 ? ENODATA : errno;
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/* A growing list of pids. */
struct pids {
	pid_t *v;
	size_t n, cap;
};

static int
pids_push(struct pids *l, pid_t pid)
{
	pid_t *grown;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap ? 2 * l->cap : 64;
		if ((grown = realloc(l->v, cap * sizeof(*l->v))) == NULL)
			return bench_fail("realloc");
		l->v = grown;
		l->cap = cap;
	}
	l->v[l->n++] = pid;
	return 0;
}

/*
 * The children of every thread of pid, from /proc/PID/task/TID/children,
 * onto l.  A process that ended meanwhile has none.
 */
static int
pids_children(struct pids *l, pid_t pid)
{
	char path[64], name[sizeof(path) + NAME_MAX + 16];
	struct dirent *de;
	DIR *dir;
	FILE *f;
	int child, status = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return 0;
	while (status == 0 && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "%s/%s/children", path,
		    de->d_name);
		if ((f = fopen(name, "re")) == NULL)
			continue;	/* a thread that just ended */
		while (status == 0 && fscanf(f, "%d", &child) == 1)
			status = pids_push(l, (pid_t)child);
		fclose(f);
	}
	closedir(dir);
	return status;
}

/*
 * root and all its descendants, root first, into *pidsp (the caller's to
 * free): the daemon's figures are those of all its processes, whatever
 * the number of workers.
 */
int
bench_proc_tree(pid_t root, pid_t **pidsp, size_t *np)
{
	struct pids l = { NULL, 0, 0 };
	size_t i;

	if (pids_push(&l, root) == -1)
		return -1;
	/* Breadth first: each process's children go after the list. */
	for (i = 0; i < l.n; i++) {
		if (pids_children(&l, l.v[i]) == -1) {
			free(l.v);
			return -1;
		}
	}
	*pidsp = l.v;
	*np = l.n;
	return 0;
}

/* "Name: N kB" of smaps_rollup text. */
static int
rollup_kib(const char *text, const char *name, uint64_t *kib)
{
	char key[32];
	const char *p;
	uintmax_t v;

	snprintf(key, sizeof(key), "\n%s:", name);
	if ((p = strstr(text, key)) == NULL ||
	    sscanf(p + strlen(key), " %ju kB", &v) != 1)
		return -1;
	*kib = v;
	return 0;
}

/* One look at every process of the daemon. */
static int
daemon_mem_once(struct bench_mem *m)
{
	char buf[4096];
	uint64_t rss, pss;
	pid_t *pids;
	size_t n, i;
	int status = 0;

	memset(m, 0, sizeof(*m));
	if (bench_proc_tree(d.pid, &pids, &n) == -1)
		return -1;
	for (i = 0; i < n && status == 0; i++) {
		if (proc_read(pids[i], "smaps_rollup", buf, sizeof(buf)) == -1) {
			/* A worker may end under the walk (or be a zombie). */
			if (i == 0 || (errno != ENOENT && errno != ESRCH &&
			    errno != ENODATA))
				status = bench_fail("/proc/%d/smaps_rollup",
				    (int)pids[i]);
			continue;
		}
		if (rollup_kib(buf, "Rss", &rss) == -1 ||
		    rollup_kib(buf, "Pss", &pss) == -1) {
			status = bench_failx("no Rss or Pss in "
			    "/proc/%d/smaps_rollup", (int)pids[i]);
			continue;
		}
		m->rss_kib += rss;
		m->pss_kib += pss;
		m->nprocs++;
	}
	free(pids);
	return status;
}

/*
 * Once the daemon's processes are as many for MEM_STEADY_MS: the workers
 * of connections just closed end a moment after their clients, and one
 * still there would count in the figures as a connected one.
 */
int
bench_daemon_mem(struct bench_mem *m)
{
	unsigned waited, steady = 0, last = 0;

	for (waited = 0; waited <= DAEMON_WAIT_MS; waited += MEM_POLL_MS) {
		if (daemon_mem_once(m) == -1)
			return -1;
		steady = m->nprocs == last ? steady + MEM_POLL_MS : 0;
		last = m->nprocs;
		if (steady >= MEM_STEADY_MS)
			return 0;
		sleep_ms(MEM_POLL_MS);
	}
	return bench_failx("nvmmd's processes did not settle in %u ms",
	    DAEMON_WAIT_MS);
}

/*
 * The CPU time and slices of every thread of pid, added to *ns, *slices;
 * -1 if pid is gone.
 */
static int
proc_cpu(pid_t pid, uint64_t *ns, uint64_t *slices)
{
	char path[64], name[300], buf[128];
	unsigned long long run, wait, n;
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "task/%s/schedstat", de->d_name);
		if (proc_read(pid, name, buf, sizeof(buf)) == -1)
			continue;	/* a thread that just ended */
		if (sscanf(buf, "%llu %llu %llu", &run, &wait, &n) == 3) {
			*ns += run;
			*slices += n;
		}
	}
	closedir(dir);
	return 0;
}

/*
 * Time on CPU of all the daemon's threads, in all its processes, and the
 * times they were scheduled, from /proc/PID/task/TID/schedstat:
 * nanoseconds, where /proc/PID/stat counts in clock ticks too coarse to
 * tell an idle daemon from a quiet one.
 */
int
bench_daemon_cpu(uint64_t *ns, uint64_t *slices)
{
	pid_t *pids;
	size_t n, i;
	int status = 0;

	*ns = *slices = 0;
	if (bench_proc_tree(d.pid, &pids, &n) == -1)
		return -1;
	/* A worker may end under the walk; the daemon not. */
	for (i = 0; i < n; i++)
		if (proc_cpu(pids[i], ns, slices) == -1 && i == 0)
			status = bench_fail("/proc/%d/task", (int)d.pid);
	free(pids);
	return status;
}
