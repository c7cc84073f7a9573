# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# Descriptors: one uid cannot take all of the daemon's, and when they run
# out anyway the daemon refuses newcomers and rests instead of spinning.

TOP_BUILDDIR=@abs_top_builddir@
TOP_SRCDIR=@abs_top_srcdir@
. "$TOP_SRCDIR/tests/service/h_service.subr"

# nvmmd under a hard descriptor limit of $1 that it cannot raise.
start_limited()
{
	d=$(sockdir)
	prlimit --nofile="$1:$1" "$NVMMD" -f -c "$PWD/nvmmd.conf" \
	    -s "$d/s.sock" 2>>nvmmd.log &
	echo $! >nvmmd.pid
	wait_until "[ -S '$d/s.sock' ]" "nvmmd did not start"
	export NVMM_SOCKET="$d/s.sock"
}

open_fds()
{
	ls "/proc/$(cat nvmmd.pid)/fd" | wc -l
}

# User plus system CPU ticks of the daemon so far.
cpu_ticks()
{
	awk '{ print $14 + $15 }' "/proc/$(cat nvmmd.pid)/stat"
}

atf_test_case starvation cleanup
starvation_head()
{
	atf_set "descr" "One uid's 1,100 silent connections stop at the" \
	    "default per-uid limit, leave descriptors for a second uid, and" \
	    "their refusals are logged at the per-uid rate"
	root_head prlimit /usr/bin/python3
}
starvation_body()
{
	printf 'user-group daemon\n' >nvmmd.conf
	start_limited 1024
	$AS_A $SOCKPY hold 1100 "$NVMM_SOCKET" >hold.out &
	echo $! >hold.pid
	wait_until "grep -q kept hold.out" "the connections did not finish"
	atf_check -o inline:"kept 64 of 1100\n" cat hold.out
	atf_check -s exit:0 -o match:'^Machine ID' -e empty $AS_B "$NVMMCTL" list
	atf_check -s exit:0 -o match:'done counting' -e empty \
	    $AS_B "$DEMO" -m 1 -t 1 "$IMAGE"
	echo "descriptors: $(open_fds) open of 1024 with uid $UID_A at its" \
	    "limit; $((1024 - $(open_fds))) left for the other users"
	n=$(grep -c "refused pid [0-9]* uid $UID_A .*: too many connections" \
	    nvmmd.log)
	[ "$n" -eq 10 ] || atf_fail "$n refusals logged, want 10 a minute"
}
starvation_cleanup()
{
	[ -f hold.pid ] && kill "$(cat hold.pid)" 2>/dev/null
	stop_daemon
}

atf_test_case backoff cleanup
backoff_head()
{
	atf_set "descr" "At EMFILE the daemon refuses the waiting peer with" \
	    "its reserve descriptor, logs it, and backs off instead of" \
	    "spinning; it serves again once descriptors are free"
	root_head prlimit /usr/bin/python3
}
backoff_body()
{
	: >nvmmd.conf
	start_limited 32
	$SOCKPY hold 60 "$NVMM_SOCKET" >hold.out &
	echo $! >hold.pid
	wait_until "grep -q kept hold.out" "the connections did not finish"
	t0=$(cpu_ticks)
	sleep 2
	t1=$(cpu_ticks)
	echo "CPU while out of descriptors: $((t1 - t0)) ticks in 2 s"
	[ $((t1 - t0)) -le 20 ] || atf_fail "spinning: $((t1 - t0)) ticks in 2 s"
	# The refusal's reason reaches nvmmctl only when the peer the reserve
	# takes is this one: another waiting peer may be the one refused.
	atf_check -s exit:4 -o empty \
	    -e match:'^nvmmctl: (nvmmd refuses user root: the daemon is out of descriptors|permission denied: user root may not use nvmmd at .*)$' \
	    timeout 10 "$NVMMCTL" list
	atf_check -o match:'refused pid [0-9]+ uid 0 .*: the daemon is out of descriptors' \
	    cat nvmmd.log
	kill "$(cat hold.pid)"
	rm hold.pid
	wait_until "[ \$(open_fds) -lt 32 ]" "the held descriptors stayed"
	atf_check -s exit:0 -o match:'^Machine ID' -e empty "$NVMMCTL" list
}
backoff_cleanup()
{
	[ -f hold.pid ] && kill "$(cat hold.pid)" 2>/dev/null
	stop_daemon
}

atf_test_case request_refusals cleanup
request_refusals_head()
{
	atf_set "descr" "Refusals after the connection (a role not granted)" \
	    "carry the peer's names and are logged at the per-uid rate"
	root_head
}
request_refusals_body()
{
	printf 'user-group daemon\nrefusal-log-rate 3\n' >nvmmd.conf
	start_fg "$PWD/nvmmd.conf"
	i=0
	while [ $i -lt 12 ]; do
		# A user asks for the admin role: refused at the hello.
		$AS_A "$NVMMCTL" kill 0 >/dev/null 2>&1 && atf_fail "kill worked"
		i=$((i + 1))
	done
	n=$(grep -c "uid $UID_A: refused role .*; pid [0-9]* uid $UID_A (no name) gid [0-9]* (daemon)\$" \
	    nvmmd.log)
	[ "$n" -eq 3 ] || atf_fail "$n refusals of 12 logged, want 3: $(log_text)"
}
request_refusals_cleanup()
{
	stop_daemon
}

atf_init_test_cases()
{
	atf_add_test_case request_refusals
	atf_add_test_case starvation
	atf_add_test_case backoff
}
