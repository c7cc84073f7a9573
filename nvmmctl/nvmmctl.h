/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * nvmmctl: what its files share.  Each file calls only those below it.
 *   nvmmctl.c  the command table, usage, the commands and their requests
 *   stats.c    how the host's statistics are shown: totals and rates
 *   output.c   how machines and the capability are shown in JSON, and
 *              a machine's details (info) in text
 *   format.c   how values are written: sizes, times, bits, users, names
 */
#ifndef NVMMCTL_H
#define NVMMCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <nvmm.h>

#include "nvmm_stats.h"

struct json_t;

/* Everything nvmmctl shows of one machine. */
struct machine_view {
	struct nvmm_ctl_mach_info info;
	struct nvmm_ctl_mach_owner owner;
	struct nvmm_ctl_mach_ident ident;
};

/* stats.c: what stats shows; with prev, the rates since it, over secs. */
struct stats_show {
	const struct nvmm_host_stats *cur;
	const struct nvmm_host_stats *prev;	/* NULL: totals */
	double secs;
	bool json;
};
void	stats_print(const struct stats_show *show);

/* format.c */
void	format_bits(char *buf, size_t size, uint64_t value,
	    const char *const *names);
void	format_size(char *buf, size_t size, uint64_t bytes);
void	format_time(char *buf, size_t size, time_t t);
const char *user_name(uid_t uid, char *buf, size_t size);
/* Room for text_safe() of up to n bytes. */
#define TEXT_SAFE_SIZE(n)	(4 * (n) + 1)
const char *text_safe(const char *s, char *buf, size_t size);

/* output.c */
void	print_identify_json(const struct nvmm_capability *cap);
void	json_list_begin(void);
void	json_list_machine(const struct machine_view *m);
void	json_list_end(void);
void	print_info_text(const struct machine_view *m,
	    const struct nvmm_ctl_vcpu_stats *stats, size_t n);
void	print_info_json(const struct machine_view *m,
	    const struct nvmm_ctl_vcpu_stats *stats, size_t n);
void	machine_view_of(const struct nvmm_ctl_host_mach *hm,
	    struct machine_view *m);
struct json_t *json_machine(const struct machine_view *m);
void	json_set_new(struct json_t *obj, const char *key, struct json_t *v);
void	json_set_uint(struct json_t *obj, const char *key, uint64_t v);
void	json_print(struct json_t *v);

#endif /* NVMMCTL_H */
