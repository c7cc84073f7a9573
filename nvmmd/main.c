/*
 * nvmmd: options, signals and the event loop.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmmd.h"

struct nvmmd_config nvmmd_config = {
	.socket_path = NVMM_DEFAULT_SOCKET,
	.user_group = "nvmm",
	.admin_group = "nvmm-admin",
	.monitor_group = "nvmm-monitor",
};
struct event_base *nvmmd_base;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: nvmmd [-dfh] [-s socket] [-g group] [-a admin-group] "
	    "[-m monitor-group]\n"
	    "             [-l connections=N,machines=N,vcpus=N,ram=SIZE]\n"
	    "  -d  debug log (implies -f)\n"
	    "  -f  stay in the foreground, log to stderr\n"
	    "  -s  the socket (default %s)\n"
	    "  -g  the group that may create and drive machines (default %s)\n"
	    "  -a  the group that may act as root owner (default %s)\n"
	    "  -m  the group that may only look (default %s)\n"
	    "  -l  what one uid other than root may hold\n"
	    "      (default: machines=32,vcpus=1024,mapped=16T)\n",
	    NVMM_DEFAULT_SOCKET, "nvmm", "nvmm-admin", "nvmm-monitor");
	exit(status);
}

static void
parse_options(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "a:dfg:hl:m:s:")) != -1) {
		switch (ch) {
		case 'a':
			nvmmd_config.admin_group = optarg;
			break;
		case 'd':
			nvmmd_config.debug = true;
			nvmmd_config.foreground = true;
			break;
		case 'f':
			nvmmd_config.foreground = true;
			break;
		case 'g':
			nvmmd_config.user_group = optarg;
			break;
		case 'h':
			usage(0);
		case 'l':
			if (!limits_parse(optarg)) {
				fprintf(stderr, "nvmmd: bad limits: %s\n",
				    optarg);
				usage(2);
			}
			break;
		case 'm':
			nvmmd_config.monitor_group = optarg;
			break;
		case 's':
			nvmmd_config.socket_path = optarg;
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	log_info("signal %d: shutting down", (int)sig);
	event_base_loopbreak(nvmmd_base);
}

/* Opens kernel/ once up front, so that a host without KVM fails now. */
static int
driver_check(void)
{
	struct nvmm_capability cap;
	struct nvmm_owner *owner;
	int error;

	error = nvmm_kern_open(&owner, getpid(), false);
	if (error)
		return error;
	error = nvmm_kern_capability(owner, &cap);
	nvmm_kern_close(owner);
	return error;
}

int
main(int argc, char **argv)
{
	struct event *sigterm, *sigint;
	int error;

	parse_options(argc, argv);
	log_init(nvmmd_config.foreground, nvmmd_config.debug);
	signal(SIGPIPE, SIG_IGN);

	error = driver_check();
	if (error) {
		fprintf(stderr, "nvmmd: the NVMM driver is not available "
		    "(/dev/kvm): %s\n", strerror(error));
		return 1;
	}
	if (!nvmmd_config.foreground && daemon(0, 0) == -1) {
		fprintf(stderr, "nvmmd: daemon: %s\n", strerror(errno));
		return 1;
	}
	nvmmd_base = event_base_new();
	if (nvmmd_base == NULL) {
		log_warnx("cannot create the event loop");
		return 1;
	}
	error = listener_open(nvmmd_config.socket_path);
	if (error) {
		log_warnx("cannot listen on %s: %s", nvmmd_config.socket_path,
		    strerror(error));
		return 1;
	}
	error = watcher_start();
	if (error) {
		log_warnx("cannot start the stop watcher: %s", strerror(error));
		listener_close();
		return 1;
	}
	sigterm = evsignal_new(nvmmd_base, SIGTERM, on_signal, NULL);
	sigint = evsignal_new(nvmmd_base, SIGINT, on_signal, NULL);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	/* Start-up is over: from here on, only the calls of a daemon. */
	error = sandbox_enter_daemon();
	if (error) {
		log_warnx("cannot install the seccomp filter: %s",
		    strerror(error));
		listener_close();
		return 1;
	}
	log_info("listening on %s", nvmmd_config.socket_path);

	event_base_dispatch(nvmmd_base);

	listener_close();
	session_close_all();
	event_free(sigterm);
	event_free(sigint);
	event_base_free(nvmmd_base);
	log_info("stopped");
	return 0;
}
