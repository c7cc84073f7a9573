/*
 * Machines and their VCPU threads.  Each VCPU has a thread that alone
 * runs it and answers its doorbell (proto/nvmm_doorbell.h), so that no
 * control request ever waits on a running guest.  The thread spins a
 * little after each answer, since the next request of an emulator comes
 * within microseconds, then sleeps on the doorbell: an idle VCPU costs
 * nothing.
 *
 * The machine table belongs to the event loop; a VCPU thread only reads
 * its own record.  Before kernel/ destroys a machine or a VCPU, its
 * threads are stopped: they read the comm pages that go with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvmmd.h"
#include "nvmm_futex.h"

/* How long a VCPU thread waits for the next request before sleeping. */
#define VCPU_SPIN_NS	100000L

/* The daemon's address space every machine takes: kernel/'s comm memfd. */
#define MACHINE_COMM_SIZE \
	((uint64_t)NVMM_MAX_VCPUS * NVMM_KERN_COMM_STRIDE)

static struct nvmmd_machine machines[NVMM_MAX_MACHINES];

static uint64_t
vcpu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* True when the doorbell moved within the spin budget. */
static bool
vcpu_spin(struct nvmm_doorbell *db, uint32_t wake)
{
	uint64_t end = vcpu_now_ns() + VCPU_SPIN_NS;
	unsigned i;

	for (;;) {
		for (i = 0; i < 64; i++) {
			if (__atomic_load_n(&db->wake, __ATOMIC_ACQUIRE) != wake)
				return true;
			__builtin_ia32_pause();
		}
		if (vcpu_now_ns() >= end)
			return false;
	}
}

static void
vcpu_sleep(struct nvmmd_vcpu *v, uint32_t wake)
{
	struct nvmm_doorbell *db = v->db;

	__atomic_store_n(&db->daemon_waits, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&db->wake, __ATOMIC_SEQ_CST) == wake &&
	    !atomic_load(&v->quit))
		nvmm_futex_wait(&db->wake, wake, NULL);
	__atomic_store_n(&db->daemon_waits, 0, __ATOMIC_SEQ_CST);
}

static void
vcpu_answer(struct nvmm_doorbell *db, uint32_t seq, int error, bool done)
{
	db->error = error;
	db->done = done;
	__atomic_store_n(&db->ack, seq, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&db->client_waits, __ATOMIC_SEQ_CST))
		nvmm_futex_wake(&db->ack);
}

/* NVMM's exit reason, as an index of the statistics. */
static unsigned
vcpu_exit_index(uint64_t reason)
{
	switch (reason) {
	case NVMM_VCPU_EXIT_NONE: return NVMM_CTL_STATS_EXIT_NONE;
	case NVMM_VCPU_EXIT_MEMORY: return NVMM_CTL_STATS_EXIT_MEMORY;
	case NVMM_VCPU_EXIT_IO: return NVMM_CTL_STATS_EXIT_IO;
	case NVMM_VCPU_EXIT_SHUTDOWN: return NVMM_CTL_STATS_EXIT_SHUTDOWN;
	case NVMM_VCPU_EXIT_INT_READY: return NVMM_CTL_STATS_EXIT_INT_READY;
	case NVMM_VCPU_EXIT_NMI_READY: return NVMM_CTL_STATS_EXIT_NMI_READY;
	case NVMM_VCPU_EXIT_HALTED: return NVMM_CTL_STATS_EXIT_HALTED;
	case NVMM_VCPU_EXIT_TPR_CHANGED: return NVMM_CTL_STATS_EXIT_TPR_CHANGED;
	case NVMM_VCPU_EXIT_RDMSR: return NVMM_CTL_STATS_EXIT_RDMSR;
	case NVMM_VCPU_EXIT_WRMSR: return NVMM_CTL_STATS_EXIT_WRMSR;
	case NVMM_VCPU_EXIT_MONITOR: return NVMM_CTL_STATS_EXIT_MONITOR;
	case NVMM_VCPU_EXIT_MWAIT: return NVMM_CTL_STATS_EXIT_MWAIT;
	case NVMM_VCPU_EXIT_CPUID: return NVMM_CTL_STATS_EXIT_CPUID;
	case NVMM_VCPU_EXIT_STOPPED: return NVMM_CTL_STATS_EXIT_STOPPED;
	default: return NVMM_CTL_STATS_EXIT_INVALID;
	}
}

static void
vcpu_account(struct nvmmd_vcpu *v, uint64_t start, uint64_t reason)
{
	__atomic_fetch_add(&v->nruns, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&v->run_ns, vcpu_now_ns() - start, __ATOMIC_RELAXED);
	__atomic_fetch_add(&v->exits[vcpu_exit_index(reason)], 1,
	    __ATOMIC_RELAXED);
}

/* Guest time so far, the run under way included. */
static uint64_t
vcpu_run_ns(const struct nvmmd_vcpu *v)
{
	uint64_t since = __atomic_load_n(&v->run_since, __ATOMIC_RELAXED);
	uint64_t ns = __atomic_load_n(&v->run_ns, __ATOMIC_RELAXED);

	return since != 0 ? ns + (vcpu_now_ns() - since) : ns;
}

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
	uint64_t start;
	int error;

	watcher_add(v);
	start = vcpu_now_ns();
	__atomic_store_n(&v->run_since, start, __ATOMIC_RELAXED);
	error = nvmm_kern_vcpu_run(v->owner, v->machid, v->cpuid, &exit);
	__atomic_store_n(&v->run_since, 0, __ATOMIC_RELAXED);
	if (error == 0)
		vcpu_account(v, start, exit.reason);
	if (error == 0 && exit.reason == NVMM_VCPU_EXIT_INVALID)
		vcpu_log_invalid(v, &exit);
	watcher_remove(v);
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
	vcpu_answer(db, seq, error, done);
}

static void *
vcpu_main(void *arg)
{
	struct nvmmd_vcpu *v = arg;
	struct nvmm_doorbell *db = v->db;
	uint32_t wake, seq, served = 0;
	int error;

	/* A VCPU thread runs a guest: it gets less than the daemon. */
	if ((error = sandbox_enter_vcpu()) != 0) {
		log_warnx("machine %u VCPU %u: no seccomp filter: %s",
		    (unsigned)v->machid, (unsigned)v->cpuid, strerror(error));
		atomic_store(&v->quit, true);
	}
	for (;;) {
		wake = __atomic_load_n(&db->wake, __ATOMIC_SEQ_CST);
		if (atomic_load(&v->quit))
			break;
		seq = __atomic_load_n(&db->seq, __ATOMIC_ACQUIRE);
		if (seq != served) {
			vcpu_serve(v, seq);
			served = seq;
			continue;
		}
		if (!vcpu_spin(db, wake))
			vcpu_sleep(v, wake);
	}
	/* Nobody will answer from now on; a request in flight learns why. */
	__atomic_store_n(&db->dead, 1, __ATOMIC_SEQ_CST);
	seq = __atomic_load_n(&db->seq, __ATOMIC_SEQ_CST);
	if (seq != served)
		vcpu_answer(db, seq, ENOENT, false);
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

int
vcpu_start(struct nvmm_owner *owner, nvmm_machid_t machid,
    nvmm_cpuid_t cpuid)
{
	struct nvmmd_vcpu *v;
	int error;

	if (machid >= NVMM_MAX_MACHINES || cpuid >= NVMM_MAX_VCPUS ||
	    !machines[machid].present)
		return EINVAL;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return ENOMEM;
	v->owner = owner;
	v->machid = machid;
	v->cpuid = cpuid;
	atomic_init(&v->quit, false);
	error = nvmm_kern_vcpu_comm(owner, machid, cpuid, &v->comm, NULL, NULL);
	if (error)
		goto out;
	v->db = nvmm_doorbell(v->comm);
	error = vcpu_thread_create(v);
	if (error)
		goto out;
	machines[machid].vcpus[cpuid] = v;
	return 0;
out:
	free(v);
	return error;
}

static struct nvmmd_vcpu *
vcpu_lookup(nvmm_machid_t machid, nvmm_cpuid_t cpuid)
{
	if (machid >= NVMM_MAX_MACHINES || cpuid >= NVMM_MAX_VCPUS)
		return NULL;
	return machines[machid].vcpus[cpuid];
}

/*
 * Tells a VCPU thread to end, without waiting.  The cancel, unlike a kick,
 * stays set in kernel/, so a run ends within one guest exit however the
 * guest loops (a kick landing as KVM_RUN returns would be lost), and
 * reaping the thread never waits on the guest.
 */
static void
vcpu_cancel(struct nvmmd_vcpu *v)
{
	atomic_store(&v->quit, true);
	__atomic_fetch_add(&v->db->wake, 1, __ATOMIC_SEQ_CST);
	nvmm_futex_wake(&v->db->wake);
	nvmm_kern_vcpu_cancel(v->owner, v->machid, v->cpuid);
}

static void
vcpu_reap(struct nvmmd_vcpu *v)
{
	pthread_join(v->thread, NULL);
	machines[v->machid].vcpus[v->cpuid] = NULL;
	limits_refund(machines[v->machid].uid, NVMMD_LIMIT_VCPUS, 1);
	free(v);
}

void
vcpu_stop(nvmm_machid_t machid, nvmm_cpuid_t cpuid)
{
	struct nvmmd_vcpu *v = vcpu_lookup(machid, cpuid);

	if (v == NULL)
		return;
	vcpu_cancel(v);
	vcpu_reap(v);
}

/* The command name of a process, from /proc; empty if it is gone. */
static void
machine_comm(pid_t pid, char comm[16])
{
	char path[64];
	ssize_t n;
	int fd;

	memset(comm, 0, 16);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return;
	n = read(fd, comm, 15);
	close(fd);
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
}

int
machine_record(nvmm_machid_t machid, struct nvmm_owner *owner,
    const struct nvmmd_peer *peer)
{
	struct nvmmd_machine *m;
	int error;

	if (machid >= NVMM_MAX_MACHINES)
		return EINVAL;
	error = limits_charge(peer->uid, NVMMD_LIMIT_MACHINES, 1);
	if (error)
		return error;
	error = limits_charge(peer->uid, NVMMD_LIMIT_MAPPED, MACHINE_COMM_SIZE);
	if (error) {
		limits_refund(peer->uid, NVMMD_LIMIT_MACHINES, 1);
		return error;
	}
	m = &machines[machid];
	memset(m, 0, sizeof(*m));
	m->present = true;
	m->owner = owner;
	m->uid = peer->uid;
	m->pid = peer->pid;
	m->mapped = MACHINE_COMM_SIZE;
	machine_comm(peer->pid, m->comm);
	log_debug("machine %u: made by pid %d uid %u (%s)", (unsigned)machid,
	    (int)peer->pid, (unsigned)peer->uid, m->comm);
	return 0;
}

/*
 * A VCPU is charged to the machine's creator before kernel/ makes it: a
 * KVM VCPU cannot be destroyed, so one made and then refused would stay
 * behind, parked, for as long as the machine lives.  The charge is
 * refunded when the VCPU thread is reaped, or by the caller on failure.
 */
int
machine_vcpu_charge(nvmm_machid_t machid)
{
	if (machid >= NVMM_MAX_MACHINES || !machines[machid].present)
		return ENOENT;
	return limits_charge(machines[machid].uid, NVMMD_LIMIT_VCPUS, 1);
}

void
machine_vcpu_refund(nvmm_machid_t machid)
{
	if (machid >= NVMM_MAX_MACHINES || !machines[machid].present)
		return;
	limits_refund(machines[machid].uid, NVMMD_LIMIT_VCPUS, 1);
}

/*
 * Guest RAM is charged to the machine's creator, whoever maps it, as RAM
 * and as the daemon's address space that maps it.
 */
int
machine_ram_charge(nvmm_machid_t machid, uint64_t size)
{
	struct nvmmd_machine *m;
	int error;

	if (machid >= NVMM_MAX_MACHINES || !machines[machid].present)
		return 0;
	m = &machines[machid];
	error = limits_charge(m->uid, NVMMD_LIMIT_RAM, size);
	if (error)
		return error;
	error = limits_charge(m->uid, NVMMD_LIMIT_MAPPED, size);
	if (error) {
		limits_refund(m->uid, NVMMD_LIMIT_RAM, size);
		return error;
	}
	m->ram += size;
	m->mapped += size;
	return 0;
}

void
machine_ram_refund(nvmm_machid_t machid, uint64_t size)
{
	struct nvmmd_machine *m;

	if (machid >= NVMM_MAX_MACHINES || !machines[machid].present)
		return;
	m = &machines[machid];
	size = size < m->ram ? size : m->ram;
	m->ram -= size;
	m->mapped -= size;
	limits_refund(m->uid, NVMMD_LIMIT_RAM, size);
	limits_refund(m->uid, NVMMD_LIMIT_MAPPED, size);
}

/* All of them are told first, so that they end together. */
void
machine_stop_vcpus(nvmm_machid_t machid)
{
	struct nvmmd_vcpu *v;
	nvmm_cpuid_t cpuid;

	for (cpuid = 0; cpuid < NVMM_MAX_VCPUS; cpuid++)
		if ((v = vcpu_lookup(machid, cpuid)) != NULL)
			vcpu_cancel(v);
	for (cpuid = 0; cpuid < NVMM_MAX_VCPUS; cpuid++)
		if ((v = vcpu_lookup(machid, cpuid)) != NULL)
			vcpu_reap(v);
}

void
machine_forget(nvmm_machid_t machid)
{
	if (machid >= NVMM_MAX_MACHINES)
		return;
	machine_stop_vcpus(machid);
	if (!machines[machid].present)
		return;
	machine_ram_refund(machid, machines[machid].ram);
	limits_refund(machines[machid].uid, NVMMD_LIMIT_MAPPED,
	    machines[machid].mapped);
	machines[machid].mapped = 0;
	limits_refund(machines[machid].uid, NVMMD_LIMIT_MACHINES, 1);
	machines[machid].present = false;
	machines[machid].owner = NULL;
}

void
machines_stop_owned(struct nvmm_owner *owner)
{
	nvmm_machid_t machid;

	for (machid = 0; machid < NVMM_MAX_MACHINES; machid++)
		if (machines[machid].present && machines[machid].owner == owner)
			machine_forget(machid);
}

/* -------------------------------------------------------------------------- */

void
machine_list(struct nvmm_owner *owner, uint64_t machids[2])
{
	nvmm_machid_t machid;

	machids[0] = machids[1] = 0;
	for (machid = 0; machid < NVMM_MAX_MACHINES; machid++)
		if (machines[machid].present &&
		    nvmm_kern_machine_access(owner, machid) == 0)
			machids[machid / 64] |= 1ULL << (machid % 64);
}

int
machine_owner(struct nvmm_owner *owner, struct nvmm_ctl_mach_owner *info)
{
	const struct nvmmd_machine *m;
	int error;

	error = nvmm_kern_machine_access(owner, info->machid);
	if (error)
		return error;
	m = &machines[info->machid];
	info->uid = m->uid;
	info->pid = m->pid;
	memcpy(info->comm, m->comm, sizeof(info->comm));
	return 0;
}

int
vcpu_stats(struct nvmm_owner *owner, struct nvmm_ctl_vcpu_stats *st)
{
	const struct nvmmd_vcpu *v;
	size_t i;
	int error;

	error = nvmm_kern_machine_access(owner, st->machid);
	if (error)
		return error;
	if (st->cpuid >= NVMM_MAX_VCPUS)
		return EINVAL;
	v = machines[st->machid].vcpus[st->cpuid];
	if (v == NULL)
		return ENOENT;
	st->nruns = __atomic_load_n(&v->nruns, __ATOMIC_RELAXED);
	st->run_ns = vcpu_run_ns(v);
	for (i = 0; i < NVMM_CTL_STATS_NEXITS; i++)
		st->exits[i] = __atomic_load_n(&v->exits[i], __ATOMIC_RELAXED);
	return 0;
}
