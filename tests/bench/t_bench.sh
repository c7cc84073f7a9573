# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# nvmm-bench measures every path it names: each way of each path gives a
# median and a p99, and the idle figures are there.  It asserts nothing
# about the times: timing goals are the benchmark's to show, not a test's.

BENCH=@abs_top_builddir@/bench/nvmm-bench
NVMMD=@abs_top_builddir@/nvmmd/nvmmd

atf_test_case every_path_measured
every_path_measured_head()
{
	atf_set "descr" "nvmm-bench -q measures every way of every path" \
	    "against its baseline, the daemon's idle RSS and CPU, and its" \
	    "RSS and PSS per connected owner"
	atf_set "require.user" "root"
	atf_set "require.files" "/dev/kvm"
	atf_set "timeout" "240"
}
every_path_measured_body()
{
	atf_check -s exit:0 -o save:out -e empty "$BENCH" -q -d "$NVMMD"
	atf_check -o match:'^nvmm-bench: host .*CPUs' cat out
	for path in "IO exit, OUT" "IO exit, IN" "MMIO write, assist_mem" \
	    "MMIO read, assist_mem" "stop to the run's return" \
	    "control request" "machine\+VCPU create, destroy" \
	    "connect, hello, close"; do
		atf_check -o match:"^$path  *[^ ].* [0-9]+\.[0-9]+  *1\.00  *1\.00\$" \
		    cat out
	done
	# Five ways for each exit path, three for the stop and the create,
	# two for the control request and for the connection.
	n=$(grep -cE ' [0-9]+ +[0-9]+\.[0-9]+ +[0-9]+\.[0-9]+ +[0-9]+\.[0-9]+ +[0-9]+\.[0-9]+$' out)
	[ "$n" -eq 30 ] || atf_fail "$n measured ways, not 30: $(cat out)"
	for way in "raw KVM, NVMM's set-up" "raw KVM, another process"; do
		n=$(grep -c " $way " out)
		[ "$n" -eq 4 ] || atf_fail "$way: $n exit paths, not 4"
	done
	atf_check -s exit:1 -o ignore grep FAILED out
	atf_check -o match:'^daemon RSS per idle machine +[0-9]+ KiB' cat out
	atf_check -o match:'^daemon CPU while idle +[0-9.]+ ms in' cat out
	atf_check -o match:'^daemon RSS per owner +[0-9]+ KiB  \(8 owners,.* [0-9]+ KiB before, [0-9]+ after; processes: [1-9][0-9]* before, [1-9][0-9]* after\)$' cat out
	atf_check -o match:'^daemon PSS per owner +[0-9]+ KiB  \([0-9]+ KiB before, [0-9]+ after\)$' cat out
}

atf_test_case bad_options
bad_options_head()
{
	atf_set "descr" "An unknown path or option is refused with the usage"
}
bad_options_body()
{
	atf_check -s exit:2 -e match:'no path nosuch' -e match:'usage:' \
	    "$BENCH" -p nosuch
	atf_check -s exit:2 -e match:'usage:' "$BENCH" -x
	atf_check -s exit:0 -o match:'io-out io-in mmio-write .* connect' \
	    "$BENCH" -h
}

atf_init_test_cases()
{
	atf_add_test_case every_path_measured
	atf_add_test_case bad_options
}
