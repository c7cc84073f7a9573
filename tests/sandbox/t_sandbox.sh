# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# nvmmd's seccomp filters: what they let through, what kills the process,
# and that the daemon the whole suite talks to runs with them on.

H=@abs_top_builddir@/tests/sandbox/h_sandbox
NVMMD=@abs_top_builddir@/nvmmd/nvmmd
DEMO=@abs_top_builddir@/examples/nvmm-demo
IMAGE=@abs_top_builddir@/examples/demo-guest.img
SANITIZED="@SANITIZER_FLAGS@"
SIGSYS=31	# x86_64; atf-check takes no name for it
# hd_sh_start: nvmmd started and listening.
. "@abs_top_srcdir@/tests/common/h_daemon.subr"

atf_test_case daemon_allows
daemon_allows_head()
{
	atf_set "descr" "The daemon's filter lets through what the daemon" \
	    "does: system calls of its list, new threads"
	atf_set "require.files" "/dev/kvm"
}
daemon_allows_body()
{
	atf_check -s exit:0 "$H" daemon getpid
	atf_check -s exit:0 "$H" daemon thread
	atf_check -s exit:0 "$H" daemon open
	atf_check -s exit:0 "$H" vcpu getpid
}

atf_test_case forbidden_call_kills
forbidden_call_kills_head()
{
	atf_set "descr" "A call outside the allow-list kills the process" \
	    "with SIGSYS: a non-KVM ioctl, listen, chmod, setuid, a new" \
	    "process; and, in a VCPU thread, open"
	atf_set "require.files" "/dev/kvm"
}
forbidden_call_kills_body()
{
	for call in tty-ioctl listen chmod setuid; do
		atf_check -s signal:$SIGSYS "$H" daemon $call
		atf_check -s signal:$SIGSYS "$H" vcpu $call
	done
	atf_check -s signal:$SIGSYS "$H" vcpu open
	# The sanitizers' runtime forks its symbolizer: their builds allow it.
	[ -n "$SANITIZED" ] || atf_check -s signal:$SIGSYS "$H" daemon fork
}

atf_test_case daemon_runs_filtered cleanup
daemon_runs_filtered_head()
{
	atf_set "descr" "Every thread of a running nvmmd has no_new_privs" \
	    "and the seccomp filter; VCPU threads have the second one"
	atf_set "require.user" "root"
	atf_set "require.files" "/dev/kvm"
}
daemon_runs_filtered_body()
{
	hd_sh_start "$NVMMD" "$PWD/s.sock"
	NVMM_SOCKET="$PWD/s.sock" "$DEMO" -c 2 -t 0 "$IMAGE" >demo.out &
	echo $! >demo.pid
	pid=$(cat nvmmd.pid)
	# Until both VCPU threads run, each with its own filter on top.
	i=0
	while [ "$(grep -l 'Seccomp_filters:.2' /proc/$pid/task/*/status | wc -l)" -lt 2 ]; do
		i=$((i + 1))
		[ $i -le 200 ] || atf_fail "no VCPU thread with its filter"
		sleep 0.05
	done
	for t in /proc/$pid/task/*; do
		grep -q '^NoNewPrivs:.1$' $t/status || atf_fail "$t: privs"
		grep -q '^Seccomp:.2$' $t/status || atf_fail "$t: no filter"
	done
	kill -INT "$(cat demo.pid)"
	wait "$(cat demo.pid)"
	kill -TERM "$pid"
	wait "$pid" || atf_fail "nvmmd did not end cleanly: $(cat nvmmd.log)"
}
daemon_runs_filtered_cleanup()
{
	[ -f demo.pid ] && kill -KILL "$(cat demo.pid)" 2>/dev/null
	[ -f nvmmd.pid ] && kill -KILL "$(cat nvmmd.pid)" 2>/dev/null
	return 0
}

atf_init_test_cases()
{
	atf_add_test_case daemon_allows
	atf_add_test_case forbidden_call_kills
	atf_add_test_case daemon_runs_filtered
}
