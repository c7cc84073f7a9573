/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmm-demo: a small emulator on NetBSD's libnvmm API (here served by
 * nvmmd).  It loads a demo image (examples/demo-guest.S), gives it RAM, a
 * serial port (COM1, output to the terminal) and a power port, runs every
 * VCPU in its own thread, and exits with the status the guest powers off
 * with.  SIGINT or SIGTERM presses the guest's power button; a second
 * one stops the VCPUs at once.
 *
 * Exit status: the guest's, 1 for errors, 2 for usage, 3 when the machine
 * was destroyed under it (nvmmctl kill), 130 when stopped by a signal.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvmm.h>

#ifndef DEMO_IMAGE
#define DEMO_IMAGE		"demo-guest.img"
#endif
#define DEMO_MAGIC		"NVMMDEMO"
#define DEMO_VERSION		1
#define DEMO_MAX_VCPUS		16
#define COM1_DATA		0x3F8
#define COM1_LSR		0x3FD
#define COM1_LSR_IDLE		0x60	/* transmitter empty, ready */
#define POWER_PORT		0x501
#define EXIT_KILLED		3
#define EXIT_SIGNAL		130

/* The first bytes of an image (demo-guest.S). */
struct demo_header {
	char magic[8];
	uint32_t version;
	uint32_t load;		/* GPA the image is copied to */
	uint32_t entry;		/* real-mode entry, CS 0 */
	uint32_t size;		/* bytes of the image, this header included */
	uint32_t min_ram;	/* RAM the guest needs */
	uint32_t power_button;	/* GPA of the word the button sets */
};

struct demo {
	struct nvmm_machine mach;
	struct nvmm_vcpu vcpus[DEMO_MAX_VCPUS];
	unsigned nvcpus;
	uint8_t *ram;
	size_t ramsize;
	struct demo_header hdr;
	uint64_t ticks;
	atomic_int status;	/* -1 until powered off */
	atomic_bool killed;
};

static struct demo demo = { .status = -1 };
static volatile sig_atomic_t signals;
static pthread_mutex_t serial_lock = PTHREAD_MUTEX_INITIALIZER;
static bool serial_midline;	/* the guest's last line is unfinished */

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: nvmm-demo [-c vcpus] [-m megabytes] [-t ticks] [image]\n"
	    "  -c  VCPUs, 1 to %d (default 2)\n"
	    "  -m  guest RAM in MiB (default 16)\n"
	    "  -t  ticks to count before powering off; 0: until SIGINT "
	    "(default 20)\n"
	    "  image  default %s\n", DEMO_MAX_VCPUS, DEMO_IMAGE);
	exit(status);
}

static unsigned long
parse_number(const char *s, unsigned long max, const char *what)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v > max) {
		warnx("bad %s: %s", what, s);
		usage(2);
	}
	return v;
}

/* -------------------------------------------------------------------------- */

static void
image_check(const struct demo_header *h, size_t filesize, size_t ramsize,
    const char *path)
{
	if (filesize < sizeof(*h) || memcmp(h->magic, DEMO_MAGIC, 8) != 0)
		errx(1, "%s: not a demo image (no %s header)", path,
		    DEMO_MAGIC);
	if (h->version != DEMO_VERSION)
		errx(1, "%s: image version %u, expected %u", path, h->version,
		    DEMO_VERSION);
	if (h->size != filesize)
		errx(1, "%s: malformed image: header says %u bytes, file has "
		    "%zu", path, h->size, filesize);
	if (h->entry < h->load + sizeof(*h) || h->entry >= h->load + h->size ||
	    h->load + h->size > 0x10000)
		errx(1, "%s: malformed image: entry %#x outside the image",
		    path, h->entry);
	if (ramsize < h->min_ram || h->power_button + 4 > ramsize)
		errx(1, "too little memory: the image needs %u MiB, got %zu "
		    "MiB", (h->min_ram + (1U << 20) - 1) >> 20, ramsize >> 20);
}

/*
 * Reads and checks the image, before anything else is set up, so that a
 * bad one is reported whatever the state of the daemon.
 */
static uint8_t *
image_read(const char *path)
{
	struct stat st;
	uint8_t *image;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		err(1, "%s", path);
	if (fstat(fd, &st) == -1)
		err(1, "%s", path);
	if (!S_ISREG(st.st_mode) || st.st_size > 0x10000)
		errx(1, "%s: not a demo image (not a small regular file)", path);
	image = malloc((size_t)st.st_size + 1);
	if (image == NULL)
		err(1, "%s", path);
	n = read(fd, image, (size_t)st.st_size);
	if (n != st.st_size)
		errx(1, "%s: short read", path);
	close(fd);
	memset(&demo.hdr, 0, sizeof(demo.hdr));
	memcpy(&demo.hdr, image, (size_t)n < sizeof(demo.hdr) ?
	    (size_t)n : sizeof(demo.hdr));
	image_check(&demo.hdr, (size_t)n, demo.ramsize, path);
	return image;
}

/* -------------------------------------------------------------------------- */

static void
power_off(int status)
{
	unsigned i;

	atomic_store(&demo.status, status);
	for (i = 0; i < demo.nvcpus; i++)
		nvmm_vcpu_stop(&demo.vcpus[i]);
}

static void
serial_out(uint8_t byte)
{
	pthread_mutex_lock(&serial_lock);
	putchar(byte);
	serial_midline = byte != '\n';
	if (!serial_midline)
		fflush(stdout);
	pthread_mutex_unlock(&serial_lock);
}

/* Ends the guest's unfinished line, so that our messages stand alone. */
static void
serial_end_line(void)
{
	pthread_mutex_lock(&serial_lock);
	if (serial_midline)
		putchar('\n');
	serial_midline = false;
	fflush(stdout);
	pthread_mutex_unlock(&serial_lock);
}

static void
demo_io(struct nvmm_io *io)
{
	if (io->in) {
		memset(io->data, 0xFF, io->size);
		if (io->port == COM1_LSR)
			io->data[0] = COM1_LSR_IDLE;
		return;
	}
	if (io->port == COM1_DATA)
		serial_out(io->data[0]);
	else if (io->port == POWER_PORT)
		power_off(io->data[0]);
}

/* No MMIO devices: reads float high, writes go nowhere. */
static void
demo_mem(struct nvmm_mem *mem)
{
	if (!mem->write)
		memset(mem->data, 0xFF, mem->size);
}

static const struct nvmm_assist_callbacks demo_callbacks = {
	.io = demo_io,
	.mem = demo_mem,
};

/* -------------------------------------------------------------------------- */

/* Returns true when the VCPU is done. */
static bool
vcpu_exit(struct nvmm_vcpu *vcpu)
{
	const struct nvmm_vcpu_exit *exit = vcpu->exit;

	switch (exit->reason) {
	case NVMM_VCPU_EXIT_NONE:
		return false;
	case NVMM_VCPU_EXIT_IO:
		if (nvmm_assist_io(&demo.mach, vcpu) == -1)
			err(1, "VCPU %u: IO assist", vcpu->cpuid);
		return false;
	case NVMM_VCPU_EXIT_MEMORY:
		if (nvmm_assist_mem(&demo.mach, vcpu) == -1)
			err(1, "VCPU %u: memory assist", vcpu->cpuid);
		return false;
	case NVMM_VCPU_EXIT_HALTED:
		/* Halted with interrupts off: this VCPU is finished. */
		return !(exit->exitstate.rflags & 0x200);
	case NVMM_VCPU_EXIT_STOPPED:
		return atomic_load(&demo.status) != -1 || signals > 1;
	case NVMM_VCPU_EXIT_SHUTDOWN:
		errx(1, "VCPU %u: triple fault", vcpu->cpuid);
	default:
		errx(1, "VCPU %u: unexpected exit %#jx", vcpu->cpuid,
		    (uintmax_t)exit->reason);
	}
}

static void *
vcpu_main(void *arg)
{
	struct nvmm_vcpu *vcpu = arg;

	while (atomic_load(&demo.status) == -1 && signals < 2) {
		if (nvmm_vcpu_run(&demo.mach, vcpu) == -1) {
			if (errno == ENOENT) {
				atomic_store(&demo.killed, true);
				power_off(EXIT_KILLED);
				break;
			}
			err(1, "VCPU %u: run", vcpu->cpuid);
		}
		if (vcpu_exit(vcpu))
			break;
	}
	return NULL;
}

/* RBX = index, RCX = count, RDI = ticks: the image's boot protocol. */
static void
vcpu_setup(unsigned i)
{
	struct nvmm_vcpu *vcpu = &demo.vcpus[i];
	struct nvmm_x64_state *st;

	if (nvmm_vcpu_create(&demo.mach, i, vcpu) == -1)
		err(1, "nvmm_vcpu_create");
	if (nvmm_vcpu_configure(&demo.mach, vcpu, NVMM_VCPU_CONF_CALLBACKS,
	    (void *)&demo_callbacks) == -1)
		err(1, "nvmm_vcpu_configure");
	if (nvmm_vcpu_getstate(&demo.mach, vcpu, NVMM_X64_STATE_SEGS |
	    NVMM_X64_STATE_GPRS) == -1)
		err(1, "nvmm_vcpu_getstate");
	st = vcpu->state;
	st->segs[NVMM_X64_SEG_CS].selector = 0;
	st->segs[NVMM_X64_SEG_CS].base = 0;
	st->gprs[NVMM_X64_GPR_RIP] = demo.hdr.entry;
	st->gprs[NVMM_X64_GPR_RBX] = i;
	st->gprs[NVMM_X64_GPR_RCX] = demo.nvcpus;
	st->gprs[NVMM_X64_GPR_RDI] = demo.ticks;
	if (nvmm_vcpu_setstate(&demo.mach, vcpu, NVMM_X64_STATE_SEGS |
	    NVMM_X64_STATE_GPRS) == -1)
		err(1, "nvmm_vcpu_setstate");
}

static void
machine_setup(void)
{
	if (nvmm_init() == -1)
		err(1, "cannot reach nvmmd (is it running? NVMM_SOCKET=%s)",
		    getenv("NVMM_SOCKET") ? getenv("NVMM_SOCKET") :
		    "unset");
	if (nvmm_machine_create(&demo.mach) == -1)
		err(1, "nvmm_machine_create");
	demo.ram = mmap(NULL, demo.ramsize, PROT_READ | PROT_WRITE,
	    MAP_ANON | MAP_PRIVATE, -1, 0);
	if (demo.ram == MAP_FAILED)
		err(1, "cannot allocate %zu MiB", demo.ramsize >> 20);
	if (nvmm_hva_map(&demo.mach, (uintptr_t)demo.ram, demo.ramsize) == -1)
		err(1, "nvmm_hva_map");
	if (nvmm_gpa_map(&demo.mach, (uintptr_t)demo.ram, 0, demo.ramsize,
	    PROT_READ | PROT_WRITE | PROT_EXEC) == -1)
		err(1, "nvmm_gpa_map");
}

/* The first signal presses the power button, the next one pulls the plug. */
static void
on_signal(int sig)
{
	volatile uint32_t *button;
	unsigned i;

	(void)sig;
	signals++;
	button = (volatile uint32_t *)(demo.ram + demo.hdr.power_button);
	*button = 1;
	if (signals > 1)
		for (i = 0; i < demo.nvcpus; i++)
			nvmm_vcpu_stop(&demo.vcpus[i]);
}

static void
signals_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int
main(int argc, char **argv)
{
	pthread_t threads[DEMO_MAX_VCPUS];
	unsigned long mib = 16;
	uint8_t *image;
	unsigned i;
	int ch, status;

	demo.nvcpus = 2;
	demo.ticks = 20;
	while ((ch = getopt(argc, argv, "c:hm:t:")) != -1) {
		switch (ch) {
		case 'c':
			demo.nvcpus = (unsigned)parse_number(optarg,
			    DEMO_MAX_VCPUS, "VCPU count");
			if (demo.nvcpus == 0)
				usage(2);
			break;
		case 'h':
			usage(0);
		case 'm':
			mib = parse_number(optarg, 4096, "memory size");
			break;
		case 't':
			demo.ticks = parse_number(optarg, 1000000, "tick count");
			break;
		default:
			usage(2);
		}
	}
	if (argc - optind > 1)
		usage(2);
	demo.ramsize = mib << 20;
	if (demo.ramsize == 0)
		errx(1, "too little memory: 0 MiB");

	image = image_read(optind < argc ? argv[optind] : DEMO_IMAGE);
	machine_setup();
	memcpy(demo.ram + demo.hdr.load, image, demo.hdr.size);
	free(image);
	for (i = 0; i < demo.nvcpus; i++)
		vcpu_setup(i);
	signals_setup();
	for (i = 0; i < demo.nvcpus; i++)
		if (pthread_create(&threads[i], NULL, vcpu_main,
		    &demo.vcpus[i]) != 0)
			errx(1, "cannot start VCPU thread %u", i);
	for (i = 0; i < demo.nvcpus; i++)
		pthread_join(threads[i], NULL);
	serial_end_line();

	if (atomic_load(&demo.killed)) {
		warnx("the machine was destroyed under the guest "
		    "(nvmmctl kill?)");
		return EXIT_KILLED;
	}
	status = atomic_load(&demo.status);
	if (status == -1)
		return signals > 1 ? EXIT_SIGNAL : 1;
	nvmm_machine_destroy(&demo.mach);
	return status;
}
