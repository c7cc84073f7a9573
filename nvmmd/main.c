/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmmd: options, start-up, signals and the event loop.
 *
 * Start-up does everything that can fail before detaching: the
 * configuration, /dev/kvm, the pidfile and the socket.  The parent then
 * waits on a readiness pipe until the daemon has its event loop and
 * threads, so that its exit status is the daemon's: 0 means a client may
 * connect now.  Every failure is one line on standard error and status 1
 * (2 for a bad command line), in the foreground too.
 *
 * Signals (nvmmd.8): SIGHUP reloads; SIGTERM ends this process alone and
 * leaves the workers and their guests to the next nvmmd (a restart, an
 * upgrade); SIGINT, like nvmmctl shutdown, ends every guest and then the
 * daemon; SIGCHLD reaps the workers this process forked.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/libutil.h>
#include <systemd/sd-daemon.h>

#include <config.h>
#include "nvmmd.h"

struct event_base *nvmmd_base;

static struct nvmmd_options options;
static bool foreground;
static struct pidfh *pidfh;
static bool shutting_down;		/* the guests end with the daemon */

#define NSIGNALS	4
static struct event *sig_ev[NSIGNALS];

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: nvmmd [-dfhnV] [-c file] [-p pidfile] [-s socket] "
	    "[-g group]\n"
	    "             [-a admin-group] [-m monitor-group] [-u user]\n"
	    "             [-l connections=N,machines=N,vcpus=N,ram=SIZE]\n"
	    "  -c  the configuration file (default %s)\n"
	    "  -d  debug log (implies -f)\n"
	    "  -f  stay in the foreground, log to stderr\n"
	    "  -n  check the configuration and exit\n"
	    "  -p  the pidfile (default %s when detached)\n"
	    "  -s  the socket (default %s)\n"
	    "  -g  the group that may create and drive machines (default %s)\n"
	    "  -a  the group that may act as root owner (default %s)\n"
	    "  -m  the group that may only look (default %s)\n"
	    "  -u  the user that root becomes after start-up (default %s)\n"
	    "  -l  the default limits of one uid other than root\n"
	    "      (machines=32,vcpus=1024,mapped=16T unless configured)\n"
	    "  -V, --version  print the version\n",
	    NVMMD_CONFIG_FILE, NVMMD_PIDFILE, NVMM_DEFAULT_SOCKET, "nvmm",
	    "nvmm-admin", "nvmm-monitor", NVMMD_USER);
	exit(status);
}

static bool
parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct nvmmd_limit_set scratch;
	bool configtest = false;
	int ch;

	while ((ch = getopt_long(argc, argv, "a:c:dfg:hl:m:np:s:u:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'a': options.admin_group = optarg; break;
		case 'c': options.config_file = optarg; break;
		case 'd': options.debug = foreground = true; break;
		case 'f': foreground = true; break;
		case 'g': options.user_group = optarg; break;
		case 'h': usage(0);
		case 'l':
			if (limits_parse_list(optarg, &scratch) != 0) {
				fprintf(stderr, "nvmmd: bad limits: %s\n",
				    optarg);
				usage(2);
			}
			options.limits = optarg;
			break;
		case 'm': options.monitor_group = optarg; break;
		case 'n': configtest = true; break;
		case 'p': options.pidfile = optarg; break;
		case 's': options.socket_path = optarg; break;
		case 'u': options.user = optarg; break;
		case 'V':
			printf("nvmmd %s\n", PACKAGE_VERSION);
			exit(0);
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	return configtest;
}

static const char *
config_path(void)
{
	return options.config_file ? options.config_file : NVMMD_CONFIG_FILE;
}

void
main_shutdown(void)
{
	shutting_down = true;
	sd_notify(0, "STOPPING=1");
	event_base_loopbreak(nvmmd_base);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	if (sig == SIGINT) {
		log_info("SIGINT: ending every guest, then the daemon");
		main_shutdown();
		return;
	}
	log_info("SIGTERM: stopping; the guests run on for the next nvmmd");
	sd_notify(0, "STOPPING=1");
	event_base_loopbreak(nvmmd_base);
}

static void
on_child(evutil_socket_t sig, short what, void *arg)
{
	workers_reap();
}

/* In a worker: the parent's signals and pidfile are not its own. */
void
main_forget(void)
{
	int i;

	for (i = 0; i < NSIGNALS; i++)
		if (sig_ev[i] != NULL)
			event_free(sig_ev[i]);	/* the default action again */
	memset(sig_ev, 0, sizeof(sig_ev));
	if (pidfh != NULL)
		pidfile_close(pidfh);
	pidfh = NULL;
}

/* SIGHUP: a new configuration for new requests; machines are untouched. */
static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	const struct nvmmd_config *old = config_current();
	struct nvmmd_config *cfg;
	char why[512];

	if (config_load(&options, &cfg, why, sizeof(why)) != 0) {
		log_warnx("reload: %s; keeping the old configuration", why);
		return;
	}
	if (strcmp(cfg->socket_path, old->socket_path) != 0 ||
	    cfg->socket_mode != old->socket_mode ||
	    strcmp(cfg->socket_group, old->socket_group) != 0 ||
	    strcmp(cfg->pidfile, old->pidfile) != 0 ||
	    strcmp(cfg->user, old->user) != 0 ||
	    strcmp(cfg->metrics_listen, old->metrics_listen) != 0)
		log_warnx("reload: the socket, pidfile, user and metrics-listen "
		    "settings take effect at the next start");
	config_install(cfg);
	log_configure(!foreground, cfg->log_level, cfg->syslog_facility);
	log_info("reloaded %s", config_path());
}

/* Opens /dev/kvm and kernel/ once, so that a host without KVM fails now. */
static int
driver_check(char *why, size_t whylen)
{
	struct nvmm_capability cap;
	struct nvmm_owner *owner;
	int fd, error;

	/* kernel/ says only ENXIO; the cause is worth keeping. */
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd == -1) {
		error = errno;
		snprintf(why, whylen, "/dev/kvm: %s%s", strerror(error),
		    error == ENOENT ? " (is the kvm module loaded?)" : "");
		return error;
	}
	close(fd);
	error = nvmm_kern_open(&owner, getpid(), getuid(), false);
	if (error == 0) {
		error = nvmm_kern_capability(owner, &cap);
		nvmm_kern_close(owner);
	}
	if (error)
		snprintf(why, whylen, "/dev/kvm: not a usable KVM (wrong API "
		    "version or a missing capability): %s", strerror(error));
	return error;
}

/* A daemon with as many descriptors as it may have; see listener.c. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
pidfile_take(const char *path, char *why, size_t whylen)
{
	pid_t other = -1;

	privsep_files_begin();
	pidfh = pidfile_open(path, 0644, &other);
	privsep_files_end();
	if (pidfh != NULL)
		return 0;
	if (errno == EEXIST)
		snprintf(why, whylen, "%s: already running as pid %d", path,
		    (int)other);
	else
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
	return EEXIST;
}

/* Everything that may fail, before detaching. */
static int
start_prepare(char *why, size_t whylen)
{
	const struct nvmmd_config *cfg = config_current();
	int error;

	raise_nofile();
	error = privsep_prepare(cfg, why, whylen);
	if (error == 0)
		error = driver_check(why, whylen);
	if (error)
		return error;
	if (options.pidfile != NULL || !foreground) {
		error = pidfile_take(cfg->pidfile, why, whylen);
		if (error)
			return error;
	}
	error = listener_open(cfg, why, whylen);
	if (error == 0 && (error = workers_open(cfg, why, whylen)) != 0)
		listener_close();
	/* /dev/kvm is open, the sockets bound: root is done (privsep.c). */
	if (error == 0 && (error = privsep_drop(why, whylen)) != 0) {
		workers_close();
		listener_close();
	}
	return error;
}

/*
 * Forks; the parent waits for the child's "ready" byte, and exits 0 with
 * it, or with the child's own status when the child dies before.
 * Returns the pipe's end to write in the child.
 */
static int
detach(void)
{
	int fds[2], status;
	pid_t pid;
	char c;

	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	pid = fork();
	if (pid == -1)
		return -1;
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &c, 1) == 1)
			_exit(0);
		if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
			_exit(WEXITSTATUS(status) ? WEXITSTATUS(status) : 1);
		_exit(1);
	}
	close(fds[0]);
	setsid();
	return fds[1];
}

/* Tells the parent, or systemd, that clients may connect now. */
static void
start_done(int ready_fd)
{
	const struct nvmmd_config *cfg = config_current();
	const char *where;
	int null;

	if (pidfh != NULL)
		pidfile_write(pidfh);
	where = listener_is_activated() ? "the socket from systemd" :
	    cfg->socket_path;
	log_info("listening on %s", where);
	if (ready_fd != -1) {
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null != -1) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			close(null);
		}
		log_configure(true, cfg->log_level, cfg->syslog_facility);
		if (write(ready_fd, "", 1) != 1)
			log_warnx("cannot tell the parent: %s", strerror(errno));
		close(ready_fd);
	}
	sd_notifyf(0, "READY=1\nSTATUS=listening on %s\nMAINPID=%d", where,
	    (int)getpid());
}

static int
signals_start(void)
{
	static const int sigs[NSIGNALS] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	event_callback_fn fn;
	int i;

	for (i = 0; i < NSIGNALS; i++) {
		fn = sigs[i] == SIGHUP ? on_hup : sigs[i] == SIGCHLD ?
		    on_child : on_signal;
		sig_ev[i] = evsignal_new(nvmmd_base, sigs[i], fn, NULL);
		if (sig_ev[i] == NULL || event_add(sig_ev[i], NULL) == -1)
			return ENOMEM;
	}
	return 0;
}

static int
run(int ready_fd)
{
	char why[512];
	int i, error = 0;

	nvmmd_base = event_base_new();
	if (nvmmd_base == NULL) {
		log_warnx("cannot create the event loop");
		return 1;
	}
	machines_init();
	error = listener_start();
	if (error == 0)
		error = workers_start();
	if (error == 0 && (error = metrics_start(config_current(), why,
	    sizeof(why))) != 0)
		log_warnx("%s", why);
	if (error == 0)
		error = signals_start();
	if (error) {
		log_warnx("cannot start: %s", strerror(error));
		goto out;
	}
	/*
	 * Start-up is over: from here on, only the calls of a daemon.  The
	 * filter goes on before readiness, so that a failure to install it
	 * is the exit status that the parent or systemd sees.
	 */
	error = sandbox_enter_daemon();
	if (error) {
		log_warnx("cannot install the seccomp filter: %s",
		    strerror(error));
		goto out;
	}
	start_done(ready_fd);
	event_base_dispatch(nvmmd_base);
out:
	metrics_stop();
	listener_close();
	if (shutting_down)
		workers_quit_all();
	workers_close();
	for (i = 0; i < NSIGNALS; i++)
		if (sig_ev[i] != NULL)
			event_free(sig_ev[i]);
	event_base_free(nvmmd_base);
	if (pidfh != NULL)
		pidfile_remove(pidfh);
	log_info(error ? "not started" : "stopped");
	return error ? 1 : 0;
}

int
main(int argc, char **argv)
{
	struct nvmmd_config *cfg;
	char why[512];
	bool configtest;
	int ready_fd = -1;

	configtest = parse_options(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);	/* a reload too early must not kill */
	if (config_load(&options, &cfg, why, sizeof(why)) != 0) {
		fprintf(stderr, "nvmmd: %s\n", why);
		return 1;
	}
	config_install(cfg);
	if (configtest) {
		printf("nvmmd: %s: %s\n", config_path(),
		    access(config_path(), F_OK) == 0 ? "the configuration is "
		    "valid" : "not found; the built-in defaults apply");
		return 0;
	}
	log_configure(false, cfg->log_level, cfg->syslog_facility);
	if (start_prepare(why, sizeof(why)) != 0) {
		fprintf(stderr, "nvmmd: %s\n", why);
		if (pidfh != NULL)
			pidfile_remove(pidfh);
		return 1;
	}
	if (!foreground) {
		ready_fd = detach();
		if (ready_fd == -1) {
			fprintf(stderr, "nvmmd: cannot detach: %s\n",
			    strerror(errno));
			listener_close();
			if (pidfh != NULL)
				pidfile_remove(pidfh);
			return 1;
		}
	}
	return run(ready_fd);
}
