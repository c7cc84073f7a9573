/*
 * The requests.  Which role may make which request is one table
 * (nvmmd_ops); a request outside its role's column gets EPERM and is
 * logged.  The handlers call kernel/ with the session's owner, which
 * checks ownership as NetBSD's driver does.
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

/* Configuration and ctl data larger than any NVMM structure is refused. */
#define OPS_DATA_MAX	64

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
	int error, fd;

	error = nvmm_kern_machine_create(c->s->owner, &machid);
	if (error)
		return error;
	error = nvmm_kern_machine_comm_fd(c->s->owner, machid, &fd);
	if (error) {
		nvmm_kern_machine_destroy(c->s->owner, machid);
		return error;
	}
	machine_record(machid, c->s->owner);
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
	nvmm_machid_t machid = c->req->machine_destroy->machid;
	int error;

	/* The threads stop first, and only for someone who may do this. */
	error = nvmm_kern_machine_access(c->s->owner, machid);
	if (error)
		return error;
	machine_stop_vcpus(machid);
	error = nvmm_kern_machine_destroy(c->s->owner, machid);
	machine_forget(machid);
	return error;
}

static int
op_machine_configure(struct ops_ctx *c)
{
	const Nvmm__MachineConfigure *m = c->req->machine_configure;
	uint8_t conf[OPS_DATA_MAX];

	if (m->conf.len > sizeof(conf))
		return EINVAL;
	memset(conf, 0, sizeof(conf));
	memcpy(conf, m->conf.data, m->conf.len);
	return nvmm_kern_machine_configure(c->s->owner, m->machid, m->op,
	    conf);
}

static int
op_vcpu_create(struct ops_ctx *c)
{
	const Nvmm__VcpuCreate *m = c->req->vcpu_create;
	int error;

	error = nvmm_kern_vcpu_create(c->s->owner, m->machid, m->cpuid);
	if (error)
		return error;
	error = vcpu_start(c->s->owner, m->machid, m->cpuid);
	if (error)
		nvmm_kern_vcpu_destroy(c->s->owner, m->machid, m->cpuid);
	return error;
}

static int
op_vcpu_destroy(struct ops_ctx *c)
{
	const Nvmm__VcpuDestroy *m = c->req->vcpu_destroy;
	int error;

	error = nvmm_kern_machine_access(c->s->owner, m->machid);
	if (error)
		return error;
	vcpu_stop(m->machid, m->cpuid);
	return nvmm_kern_vcpu_destroy(c->s->owner, m->machid, m->cpuid);
}

static int
op_hva_map(struct ops_ctx *c)
{
	const Nvmm__HvaMap *m = c->req->hva_map;

	if (m->offset > INT64_MAX)
		return EINVAL;
	return nvmm_kern_hva_map(c->s->owner, m->machid, m->hva, m->size,
	    c->fd, (off_t)m->offset);
}

static int
op_hva_unmap(struct ops_ctx *c)
{
	const Nvmm__HvaUnmap *m = c->req->hva_unmap;

	return nvmm_kern_hva_unmap(c->s->owner, m->machid, m->hva, m->size);
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

static int
op_ctl(struct ops_ctx *c)
{
	Nvmm__CtlResult *result = &c->scratch->ctl;
	const Nvmm__Ctl *m = c->req->ctl;
	int error;

	if (m->data.len > OPS_DATA_MAX)
		return EINVAL;
	memcpy(c->scratch->bytes, m->data.data, m->data.len);
	error = nvmm_kern_ctl(c->s->owner, m->op, c->scratch->bytes,
	    m->data.len);
	if (error)
		return error;
	nvmm__ctl_result__init(result);
	result->data.data = c->scratch->bytes;
	result->data.len = m->data.len;
	c->reply->result_case = NVMM__REPLY__RESULT_CTL;
	c->reply->ctl = result;
	return 0;
}

static int
op_kick(struct ops_ctx *c)
{
	const Nvmm__Kick *m = c->req->kick;

	return nvmm_kern_vcpu_kick(c->s->owner, m->machid, m->cpuid);
}

/* -------------------------------------------------------------------------- */

/* Who may do what: the one place that says it. */
static const struct nvmmd_op {
	Nvmm__Request__OpCase op;
	const char *name;
	unsigned roles;
	bool takes_fd;
	int (*handler)(struct ops_ctx *);
} nvmmd_ops[] = {
	{ NVMM__REQUEST__OP_CAPABILITY, "capability", R_ALL, false,
	    op_capability },
	{ NVMM__REQUEST__OP_MACHINE_CREATE, "machine_create", R_DRIVE, false,
	    op_machine_create },
	{ NVMM__REQUEST__OP_MACHINE_DESTROY, "machine_destroy", R_DRIVE, false,
	    op_machine_destroy },
	{ NVMM__REQUEST__OP_MACHINE_CONFIGURE, "machine_configure", R_DRIVE,
	    false, op_machine_configure },
	{ NVMM__REQUEST__OP_VCPU_CREATE, "vcpu_create", R_DRIVE, false,
	    op_vcpu_create },
	{ NVMM__REQUEST__OP_VCPU_DESTROY, "vcpu_destroy", R_DRIVE, false,
	    op_vcpu_destroy },
	{ NVMM__REQUEST__OP_HVA_MAP, "hva_map", R_DRIVE, true, op_hva_map },
	{ NVMM__REQUEST__OP_HVA_UNMAP, "hva_unmap", R_DRIVE, false,
	    op_hva_unmap },
	{ NVMM__REQUEST__OP_GPA_MAP, "gpa_map", R_DRIVE, false, op_gpa_map },
	{ NVMM__REQUEST__OP_GPA_UNMAP, "gpa_unmap", R_DRIVE, false,
	    op_gpa_unmap },
	{ NVMM__REQUEST__OP_CTL, "ctl", R_ALL, false, op_ctl },
	{ NVMM__REQUEST__OP_KICK, "kick", R_DRIVE, false, op_kick },
};

static const struct nvmmd_op *
ops_lookup(Nvmm__Request__OpCase op)
{
	size_t i;

	for (i = 0; i < sizeof(nvmmd_ops) / sizeof(nvmmd_ops[0]); i++)
		if (nvmmd_ops[i].op == op)
			return &nvmmd_ops[i];
	return NULL;
}

bool
ops_dispatch(struct nvmmd_session *s, const Nvmm__Request *req, int fd,
    Nvmm__Reply *reply, int *reply_fd, struct nvmmd_scratch *scratch)
{
	const struct nvmmd_op *op;
	struct ops_ctx c;

	op = ops_lookup(req->op_case);
	if (op == NULL) {
		log_warnx("pid %d: unknown request %d", (int)s->peer.pid,
		    (int)req->op_case);
		return false;
	}
	/* A descriptor where none belongs, or none where one must be. */
	if (op->takes_fd != (fd != -1)) {
		log_warnx("pid %d: %s with%s a descriptor", (int)s->peer.pid,
		    op->name, fd == -1 ? "out" : "");
		return false;
	}
	if (!(op->roles & ROLE_BIT(s->role))) {
		log_warnx("pid %d uid %u: %s refused to role %d",
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
	reply->error = op->handler(&c);
	log_debug("pid %d: %s: %d", (int)s->peer.pid, op->name, reply->error);
	return true;
}

/*
 * A connection ends: as closing /dev/nvmm, its owner's machines go.  The
 * root owner is shared, as on NetBSD: an admin connection ending takes the
 * root owner's machines with it.  A monitor's ends with nothing.
 */
void
ops_session_end(struct nvmmd_session *s)
{
	if (s->owner == NULL || s->role == NVMM__ROLE__ROLE_MONITOR)
		return;
	machines_stop_owned(s->owner);
	nvmm_kern_close(s->owner);
	s->owner = NULL;
}
