/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * bench_proc_tree (bench/bench_daemon.c), which the bench's memory and
 * CPU figures sum over: a process and all its descendants, itself first,
 * and nothing else, whatever their depth.
 */
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <atf-c.h>

#include "bench.h"

/* bench_main.c's, which this test does not link. */
int
bench_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": errno %d\n", errno);
	return -1;
}

int
bench_failx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/*
 * A child that waits for the end of the pipe hold; with a grandchild of
 * its own, whose pid it writes to out, if grand.
 */
static pid_t
spawn(const int hold[2], int out, bool grand)
{
	pid_t pid, gpid = -1;
	char c;

	ATF_REQUIRE((pid = fork()) != -1);
	if (pid != 0)
		return pid;
	close(hold[1]);		/* the test's to close */
	if (grand) {
		if ((gpid = fork()) == 0) {
			(void)read(hold[0], &c, 1);
			_exit(0);
		}
		if (write(out, &gpid, sizeof(gpid)) != sizeof(gpid))
			_exit(1);
	}
	(void)read(hold[0], &c, 1);
	if (grand)
		waitpid(gpid, NULL, 0);
	_exit(0);
}

static bool
has(const pid_t *pids, size_t n, pid_t pid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

ATF_TC(descendants);
ATF_TC_HEAD(descendants, tc)
{
	atf_tc_set_md_var(tc, "descr", "The tree of this process holds it, "
	    "first, its two children and its grandchild, and no other; a "
	    "leaf's holds the leaf alone");
	atf_tc_set_md_var(tc, "timeout", "30");
}
ATF_TC_BODY(descendants, tc)
{
	int hold[2], out[2];
	pid_t kids[3], *pids;
	size_t n, i;

	ATF_REQUIRE(pipe(hold) == 0 && pipe(out) == 0);
	kids[0] = spawn(hold, out[1], true);
	kids[1] = spawn(hold, out[1], false);
	ATF_REQUIRE(read(out[0], &kids[2], sizeof(kids[2])) ==
	    sizeof(kids[2]));

	ATF_REQUIRE(bench_proc_tree(getpid(), &pids, &n) == 0);
	ATF_CHECK_EQ_MSG(n, 4, "%zu processes, want this one and 3", n);
	ATF_CHECK_EQ(pids[0], getpid());
	for (i = 0; i < 3; i++)
		ATF_CHECK_MSG(has(pids, n, kids[i]), "pid %d missing",
		    (int)kids[i]);
	ATF_CHECK(!has(pids, n, getppid()));
	free(pids);

	/* From the grandchild: itself alone. */
	ATF_REQUIRE(bench_proc_tree(kids[2], &pids, &n) == 0);
	ATF_CHECK_EQ(n, 1);
	ATF_CHECK_EQ(pids[0], kids[2]);
	free(pids);

	close(hold[1]);
	for (i = 0; i < 2; i++)
		ATF_CHECK(waitpid(kids[i], NULL, 0) == kids[i]);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, descendants);
	return atf_no_error();
}
