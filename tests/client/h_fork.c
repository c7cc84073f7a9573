/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Clients that are forked children, for t_isolation and t_hotpath; see
 * h_fork.h.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "h_client.h"
#include "h_fork.h"

/* guests.S: "1: jmp 1b", the same bytes in real and in long mode. */
TVM_GUEST(spin);

#define TD_CHILDREN	"children.pids"

/* -------------------------------------------------------------------------- */
/* Forked helpers. */

/* In a child: where its failure message goes, and its pipe ends. */
static int td_msgfd = -1;
static int td_cmdfd = -1;
static int td_evfd = -1;

void
td_fail(int line, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (td_msgfd != -1)
		(void)write(td_msgfd, buf, strlen(buf));
	_exit(1);
}

/* Remembers a child so that the cleanup routine can kill it. */
static void
td_note_child(pid_t pid)
{
	FILE *f;

	f = fopen(TD_CHILDREN, "a");
	if (f != NULL) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
}

void
td_kill_children(void)
{
	FILE *f;
	int pid;

	f = fopen(TD_CHILDREN, "r");
	if (f == NULL)
		return;
	while (fscanf(f, "%d", &pid) == 1)
		if (pid > 0)
			kill(pid, SIGKILL);
	fclose(f);
}

bool
td_fork(struct td_child *c)
{
	int msg[2], cmd[2], ev[2];

	ATF_REQUIRE(pipe2(msg, O_CLOEXEC) == 0);
	ATF_REQUIRE(pipe2(cmd, O_CLOEXEC) == 0);
	ATF_REQUIRE(pipe2(ev, O_CLOEXEC) == 0);
	fflush(NULL);
	c->pid = fork();
	ATF_REQUIRE(c->pid != -1);
	if (c->pid == 0) {
		close(msg[0]);
		close(cmd[1]);
		close(ev[0]);
		td_msgfd = msg[1];
		td_cmdfd = cmd[0];
		td_evfd = ev[1];
		return true;
	}
	td_note_child(c->pid);
	close(msg[1]);
	close(cmd[0]);
	close(ev[1]);
	c->msg = msg[0];
	c->cmd = cmd[1];
	c->ev = ev[0];
	return false;
}

int
td_recv_byte(int fd, unsigned ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t b;
	ssize_t n;
	int r;

	do
		r = poll(&pfd, 1, (int)ms);
	while (r == -1 && errno == EINTR);
	if (r <= 0)
		return -1;
	do
		n = read(fd, &b, 1);
	while (n == -1 && errno == EINTR);
	return n == 1 ? b : -2;
}

void
td_send_byte(int fd, uint8_t b)
{
	ssize_t n;

	do
		n = write(fd, &b, 1);
	while (n == -1 && errno == EINTR);
}

int
td_child_cmd(void)
{
	int b = td_recv_byte(td_cmdfd, 60000);

	C_CHECK(b >= 0, "no command from the parent");
	return b;
}

void
td_child_ev(uint8_t b)
{
	td_send_byte(td_evfd, b);
}

int
td_event(struct td_child *c, unsigned ms, const char *what)
{
	int b = td_recv_byte(c->ev, ms);

	if (b < 0) {
		char msg[512] = "";
		ssize_t n;

		/* Has the child failed?  Say why. */
		if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
			n = read(c->msg, msg, sizeof(msg) - 1);
			msg[n > 0 ? n : 0] = '\0';
			c->pid = -1;
		}
		atf_tc_fail("no %s from the child (%s): %s", what,
		    b == -1 ? "time-out" : "EOF", msg);
	}
	return b;
}

int
td_waitpid(pid_t pid, unsigned ms)
{
	uint64_t end = hc_now_ms() + ms;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r == -1 || hc_now_ms() >= end)
			return -1;
		hc_sleep_ms(5);
	}
}

void
td_check_status(struct td_child *c, int status, const char *name)
{
	char msg[512];
	ssize_t n;

	n = read(c->msg, msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(c->msg);
	close(c->cmd);
	close(c->ev);
	if (status == -1)
		atf_tc_fail("%s: did not exit in time %s", name, msg);
	ATF_REQUIRE_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s: status %#x: %s", name, status,
	    msg[0] != '\0' ? msg : "(no message)");
}

void
td_wait_ok(struct td_child *c, unsigned ms, const char *name)
{
	int status;

	status = td_waitpid(c->pid, ms);
	if (status == -1) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	td_check_status(c, status, name);
}

/* -------------------------------------------------------------------------- */
/* Guests for children: no ATF, td_what names the call that failed. */

const char *td_what = "";

#define TD_TRY(call) do {						\
	if ((call) == -1) {						\
		td_what = #call;					\
		return -1;						\
	}								\
} while (0)

static int
td_vm_create(struct td_vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	TD_TRY(nvmm_machine_create(&vm->mach));
	vm->ramsize = TD_RAM_SIZE;
	vm->ram = mmap(NULL, vm->ramsize, PROT_READ | PROT_WRITE,
	    MAP_ANON | MAP_PRIVATE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		td_what = "mmap";
		return -1;
	}
	TD_TRY(nvmm_hva_map(&vm->mach, (uintptr_t)vm->ram, vm->ramsize));
	TD_TRY(nvmm_gpa_map(&vm->mach, (uintptr_t)vm->ram, 0, vm->ramsize,
	    PROT_READ | PROT_WRITE | PROT_EXEC));
	return 0;
}

int
td_vcpu_create(struct td_vm *vm, nvmm_cpuid_t cpuid, struct nvmm_vcpu *vcpu,
    uint64_t ip, uint64_t rax)
{
	struct nvmm_x64_state *st;

	TD_TRY(nvmm_vcpu_create(&vm->mach, cpuid, vcpu));
	TD_TRY(nvmm_vcpu_getstate(&vm->mach, vcpu, NVMM_X64_STATE_SEGS |
	    NVMM_X64_STATE_GPRS));
	st = vcpu->state;
	st->segs[NVMM_X64_SEG_CS].selector = 0;
	st->segs[NVMM_X64_SEG_CS].base = 0;
	st->gprs[NVMM_X64_GPR_RIP] = ip;
	st->gprs[NVMM_X64_GPR_RAX] = rax;
	TD_TRY(nvmm_vcpu_setstate(&vm->mach, vcpu, NVMM_X64_STATE_SEGS |
	    NVMM_X64_STATE_GPRS));
	return 0;
}

int
td_guest_vm(struct td_vm *vm, struct nvmm_vcpu *vcpu, const void *begin,
    const void *end)
{
	if (td_vm_create(vm) == -1)
		return -1;
	memcpy(vm->ram + TD_CODE_GPA, begin,
	    (size_t)((const uint8_t *)end - (const uint8_t *)begin));
	return td_vcpu_create(vm, 0, vcpu, TD_CODE_GPA, 0);
}

int
td_spin_vm(struct td_vm *vm, struct nvmm_vcpu *vcpu)
{
	return td_guest_vm(vm, vcpu, guest_spin_begin, guest_spin_end);
}

/* -------------------------------------------------------------------------- */
/* Unprivileged children. */

const struct group *
td_some_group(void)
{
	struct group *gr;

	gr = getgrgid(100);
	if (gr != NULL)
		return gr;
	setgrent();
	while ((gr = getgrent()) != NULL)
		if (gr->gr_gid != 0 && gr->gr_gid != TD_NOBODY)
			break;
	endgrent();
	return gr;
}

void
td_drop_to(uid_t uid, gid_t gid)
{
	C_CALL(setgroups(0, NULL));
	C_CALL(setgid(gid));
	C_CALL(setuid(uid));
	C_CHECK(getuid() == uid && geteuid() == uid && getgid() == gid,
	    "still privileged");
	C_CALL(setenv("NVMM_SOCKET", HD_SOCKET, 1));
}

/* -------------------------------------------------------------------------- */

/*
 * The daemon's descriptor count once it stops moving: connections that
 * just ended (hd_start's probes) take a moment to be closed.
 */
int
td_fd_settled(pid_t daemon)
{
	uint64_t end = hc_now_ms() + 5000;
	int n, last = -1, same = 0;

	while (same < 10 && hc_now_ms() < end) {
		n = hd_fd_count(daemon);
		same = n == last ? same + 1 : 0;
		last = n;
		hc_sleep_ms(10);
	}
	return last;
}
