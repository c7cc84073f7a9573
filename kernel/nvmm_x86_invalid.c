/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * EXIT_INVALID, explained.  NetBSD's exit has room for one hardware code
 * (u.inv.hwcode: here KVM's exit reason, or the errno of a failed
 * KVM_RUN); an administrator needs more to tell a guest bug from a host
 * limit: KVM's internal-error sub-code and data, the entry-failure
 * reason, RIP and the instruction.  The run loop records them as it
 * makes the exit, while the kvm_run page still holds them; the daemon
 * asks for the words once (nvmm_kern_vcpu_invalid) and logs them.
 */
#include <sys/ioctl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nvmm_x86_kvm.h"

/* emulation_failure's flags, insn_size and insn_bytes: data[0..2]. */
#define NVMM_X86_INVALID_INSN_WORDS	3

static const char *
nvmm_x86_kvm_exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_UNKNOWN: return "unknown";
	case KVM_EXIT_EXCEPTION: return "exception";
	case KVM_EXIT_DEBUG: return "debug";
	case KVM_EXIT_FAIL_ENTRY: return "entry failure";
	case KVM_EXIT_INTERNAL_ERROR: return "internal error";
	case KVM_EXIT_SYSTEM_EVENT: return "system event";
	case KVM_EXIT_X86_BUS_LOCK: return "bus lock";
	default: return "unexpected";
	}
}

static const char *
nvmm_x86_suberror_name(uint32_t suberror)
{
	switch (suberror) {
	case KVM_INTERNAL_ERROR_EMULATION: return "emulation failed";
	case KVM_INTERNAL_ERROR_SIMUL_EX: return "exception while delivering one";
	case KVM_INTERNAL_ERROR_DELIVERY_EV: return "event delivery";
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
		return "unexpected hardware exit";
	default: return "unknown";
	}
}

/* KVM's own copy of the instruction, given with some emulation failures. */
static void
nvmm_x86_invalid_kvm_insn(const struct kvm_run *run,
    struct nvmm_x86_invalid *inv)
{
	size_t n;

	if (run->emulation_failure.suberror != KVM_INTERNAL_ERROR_EMULATION ||
	    run->emulation_failure.ndata < NVMM_X86_INVALID_INSN_WORDS ||
	    !(run->emulation_failure.flags &
	    KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES))
		return;
	n = run->emulation_failure.insn_size;
	if (n > sizeof(inv->insn))
		n = sizeof(inv->insn);
	memcpy(inv->insn, run->emulation_failure.insn_bytes, n);
	inv->insn_len = n;
	inv->insn_from_kvm = true;
}

void
nvmm_x86_exit_invalid(struct nvmm_cpu *cpu, struct nvmm_vcpu_exit *exit,
    uint64_t hwcode, int run_error)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	const struct kvm_run *run = xcpu->run;
	struct nvmm_x86_invalid *inv = &xcpu->invalid;
	struct kvm_sregs sregs;
	uint32_t first;

	exit->reason = NVMM_VCPU_EXIT_INVALID;
	exit->u.inv.hwcode = hwcode;
	memset(inv, 0, sizeof(*inv));
	inv->valid = true;
	inv->run_errno = run_error;
	if (run_error != 0)
		return;		/* KVM_RUN failed: kvm_run says nothing new */
	inv->kvm_exit = run->exit_reason;
	inv->rip = run->s.regs.regs.rip;
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
		inv->suberror = run->internal.suberror;
		nvmm_x86_invalid_kvm_insn(run, inv);
		/* The words after the instruction's, if KVM gave it. */
		first = inv->insn_from_kvm ? NVMM_X86_INVALID_INSN_WORDS : 0;
		if (run->internal.ndata > first)
			inv->ndata = run->internal.ndata - first;
		if (inv->ndata > NVMM_X86_INVALID_NDATA)
			inv->ndata = NVMM_X86_INVALID_NDATA;
		memcpy(inv->data, &run->internal.data[first],
		    inv->ndata * sizeof(inv->data[0]));
	} else if (run->exit_reason == KVM_EXIT_FAIL_ENTRY) {
		inv->hw_reason = run->fail_entry.hardware_entry_failure_reason;
	}
	/* Otherwise read the instruction where the guest sees it. */
	if (inv->insn_len == 0 &&
	    ioctl(xcpu->fd, KVM_GET_SREGS, &sregs) == 0)
		inv->insn_len = nvmm_x86_fetch(cpu, &sregs, inv->rip,
		    inv->insn, sizeof(inv->insn));
}

/* snprintf at *off into buf, which stays terminated when it fills up. */
static void
nvmm_x86_append(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
}

int
nvmm_x86_vcpu_invalid(struct nvmm_cpu *cpu, char *buf, size_t len)
{
	struct nvmm_x86_invalid *inv = &nvmm_x86_cpu(cpu)->invalid;
	size_t off = 0, i;

	if (!inv->valid)
		return ENOENT;
	inv->valid = false;
	if (inv->run_errno != 0) {
		nvmm_x86_append(buf, len, &off, "KVM_RUN failed: %s",
		    strerror(inv->run_errno));
		return 0;
	}
	nvmm_x86_append(buf, len, &off, "KVM exit %u (%s)", inv->kvm_exit,
	    nvmm_x86_kvm_exit_name(inv->kvm_exit));
	if (inv->kvm_exit == KVM_EXIT_INTERNAL_ERROR) {
		nvmm_x86_append(buf, len, &off, ", suberror %u (%s)",
		    inv->suberror, nvmm_x86_suberror_name(inv->suberror));
		for (i = 0; i < inv->ndata; i++)
			nvmm_x86_append(buf, len, &off, "%s%#llx",
			    i == 0 ? ", data " : " ",
			    (unsigned long long)inv->data[i]);
	} else if (inv->kvm_exit == KVM_EXIT_FAIL_ENTRY) {
		nvmm_x86_append(buf, len, &off, ", hardware reason %#llx",
		    (unsigned long long)inv->hw_reason);
	}
	nvmm_x86_append(buf, len, &off, ", rip %#llx",
	    (unsigned long long)inv->rip);
	for (i = 0; i < inv->insn_len; i++)
		nvmm_x86_append(buf, len, &off, "%s%02x",
		    i == 0 ? ", insn " : " ", inv->insn[i]);
	if (inv->insn_len > 0)
		nvmm_x86_append(buf, len, &off, " (%s)", inv->insn_from_kvm ?
		    "from KVM" : "read from guest memory");
	return 0;
}
