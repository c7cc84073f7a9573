# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# examples/: nvmm-demo, a small emulator on the public <nvmm.h> API, and
# the demo guest it runs, assembled into a flat image at build time.
bin_PROGRAMS += examples/nvmm-demo
examples_nvmm_demo_SOURCES = examples/nvmm-demo.c
examples_nvmm_demo_CFLAGS = $(AM_CFLAGS) \
	-DDEMO_IMAGE='"$(pkgdatadir)/demo-guest.img"'
examples_nvmm_demo_LDADD = libnvmmclient/libnvmmclient.la -lpthread

pkgdata_DATA = examples/demo-guest.img
EXTRA_DIST += examples/demo-guest.S
CLEANFILES += examples/demo-guest.img

# A guest, not a host program: no sanitizers, linked at its load address.
examples/demo-guest.img: examples/demo-guest.S
	$(AM_V_GEN)$(MKDIR_P) examples && $(CC) -nostdlib -static -no-pie \
	    -Wl,--build-id=none -Wl,-Ttext=0x8000 -Wl,--oformat=binary \
	    -Wl,-e,_start -o $@ $(srcdir)/examples/demo-guest.S
