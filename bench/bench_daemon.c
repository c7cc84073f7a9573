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
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define DAEMON_WAIT_MS	5000

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

/* SIGTERM and a bounded wait; -1 unless it ended with status 0. */
int
bench_daemon_stop(void)
{
	unsigned ms;
	int status = 0;

	if (d.pid != -1) {
		kill(d.pid, SIGTERM);
		for (ms = 0; waitpid(d.pid, &status, WNOHANG) == 0 &&
		    ms < DAEMON_WAIT_MS; ms += 10)
			sleep_ms(10);
		if (ms >= DAEMON_WAIT_MS) {
			kill(d.pid, SIGKILL);
			waitpid(d.pid, &status, 0);
		}
		d.pid = -1;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			daemon_failed("did not end cleanly on SIGTERM");
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

/* Reads /proc/PID/NAME into buf; -1 if the daemon is not there. */
static int
daemon_proc(const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)d.pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return bench_fail("%s", path);
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return bench_failx("%s: empty", path);
	buf[n] = '\0';
	return 0;
}

int
bench_daemon_rss_kib(uint64_t *kib)
{
	char buf[4096], *p;

	if (daemon_proc("status", buf, sizeof(buf)) == -1)
		return -1;
	if ((p = strstr(buf, "\nVmRSS:")) == NULL ||
	    sscanf(p, "\nVmRSS: %ju kB", (uintmax_t *)kib) != 1)
		return bench_failx("no VmRSS in /proc/%d/status", (int)d.pid);
	return 0;
}

/*
 * Time on CPU of all its threads and the times they were scheduled, from
 * /proc/PID/task/TID/schedstat: nanoseconds, where /proc/PID/stat counts
 * in clock ticks too coarse to tell an idle daemon from a quiet one.
 */
int
bench_daemon_cpu(uint64_t *ns, uint64_t *slices)
{
	char path[64], name[300], buf[128];
	unsigned long long run, wait, n;
	struct dirent *de;
	DIR *dir;

	*ns = *slices = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)d.pid);
	if ((dir = opendir(path)) == NULL)
		return bench_fail("%s", path);
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "task/%s/schedstat", de->d_name);
		if (daemon_proc(name, buf, sizeof(buf)) == -1)
			continue;	/* a thread that just ended */
		if (sscanf(buf, "%llu %llu %llu", &run, &wait, &n) == 3) {
			*ns += run;
			*slices += n;
		}
	}
	closedir(dir);
	return 0;
}
