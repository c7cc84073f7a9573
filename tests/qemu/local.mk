# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# tests/qemu/: 'make check-qemu', QEMU's NVMM accelerator (scripts/qemu
# builds it) through a private nvmmd.  Not part of 'make check': it needs
# a QEMU build, and the boots take a minute.
EXTRA_DIST += tests/qemu/Kyuafile tests/qemu/t_qemu.sh \
	tests/qemu/bootsector.S
TESTS_QEMU_IMAGES = tests/qemu/boot.img tests/qemu/forever.img
CLEANFILES += tests/qemu/t_qemu $(TESTS_QEMU_IMAGES) \
	tests/qemu/results.db tests/qemu/failures.txt

# The boot sector, padded to a 1 MiB disk: SeaBIOS's AHCI driver (q35)
# will not boot a disk of one sector.  forever.img ticks until killed.
TESTS_QEMU_BOOT = $(MKDIR_P) tests/qemu && $(CC) -nostdlib -static -no-pie \
	-Wl,--build-id=none -Wl,-Ttext=0x7C00 -Wl,--oformat=binary \
	-Wl,-e,_start
tests/qemu/boot.img: tests/qemu/bootsector.S
	$(AM_V_GEN)$(TESTS_QEMU_BOOT) -DTICK_LINES=3 -o $@.tmp \
	    $(srcdir)/tests/qemu/bootsector.S && truncate -s 1M $@.tmp && \
	    mv $@.tmp $@
tests/qemu/forever.img: tests/qemu/bootsector.S
	$(AM_V_GEN)$(TESTS_QEMU_BOOT) -DTICK_LINES=0 -o $@.tmp \
	    $(srcdir)/tests/qemu/bootsector.S && truncate -s 1M $@.tmp && \
	    mv $@.tmp $@

check-qemu: $(TESTS_QEMU_IMAGES) tests/qemu/t_qemu nvmmd/nvmmd \
	    nvmmctl/nvmmctl libnvmmclient/libnvmmclient.la
	@rm -f $(builddir)/tests/qemu/results.db
	@$(KYUA) test --kyuafile=$(srcdir)/tests/qemu/Kyuafile \
	    --build-root=$(builddir)/tests/qemu \
	    --results-file=$(abs_builddir)/tests/qemu/results.db; \
	status=$$?; \
	$(KYUA) report --results-file=$(abs_builddir)/tests/qemu/results.db \
	    --verbose --results-filter=skipped,broken,failed \
	    >$(builddir)/tests/qemu/failures.txt 2>&1; \
	$(KYUA) report --results-file=$(abs_builddir)/tests/qemu/results.db; \
	exit $$status
.PHONY: check-qemu
