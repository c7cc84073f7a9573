# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# The test suite: Kyua runs the ATF programs listed by tests/Kyuafile.
# Test programs are built by 'make check' and run from the build tree.
EXTRA_DIST += tests/Kyuafile tests/header/Kyuafile tests/kernel/Kyuafile \
	tests/roles/Kyuafile tests/common/h_daemon.subr

TESTS_ATF_CFLAGS = $(AM_CFLAGS) $(ATF_C_CFLAGS)
TESTS_ATF_LIBS = $(ATF_C_LIBS)
TESTS_LSAN_SOURCES = tests/lsan_suppressions.c

check_PROGRAMS += tests/header/t_sizes
tests_header_t_sizes_SOURCES = tests/header/t_sizes.c $(TESTS_LSAN_SOURCES)
tests_header_t_sizes_CFLAGS = $(TESTS_ATF_CFLAGS)
tests_header_t_sizes_LDADD = $(TESTS_ATF_LIBS)

# atf-sh programs are scripts with build-time paths filled in.
SUFFIXES = .sh
NVMM_SUBST_SH = sed \
	-e 's|[@]abs_top_srcdir[@]|$(abs_top_srcdir)|g' \
	-e 's|[@]abs_top_builddir[@]|$(abs_top_builddir)|g' \
	-e 's|[@]CC[@]|$(CC)|g' \
	-e 's|[@]CXX[@]|$(CXX)|g' \
	-e 's|[@]SANITIZER_FLAGS[@]|$(SANITIZER_FLAGS)|g' \
	-e 's|[@]prefix[@]|$(prefix)|g' \
	-e 's|[@]libdir[@]|$(libdir)|g' \
	-e 's|[@]includedir[@]|$(includedir)|g' \
	-e '1s|^|\#! $(ATF_SH)\n|'
.sh:
	$(AM_V_GEN)$(MKDIR_P) $(@D) && $(NVMM_SUBST_SH) $< >$@.tmp && chmod +x $@.tmp && mv $@.tmp $@

check_SCRIPTS += tests/header/t_compile
EXTRA_DIST += tests/header/t_compile.sh
CLEANFILES += $(check_SCRIPTS) tests/results.db

check-local: $(check_PROGRAMS) $(check_SCRIPTS)
	@rm -f $(builddir)/tests/results.db
	@$(KYUA) test --kyuafile=$(srcdir)/tests/Kyuafile \
	    --build-root=$(builddir)/tests \
	    --results-file=$(abs_builddir)/tests/results.db; \
	status=$$?; \
	$(KYUA) report --results-file=$(abs_builddir)/tests/results.db \
	    --verbose --results-filter=broken,failed >$(builddir)/tests/failures.txt 2>&1; \
	$(KYUA) report --results-file=$(abs_builddir)/tests/results.db; \
	exit $$status
CLEANFILES += tests/failures.txt
