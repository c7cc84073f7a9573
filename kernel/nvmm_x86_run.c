/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The run loop: NVMM exits made from KVM's, events, and the completion of
 * the accesses KVM leaves half done.
 *
 * KVM decodes and emulates IO and MMIO instructions itself and wants the
 * data phase of a read before it can finish one.  NVMM reports the access
 * and lets the emulator do the data phase.  So an IO, MMIO or MSR exit
 * leaves a pending completion: the emulator fills the access page (the
 * assists do), and KVM finishes the instruction either at the next entry
 * or at once when asked (nvmm_x86_vcpu_complete).  Before any register is
 * written, the pending access is completed: KVM drops the data of a read
 * when the registers change under it.
 *
 * A write can be finished by KVM before it exits (MMIO writes everywhere,
 * OUT on some hosts): the state then already shows the instruction done,
 * and npc is the RIP reported.  Reads are never finished before the exit.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <errno.h>
#include <string.h>

#include "nvmm_x86_kvm.h"

#define X86_EFER_LMA	0x400ULL
#define X86_CR0_PG	0x80000000ULL

/* What nvmm_x86_exit_translate() tells its caller to do next. */
enum nvmm_x86_verdict {
	NVMM_X86_REENTER,	/* nothing for the emulator: run on */
	NVMM_X86_RETURN,	/* *exit is for the emulator */
};

static int
nvmm_x86_kvm_run(struct nvmm_cpu *cpu)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	int ret, error = 0;

	xcpu->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS |
	    KVM_SYNC_X86_EVENTS;
	nvmm_cpu_enter(cpu);
	ret = ioctl(xcpu->fd, KVM_RUN, 0);
	if (ret == -1)
		error = errno;
	nvmm_cpu_leave(cpu);
	/*
	 * Cleared before the comm page is read again; see nvmm_cpu_kick().
	 * Only when set: the store is a locked instruction.  A kick after
	 * the load stays armed for the next entry, as one after the store
	 * would, and its stop is in the comm page, read after this.
	 */
	if (__atomic_load_n(&xcpu->run->immediate_exit, __ATOMIC_SEQ_CST))
		__atomic_store_n(&xcpu->run->immediate_exit, 0,
		    __ATOMIC_SEQ_CST);
	return error;
}

/*
 * Lets KVM finish what it is in the middle of, and nothing more.  Returns
 * 0 when it is finished, or EAGAIN when KVM reports one more access of
 * the same instruction instead (a read-modify-write, MOVS).
 */
static int
nvmm_x86_kvm_finish(struct nvmm_cpu *cpu)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	int error;

	__atomic_store_n(&xcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	error = nvmm_x86_kvm_run(cpu);
	if (error == EINTR)
		return 0;
	if (error)
		return error;
	if (xcpu->run->exit_reason == KVM_EXIT_MMIO ||
	    xcpu->run->exit_reason == KVM_EXIT_IO)
		return EAGAIN;
	return EIO;
}

/* -------------------------------------------------------------------------- */

static bool
nvmm_x86_longmode(const struct kvm_sregs *sregs)
{
	return (sregs->efer & X86_EFER_LMA) && sregs->cs.l;
}

static bool
nvmm_x86_mode16(const struct kvm_sregs *sregs)
{
	return !nvmm_x86_longmode(sregs) && !sregs->cs.db;
}

static int
nvmm_x86_translate(struct nvmm_cpu *cpu, const struct kvm_sregs *sregs,
    uint64_t linear, uint64_t *gpa)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	struct nvmm_x86_tlb *tlb = &xcpu->tlb;
	struct kvm_translation tr;
	uint64_t lpage = linear & ~NVMM_PAGE_MASK;

	if (!(sregs->cr0 & X86_CR0_PG)) {
		*gpa = linear;
		return 0;
	}
	if (tlb->valid && tlb->cr3 == sregs->cr3 && tlb->lpage == lpage) {
		*gpa = tlb->ppage | (linear & NVMM_PAGE_MASK);
		return 0;
	}
	memset(&tr, 0, sizeof(tr));
	tr.linear_address = linear;
	if (ioctl(xcpu->fd, KVM_TRANSLATE, &tr) == -1 || !tr.valid)
		return EFAULT;
	tlb->valid = true;
	tlb->cr3 = sregs->cr3;
	tlb->lpage = lpage;
	tlb->ppage = tr.physical_address & ~NVMM_PAGE_MASK;
	*gpa = tr.physical_address;
	return 0;
}

/* The linear address of CS:rip. */
static uint64_t
nvmm_x86_code_linear(const struct kvm_sregs *sregs, uint64_t rip)
{
	return nvmm_x86_longmode(sregs) ? rip : sregs->cs.base + rip;
}

/* Reads guest code at CS:rip; returns how many bytes could be read. */
size_t
nvmm_x86_fetch(struct nvmm_cpu *cpu, const struct kvm_sregs *sregs,
    uint64_t rip, uint8_t *buf, size_t len)
{
	uint64_t linear, gpa;
	size_t done = 0, n;

	linear = nvmm_x86_code_linear(sregs, rip);
	while (done < len) {
		if (nvmm_x86_translate(cpu, sregs, linear + done, &gpa) != 0)
			break;
		n = NVMM_PAGE_SIZE - ((linear + done) & NVMM_PAGE_MASK);
		if (n > len - done)
			n = len - done;
		n = nvmm_mem_read(nvmm_x86_cpu(cpu)->mach, gpa, buf + done, n);
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

/* -------------------------------------------------------------------------- */

static bool
nvmm_x86_io_matches(const struct nvmm_x86_io_insn *insn,
    const struct kvm_run *run, uint64_t rdx)
{
	uint16_t port = run->io.port;

	if (insn->in != (run->io.direction == KVM_EXIT_IO_IN) ||
	    insn->operand_size != run->io.size)
		return false;
	if (insn->str)
		return (uint16_t)rdx == port;
	if (insn->imm_port)
		return insn->port == port;
	return (uint16_t)rdx == port;
}

/* The bytes before RIP that an IO instruction KVM retired ends at. */
#define NVMM_X86_IO_BEFORE	5

/*
 * The bytes at RIP and, in win[0..NVMM_X86_IO_BEFORE), the ones before
 * it, in one read of guest memory where RIP allows; *before says whether
 * those are there.  Returns how many bytes at RIP could be read.
 */
static size_t
nvmm_x86_io_fetch(struct nvmm_cpu *cpu, const struct kvm_sregs *sregs,
    uint64_t rip, uint8_t win[NVMM_X86_IO_BEFORE + NVMM_X86_INSN_MAX],
    bool *before)
{
	size_t n;

	if (rip >= NVMM_X86_IO_BEFORE) {
		n = nvmm_x86_fetch(cpu, sregs, rip - NVMM_X86_IO_BEFORE, win,
		    NVMM_X86_IO_BEFORE + NVMM_X86_INSN_MAX);
		if (n >= NVMM_X86_IO_BEFORE) {
			*before = true;
			return n - NVMM_X86_IO_BEFORE;
		}
	}
	*before = false;
	return nvmm_x86_fetch(cpu, sregs, rip, win + NVMM_X86_IO_BEFORE,
	    NVMM_X86_INSN_MAX);
}

/*
 * The instruction of an access KVM finished before exiting: it ends at
 * RIP, that is at `end'.  The shortest IO instruction that ends there and
 * fits the access is taken for it, as bytes before it may be the tail of
 * the instruction before; but a string instruction takes the rep,
 * address-size and segment prefixes in front of it, which say what it
 * did.
 */
static bool
nvmm_x86_io_decode_before(const struct kvm_sregs *sregs, const uint8_t *end,
    const struct kvm_run *run, uint64_t rdx, struct nvmm_x86_io_insn *insn)
{
	const bool mode16 = nvmm_x86_mode16(sregs);
	const bool longmode = nvmm_x86_longmode(sregs);
	const size_t len = NVMM_X86_IO_BEFORE;
	struct nvmm_x86_io_insn longer;
	size_t k;

	for (k = 1; k <= len; k++) {
		if (nvmm_x86_decode_io(end - k, k, mode16, longmode, insn) &&
		    insn->len == k && nvmm_x86_io_matches(insn, run, rdx))
			break;
	}
	if (k > len)
		return false;
	while (insn->str && ++k <= len &&
	    nvmm_x86_io_string_prefix(*(end - k)) &&
	    nvmm_x86_decode_io(end - k, k, mode16, longmode, &longer) &&
	    longer.len == k && nvmm_x86_io_matches(&longer, run, rdx))
		*insn = longer;
	return true;
}

static void
nvmm_x86_io_guess(const struct kvm_sregs *sregs, const struct kvm_run *run,
    struct nvmm_x86_io_insn *insn)
{
	memset(insn, 0, sizeof(*insn));
	insn->in = run->io.direction == KVM_EXIT_IO_IN;
	insn->operand_size = run->io.size;
	insn->address_size = nvmm_x86_longmode(sregs) ? 8 :
	    nvmm_x86_mode16(sregs) ? 2 : 4;
	insn->seg = -1;
	insn->str = run->io.count > 1;
	insn->rep = run->io.count > 1;
}

/*
 * Fills the NVMM IO exit as NetBSD's: the state at the IO instruction,
 * npc after it.  KVM may have retired an OUT before exiting (some hosts
 * do; KVM itself does for port 0x7E): its instruction then ends at RIP
 * instead of starting there, and the state is rewound to it.  A plain OUT
 * that decodes at RIP may still be retired (the next instruction can be
 * the same OUT): letting KVM finish it tells, by whether RIP moves.  The
 * instruction done, only the undo is left pending: an emulator that does
 * not advance RIP sees the guest execute it again, as on NetBSD.
 */
static void
nvmm_x86_exit_io(struct nvmm_cpu *cpu, struct nvmm_vcpu_exit *exit)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	const struct kvm_run *run = xcpu->run;
	const struct kvm_sregs *sregs = &run->s.regs.sregs;
	uint64_t rip = run->s.regs.regs.rip, rdx = run->s.regs.regs.rdx;
	struct nvmm_x86_io_insn insn;
	uint64_t start = rip, npc = rip;
	uint8_t win[NVMM_X86_IO_BEFORE + NVMM_X86_INSN_MAX];
	const uint8_t *bytes = win + NVMM_X86_IO_BEFORE;
	size_t n;
	bool at, before;

	n = nvmm_x86_io_fetch(cpu, sregs, rip, win, &before);
	at = nvmm_x86_decode_io(bytes, n, nvmm_x86_mode16(sregs),
	    nvmm_x86_longmode(sregs), &insn) &&
	    nvmm_x86_io_matches(&insn, run, rdx);
	if (at && !insn.in && !insn.str && nvmm_x86_kvm_finish(cpu) == 0) {
		xcpu->pending = NVMM_X86_PENDING_DONE;
		at = run->s.regs.regs.rip != rip;
	}
	if (at) {
		npc = rip + insn.len;
	} else if (run->io.direction == KVM_EXIT_IO_OUT && before &&
	    nvmm_x86_io_decode_before(sregs, bytes, run, rdx, &insn)) {
		/* Only writes are ever retired before the exit. */
		start = rip - insn.len;
	} else {
		/* Nothing to rewind to: npc is RIP. */
		nvmm_x86_io_guess(sregs, run, &insn);
	}
	xcpu->exit_regs.rip = start;

	exit->reason = NVMM_VCPU_EXIT_IO;
	exit->u.io.in = insn.in;
	exit->u.io.port = run->io.port;
	exit->u.io.seg = (int8_t)insn.seg;
	exit->u.io.address_size = insn.address_size;
	exit->u.io.operand_size = run->io.size;
	exit->u.io.rep = insn.rep;
	exit->u.io.str = insn.str;
	exit->u.io.npc = npc;
}

/* -------------------------------------------------------------------------- */

/* Describes KVM's IO or MMIO access in the access page. */
static int
nvmm_x86_access_record(struct nvmm_cpu *cpu)
{
	const struct kvm_run *run = nvmm_x86_cpu(cpu)->run;
	struct nvmm_kern_access *acc = cpu->access;
	size_t len;

	if (run->exit_reason == KVM_EXIT_IO) {
		len = (size_t)run->io.size * run->io.count;
		if (len > NVMM_KERN_ACCESS_DATA_MAX)
			return EIO;
		acc->is_io = 1;
		acc->write = run->io.direction == KVM_EXIT_IO_OUT;
		acc->size = run->io.size;
		acc->count = run->io.count;
		acc->addr = run->io.port;
		if (acc->write)
			memcpy(cpu->data, (const uint8_t *)run +
			    run->io.data_offset, len);
		else
			memset(cpu->data, 0, len);
	} else {
		len = run->mmio.len;
		if (len > sizeof(run->mmio.data))
			return EIO;
		acc->is_io = 0;
		acc->write = run->mmio.is_write;
		acc->size = (uint32_t)len;
		acc->count = 1;
		acc->addr = run->mmio.phys_addr;
		if (acc->write)
			memcpy(cpu->data, run->mmio.data, len);
		else
			memset(cpu->data, 0, len);
	}
	acc->handled = 0;
	acc->pending = 1;
	return 0;
}

/* Gives KVM the data the emulator put in the access page for a read. */
static void
nvmm_x86_access_load(struct nvmm_cpu *cpu)
{
	struct kvm_run *run = nvmm_x86_cpu(cpu)->run;
	size_t len;

	if (run->exit_reason == KVM_EXIT_IO &&
	    run->io.direction == KVM_EXIT_IO_IN) {
		len = (size_t)run->io.size * run->io.count;
		memcpy((uint8_t *)run + run->io.data_offset, cpu->data, len);
	} else if (run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write) {
		memcpy(run->mmio.data, cpu->data, run->mmio.len);
	}
}

static void
nvmm_x86_exit_cache(struct nvmm_cpu *cpu, uint64_t flags)
{
	struct nvmm_comm_page *comm = cpu->comm;

	if (nvmm_x86_state_from_exit(cpu, flags, &comm->state) == 0)
		comm->state_cached |= flags;
}

#define NVMM_X86_ACCESS_STATE (NVMM_X64_STATE_GPRS | NVMM_X64_STATE_SEGS | \
    NVMM_X64_STATE_CRS | NVMM_X64_STATE_MSRS)

/*
 * Finishes the pending access.  Unless the emulator handled it or set the
 * GPRs, the instruction is undone (its registers put back) so that the
 * guest executes it again, as on NetBSD.  EAGAIN: KVM reported another
 * access of the same instruction, now pending in turn.
 */
static int
nvmm_x86_pending_complete(struct nvmm_cpu *cpu, bool handled)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	struct kvm_run *run = xcpu->run;
	uint64_t commit;
	int error = 0;

	switch (xcpu->pending) {
	case NVMM_X86_PENDING_NONE:
		return 0;
	case NVMM_X86_PENDING_IO:
	case NVMM_X86_PENDING_MMIO:
		nvmm_x86_access_load(cpu);
		break;
	case NVMM_X86_PENDING_MSR:
		/* The emulator answers MSRs through the GPRs it commits. */
		run->msr.error = 0;
		run->msr.data = 0;
		break;
	case NVMM_X86_PENDING_DONE:
		break;
	}
	cpu->access->pending = 0;
	if (xcpu->pending != NVMM_X86_PENDING_DONE) {
		xcpu->pending = NVMM_X86_PENDING_NONE;
		error = nvmm_x86_kvm_finish(cpu);
		if (error == EAGAIN) {
			xcpu->pending = NVMM_X86_PENDING_MMIO;
			if (run->exit_reason == KVM_EXIT_IO)
				xcpu->pending = NVMM_X86_PENDING_IO;
			return nvmm_x86_access_record(cpu) ? EIO : EAGAIN;
		}
	}
	xcpu->pending = NVMM_X86_PENDING_NONE;
	if (error)
		return error;

	commit = NVMM_READ_ONCE(cpu->comm->state_commit);
	if (!handled && !(commit & NVMM_X64_STATE_GPRS) &&
	    ioctl(xcpu->fd, KVM_SET_REGS, &xcpu->exit_regs) == -1)
		return errno;
	return 0;
}

/* Before registers are read or written outside a run. */
int
nvmm_x86_pending_finish(struct nvmm_cpu *cpu)
{
	int error;

	error = nvmm_x86_pending_complete(cpu,
	    NVMM_READ_ONCE(cpu->access->handled) != 0);
	/* A further access of the instruction stays pending for the run. */
	return error == EAGAIN ? 0 : error;
}

int
nvmm_x86_vcpu_complete(struct nvmm_cpu *cpu, bool *done)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	uint64_t commit;
	int error;

	*done = true;
	if (xcpu->pending == NVMM_X86_PENDING_NONE)
		return 0;
	error = nvmm_x86_pending_complete(cpu, true);
	if (error == EAGAIN) {
		*done = false;
		return 0;
	}
	if (error)
		return error;
	commit = NVMM_READ_ONCE(cpu->comm->state_commit) & NVMM_X64_STATE_ALL;
	error = nvmm_x86_state_commit(cpu);
	if (error)
		return error;
	/* The emulator now sees the instruction done. */
	cpu->comm->state_cached &= ~NVMM_X86_ACCESS_STATE;
	if (commit == 0) {
		/*
		 * KVM synced its registers as the finishing run returned:
		 * four ioctls fewer per completed access.
		 */
		memcpy(&xcpu->exit_regs, &xcpu->run->s.regs.regs,
		    sizeof(xcpu->exit_regs));
		nvmm_x86_exit_cache(cpu, NVMM_X86_ACCESS_STATE);
		return 0;
	}
	error = nvmm_x86_state_get(cpu, NVMM_X86_ACCESS_STATE,
	    &cpu->comm->state);
	if (error == 0)
		cpu->comm->state_cached |= NVMM_X86_ACCESS_STATE;
	return error;
}

/* -------------------------------------------------------------------------- */

/* NetBSD's rules for an injected event (reference §3.8). */
static bool
nvmm_x86_event_valid(const struct nvmm_vcpu_event *ev)
{
	switch (ev->type) {
	case NVMM_VCPU_EVENT_EXCP:
		return ev->vector != 0 && ev->vector != 2 && ev->vector != 3 &&
		    ev->vector < 32;
	case NVMM_VCPU_EVENT_INTR:
		return true;
	default:
		return false;
	}
}

static bool
nvmm_x86_excp_has_error(uint8_t vector)
{
	switch (vector) {
	case 8: case 10: case 11: case 12: case 13: case 14: case 17:
	case 21: case 30:
		return true;
	default:
		return false;
	}
}

static int
nvmm_x86_event_inject(struct nvmm_cpu *cpu, const struct nvmm_vcpu_event *ev)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	struct kvm_vcpu_events kev;
	struct kvm_interrupt irq;

	if (!nvmm_x86_event_valid(ev))
		return EINVAL;
	if (ev->type == NVMM_VCPU_EVENT_INTR && ev->vector == 2)
		return ioctl(xcpu->fd, KVM_NMI) == -1 ? EINVAL : 0;
	if (ev->type == NVMM_VCPU_EVENT_INTR) {
		irq.irq = ev->vector;
		if (ioctl(xcpu->fd, KVM_INTERRUPT, &irq) == -1)
			return EINVAL;
		xcpu->irq_queued = true;
		return 0;
	}
	if (ioctl(xcpu->fd, KVM_GET_VCPU_EVENTS, &kev) == -1)
		return EINVAL;
	kev.flags = 0;
	kev.exception.injected = 1;
	kev.exception.pending = 0;
	kev.exception.nr = ev->vector;
	kev.exception.has_error_code = nvmm_x86_excp_has_error(ev->vector);
	kev.exception.error_code = (uint32_t)ev->u.excp.error;
	if (ioctl(xcpu->fd, KVM_SET_VCPU_EVENTS, &kev) == -1)
		return EINVAL;
	return 0;
}

/* The event in the comm page, taken once. */
static int
nvmm_x86_event_commit(struct nvmm_cpu *cpu)
{
	struct nvmm_vcpu_event ev;

	memcpy(&ev, (const void *)&cpu->comm->event, sizeof(ev));
	NVMM_WRITE_ONCE(cpu->comm->event_commit, false);
	return nvmm_x86_event_inject(cpu, &ev);
}

int
nvmm_x86_vcpu_inject(struct nvmm_cpu *cpu)
{
	int error;

	error = nvmm_x86_pending_finish(cpu);
	if (error)
		return error;
	return nvmm_x86_event_commit(cpu);
}

/* -------------------------------------------------------------------------- */

static void
nvmm_x86_exitstate(struct nvmm_cpu *cpu, struct nvmm_vcpu_exit *exit)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	const struct kvm_run *run = xcpu->run;
	const struct kvm_vcpu_events *ev = &run->s.regs.events;

	if (run->ready_for_interrupt_injection)
		xcpu->irq_queued = false;
	exit->exitstate.rflags = run->s.regs.regs.rflags;
	exit->exitstate.cr8 = run->cr8;
	exit->exitstate.int_shadow = ev->interrupt.shadow != 0;
	exit->exitstate.int_window_exiting = xcpu->int_window_exiting;
	exit->exitstate.nmi_window_exiting = xcpu->nmi_window_exiting;
	exit->exitstate.evt_pending = ev->exception.injected ||
	    ev->exception.pending || ev->interrupt.injected ||
	    ev->nmi.injected || ev->nmi.pending || xcpu->irq_queued;
}

static enum nvmm_x86_verdict
nvmm_x86_exit_msr(struct nvmm_cpu *cpu, struct nvmm_vcpu_exit *exit)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	const struct kvm_run *run = xcpu->run;
	const struct kvm_sregs *sregs = &run->s.regs.sregs;
	uint64_t rip = run->s.regs.regs.rip;
	uint8_t bytes[NVMM_X86_INSN_MAX];
	size_t n, len;

	n = nvmm_x86_fetch(cpu, sregs, rip, bytes, sizeof(bytes));
	len = nvmm_x86_decode_msr_len(bytes, n, nvmm_x86_longmode(sregs));
	if (len == 0)
		len = 2;
	if (run->exit_reason == KVM_EXIT_X86_RDMSR) {
		exit->reason = NVMM_VCPU_EXIT_RDMSR;
		exit->u.rdmsr.msr = run->msr.index;
		exit->u.rdmsr.npc = rip + len;
	} else {
		exit->reason = NVMM_VCPU_EXIT_WRMSR;
		exit->u.wrmsr.msr = run->msr.index;
		exit->u.wrmsr.val = run->msr.data;
		exit->u.wrmsr.npc = rip + len;
	}
	xcpu->pending = NVMM_X86_PENDING_MSR;
	nvmm_x86_exit_cache(cpu, NVMM_X64_STATE_GPRS);
	return NVMM_X86_RETURN;
}

/* NVMM handles these MSRs in its kernel; so does this one. */
static enum nvmm_x86_verdict
nvmm_x86_wrmsr_inkernel(struct nvmm_cpu *cpu)
{
	struct kvm_run *run = nvmm_x86_cpu(cpu)->run;

	run->msr.error = nvmm_x86_msr_write(cpu, run->msr.index,
	    run->msr.data) != 0;
	return NVMM_X86_REENTER;
}

/*
 * The MEMORY exit, with the bytes at RIP as NetBSD's AMD backend gives
 * them: up to 15, fewer where guest memory ends.  KVM retires a write
 * before it exits, so RIP is past the instruction and its bytes are not
 * known: inst_len stays 0 and the emulator fetches for itself (NetBSD's
 * Intel backend gives 0 always).
 */
static void
nvmm_x86_exit_mem(struct nvmm_cpu *cpu, struct nvmm_vcpu_exit *exit)
{
	const struct kvm_run *run = nvmm_x86_cpu(cpu)->run;

	exit->reason = NVMM_VCPU_EXIT_MEMORY;
	exit->u.mem.prot = run->mmio.is_write ? PROT_WRITE : PROT_READ;
	exit->u.mem.gpa = run->mmio.phys_addr;
	exit->u.mem.inst_len = 0;
	if (!run->mmio.is_write)
		exit->u.mem.inst_len = (uint8_t)nvmm_x86_fetch(cpu,
		    &run->s.regs.sregs, run->s.regs.regs.rip,
		    exit->u.mem.inst_bytes, sizeof(exit->u.mem.inst_bytes));
}

/*
 * What an access exit caches for the emulator's assist: a plain IN or
 * OUT needs the GPRs alone, a load the mode too (SEGS, EFER), string IO
 * and the general path all of it.  The rest stays for getstate: caching
 * costs the copy, and a cache line the client then reads, on every exit.
 */
static uint64_t
nvmm_x86_exit_cached(const struct nvmm_vcpu_exit *exit)
{
	if (exit->reason == NVMM_VCPU_EXIT_IO && !exit->u.io.str)
		return NVMM_X64_STATE_GPRS;
	if (exit->reason == NVMM_VCPU_EXIT_MEMORY)
		return NVMM_X64_STATE_GPRS | NVMM_X64_STATE_SEGS |
		    NVMM_X64_STATE_MSRS;
	return NVMM_X86_ACCESS_STATE;
}

static enum nvmm_x86_verdict
nvmm_x86_exit_access(struct nvmm_cpu *cpu, struct nvmm_vcpu_exit *exit)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	const struct kvm_run *run = xcpu->run;

	if (nvmm_x86_access_record(cpu) != 0) {
		nvmm_x86_exit_invalid(cpu, exit, run->exit_reason, 0);
		return NVMM_X86_RETURN;
	}
	if (run->exit_reason == KVM_EXIT_IO) {
		xcpu->pending = NVMM_X86_PENDING_IO;
		nvmm_x86_exit_io(cpu, exit);
	} else {
		xcpu->pending = NVMM_X86_PENDING_MMIO;
		nvmm_x86_exit_mem(cpu, exit);
	}
	nvmm_x86_exit_cache(cpu, nvmm_x86_exit_cached(exit));
	return NVMM_X86_RETURN;
}

/*
 * KVM gives up on an instruction it cannot fetch, from guest memory no
 * slot backs; NetBSD reports that fetch as a MEMORY exit with PROT_EXEC.
 * Whatever else KVM could not do stays INVALID.
 */
static enum nvmm_x86_verdict
nvmm_x86_exit_internal(struct nvmm_cpu *cpu, struct nvmm_vcpu_exit *exit)
{
	const struct kvm_run *run = nvmm_x86_cpu(cpu)->run;
	const struct kvm_sregs *sregs = &run->s.regs.sregs;
	uint64_t rip = run->s.regs.regs.rip, gpa;
	uint8_t byte;

	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    nvmm_x86_translate(cpu, sregs, nvmm_x86_code_linear(sregs, rip),
	    &gpa) == 0 && nvmm_x86_fetch(cpu, sregs, rip, &byte, 1) == 0) {
		exit->reason = NVMM_VCPU_EXIT_MEMORY;
		exit->u.mem.prot = PROT_EXEC;
		exit->u.mem.gpa = gpa;
		exit->u.mem.inst_len = 0;
		return NVMM_X86_RETURN;
	}
	nvmm_x86_exit_invalid(cpu, exit, run->exit_reason, 0);
	return NVMM_X86_RETURN;
}

static enum nvmm_x86_verdict
nvmm_x86_exit_translate(struct nvmm_cpu *cpu, struct nvmm_vcpu_exit *exit)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	const struct kvm_run *run = xcpu->run;

	memcpy(&xcpu->exit_regs, &run->s.regs.regs, sizeof(xcpu->exit_regs));

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
	case KVM_EXIT_MMIO:
		return nvmm_x86_exit_access(cpu, exit);
	case KVM_EXIT_X86_WRMSR:
		if (nvmm_x86_msr_shadowed(run->msr.index))
			return nvmm_x86_wrmsr_inkernel(cpu);
		return nvmm_x86_exit_msr(cpu, exit);
	case KVM_EXIT_X86_RDMSR:
		return nvmm_x86_exit_msr(cpu, exit);
	case KVM_EXIT_HLT:
		/* As NetBSD: a halt with interrupts on ends the window wait. */
		if (run->s.regs.regs.rflags & X86_RFLAGS_IF)
			xcpu->int_window_exiting = false;
		exit->reason = NVMM_VCPU_EXIT_HALTED;
		return NVMM_X86_RETURN;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		xcpu->int_window_exiting = false;
		exit->reason = NVMM_VCPU_EXIT_INT_READY;
		return NVMM_X86_RETURN;
	case KVM_EXIT_SET_TPR:
		/* NVMM_VCPU_CONF_TPR is refused, so nobody waits for this. */
		return NVMM_X86_REENTER;
	case KVM_EXIT_SHUTDOWN:
		exit->reason = NVMM_VCPU_EXIT_SHUTDOWN;
		return NVMM_X86_RETURN;
	case KVM_EXIT_INTERNAL_ERROR:
		return nvmm_x86_exit_internal(cpu, exit);
	case KVM_EXIT_FAIL_ENTRY:
		nvmm_x86_exit_invalid(cpu, exit,
		    run->fail_entry.hardware_entry_failure_reason, 0);
		return NVMM_X86_RETURN;
	default:
		nvmm_x86_exit_invalid(cpu, exit, run->exit_reason, 0);
		return NVMM_X86_RETURN;
	}
}

/* -------------------------------------------------------------------------- */

/*
 * KVM has no NMI-window exit: NMI_READY is given when a run starts with
 * NMIs unmasked, which is when the guest could take one.
 */
static bool
nvmm_x86_nmi_window_open(struct nvmm_cpu *cpu)
{
	struct kvm_vcpu_events ev;

	if (ioctl(nvmm_x86_cpu(cpu)->fd, KVM_GET_VCPU_EVENTS, &ev) == -1)
		return false;
	return !ev.nmi.masked && !ev.nmi.injected && !ev.nmi.pending;
}

/*
 * Everything the emulator left for this run: the pending access, state
 * commits, an event.  Returns EAGAIN when finishing the access brought a
 * further one, which is then the exit of this run.
 */
static int
nvmm_x86_run_prepare(struct nvmm_cpu *cpu)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	struct nvmm_comm_page *comm = cpu->comm;
	bool handled = NVMM_READ_ONCE(cpu->access->handled) != 0;
	uint64_t commit = NVMM_READ_ONCE(comm->state_commit);
	bool event;
	int error;

	error = nvmm_read_bool_once(&comm->event_commit, &event);
	if (error)
		return error;
	if ((xcpu->pending == NVMM_X86_PENDING_IO ||
	    xcpu->pending == NVMM_X86_PENDING_MMIO) && handled &&
	    !(commit & NVMM_X64_STATE_ALL) && !event) {
		/* The common case: KVM finishes it as it enters the guest. */
		nvmm_x86_access_load(cpu);
		cpu->access->pending = 0;
		xcpu->pending = NVMM_X86_PENDING_NONE;
		return 0;
	}
	error = nvmm_x86_pending_complete(cpu, handled);
	if (error)
		return error;
	error = nvmm_x86_state_commit(cpu);
	if (error)
		return error;
	if (event)
		error = nvmm_x86_event_commit(cpu);
	return error;
}

int
nvmm_x86_vcpu_run(struct nvmm_machine *mach, struct nvmm_cpu *cpu,
    struct nvmm_vcpu_exit *exit)
{
	struct nvmm_x86_cpu *xcpu = nvmm_x86_cpu(cpu);
	struct nvmm_comm_page *comm = cpu->comm;
	int error;

	memset(exit, 0, sizeof(*exit));
	error = nvmm_x86_run_prepare(cpu);
	if (error == EAGAIN) {
		/* Finishing the last access brought the next: report it. */
		comm->state_cached = 0;
		(void)nvmm_x86_exit_translate(cpu, exit);
		goto out;
	}
	if (error)
		return EINVAL;
	comm->state_cached = 0;

	for (;;) {
		if (nvmm_cpu_doomed(mach, cpu))
			return ENOENT;
		if (__atomic_load_n(&comm->stop, __ATOMIC_SEQ_CST)) {
			exit->reason = NVMM_VCPU_EXIT_STOPPED;
			break;
		}
		if (xcpu->nmi_window_exiting && nvmm_x86_nmi_window_open(cpu)) {
			xcpu->nmi_window_exiting = false;
			exit->reason = NVMM_VCPU_EXIT_NMI_READY;
			break;
		}
		xcpu->run->request_interrupt_window = xcpu->int_window_exiting;
		error = nvmm_x86_kvm_run(cpu);
		if (error == EINTR || error == EAGAIN) {
			/* A signal or a kick: never an error, as NetBSD. */
			if (nvmm_cpu_doomed(mach, cpu))
				return ENOENT;
			if (__atomic_load_n(&comm->stop, __ATOMIC_SEQ_CST))
				exit->reason = NVMM_VCPU_EXIT_STOPPED;
			else
				exit->reason = NVMM_VCPU_EXIT_NONE;
			break;
		}
		if (error) {
			nvmm_x86_exit_invalid(cpu, exit, (uint64_t)error, error);
			break;
		}
		if (nvmm_x86_exit_translate(cpu, exit) == NVMM_X86_RETURN)
			break;
	}
out:
	nvmm_x86_exitstate(cpu, exit);
	return 0;
}
