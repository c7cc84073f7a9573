# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
#
# t_dropin: libnvmmclient is a drop-in libnvmm.  A program written only
# against NetBSD's <nvmm.h> (tests/client/h_calc.c) builds against the
# installed headers and library, with `cc prog.c -lnvmm' as on NetBSD and
# with pkg-config, and runs through a private nvmmd.
#
# The build substitutes the source and build directories, the compiler and
# the install paths into this script; the test works in the private
# directory atf gives it and installs there with DESTDIR.
#

calc_src="@abs_top_srcdir@/tests/client/h_calc.c"
nvmmd="@abs_top_builddir@/nvmmd/nvmmd"
# hd_sh_start: nvmmd started and listening.
. "@abs_top_srcdir@/tests/common/h_daemon.subr"

# Starts a private nvmmd on $PWD/s.sock and waits until it listens.
start_daemon()
{
	hd_sh_start "${nvmmd}" "${PWD}/s.sock" -c /dev/null
	grep -q "listening on" nvmmd.log ||
	    atf_fail "nvmmd listens but did not say so: $(cat nvmmd.log)"
}

# SIGTERM, and its exit: clean, with its socket gone.
stop_daemon()
{
	pid=$(cat nvmmd.pid)
	kill "${pid}" || atf_fail "nvmmd is gone: $(cat nvmmd.log)"
	i=0
	while kill -0 "${pid}" 2>/dev/null; do
		i=$((i + 1))
		[ ${i} -lt 100 ] || atf_fail "nvmmd does not stop"
		sleep 0.1
	done
	rm -f nvmmd.pid
	[ ! -e s.sock ] || atf_fail "nvmmd left its socket behind"
}

# $1: the program; it needs the installed library and prints the sum.
run_calc()
{
	lib="${PWD}/root@libdir@"
	atf_check -s exit:0 -o match:"${lib}/libnvmmclient\.so" -e ignore \
	    env LD_LIBRARY_PATH="${lib}" ldd "./$1"
	atf_check -s exit:0 -o inline:"sum 5050\n" -e empty \
	    env LD_LIBRARY_PATH="${lib}" NVMM_SOCKET="${PWD}/s.sock" "./$1"
}

atf_test_case builds_and_runs cleanup
builds_and_runs_head()
{
	atf_set "descr" "A program written against NetBSD's libnvmm builds" \
	    "against the installed library with -lnvmm and with pkg-config," \
	    "and runs through nvmmd"
	atf_set "require.user" "root"
	atf_set "require.files" "/dev/kvm"
	atf_set "require.progs" "make pkg-config readelf ldd"
	atf_set "timeout" "900"
}
builds_and_runs_body()
{
	root="${PWD}/root"
	inc="${root}@includedir@"
	lib="${root}@libdir@"

	atf_check -s exit:0 -o ignore -e ignore \
	    make -C "@abs_top_builddir@" install DESTDIR="${root}"
	for f in "${inc}/nvmm.h" "${inc}/nvmm/nvmm_x86.h" \
	    "${lib}/libnvmmclient.so" "${lib}/libnvmm.so" \
	    "${lib}/pkgconfig/libnvmmclient.pc"; do
		[ -e "${f}" ] || atf_fail "not installed: ${f#${root}}"
	done
	# Monitor users run nvmmctl: it is on their PATH; the daemon is not.
	[ -x "${root}@prefix@/bin/nvmmctl" ] || atf_fail "no bin/nvmmctl"
	[ -x "${root}@prefix@/sbin/nvmmd" ] || atf_fail "no sbin/nvmmd"
	[ ! -e "${root}@prefix@/sbin/nvmmctl" ] || atf_fail "sbin/nvmmctl"

	# As on NetBSD: -lnvmm.
	atf_check -s exit:0 -o ignore -e ignore \
	    @CC@ @SANITIZER_FLAGS@ -o calc_lnvmm "${calc_src}" -I"${inc}" \
	    -L"${lib}" -lnvmm
	atf_check -s exit:0 \
	    -o match:'NEEDED.*Shared library: \[libnvmmclient\.so\.[0-9]+\]' \
	    -e empty readelf -d calc_lnvmm

	# With pkg-config, from the installed .pc, relocated to DESTDIR.
	flags=$(PKG_CONFIG_PATH="${lib}/pkgconfig" \
	    PKG_CONFIG_SYSROOT_DIR="${root}" \
	    pkg-config --cflags --libs libnvmmclient) ||
	    atf_fail "pkg-config does not know libnvmmclient"
	case " ${flags} " in
	*" -I${inc} "*) ;;
	*) atf_fail "pkg-config --cflags does not name ${inc}: ${flags}" ;;
	esac
	atf_check -s exit:0 -o ignore -e ignore \
	    @CC@ @SANITIZER_FLAGS@ -o calc_pc "${calc_src}" ${flags}
	atf_check -s exit:0 \
	    -o match:'NEEDED.*Shared library: \[libnvmmclient\.so\.[0-9]+\]' \
	    -e empty readelf -d calc_pc

	start_daemon
	run_calc calc_lnvmm
	run_calc calc_pc
	stop_daemon
}
builds_and_runs_cleanup()
{
	if [ -f nvmmd.pid ]; then
		kill -9 "$(cat nvmmd.pid)" 2>/dev/null
		rm -f nvmmd.pid
	fi
}

atf_init_test_cases()
{
	atf_add_test_case builds_and_runs
}
