/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Clients that are forked children, for t_isolation, t_hotpath and
 * t_hostile; see h_fork.h.
 */
#include <sys/mman.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h_client.h"
#include "h_fork.h"

/* guests.S: "1: jmp 1b", the same bytes in real and in long mode. */
TVM_GUEST(spin);

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

void
td_child_spin(struct td_vm *vm, struct nvmm_vcpu *vcpu)
{
	C_CALL(nvmm_init());
	C_CHECK(td_spin_vm(vm, vcpu) == 0, "%s: %s", td_what,
	    strerror(errno));
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
