/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Test harness for everything that goes through nvmmd: each test case
 * starts its own daemon on a private socket in its work directory and
 * stops it at the end.  NVMM_SOCKET is set so that nvmm_init() finds it.
 */
#ifndef H_DAEMON_H
#define H_DAEMON_H

#include <sys/types.h>
#include <stdbool.h>

#include <atf-c.h>

#define HD_SOCKET	"nvmmd.sock"

/* Test cases that start a daemon: root and /dev/kvm. */
#define HD_TC_NEEDS_DAEMON(tc) do {					\
	atf_tc_set_md_var(tc, "require.user", "root");			\
	atf_tc_set_md_var(tc, "require.files", "/dev/kvm");		\
} while (0)

/* The user a daemon started by root becomes (nvmmd's default). */
#define HD_USER		"nvmmd"

/*
 * Gives dir to HD_USER, so that the daemon can make its socket there and
 * remove it at exit (nvmmd(8), SECURITY).
 */
void	hd_give_dir(const char *dir);
/*
 * Starts nvmmd (-f -s HD_SOCKET, plus extra options, NULL-terminated),
 * waits until it accepts connections, sets NVMM_SOCKET; returns its pid.
 * Its stderr goes to nvmmd.log in the work directory, which it gives to
 * HD_USER.
 */
pid_t	hd_start(const char *const *extra);
/* SIGINT (guests end too), then requires a clean exit, no socket left. */
void	hd_stop(pid_t pid);
/* The worker of the oldest connection open to the daemon. */
pid_t	hd_worker(pid_t daemon);
/* For ATF cleanup routines: kills a daemon hd_start left running. */
void	hd_cleanup(void);
/* The daemon's open descriptors, from /proc. */
int	hd_fd_count(pid_t pid);
/* The daemon's threads, from /proc. */
int	hd_thread_count(pid_t pid);
/* True when the daemon's log has a line containing text. */
bool	hd_log_has(const char *text);

#endif /* H_DAEMON_H */
