/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * VCPU threads.  Each VCPU has a thread that alone
 * runs it and answers its doorbell (proto/nvmm_doorbell.h), so that no
 * control request ever waits on a running guest.  The thread spins a
 * little after each answer, since the next request of an emulator comes
 * within microseconds, then sleeps on the doorbell: an idle VCPU costs
 * nothing.  machine.c starts and stops them; kernel/ counts their runs
 * and exits (NVMM_CTL_VCPU_STATS).
 *
 * Each VCPU also has a stop bell, an eventfd the client holds a
 * descriptor of: nvmm_vcpu_stop() only writes the comm page, and the
 * client's thread waiting for the run rings the bell when it sees that
 * (proto/nvmm_doorbell.c, rule 5).  The event loop, not the VCPU thread
 * that is inside the guest, hears it and kicks the VCPU: a stop costs no
 * thread that polls, and nothing on a run that is not stopped.
 */
#include <sys/eventfd.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nvmmd.h"

/*
 * An EXIT_INVALID means the guest cannot go on; the emulator sees one
 * code, the administrator gets the whole story.
 */
static void
vcpu_log_invalid(const struct nvmmd_vcpu *v, const struct nvmm_vcpu_exit *exit)
{
	char why[512];

	if (nvmm_kern_vcpu_invalid(v->owner, v->machid, v->cpuid, why,
	    sizeof(why)) != 0)
		snprintf(why, sizeof(why), "no details");
	log_warnx("machine %u vcpu %u (pid %d): EXIT_INVALID, hwcode %#llx: %s",
	    (unsigned)v->machid, (unsigned)v->cpuid,
	    (int)nvmm_kern_owner_pid(v->owner),
	    (unsigned long long)exit->u.inv.hwcode, why);
}

static int
vcpu_run(struct nvmmd_vcpu *v)
{
	struct nvmm_vcpu_exit exit;
	int error;

	error = nvmm_kern_vcpu_run(v->owner, v->machid, v->cpuid, &exit);
	if (error == 0 && exit.reason == NVMM_VCPU_EXIT_INVALID)
		vcpu_log_invalid(v, &exit);
	/* Killed while it ran: say so, rather than show an empty exit. */
	if (atomic_load(&v->quit))
		return ENOENT;
	if (error == 0)
		memcpy(&v->db->exit, &exit, sizeof(exit));
	return error;
}

static int
vcpu_configure(struct nvmmd_vcpu *v)
{
	uint8_t conf[NVMM_DOORBELL_CONF_MAX];
	uint64_t op;

	op = NVMM_READ_ONCE(v->db->conf_op);
	memcpy(conf, v->db->conf, sizeof(conf));
	return nvmm_kern_vcpu_configure(v->owner, v->machid, v->cpuid, op,
	    conf);
}

/* One request; the op is read once, whatever the client writes after. */
static void
vcpu_serve(struct nvmmd_vcpu *v, uint32_t seq)
{
	struct nvmm_doorbell *db = v->db;
	bool done = false;
	int error;

	switch (NVMM_READ_ONCE(db->op)) {
	case NVMM_DOORBELL_RUN:
		error = vcpu_run(v);
		break;
	case NVMM_DOORBELL_GETSTATE:
		error = nvmm_kern_vcpu_getstate(v->owner, v->machid, v->cpuid);
		break;
	case NVMM_DOORBELL_COMPLETE:
		error = nvmm_kern_vcpu_complete(v->owner, v->machid, v->cpuid,
		    &done);
		break;
	case NVMM_DOORBELL_CONFIGURE:
		error = vcpu_configure(v);
		break;
	default:
		error = EINVAL;
		break;
	}
	nvmm_doorbell_answer(db, seq, error, done);
}

static void *
vcpu_main(void *arg)
{
	struct nvmmd_vcpu *v = arg;
	uint32_t seq, served = 0;
	int error;

	/* A VCPU thread runs a guest: it gets less than the daemon. */
	if ((error = sandbox_enter_vcpu()) != 0) {
		log_warnx("machine %u VCPU %u: no seccomp filter: %s",
		    (unsigned)v->machid, (unsigned)v->cpuid, strerror(error));
		atomic_store(&v->quit, true);
	}
	while (nvmm_doorbell_next(v->db, served, &v->quit, &seq)) {
		vcpu_serve(v, seq);
		served = seq;
	}
	/* Nobody will answer from now on; a request in flight learns why. */
	nvmm_doorbell_close(v->db, served);
	return NULL;
}

/* -------------------------------------------------------------------------- */

static int
vcpu_thread_create(struct nvmmd_vcpu *v)
{
	sigset_t all, old;
	int error;

	/* Signals are the main thread's; only kicks reach VCPU threads. */
	sigfillset(&all);
	sigdelset(&all, NVMM_KERN_KICK_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	error = pthread_create(&v->thread, NULL, vcpu_main, v);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return error;
}

/*
 * The bell rang: whatever the count, the stop word says whether to kick.
 * It is read once and trusted for nothing else; a bell without a stop (a
 * client ringing for nothing, or for a stop a return already consumed)
 * kicks nobody, and one with a stop kicks only this client's VCPU.
 */
static void
vcpu_bell(evutil_socket_t fd, short what, void *arg)
{
	struct nvmmd_vcpu *v = arg;
	uint64_t count;
	ssize_t n;

	(void)what;
	n = read(fd, &count, sizeof(count));	/* EAGAIN: drained already */
	(void)n;
	if (NVMM_READ_ONCE(v->comm->stop) != 0)
		(void)nvmm_kern_vcpu_kick(v->owner, v->machid, v->cpuid);
}

static int
vcpu_bell_open(struct nvmmd_vcpu *v)
{
	v->bell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->bell == -1)
		return errno;
	v->bell_ev = event_new(nvmmd_base, v->bell, EV_READ | EV_PERSIST,
	    vcpu_bell, v);
	if (v->bell_ev == NULL || event_add(v->bell_ev, NULL) == -1)
		return ENOMEM;
	return 0;
}

static void
vcpu_bell_close(struct nvmmd_vcpu *v)
{
	if (v->bell_ev != NULL)
		event_free(v->bell_ev);
	if (v->bell != -1)
		close(v->bell);
}

int
vcpu_bell_fd(const struct nvmmd_vcpu *v, int *fdp)
{
	*fdp = fcntl(v->bell, F_DUPFD_CLOEXEC, 0);
	return *fdp == -1 ? errno : 0;
}

/* Starts the thread of a VCPU kernel/ has made; *vp is its record. */
int
vcpu_start(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid, struct nvmmd_vcpu **vp)
{
	struct nvmmd_vcpu *v;
	int error;

	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return ENOMEM;
	v->owner = owner;
	v->machid = machid;
	v->cpuid = cpuid;
	v->bell = -1;
	atomic_init(&v->quit, false);
	error = nvmm_kern_vcpu_comm(owner, machid, cpuid, &v->comm, NULL, NULL);
	if (error)
		goto out;
	v->db = &nvmm_slot_of(v->comm)->doorbell;
	error = vcpu_bell_open(v);
	if (error)
		goto out;
	error = vcpu_thread_create(v);
	if (error)
		goto out;
	*vp = v;
	return 0;
out:
	vcpu_bell_close(v);
	free(v);
	return error;
}

/*
 * Tells a VCPU thread to end, without waiting.  The cancel, unlike a kick,
 * stays set in kernel/, so a run ends within one guest exit however the
 * guest loops (a kick landing as KVM_RUN returns would be lost), and
 * reaping the thread never waits on the guest.
 */
void
vcpu_cancel(struct nvmmd_vcpu *v)
{
	atomic_store(&v->quit, true);
	nvmm_doorbell_poke(v->db);
	nvmm_kern_vcpu_cancel(v->owner, v->machid, v->cpuid);
}

/* Waits for a cancelled VCPU's thread, and frees its record. */
void
vcpu_join(struct nvmmd_vcpu *v)
{
	pthread_join(v->thread, NULL);
	vcpu_bell_close(v);
	free(v);
}
