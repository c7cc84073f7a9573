/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Guest memory: HVA mappings (memory a caller handed over as a memfd) and
 * GPA mappings (guest ranges linked to them through KVM memory slots).
 *
 * NetBSD maps HVA objects into a guest vmspace where a new mapping simply
 * replaces what was there.  KVM slots may not overlap and cannot be
 * resized, so a new mapping first carves its range out of the slots it
 * overlaps, re-creating what remains of them on either side.  Slot numbers
 * come from a bitmap and go back to it, so map/unmap churn never runs out.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "nvmm_internal.h"

#define NVMM_PROT_RWX	(PROT_READ | PROT_WRITE | PROT_EXEC)

static int
nvmm_slot_alloc(struct nvmm_machine *mach, uint32_t *slotp)
{
	uint64_t *map = mach->slotmap;
	size_t i;
	int bit;

	for (i = 0; i < NVMM_MAX_GSLOTS / 64; i++) {
		if (map[i] == UINT64_MAX)
			continue;
		bit = __builtin_ctzll(~map[i]);
		map[i] |= 1ULL << bit;
		*slotp = (uint32_t)(i * 64 + (size_t)bit);
		return 0;
	}
	return ENOMEM;
}

static void
nvmm_slot_free(struct nvmm_machine *mach, uint32_t slot)
{
	mach->slotmap[slot / 64] &= ~(1ULL << (slot % 64));
}

static size_t
nvmm_slots_free(struct nvmm_machine *mach)
{
	uint64_t *map = mach->slotmap;
	size_t i, n = 0;

	for (i = 0; i < NVMM_MAX_GSLOTS / 64; i++)
		n += 64 - (size_t)__builtin_popcountll(map[i]);
	return n;
}

/* -------------------------------------------------------------------------- */

static void
nvmm_hmapping_rele(struct nvmm_hmapping *hm)
{
	if (--hm->refs > 0)
		return;
	munmap(hm->uva, hm->size);
	free(hm);
}

void
nvmm_mem_init(struct nvmm_machine *mach)
{
	memset(mach->hmap, 0, sizeof(mach->hmap));
	memset(mach->slotmap, 0, sizeof(mach->slotmap));
	TAILQ_INIT(&mach->gslots);
	mach->nram = 0;
}

/* The KVM VM is gone by now: only our own records are left to free. */
void
nvmm_mem_fini(struct nvmm_machine *mach)
{
	struct nvmm_gslot *gs;
	size_t i;

	while ((gs = TAILQ_FIRST(&mach->gslots)) != NULL) {
		TAILQ_REMOVE(&mach->gslots, gs, link);
		nvmm_hmapping_rele(gs->hmap);
		free(gs);
	}
	for (i = 0; i < NVMM_MAX_HMAPPINGS; i++) {
		if (mach->hmap[i] != NULL)
			nvmm_hmapping_rele(mach->hmap[i]);
		mach->hmap[i] = NULL;
	}
	mach->nram = 0;
}

uint64_t
nvmm_mem_nram(struct nvmm_machine *mach)
{
	uint64_t nram;

	pthread_mutex_lock(&mach->memlock);
	nram = mach->nram;
	pthread_mutex_unlock(&mach->memlock);
	return nram;
}

/* -------------------------------------------------------------------------- */

static bool
nvmm_range_ok(uint64_t start, uint64_t size)
{
	return size != 0 && start + size > start;
}

/*
 * As NetBSD: a range wholly inside an existing mapping is accepted, one
 * that straddles a mapping's edge is refused.
 */
static int
nvmm_hva_validate(struct nvmm_machine *mach, uintptr_t hva, size_t size)
{
	struct nvmm_hmapping *hm;
	size_t i;

	if (hva == 0 || (hva & NVMM_PAGE_MASK) || (size & NVMM_PAGE_MASK) ||
	    !nvmm_range_ok(hva, size))
		return EINVAL;
	for (i = 0; i < NVMM_MAX_HMAPPINGS; i++) {
		hm = mach->hmap[i];
		if (hm == NULL)
			continue;
		if (hva >= hm->hva && hva + size <= hm->hva + hm->size)
			return 0;
		if (hva < hm->hva + hm->size && hva + size > hm->hva)
			return EEXIST;
	}
	return 0;
}

/*
 * The memfd must hold the whole range and be unable to shrink under us.
 * The client still holds it and may change it between our reads: the
 * seal comes first, since once it is there the size can only grow, and
 * the size read after it is then a floor that stays true.
 */
static int
nvmm_memfd_validate(int memfd, off_t offset, size_t size)
{
	struct stat st;
	int seals;

	if (offset < 0 || (offset & (off_t)NVMM_PAGE_MASK))
		return EINVAL;
	seals = fcntl(memfd, F_GET_SEALS);
	if (seals == -1 || !(seals & F_SEAL_SHRINK))
		return EINVAL;
	if (fstat(memfd, &st) == -1)
		return EBADF;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < (uint64_t)offset ||
	    (uint64_t)st.st_size - (uint64_t)offset < size)
		return EINVAL;
	return 0;
}

static int
nvmm_hmap_free_index(struct nvmm_machine *mach, size_t *indexp)
{
	size_t i;

	for (i = 0; i < NVMM_MAX_HMAPPINGS; i++) {
		if (mach->hmap[i] == NULL) {
			*indexp = i;
			return 0;
		}
	}
	return ENOBUFS;
}

int
nvmm_mem_hva_map(struct nvmm_machine *mach, const struct nvmm_mem_req *req)
{
	const uintptr_t hva = req->hva;
	const size_t size = req->size;
	struct nvmm_hmapping *hm;
	size_t index;
	void *uva;
	int error;

	pthread_mutex_lock(&mach->memlock);
	error = nvmm_hva_validate(mach, hva, size);
	if (error)
		goto out;
	error = nvmm_hmap_free_index(mach, &index);
	if (error)
		goto out;
	error = nvmm_memfd_validate(req->memfd, req->offset, size);
	if (error)
		goto out;

	hm = calloc(1, sizeof(*hm));
	if (hm == NULL) {
		error = ENOMEM;
		goto out;
	}
	uva = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, req->memfd,
	    req->offset);
	if (uva == MAP_FAILED) {
		free(hm);
		error = ENOMEM;
		goto out;
	}
	hm->hva = hva;
	hm->size = size;
	hm->uva = uva;
	hm->refs = 1;
	mach->hmap[index] = hm;
	mach->nram += size;
out:
	pthread_mutex_unlock(&mach->memlock);
	return error;
}

int
nvmm_mem_hva_unmap(struct nvmm_machine *mach, const struct nvmm_mem_req *req)
{
	const uintptr_t hva = req->hva;
	const size_t size = req->size;
	struct nvmm_hmapping *hm;
	size_t i;
	int error = ENOENT;

	pthread_mutex_lock(&mach->memlock);
	for (i = 0; i < NVMM_MAX_HMAPPINGS; i++) {
		hm = mach->hmap[i];
		if (hm == NULL || hm->hva != hva || hm->size != size)
			continue;
		mach->hmap[i] = NULL;
		mach->nram -= size;
		nvmm_hmapping_rele(hm);
		error = 0;
		break;
	}
	pthread_mutex_unlock(&mach->memlock);
	return error;
}

/* -------------------------------------------------------------------------- */

static struct nvmm_hmapping *
nvmm_hmapping_find(struct nvmm_machine *mach, uintptr_t hva, size_t size)
{
	struct nvmm_hmapping *hm;
	size_t i;

	for (i = 0; i < NVMM_MAX_HMAPPINGS; i++) {
		hm = mach->hmap[i];
		if (hm != NULL && hva >= hm->hva &&
		    hva + size <= hm->hva + hm->size)
			return hm;
	}
	return NULL;
}

static int
nvmm_gslot_install(struct nvmm_machine *mach, struct nvmm_hmapping *hm,
    size_t hmoff, gpaddr_t gpa, size_t size, int prot)
{
	struct nvmm_gslot *gs;
	int error;

	gs = calloc(1, sizeof(*gs));
	if (gs == NULL)
		return ENOMEM;
	error = nvmm_slot_alloc(mach, &gs->slot);
	if (error)
		goto out;
	gs->gpa = gpa;
	gs->size = size;
	gs->hmap = hm;
	gs->hmoff = hmoff;
	gs->prot = prot;
	error = nvmm_impl->memslot_set(mach, gs, true);
	if (error) {
		nvmm_slot_free(mach, gs->slot);
		goto out;
	}
	hm->refs++;
	TAILQ_INSERT_TAIL(&mach->gslots, gs, link);
	return 0;
out:
	free(gs);
	return error;
}

static void
nvmm_gslot_remove(struct nvmm_machine *mach, struct nvmm_gslot *gs)
{
	nvmm_impl->memslot_set(mach, gs, false);
	nvmm_slot_free(mach, gs->slot);
	TAILQ_REMOVE(&mach->gslots, gs, link);
	nvmm_hmapping_rele(gs->hmap);
	free(gs);
}

/*
 * Takes [gpa, gpa+size) out of the guest, keeping the parts of the slots
 * it cuts through that lie outside it.
 */
static int
nvmm_gslots_carve(struct nvmm_machine *mach, gpaddr_t gpa, size_t size)
{
	struct nvmm_gslot *gs, *next, old;
	gpaddr_t end = gpa + size, old_end;
	int error;

	TAILQ_FOREACH_SAFE(gs, &mach->gslots, link, next) {
		old_end = gs->gpa + gs->size;
		if (gs->gpa >= end || old_end <= gpa)
			continue;
		old = *gs;
		/* Keeps the hmapping alive across the removal. */
		old.hmap->refs++;
		nvmm_gslot_remove(mach, gs);
		error = 0;
		if (old.gpa < gpa)
			error = nvmm_gslot_install(mach, old.hmap, old.hmoff,
			    old.gpa, gpa - old.gpa, old.prot);
		if (error == 0 && old_end > end)
			error = nvmm_gslot_install(mach, old.hmap,
			    old.hmoff + (end - old.gpa), end, old_end - end,
			    old.prot);
		nvmm_hmapping_rele(old.hmap);
		if (error)
			return error;
	}
	return 0;
}

/*
 * The KVM slot for a protection NetBSD accepts: the least permissive one
 * that allows everything asked.  A slot can be read-write-execute or
 * read-execute (read-only: writes exit); KVM cannot refuse execution, nor
 * reading what may be written or executed.  So anything writable becomes
 * RWX, anything else readable or executable becomes RX, and no protection
 * at all is no slot: every access exits, as it would on NetBSD.
 */
static int
nvmm_prot_slot(int prot)
{
	if (prot == 0)
		return 0;
	if (prot & PROT_WRITE)
		return NVMM_PROT_RWX;
	return PROT_READ | PROT_EXEC;
}

static int
nvmm_gpa_validate(gpaddr_t gpa, size_t size)
{
	if ((gpa & NVMM_PAGE_MASK) || (size & NVMM_PAGE_MASK) ||
	    !nvmm_range_ok(gpa, size) || gpa + size > NVMM_MAX_RAM)
		return EINVAL;
	return 0;
}

int
nvmm_mem_gpa_map(struct nvmm_machine *mach, const struct nvmm_mem_req *req)
{
	const uintptr_t hva = req->hva;
	const gpaddr_t gpa = req->gpa;
	const size_t size = req->size;
	const int prot = nvmm_prot_slot(req->prot);
	struct nvmm_hmapping *hm;
	int error;

	if (req->prot & ~NVMM_PROT_RWX)
		return EINVAL;
	error = nvmm_gpa_validate(gpa, size);
	if (error)
		return error;
	if (hva == 0 || (hva & NVMM_PAGE_MASK) || !nvmm_range_ok(hva, size))
		return EINVAL;

	pthread_mutex_lock(&mach->memlock);
	hm = nvmm_hmapping_find(mach, hva, size);
	if (hm == NULL) {
		error = EINVAL;
		goto out;
	}
	if (nvmm_slots_free(mach) < 2) {
		error = ENOMEM;
		goto out;
	}
	error = nvmm_gslots_carve(mach, gpa, size);
	if (error == 0 && prot != 0)
		error = nvmm_gslot_install(mach, hm, hva - hm->hva, gpa, size,
		    prot);
out:
	pthread_mutex_unlock(&mach->memlock);
	return error;
}

int
nvmm_mem_gpa_unmap(struct nvmm_machine *mach, const struct nvmm_mem_req *req)
{
	const gpaddr_t gpa = req->gpa;
	const size_t size = req->size;
	int error;

	error = nvmm_gpa_validate(gpa, size);
	if (error)
		return error;

	pthread_mutex_lock(&mach->memlock);
	if (nvmm_slots_free(mach) < 2)
		error = ENOMEM;
	else
		error = nvmm_gslots_carve(mach, gpa, size);
	pthread_mutex_unlock(&mach->memlock);
	return error;
}

/*
 * Copies guest RAM at gpa; returns how many bytes were there to copy (the
 * range ends at the first byte that no slot backs).
 */
size_t
nvmm_mem_read(struct nvmm_machine *mach, gpaddr_t gpa, void *buf, size_t len)
{
	struct nvmm_gslot *gs;
	size_t done = 0, n;
	bool found;

	pthread_mutex_lock(&mach->memlock);
	while (done < len) {
		found = false;
		TAILQ_FOREACH(gs, &mach->gslots, link) {
			if (gpa < gs->gpa || gpa >= gs->gpa + gs->size)
				continue;
			n = gs->gpa + gs->size - gpa;
			if (n > len - done)
				n = len - done;
			memcpy((uint8_t *)buf + done, (uint8_t *)gs->hmap->uva +
			    gs->hmoff + (gpa - gs->gpa), n);
			done += n;
			gpa += n;
			found = true;
			break;
		}
		if (!found)
			break;
	}
	pthread_mutex_unlock(&mach->memlock);
	return done;
}
