/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmm_assist_io, nvmm_assist_mem: the data phase of IO and MMIO exits.
 *
 * NetBSD's libnvmm decodes and emulates the instruction itself.  Here KVM
 * has already decoded it and waits, in the daemon, for the data of each
 * access it makes; the daemon describes that access in the VCPU's access
 * page (proto/nvmm_slot.h) and caches in the comm page what the assist
 * needs: the GPRs for a plain IN or OUT, the mode too (SEGS, MSRS) for
 * MMIO, GPRS|SEGS|CRS|MSRS for string IO.
 * What is left to do in the client is what NetBSD's callbacks see: one
 * call per element, with the same structures and data.  KVM then finishes
 * the instruction (nvmmc_complete), which may need one more access of the
 * same instruction (read-modify-write, MOVS, INS/OUTS on MMIO); the access
 * page then describes that one, and the loop goes on.
 *
 * A plain IN or OUT, the most frequent exit of all, takes no round trip:
 * the cached registers are brought to what the instruction leaves, and the
 * daemon lets KVM finish it, with the same data, as the next run enters
 * the guest.  Nor does an MMIO write, which KVM reports already done, nor
 * a plain MMIO load into a register (nvmm_assist_load.c).
 *
 * The access page is shared memory: each header is read once into a local
 * copy, checked, and only the copy is used.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "nvmmc.h"
#include "nvmm_assist_load.h"

#define X86_EFER_LMA	0x400ULL

/* The widest element: an MMIO access of a 64-bit register. */
#define ASSIST_ELEM_MAX		8

/* Which assist is running, for its errno on an access it cannot serve. */
struct assist_ctx {
	struct nvmm_machine *mach;
	struct nvmm_vcpu *vcpu;
	struct nvmmc_vcpu *vc;
	int bad_errno;		/* EINVAL for IO, ENODEV for MMIO, as NetBSD */
};

/* -------------------------------------------------------------------------- */

/* The VCPU's pages, or NULL when the VCPU is not one of this machine's. */
static struct nvmmc_vcpu *
assist_vcpu(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu)
{
	struct nvmmc_vcpu *vc;

	if (mach == NULL || mach->areas == NULL || vcpu == NULL ||
	    vcpu->cpuid >= NVMM_MAX_VCPUS)
		return NULL;
	vc = nvmmc_vcpu(mach, vcpu);
	if (!vc->present || vc->comm == NULL || vc->access == NULL ||
	    vc->data == NULL)
		return NULL;
	return vc;
}

/* One read of the shared header; the daemon does not touch it meanwhile. */
static void
assist_access_read(const struct nvmm_kern_access *shared,
    struct nvmm_kern_access *acc)
{
	const volatile struct nvmm_kern_access *v = shared;

	acc->pending = v->pending;
	acc->handled = v->handled;
	acc->is_io = v->is_io;
	acc->write = v->write;
	acc->size = v->size;
	acc->count = v->count;
	acc->addr = v->addr;
}

/*
 * Whether the copy describes an access this library can serve: KVM makes
 * port accesses of 1, 2 or 4 bytes, possibly batched, and MMIO accesses
 * of 1 to 8 bytes, one at a time; the data must fit in the data page.
 */
static bool
assist_access_valid(const struct nvmm_kern_access *acc)
{
	if (!acc->pending || acc->count == 0)
		return false;
	if (acc->is_io) {
		if (acc->size != 1 && acc->size != 2 && acc->size != 4)
			return false;
		if (acc->addr > UINT16_MAX)
			return false;
	} else {
		if (acc->size < 1 || acc->size > ASSIST_ELEM_MAX)
			return false;
		if (acc->count != 1)
			return false;
	}
	/* In 64 bits: two 32-bit words from the page cannot overflow it. */
	return (uint64_t)acc->size * acc->count <= NVMM_KERN_ACCESS_DATA_MAX;
}

/*
 * Reads and checks the pending access.  is_io is what the caller expects
 * of it, or -1 for either kind (a later access of the same instruction:
 * INS and OUTS may touch MMIO after the port).
 */
static int
assist_access_get(const struct assist_ctx *ctx, int is_io,
    struct nvmm_kern_access *acc)
{
	assist_access_read(ctx->vc->access, acc);
	if (!assist_access_valid(acc))
		return ctx->bad_errno;
	if (is_io >= 0 && (acc->is_io != 0) != (is_io != 0))
		return ctx->bad_errno;
	return 0;
}

/* -------------------------------------------------------------------------- */

/* The callback of an access's kind, on buf. */
static void
assist_callback(const struct assist_ctx *ctx,
    const struct nvmm_kern_access *acc, uint8_t *buf)
{
	struct nvmm_io io;
	struct nvmm_mem mem;

	if (acc->is_io) {
		io.mach = ctx->mach;
		io.vcpu = ctx->vcpu;
		io.port = (uint16_t)acc->addr;
		io.in = !acc->write;
		io.size = acc->size;
		io.data = buf;
		ctx->vcpu->cbs.io(&io);
	} else {
		mem.mach = ctx->mach;
		mem.vcpu = ctx->vcpu;
		mem.gpa = acc->addr;
		mem.write = acc->write != 0;
		mem.size = acc->size;
		mem.data = buf;
		ctx->vcpu->cbs.mem(&mem);
	}
}

/*
 * One element through the callback.  The callback works on a buffer of
 * ours, as NetBSD's does, so that a callback that writes more than
 * `size' bytes cannot reach past the data page into the next VCPU's.
 */
static void
assist_elem(const struct assist_ctx *ctx, const struct nvmm_kern_access *acc,
    uint8_t *elem)
{
	uint8_t buf[ASSIST_ELEM_MAX];

	memset(buf, 0, sizeof(buf));
	if (acc->write)
		memcpy(buf, elem, acc->size);
	assist_callback(ctx, acc, buf);
	if (!acc->write)
		memcpy(elem, buf, acc->size);
}

/*
 * The data phase of one access: the callback once per element, in order,
 * OUT/write data taken from the data page and IN/read data left there.
 */
static int
assist_data_phase(const struct assist_ctx *ctx,
    const struct nvmm_kern_access *acc)
{
	uint32_t i;

	/* Checked per access: a later one may be of the other kind. */
	if (acc->is_io ? ctx->vcpu->cbs.io == NULL :
	    ctx->vcpu->cbs.mem == NULL)
		return EINVAL;
	for (i = 0; i < acc->count; i++)
		assist_elem(ctx, acc, ctx->vc->data + (size_t)i * acc->size);
	/* The data must be in place before the daemon can see `handled'. */
	__atomic_store_n(&ctx->vc->access->handled, 1, __ATOMIC_RELEASE);
	return 0;
}

/*
 * The general path: the first access is in `acc'; hand each access to KVM
 * until it says the instruction is done.  The comm page then shows it
 * done, with its state cached, as NetBSD's assists leave it.
 */
static int
assist_loop(const struct assist_ctx *ctx, struct nvmm_kern_access *acc)
{
	bool done;
	int error;

	for (;;) {
		error = assist_data_phase(ctx, acc);
		if (error)
			return error;
		error = nvmmc_complete(ctx->mach, ctx->vcpu, &done);
		if (error)
			return error;
		if (done)
			return 0;
		error = assist_access_get(ctx, -1, acc);
		if (error)
			return error;
	}
}

/* -------------------------------------------------------------------------- */

/* RAX after an IN: 8 and 16 bits merge into it, 32 bits zero-extend. */
static uint64_t
assist_in_rax(uint64_t rax, const uint8_t *data, uint32_t size)
{
	uint64_t val = 0;

	memcpy(&val, data, size);
	switch (size) {
	case 1:
		return (rax & ~(uint64_t)0xFF) | val;
	case 2:
		return (rax & ~(uint64_t)0xFFFF) | val;
	default:
		return val;
	}
}

/*
 * A plain IN or OUT, without the round trip: after the data phase, the
 * cached GPRs are made to show the instruction done.  state_commit is
 * left alone on purpose: the daemon finishes KVM's instruction at the next
 * run with the data left in the data page, and KVM's registers then match
 * these; a commit would only cost it a register load.
 */
static int
assist_io_fast(const struct assist_ctx *ctx,
    const struct nvmm_kern_access *acc)
{
	struct nvmm_vcpu *vcpu = ctx->vcpu;
	uint64_t *gprs = vcpu->state->gprs;
	uint8_t data[4];
	int error;

	/*
	 * The daemon caches the GPRs with every IO exit; getstate is only
	 * for a page that lost them, and reads KVM without finishing it.
	 */
	if ((__atomic_load_n(&ctx->vc->comm->state_cached, __ATOMIC_ACQUIRE) &
	    NVMM_X64_STATE_GPRS) == 0 &&
	    nvmm_vcpu_getstate(ctx->mach, vcpu, NVMM_X64_STATE_GPRS) == -1)
		return errno;

	error = assist_data_phase(ctx, acc);
	if (error)
		return error;
	if (!acc->write) {
		memcpy(data, ctx->vc->data, acc->size);
		gprs[NVMM_X64_GPR_RAX] = assist_in_rax(gprs[NVMM_X64_GPR_RAX],
		    data, acc->size);
	}
	gprs[NVMM_X64_GPR_RIP] = vcpu->exit->u.io.npc;
	return 0;
}

/* The state a load needs, already cached by the MEMORY exit. */
#define ASSIST_LOAD_STATE \
	(NVMM_X64_STATE_GPRS | NVMM_X64_STATE_SEGS | NVMM_X64_STATE_MSRS)

/* The load at RIP, if it is one nvmm_assist_load.c finishes. */
static bool
assist_load_find(const struct assist_ctx *ctx,
    const struct nvmm_kern_access *acc, struct assist_load *ld)
{
	const struct nvmm_x64_state *state = ctx->vcpu->state;
	const struct nvmm_x86_exit_memory *mem = &ctx->vcpu->exit->u.mem;
	const struct nvmm_x64_state_seg *cs = &state->segs[NVMM_X64_SEG_CS];
	enum assist_load_mode mode;
	uint64_t cached;

	cached = __atomic_load_n(&ctx->vc->comm->state_cached,
	    __ATOMIC_ACQUIRE);
	if ((cached & ASSIST_LOAD_STATE) != ASSIST_LOAD_STATE ||
	    mem->inst_len == 0 || mem->inst_len > sizeof(mem->inst_bytes))
		return false;
	if ((state->msrs[NVMM_X64_MSR_EFER] & X86_EFER_LMA) && cs->attrib.l)
		mode = ASSIST_LOAD_64;
	else
		mode = cs->attrib.def ? ASSIST_LOAD_32 : ASSIST_LOAD_16;
	return assist_load_decode(mem->inst_bytes, mem->inst_len, mode, ld) &&
	    ld->src_size == acc->size;
}

/*
 * A plain MMIO load, as a plain IN: the cached GPRs show it done, and the
 * daemon hands KVM the data as the next run enters.
 */
static int
assist_load_fast(const struct assist_ctx *ctx,
    const struct nvmm_kern_access *acc, const struct assist_load *ld)
{
	uint64_t *gprs = ctx->vcpu->state->gprs;
	uint8_t data[ASSIST_ELEM_MAX];
	int error;

	error = assist_data_phase(ctx, acc);
	if (error)
		return error;
	memcpy(data, ctx->vc->data, acc->size);
	gprs[ld->reg] = assist_load_apply(gprs[ld->reg], ld, data);
	gprs[NVMM_X64_GPR_RIP] += ld->len;
	return 0;
}

/* -------------------------------------------------------------------------- */

/*
 * What both assists check first: a VCPU of this process, stopped on the
 * exit of the assist's kind with its callback set, and the access that
 * the exit left, in *acc.  bad_errno: what a bad access is (NetBSD's).
 */
static int
assist_begin(struct assist_ctx *ctx, struct nvmm_machine *mach,
    struct nvmm_vcpu *vcpu, bool is_io, int bad_errno,
    struct nvmm_kern_access *acc)
{
	ctx->mach = mach;
	ctx->vcpu = vcpu;
	ctx->bad_errno = bad_errno;
	ctx->vc = assist_vcpu(mach, vcpu);
	if (ctx->vc == NULL)
		return EINVAL;
	if (vcpu->exit->reason != (is_io ? NVMM_VCPU_EXIT_IO :
	    NVMM_VCPU_EXIT_MEMORY) ||
	    (is_io ? vcpu->cbs.io == NULL : vcpu->cbs.mem == NULL))
		return EINVAL;
	return assist_access_get(ctx, is_io, acc);
}

int
nvmm_assist_io(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu)
{
	struct nvmm_kern_access acc;
	struct assist_ctx ctx;
	const struct nvmm_x86_exit_io *io;
	int error;

	error = assist_begin(&ctx, mach, vcpu, true, EINVAL, &acc);
	if (error)
		return nvmmc_result(error);
	io = &vcpu->exit->u.io;
	/* The access must be the one the exit reports. */
	if (acc.addr != io->port || (acc.write == 0) != io->in)
		return nvmmc_result(EINVAL);
	if (!io->str && acc.count == 1)
		error = assist_io_fast(&ctx, &acc);
	else
		error = assist_loop(&ctx, &acc);
	return nvmmc_result(error);
}

int
nvmm_assist_mem(struct nvmm_machine *mach, struct nvmm_vcpu *vcpu)
{
	struct nvmm_kern_access acc;
	struct assist_ctx ctx;
	struct assist_load ld;
	int error;

	/* Nothing pending: KVM could not describe the access to us. */
	error = assist_begin(&ctx, mach, vcpu, false, ENODEV, &acc);
	if (error)
		return nvmmc_result(error);
	/*
	 * An instruction whose first MMIO access is a write has no read left
	 * to make: KVM finished it before the exit, the cached state already
	 * shows it done, and the daemon hands KVM the data as the next run
	 * enters, as for a plain OUT.  This saves a round trip to the daemon
	 * per write, the most frequent MMIO exit (a VGA text write is one).
	 */
	if (acc.write && acc.count == 1)
		error = assist_data_phase(&ctx, &acc);
	else if (!acc.write && acc.count == 1 &&
	    assist_load_find(&ctx, &acc, &ld))
		error = assist_load_fast(&ctx, &acc, &ld);
	else
		error = assist_loop(&ctx, &acc);
	return nvmmc_result(error);
}
