/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The children's side of h_roles: a command loop under another identity,
 * one result for each command, and nothing of ATF; see h_roles.h.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvmm.h>

#include "h_roles.h"

/*
 * Where the results go; the child's own connection (proto/nvmm_rpc.h), if
 * it made one: the way to the monitor role, and to each row of the role
 * table as such.
 */
static int ch_out = -1;
static struct nvmm_rpc ch_rpc = NVMM_RPC_INITIALIZER;

struct lmach {
	struct nvmm_machine mach;
	uint8_t *ram;
	size_t size;
	gpaddr_t gpa;
	struct nvmm_vcpu vcpus[4];
	unsigned nvcpus;
};
static struct lmach lmachs[4];
static int nlmachs;

static void
ch_send(struct res *r)
{
	if (write(ch_out, r, sizeof(*r)) != (ssize_t)sizeof(*r))
		_exit(3);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
ch_trouble(const char *fmt, ...)
{
	struct res r;
	va_list ap;

	memset(&r, 0, sizeof(r));
	r.type = RES_TROUBLE;
	r.error = errno;
	va_start(ap, fmt);
	vsnprintf(r.text, sizeof(r.text), fmt, ap);
	va_end(ap);
	ch_send(&r);
	_exit(2);
}

static void
ch_become(const struct ident *id, pid_t parent)
{
	gid_t groups[8];
	int n;

	if (setgroups((size_t)id->ngroups, id->groups) == -1)
		ch_trouble("setgroups: %s", strerror(errno));
	if (setresgid(id->gid, id->gid, id->gid) == -1)
		ch_trouble("setresgid %u: %s", id->gid, strerror(errno));
	if (setresuid(id->uid, id->uid, id->uid) == -1)
		ch_trouble("setresuid %u: %s", id->uid, strerror(errno));
	n = getgroups(8, groups);
	if (getuid() != id->uid || geteuid() != id->uid ||
	    getgid() != id->gid || getegid() != id->gid ||
	    n != id->ngroups || (n == 1 && groups[0] != id->groups[0]))
		ch_trouble("not %s after the change", id->name);
	if (id->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		ch_trouble("%s can become root again", id->name);
	/* Credential changes clear it: set it now. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(4);
}

/* A machine with guest RAM that ends at 4 GiB, so a new VCPU runs it. */
static const uint8_t hlt_loop[] = { 0xF4, 0xEB, 0xFD };	/* hlt; jmp . - 1 */
static const uint8_t spin[] = { 0xEB, 0xFE };		/* jmp . */

static uint8_t *
lm_reset_vector(struct lmach *lm)
{
	return lm->ram + lm->size - 0x10;
}

static void
ch_lib_machine(const struct cmd *c, struct res *r)
{
	struct lmach *lm;
	unsigned i;

	if (nlmachs == 4 || c->a[0] > 4 || (c->a[1] & (PAGE - 1)))
		ch_trouble("bad CMD_LIB_MACHINE");
	lm = &lmachs[nlmachs];
	lm->size = c->a[1];
	lm->gpa = (1ULL << 32) - lm->size;
	if (nvmm_machine_create(&lm->mach) == -1)
		ch_trouble("nvmm_machine_create: %s", strerror(errno));
	lm->ram = mmap(NULL, lm->size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (lm->ram == MAP_FAILED)
		ch_trouble("mmap: %s", strerror(errno));
	if (nvmm_hva_map(&lm->mach, (uintptr_t)lm->ram, lm->size) == -1)
		ch_trouble("nvmm_hva_map: %s", strerror(errno));
	if (nvmm_gpa_map(&lm->mach, (uintptr_t)lm->ram, lm->gpa, lm->size,
	    RWX) == -1)
		ch_trouble("nvmm_gpa_map: %s", strerror(errno));
	memcpy(lm_reset_vector(lm), hlt_loop, sizeof(hlt_loop));
	for (i = 0; i < c->a[0]; i++)
		if (nvmm_vcpu_create(&lm->mach, i, &lm->vcpus[i]) == -1)
			ch_trouble("nvmm_vcpu_create %u: %s", i,
			    strerror(errno));
	lm->nvcpus = (unsigned)c->a[0];
	r->v[0] = lm->mach.machid;
	r->v[1] = (int64_t)(uintptr_t)lm->ram;
	r->v[2] = (int64_t)lm->size;
	r->v[3] = (int64_t)lm->gpa;
	r->v[4] = lm->nvcpus;
	r->v[5] = nlmachs++;
}

static struct lmach *
ch_lmach(const struct cmd *c)
{
	if (c->a[0] >= (uint64_t)nlmachs ||
	    c->a[1] >= lmachs[c->a[0]].nvcpus)
		ch_trouble("no machine %ju VCPU %ju", (uintmax_t)c->a[0],
		    (uintmax_t)c->a[1]);
	return &lmachs[c->a[0]];
}

/* Runs to the guest's HLT: error 0 and the exit reason, or errno. */
static void
ch_lib_run(const struct cmd *c, struct res *r)
{
	struct lmach *lm = ch_lmach(c);
	struct nvmm_vcpu *vcpu = &lm->vcpus[c->a[1]];
	int i;

	memcpy(lm_reset_vector(lm), hlt_loop, sizeof(hlt_loop));
	for (i = 0; i < 100; i++) {
		if (nvmm_vcpu_run(&lm->mach, vcpu) == -1) {
			r->error = errno;
			return;
		}
		r->v[0] = (int64_t)vcpu->exit->reason;
		if (vcpu->exit->reason != NVMM_VCPU_EXIT_NONE)
			return;
	}
}

/*
 * Says it is about to run, then spins a VCPU that has not run yet until
 * nvmm_vcpu_run fails: error is its errno, v0 when it returned.
 */
static void
ch_lib_spin(const struct cmd *c, struct res *r)
{
	struct lmach *lm = ch_lmach(c);
	struct nvmm_vcpu *vcpu = &lm->vcpus[c->a[1]];
	struct res running;

	memcpy(lm_reset_vector(lm), spin, sizeof(spin));
	memset(&running, 0, sizeof(running));
	running.type = RES_RUNNING;
	ch_send(&running);
	while (nvmm_vcpu_run(&lm->mach, vcpu) == 0)
		r->v[1]++;
	r->error = errno;
	r->v[0] = (int64_t)now_ns();
}

/* hva_map with a memfd of size bytes, sealed against shrinking. */
static int
ch_hva_map(nvmm_machid_t machid, uint64_t hva, uint64_t size)
{
	int fd, error;

	fd = memfd_create("h_child", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1)
		return errno;
	if (ftruncate(fd, (off_t)size) == -1 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == -1)
		error = errno;
	else
		error = nvmm_rpc_hva_map(&ch_rpc, machid, hva, size, fd);
	close(fd);
	return error;
}

/*
 * The whole host: v0 the machines (HostStats) or the text's length
 * (Metrics), v1 the VCPUs or whether the text counts the machines.
 */
static void
ch_host(int row, struct res *r)
{
	struct nvmm_host_stats hs;
	size_t len;
	char *text;

	if (row == ROW_HOST_STATS) {
		r->error = nvmm_rpc_host_stats(&ch_rpc, &hs);
		if (r->error)
			return;
		r->v[0] = (int64_t)hs.nmachs;
		r->v[1] = (int64_t)hs.nvcpus;
		nvmm_host_stats_free(&hs);
		return;
	}
	r->error = nvmm_rpc_metrics(&ch_rpc, &text, &len);
	if (r->error)
		return;
	r->v[0] = (int64_t)len;
	r->v[1] = strstr(text, "\nnvmm_machines ") != NULL;
	free(text);
}

static void
ch_op(const struct cmd *c, struct res *r)
{
	struct nvmm_capability cap;
	uint8_t data[DATA_MAX];
	nvmm_machid_t machid = 0;
	int commfd = -1;

	if (c->op < 0 || c->op >= ROW_COUNT || c->len > DATA_MAX)
		ch_trouble("bad CMD_OP");
	r->v[4] = (int64_t)now_ns();
	switch ((enum row)c->op) {
	case ROW_CAPABILITY:
		r->error = nvmm_rpc_capability(&ch_rpc, &cap);
		r->v[0] = cap.version;
		r->v[1] = cap.state_size;
		break;
	case ROW_MACHINE_CREATE:
		r->error = nvmm_rpc_machine_create(&ch_rpc, &machid, &commfd);
		r->v[0] = machid;
		r->v[1] = commfd != -1;
		if (commfd != -1)
			close(commfd);
		break;
	case ROW_MACHINE_DESTROY:
		r->error = nvmm_rpc_machine_destroy(&ch_rpc,
		    (nvmm_machid_t)c->a[0]);
		break;
	case ROW_MACHINE_CONFIGURE:
		r->error = nvmm_rpc_machine_configure(&ch_rpc,
		    (nvmm_machid_t)c->a[0], c->a[1], c->data, c->len);
		break;
	case ROW_VCPU_CREATE:
		r->error = nvmm_rpc_vcpu_create(&ch_rpc,
		    (nvmm_machid_t)c->a[0], (nvmm_cpuid_t)c->a[1]);
		break;
	case ROW_VCPU_DESTROY:
		r->error = nvmm_rpc_vcpu_destroy(&ch_rpc,
		    (nvmm_machid_t)c->a[0], (nvmm_cpuid_t)c->a[1]);
		break;
	case ROW_HVA_MAP:
		r->error = ch_hva_map((nvmm_machid_t)c->a[0], c->a[1],
		    c->a[2]);
		break;
	case ROW_HVA_UNMAP:
		r->error = nvmm_rpc_hva_unmap(&ch_rpc, (nvmm_machid_t)c->a[0],
		    c->a[1], c->a[2]);
		break;
	case ROW_GPA_MAP:
		r->error = nvmm_rpc_gpa_map(&ch_rpc, (nvmm_machid_t)c->a[0],
		    c->a[1], c->a[2], c->a[3], (int)c->a[4]);
		break;
	case ROW_GPA_UNMAP:
		r->error = nvmm_rpc_gpa_unmap(&ch_rpc, (nvmm_machid_t)c->a[0],
		    c->a[1], c->a[2]);
		break;
	case ROW_CTL_MACH_INFO:
	case ROW_CTL_MACH_LIST:
	case ROW_CTL_MACH_OWNER:
	case ROW_CTL_VCPU_STATS:
	case ROW_CTL_MACH_KILL:
	case ROW_CTL_MACH_IDENT:
		memcpy(data, c->data, c->len);
		r->error = nvmm_rpc_ctl(&ch_rpc, rows[c->op].ctl, data,
		    c->len);
		if (r->error == 0) {
			memcpy(r->data, data, c->len);
			r->len = c->len;
		}
		break;
	case ROW_HOST_STATS:
	case ROW_METRICS:
		ch_host(c->op, r);
		break;
	case ROW_SHUTDOWN:
		r->error = nvmm_rpc_shutdown(&ch_rpc);
		break;
	default:
		ch_trouble("bad row %d", c->op);
	}
	r->v[5] = (int64_t)now_ns();
}

/*
 * Every ctl op in a range well past the known ones, with many sizes of
 * zeroed data: what is not a known op of the table answers EINVAL (the
 * driver's answer to unknown ops); known ops answer EINVAL for a wrong
 * size, and EPERM where the role is refused.  v0: requests, v1: answers
 * that were not as expected, the first in text.
 */
static void
ch_probe(const struct cmd *c, struct res *r)
{
	static const int extra_ops[] = { INT_MIN, -1000, 0x3FF, 0x400, 0x1000,
	    0xFFFF, 0x10000, 0x1000000, INT_MAX };
	static const size_t extra_sizes[] = { 1, 2, 3, 5, 257, 300, 1024 };
	static uint8_t data[1024];
	enum col col = (enum col)c->a[0];
	size_t nops = 0x220 + 16 + sizeof(extra_ops) / sizeof(extra_ops[0]);
	size_t nsizes = 65 + sizeof(extra_sizes) / sizeof(extra_sizes[0]);
	size_t i, j, k, len = 0;
	int op, size, want, got;

	for (i = 0; i < nops; i++) {
		op = i < 0x230 ? (int)i - 16 : extra_ops[i - 0x230];
		for (j = 0; j < nsizes; j++) {
			size = j < 65 ? (int)j * 4 : (int)extra_sizes[j - 65];
			for (k = 0; k < ROW_COUNT && rows[k].ctl != op; k++)
				continue;
			if (k < ROW_COUNT && rows[k].want[col] == N)
				want = EPERM;
			else if (k < ROW_COUNT &&
			    (size_t)size == rows[k].ctl_size)
				continue;	/* the table cases do these */
			else
				want = EINVAL;
			memset(data, 0, sizeof(data));
			got = nvmm_rpc_ctl(&ch_rpc, op, data, (size_t)size);
			r->v[0]++;
			if (got == want)
				continue;
			if (r->v[1]++ < 6 && len < sizeof(r->text) - 1)
				len += (size_t)snprintf(r->text + len,
				    sizeof(r->text) - len, "%sop %#x size %d: "
				    "%s", len ? "; " : "", (unsigned)op, size,
				    ename(got));
			if (got == ENXIO)
				return;		/* the connection is gone */
		}
	}
}

/* The table through libnvmm's public API; see LIB_UNTRIED. */
static void
ch_lib_table(const struct cmd *c, struct res *r)
{
	struct nvmm_capability cap;
	struct nvmm_machine mach;
	struct nvmm_vcpu vcpu;
	struct nvmm_ctl_mach_info info;
	struct nvmm_ctl_mach_list list;
	struct nvmm_ctl_mach_owner owner;
	struct nvmm_ctl_vcpu_stats st;
	struct nvmm_ctl_mach_kill kill;
	struct nvmm_ctl_mach_ident ident;
	int err[ROW_COUNT];
	uint8_t conf[64], *ram;
	size_t i;

	for (i = 0; i < ROW_COUNT; i++)
		err[i] = LIB_UNTRIED;
#define LIBCALL(row, call)	(err[row] = (call) == -1 ? errno : 0)
	LIBCALL(ROW_CAPABILITY, nvmm_capability(&cap));
	if (LIBCALL(ROW_MACHINE_CREATE, nvmm_machine_create(&mach)) != 0)
		goto out;
	memset(conf, 0, sizeof(conf));
	LIBCALL(ROW_MACHINE_CONFIGURE, nvmm_machine_configure(&mach,
	    NVMM_MACH_CONF_MD_BEGIN, conf));
	LIBCALL(ROW_VCPU_CREATE, nvmm_vcpu_create(&mach, 0, &vcpu));
	ram = mmap(NULL, G_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		ch_trouble("mmap: %s", strerror(errno));
	LIBCALL(ROW_HVA_MAP, nvmm_hva_map(&mach, (uintptr_t)ram, G_RAM));
	LIBCALL(ROW_GPA_MAP, nvmm_gpa_map(&mach, (uintptr_t)ram, 0, G_RAM,
	    RWX));
	memset(&info, 0, sizeof(info));
	info.machid = mach.machid;
	LIBCALL(ROW_CTL_MACH_INFO, nvmm_ctl(NVMM_CTL_MACH_INFO, &info,
	    sizeof(info)));
	r->v[0] = info.nvcpus;
	r->v[1] = (int64_t)info.nram;
	memset(&list, 0, sizeof(list));
	LIBCALL(ROW_CTL_MACH_LIST, nvmm_ctl(NVMM_CTL_MACH_LIST, &list,
	    sizeof(list)));
	r->v[2] = (int64_t)list.machids[0];
	r->v[3] = (int64_t)list.machids[1];
	memset(&owner, 0, sizeof(owner));
	owner.machid = mach.machid;
	LIBCALL(ROW_CTL_MACH_OWNER, nvmm_ctl(NVMM_CTL_MACH_OWNER, &owner,
	    sizeof(owner)));
	r->v[4] = owner.uid;
	memset(&st, 0, sizeof(st));
	st.machid = mach.machid;
	LIBCALL(ROW_CTL_VCPU_STATS, nvmm_ctl(NVMM_CTL_VCPU_STATS, &st,
	    sizeof(st)));
	memset(&ident, 0, sizeof(ident));
	ident.machid = mach.machid;
	LIBCALL(ROW_CTL_MACH_IDENT, nvmm_ctl(NVMM_CTL_MACH_IDENT, &ident,
	    sizeof(ident)));
	LIBCALL(ROW_GPA_UNMAP, nvmm_gpa_unmap(&mach, (uintptr_t)ram, 0,
	    G_RAM));
	LIBCALL(ROW_HVA_UNMAP, nvmm_hva_unmap(&mach, (uintptr_t)ram, G_RAM));
	LIBCALL(ROW_VCPU_DESTROY, nvmm_vcpu_destroy(&mach, &vcpu));
	kill.machid = c->a[0] == UINT64_MAX ? mach.machid :
	    (nvmm_machid_t)c->a[0];
	LIBCALL(ROW_CTL_MACH_KILL, nvmm_ctl(NVMM_CTL_MACH_KILL, &kill,
	    sizeof(kill)));
	LIBCALL(ROW_MACHINE_DESTROY, nvmm_machine_destroy(&mach));
#undef LIBCALL
	r->v[5] = mach.machid;
out:
	memcpy(r->data, err, sizeof(err));
	r->len = sizeof(err);
}

void
child_main(const struct ident *id, pid_t parent, int in, int out)
{
	struct cmd c;
	struct res r;
	ssize_t n;
	int error;

	ch_out = out;
	ch_become(id, parent);
	memset(&r, 0, sizeof(r));
	r.type = RES_READY;
	ch_send(&r);
	for (;;) {
		n = read(in, &c, sizeof(c));
		if (n == 0)
			_exit(0);
		if (n != (ssize_t)sizeof(c))
			ch_trouble("short command");
		memset(&r, 0, sizeof(r));
		r.type = RES_DONE;
		switch (c.type) {
		case CMD_CONNECT:
			nvmm_rpc_close(&ch_rpc);
			r.error = nvmm_rpc_open(&ch_rpc, sock_path,
			    (Nvmm__Role)c.a[0]);
			break;
		case CMD_DISCONNECT:
			nvmm_rpc_close(&ch_rpc);
			break;
		case CMD_OP:
			ch_op(&c, &r);
			break;
		case CMD_PROBE:
			ch_probe(&c, &r);
			break;
		case CMD_LIB_INIT:
			error = c.a[0] ? nvmm_root_init() : nvmm_init();
			r.error = error == -1 ? errno : 0;
			if (error == 0) {
				struct nvmm_capability cap;

				r.v[0] = nvmm_capability(&cap) == -1 ? errno :
				    0;
			}
			break;
		case CMD_LIB_MACHINE:
			ch_lib_machine(&c, &r);
			break;
		case CMD_LIB_RUN:
			ch_lib_run(&c, &r);
			break;
		case CMD_LIB_SPIN:
			ch_lib_spin(&c, &r);
			break;
		case CMD_LIB_TABLE:
			ch_lib_table(&c, &r);
			break;
		case CMD_LIB_CTL:
			if (c.len > DATA_MAX)
				ch_trouble("bad CMD_LIB_CTL");
			r.error = nvmm_ctl(c.op, c.data, c.len) == -1 ? errno :
			    0;
			memcpy(r.data, c.data, c.len);
			r.len = c.len;
			break;
		default:
			ch_trouble("unknown command %d", c.type);
		}
		ch_send(&r);
	}
}
