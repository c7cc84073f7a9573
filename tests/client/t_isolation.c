/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmmd keeps its clients apart, and survives them: isolation between
 * connections, cleanup after a client dies inside a run, a forked child
 * that cannot use its parent's machine, who is let in, robustness
 * against malformed packets, and shutdown with a client inside a run.
 *
 * Each test case starts its own daemon (h_daemon.h).  Guests run by the
 * test process itself use h_client.h; clients that must be separate
 * processes are forked children (h_fork.h).
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include <nvmm.h>
#include "nvmm_rpc.h"
#include "h_client.h"
#include "h_daemon.h"
#include "h_fork.h"

#define TD_SPARE_GPA	0x100000UL

/* -------------------------------------------------------------------------- */

/* Waits up to 5 s for the daemon's descriptor count to be want. */
static int
td_fd_wait(pid_t daemon, int want)
{
	uint64_t end = hc_now_ms() + 5000;
	int n;

	while ((n = hd_fd_count(daemon)) != want && hc_now_ms() < end)
		hc_sleep_ms(10);
	return n;
}

/* -------------------------------------------------------------------------- */

ATF_TC_WITH_CLEANUP(two_clients_isolated);
TD_HEAD(two_clients_isolated, "A client cannot destroy, create VCPUs on, "
    "map memory of, or query another client's machine: EPERM")
ATF_TC_BODY(two_clients_isolated, tc)
{
	struct td_child a, b;
	struct nvmm_ctl_mach_info info;
	pid_t daemon;
	int victim;

	daemon = hd_start(NULL);

	/* A: a machine with a VCPU and RAM, then waits. */
	if (td_fork(&a)) {
		struct td_vm vm;
		struct nvmm_vcpu vcpu;

		td_child_spin(&vm, &vcpu);
		td_child_ev((uint8_t)vm.mach.machid);
		C_CHECK(td_child_cmd() == 'c', "bad command");
		/* Still whole after B's attempts. */
		C_CALL(hc_mach_info(vm.mach.machid, &info));
		C_CHECK(info.nvcpus == 1, "nvcpus %u, want 1", info.nvcpus);
		C_CHECK(info.nram == TD_RAM_SIZE, "nram %ju, want %lu",
		    (uintmax_t)info.nram, TD_RAM_SIZE);
		C_CHECK(info.pid == getpid(), "pid %d, want %d",
		    (int)info.pid, (int)getpid());
		C_CALL(nvmm_vcpu_getstate(&vm.mach, &vcpu,
		    NVMM_X64_STATE_GPRS));
		C_CALL(nvmm_machine_destroy(&vm.mach));
		_exit(0);
	}
	victim = td_event(&a, 30000, "machine id");

	/*
	 * B: its own connection and machine, whose handle it then points
	 * at A's machine, so that each call reaches the daemon.
	 */
	if (td_fork(&b)) {
		struct nvmm_machine mine, theirs;
		struct nvmm_vcpu vcpu;
		uint8_t *page;

		C_CALL(nvmm_init());
		C_CALL(nvmm_machine_create(&mine));
		C_CHECK(mine.machid != (nvmm_machid_t)victim,
		    "B was given A's machine id %d", victim);
		page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_ANON | MAP_PRIVATE, -1, 0);
		C_CHECK(page != MAP_FAILED, "mmap");

		/* The same calls work on B's own machine. */
		C_CALL(hc_mach_info(mine.machid, &info));
		C_CALL(nvmm_vcpu_create(&mine, 5, &vcpu));
		C_CALL(nvmm_vcpu_destroy(&mine, &vcpu));

		theirs = mine;
		theirs.machid = (nvmm_machid_t)victim;
		C_ERRNO(EPERM, hc_mach_info(theirs.machid, &info));
		C_ERRNO(EPERM, nvmm_vcpu_create(&theirs, 1, &vcpu));
		vcpu.cpuid = 0;
		C_ERRNO(EPERM, nvmm_vcpu_destroy(&theirs, &vcpu));
		C_ERRNO(EPERM, nvmm_hva_map(&theirs, (uintptr_t)page, 4096));
		C_ERRNO(EPERM, nvmm_gpa_map(&theirs, (uintptr_t)page,
		    TD_SPARE_GPA, 4096, HC_RWX));
		C_ERRNO(EPERM, nvmm_machine_destroy(&theirs));

		C_CALL(nvmm_machine_destroy(&mine));
		_exit(0);
	}
	td_wait_ok(&b, 30000, "the second client");

	td_send_byte(a.cmd, 'c');
	td_wait_ok(&a, 30000, "the first client");
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */

/* An admin connection in a child: MACH_INFO of every id. */
static void
td_admin_scan(int want_present, pid_t owner)
{
	struct td_child c;

	if (td_fork(&c)) {
		struct nvmm_ctl_mach_info info;
		int id, found = 0;

		C_CALL(nvmm_root_init());
		for (id = 0; id < 128; id++) {
			if (hc_mach_info((nvmm_machid_t)id, &info) == 0) {
				C_CHECK(want_present == id,
				    "machine %d exists (owner pid %d, %u vcpus)",
				    id, (int)info.pid, info.nvcpus);
				C_CHECK(info.pid == owner && info.nvcpus == 1,
				    "machine %d: pid %d, %u vcpus; want %d, 1",
				    id, (int)info.pid, info.nvcpus, (int)owner);
				found++;
				continue;
			}
			C_CHECK(errno == ENOENT, "MACH_INFO %d: %s, want ENOENT",
			    id, strerror(errno));
		}
		C_CHECK(want_present < 0 || found == 1,
		    "machine %d not seen", want_present);
		_exit(0);
	}
	td_wait_ok(&c, 30000, "the admin client");
}

ATF_TC_WITH_CLEANUP(sigkill_in_run_cleans_up);
TD_HEAD(sigkill_in_run_cleans_up, "A client killed inside nvmm_vcpu_run "
    "leaves no descriptor and no machine behind")
ATF_TC_BODY(sigkill_in_run_cleans_up, tc)
{
	struct td_child c;
	pid_t daemon;
	int before, now, machid, status;

	daemon = hd_start(NULL);
	before = td_fd_settled(daemon);

	if (td_fork(&c)) {
		struct td_vm vm;
		struct nvmm_vcpu vcpu;

		td_child_spin(&vm, &vcpu);
		td_child_ev((uint8_t)vm.mach.machid);
		/* Never returns: the guest spins. */
		C_CALL(nvmm_vcpu_run(&vm.mach, &vcpu));
		td_child_ev('!');
		C_CHECK(0, "the run returned, reason %#jx",
		    (uintmax_t)vcpu.exit->reason);
	}
	machid = td_event(&c, 30000, "machine id");
	hc_sleep_ms(200);
	ATF_REQUIRE_MSG(td_recv_byte(c.ev, 0) == -1,
	    "the spinning guest's run returned");
	ATF_REQUIRE_MSG(hd_fd_count(daemon) > before,
	    "the client holds no descriptor in the daemon");
	/* The scan sees the machine while its owner lives. */
	td_admin_scan(machid, c.pid);

	ATF_REQUIRE(kill(c.pid, SIGKILL) == 0);
	status = td_waitpid(c.pid, 10000);
	ATF_REQUIRE_MSG(status != -1 && WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGKILL, "the client was not killed: %#x",
	    status);

	now = td_fd_wait(daemon, before);
	ATF_CHECK_MSG(now == before, "the daemon has %d descriptors, %d "
	    "before the client", now, before);

	td_admin_scan(-1, 0);
	now = td_fd_wait(daemon, before);
	ATF_CHECK_MSG(now == before, "the daemon has %d descriptors after "
	    "the admin scan, %d before", now, before);
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */

ATF_TC_WITH_CLEANUP(forked_child_cannot_operate);
TD_HEAD(forked_child_cannot_operate, "A child forked after nvmm_init "
    "cannot operate its parent's machine: EPERM")
ATF_TC_BODY(forked_child_cannot_operate, tc)
{
	struct nvmm_ctl_mach_info info;
	struct hc_ioloop guest;
	struct td_child c;
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	size_t i;
	pid_t daemon;

	daemon = hd_start(NULL);
	hc_init();
	hc_ioloop(&guest, 10);
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest.code,
	    guest.code + sizeof(guest.code));

	if (td_fork(&c)) {
		struct nvmm_machine own;

		C_ERRNO(EPERM, nvmm_vcpu_run(&vm.mach, &hv.vcpu));
		C_ERRNO(EPERM, nvmm_vcpu_setstate(&vm.mach, &hv.vcpu,
		    NVMM_X64_STATE_GPRS));
		C_ERRNO(EPERM, nvmm_vcpu_getstate(&vm.mach, &hv.vcpu,
		    NVMM_X64_STATE_GPRS));
		C_ERRNO(EPERM, nvmm_machine_destroy(&vm.mach));
		C_ERRNO(EPERM, hc_mach_info(vm.mach.machid, &info));

		/* Its own connection does not make it the owner. */
		C_CALL(nvmm_init());
		C_CALL(nvmm_machine_create(&own));
		C_ERRNO(EPERM, nvmm_vcpu_run(&vm.mach, &hv.vcpu));
		C_ERRNO(EPERM, nvmm_machine_destroy(&vm.mach));
		C_ERRNO(EPERM, hc_mach_info(vm.mach.machid, &info));
		C_CALL(nvmm_machine_destroy(&own));
		_exit(0);
	}
	td_wait_ok(&c, 30000, "the forked child");

	/* The parent's machine is whole and runs. */
	HC_REQUIRE_OK(hc_mach_info(vm.mach.machid, &info));
	ATF_CHECK_EQ(info.nvcpus, 1);
	ATF_CHECK_EQ(info.pid, getpid());
	hc_run_to_halt(&hv, 100);
	ATF_CHECK_EQ_MSG(hc_dev_count(&dev, HC_IO_PORT), 10,
	    "%zu OUTs, want 10", hc_dev_count(&dev, HC_IO_PORT));
	for (i = 0; i < dev.nlog; i++)
		ATF_CHECK_EQ(dev.log[i].addr, HC_IO_PORT);
	hc_machine_destroy(&vm);
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */

ATF_TC_WITH_CLEANUP(outside_group_refused);
TD_HEAD(outside_group_refused, "A peer outside the user group is refused "
    "with EACCES and the refusal logged; a member is accepted")
ATF_TC_BODY(outside_group_refused, tc)
{
	const char *extra[] = { "-g", NULL, NULL };
	const struct group *gr;
	struct td_child c;
	char line[128];
	gid_t gid;
	pid_t daemon;

	gr = td_some_group();
	if (gr == NULL)
		atf_tc_skip("no group other than root and nogroup");
	gid = gr->gr_gid;
	extra[1] = strdup(gr->gr_name);
	ATF_REQUIRE(extra[1] != NULL);

	/* The unprivileged children look the socket up from here. */
	ATF_REQUIRE(chmod(".", 0711) == 0);
	daemon = hd_start(extra);

	if (td_fork(&c)) {
		td_drop_to(TD_NOBODY, TD_NOBODY);
		C_ERRNO(EACCES, nvmm_init());
		_exit(0);
	}
	snprintf(line, sizeof(line), "refused pid %d uid %d", (int)c.pid,
	    TD_NOBODY);
	td_wait_ok(&c, 30000, "the outsider");
	ATF_CHECK_MSG(hd_log_has(line), "nvmmd.log has no \"%s\"", line);

	if (td_fork(&c)) {
		struct nvmm_machine mach;

		td_drop_to(TD_NOBODY, gid);
		C_CALL(nvmm_init());
		C_CALL(nvmm_machine_create(&mach));
		C_CALL(nvmm_machine_destroy(&mach));
		_exit(0);
	}
	snprintf(line, sizeof(line), "refused pid %d", (int)c.pid);
	td_wait_ok(&c, 30000, "the member of the group");
	ATF_CHECK_MSG(!hd_log_has(line), "nvmmd.log refuses the member of "
	    "group %s: \"%s\"", extra[1], line);
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */

static int
td_raw_connect(void)
{
	struct timeval tv = { 5, 0 };
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, HD_SOCKET);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ATF_REQUIRE(fd != -1);
	ATF_REQUIRE_MSG(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0,
	    "connect: %s", strerror(errno));
	ATF_REQUIRE(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == 0);
	return fd;
}

static void
td_raw_send(int fd, const void *buf, size_t len)
{
	ATF_REQUIRE_MSG(send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len,
	    "send %zu bytes: %s", len, strerror(errno));
}

/* A session for the user role, opened as every client opens one. */
static int
td_raw_session(void)
{
	struct nvmm_rpc rpc = NVMM_RPC_INITIALIZER;
	struct timeval tv = { 5, 0 };
	int error;

	error = nvmm_rpc_open(&rpc, HD_SOCKET, NVMM__ROLE__ROLE_USER);
	ATF_REQUIRE_MSG(error == 0, "hello: %s", strerror(error));
	ATF_REQUIRE(setsockopt(rpc.fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == 0);
	return rpc.fd;
}

/* A valid request (capability) and its reply, as a control. */
static void
td_raw_capability(int fd, uint64_t id, int attach)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__Capability op = NVMM__CAPABILITY__INIT;
	Nvmm__Reply *reply;
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	size_t n;
	int rfd, error;

	req.id = id;
	req.op_case = NVMM__REQUEST__OP_CAPABILITY;
	req.capability = &op;
	ATF_REQUIRE_EQ(nvmm_wire_send(fd, &req.base, attach, 0), 0);
	if (attach != -1)
		return;
	error = nvmm_wire_recv(fd, buf, &n, &rfd, 0);
	ATF_REQUIRE_MSG(error == 0 && n > 0, "no capability reply: %s",
	    error ? strerror(error) : "end of file");
	reply = nvmm__reply__unpack(NULL, n, buf);
	ATF_REQUIRE(reply != NULL);
	ATF_REQUIRE_EQ(reply->id, id);
	ATF_REQUIRE_EQ(reply->error, 0);
	ATF_REQUIRE_EQ(reply->result_case, NVMM__REPLY__RESULT_CAPABILITY);
	nvmm__reply__free_unpacked(reply, NULL);
}

/* The daemon must close the connection now: recv sees the end. */
static void
td_raw_closed(int fd, const char *what)
{
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), 0);
	ATF_CHECK_MSG(n == 0, "%s: recv returned %zd (%s), want 0 (closed)",
	    what, n, n == -1 ? strerror(errno) : "a packet");
	close(fd);
}

/* The proper client answers; the daemon lives. */
static void
td_keeper_ok(struct td_child *k, pid_t daemon, const char *after)
{
	int b;

	td_send_byte(k->cmd, 'i');
	b = td_event(k, 30000, "answer");
	ATF_CHECK_MSG(b == 'y', "after %s: the proper client's machine does "
	    "not answer", after);
	ATF_REQUIRE_MSG(waitpid(daemon, NULL, WNOHANG) == 0 &&
	    kill(daemon, 0) == 0, "after %s: nvmmd is gone", after);
}

ATF_TC_WITH_CLEANUP(malformed_closes_only_that_connection);
TD_HEAD(malformed_closes_only_that_connection, "Garbage, an oversized "
    "packet, an unexpected descriptor or an unknown operation closes "
    "that connection and nothing else")
ATF_TC_BODY(malformed_closes_only_that_connection, tc)
{
	/* Overlong varints: no protobuf message parses from these. */
	static const uint8_t garbage[64] = {
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	};
	/* Request id 7 with field 25, past the last operation (shutdown). */
	static const uint8_t unknown_op[] = { 0x08, 0x07, 0xCA, 0x01, 0x00 };
	Nvmm__Hello hello = NVMM__HELLO__INIT;
	struct td_child k;
	uint8_t *big;
	size_t hlen, len;
	pid_t daemon;
	int fd, before, now, devnull;

	daemon = hd_start(NULL);

	/* The proper client: a machine, and MACH_INFO on it when asked. */
	if (td_fork(&k)) {
		struct nvmm_ctl_mach_info info;
		struct nvmm_machine mach;
		int cmd;

		C_CALL(nvmm_init());
		C_CALL(nvmm_machine_create(&mach));
		td_child_ev('r');
		while ((cmd = td_child_cmd()) == 'i')
			td_child_ev(hc_mach_info(mach.machid, &info) == 0 &&
			    info.pid == getpid() ? 'y' : 'n');
		C_CALL(nvmm_machine_destroy(&mach));
		_exit(0);
	}
	ATF_REQUIRE_EQ(td_event(&k, 30000, "ready"), 'r');
	td_keeper_ok(&k, daemon, "start");
	before = td_fd_settled(daemon);

	/* Garbage as the first packet, and after a good hello. */
	fd = td_raw_connect();
	td_raw_send(fd, garbage, sizeof(garbage));
	td_raw_closed(fd, "garbage for a hello");
	td_keeper_ok(&k, daemon, "garbage for a hello");

	fd = td_raw_session();
	td_raw_send(fd, garbage, sizeof(garbage));
	td_raw_closed(fd, "garbage for a request");
	td_keeper_ok(&k, daemon, "garbage for a request");

	/*
	 * Oversized: a valid Hello with an unknown field padding it.  Padded
	 * to exactly the bound it is accepted, one byte more and it is not.
	 */
	hello.version = NVMM_PROTO_VERSION;
	hello.role = NVMM__ROLE__ROLE_USER;
	hlen = nvmm__hello__get_packed_size(&hello);
	big = calloc(1, 2 * NVMM_PROTO_MAX_MSG);
	ATF_REQUIRE(big != NULL);
	for (len = NVMM_PROTO_MAX_MSG; len <= NVMM_PROTO_MAX_MSG + 1; len++) {
		Nvmm__HelloReply *reply;
		size_t pad = len - hlen - 3;	/* tag and 2-byte length */

		nvmm__hello__pack(&hello, big);
		big[hlen] = (15 << 3) | 2;
		big[hlen + 1] = (uint8_t)(0x80 | (pad & 0x7F));
		big[hlen + 2] = (uint8_t)(pad >> 7);
		memset(big + hlen + 3, 'x', pad);
		fd = td_raw_connect();
		td_raw_send(fd, big, len);
		if (len > NVMM_PROTO_MAX_MSG) {
			td_raw_closed(fd, "an oversized packet");
			break;
		}
		/* The control: the same, at the bound, is a good hello. */
		{
			uint8_t buf[NVMM_PROTO_MAX_MSG];
			size_t n;
			int rfd, error;

			error = nvmm_wire_recv(fd, buf, &n, &rfd, 0);
			ATF_REQUIRE_MSG(error == 0 && n > 0, "a %zu-byte hello: "
			    "%s", len, error ? strerror(error) : "end of file");
			reply = nvmm__hello_reply__unpack(NULL, n, buf);
			ATF_REQUIRE(reply != NULL);
			ATF_CHECK_EQ_MSG(reply->error, 0, "a %zu-byte hello: "
			    "%s", len, strerror(reply->error));
			nvmm__hello_reply__free_unpacked(reply, NULL);
		}
		close(fd);
	}
	td_keeper_ok(&k, daemon, "an oversized packet");

	/* Large, after a hello. */
	fd = td_raw_session();
	memset(big, 0, 2 * NVMM_PROTO_MAX_MSG);
	td_raw_send(fd, big, 2 * NVMM_PROTO_MAX_MSG);
	td_raw_closed(fd, "an oversized request");
	td_keeper_ok(&k, daemon, "an oversized request");
	free(big);

	/* A descriptor with the hello, and with a request that takes none. */
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ATF_REQUIRE(devnull != -1);
	fd = td_raw_connect();
	ATF_REQUIRE_EQ(nvmm_wire_send(fd, &hello.base, devnull, 0), 0);
	td_raw_closed(fd, "a hello with a descriptor");
	td_keeper_ok(&k, daemon, "a hello with a descriptor");

	fd = td_raw_session();
	td_raw_capability(fd, 1, -1);
	td_raw_capability(fd, 2, devnull);
	td_raw_closed(fd, "a request with a descriptor");
	td_keeper_ok(&k, daemon, "a request with a descriptor");
	close(devnull);

	/* An operation the protocol does not have. */
	fd = td_raw_session();
	td_raw_capability(fd, 1, -1);
	td_raw_send(fd, unknown_op, sizeof(unknown_op));
	td_raw_closed(fd, "an unknown operation");
	td_keeper_ok(&k, daemon, "an unknown operation");

	/* Every connection and descriptor gone, nothing else. */
	now = td_fd_wait(daemon, before);
	ATF_CHECK_MSG(now == before, "the daemon has %d descriptors, %d "
	    "before the malformed clients", now, before);

	td_send_byte(k.cmd, 'q');
	td_wait_ok(&k, 30000, "the proper client");
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */

ATF_TC_WITH_CLEANUP(sigint_clean_shutdown);
TD_HEAD(sigint_clean_shutdown, "SIGINT stops nvmmd and its guests "
    "cleanly with a client inside nvmm_vcpu_run, whose run then fails")
ATF_TC_BODY(sigint_clean_shutdown, tc)
{
	struct td_child c;
	pid_t daemon;
	int b, err;

	daemon = hd_start(NULL);
	if (td_fork(&c)) {
		struct td_vm vm;
		struct nvmm_vcpu vcpu;
		int r;

		td_child_spin(&vm, &vcpu);
		td_child_ev('R');
		errno = 0;
		r = nvmm_vcpu_run(&vm.mach, &vcpu);
		err = errno;
		C_CHECK(r == -1, "the run returned %d, exit %#jx", r,
		    (uintmax_t)vcpu.exit->reason);
		td_child_ev((uint8_t)err);
		_exit(0);
	}
	ATF_REQUIRE_EQ(td_event(&c, 30000, "ready"), 'R');
	hc_sleep_ms(200);
	ATF_REQUIRE_MSG(td_recv_byte(c.ev, 0) == -1,
	    "the spinning guest's run returned before the SIGINT");

	hd_stop(daemon);

	b = td_recv_byte(c.ev, 5000);
	if (b == -1)
		atf_tc_fail("nvmm_vcpu_run still waits 5 s after nvmmd "
		    "stopped");
	td_wait_ok(&c, 5000, "the running client");
	ATF_CHECK_MSG(b > 0, "the run failed with errno %d", b);
	printf("nvmm_vcpu_run failed with errno %d (%s)\n", b, strerror(b));
}

/* -------------------------------------------------------------------------- */

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, two_clients_isolated);
	ATF_TP_ADD_TC(tp, sigkill_in_run_cleans_up);
	ATF_TP_ADD_TC(tp, outside_group_refused);
	ATF_TP_ADD_TC(tp, malformed_closes_only_that_connection);
	ATF_TP_ADD_TC(tp, forked_child_cannot_operate);
	ATF_TP_ADD_TC(tp, sigint_clean_shutdown);
	return atf_no_error();
}
