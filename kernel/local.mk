# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# kernel/: the NVMM driver over /dev/kvm, a convenience library that nvmmd
# and the in-process tests link.
noinst_LTLIBRARIES += kernel/libnvmmkern.la
kernel_libnvmmkern_la_SOURCES = \
	kernel/nvmm_kern.h \
	kernel/nvmm_internal.h \
	kernel/nvmm.c \
	kernel/nvmm_ctl.c \
	kernel/nvmm_mem.c \
	kernel/nvmm_x86_kvm.h \
	kernel/nvmm_x86_host.c \
	kernel/nvmm_x86_kvm.c \
	kernel/nvmm_x86_state.c \
	kernel/nvmm_x86_run.c \
	kernel/nvmm_x86_invalid.c \
	kernel/nvmm_x86_decode.c \
	kernel/nvmm_x86_cpuid.c
kernel_libnvmmkern_la_CFLAGS = $(AM_CFLAGS) $(LIBBSD_CFLAGS)
kernel_libnvmmkern_la_LIBADD = $(LIBBSD_LIBS) -lpthread
