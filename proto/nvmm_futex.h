/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * Futexes on memory shared between processes (no FUTEX_PRIVATE_FLAG):
 * the doorbell's wait and wake.  Both are async-signal-safe.
 */
#ifndef NVMM_FUTEX_H
#define NVMM_FUTEX_H

#include <linux/futex.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

/* Sleeps while *word == expected, at most timeout (NULL: no limit). */
static inline int
nvmm_futex_wait(uint32_t *word, uint32_t expected,
    const struct timespec *timeout)
{
	return (int)syscall(SYS_futex, word, FUTEX_WAIT, expected, timeout,
	    NULL, 0);
}

static inline int
nvmm_futex_wake(uint32_t *word)
{
	return (int)syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

#endif /* NVMM_FUTEX_H */
