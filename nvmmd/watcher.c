/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * The stop watcher.  nvmm_vcpu_stop() only writes comm->stop, with no
 * system call, and the client may not signal the daemon's threads; so
 * while any VCPU is inside a run, this thread looks at their stop words
 * every millisecond and kicks the VCPUs that have one set.  With nothing
 * running it sleeps, and costs nothing.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "nvmmd.h"

#define WATCH_PERIOD_NS		1000000L

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_cond = PTHREAD_COND_INITIALIZER;
static LIST_HEAD(, nvmmd_vcpu) watch_running =
    LIST_HEAD_INITIALIZER(watch_running);

void
watcher_add(struct nvmmd_vcpu *v)
{
	pthread_mutex_lock(&watch_lock);
	LIST_INSERT_HEAD(&watch_running, v, running);
	v->on_watch = true;
	pthread_cond_signal(&watch_cond);
	pthread_mutex_unlock(&watch_lock);
}

void
watcher_remove(struct nvmmd_vcpu *v)
{
	pthread_mutex_lock(&watch_lock);
	if (v->on_watch)
		LIST_REMOVE(v, running);
	v->on_watch = false;
	pthread_mutex_unlock(&watch_lock);
}

static void
watcher_scan(void)
{
	struct nvmmd_vcpu *v;

	LIST_FOREACH(v, &watch_running, running)
		if (__atomic_load_n(&v->comm->stop, __ATOMIC_SEQ_CST))
			nvmm_kern_vcpu_kick(v->owner, v->machid, v->cpuid);
}

static void *
watcher_main(void *arg)
{
	const struct timespec period = { 0, WATCH_PERIOD_NS };

	(void)arg;
	pthread_mutex_lock(&watch_lock);
	for (;;) {
		while (LIST_EMPTY(&watch_running))
			pthread_cond_wait(&watch_cond, &watch_lock);
		pthread_mutex_unlock(&watch_lock);
		nanosleep(&period, NULL);
		pthread_mutex_lock(&watch_lock);
		watcher_scan();
	}
	return NULL;
}

int
watcher_start(void)
{
	sigset_t all, old;
	pthread_t t;
	int error;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	error = pthread_create(&t, NULL, watcher_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error == 0)
		pthread_detach(t);
	return error;
}
