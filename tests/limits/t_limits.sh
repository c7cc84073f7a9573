# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# Per-uid limits of nvmmd (-l): a uid over a limit gets NVMM's errno for
# it, another uid and root are not held back, and what is given back can
# be taken again.  The clients are nvmm-demo under uids with no passwd
# entry, in the daemon's user group `daemon'.

DEMO=@abs_top_builddir@/examples/nvmm-demo
IMAGE=@abs_top_builddir@/examples/demo-guest.img
NVMMD=@abs_top_builddir@/nvmmd/nvmmd
NVMMCTL=@abs_top_builddir@/nvmmctl/nvmmctl
UID_A=47301
UID_B=47302
# hd_sh_start: nvmmd started and listening.
. "@abs_top_srcdir@/tests/common/h_daemon.subr"

common_head()
{
	atf_set "require.user" "root"
	atf_set "require.files" "/dev/kvm"
	atf_set "require.progs" "setpriv"
}

# The socket lives where the unprivileged uids can reach it.
start_daemon()
{
	dir=$(mktemp -d /tmp/t_limits.XXXXXX)
	chmod 0711 "$dir"
	echo "$dir" >sockdir
	hd_sh_start "$NVMMD" "$dir/s.sock" -c /dev/null -g daemon -l "$1"
	export NVMM_SOCKET="$dir/s.sock"
	chmod 0644 "$IMAGE" 2>/dev/null || true
}

stop_daemon()
{
	[ -f nvmmd.pid ] && kill -TERM "$(cat nvmmd.pid)" 2>/dev/null
	[ -f sockdir ] && rm -rf "$(cat sockdir)"
	rm -f nvmmd.pid sockdir
}

# Command prefixes that run as those uids, in group `daemon'.
AS_A="setpriv --reuid=$UID_A --regid=daemon --clear-groups --"
AS_B="setpriv --reuid=$UID_B --regid=daemon --clear-groups --"

# Waits for a background demo to tick.
wait_ticking()
{
	i=0
	until grep -q 'tick 1' "$1"; do
		i=$((i + 1))
		[ $i -le 200 ] || atf_fail "the guest in $1 does not tick"
		sleep 0.05
	done
}

# A demo of uid A that ticks until killed (a.out, a.pid), once it ticks.
start_ticking_a()
{
	$AS_A "$DEMO" -m 1 -t 0 "$IMAGE" >a.out 2>&1 &
	echo $! >a.pid
	wait_ticking a.out
}

# check_memory_limit NAME LIMIT OVER WITHIN: with the uid's NAME limit at
# LIMIT, the demo with OVER MiB of guest RAM gets ENOMEM from nvmm_hva_map
# and the daemon logs it; with WITHIN MiB it runs to the end.
check_memory_limit()
{
	start_daemon "$1=$2"
	atf_check -s exit:1 -o empty \
	    -e match:'nvmm_hva_map: Cannot allocate memory' \
	    $AS_A "$DEMO" -m "$3" -t 1 "$IMAGE"
	atf_check -s exit:0 -o match:'done counting' -e empty \
	    $AS_A "$DEMO" -m "$4" -t 1 "$IMAGE"
	atf_check -o match:"uid 47301: over its $1 limit" cat nvmmd.log
}

atf_test_case ram cleanup
ram_head()
{
	atf_set "descr" "Guest RAM over the uid's limit: ENOMEM from" \
	    "nvmm_hva_map; within it, the guest runs"
	common_head
}
ram_body()
{
	check_memory_limit ram 1M 2 1
}
ram_cleanup()
{
	stop_daemon
}

atf_test_case mapped cleanup
mapped_head()
{
	atf_set "descr" "Address space over the uid's limit: each machine" \
	    "takes 2M, guest RAM the rest; ENOMEM beyond it"
	common_head
}
mapped_body()
{
	check_memory_limit mapped 5M 4 3
}
mapped_cleanup()
{
	stop_daemon
}

atf_test_case machines cleanup
machines_head()
{
	atf_set "descr" "A second machine of one uid is refused with ENOBUFS" \
	    "while another uid and root get theirs; a machine given back" \
	    "can be taken again"
	common_head
}
machines_body()
{
	start_daemon machines=1
	start_ticking_a
	atf_check -s exit:1 -o empty \
	    -e match:'nvmm_machine_create: No buffer space available' \
	    $AS_A "$DEMO" -m 1 -t 1 "$IMAGE"
	atf_check -s exit:0 -o match:'done counting' -e empty \
	    $AS_B "$DEMO" -m 1 -t 1 "$IMAGE"
	atf_check -s exit:0 -o match:'done counting' -e empty \
	    "$DEMO" -m 1 -t 1 "$IMAGE"
	kill -INT "$(cat a.pid)"
	wait "$(cat a.pid)" || atf_fail "the first guest did not power off"
	atf_check -s exit:0 -o match:'done counting' -e empty \
	    $AS_A "$DEMO" -m 1 -t 1 "$IMAGE"
}
machines_cleanup()
{
	[ -f a.pid ] && kill -KILL "$(cat a.pid)" 2>/dev/null
	stop_daemon
}

atf_test_case vcpus cleanup
vcpus_head()
{
	atf_set "descr" "VCPUs over the uid's limit: ENOBUFS from" \
	    "nvmm_vcpu_create"
	common_head
}
vcpus_body()
{
	start_daemon vcpus=2
	atf_check -s exit:1 -o empty \
	    -e match:'nvmm_vcpu_create: No buffer space available' \
	    $AS_A "$DEMO" -m 1 -c 3 -t 1 "$IMAGE"
	atf_check -s exit:0 -o match:'done counting' -e empty \
	    $AS_A "$DEMO" -m 1 -c 2 -t 2 "$IMAGE"
}
vcpus_cleanup()
{
	stop_daemon
}

atf_test_case connections cleanup
connections_head()
{
	atf_set "descr" "A connection over the uid's limit is refused at" \
	    "connect and logged; root is not limited"
	common_head
}
connections_body()
{
	start_daemon connections=1
	start_ticking_a
	atf_check -s exit:4 -o empty \
	    -e match:'^nvmmctl: nvmmd refuses user uid 47301: too many connections$' \
	    $AS_A "$NVMMCTL" list
	atf_check -o match:'refused pid [0-9]+ uid 47301 \(no name\) gid [0-9]+ \(daemon\): too many connections' \
	    cat nvmmd.log
	atf_check -s exit:0 -o match:'nvmm-demo' -e empty "$NVMMCTL" list
	atf_check -s exit:0 -o match:'^Machine ID' -e empty \
	    $AS_B "$NVMMCTL" list
}
connections_cleanup()
{
	[ -f a.pid ] && kill -KILL "$(cat a.pid)" 2>/dev/null
	stop_daemon
}

atf_test_case bad_limits
bad_limits_head()
{
	atf_set "descr" "Malformed -l arguments are refused with the usage"
}
bad_limits_body()
{
	for arg in bogus=1 machines ram=lots vcpus=-1 machines=1, \
	    mapped=lots; do
		atf_check -s exit:2 -e match:'bad limits' "$NVMMD" -l "$arg"
	done
}

atf_init_test_cases()
{
	atf_add_test_case ram
	atf_add_test_case mapped
	atf_add_test_case machines
	atf_add_test_case vcpus
	atf_add_test_case connections
	atf_add_test_case bad_limits
}
