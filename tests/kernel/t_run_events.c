/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * kernel/ with real guests: events (the ones NetBSD refuses, interrupts
 * and the interrupt window; an exception with its error code is
 * tests/guest/t_run's), stop and kicks from other threads, triple
 * faults, memory protection and remapping, and eight VCPUs running at
 * once.
 */
#include <sys/mman.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "h_vm.h"

TVM_GUEST(excp);
extern const uint8_t guest_intr_handler[];
TVM_GUEST(nmi);
TVM_GUEST(tpr);
extern const uint8_t guest_nmi_handler[];
TVM_GUEST(intr);
TVM_GUEST(spin);
TVM_GUEST(ud2);
TVM_GUEST(count);
TVM_GUEST(poke);

static void
idt_gate(struct tvm *vm, unsigned vector, uint64_t handler)
{
	ATF_REQUIRE(hlm_idt_gate(vm->ram, vm->ramsize, vector, handler) == 0);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* -------------------------------------------------------------------------- */

ATF_TC(event_invalid);
ATF_TC_HEAD(event_invalid, tc)
{
	atf_tc_set_md_var(tc, "descr", "Events NetBSD refuses make the run "
	    "fail with EINVAL: exception vectors 0, 2, 3, >= 32, bad type");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(event_invalid, tc)
{
	static const struct {
		unsigned type;
		uint8_t vector;
	} bad[] = {
		{ NVMM_VCPU_EVENT_EXCP, 0 },
		{ NVMM_VCPU_EVENT_EXCP, 2 },
		{ NVMM_VCPU_EVENT_EXCP, 3 },
		{ NVMM_VCPU_EVENT_EXCP, 32 },
		{ NVMM_VCPU_EVENT_EXCP, 200 },
		{ 2, 13 },
		{ 0xFFFF, 13 },
	};
	struct tvcpu vcpu;
	struct tvm vm;
	size_t i;

	tvm_setup_guest(&vm, &vcpu, guest_excp_begin, guest_excp_end);
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tvm_inject(&vcpu, bad[i].type, bad[i].vector, 0);
		ATF_CHECK_EQ_MSG(tvm_run(&vcpu), EINVAL, "type %u vector %u",
		    bad[i].type, bad[i].vector);
	}
	/* The VCPU is still usable afterwards. */
	ATF_CHECK_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	tvm_destroy(&vm);
}

/*
 * The guest reports with interrupts off, then enables them and spins.
 * With the window armed, the run returns INT_READY once IF is set; the
 * interrupt then injected reaches the handler.
 */
ATF_TC(interrupt_window);
ATF_TC_HEAD(interrupt_window, tc)
{
	atf_tc_set_md_var(tc, "descr", "INT_READY comes when the guest sets "
	    "IF; an INTR injected then is taken by the guest's handler");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(interrupt_window, tc)
{
	struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;
	struct tdev dev;
	uint64_t reason;

	memset(&dev, 0, sizeof(dev));
	tvm_setup_guest(&vm, &vcpu, guest_intr_begin, guest_intr_end);
	idt_gate(&vm, 0x20, TVM_GUEST_ADDR(intr, guest_intr_handler));

	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_IO);
	ATF_REQUIRE_EQ(vcpu.exit.u.io.port, 0x72);
	ATF_CHECK_EQ(vcpu.exit.exitstate.rflags & 0x200, 0);
	tvm_assist(&vcpu, tdev_access, &dev);

	st = tvm_getstate(&vcpu, NVMM_X64_STATE_INTR);
	st->intr.int_window_exiting = 1;
	tvm_setstate(&vcpu, NVMM_X64_STATE_INTR);
	do
		reason = tvm_run_reason(&vcpu);
	while (reason == NVMM_VCPU_EXIT_NONE);
	ATF_REQUIRE_EQ(reason, NVMM_VCPU_EXIT_INT_READY);
	ATF_CHECK(vcpu.exit.exitstate.rflags & 0x200);
	ATF_CHECK_EQ(vcpu.exit.exitstate.int_window_exiting, 0);

	tvm_inject(&vcpu, NVMM_VCPU_EVENT_INTR, 0x20, 0);
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_IO);
	ATF_CHECK_EQ(vcpu.exit.u.io.port, 0x71);
	tvm_destroy(&vm);
}

/* An interrupt injected while IF is clear waits until the guest sets it. */
ATF_TC(interrupt_held_until_if);
ATF_TC_HEAD(interrupt_held_until_if, tc)
{
	atf_tc_set_md_var(tc, "descr", "An INTR injected with IF clear is "
	    "pending (evt_pending) and is taken only after STI");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(interrupt_held_until_if, tc)
{
	struct tvcpu vcpu;
	struct tvm vm;
	struct tdev dev;
	uint64_t reason;
	unsigned n;

	memset(&dev, 0, sizeof(dev));
	tvm_setup_guest(&vm, &vcpu, guest_intr_begin, guest_intr_end);
	idt_gate(&vm, 0x20, TVM_GUEST_ADDR(intr, guest_intr_handler));
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_IO);
	ATF_REQUIRE_EQ(vcpu.exit.u.io.port, 0x72);
	tvm_assist(&vcpu, tdev_access, &dev);

	tvm_inject(&vcpu, NVMM_VCPU_EVENT_INTR, 0x20, 0);
	for (n = 0; n < 16; n++) {
		reason = tvm_run_reason(&vcpu);
		if (reason != NVMM_VCPU_EXIT_NONE)
			break;
	}
	ATF_REQUIRE_EQ(reason, NVMM_VCPU_EXIT_IO);
	ATF_CHECK_EQ(vcpu.exit.u.io.port, 0x71);
	/* The handler ran with the STI behind it: the loop had finished. */
	ATF_CHECK_EQ(tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS)->
	    gprs[NVMM_X64_GPR_RCX] & 0xFFFFFFFF, 0);
	tvm_destroy(&vm);
}

ATF_TC(nmi);
ATF_TC_HEAD(nmi, tc)
{
	atf_tc_set_md_var(tc, "descr", "INTR vector 2 is an NMI: taken "
	    "through IDT vector 2 by a guest that keeps IF clear");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(nmi, tc)
{
	struct tvcpu vcpu;
	struct tvm vm;
	struct tdev dev;

	memset(&dev, 0, sizeof(dev));
	tvm_setup_guest(&vm, &vcpu, guest_nmi_begin, guest_nmi_end);
	idt_gate(&vm, 2, TVM_GUEST_ADDR(nmi, guest_nmi_handler));
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_IO);
	ATF_REQUIRE_EQ(vcpu.exit.u.io.port, 0x72);
	tvm_assist(&vcpu, tdev_access, &dev);
	tvm_inject(&vcpu, NVMM_VCPU_EVENT_INTR, 2, 0);
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_IO);
	ATF_CHECK_EQ(vcpu.exit.u.io.port, 0x71);
	ATF_CHECK_EQ(vcpu.exit.exitstate.rflags & 0x200, 0);
	tvm_destroy(&vm);
}

/* -------------------------------------------------------------------------- */

struct stopper {
	struct tvcpu *vcpu;
	long delay_ms;
};

static void *
stopper_main(void *arg)
{
	struct stopper *s = arg;

	sleep_ms(s->delay_ms);
	__atomic_store_n(&s->vcpu->comm->stop, 1, __ATOMIC_SEQ_CST);
	nvmm_kern_vcpu_kick(s->vcpu->vm->owner, s->vcpu->vm->machid,
	    s->vcpu->cpuid);
	return NULL;
}

ATF_TC(stop_from_thread);
ATF_TC_HEAD(stop_from_thread, tc)
{
	atf_tc_set_md_var(tc, "descr", "comm->stop and a kick from another "
	    "thread make a spinning guest's run return EXIT_STOPPED");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(stop_from_thread, tc)
{
	struct stopper s;
	struct tvcpu vcpu;
	struct tvm vm;
	pthread_t t;
	int i;

	tvm_setup_guest(&vm, &vcpu, guest_spin_begin, guest_spin_end);
	for (i = 0; i < 5; i++) {
		s.vcpu = &vcpu;
		s.delay_ms = 20 + 10 * i;
		ATF_REQUIRE_EQ(pthread_create(&t, NULL, stopper_main, &s), 0);
		ATF_CHECK_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_STOPPED);
		pthread_join(t, NULL);
		/* Consumed by the return, as on NetBSD. */
		ATF_CHECK_EQ(vcpu.comm->stop, 0);
	}
	tvm_destroy(&vm);
}

ATF_TC(stop_before_run);
ATF_TC_HEAD(stop_before_run, tc)
{
	atf_tc_set_md_var(tc, "descr", "A stop set before the run makes it "
	    "return EXIT_STOPPED without running the guest");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(stop_before_run, tc)
{
	struct tvcpu vcpu;
	struct tvm vm;

	tvm_setup_guest(&vm, &vcpu, guest_count_begin, guest_count_end);
	vcpu.comm->stop = 1;
	ATF_CHECK_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_STOPPED);
	ATF_CHECK_EQ(vcpu.comm->stop, 0);
	ATF_CHECK_EQ(tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS)->
	    gprs[NVMM_X64_GPR_RIP], TVM_CODE_GPA);
	tvm_destroy(&vm);
}

static void *
kicker_main(void *arg)
{
	struct stopper *s = arg;

	sleep_ms(s->delay_ms);
	nvmm_kern_vcpu_kick(s->vcpu->vm->owner, s->vcpu->vm->machid,
	    s->vcpu->cpuid);
	return NULL;
}

ATF_TC(signal_is_exit_none);
ATF_TC_HEAD(signal_is_exit_none, tc)
{
	atf_tc_set_md_var(tc, "descr", "A kick without a stop is no error: "
	    "the run returns EXIT_NONE");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(signal_is_exit_none, tc)
{
	struct stopper s;
	struct tvcpu vcpu;
	struct tvm vm;
	pthread_t t;

	tvm_setup_guest(&vm, &vcpu, guest_spin_begin, guest_spin_end);
	s.vcpu = &vcpu;
	s.delay_ms = 20;
	ATF_REQUIRE_EQ(pthread_create(&t, NULL, kicker_main, &s), 0);
	ATF_CHECK_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_NONE);
	pthread_join(t, NULL);
	tvm_destroy(&vm);
}

struct killer {
	struct tvm *vm;
	int error;
};

static void *
killer_main(void *arg)
{
	struct killer *k = arg;

	sleep_ms(30);
	k->error = nvmm_kern_machine_destroy(k->vm->owner, k->vm->machid);
	return NULL;
}

ATF_TC(destroy_while_running);
ATF_TC_HEAD(destroy_while_running, tc)
{
	atf_tc_set_md_var(tc, "descr", "Destroying a machine whose VCPU runs "
	    "makes the run return ENOENT at once and frees the machine");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(destroy_while_running, tc)
{
	struct nvmm_ctl_mach_info info;
	struct killer k;
	struct tvcpu vcpu;
	struct tvm vm;
	pthread_t t;

	tvm_setup_guest(&vm, &vcpu, guest_spin_begin, guest_spin_end);
	k.vm = &vm;
	ATF_REQUIRE_EQ(pthread_create(&t, NULL, killer_main, &k), 0);
	ATF_CHECK_EQ(tvm_run(&vcpu), ENOENT);
	pthread_join(t, NULL);
	ATF_CHECK_EQ(k.error, 0);
	memset(&info, 0, sizeof(info));
	info.machid = vm.machid;
	ATF_CHECK_EQ(nvmm_kern_ctl(vm.owner, NVMM_CTL_MACH_INFO, &info,
	    sizeof(info)), ENOENT);
	tvm_destroy(&vm);
}

/* -------------------------------------------------------------------------- */

ATF_TC(triple_fault);
ATF_TC_HEAD(triple_fault, tc)
{
	atf_tc_set_md_var(tc, "descr", "#UD with an empty IDT escalates to a "
	    "triple fault: EXIT_SHUTDOWN");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(triple_fault, tc)
{
	struct nvmm_x64_state *st;
	struct tvcpu vcpu;
	struct tvm vm;

	tvm_setup_guest(&vm, &vcpu, guest_ud2_begin, guest_ud2_end);
	st = tvm_getstate(&vcpu, NVMM_X64_STATE_SEGS);
	st->segs[NVMM_X64_SEG_IDT].limit = 0;
	tvm_setstate(&vcpu, NVMM_X64_STATE_SEGS);
	ATF_CHECK_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_SHUTDOWN);
	tvm_destroy(&vm);
}

ATF_TC(halt_rip_past);
ATF_TC_HEAD(halt_rip_past, tc)
{
	atf_tc_set_md_var(tc, "descr", "EXIT_HALTED has RIP past the HLT");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(halt_rip_past, tc)
{
	struct tvcpu vcpu;
	struct tvm vm;

	tvm_setup_guest(&vm, &vcpu, guest_excp_begin, guest_excp_end);
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS)->
	    gprs[NVMM_X64_GPR_RIP], TVM_CODE_GPA + 1);
	tvm_destroy(&vm);
}

/* -------------------------------------------------------------------------- */

static int
map_page(struct tvm *vm, int prot, gpaddr_t gpa, uint8_t **pagep)
{
	uint8_t *page;
	int fd;

	fd = tvm_memfd(0x1000);
	page = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ATF_REQUIRE(page != MAP_FAILED);
	ATF_REQUIRE_EQ(nvmm_kern_hva_map(vm->owner, vm->machid,
	    (uintptr_t)page, 0x1000, fd, 0), 0);
	ATF_REQUIRE_EQ(nvmm_kern_gpa_map(vm->owner, vm->machid,
	    (uintptr_t)page, gpa, 0x1000, prot), 0);
	*pagep = page;
	return fd;
}

static void
poke(struct tvcpu *vcpu, uint64_t addr, uint64_t value)
{
	struct nvmm_x64_state *st;

	st = tvm_getstate(vcpu, NVMM_X64_STATE_GPRS);
	st->gprs[NVMM_X64_GPR_RIP] = TVM_CODE_GPA;
	st->gprs[NVMM_X64_GPR_RAX] = value;
	st->gprs[NVMM_X64_GPR_RBX] = addr;
	tvm_setstate(vcpu, NVMM_X64_STATE_GPRS);
}

ATF_TC(readonly_mapping);
ATF_TC_HEAD(readonly_mapping, tc)
{
	atf_tc_set_md_var(tc, "descr", "A guest write to a mapping without "
	    "PROT_WRITE is a MEMORY exit with prot PROT_WRITE; reads work");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(readonly_mapping, tc)
{
	const uint64_t gpa = 0x200000;
	struct tvcpu vcpu;
	struct tvm vm;
	struct tdev dev;
	uint8_t *page;
	int fd;

	memset(&dev, 0, sizeof(dev));
	tvm_setup_guest(&vm, &vcpu, guest_poke_begin, guest_poke_end);
	fd = map_page(&vm, PROT_READ | PROT_EXEC, gpa, &page);
	memcpy(page, "readonly", 8);
	poke(&vcpu, gpa, 0x4242);

	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_MEMORY);
	ATF_CHECK_EQ(vcpu.exit.u.mem.gpa, gpa);
	ATF_CHECK_EQ(vcpu.exit.u.mem.prot, PROT_WRITE);
	ATF_REQUIRE(vcpu.access->pending);
	ATF_CHECK(vcpu.access->write);
	ATF_CHECK_EQ(vcpu.access->size, 8);
	ATF_REQUIRE_EQ(nvmm_kern_vcpu_complete(vm.owner, vm.machid, 0,
	    &(bool){ false }), 0);
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK(memcmp(page, "readonly", 8) == 0);
	ATF_CHECK(memcmp(&tvm_getstate(&vcpu, NVMM_X64_STATE_GPRS)->
	    gprs[NVMM_X64_GPR_RDX], "readonly", 8) == 0);
	tvm_destroy(&vm);
	close(fd);
}

ATF_TC(remap_replaces);
ATF_TC_HEAD(remap_replaces, tc)
{
	atf_tc_set_md_var(tc, "descr", "A GPA mapping over another replaces "
	    "it for the guest; unmapping makes accesses exit");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(remap_replaces, tc)
{
	const uint64_t gpa = 0x300000, rwx = PROT_READ | PROT_WRITE | PROT_EXEC;
	struct tvcpu vcpu;
	struct tvm vm;
	uint8_t *a, *b;
	uint64_t v;
	int fa, fb;

	tvm_setup_guest(&vm, &vcpu, guest_poke_begin, guest_poke_end);
	fa = map_page(&vm, (int)rwx, gpa, &a);
	poke(&vcpu, gpa + 8, 0x1111);
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	memcpy(&v, a + 8, 8);
	ATF_CHECK_EQ(v, 0x1111);

	fb = map_page(&vm, (int)rwx, gpa, &b);
	poke(&vcpu, gpa + 8, 0x2222);
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	memcpy(&v, b + 8, 8);
	ATF_CHECK_EQ(v, 0x2222);
	memcpy(&v, a + 8, 8);
	ATF_CHECK_EQ(v, 0x1111);

	ATF_REQUIRE_EQ(nvmm_kern_gpa_unmap(vm.owner, vm.machid, gpa, 0x1000),
	    0);
	poke(&vcpu, gpa + 8, 0x3333);
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_MEMORY);
	ATF_CHECK_EQ(vcpu.exit.u.mem.gpa, gpa + 8);
	tvm_destroy(&vm);
	close(fa);
	close(fb);
}

/* -------------------------------------------------------------------------- */

#define NCPUS 8

struct runner {
	struct tvcpu vcpu;
	uint64_t reported;
	uint64_t last_reason;
	int error;
};

static void *
runner_main(void *arg)
{
	struct runner *r = arg;
	uint64_t reason;
	bool done = false;
	int n;

	for (n = 0; n < 100 && r->error == 0; n++) {
		r->error = tvm_run(&r->vcpu);
		reason = r->vcpu.exit.reason;
		r->last_reason = reason;
		if (r->error != 0 || reason == NVMM_VCPU_EXIT_HALTED)
			break;
		if (reason == NVMM_VCPU_EXIT_IO) {
			memcpy(&r->reported, r->vcpu.data, 4);
			r->vcpu.access->handled = 1;
			r->error = nvmm_kern_vcpu_complete(r->vcpu.vm->owner,
			    r->vcpu.vm->machid, r->vcpu.cpuid, &done);
		}
	}
	return NULL;
}

ATF_TC(eight_vcpus);
ATF_TC_HEAD(eight_vcpus, tc)
{
	atf_tc_set_md_var(tc, "descr", "Eight VCPUs of one machine run at "
	    "once, each in its own thread, each with its own state");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(eight_vcpus, tc)
{
	static struct runner r[NCPUS];
	struct nvmm_ctl_mach_info info;
	struct nvmm_x64_state *st;
	pthread_t t[NCPUS];
	struct tvm vm;
	int i;

	tvm_create(&vm, TVM_RAM_SIZE);
	tvm_load(&vm, TVM_CODE_GPA, guest_count_begin, guest_count_end);
	for (i = 0; i < NCPUS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		tvm_vcpu_create(&vm, (nvmm_cpuid_t)i, &r[i].vcpu);
		tvm_setup_longmode(&r[i].vcpu, TVM_CODE_GPA);
		st = tvm_getstate(&r[i].vcpu, NVMM_X64_STATE_GPRS);
		st->gprs[NVMM_X64_GPR_RAX] = 0xC0DE0000 + (uint64_t)i;
		st->gprs[NVMM_X64_GPR_RCX] = 300 + 50 * (uint64_t)i;
		tvm_setstate(&r[i].vcpu, NVMM_X64_STATE_GPRS);
	}
	memset(&info, 0, sizeof(info));
	info.machid = vm.machid;
	ATF_REQUIRE_EQ(nvmm_kern_ctl(vm.owner, NVMM_CTL_MACH_INFO, &info,
	    sizeof(info)), 0);
	ATF_CHECK_EQ(info.nvcpus, NCPUS);

	for (i = 0; i < NCPUS; i++)
		ATF_REQUIRE_EQ(pthread_create(&t[i], NULL, runner_main, &r[i]),
		    0);
	for (i = 0; i < NCPUS; i++) {
		pthread_join(t[i], NULL);
		ATF_CHECK_EQ_MSG(r[i].error, 0, "vcpu %d: %d", i, r[i].error);
		ATF_CHECK_EQ_MSG(r[i].last_reason, NVMM_VCPU_EXIT_HALTED,
		    "vcpu %d: last exit %#jx", i, (uintmax_t)r[i].last_reason);
		ATF_CHECK_EQ(r[i].reported, 0xC0DE0000 + (uint64_t)i);
	}
	tvm_destroy(&vm);
}

/*
 * NVMM exits on every CR8 write; KVM reports at most a lowered TPR, and
 * this host not even that.  The TPR configuration is refused rather than
 * accepted and never honoured, and CR8 writes stay in the guest.
 */
ATF_TC(tpr_refused);
ATF_TC_HEAD(tpr_refused, tc)
{
	atf_tc_set_md_var(tc, "descr", "NVMM_VCPU_CONF_TPR is not in the "
	    "capability and is refused; CR8 writes take effect in the guest");
	TVM_TC_NEEDS_KVM(tc);
}
ATF_TC_BODY(tpr_refused, tc)
{
	struct nvmm_vcpu_conf_tpr tpr = { .exit_changed = 1 };
	struct nvmm_capability cap;
	struct tvcpu vcpu;
	struct tvm vm;

	tvm_setup_guest(&vm, &vcpu, guest_tpr_begin, guest_tpr_end);
	ATF_REQUIRE_EQ(nvmm_kern_capability(vm.owner, &cap), 0);
	ATF_CHECK_EQ(cap.arch.vcpu_conf_support & NVMM_CAP_ARCH_VCPU_CONF_TPR,
	    0);
	ATF_CHECK_EQ(nvmm_kern_vcpu_configure(vm.owner, vm.machid, 0,
	    NVMM_VCPU_CONF_TPR, &tpr), EINVAL);
	ATF_REQUIRE_EQ(tvm_run_reason(&vcpu), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(vcpu.exit.exitstate.cr8, 2);
	ATF_CHECK_EQ(tvm_getstate(&vcpu, NVMM_X64_STATE_CRS)->
	    crs[NVMM_X64_CR_CR8], 2);
	tvm_destroy(&vm);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, tpr_refused);
	ATF_TP_ADD_TC(tp, event_invalid);
	ATF_TP_ADD_TC(tp, interrupt_window);
	ATF_TP_ADD_TC(tp, interrupt_held_until_if);
	ATF_TP_ADD_TC(tp, nmi);
	ATF_TP_ADD_TC(tp, stop_from_thread);
	ATF_TP_ADD_TC(tp, stop_before_run);
	ATF_TP_ADD_TC(tp, signal_is_exit_none);
	ATF_TP_ADD_TC(tp, destroy_while_running);
	ATF_TP_ADD_TC(tp, triple_fault);
	ATF_TP_ADD_TC(tp, halt_rip_past);
	ATF_TP_ADD_TC(tp, readonly_mapping);
	ATF_TP_ADD_TC(tp, remap_replaces);
	ATF_TP_ADD_TC(tp, eight_vcpus);
	return atf_no_error();
}
