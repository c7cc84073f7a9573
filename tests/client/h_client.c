/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Test harness for guests run through libnvmmclient; see h_client.h.
 * Only the public <nvmm.h> API is used.
 */
#include <sys/mman.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "h_client.h"

#define HC_MAGIC	0x6863766BU	/* "hcvk" */

/* -------------------------------------------------------------------------- */

void
hc_dev_init(struct hc_dev *dev)
{
	memset(dev, 0, sizeof(*dev));
}

static void
hc_dev_error(struct hc_dev *dev, int error, const char *fmt, ...)
{
	va_list ap;

	if (dev->error != 0)
		return;
	dev->error = error;
	va_start(ap, fmt);
	vsnprintf(dev->errmsg, sizeof(dev->errmsg), fmt, ap);
	va_end(ap);
}

static void
hc_dev_log(struct hc_dev *dev, bool is_io, uint64_t addr,
    const uint8_t *data, size_t size)
{
	if (!hx_log_write(dev->log, &dev->nlog, HC_DEV_MAX_LOG, is_io, addr,
	    data, size))
		hc_dev_error(dev, ENOSPC, "device log full at %s %#jx",
		    is_io ? "port" : "GPA", (uintmax_t)addr);
}

const struct hx_write *
hc_dev_find(const struct hc_dev *dev, uint64_t addr, size_t index)
{
	return hx_find_write(dev->log, dev->nlog, addr, index);
}

size_t
hc_dev_count(const struct hc_dev *dev, uint64_t addr)
{
	return hx_count_writes(dev->log, dev->nlog, addr);
}

/* The hc_vcpu behind the nvmm_vcpu a callback gets. */
static struct hc_vcpu *
hc_vcpu_of(struct nvmm_vcpu *vcpu)
{
	struct hc_vcpu *hv = (struct hc_vcpu *)vcpu;

	if (hv == NULL || hv->magic != HC_MAGIC) {
		fprintf(stderr, "h_client: callback for a VCPU that is not "
		    "an hc_vcpu's (pass &hv->vcpu)\n");
		abort();
	}
	return hv;
}

void
hc_io_callback(struct nvmm_io *io)
{
	struct hc_vcpu *hv = hc_vcpu_of(io->vcpu);
	struct hc_dev *dev = hv->dev;
	size_t i;

	if (dev == NULL)
		return;
	if (io->size == 0 || io->size > 8) {
		hc_dev_error(dev, EINVAL, "IO of %zu bytes at port %#x",
		    io->size, io->port);
		return;
	}
	if (!io->in) {
		dev->nio_out++;
		hc_dev_log(dev, true, io->port, io->data, io->size);
		return;
	}
	dev->nio_in++;
	for (i = 0; i < io->size; i++)
		io->data[i] = (uint8_t)(io->port + i);
}

void
hc_mem_callback(struct nvmm_mem *mem)
{
	struct hc_vcpu *hv = hc_vcpu_of(mem->vcpu);
	struct hc_dev *dev = hv->dev;
	uint64_t off = mem->gpa - TVM_MMIO_GPA;

	if (dev == NULL)
		return;
	if (mem->size == 0 || mem->size > 8 || mem->gpa < TVM_MMIO_GPA ||
	    off + mem->size > HC_DEV_MMIO_SIZE) {
		hc_dev_error(dev, ERANGE, "MMIO %s of %zu bytes at %#jx, "
		    "outside the device", mem->write ? "write" : "read",
		    mem->size, (uintmax_t)mem->gpa);
		if (!mem->write && mem->size <= 8)
			memset(mem->data, 0xFF, mem->size);
		return;
	}
	if (mem->write) {
		dev->nmem_write++;
		hc_dev_log(dev, false, mem->gpa, mem->data, mem->size);
		memcpy(&dev->mmio[off], mem->data, mem->size);
		return;
	}
	dev->nmem_read++;
	memcpy(mem->data, &dev->mmio[off], mem->size);
}

/* -------------------------------------------------------------------------- */

void
hc_init(void)
{
	struct nvmm_capability cap;

	HC_REQUIRE_OK(nvmm_init());
	HC_REQUIRE_OK(nvmm_capability(&cap));
	ATF_REQUIRE_EQ_MSG(cap.version, NVMM_KERN_VERSION, "version %u",
	    cap.version);
	ATF_REQUIRE_EQ(cap.state_size, sizeof(struct nvmm_x64_state));
}

void
hc_machine_create(struct hc_machine *vm, size_t ramsize)
{
	memset(vm, 0, sizeof(*vm));
	HC_REQUIRE_OK(nvmm_machine_create(&vm->mach));
	if (ramsize != 0) {
		vm->ram = hc_map(vm, 0, ramsize, HC_RWX);
		vm->ramsize = ramsize;
	}
}

uint8_t *
hc_map(struct hc_machine *vm, gpaddr_t gpa, size_t size, int prot)
{
	struct hc_region *r;
	void *p;

	ATF_REQUIRE(vm->nregions < HC_MAX_REGIONS);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_ANON | MAP_PRIVATE,
	    -1, 0);
	ATF_REQUIRE_MSG(p != MAP_FAILED, "mmap: %s", strerror(errno));
	HC_REQUIRE_OK(nvmm_hva_map(&vm->mach, (uintptr_t)p, size));
	HC_REQUIRE_OK(nvmm_gpa_map(&vm->mach, (uintptr_t)p, gpa, size, prot));
	r = &vm->regions[vm->nregions++];
	r->hva = p;
	r->gpa = gpa;
	r->size = size;
	r->prot = prot;
	return p;
}

void
hc_machine_destroy(struct hc_machine *vm)
{
	size_t i;

	HC_REQUIRE_OK(nvmm_machine_destroy(&vm->mach));
	for (i = 0; i < vm->nregions; i++)
		munmap(vm->regions[i].hva, vm->regions[i].size);
	vm->nregions = 0;
	vm->ram = NULL;
}

void
hc_vcpu_create(struct hc_machine *vm, nvmm_cpuid_t cpuid, struct hc_vcpu *hv,
    struct hc_dev *dev)
{
	struct nvmm_assist_callbacks cbs = { hc_io_callback, hc_mem_callback };

	memset(hv, 0, sizeof(*hv));
	hv->magic = HC_MAGIC;
	hv->vm = vm;
	hv->dev = dev;
	HC_REQUIRE_OK(nvmm_vcpu_create(&vm->mach, cpuid, &hv->vcpu));
	HC_REQUIRE_OK(nvmm_vcpu_configure(&vm->mach, &hv->vcpu,
	    NVMM_VCPU_CONF_CALLBACKS, &cbs));
}

void
hc_load(struct hc_machine *vm, gpaddr_t gpa, const void *begin,
    const void *end)
{
	ATF_REQUIRE(hlm_load(vm->ram, vm->ramsize, gpa, begin, end) == 0);
}

void
hc_setup_longmode(struct hc_vcpu *hv, uint64_t rip)
{
	ATF_REQUIRE_EQ(hlm_setup(hv->vm->ram, hv->vm->ramsize,
	    hc_getstate(hv, NVMM_X64_STATE_ALL), rip), 0);
	hc_setstate(hv, HLM_STATE_FLAGS);
}

void
hc_setup_guest(struct hc_machine *vm, struct hc_vcpu *hv, struct hc_dev *dev,
    const uint8_t *begin, const uint8_t *end)
{
	hc_machine_create(vm, TVM_RAM_SIZE);
	hc_load(vm, TVM_CODE_GPA, begin, end);
	hc_vcpu_create(vm, 0, hv, dev);
	hc_setup_longmode(hv, TVM_CODE_GPA);
}

/* -------------------------------------------------------------------------- */

struct nvmm_x64_state *
hc_getstate(struct hc_vcpu *hv, uint64_t flags)
{
	HC_REQUIRE_OK(nvmm_vcpu_getstate(&hv->vm->mach, &hv->vcpu, flags));
	return hv->vcpu.state;
}

void
hc_setstate(struct hc_vcpu *hv, uint64_t flags)
{
	HC_REQUIRE_OK(nvmm_vcpu_setstate(&hv->vm->mach, &hv->vcpu, flags));
}

uint64_t
hc_gpr(struct hc_vcpu *hv, int index)
{
	return hc_getstate(hv, NVMM_X64_STATE_GPRS)->gprs[index];
}

void
hc_inject(struct hc_vcpu *hv, unsigned type, uint8_t vector, uint64_t error)
{
	memset(hv->vcpu.event, 0, sizeof(*hv->vcpu.event));
	hv->vcpu.event->type = type;
	hv->vcpu.event->vector = vector;
	hv->vcpu.event->u.excp.error = error;
	HC_REQUIRE_OK(nvmm_vcpu_inject(&hv->vm->mach, &hv->vcpu));
}

void
hc_idt_gate(struct hc_machine *vm, unsigned vector, uint64_t handler)
{
	ATF_REQUIRE(vm->ram != NULL &&
	    hlm_idt_gate(vm->ram, vm->ramsize, vector, handler) == 0);
}

/* -------------------------------------------------------------------------- */

int
hc_try_run(struct hc_vcpu *hv)
{
	if (nvmm_vcpu_run(&hv->vm->mach, &hv->vcpu) == -1)
		return errno;
	return 0;
}

uint64_t
hc_run_reason(struct hc_vcpu *hv)
{
	HC_REQUIRE_OK(nvmm_vcpu_run(&hv->vm->mach, &hv->vcpu));
	return hv->vcpu.exit->reason;
}

int
hc_try_assist(struct hc_vcpu *hv)
{
	int ret;

	switch (hv->vcpu.exit->reason) {
	case NVMM_VCPU_EXIT_IO:
		ret = nvmm_assist_io(&hv->vm->mach, &hv->vcpu);
		break;
	case NVMM_VCPU_EXIT_MEMORY:
		ret = nvmm_assist_mem(&hv->vm->mach, &hv->vcpu);
		break;
	default:
		return EINVAL;
	}
	if (ret == -1)
		return errno != 0 ? errno : EIO;
	if (hv->dev != NULL && hv->dev->error != 0)
		return hv->dev->error;
	return 0;
}

void
hc_assist(struct hc_vcpu *hv)
{
	uint64_t reason = hv->vcpu.exit->reason;
	int error;

	error = hc_try_assist(hv);
	if (error == 0)
		return;
	if (hv->dev != NULL && hv->dev->error != 0)
		atf_tc_fail("device: %s", hv->dev->errmsg);
	atf_tc_fail("%s after exit %#jx: %s", reason == NVMM_VCPU_EXIT_IO ?
	    "nvmm_assist_io" : reason == NVMM_VCPU_EXIT_MEMORY ?
	    "nvmm_assist_mem" : "assist", (uintmax_t)reason, strerror(error));
}

int
hc_try_run_to_halt(struct hc_vcpu *hv, unsigned max_exits)
{
	unsigned n;
	int error;

	for (n = 0; n < max_exits; n++) {
		error = hc_try_run(hv);
		if (error)
			return error;
		switch (hv->vcpu.exit->reason) {
		case NVMM_VCPU_EXIT_HALTED:
			return 0;
		case NVMM_VCPU_EXIT_NONE:
			break;
		case NVMM_VCPU_EXIT_IO:
		case NVMM_VCPU_EXIT_MEMORY:
			error = hc_try_assist(hv);
			if (error)
				return error;
			break;
		default:
			return EPROTO;
		}
	}
	return ETIMEDOUT;
}

void
hc_run_to_halt(struct hc_vcpu *hv, unsigned max_exits)
{
	int error;

	error = hc_try_run_to_halt(hv, max_exits);
	if (error == 0)
		return;
	if (hv->dev != NULL && hv->dev->error != 0)
		atf_tc_fail("device: %s", hv->dev->errmsg);
	if (error == ETIMEDOUT)
		atf_tc_fail("no HLT after %u exits", max_exits);
	atf_tc_fail("run to HLT: %s, exit %#jx", strerror(error),
	    (uintmax_t)hv->vcpu.exit->reason);
}

/* -------------------------------------------------------------------------- */

void
hc_ioloop(struct hc_ioloop *g, uint32_t count)
{
	const uint8_t code[] = {
		0xB9, (uint8_t)count, (uint8_t)(count >> 8),
		(uint8_t)(count >> 16), (uint8_t)(count >> 24),
		0xE6, HC_IO_PORT,
		0xE2, 0xFC,
		0xF4,
	};

	_Static_assert(sizeof(code) == sizeof(g->code), "hc_ioloop");
	memcpy(g->code, code, sizeof(code));
}

int
hc_mach_info(nvmm_machid_t machid, struct nvmm_ctl_mach_info *info)
{
	memset(info, 0, sizeof(*info));
	info->machid = machid;
	return nvmm_ctl(NVMM_CTL_MACH_INFO, info, sizeof(*info));
}

/* -------------------------------------------------------------------------- */

pid_t
hc_start_daemon(void)
{
	pid_t pid;

	pid = hd_start(NULL);
	hc_init();
	return pid;
}

uint64_t
hc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
hc_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}
