# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# nvmm-demo, the example emulator: it runs the demo guest through a
# private nvmmd, and bad images and options get their errors.

DEMO=@abs_top_builddir@/examples/nvmm-demo
IMAGE=@abs_top_builddir@/examples/demo-guest.img
NVMMD=@abs_top_builddir@/nvmmd/nvmmd
# hd_sh_start: nvmmd started and listening.
. "@abs_top_srcdir@/tests/common/h_daemon.subr"

# Starts a private nvmmd in the work directory.
start_daemon()
{
	hd_sh_start "$NVMMD" "$PWD/s.sock" -c /dev/null
	export NVMM_SOCKET="$PWD/s.sock"
}

stop_daemon()
{
	[ -f nvmmd.pid ] && kill -TERM "$(cat nvmmd.pid)" 2>/dev/null
	rm -f nvmmd.pid
}

atf_test_case counts_and_powers_off cleanup
counts_and_powers_off_head()
{
	atf_set "descr" "The demo guest greets, counts on both VCPUs over" \
	    "the serial port and powers off with status 0"
	atf_set "require.user" "root"
	atf_set "require.files" "/dev/kvm"
}
counts_and_powers_off_body()
{
	start_daemon
	atf_check -s exit:0 -o save:out -e empty "$DEMO" -c 2 -t 6 "$IMAGE"
	atf_check -o match:'^\[cpu 0\] Hello from a 64-bit guest on nvmmd, with 2 VCPUs$' cat out
	for n in 1 2 3 4 5 6; do
		atf_check -o match:"^\[cpu [01]\] tick $n\$" cat out
	done
	atf_check -s exit:1 -o empty grep 'tick 7' out
	atf_check -o match:'^\[cpu 0\] tick' cat out
	atf_check -o match:'^\[cpu 1\] tick' cat out
	atf_check -o match:'done counting: powering off' cat out
}
counts_and_powers_off_cleanup()
{
	stop_daemon
}

atf_test_case power_button cleanup
power_button_head()
{
	atf_set "descr" "SIGINT presses the power button: the guest says so" \
	    "and the emulator exits 0"
	atf_set "require.user" "root"
	atf_set "require.files" "/dev/kvm"
}
power_button_body()
{
	start_daemon
	"$DEMO" -c 1 -t 0 "$IMAGE" >out 2>err &
	pid=$!
	i=0
	until grep -q 'tick 2' out; do
		i=$((i + 1))
		[ $i -le 200 ] || atf_fail "the guest does not tick"
		sleep 0.05
	done
	kill -INT $pid
	wait $pid
	status=$?
	[ $status -eq 0 ] || atf_fail "exit status $status, not 0"
	atf_check -o match:'power button pressed: powering off' cat out
}
power_button_cleanup()
{
	stop_daemon
}

atf_test_case bad_images
bad_images_head()
{
	atf_set "descr" "A missing, foreign or truncated image is refused" \
	    "with a clear error, before any daemon is needed"
}
bad_images_body()
{
	export NVMM_SOCKET="$PWD/none.sock"
	atf_check -s exit:1 -e match:'missing.img: No such file' \
	    "$DEMO" missing.img
	echo "not a guest" >junk.img
	atf_check -s exit:1 -e match:'junk.img: not a demo image' \
	    "$DEMO" junk.img
	head -c 100 "$IMAGE" >short.img
	atf_check -s exit:1 -e match:'short.img: malformed image' \
	    "$DEMO" short.img
	atf_check -s exit:1 -e match:'not a demo image' "$DEMO" .
}

atf_test_case too_little_memory
too_little_memory_head()
{
	atf_set "descr" "Less RAM than the image asks for is refused"
}
too_little_memory_body()
{
	export NVMM_SOCKET="$PWD/none.sock"
	atf_check -s exit:1 -e match:'too little memory' "$DEMO" -m 0 "$IMAGE"
}

atf_test_case bad_options
bad_options_head()
{
	atf_set "descr" "Bad options exit 2 with the usage; -h exits 0"
}
bad_options_body()
{
	for args in "-c 0" "-c 17" "-c two" "-m lots" "-t -1" "-x" \
	    "a.img b.img"; do
		# shellcheck disable=SC2086
		atf_check -s exit:2 -e match:'usage: nvmm-demo' "$DEMO" $args
	done
	atf_check -s exit:0 -o match:'usage: nvmm-demo' "$DEMO" -h
}

atf_test_case no_daemon
no_daemon_head()
{
	atf_set "descr" "Without a daemon the emulator says so and exits 1"
}
no_daemon_body()
{
	export NVMM_SOCKET="$PWD/none.sock"
	atf_check -s exit:1 -e match:'cannot reach nvmmd' "$DEMO" "$IMAGE"
}

atf_init_test_cases()
{
	atf_add_test_case counts_and_powers_off
	atf_add_test_case power_button
	atf_add_test_case bad_images
	atf_add_test_case too_little_memory
	atf_add_test_case bad_options
	atf_add_test_case no_daemon
}
