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
	# The parent forks its workers and may signal them.
	atf_check -s exit:0 "$H" daemon fork
	atf_check -s exit:0 "$H" daemon kill
	atf_check -s exit:0 "$H" worker getpid
	atf_check -s exit:0 "$H" worker thread
	atf_check -s exit:0 "$H" worker open
	atf_check -s exit:0 "$H" worker tgkill-self
	atf_check -s exit:0 "$H" vcpu getpid
}

atf_test_case forbidden_call_kills
forbidden_call_kills_head()
{
	atf_set "descr" "A call outside the allow-list kills the process" \
	    "with SIGSYS: a non-KVM ioctl, listen, chmod, setuid; in a" \
	    "worker, a new process or a signal to another; and, in a VCPU" \
	    "thread, open"
	atf_set "require.files" "/dev/kvm"
}
forbidden_call_kills_body()
{
	for call in tty-ioctl listen chmod setuid; do
		atf_check -s signal:$SIGSYS "$H" daemon $call
		atf_check -s signal:$SIGSYS "$H" worker $call
		atf_check -s signal:$SIGSYS "$H" vcpu $call
	done
	atf_check -s signal:$SIGSYS "$H" vcpu open
	atf_check -s signal:$SIGSYS "$H" worker tgkill-other
	# The sanitizers' runtime forks its symbolizer and signals: their
	# builds allow both.
	if [ -z "$SANITIZED" ]; then
		atf_check -s signal:$SIGSYS "$H" worker fork
		atf_check -s signal:$SIGSYS "$H" worker kill
	fi
}

atf_test_case daemon_runs_filtered cleanup
daemon_runs_filtered_head()
{
	atf_set "descr" "Every thread of a running nvmmd and its worker" \
	    "has no_new_privs and the seccomp filter; the worker has the" \
	    "second one, its VCPU threads the third"
	atf_set "require.user" "root"
	atf_set "require.files" "/dev/kvm"
}
daemon_runs_filtered_body()
{
	hd_sh_start "$NVMMD" "$PWD/s.sock"
	NVMM_SOCKET="$PWD/s.sock" "$DEMO" -c 2 -t 0 "$IMAGE" >demo.out &
	echo $! >demo.pid
	pid=$(cat nvmmd.pid)
	# Until the worker's two VCPU threads run, each with its own filter.
	i=0
	while :; do
		w=$(hd_sh_workers "$pid")
		[ -n "$w" ] && [ "$(grep -l 'Seccomp_filters:.3' \
		    /proc/$w/task/*/status | wc -l)" -ge 2 ] && break
		i=$((i + 1))
		[ $i -le 200 ] || atf_fail "no VCPU thread with its filter"
		sleep 0.05
	done
	for t in /proc/$pid/task/* /proc/$w/task/*; do
		grep -q '^NoNewPrivs:.1$' $t/status || atf_fail "$t: privs"
		grep -q '^Seccomp:.2$' $t/status || atf_fail "$t: no filter"
	done
	grep -q '^Seccomp_filters:.1$' /proc/$pid/status ||
	    atf_fail "the parent has not one filter"
	grep -q '^Seccomp_filters:.2$' /proc/$w/status ||
	    atf_fail "the worker has not two filters"
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
