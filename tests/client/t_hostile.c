/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmmd against hostile clients: unprivileged members of the user group
 * who use the protocol and the shared pages as an attacker would, not as
 * libnvmm does.  Each case is an attack that once crashed or hung the
 * daemon, leaked its descriptors, starved other users or reached an
 * administrator's terminal; each checks that it now gets an error and
 * that the daemon and the other users are unharmed.
 *
 * The attackers are forked children (h_fork.h) under uids without passwd
 * entries, in a group of this system given to the daemon as its -g.
 * They speak the protocol themselves (th_*), since no library would send
 * what they send.  What a case measures goes to its stderr.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/sockios.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include <nvmm.h>
#include "nvmm_wire.h"
#include "h_client.h"
#include "h_daemon.h"
#include "h_fork.h"

TVM_GUEST(starloop);

#define TH_PAGE		4096UL
#define TH_TIB		(1ULL << 40)
#define TH_GIB		(1ULL << 30)
/* An address no attacker maps itself: raw hva_maps use it as their key. */
#define TH_HVA		0x100000000000ULL

/* -------------------------------------------------------------------------- */
/* The daemon and its unprivileged users. */

static gid_t th_gid;

/* The k-th uid from 47301 up that has no passwd entry. */
static uid_t
th_uid(int k)
{
	uid_t uid;

	for (uid = 47301; uid < 48000; uid++)
		if (getpwuid(uid) == NULL && k-- == 0)
			return uid;
	atf_tc_skip("no free uids");
	return 0;
}

/*
 * A daemon whose user group is a group of this system, with the per-uid
 * limits of -l (NULL: the defaults).
 */
static pid_t
th_daemon_limits(const char *limits)
{
	const char *extra[] = { "-g", NULL, NULL, NULL, NULL };
	const struct group *gr;
	static char name[64];

	gr = td_some_group();
	if (gr == NULL)
		atf_tc_skip("no group other than root and nogroup");
	th_gid = gr->gr_gid;
	snprintf(name, sizeof(name), "%s", gr->gr_name);
	extra[1] = name;
	if (limits != NULL) {
		extra[2] = "-l";
		extra[3] = limits;
	}
	/* The unprivileged children look the socket up from here. */
	ATF_REQUIRE(chmod(".", 0711) == 0);
	return hd_start(extra);
}

static pid_t
th_daemon(void)
{
	return th_daemon_limits(NULL);
}

/* -------------------------------------------------------------------------- */
/* The protocol by hand, in children: no ATF, C_CHECK fails them. */

static int
th_connect(void)
{
	Nvmm__Hello hello = NVMM__HELLO__INIT;
	Nvmm__HelloReply *reply;
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	struct sockaddr_un sun;
	size_t n;
	int fd, rfd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, HD_SOCKET);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	C_CHECK(fd != -1, "socket: %s", strerror(errno));
	C_CHECK(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0,
	    "connect: %s", strerror(errno));
	hello.version = NVMM_PROTO_VERSION;
	hello.role = NVMM__ROLE__ROLE_USER;
	C_CHECK(nvmm_wire_send(fd, &hello.base, -1, 0) == 0, "hello");
	C_CHECK(nvmm_wire_recv(fd, buf, &n, &rfd, 0) == 0 && n > 0 &&
	    rfd == -1, "hello reply");
	reply = nvmm__hello_reply__unpack(NULL, (size_t)n, buf);
	C_CHECK(reply != NULL && reply->error == 0, "hello refused");
	nvmm__hello_reply__free_unpacked(reply, NULL);
	return fd;
}

/* One request and its reply's error; a descriptor that comes is closed. */
static int
th_call(int fd, Nvmm__Request *req, int sendfd, uint32_t *machidp)
{
	static uint64_t id;
	uint8_t buf[NVMM_PROTO_MAX_MSG];
	Nvmm__Reply *reply;
	size_t n;
	int error, rfd;

	req->id = ++id;
	C_CHECK(nvmm_wire_send(fd, &req->base, sendfd, 0) == 0, "send");
	C_CHECK(nvmm_wire_recv(fd, buf, &n, &rfd, 0) == 0 && n > 0,
	    "no reply");
	if (rfd != -1)
		close(rfd);
	reply = nvmm__reply__unpack(NULL, (size_t)n, buf);
	C_CHECK(reply != NULL && reply->id == id, "bad reply");
	error = reply->error;
	if (machidp != NULL && error == 0)
		*machidp = reply->machine_create->machid;
	nvmm__reply__free_unpacked(reply, NULL);
	return error;
}

static int
th_machine_create(int fd, uint32_t *machidp)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__MachineCreate op = NVMM__MACHINE_CREATE__INIT;

	req.op_case = NVMM__REQUEST__OP_MACHINE_CREATE;
	req.machine_create = &op;
	return th_call(fd, &req, -1, machidp);
}

static int
th_vcpu_create(int fd, uint32_t machid, uint32_t cpuid)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__VcpuCreate op = NVMM__VCPU_CREATE__INIT;

	op.machid = machid;
	op.cpuid = cpuid;
	req.op_case = NVMM__REQUEST__OP_VCPU_CREATE;
	req.vcpu_create = &op;
	return th_call(fd, &req, -1, NULL);
}

static void
th_hva_map_request(Nvmm__Request *req, Nvmm__HvaMap *op, uint32_t machid,
    uint64_t hva, uint64_t size)
{
	nvmm__hva_map__init(op);
	op->machid = machid;
	op->hva = hva;
	op->size = size;
	req->op_case = NVMM__REQUEST__OP_HVA_MAP;
	req->hva_map = op;
}

static int
th_hva_map(int fd, uint32_t machid, uint64_t hva, uint64_t size, int memfd)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__HvaMap op;

	th_hva_map_request(&req, &op, machid, hva, size);
	return th_call(fd, &req, memfd, NULL);
}

static int
th_hva_unmap(int fd, uint32_t machid, uint64_t hva, uint64_t size)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__HvaUnmap op = NVMM__HVA_UNMAP__INIT;

	op.machid = machid;
	op.hva = hva;
	op.size = size;
	req.op_case = NVMM__REQUEST__OP_HVA_UNMAP;
	req.hva_unmap = &op;
	return th_call(fd, &req, -1, NULL);
}

/* A memfd of size bytes that uses no memory, sealed against shrinking. */
static int
th_sparse_memfd(uint64_t size, bool seal)
{
	int fd;

	fd = memfd_create("th", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	C_CHECK(fd != -1, "memfd_create: %s", strerror(errno));
	C_CHECK(ftruncate(fd, (off_t)size) == 0, "ftruncate: %s",
	    strerror(errno));
	if (seal)
		C_CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0,
		    "F_ADD_SEALS: %s", strerror(errno));
	return fd;
}

/* -------------------------------------------------------------------------- */
/*
 * The memfd's size and seals.  The attacker sends an hva_map of two pages
 * of an unsealed memfd and, as the daemon works on it, shrinks the memfd
 * to one page and seals it: if the daemon read the size before the seals,
 * it maps a page that does not exist, and a guest on it kills the daemon
 * with SIGBUS.  The moment the daemon takes the request off the socket is
 * seen (SIOCOUTQ falls to 0), and the shrink comes a little later each
 * try, sweeping the few microseconds in which the daemon checks.
 */

#define RACE_TRIES	10000
#define RACE_STEPS	200		/* delays swept */
#define RACE_STEP	40		/* spins more per step */

struct race {
	int sock;
	int memfd;
	long delay;
	atomic_int state;		/* 0 idle, 1 sent, 2 shrunk, sealed */
};

static void *
race_shrinker(void *arg)
{
	struct race *r = arg;
	volatile long spin;
	int queued;

	for (;;) {
		while (atomic_load(&r->state) != 1)
			__builtin_ia32_pause();
		do
			C_CHECK(ioctl(r->sock, SIOCOUTQ, &queued) == 0,
			    "SIOCOUTQ: %s", strerror(errno));
		while (queued > 0);
		for (spin = 0; spin < r->delay; spin++)
			continue;
		(void)ftruncate(r->memfd, (off_t)TH_PAGE);
		(void)fcntl(r->memfd, F_ADD_SEALS, F_SEAL_SHRINK);
		atomic_store(&r->state, 2);
	}
	return NULL;
}

/* One try; true when the daemon accepted a map larger than the memfd. */
static bool
race_try(struct race *r, uint32_t machid, int try)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__HvaMap op;
	struct stat st;
	int error;

	r->memfd = th_sparse_memfd(2 * TH_PAGE, false);
	r->delay = (long)(try % RACE_STEPS) * RACE_STEP;
	th_hva_map_request(&req, &op, machid, TH_HVA, 2 * TH_PAGE);
	req.id = (uint64_t)try + 1000;
	C_CHECK(nvmm_wire_send(r->sock, &req.base, r->memfd, 0) == 0, "send");
	atomic_store(&r->state, 1);
	{
		uint8_t buf[NVMM_PROTO_MAX_MSG];
		Nvmm__Reply *reply;
		size_t n;
		int rfd;

		C_CHECK(nvmm_wire_recv(r->sock, buf, &n, &rfd, 0) == 0 &&
		    n > 0 && rfd == -1, "no reply");
		reply = nvmm__reply__unpack(NULL, (size_t)n, buf);
		C_CHECK(reply != NULL, "bad reply");
		error = reply->error;
		nvmm__reply__free_unpacked(reply, NULL);
	}
	while (atomic_load(&r->state) != 2)
		__builtin_ia32_pause();
	atomic_store(&r->state, 0);
	C_CHECK(fstat(r->memfd, &st) == 0, "fstat");
	close(r->memfd);
	if (error != 0)
		return false;
	C_CHECK(th_hva_unmap(r->sock, machid, TH_HVA, 2 * TH_PAGE) == 0,
	    "hva_unmap");
	return st.st_size < (off_t)(2 * TH_PAGE);
}

ATF_TC_WITH_CLEANUP(memfd_shrink_race);
TD_HEAD(memfd_shrink_race, "A memfd shrunk and sealed while the daemon "
    "checks it is never mapped beyond its end")
ATF_TC_BODY(memfd_shrink_race, tc)
{
	struct td_child c;
	pid_t daemon;
	uid_t uid = th_uid(0);

	daemon = th_daemon();
	if (td_fork(&c)) {
		struct race r;
		pthread_t t;
		uint32_t machid;
		int i, won = 0;

		td_drop_to(uid, th_gid);
		memset(&r, 0, sizeof(r));
		r.sock = th_connect();
		C_CHECK(th_machine_create(r.sock, &machid) == 0, "create");
		C_CHECK(pthread_create(&t, NULL, race_shrinker, &r) == 0,
		    "pthread_create");
		for (i = 0; i < RACE_TRIES; i++)
			won += race_try(&r, machid, i);
		fprintf(stderr, "memfd race: %d tries, %d won\n", RACE_TRIES,
		    won);
		C_CHECK(won == 0, "a 2-page map of a 1-page memfd was "
		    "accepted %d times in %d tries", won, RACE_TRIES);
		_exit(0);
	}
	td_wait_ok(&c, 110000, "the attacker");
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */

ATF_TC_WITH_CLEANUP(bad_bool_in_comm_page);
TD_HEAD(bad_bool_in_comm_page, "A byte other than 0 or 1 in the comm "
    "page's event_commit makes the run fail with EINVAL, and the daemon "
    "lives")
ATF_TC_BODY(bad_bool_in_comm_page, tc)
{
	struct td_child c;
	pid_t daemon;
	uid_t uid = th_uid(0);

	daemon = th_daemon();
	if (td_fork(&c)) {
		struct nvmm_vcpu vcpu;
		struct td_vm vm;

		td_drop_to(uid, th_gid);
		td_child_spin(&vm, &vcpu);
		/* A valid event, so that only the bad byte is wrong. */
		vcpu.event->type = NVMM_VCPU_EVENT_INTR;
		vcpu.event->vector = 0x30;
		*(volatile uint8_t *)&vm.mach.pages[0]->event_commit = 0x22;
		/* Should the byte be taken, the stop ends the spinning run. */
		C_CALL(nvmm_vcpu_stop(&vcpu));
		C_ERRNO(EINVAL, nvmm_vcpu_run(&vm.mach, &vcpu));
		/* Nothing was lost: the VCPU still answers. */
		C_CALL(nvmm_vcpu_getstate(&vm.mach, &vcpu,
		    NVMM_X64_STATE_GPRS));
		C_CHECK(vcpu.state->gprs[NVMM_X64_GPR_RIP] == TD_CODE_GPA,
		    "RIP %#jx", (uintmax_t)vcpu.state->gprs[NVMM_X64_GPR_RIP]);
		C_CALL(nvmm_machine_destroy(&vm.mach));
		_exit(0);
	}
	td_wait_ok(&c, 30000, "the attacker");
	ATF_REQUIRE_MSG(kill(daemon, 0) == 0 &&
	    waitpid(daemon, NULL, WNOHANG) == 0, "nvmmd died");
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */
/*
 * Tearing down a machine whose guest loops on exits the driver handles
 * itself (WRMSR to STAR): by an administrator's kill, and by the owner
 * being killed.  Each must end, and the daemon must go on serving; a kick
 * lost as KVM_RUN returned once left the event loop waiting for ever.
 * Several rounds of many VCPUs, since a kick is lost only when it lands
 * just so.
 */

#define LOOP_ROUNDS	8
#define LOOP_VCPUS	16

/* In a child: tells the test how long since t0, and ends. */
static void
loop_took_since(uint64_t t0)
{
	FILE *f;

	f = fopen("took.ms", "w");
	C_CHECK(f != NULL, "took.ms");
	fprintf(f, "%ju\n", (uintmax_t)(hc_now_ms() - t0));
	fclose(f);
	_exit(0);
}

/* In a child as root: kills machid as an admin. */
static void
loop_admin_kill(nvmm_machid_t machid)
{
	struct nvmm_ctl_mach_kill kill;
	uint64_t t0;

	C_CALL(setenv("NVMM_SOCKET", HD_SOCKET, 1));
	C_CALL(nvmm_root_init());
	memset(&kill, 0, sizeof(kill));
	kill.machid = machid;
	t0 = hc_now_ms();
	C_CALL(nvmm_ctl(NVMM_CTL_MACH_KILL, &kill, sizeof(kill)));
	loop_took_since(t0);
}

/* In a child as root: waits until machid is gone. */
static void
loop_wait_gone(nvmm_machid_t machid)
{
	struct nvmm_ctl_mach_info info;
	uint64_t t0 = hc_now_ms();

	C_CALL(setenv("NVMM_SOCKET", HD_SOCKET, 1));
	C_CALL(nvmm_root_init());
	while (hc_mach_info(machid, &info) == 0)
		hc_sleep_ms(1);
	C_CHECK(errno == ENOENT, "mach_info: %s", strerror(errno));
	loop_took_since(t0);
}

struct loop_vcpu {
	struct td_vm *vm;
	struct nvmm_vcpu vcpu;
	int ret, error;
};

static void *
loop_run(void *arg)
{
	struct loop_vcpu *lv = arg;

	lv->ret = nvmm_vcpu_run(&lv->vm->mach, &lv->vcpu);
	lv->error = errno;
	return NULL;
}

/* The owner: the looping guest on every VCPU, run until the runs fail. */
static void
loop_owner(uid_t uid)
{
	static struct loop_vcpu lv[LOOP_VCPUS];
	pthread_t t[LOOP_VCPUS];
	struct td_vm vm;
	int i;

	td_drop_to(uid, th_gid);
	C_CALL(nvmm_init());
	C_CHECK(td_guest_vm(&vm, &lv[0].vcpu, guest_starloop_begin,
	    guest_starloop_end) == 0, "%s: %s", td_what, strerror(errno));
	for (i = 0; i < LOOP_VCPUS; i++) {
		lv[i].vm = &vm;
		C_CHECK(i == 0 || td_vcpu_create(&vm, (nvmm_cpuid_t)i,
		    &lv[i].vcpu, TD_CODE_GPA, 0) == 0, "%s: %s", td_what,
		    strerror(errno));
		C_CHECK(pthread_create(&t[i], NULL, loop_run, &lv[i]) == 0,
		    "pthread_create");
	}
	td_child_ev((uint8_t)vm.mach.machid);
	for (i = 0; i < LOOP_VCPUS; i++) {
		pthread_join(t[i], NULL);
		C_CHECK(lv[i].ret == -1 && lv[i].error == ENOENT, "VCPU %d: "
		    "run returned %d, errno %d; want ENOENT", i, lv[i].ret,
		    lv[i].error);
	}
	_exit(0);
}

static unsigned
loop_took(void)
{
	unsigned ms = 0;
	FILE *f;

	f = fopen("took.ms", "r");
	ATF_REQUIRE(f != NULL);
	ATF_REQUIRE(fscanf(f, "%u", &ms) == 1);
	fclose(f);
	return ms;
}

ATF_TC_WITH_CLEANUP(teardown_of_looping_guest);
TD_HEAD(teardown_of_looping_guest, "A machine whose guest loops on "
    "in-kernel exits is torn down by a kill or by its owner's death, and "
    "the daemon goes on")
ATF_TC_BODY(teardown_of_looping_guest, tc)
{
	struct td_child owner, helper;
	unsigned round, ms, kill_max = 0, death_max = 0;
	pid_t daemon;
	uid_t uid = th_uid(0);
	int machid, status;

	daemon = th_daemon();
	for (round = 0; round < LOOP_ROUNDS; round++) {
		if (td_fork(&owner))
			loop_owner(uid);
		machid = td_event(&owner, 30000, "the looping guest");
		/* Let it loop through a few thousand exits. */
		hc_sleep_ms(30);
		status = td_waitpid(owner.pid, 0);
		if (status != -1)
			td_check_status(&owner, status, "the owner, early");
		if (round % 2 == 0) {
			if (td_fork(&helper))
				loop_admin_kill((nvmm_machid_t)machid);
			td_wait_ok(&helper, 20000, "nvmmctl kill");
			ms = loop_took();
			kill_max = ms > kill_max ? ms : kill_max;
			td_wait_ok(&owner, 20000, "the owner");
		} else {
			kill(owner.pid, SIGKILL);
			ATF_REQUIRE(td_waitpid(owner.pid, 20000) != -1);
			close(owner.msg);
			close(owner.cmd);
			close(owner.ev);
			if (td_fork(&helper))
				loop_wait_gone((nvmm_machid_t)machid);
			td_wait_ok(&helper, 20000, "the teardown");
			ms = loop_took();
			death_max = ms > death_max ? ms : death_max;
		}
	}
	fprintf(stderr, "looping guest: kill took at most %u ms, teardown "
	    "after the owner's death at most %u ms, %u rounds\n", kill_max,
	    death_max, LOOP_ROUNDS);
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */
/*
 * Address space.  One user maps sparse memfds (no memory used) until the
 * daemon refuses; another user must still be able to make a machine and
 * map memory.  What the second could map is what the first left it.
 */

#define SPACE_MACHINE_MAPS	32	/* NVMM's mappings per machine */

/* In a child: maps in chunks, halving them, until refused; the total. */
static uint64_t
space_fill(int sock, uint64_t chunk, uint64_t floor)
{
	uint64_t total = 0, hva = TH_HVA;
	uint32_t machid = 0;
	int error, maps = SPACE_MACHINE_MAPS, memfd;

	while (chunk >= floor) {
		if (maps == SPACE_MACHINE_MAPS) {
			if (th_machine_create(sock, &machid) != 0)
				break;
			maps = 0;
		}
		memfd = th_sparse_memfd(chunk, true);
		error = th_hva_map(sock, machid, hva, chunk, memfd);
		close(memfd);
		if (error == 0) {
			total += chunk;
			hva += chunk;
			maps++;
		} else {
			C_CHECK(error == ENOMEM, "hva_map: %s",
			    strerror(error));
			chunk /= 2;
		}
	}
	return total;
}

/*
 * Two users: the first takes all it can (first, on its connection) and
 * holds it while the second (second) shows what is left to it.
 */
static void
th_two_users(void (*first)(int), void (*second)(int))
{
	struct td_child a, b;
	pid_t daemon;
	uid_t ua = th_uid(0), ub = th_uid(1);

	daemon = th_daemon();
	if (td_fork(&a)) {
		td_drop_to(ua, th_gid);
		first(th_connect());
		td_child_ev('f');
		(void)td_child_cmd();
		_exit(0);
	}
	ATF_REQUIRE_EQ(td_event(&a, 60000, "the first user"), 'f');
	if (td_fork(&b)) {
		td_drop_to(ub, th_gid);
		second(th_connect());
		_exit(0);
	}
	td_wait_ok(&b, 60000, "the second user");
	td_send_byte(a.cmd, 'q');
	td_wait_ok(&a, 30000, "the first user");
	hd_stop(daemon);
}

static void
space_first(int sock)
{
	uint64_t got = space_fill(sock, TH_TIB, TH_GIB);

	fprintf(stderr, "address space: the first user mapped %ju GiB\n",
	    (uintmax_t)(got / TH_GIB));
}

static void
space_second(int sock)
{
	uint32_t machid;
	uint64_t got;

	C_CHECK(th_machine_create(sock, &machid) == 0, "the second user "
	    "cannot make a machine");
	got = space_fill(sock, TH_TIB, TH_GIB);
	fprintf(stderr, "address space: left to the second user: %ju GiB\n",
	    (uintmax_t)(got / TH_GIB));
	C_CHECK(got >= TH_TIB, "the second user mapped only %ju GiB",
	    (uintmax_t)(got / TH_GIB));
}

ATF_TC_WITH_CLEANUP(address_space_per_user);
TD_HEAD(address_space_per_user, "A user who maps all it can leaves "
    "another user room to make machines and map memory")
ATF_TC_BODY(address_space_per_user, tc)
{
	th_two_users(space_first, space_second);
}

/*
 * Machines: NVMM has 128 for everyone.  One user makes all it can; the
 * next must still be able to make one.
 */
static void
machines_first(int sock)
{
	uint32_t machid;
	int error, n = 0;

	while ((error = th_machine_create(sock, &machid)) == 0 && n < 1000)
		n++;
	C_CHECK(error == ENOBUFS, "machine_create: %s", strerror(error));
	fprintf(stderr, "machines: the first user made %d\n", n);
}

static void
machines_second(int sock)
{
	uint32_t machid;

	C_CHECK(th_machine_create(sock, &machid) == 0, "the second user "
	    "cannot make a machine");
}

ATF_TC_WITH_CLEANUP(machines_per_user);
TD_HEAD(machines_per_user, "A user who makes all the machines it can "
    "leaves another user room to make one")
ATF_TC_BODY(machines_per_user, tc)
{
	th_two_users(machines_first, machines_second);
}

/* -------------------------------------------------------------------------- */
/*
 * A limit is charged before the daemon acts.  A user at its VCPU limit
 * asks for every other VCPU of its machine: each is refused, and none of
 * them may leave anything behind in the daemon (a KVM VCPU is a
 * descriptor, and KVM cannot destroy one: a VCPU made and then refused
 * would stay, parked, until the machine goes).
 */

#define REFUSED_VCPUS	255		/* cpuids 1 to 255 */

ATF_TC_WITH_CLEANUP(vcpu_limit_refusals);
TD_HEAD(vcpu_limit_refusals, "VCPUs refused by the uid's VCPU limit "
    "leave no KVM VCPU, thread or descriptor in the daemon")
ATF_TC_BODY(vcpu_limit_refusals, tc)
{
	struct td_child c;
	pid_t daemon, worker;
	int before, after, threads;
	uid_t uid = th_uid(0);

	daemon = th_daemon_limits("vcpus=1");
	if (td_fork(&c)) {
		uint32_t machid, cpuid;
		int sock, error;

		td_drop_to(uid, th_gid);
		sock = th_connect();
		C_CHECK(th_machine_create(sock, &machid) == 0, "create");
		C_CHECK(th_vcpu_create(sock, machid, 0) == 0, "vcpu 0");
		td_child_ev('a');
		(void)td_child_cmd();
		for (cpuid = 1; cpuid <= REFUSED_VCPUS; cpuid++) {
			error = th_vcpu_create(sock, machid, cpuid);
			C_CHECK(error == ENOBUFS, "vcpu %u over the limit: %s",
			    (unsigned)cpuid, strerror(error));
		}
		td_child_ev('b');
		(void)td_child_cmd();
		_exit(0);
	}
	ATF_REQUIRE_EQ(td_event(&c, 30000, "the first VCPU"), 'a');
	/* What the refusals could leak is the user's worker's. */
	worker = hd_worker(daemon);
	before = td_fd_settled(worker);
	threads = hd_thread_count(worker);
	td_send_byte(c.cmd, 'g');
	ATF_REQUIRE_EQ(td_event(&c, 60000, "the refusals"), 'b');
	after = td_fd_settled(worker);
	fprintf(stderr, "descriptors: %d before, %d after %d refused VCPUs\n",
	    before, after, REFUSED_VCPUS);
	ATF_CHECK_EQ_MSG(after, before, "nvmmd holds %d descriptors more "
	    "after %d refused VCPUs", after - before, REFUSED_VCPUS);
	ATF_CHECK_EQ_MSG(hd_thread_count(worker), threads, "the worker has "
	    "%d threads, %d before the refusals", hd_thread_count(worker),
	    threads);
	ATF_CHECK(hd_log_has("over its vcpus limit"));
	td_send_byte(c.cmd, 'q');
	td_wait_ok(&c, 30000, "the user");
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */
/*
 * An empty packet that carries a descriptor reads as the end of the
 * connection; its descriptor must be closed all the same.
 */

#define EMPTY_ROUNDS	20

static void
empty_send(int sock)
{
	union {
		struct cmsghdr hdr;
		uint8_t space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh;
	struct iovec iov;
	char byte;
	int fd;

	fd = memfd_create("th-empty", MFD_CLOEXEC);
	C_CHECK(fd != -1, "memfd_create");
	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	iov.iov_base = &byte;
	iov.iov_len = 0;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.space;
	mh.msg_controllen = sizeof(ctl.space);
	ctl.hdr.cmsg_level = SOL_SOCKET;
	ctl.hdr.cmsg_type = SCM_RIGHTS;
	ctl.hdr.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&ctl.hdr), &fd, sizeof(int));
	C_CHECK(sendmsg(sock, &mh, MSG_NOSIGNAL) == 0, "sendmsg: %s",
	    strerror(errno));
	close(fd);
}

ATF_TC_WITH_CLEANUP(empty_packet_with_descriptor);
TD_HEAD(empty_packet_with_descriptor, "A descriptor sent on an empty "
    "packet, before or after the hello, is closed by the daemon")
ATF_TC_BODY(empty_packet_with_descriptor, tc)
{
	struct td_child c;
	pid_t daemon;
	int before, after;
	uid_t uid = th_uid(0);

	daemon = th_daemon();
	before = td_fd_settled(daemon);
	if (td_fork(&c)) {
		struct sockaddr_un sun;
		char buf[16];
		int i, sock;

		td_drop_to(uid, th_gid);
		for (i = 0; i < EMPTY_ROUNDS; i++) {
			if (i % 2 == 0) {
				sock = th_connect();
			} else {
				memset(&sun, 0, sizeof(sun));
				sun.sun_family = AF_UNIX;
				strcpy(sun.sun_path, HD_SOCKET);
				sock = socket(AF_UNIX, SOCK_SEQPACKET, 0);
				C_CHECK(sock != -1 && connect(sock,
				    (struct sockaddr *)&sun,
				    sizeof(sun)) == 0, "connect");
			}
			empty_send(sock);
			/* The daemon closes the connection. */
			C_CHECK(recv(sock, buf, sizeof(buf), 0) == 0,
			    "the connection stays open");
			close(sock);
		}
		_exit(0);
	}
	td_wait_ok(&c, 30000, "the attacker");
	after = td_fd_settled(daemon);
	fprintf(stderr, "descriptors: %d before, %d after %d empty packets\n",
	    before, after, EMPTY_ROUNDS);
	ATF_CHECK_EQ_MSG(after, before, "nvmmd holds %d descriptors more "
	    "after %d empty packets with one each", after - before,
	    EMPTY_ROUNDS);
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */
/*
 * A process named with terminal control sequences (cursor up, erase the
 * line, carriage return) owns a machine: nvmmctl's text shows the bytes
 * escaped, its JSON as \u escapes, and the daemon's log escaped.
 */

#define TERM_NAME	"\033[1A\033[2K\rx"

/* nvmmctl's output for args into out; requires its success. */
static void
term_nvmmctl(const char *args, char *out, size_t size)
{
	char cmd[256];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s -s %s %s", NVMMCTL_PATH, HD_SOCKET,
	    args);
	p = popen(cmd, "r");
	ATF_REQUIRE(p != NULL);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	ATF_REQUIRE_EQ_MSG(pclose(p), 0, "%s failed", cmd);
}

static void
term_check_text(const char *what, const char *out)
{
	ATF_CHECK_MSG(strchr(out, '\033') == NULL && strchr(out, '\r') ==
	    NULL, "%s prints the raw control characters", what);
	ATF_CHECK_MSG(strstr(out, "\\033[1A\\033[2K\\rx") != NULL,
	    "%s does not show the name escaped:\n%s", what, out);
}

/* Whether the log has the escaped name and no raw escape at all. */
static bool
term_log_clean(void)
{
	char buf[65536];
	size_t n;
	FILE *f;

	f = fopen("nvmmd.log", "r");
	ATF_REQUIRE(f != NULL);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strchr(buf, '\033') == NULL &&
	    strstr(buf, "\\033[1A\\033[2K\\rx") != NULL;
}

ATF_TC_WITH_CLEANUP(control_sequences_escaped);
TD_HEAD(control_sequences_escaped, "A command name made of terminal "
    "control sequences is escaped by nvmmctl list and info, in text and "
    "JSON, and in the daemon's log")
ATF_TC_BODY(control_sequences_escaped, tc)
{
	char out[8192], args[64];
	struct td_child c;
	pid_t daemon;
	int machid;
	uid_t uid = th_uid(0);

	daemon = th_daemon();
	if (td_fork(&c)) {
		struct nvmm_machine mach;

		td_drop_to(uid, th_gid);
		C_CALL(prctl(PR_SET_NAME, TERM_NAME, 0, 0, 0));
		C_CALL(nvmm_init());
		C_CALL(nvmm_machine_create(&mach));
		td_child_ev((uint8_t)mach.machid);
		(void)td_child_cmd();
		_exit(0);
	}
	machid = td_event(&c, 30000, "the machine");
	snprintf(args, sizeof(args), "info %d", machid);

	term_nvmmctl("list", out, sizeof(out));
	term_check_text("nvmmctl list", out);
	term_nvmmctl(args, out, sizeof(out));
	term_check_text("nvmmctl info", out);
	term_nvmmctl("--json list", out, sizeof(out));
	ATF_CHECK_MSG(strstr(out, "\"command\": \"\\u001B[1A\\u001B[2K"
	    "\\rx\"") != NULL, "nvmmctl --json list:\n%s", out);
	ATF_CHECK_MSG(term_log_clean(), "nvmmd.log does not show the name "
	    "escaped, or has a raw escape");

	td_send_byte(c.cmd, 'q');
	td_wait_ok(&c, 30000, "the owner");
	hd_stop(daemon);
}

/* -------------------------------------------------------------------------- */

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, memfd_shrink_race);
	ATF_TP_ADD_TC(tp, bad_bool_in_comm_page);
	ATF_TP_ADD_TC(tp, teardown_of_looping_guest);
	ATF_TP_ADD_TC(tp, address_space_per_user);
	ATF_TP_ADD_TC(tp, machines_per_user);
	ATF_TP_ADD_TC(tp, vcpu_limit_refusals);
	ATF_TP_ADD_TC(tp, empty_packet_with_descriptor);
	ATF_TP_ADD_TC(tp, control_sequences_escaped);
	return 0;
}
