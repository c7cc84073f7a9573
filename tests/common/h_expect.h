/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * What the guests of tests/kernel/guests.S are expected to do, written
 * once for the two ways the tests run them: in-process against kernel/
 * (tests/kernel/h_vm) and through libnvmmclient and nvmmd
 * (tests/client/h_client), mostly by the scenarios of tests/guest that
 * h_backend runs both ways.  Both harnesses show an exit as a struct
 * nvmm_vcpu_exit and the state as a struct nvmm_x64_state, and both
 * device models log OUTs and MMIO writes as struct hx_write, so the
 * checks here take those and nothing of either harness: each harness
 * runs the guest and fetches the state its own way, and passes them in.
 *
 * The checks fail the test case the ATF way (ATF_CHECK, ATF_REQUIRE):
 * they are for the test's main thread.
 */
#ifndef H_EXPECT_H
#define H_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvmm.h>
#include "h_longmode.h"		/* TVM_GUEST, TVM_MMIO_GPA */

/* The guests whose expectations are here. */
TVM_GUEST(io);
TVM_GUEST(repio);
TVM_GUEST(mmio);
TVM_GUEST(msr);
TVM_GUEST(poke);
TVM_GUEST(outtwice);
TVM_GUEST(assist);
TVM_GUEST(ioassist);

/* -------------------------------------------------------------------------- */

/*
 * One OUT or MMIO write as the device models log it, in order.  The
 * log-keeping is here too, since it is the same for both models and the
 * checks below read the log.
 */
struct hx_write {
	bool is_io;
	uint64_t addr;		/* port or GPA */
	uint64_t value;		/* the data, little-endian, zero-extended */
	size_t size;
};

/*
 * Appends a write of size (at most 8) bytes to log, which holds *nlog
 * of max entries; false, and nothing logged, when it is full.  No ATF:
 * the client's device callbacks may run on any thread.
 */
bool	hx_log_write(struct hx_write *log, size_t *nlog, size_t max,
	    bool is_io, uint64_t addr, const uint8_t *data, size_t size);
/* The index-th write to addr (0 first), required to exist. */
const struct hx_write *hx_find_write(const struct hx_write *log, size_t nlog,
	    uint64_t addr, size_t index);
/* How many writes to addr are logged. */
size_t	hx_count_writes(const struct hx_write *log, size_t nlog,
	    uint64_t addr);

/* -------------------------------------------------------------------------- */

/*
 * guest_io: the IO instructions it makes, in order, with their lengths.
 * IN data is the port number plus the byte index, as the device models
 * give it.
 */
struct hx_io {
	uint16_t port;
	bool in;
	uint8_t size;
	uint8_t len;
	uint64_t value;		/* OUT data */
};

#define HX_NIO		12
#define HX_NIO_OUT	6	/* the OUTs come first */

extern const struct hx_io hx_io_expected[HX_NIO];

/*
 * Checks exit, the i-th of guest_io, against the table; st is the state
 * at that exit (the GPRs at least).
 */
void	hx_check_io_exit(const struct nvmm_vcpu_exit *exit,
	    const struct nvmm_x64_state *st, size_t i);
/*
 * The data phase of exit, the i-th of guest_io, as an emulator without
 * the assists does it, in st's GPRs: RAX for an IN, and RIP = npc.  The
 * caller commits NVMM_X64_STATE_GPRS.
 */
void	hx_io_emulate(const struct nvmm_vcpu_exit *exit,
	    struct nvmm_x64_state *st, size_t i);
/* The OUTs' data in the device log, once guest_io has halted. */
void	hx_check_io_writes(const struct hx_write *log, size_t nlog);
/* The INs' results in the GPRs (and RIP), once guest_io has halted. */
void	hx_check_io_results(const struct nvmm_x64_state *st);

/* -------------------------------------------------------------------------- */

/*
 * guest_repio: the data for its OUTS in ram, the host view of guest RAM
 * from GPA 0, and a filler byte (0xEE) where its INS store.
 */
void	hx_repio_fill(uint8_t *ram);
/* The OUTS data in the device log, once guest_repio has halted. */
void	hx_check_repio_writes(const struct hx_write *log, size_t nlog);
/* The INS data in ram, and RCX, RSI and RDI, once it has halted. */
void	hx_check_repio_results(const uint8_t *ram,
	    const struct nvmm_x64_state *st);

/* -------------------------------------------------------------------------- */

/* guest_mmio: its device's HX_MMIO_SIZE bytes at TVM_MMIO_GPA. */
#define HX_MMIO_SIZE	256

/* What the guest reads, in the device's MMIO array. */
void	hx_mmio_fill(uint8_t *mmio);
/* Requires exit to be a MEMORY exit, and checks it is a read or write. */
void	hx_check_mmio_exit(const struct nvmm_vcpu_exit *exit);
/* The device's MMIO array and the GPRs, once guest_mmio has halted. */
void	hx_check_mmio_results(const uint8_t *mmio,
	    const struct nvmm_x64_state *st);

/* -------------------------------------------------------------------------- */

/*
 * guest_msr, as an emulator handles the MSRs NVMM leaves to it: checks
 * the RDMSR exit and emulates it in st's GPRs (RAX, RDX, RIP = npc); then
 * the WRMSR exit, moving RIP to npc.  st is the state at the exit, and
 * the caller commits NVMM_X64_STATE_GPRS.
 */
void	hx_msr_rdmsr(const struct nvmm_vcpu_exit *exit,
	    struct nvmm_x64_state *st);
void	hx_msr_wrmsr(const struct nvmm_vcpu_exit *exit,
	    struct nvmm_x64_state *st);
/* The GPRs and STAR (NVMM_X64_STATE_MSRS too), once it has halted. */
void	hx_check_msr_results(const struct nvmm_x64_state *st);

/* -------------------------------------------------------------------------- */

/*
 * guest_poke (mov %rax,(%rbx); mov (%rbx),%rdx; hlt) on a page mapped
 * with prot at TVM_MMIO_GPA, where the device answers what exits.
 * hx_poke_setup fills the page and st's GPRs (the caller commits
 * NVMM_X64_STATE_GPRS); the guest then makes hx_poke_nexits(prot) MEMORY
 * exits, the write first, each to be checked and assisted; the results
 * once it has halted, st holding the GPRs and log the device's writes.
 */
void	hx_poke_setup(uint64_t *page, struct nvmm_x64_state *st);
unsigned hx_poke_nexits(int prot);
void	hx_check_poke_exit(const struct nvmm_vcpu_exit *exit, int prot,
	    unsigned k);
void	hx_check_poke_results(int prot, const struct nvmm_x64_state *st,
	    const uint64_t *page, const struct hx_write *log, size_t nlog);

/* -------------------------------------------------------------------------- */

/*
 * guest_outtwice: the same OUT of AL (0x5A) to port 0x90 twice in a row,
 * the first HX_OUTTWICE_FIRST bytes in.  Checks exit, the k-th OUT (0 or
 * 1), and st, the state at it: RIP on that OUT and npc after it.
 */
#define HX_OUTTWICE_FIRST	2

void	hx_check_outtwice_exit(const struct nvmm_vcpu_exit *exit,
	    const struct nvmm_x64_state *st, unsigned k);

/* -------------------------------------------------------------------------- */

/*
 * guest_assist, in the style of NetBSD's h_mem_assist: every instruction
 * form the mem assists claim, on the device at TVM_MMIO_GPA (its memory
 * starting zero), each result stored in a slot of a data page mapped
 * PROT_READ|PROT_WRITE at HX_ASSIST_DATA_GPA (the page tables stay in
 * RWX RAM).  The host's view of the slots, once it has halted.
 */
#define HX_ASSIST_DATA_GPA	0x500000ULL
#define HX_ASSIST_NSLOTS	35

void	hx_check_assist_slots(const uint64_t *slots);

/* -------------------------------------------------------------------------- */

/*
 * guest_ioassist, in the style of NetBSD's h_io_assist.  Its data in
 * ram, the host view of guest RAM from GPA 0; FS based at HX_IOASSIST_FS
 * in st (the caller commits NVMM_X64_STATE_SEGS).
 */
#define HX_IOASSIST_FS		0x100

void	hx_ioassist_fill(uint8_t *ram, struct nvmm_x64_state *st);
/*
 * Checks exit, an IO exit of guest_ioassist, against the instruction of
 * its port, st being the state at it (RIP on the instruction), and
 * counts it in seen (HX_IOASSIST_NPORTS, zeroed first).
 */
#define HX_IOASSIST_NPORTS	6

void	hx_check_ioassist_exit(const struct nvmm_vcpu_exit *exit,
	    const struct nvmm_x64_state *st, unsigned *seen);
/* The data the device got and the guest stored, once it has halted. */
void	hx_check_ioassist_results(const struct hx_write *log, size_t nlog,
	    const uint8_t *ram, const struct nvmm_x64_state *st,
	    const unsigned *seen);

#endif /* H_EXPECT_H */
