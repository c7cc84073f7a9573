# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# tests/kernel/: kernel/ in-process, with real guests.
TESTS_KERN_SOURCES = tests/kernel/h_vm.c tests/kernel/h_vm.h \
	tests/common/h_longmode.c tests/common/h_longmode.h \
	tests/common/h_expect.c tests/common/h_expect.h \
	tests/kernel/guests.S $(TESTS_LSAN_SOURCES)
TESTS_KERN_CFLAGS = $(TESTS_ATF_CFLAGS) -I$(top_srcdir)/kernel \
	-I$(top_srcdir)/tests/kernel -I$(top_srcdir)/tests/common \
	$(LIBBSD_CFLAGS)
TESTS_KERN_LIBS = kernel/libnvmmkern.la $(TESTS_ATF_LIBS) -lpthread

check_PROGRAMS += tests/kernel/t_run_events
tests_kernel_t_run_events_SOURCES = tests/kernel/t_run_events.c \
	$(TESTS_KERN_SOURCES)
tests_kernel_t_run_events_CFLAGS = $(TESTS_KERN_CFLAGS)
tests_kernel_t_run_events_LDADD = $(TESTS_KERN_LIBS)

check_PROGRAMS += tests/kernel/t_state
tests_kernel_t_state_SOURCES = tests/kernel/t_state.c $(TESTS_KERN_SOURCES)
tests_kernel_t_state_CFLAGS = $(TESTS_KERN_CFLAGS)
tests_kernel_t_state_LDADD = $(TESTS_KERN_LIBS)

TESTS_OWNER_SOURCES = tests/kernel/h_owner.c tests/kernel/h_owner.h

check_PROGRAMS += tests/kernel/t_owner
tests_kernel_t_owner_SOURCES = tests/kernel/t_owner.c $(TESTS_OWNER_SOURCES) \
	$(TESTS_KERN_SOURCES)
tests_kernel_t_owner_CFLAGS = $(TESTS_KERN_CFLAGS)
tests_kernel_t_owner_LDADD = $(TESTS_KERN_LIBS)

check_PROGRAMS += tests/kernel/t_ctl
tests_kernel_t_ctl_SOURCES = tests/kernel/t_ctl.c $(TESTS_OWNER_SOURCES) \
	$(TESTS_KERN_SOURCES)
tests_kernel_t_ctl_CFLAGS = $(TESTS_KERN_CFLAGS)
tests_kernel_t_ctl_LDADD = $(TESTS_KERN_LIBS)

check_PROGRAMS += tests/kernel/t_mem
tests_kernel_t_mem_SOURCES = tests/kernel/t_mem.c $(TESTS_KERN_SOURCES)
tests_kernel_t_mem_CFLAGS = $(TESTS_KERN_CFLAGS)
tests_kernel_t_mem_LDADD = $(TESTS_KERN_LIBS)
