/*
 * Requests on a connection of the child's own (proto/nvmm_conn.h), for
 * the operations libnvmm has no call for or does not let a role make;
 * see h_request.h.
 */
#include <sys/mman.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <nvmm.h>

#include "h_request.h"

static uint64_t rq_next_id;

/* The reply's error; a transport failure is -errno.  *rfd: fd received. */
static int
rq(int s, Nvmm__Request *req, int fd, Nvmm__Reply **replyp, int *rfd)
{
	Nvmm__Reply *reply;
	int error, rfd_;

	req->id = ++rq_next_id;
	error = nvmm_conn_call(s, req, fd, &reply, &rfd_);
	if (error)
		return -error;
	if (rfd != NULL)
		*rfd = rfd_;
	else if (rfd_ != -1)
		close(rfd_);
	error = reply->error;
	if (replyp != NULL)
		*replyp = reply;
	else
		nvmm__reply__free_unpacked(reply, NULL);
	return error;
}

int
rq_capability(int s, struct nvmm_capability *cap)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__Capability m = NVMM__CAPABILITY__INIT;
	Nvmm__Reply *reply = NULL;
	int error;

	req.op_case = NVMM__REQUEST__OP_CAPABILITY;
	req.capability = &m;
	error = rq(s, &req, -1, &reply, NULL);
	if (error == 0 && (reply->result_case !=
	    NVMM__REPLY__RESULT_CAPABILITY ||
	    reply->capability->capability.len != sizeof(*cap)))
		error = -EPROTO;
	if (error == 0)
		memcpy(cap, reply->capability->capability.data, sizeof(*cap));
	if (reply != NULL)
		nvmm__reply__free_unpacked(reply, NULL);
	return error;
}

int
rq_machine_create(int s, nvmm_machid_t *machid, bool *commfd)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__MachineCreate m = NVMM__MACHINE_CREATE__INIT;
	Nvmm__Reply *reply = NULL;
	int error, fd = -1;

	req.op_case = NVMM__REQUEST__OP_MACHINE_CREATE;
	req.machine_create = &m;
	error = rq(s, &req, -1, &reply, &fd);
	*commfd = fd != -1;
	if (fd != -1)
		close(fd);
	if (error == 0 && reply->result_case !=
	    NVMM__REPLY__RESULT_MACHINE_CREATE)
		error = -EPROTO;
	if (error == 0)
		*machid = reply->machine_create->machid;
	if (reply != NULL)
		nvmm__reply__free_unpacked(reply, NULL);
	return error;
}

int
rq_machine_destroy(int s, nvmm_machid_t machid)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__MachineDestroy m = NVMM__MACHINE_DESTROY__INIT;

	m.machid = machid;
	req.op_case = NVMM__REQUEST__OP_MACHINE_DESTROY;
	req.machine_destroy = &m;
	return rq(s, &req, -1, NULL, NULL);
}

int
rq_machine_configure(int s, nvmm_machid_t machid, uint64_t op,
    const void *conf, size_t len)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__MachineConfigure m = NVMM__MACHINE_CONFIGURE__INIT;

	m.machid = machid;
	m.op = op;
	m.conf.data = (uint8_t *)(uintptr_t)conf;
	m.conf.len = len;
	req.op_case = NVMM__REQUEST__OP_MACHINE_CONFIGURE;
	req.machine_configure = &m;
	return rq(s, &req, -1, NULL, NULL);
}

int
rq_vcpu(int s, bool create, nvmm_machid_t machid, nvmm_cpuid_t cpuid)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__VcpuCreate c = NVMM__VCPU_CREATE__INIT;
	Nvmm__VcpuDestroy d = NVMM__VCPU_DESTROY__INIT;

	if (create) {
		c.machid = machid;
		c.cpuid = cpuid;
		req.op_case = NVMM__REQUEST__OP_VCPU_CREATE;
		req.vcpu_create = &c;
	} else {
		d.machid = machid;
		d.cpuid = cpuid;
		req.op_case = NVMM__REQUEST__OP_VCPU_DESTROY;
		req.vcpu_destroy = &d;
	}
	return rq(s, &req, -1, NULL, NULL);
}

int
rq_hva_map(int s, nvmm_machid_t machid, uint64_t hva, uint64_t size)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__HvaMap m = NVMM__HVA_MAP__INIT;
	int fd, error;

	fd = memfd_create("h_request", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1)
		return -errno;
	if (ftruncate(fd, (off_t)size) == -1 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == -1) {
		error = -errno;
		close(fd);
		return error;
	}
	m.machid = machid;
	m.hva = hva;
	m.size = size;
	req.op_case = NVMM__REQUEST__OP_HVA_MAP;
	req.hva_map = &m;
	error = rq(s, &req, fd, NULL, NULL);
	close(fd);
	return error;
}

int
rq_hva_unmap(int s, nvmm_machid_t machid, uint64_t hva, uint64_t size)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__HvaUnmap m = NVMM__HVA_UNMAP__INIT;

	m.machid = machid;
	m.hva = hva;
	m.size = size;
	req.op_case = NVMM__REQUEST__OP_HVA_UNMAP;
	req.hva_unmap = &m;
	return rq(s, &req, -1, NULL, NULL);
}

int
rq_gpa_map(int s, nvmm_machid_t machid, uint64_t hva, uint64_t gpa,
    uint64_t size, int prot)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__GpaMap m = NVMM__GPA_MAP__INIT;

	m.machid = machid;
	m.hva = hva;
	m.gpa = gpa;
	m.size = size;
	m.prot = prot;
	req.op_case = NVMM__REQUEST__OP_GPA_MAP;
	req.gpa_map = &m;
	return rq(s, &req, -1, NULL, NULL);
}

int
rq_gpa_unmap(int s, nvmm_machid_t machid, uint64_t gpa, uint64_t size)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__GpaUnmap m = NVMM__GPA_UNMAP__INIT;

	m.machid = machid;
	m.gpa = gpa;
	m.size = size;
	req.op_case = NVMM__REQUEST__OP_GPA_UNMAP;
	req.gpa_unmap = &m;
	return rq(s, &req, -1, NULL, NULL);
}

int
rq_kick(int s, nvmm_machid_t machid, nvmm_cpuid_t cpuid)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__Kick m = NVMM__KICK__INIT;

	m.machid = machid;
	m.cpuid = cpuid;
	req.op_case = NVMM__REQUEST__OP_KICK;
	req.kick = &m;
	return rq(s, &req, -1, NULL, NULL);
}

int
rq_ctl(int s, int op, void *data, size_t size)
{
	Nvmm__Request req = NVMM__REQUEST__INIT;
	Nvmm__Ctl m = NVMM__CTL__INIT;
	Nvmm__Reply *reply = NULL;
	int error;

	m.op = op;
	m.data.data = data;
	m.data.len = size;
	req.op_case = NVMM__REQUEST__OP_CTL;
	req.ctl = &m;
	error = rq(s, &req, -1, &reply, NULL);
	if (error == 0 && (reply->result_case != NVMM__REPLY__RESULT_CTL ||
	    reply->ctl->data.len != size))
		error = -EPROTO;
	if (error == 0)
		memcpy(data, reply->ctl->data.data, size);
	if (reply != NULL)
		nvmm__reply__free_unpacked(reply, NULL);
	return error;
}
