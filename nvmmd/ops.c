/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The requests.  Which role may make which request, NVMM_CTL ops apart,
 * is one table (nvmmd_ops); a request outside its role's column gets EPERM
 * and is logged.  It also says where each is answered.  In the worker,
 * with the session's owner: machine.c for what is charged to a uid
 * (machines, VCPUs, guest RAM), else kernel/, which checks ownership as
 * NetBSD's driver does; a user sees and touches only its own machines.
 * In the parent (host.c), which checks the table again: what admins and
 * monitors ask as the root owner, which sees every worker's machines,
 * and what is about the whole host.  The table keeps monitors from
 * changing anything.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "nvmmd.h"

#define ROLE_BIT(r)	(1U << (r))
#define R_USER		ROLE_BIT(NVMM__ROLE__ROLE_USER)
#define R_ADMIN		ROLE_BIT(NVMM__ROLE__ROLE_ADMIN)
#define R_MONITOR	ROLE_BIT(NVMM__ROLE__ROLE_MONITOR)
#define R_DRIVE		(R_USER | R_ADMIN)
#define R_ALL		(R_USER | R_ADMIN | R_MONITOR)
#define R_WATCH		(R_ADMIN | R_MONITOR)

/* Configuration data larger than any NVMM structure is refused. */
#define OPS_DATA_MAX	NVMMD_CTL_DATA_MAX

/* A table row for every ctl op the others do not name. */
#define OPS_CTL_ANY	(-1)

/*
 * Copies the bytes of a request field; an empty one has no buffer at all
 * (protobuf-c leaves it NULL), which memcpy may not be given.
 */
static void
ops_copy_bytes(void *dst, const ProtobufCBinaryData *src)
{
	if (src->len != 0)
		memcpy(dst, src->data, src->len);
}

struct ops_ctx {
	struct nvmmd_session *s;
	const Nvmm__Request *req;
	int fd;			/* the descriptor that came with it */
	Nvmm__Reply *reply;
	int *reply_fd;
	struct nvmmd_scratch *scratch;
};

static int
op_capability(struct ops_ctx *c)
{
	Nvmm__CapabilityResult *result = &c->scratch->capability;
	struct nvmm_capability cap;
	int error;

	error = nvmm_kern_capability(c->s->owner, &cap);
	if (error)
		return error;
	nvmm__capability_result__init(result);
	memcpy(c->scratch->bytes, &cap, sizeof(cap));
	result->capability.data = c->scratch->bytes;
	result->capability.len = sizeof(cap);
	c->reply->result_case = NVMM__REPLY__RESULT_CAPABILITY;
	c->reply->capability = result;
	return 0;
}

static int
op_machine_create(struct ops_ctx *c)
{
	Nvmm__MachineCreateResult *result = &c->scratch->machine_create;
	nvmm_machid_t machid;
	int error, fd = -1;

	error = machine_create(c->s->owner, &c->s->peer, &machid, &fd);
	if (error)
		return error;
	nvmm__machine_create_result__init(result);
	result->machid = machid;
	c->reply->result_case = NVMM__REPLY__RESULT_MACHINE_CREATE;
	c->reply->machine_create = result;
	*c->reply_fd = fd;
	return 0;
}

static int
op_machine_destroy(struct ops_ctx *c)
{
	return nvmm_kern_machine_destroy(c->s->owner,
	    c->req->machine_destroy->machid);
}

static int
op_machine_configure(struct ops_ctx *c)
{
	const Nvmm__MachineConfigure *m = c->req->machine_configure;
	uint8_t conf[OPS_DATA_MAX];

	if (m->conf.len > sizeof(conf))
		return EINVAL;
	memset(conf, 0, sizeof(conf));
	ops_copy_bytes(conf, &m->conf);
	return nvmm_kern_machine_configure(c->s->owner, m->machid, m->op,
	    conf);
}

static int
op_vcpu_create(struct ops_ctx *c)
{
	const Nvmm__VcpuCreate *m = c->req->vcpu_create;

	return machine_vcpu_create(c->s->owner, m->machid, m->cpuid,
	    c->reply_fd);
}

static int
op_vcpu_destroy(struct ops_ctx *c)
{
	const Nvmm__VcpuDestroy *m = c->req->vcpu_destroy;

	return machine_vcpu_destroy(c->s->owner, m->machid, m->cpuid);
}

static int
op_hva_map(struct ops_ctx *c)
{
	const Nvmm__HvaMap *m = c->req->hva_map;

	if (m->offset > INT64_MAX)
		return EINVAL;
	return machine_hva_map(c->s->owner, m->machid, m->hva, m->size, c->fd,
	    (off_t)m->offset);
}

static int
op_hva_unmap(struct ops_ctx *c)
{
	const Nvmm__HvaUnmap *m = c->req->hva_unmap;

	return machine_hva_unmap(c->s->owner, m->machid, m->hva, m->size);
}

static int
op_gpa_map(struct ops_ctx *c)
{
	const Nvmm__GpaMap *m = c->req->gpa_map;

	return nvmm_kern_gpa_map(c->s->owner, m->machid, m->hva, m->gpa,
	    m->size, m->prot);
}

static int
op_gpa_unmap(struct ops_ctx *c)
{
	const Nvmm__GpaUnmap *m = c->req->gpa_unmap;

	return nvmm_kern_gpa_unmap(c->s->owner, m->machid, m->gpa, m->size);
}

static void
ctl_reply(struct ops_ctx *c, size_t size)
{
	Nvmm__CtlResult *result = &c->scratch->ctl;

	nvmm__ctl_result__init(result);
	result->data.data = c->scratch->bytes;
	result->data.len = size;
	c->reply->result_case = NVMM__REPLY__RESULT_CTL;
	c->reply->ctl = result;
}

/* Every NVMM_CTL op but MACH_KILL is kernel/'s, unknown ops included. */
static int
op_ctl_kernel(struct ops_ctx *c)
{
	const Nvmm__Ctl *m = c->req->ctl;
	int error;

	if (m->data.len > OPS_DATA_MAX)
		return EINVAL;
	ops_copy_bytes(c->scratch->bytes, &m->data);
	error = nvmm_kern_ctl(c->s->owner, m->op, c->scratch->bytes,
	    m->data.len);
	if (error == 0)
		ctl_reply(c, m->data.len);
	return error;
}

/*
 * Whatever sees past the session's own machines is the parent's: it
 * alone knows every worker (host.c).
 */
static int
op_host(struct ops_ctx *c)
{
	return worker_host(c->req, c->reply, c->reply_fd, &c->scratch->hold);
}

/* -------------------------------------------------------------------------- */

/*
 * Who may do what: the one place that says it.  Users drive their own
 * machines; admins drive and kill any; monitors only look, and only they
 * and admins see the whole host at once.
 */
/* Where a request is answered: the worker, or the parent (host.c). */
enum ops_where {
	IN_WORKER,
	IN_PARENT_AS_ROOT,	/* the parent for the root owner's roles */
	IN_PARENT,
};

static const struct nvmmd_op {
	Nvmm__Request__OpCase op;
	int ctl;		/* for OP_CTL: the NVMM_CTL op, or OPS_CTL_ANY */
	const char *name;
	unsigned roles;
	bool takes_fd;
	enum ops_where where;
	int (*handler)(struct ops_ctx *);	/* in the worker */
} nvmmd_ops[] = {
	{ NVMM__REQUEST__OP_CAPABILITY, 0, "capability", R_ALL, false,
	    IN_WORKER, op_capability },
	{ NVMM__REQUEST__OP_MACHINE_CREATE, 0, "machine_create", R_DRIVE,
	    false, IN_WORKER, op_machine_create },
	{ NVMM__REQUEST__OP_MACHINE_DESTROY, 0, "machine_destroy", R_DRIVE,
	    false, IN_WORKER, op_machine_destroy },
	{ NVMM__REQUEST__OP_MACHINE_CONFIGURE, 0, "machine_configure",
	    R_DRIVE, false, IN_WORKER, op_machine_configure },
	{ NVMM__REQUEST__OP_VCPU_CREATE, 0, "vcpu_create", R_DRIVE, false,
	    IN_WORKER, op_vcpu_create },
	{ NVMM__REQUEST__OP_VCPU_DESTROY, 0, "vcpu_destroy", R_DRIVE, false,
	    IN_WORKER, op_vcpu_destroy },
	{ NVMM__REQUEST__OP_HVA_MAP, 0, "hva_map", R_DRIVE, true,
	    IN_WORKER, op_hva_map },
	{ NVMM__REQUEST__OP_HVA_UNMAP, 0, "hva_unmap", R_DRIVE, false,
	    IN_WORKER, op_hva_unmap },
	{ NVMM__REQUEST__OP_GPA_MAP, 0, "gpa_map", R_DRIVE, false,
	    IN_WORKER, op_gpa_map },
	{ NVMM__REQUEST__OP_GPA_UNMAP, 0, "gpa_unmap", R_DRIVE, false,
	    IN_WORKER, op_gpa_unmap },
	{ NVMM__REQUEST__OP_CTL, NVMM_CTL_MACH_LIST, "ctl mach_list", R_ALL,
	    false, IN_PARENT_AS_ROOT, op_ctl_kernel },
	{ NVMM__REQUEST__OP_CTL, NVMM_CTL_MACH_OWNER, "ctl mach_owner", R_ALL,
	    false, IN_PARENT_AS_ROOT, op_ctl_kernel },
	{ NVMM__REQUEST__OP_CTL, NVMM_CTL_VCPU_STATS, "ctl vcpu_stats", R_ALL,
	    false, IN_PARENT_AS_ROOT, op_ctl_kernel },
	{ NVMM__REQUEST__OP_CTL, NVMM_CTL_MACH_KILL, "ctl mach_kill", R_ADMIN,
	    false, IN_PARENT, op_host },
	{ NVMM__REQUEST__OP_CTL, NVMM_CTL_MACH_IDENT, "ctl mach_ident", R_ALL,
	    false, IN_PARENT_AS_ROOT, op_ctl_kernel },
	{ NVMM__REQUEST__OP_HOST_STATS, 0, "host_stats", R_WATCH, false,
	    IN_PARENT, op_host },
	{ NVMM__REQUEST__OP_METRICS, 0, "metrics", R_WATCH, false,
	    IN_PARENT, op_host },
	{ NVMM__REQUEST__OP_SHUTDOWN, 0, "shutdown", R_ADMIN, false,
	    IN_PARENT, op_host },
	/* NVMM_CTL_MACH_INFO, and EINVAL from kernel/ for unknown ops. */
	{ NVMM__REQUEST__OP_CTL, OPS_CTL_ANY, "ctl", R_ALL, false,
	    IN_PARENT_AS_ROOT, op_ctl_kernel },
};

static bool
ops_matches(const struct nvmmd_op *op, const Nvmm__Request *req)
{
	if (op->op != req->op_case)
		return false;
	if (op->op != NVMM__REQUEST__OP_CTL)
		return true;
	return op->ctl == OPS_CTL_ANY || op->ctl == req->ctl->op;
}

static const struct nvmmd_op *
ops_lookup(const Nvmm__Request *req)
{
	size_t i;

	for (i = 0; i < sizeof(nvmmd_ops) / sizeof(nvmmd_ops[0]); i++)
		if (ops_matches(&nvmmd_ops[i], req))
			return &nvmmd_ops[i];
	return NULL;
}

/* The parent's check behind the worker's: the same column of the table. */
bool
ops_permits(const Nvmm__Request *req, Nvmm__Role role)
{
	const struct nvmmd_op *op = ops_lookup(req);

	return op != NULL && (op->roles & ROLE_BIT(role)) != 0;
}

/* Whether role's request is the parent's to answer. */
bool
ops_host_request(const Nvmm__Request *req, Nvmm__Role role)
{
	const struct nvmmd_op *op = ops_lookup(req);

	if (op == NULL)
		return false;
	return op->where == IN_PARENT || (op->where == IN_PARENT_AS_ROOT &&
	    role != NVMM__ROLE__ROLE_USER);
}

/* The machine a request names, if it names one. */
static bool
ops_machid(const Nvmm__Request *req, nvmm_machid_t *machidp)
{
	switch (req->op_case) {
	case NVMM__REQUEST__OP_MACHINE_DESTROY:
		*machidp = req->machine_destroy->machid;
		return true;
	case NVMM__REQUEST__OP_MACHINE_CONFIGURE:
		*machidp = req->machine_configure->machid;
		return true;
	case NVMM__REQUEST__OP_VCPU_CREATE:
		*machidp = req->vcpu_create->machid;
		return true;
	case NVMM__REQUEST__OP_VCPU_DESTROY:
		*machidp = req->vcpu_destroy->machid;
		return true;
	case NVMM__REQUEST__OP_HVA_MAP:
		*machidp = req->hva_map->machid;
		return true;
	case NVMM__REQUEST__OP_HVA_UNMAP:
		*machidp = req->hva_unmap->machid;
		return true;
	case NVMM__REQUEST__OP_GPA_MAP:
		*machidp = req->gpa_map->machid;
		return true;
	case NVMM__REQUEST__OP_GPA_UNMAP:
		*machidp = req->gpa_unmap->machid;
		return true;
	case NVMM__REQUEST__OP_CTL:
		/* Every ctl structure but the list's starts with the id. */
		if (req->ctl->op == NVMM_CTL_MACH_LIST ||
		    req->ctl->data.len < sizeof(*machidp))
			return false;
		memcpy(machidp, req->ctl->data.data, sizeof(*machidp));
		return true;
	default:
		return false;
	}
}

/*
 * A worker's kernel/ knows only its own machines: a machine it does not
 * have may be another worker's, which NVMM calls EPERM, not ENOENT.
 */
static int
ops_errno(const Nvmm__Request *req, int error)
{
	nvmm_machid_t machid;

	if (error == ENOENT && ops_machid(req, &machid) &&
	    worker_elsewhere(machid))
		return EPERM;
	return error;
}

bool
ops_dispatch(struct nvmmd_session *s, const Nvmm__Request *req, int fd,
    Nvmm__Reply *reply, int *reply_fd, struct nvmmd_scratch *scratch)
{
	const struct nvmmd_op *op;
	struct ops_ctx c;

	op = ops_lookup(req);
	if (op == NULL) {
		log_peer_refusal(&s->peer, NVMMD_REFUSAL_MALFORMED,
		    "pid %d: unknown request %d",
		    (int)s->peer.pid, (int)req->op_case);
		return false;
	}
	/* A descriptor where none belongs, or none where one must be. */
	if (op->takes_fd != (fd != -1)) {
		log_peer_refusal(&s->peer, NVMMD_REFUSAL_MALFORMED,
		    "pid %d: %s with%s a descriptor",
		    (int)s->peer.pid, op->name, fd == -1 ? "out" : "");
		return false;
	}
	if (!(op->roles & ROLE_BIT(s->role))) {
		log_peer_refusal(&s->peer, NVMMD_REFUSAL_REQUEST,
		    "pid %d uid %u: %s refused to role %d",
		    (int)s->peer.pid, (unsigned)s->peer.uid, op->name,
		    (int)s->role);
		reply->error = EPERM;
		return true;
	}
	c.s = s;
	c.req = req;
	c.fd = fd;
	c.reply = reply;
	c.reply_fd = reply_fd;
	c.scratch = scratch;
	reply->error = ops_host_request(req, s->role) ? op_host(&c) :
	    ops_errno(req, op->handler(&c));
	log_debug("pid %d: %s: %d", (int)s->peer.pid, op->name, reply->error);
	return true;
}

/*
 * A connection ends: as closing /dev/nvmm, its owner's machines go.  Each
 * connection is an owner of its own (kernel/ gives admins and monitors
 * the root owner's rights, not one shared root owner), so only what this
 * connection created goes with it.
 */
void
ops_session_end(struct nvmmd_session *s)
{
	if (s->owner == NULL)
		return;
	nvmm_kern_close(s->owner);
	s->owner = NULL;
}
