/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The rest of libnvmmclient's public API through a private nvmmd per test
 * case, beside the guest scenarios of t_run: a session that outlives a
 * pause, the page walk, gpa_to_hva and the dump; the errno values the
 * library promises; and NVMM_CTL_MACH_INFO of the program's own machine.
 */
#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "h_client.h"
#include "h_daemon.h"

TVM_GUEST(excp);
extern const uint8_t guest_excp_handler[];
TVM_GUEST(tpr);
TVM_GUEST(poke);

/* -------------------------------------------------------------------------- */

/*
 * An emulator's connection lasts as long as its guest: a program that
 * leaves its machine alone for a while (the guest halted, waiting for an
 * event) finds it there afterwards, past any deadline the daemon keeps
 * for peers that have not said hello yet.  The wait is a sleep, not a
 * guest running: it costs no CPU.
 */
HC_DAEMON_TC(session_outlives_seconds, "A machine left alone for 11 s after "
    "a run is still there and still runs: the connection is not closed")
ATF_TC_BODY(session_outlives_seconds, tc)
{
	struct nvmm_ctl_mach_info info;
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	pid_t pid;

	pid = hc_start_daemon();
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest_excp_begin, guest_excp_end);
	hc_idt_gate(&vm, 13, TVM_GUEST_ADDR(excp, guest_excp_handler));
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);

	hc_sleep_ms(11000);
	memset(&info, 0, sizeof(info));
	info.machid = vm.mach.machid;
	HC_REQUIRE_OK(nvmm_ctl(NVMM_CTL_MACH_INFO, &info, sizeof(info)));
	ATF_CHECK_EQ(info.nvcpus, 1);
	hc_inject(&hv, NVMM_VCPU_EVENT_EXCP, 13, 0x4321);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_IO);
	hc_assist(&hv);
	ATF_CHECK_EQ(hc_dev_find(&dev, 0x70, 0)->value, 0x4321);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

static void
check_gva(struct hc_vcpu *hv, gvaddr_t gva, const char *when)
{
	const nvmm_prot_t rwx = NVMM_PROT_READ | NVMM_PROT_WRITE |
	    NVMM_PROT_EXEC;
	gpaddr_t gpa = 0xBAD;
	nvmm_prot_t prot = 0;

	HC_REQUIRE_OK(nvmm_gva_to_gpa(&hv->vm->mach, &hv->vcpu, gva, &gpa,
	    &prot));
	ATF_CHECK_EQ_MSG(gpa, gva, "%s: gva %#jx -> gpa %#jx", when,
	    (uintmax_t)gva, (uintmax_t)gpa);
	/* Supervisor pages: no USER right. */
	ATF_CHECK_EQ_MSG(prot, rwx, "%s: gva %#jx prot %#jx", when,
	    (uintmax_t)gva, (uintmax_t)prot);
}

static void
check_gva_fault(struct hc_vcpu *hv, gvaddr_t gva)
{
	gpaddr_t gpa;
	nvmm_prot_t prot;

	HC_CHECK_ERRNO(EFAULT, nvmm_gva_to_gpa(&hv->vm->mach, &hv->vcpu, gva,
	    &gpa, &prot));
}

HC_DAEMON_TC(gva_to_gpa, "nvmm_gva_to_gpa walks the long-mode identity page "
    "tables: mapped addresses translate, unmapped ones are EFAULT")
ATF_TC_BODY(gva_to_gpa, tc)
{
	struct hc_machine vm;
	struct hc_vcpu hv;
	pid_t pid;

	pid = hc_start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_excp_begin, guest_excp_end);

	/* With the state set up but not yet run: as committed. */
	check_gva(&hv, TVM_CODE_GPA + 0x234, "before the run");

	/* After a run: the state comes from the VCPU. */
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	check_gva(&hv, TVM_CODE_GPA + 0x234, "after the run");
	check_gva(&hv, 0x123456, "after the run");
	/* Mapped by the tables though no RAM is there: the walk says so. */
	check_gva(&hv, TVM_MMIO_GPA + 0x10, "after the run");
	check_gva(&hv, TVM_PT_LIMIT - 1, "after the run");

	/* PDPT entry 1 is not present; nor is PML4 entry 256. */
	check_gva_fault(&hv, TVM_PT_LIMIT);
	check_gva_fault(&hv, TVM_PT_LIMIT + 0x5000);
	check_gva_fault(&hv, 0xFFFF800000001000ULL);
	/* Not canonical. */
	check_gva_fault(&hv, 0x0000800000000000ULL);

	/* The walk reads the guest's tables: unmapping PD entry 1 shows. */
	memset(vm.ram + TVM_PT_GPA + 0x2000 + 8, 0, 8);
	check_gva_fault(&hv, 0x200000 + 0x1234);
	check_gva(&hv, 0x1FFFFF, "after the PD change");
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

HC_DAEMON_TC(gpa_to_hva, "nvmm_gpa_to_hva gives the host address and rights "
    "of mapped GPAs, which are what the guest sees, and ENOENT elsewhere")
ATF_TC_BODY(gpa_to_hva, tc)
{
	const nvmm_prot_t rwx = NVMM_PROT_READ | NVMM_PROT_WRITE |
	    NVMM_PROT_EXEC;
	struct nvmm_x64_state *st;
	struct hc_machine vm;
	struct hc_vcpu hv;
	nvmm_prot_t prot;
	uintptr_t hva;
	uint64_t v;
	uint8_t *rom;
	pid_t pid;

	pid = hc_start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_poke_begin, guest_poke_end);
	rom = hc_map(&vm, HC_ROM_GPA, HC_ROM_SIZE, PROT_READ | PROT_EXEC);

	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, 0, &hva, &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)vm.ram);
	ATF_CHECK_EQ(prot, rwx);
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, 0x9008, &hva, &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)vm.ram + 0x9008);
	ATF_CHECK_EQ(prot, rwx);
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, TVM_RAM_SIZE - 1, &hva,
	    &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)vm.ram + TVM_RAM_SIZE - 1);
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, HC_ROM_GPA + 0x123, &hva,
	    &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)rom + 0x123);
	ATF_CHECK_EQ(prot, NVMM_PROT_READ | NVMM_PROT_EXEC);

	HC_CHECK_ERRNO(ENOENT, nvmm_gpa_to_hva(&vm.mach, TVM_RAM_SIZE, &hva,
	    &prot));
	HC_CHECK_ERRNO(ENOENT, nvmm_gpa_to_hva(&vm.mach, TVM_MMIO_GPA, &hva,
	    &prot));
	HC_CHECK_ERRNO(ENOENT, nvmm_gpa_to_hva(&vm.mach, HC_ROM_GPA - 1, &hva,
	    &prot));

	/* The guest writes GPA 0x9008; the HVA of 0x9008 has it. */
	st = hc_getstate(&hv, NVMM_X64_STATE_GPRS);
	st->gprs[NVMM_X64_GPR_RAX] = 0x1122334455667788ULL;
	st->gprs[NVMM_X64_GPR_RBX] = 0x9008;
	hc_setstate(&hv, NVMM_X64_STATE_GPRS);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, 0x9008, &hva, &prot));
	memcpy(&v, (void *)hva, 8);
	ATF_CHECK_EQ(v, 0x1122334455667788ULL);

	/* Unmapped: gone from the list. */
	HC_REQUIRE_OK(nvmm_gpa_unmap(&vm.mach, (uintptr_t)rom, HC_ROM_GPA,
	    HC_ROM_SIZE));
	HC_CHECK_ERRNO(ENOENT, nvmm_gpa_to_hva(&vm.mach, HC_ROM_GPA + 0x123,
	    &hva, &prot));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

/* Runs nvmm_vcpu_dump with stdout in path; returns its result. */
static int
dump_to_file(struct hc_vcpu *hv, const char *path)
{
	int fd, saved, ret, error;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	ATF_REQUIRE(saved != -1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ATF_REQUIRE(fd != -1);
	ATF_REQUIRE(dup2(fd, STDOUT_FILENO) != -1);
	close(fd);
	ret = nvmm_vcpu_dump(&hv->vm->mach, &hv->vcpu);
	error = errno;
	fflush(stdout);
	ATF_REQUIRE(dup2(saved, STDOUT_FILENO) != -1);
	close(saved);
	errno = error;
	return ret;
}

static char *
read_file(const char *path)
{
	static char buf[16384];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	ATF_REQUIRE(fd != -1);
	n = read(fd, buf, sizeof(buf) - 1);
	ATF_REQUIRE(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

/* NetBSD's lines, from the state: the format logs are compared against. */
static void
dump_expected(const struct nvmm_x64_state *st, nvmm_cpuid_t id, char *buf,
    size_t len)
{
	static const char *const gprs[] = { "RAX", "RCX", "RDX", "RBX", "RSP",
	    "RBP", "RSI", "RDI", "RIP", "RFLAGS" };
	static const int gidx[] = { NVMM_X64_GPR_RAX, NVMM_X64_GPR_RCX,
	    NVMM_X64_GPR_RDX, NVMM_X64_GPR_RBX, NVMM_X64_GPR_RSP,
	    NVMM_X64_GPR_RBP, NVMM_X64_GPR_RSI, NVMM_X64_GPR_RDI,
	    NVMM_X64_GPR_RIP, NVMM_X64_GPR_RFLAGS };
	static const char *const segs[] = { "ES", "CS", "SS", "DS", "FS", "GS",
	    "GDT", "IDT", "LDT", "TR" };
	const struct nvmm_x64_state_seg *s;
	size_t i, o = 0;
	uint16_t attr;

	o += (size_t)snprintf(buf + o, len - o, "+ VCPU id=%u\n", id);
	for (i = 0; i < 10; i++)
		o += (size_t)snprintf(buf + o, len - o, "| -> %s=%" PRIx64 "\n",
		    gprs[i], st->gprs[gidx[i]]);
	for (i = 0; i < NVMM_X64_NSEG; i++) {
		s = &st->segs[i];
		memcpy(&attr, &s->attrib, sizeof(attr));
		o += (size_t)snprintf(buf + o, len - o, "| -> %s: sel=0x%x "
		    "base=%" PRIx64 ", limit=%x, attrib=%x [type=%d,l=%d,"
		    "def=%d]\n", segs[i], s->selector, s->base, s->limit,
		    attr, s->attrib.type, s->attrib.l, s->attrib.def);
	}
	o += (size_t)snprintf(buf + o, len - o, "| -> MSR_EFER=%" PRIx64 "\n"
	    "| -> CR0=%" PRIx64 "\n| -> CR3=%" PRIx64 "\n| -> CR4=%" PRIx64
	    "\n| -> CR8=%" PRIx64 "\n", st->msrs[NVMM_X64_MSR_EFER],
	    st->crs[NVMM_X64_CR_CR0], st->crs[NVMM_X64_CR_CR3],
	    st->crs[NVMM_X64_CR_CR4], st->crs[NVMM_X64_CR_CR8]);
	ATF_REQUIRE(o < len);
}

HC_DAEMON_TC(vcpu_dump, "nvmm_vcpu_dump prints NetBSD's lines to stdout: "
    "'+ VCPU id=', then '| -> RAX=' and the rest in its order and format")
ATF_TC_BODY(vcpu_dump, tc)
{
	char want[4096];
	struct hc_machine vm;
	struct hc_vcpu hv;
	const char *text;
	pid_t pid;

	pid = hc_start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_excp_begin, guest_excp_end);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	hc_getstate(&hv, NVMM_X64_STATE_GPRS)->gprs[NVMM_X64_GPR_RAX] =
	    0xABCDEF0123456789ULL;
	hc_setstate(&hv, NVMM_X64_STATE_GPRS);

	HC_REQUIRE_OK(dump_to_file(&hv, "dump.txt"));
	text = read_file("dump.txt");
	ATF_CHECK_MSG(strncmp(text, "+ VCPU id=0\n| -> RAX=abcdef0123456789\n",
	    37) == 0, "got:\n%s", text);
	ATF_CHECK_MSG(strstr(text, "\n| -> RIP=1001\n") != NULL &&
	    strstr(text, "\n| -> CR3=10000\n") != NULL &&
	    strstr(text, "\n| -> CS: sel=0x8 base=0, limit=") != NULL,
	    "got:\n%s", text);
	dump_expected(hc_getstate(&hv, NVMM_X64_STATE_ALL), 0, want,
	    sizeof(want));
	ATF_CHECK_STREQ_MSG(text, want, "got:\n%s\nwant:\n%s", text, want);
	/* The dump does not disturb the VCPU. */
	ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RIP), TVM_CODE_GPA + 1);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* -------------------------------------------------------------------------- */

HC_DAEMON_TC(vcpu_create_twice_ebusy, "nvmm_vcpu_create of an existing VCPU "
    "fails with EBUSY and leaves that VCPU working")
ATF_TC_BODY(vcpu_create_twice_ebusy, tc)
{
	struct nvmm_ctl_mach_info info;
	struct nvmm_vcpu other;
	struct hc_machine vm;
	struct hc_vcpu hv;
	pid_t pid;

	pid = hc_start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_excp_begin, guest_excp_end);
	memset(&other, 0, sizeof(other));
	HC_CHECK_ERRNO(EBUSY, nvmm_vcpu_create(&vm.mach, 0, &other));
	memset(&info, 0, sizeof(info));
	info.machid = vm.mach.machid;
	HC_REQUIRE_OK(nvmm_ctl(NVMM_CTL_MACH_INFO, &info, sizeof(info)));
	ATF_CHECK_EQ(info.nvcpus, 1);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RIP), TVM_CODE_GPA + 1);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

/* An hva_map'd region of size bytes, not in the guest yet. */
static uint8_t *
hva_region(struct hc_machine *vm, size_t size)
{
	void *p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE,
	    -1, 0);
	ATF_REQUIRE(p != MAP_FAILED);
	HC_REQUIRE_OK(nvmm_hva_map(&vm->mach, (uintptr_t)p, size));
	return p;
}

HC_DAEMON_TC(gpa_map_overlap_einval, "nvmm_gpa_map over part of an existing "
    "area fails with EINVAL and changes nothing")
ATF_TC_BODY(gpa_map_overlap_einval, tc)
{
	const size_t size = 0x2000;
	struct hc_machine vm;
	nvmm_prot_t prot;
	uintptr_t hva;
	uint8_t *p;
	pid_t pid;

	pid = hc_start_daemon();
	hc_machine_create(&vm, TVM_RAM_SIZE);
	p = hva_region(&vm, size);
	HC_CHECK_ERRNO(EINVAL, nvmm_gpa_map(&vm.mach, (uintptr_t)p, 0x1000,
	    size, HC_RWX));
	HC_CHECK_ERRNO(EINVAL, nvmm_gpa_map(&vm.mach, (uintptr_t)p,
	    TVM_RAM_SIZE - 0x1000, size, HC_RWX));
	HC_CHECK_ERRNO(EINVAL, nvmm_gpa_map(&vm.mach, (uintptr_t)p, 0, size,
	    HC_RWX));
	/* RAM is still RAM. */
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, 0x1000, &hva, &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)vm.ram + 0x1000);
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, TVM_RAM_SIZE - 0x1000, &hva,
	    &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)vm.ram + TVM_RAM_SIZE - 0x1000);
	/* Right after it is free. */
	HC_CHECK_ERRNO(ENOENT, nvmm_gpa_to_hva(&vm.mach, TVM_RAM_SIZE, &hva,
	    &prot));
	HC_REQUIRE_OK(nvmm_gpa_map(&vm.mach, (uintptr_t)p, TVM_RAM_SIZE,
	    size, HC_RWX));
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, TVM_RAM_SIZE, &hva, &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)p);
	hc_machine_destroy(&vm);
	munmap(p, size);
	hd_stop(pid);
}

HC_DAEMON_TC(gpa_unmap_unknown_esrch, "nvmm_gpa_unmap of a triple that is not "
    "a mapped area fails with ESRCH")
ATF_TC_BODY(gpa_unmap_unknown_esrch, tc)
{
	struct hc_machine vm;
	nvmm_prot_t prot;
	uintptr_t hva, ram;
	pid_t pid;

	pid = hc_start_daemon();
	hc_machine_create(&vm, TVM_RAM_SIZE);
	ram = (uintptr_t)vm.ram;
	HC_CHECK_ERRNO(ESRCH, nvmm_gpa_unmap(&vm.mach, ram, 0x1000,
	    TVM_RAM_SIZE));
	HC_CHECK_ERRNO(ESRCH, nvmm_gpa_unmap(&vm.mach, ram + 0x1000, 0,
	    TVM_RAM_SIZE));
	HC_CHECK_ERRNO(ESRCH, nvmm_gpa_unmap(&vm.mach, ram, 0,
	    TVM_RAM_SIZE / 2));
	HC_CHECK_ERRNO(ESRCH, nvmm_gpa_unmap(&vm.mach, ram, TVM_MMIO_GPA,
	    0x1000));
	/* Still mapped; the exact triple unmaps it, once. */
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, 0, &hva, &prot));
	HC_REQUIRE_OK(nvmm_gpa_unmap(&vm.mach, ram, 0, TVM_RAM_SIZE));
	HC_CHECK_ERRNO(ENOENT, nvmm_gpa_to_hva(&vm.mach, 0, &hva, &prot));
	HC_CHECK_ERRNO(ESRCH, nvmm_gpa_unmap(&vm.mach, ram, 0, TVM_RAM_SIZE));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

HC_DAEMON_TC(gpa_map_refused_no_area, "nvmm_gpa_map that the kernel refuses "
    "(a protection bit NetBSD does not know) fails with its EINVAL and "
    "records no area")
ATF_TC_BODY(gpa_map_refused_no_area, tc)
{
	const gpaddr_t gpa = 0x200000;
	const size_t size = 0x2000;
	struct hc_machine vm;
	nvmm_prot_t prot;
	uintptr_t hva;
	uint8_t *p;
	pid_t pid;

	pid = hc_start_daemon();
	hc_machine_create(&vm, 0);
	p = hva_region(&vm, size);
	HC_CHECK_ERRNO(EINVAL, nvmm_gpa_map(&vm.mach, (uintptr_t)p, gpa,
	    size, PROT_READ | 0x10));
	HC_CHECK_ERRNO(ENOENT, nvmm_gpa_to_hva(&vm.mach, gpa, &hva, &prot));
	/* The place is free for a map the kernel takes. */
	HC_REQUIRE_OK(nvmm_gpa_map(&vm.mach, (uintptr_t)p, gpa, size,
	    PROT_READ | PROT_WRITE));
	HC_REQUIRE_OK(nvmm_gpa_to_hva(&vm.mach, gpa, &hva, &prot));
	ATF_CHECK_EQ(hva, (uintptr_t)p);
	ATF_CHECK_EQ(prot, NVMM_PROT_READ | NVMM_PROT_WRITE);
	hc_machine_destroy(&vm);
	munmap(p, size);
	hd_stop(pid);
}

HC_DAEMON_TC(assist_io_after_halt_einval, "nvmm_assist_io (and "
    "nvmm_assist_mem) after an exit of another kind fail with EINVAL")
ATF_TC_BODY(assist_io_after_halt_einval, tc)
{
	struct hc_machine vm;
	struct hc_vcpu hv;
	struct hc_dev dev;
	pid_t pid;

	pid = hc_start_daemon();
	hc_dev_init(&dev);
	hc_setup_guest(&vm, &hv, &dev, guest_excp_begin, guest_excp_end);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	HC_CHECK_ERRNO(EINVAL, nvmm_assist_io(&vm.mach, &hv.vcpu));
	HC_CHECK_ERRNO(EINVAL, nvmm_assist_mem(&vm.mach, &hv.vcpu));
	ATF_CHECK_EQ(dev.nio_in + dev.nio_out + dev.nmem_read +
	    dev.nmem_write, 0);
	/* Nothing changed: the guest goes on. */
	ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RIP), TVM_CODE_GPA + 1);
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(hc_gpr(&hv, NVMM_X64_GPR_RIP), TVM_CODE_GPA + 1);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

HC_DAEMON_TC(machine_configure_einval, "x86 has no machine configuration: "
    "nvmm_machine_configure fails with EINVAL")
ATF_TC_BODY(machine_configure_einval, tc)
{
	static const uint64_t ops[] = {
		NVMM_MACH_CONF_LIBNVMM_BEGIN, NVMM_MACH_CONF_MI_BEGIN,
		NVMM_MACH_CONF_MD_BEGIN, NVMM_MACH_CONF_MD_BEGIN + 1,
	};
	uint64_t conf[8];
	struct hc_machine vm;
	pid_t pid;
	size_t i;

	pid = hc_start_daemon();
	hc_machine_create(&vm, 0);
	memset(conf, 0, sizeof(conf));
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		HC_CHECK_ERRNO(EINVAL, nvmm_machine_configure(&vm.mach, ops[i],
		    conf));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

HC_DAEMON_TC(vcpu_configure_tpr_einval, "NVMM_VCPU_CONF_TPR is not in the "
    "capability and nvmm_vcpu_configure refuses it with EINVAL; CR8 "
    "writes take effect in the guest")
ATF_TC_BODY(vcpu_configure_tpr_einval, tc)
{
	struct nvmm_vcpu_conf_tpr tpr = { .exit_changed = 1 };
	struct nvmm_capability cap;
	struct hc_machine vm;
	struct hc_vcpu hv;
	pid_t pid;

	pid = hc_start_daemon();
	hc_setup_guest(&vm, &hv, NULL, guest_tpr_begin, guest_tpr_end);
	HC_REQUIRE_OK(nvmm_capability(&cap));
	ATF_CHECK_EQ(cap.arch.vcpu_conf_support & NVMM_CAP_ARCH_VCPU_CONF_TPR,
	    0);
	HC_CHECK_ERRNO(EINVAL, nvmm_vcpu_configure(&vm.mach, &hv.vcpu,
	    NVMM_VCPU_CONF_TPR, &tpr));
	ATF_REQUIRE_EQ(hc_run_reason(&hv), NVMM_VCPU_EXIT_HALTED);
	ATF_CHECK_EQ(hv.vcpu.exit->exitstate.cr8, 2);
	ATF_CHECK_EQ(hc_getstate(&hv, NVMM_X64_STATE_CRS)->
	    crs[NVMM_X64_CR_CR8], 2);
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

HC_DAEMON_TC(ctl_mach_info, "NVMM_CTL_MACH_INFO of the program's own machine: "
    "VCPUs, RAM (the hva_map sizes), owner pid and creation time")
ATF_TC_BODY(ctl_mach_info, tc)
{
	struct nvmm_ctl_mach_info info;
	struct hc_machine vm;
	struct hc_vcpu hv[3];
	time_t t0, t1;
	pid_t pid;
	int i;

	pid = hc_start_daemon();
	t0 = time(NULL);
	hc_machine_create(&vm, TVM_RAM_SIZE);
	hc_map(&vm, HC_ROM_GPA, HC_ROM_SIZE, PROT_READ | PROT_EXEC);
	for (i = 0; i < 3; i++)
		hc_vcpu_create(&vm, (nvmm_cpuid_t)(i * 2), &hv[i], NULL);
	t1 = time(NULL);

	memset(&info, 0xA5, sizeof(info));
	info.machid = vm.mach.machid;
	HC_REQUIRE_OK(nvmm_ctl(NVMM_CTL_MACH_INFO, &info, sizeof(info)));
	ATF_CHECK_EQ(info.machid, vm.mach.machid);
	ATF_CHECK_EQ(info.nvcpus, 3);
	ATF_CHECK_EQ(info.nram, TVM_RAM_SIZE + HC_ROM_SIZE);
	ATF_CHECK_EQ(info.pid, getpid());
	ATF_CHECK_MSG(info.time >= t0 && info.time <= t1,
	    "time %jd not in [%jd, %jd]", (intmax_t)info.time, (intmax_t)t0,
	    (intmax_t)t1);

	/* Another VCPU shows. */
	HC_REQUIRE_OK(nvmm_vcpu_destroy(&vm.mach, &hv[1].vcpu));
	memset(&info, 0, sizeof(info));
	info.machid = vm.mach.machid;
	HC_REQUIRE_OK(nvmm_ctl(NVMM_CTL_MACH_INFO, &info, sizeof(info)));
	ATF_CHECK_EQ(info.nvcpus, 2);

	/* A machine that does not exist. */
	memset(&info, 0, sizeof(info));
	info.machid = vm.mach.machid + 1;
	HC_CHECK_ERRNO(ENOENT, nvmm_ctl(NVMM_CTL_MACH_INFO, &info,
	    sizeof(info)));
	hc_machine_destroy(&vm);
	hd_stop(pid);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, session_outlives_seconds);
	ATF_TP_ADD_TC(tp, gva_to_gpa);
	ATF_TP_ADD_TC(tp, gpa_to_hva);
	ATF_TP_ADD_TC(tp, vcpu_dump);
	ATF_TP_ADD_TC(tp, vcpu_create_twice_ebusy);
	ATF_TP_ADD_TC(tp, gpa_map_overlap_einval);
	ATF_TP_ADD_TC(tp, gpa_unmap_unknown_esrch);
	ATF_TP_ADD_TC(tp, gpa_map_refused_no_area);
	ATF_TP_ADD_TC(tp, assist_io_after_halt_einval);
	ATF_TP_ADD_TC(tp, machine_configure_einval);
	ATF_TP_ADD_TC(tp, vcpu_configure_tpr_einval);
	ATF_TP_ADD_TC(tp, ctl_mach_info);
	return atf_no_error();
}
