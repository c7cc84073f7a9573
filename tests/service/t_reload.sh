# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# SIGHUP reloads the configuration under running guests, and systemd can
# hand nvmmd its socket and hear that it is ready.

TOP_BUILDDIR=@abs_top_builddir@
TOP_SRCDIR=@abs_top_srcdir@
. "$TOP_SRCDIR/tests/service/h_service.subr"

# The last tick the guest in $1 has printed.
last_tick()
{
	sed -n 's/.*tick \([0-9]*\)$/\1/p' "$1" | tail -n 1
}

# Sends SIGHUP and waits for the daemon to log $1 (an ERE).
reload()
{
	n=$(grep -c . nvmmd.log)
	kill -HUP "$(cat nvmmd.pid)"
	wait_until "tail -n +$((n + 1)) nvmmd.log | grep -Eq '$1'" \
	    "no \"$1\" after SIGHUP"
}

atf_test_case sighup cleanup
sighup_head()
{
	atf_set "descr" "SIGHUP with a guest running: the guest goes on," \
	    "new limits and groups apply to new requests, and a bad file" \
	    "is rejected with its line, keeping the old configuration"
	root_head
}
sighup_body()
{
	printf 'user-group daemon\nlimit default machines=2\n' >nvmmd.conf
	start_fg "$PWD/nvmmd.conf"
	$AS_A "$DEMO" -m 1 -c 1 -t 0 "$IMAGE" >a.out 2>&1 &
	echo $! >a.pid
	wait_tick a.out 2
	atf_check -s exit:0 -o match:'done counting' -e empty \
	    $AS_A "$DEMO" -m 1 -t 1 "$IMAGE"

	printf 'user-group daemon\nlimit default machines=1\nlimit user %s machines=3\n' \
	    $UID_B >nvmmd.conf
	reload "reloaded $PWD/nvmmd.conf"
	atf_check -s exit:1 -o empty \
	    -e match:'nvmm_machine_create: No buffer space available' \
	    $AS_A "$DEMO" -m 1 -t 1 "$IMAGE"
	atf_check -s exit:0 -o match:'done counting' -e empty \
	    $AS_B "$DEMO" -m 1 -t 1 "$IMAGE"
	t=$(last_tick a.out)
	wait_tick a.out $((t + 2))

	printf 'user-group daemon\nlimit default machines=5\nlimits x\n' \
	    >nvmmd.conf
	reload "reload: $PWD/nvmmd.conf:3: limits: unknown key; keeping the old configuration"
	atf_check -s exit:1 -o empty \
	    -e match:'nvmm_machine_create: No buffer space available' \
	    $AS_A "$DEMO" -m 1 -t 1 "$IMAGE"

	printf 'user-group nvmm-nosuchgroup\n' >nvmmd.conf
	reload "reloaded $PWD/nvmmd.conf"
	atf_check -s exit:1 -o empty -e match:'Permission denied' \
	    $AS_B "$DEMO" -m 1 -t 1 "$IMAGE"
	t=$(last_tick a.out)
	wait_tick a.out $((t + 2))
	kill -0 "$(cat nvmmd.pid)" || atf_fail "nvmmd died"

	kill -INT "$(cat a.pid)"
	wait "$(cat a.pid)" || atf_fail "the guest did not power off: $(tr "\n" "|" <a.out)"
	rm a.pid
}
sighup_cleanup()
{
	[ -f a.pid ] && kill -KILL "$(cat a.pid)" 2>/dev/null
	stop_daemon
}

atf_test_case rules cleanup
rules_head()
{
	atf_set "descr" "Which limit applies: the user's line, else the" \
	    "first line of one of its groups (primary or supplementary)" \
	    "that sets it, else the default"
	root_head
}
rules_body()
{
	cat >nvmmd.conf <<EOF_CONF
user-group daemon
limit default machines=1
limit group users machines=2
limit group daemon vcpus=4
limit user $UID_A machines=1
EOF_CONF
	start_fg "$PWD/nvmmd.conf"
	as_a="setpriv --reuid=$UID_A --regid=daemon --groups=users --"
	as_b="setpriv --reuid=$UID_B --regid=daemon --groups=users --"
	$as_a "$DEMO" -m 1 -c 1 -t 0 "$IMAGE" >a.out 2>&1 &
	echo $! >a.pid
	$as_b "$DEMO" -m 1 -c 1 -t 0 "$IMAGE" >b.out 2>&1 &
	echo $! >b.pid
	wait_tick a.out 1
	wait_tick b.out 1
	# A's own line wins over its group's.
	atf_check -s exit:1 -o empty \
	    -e match:'nvmm_machine_create: No buffer space available' \
	    $as_a "$DEMO" -m 1 -c 1 -t 1 "$IMAGE"
	# B has the group's 2 machines, and the other group's 4 VCPUs.
	atf_check -s exit:1 -o empty \
	    -e match:'nvmm_vcpu_create: No buffer space available' \
	    $as_b "$DEMO" -m 1 -c 4 -t 1 "$IMAGE"
	atf_check -s exit:0 -o match:'done counting' -e empty \
	    $as_b "$DEMO" -m 1 -c 3 -t 1 "$IMAGE"
	# Without the supplementary group, B is back to the default.
	atf_check -s exit:1 -o empty \
	    -e match:'nvmm_machine_create: No buffer space available' \
	    $AS_B "$DEMO" -m 1 -c 1 -t 1 "$IMAGE"
	kill -INT "$(cat a.pid)" "$(cat b.pid)"
	wait "$(cat a.pid)" "$(cat b.pid)"
	rm a.pid b.pid
}
rules_cleanup()
{
	[ -f a.pid ] && kill -KILL "$(cat a.pid)" 2>/dev/null
	[ -f b.pid ] && kill -KILL "$(cat b.pid)" 2>/dev/null
	stop_daemon
}

atf_test_case activation cleanup
activation_head()
{
	atf_set "descr" "Started by systemd-socket-activate: nvmmd serves" \
	    "the socket it is given (LISTEN_FDS), says READY=1 on" \
	    "NOTIFY_SOCKET once it serves, and leaves the socket to systemd"
	root_head systemd-socket-activate /usr/bin/python3
}
activation_body()
{
	d=$(sockdir)
	: >empty.conf
	$SOCKPY notify "$d/notify" 30 >notify.out &
	wait_until "grep -q bound notify.out" "no notify socket"
	systemd-socket-activate --seqpacket -l "$d/s.sock" \
	    -E NOTIFY_SOCKET="$d/notify" \
	    "$NVMMD" -f -c "$PWD/empty.conf" -s "$d/unused.sock" \
	    2>>nvmmd.log &
	echo $! >nvmmd.pid
	# It starts nvmmd (the same process) at the first connection.
	wait_until "grep -q 'Listening on' nvmmd.log" "no socket"
	atf_check -s exit:0 -o match:'^Machine ID' -e empty \
	    env NVMM_SOCKET="$d/s.sock" "$NVMMCTL" list
	wait_until "grep -q READY=1 notify.out" "no READY=1"
	atf_check -o match:"^STATUS=listening on the socket from systemd\$" \
	    -o match:"^MAINPID=$(cat nvmmd.pid)\$" cat notify.out
	atf_check -o match:'listening on the socket from systemd' cat nvmmd.log
	atf_check -s exit:0 -o match:'^Machine ID' -e empty \
	    env NVMM_SOCKET="$d/s.sock" "$NVMMCTL" list
	[ ! -e "$d/unused.sock" ] || atf_fail "bound its own socket too"
	kill -TERM "$(cat nvmmd.pid)"
	wait_gone "$(cat nvmmd.pid)"
	[ -S "$d/s.sock" ] || atf_fail "removed systemd's socket"
}
activation_cleanup()
{
	stop_daemon
}

atf_init_test_cases()
{
	atf_add_test_case sighup
	atf_add_test_case rules
	atf_add_test_case activation
}
