# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
#
# t_workers: a worker process per client connection (nvmmd/workers.c and
# nvmmd/worker.c).  Each client's machines live in a child of the daemon
# of their own, so that killing one worker, or a client scribbling on its
# own comm page, reaches no other client's guest; a parent stopped with
# SIGTERM leaves its workers running, and the next parent on the same
# socket adopts them with their ids, UUIDs and statistics.
#
# Which worker serves which client is found from outside the daemon: a
# guest is started while the daemon has no other connection, and its
# worker is the one child of the daemon that was not there before.  The
# guests are h_guest's (NetBSD's API only); whether one still runs is read
# from the I/O exits of its VCPU 0 in `nvmmctl --json stats'.  PID 1 here
# may not reap orphans, so a process counts as alive by its state in
# /proc, never by kill -0.

NVMMD=@abs_top_builddir@/nvmmd/nvmmd
NVMMCTL=@abs_top_builddir@/nvmmctl/nvmmctl
H_GUEST=@abs_top_builddir@/tests/roles/h_guest
H_SCRIBBLE=@abs_top_builddir@/tests/privsep/h_scribble
H_INJECT=@abs_top_builddir@/tests/privsep/h_inject
SIGSYS=31	# x86_64
# hd_sh_start: nvmmd started and listening; hd_sh_workers: its workers.
. "@abs_top_srcdir@/tests/common/h_daemon.subr"
# check_tasks: the credentials of every task of a process.
. "@abs_top_srcdir@/tests/privsep/h_tasks.subr"

# -----------------------------------------------------------------------------
# Processes.

# The state letter of process $1 (R, S, Z...), empty when there is none.
pstate()
{
	sed -n 's/^.*) \([A-Za-z]\) .*$/\1/p' "/proc/$1/stat" 2>/dev/null
}

alive()
{
	case "$(pstate "$1")" in
	""|Z|X|x) return 1 ;;
	esac
	return 0
}

# The CPU time of process $1, all its threads, in clock ticks.
ticks()
{
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# The live workers of daemon $1, one a line, sorted as comm(1) wants.
workers_of()
{
	hd_sh_workers "$1" | sort
}

# When process $1 started, in clock ticks since boot: with its pid, it
# names the process, whose pid another may have by the time of a cleanup.
started()
{
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }'
}

# Every process a case starts is written in ./pids, for the cleanup.
remember()
{
	echo "$1 $(started "$1")" >>"$TOP/pids"
}

# File $1 on one line, for a failure's reason.
oneline()
{
	tr '\n' '|' <"$1"
}

# Waits until $1 (a command) succeeds, within $3 tenths of a second (50
# by default), or fails the case with $2 and what file $4 holds then.
wait_for()
{
	wf_end=$(($(date +%s%N) + ${3:-50} * 100000000))
	until eval "$1"; do
		if [ "$(date +%s%N)" -gt $wf_end ]; then
			[ -n "${4:-}" ] && atf_fail "$2: $(oneline "$4")"
			atf_fail "$2"
		fi
		sleep 0.05
	done
}

# -----------------------------------------------------------------------------
# The daemon and its guests.

# daemon_start [DIR]: a private nvmmd on ./sock's socket (the same for
# every daemon of the case), its log and pidfile in DIR (. by default),
# once the worker of hd_sh_start's probe is gone.
daemon_start()
{
	TOP=$PWD
	if [ ! -f sock ]; then
		d=$(mktemp -d /tmp/t_workers.XXXXXX)
		echo "$d/s.sock" >sock
	fi
	SOCK=$(cat sock)
	export NVMM_SOCKET="$SOCK"
	CTL="$NVMMCTL -s $SOCK"
	mkdir -p "${1:-.}"
	cd "${1:-.}"
	hd_sh_start "$NVMMD" "$SOCK" -c /dev/null
	remember "$(cat nvmmd.pid)"
	wait_for "[ -z \"\$(workers_of $(cat nvmmd.pid))\" ]" \
	    "the worker of a closed connection stays"
	cd "$TOP"
}

# guest_start NAME MODE: h_guest MODE, its output in NAME.out, its pid in
# NAME.pid and its machine id in NAME.id, once its guest runs.
guest_start()
{
	: >"$1.out"
	"$H_GUEST" "$2" >"$1.out" 2>"$1.err" &
	echo $! >"$1.pid"
	remember $!
	wait_for "grep -q '^ready\$' $1.out || ! alive $!" \
	    "h_guest $2 is not ready" 100 "$1.err"
	grep -q '^ready$' "$1.out" ||
	    atf_fail "h_guest $2 exited: $(oneline "$1.err")"
	sed -n 's/^machid //p' "$1.out" >"$1.id"
	[ -s "$1.id" ] || atf_fail "h_guest $2 gave no machine id"
}

# True when daemon $1 has exactly one live child that is no earlier
# client's (./*.worker), then in ./w.new; its children are in ./w.now.
one_new_worker()
{
	workers_of "$1" >w.now
	cat ./*.worker 2>/dev/null | sort >w.known
	comm -23 w.now w.known >w.new
	[ "$(wc -l <w.new)" -eq 1 ]
}

# worker_of NAME [DAEMONDIR]: the worker of the client NAME, just
# connected, into NAME.worker.
worker_of()
{
	wait_for "one_new_worker $(cat "${2:-.}/nvmmd.pid")" \
	    "no one worker for $1 among the daemon's children" 50 w.now
	cp w.new "$1.worker"
	remember "$(cat w.new)"
}

# guests NAME:MODE...: guest_start and worker_of of each in turn, then
# the machines listed in ./before, one per guest.
guests()
{
	for g in "$@"; do
		guest_start "${g%%:*}" "${g#*:}"
		worker_of "${g%%:*}"
	done
	listed before || atf_fail "nvmmctl list: $(oneline list.err)"
	[ "$(wc -l <before)" -eq $# ] ||
	    atf_fail "not $# machines: $(oneline before)"
}

# The machines `nvmmctl list' shows, "ID UUID" a line, into ./$1; false
# when nvmmctl fails.
listed()
{
	$CTL --json list >list.json 2>list.err || return 1
	python3 -c 'import json
for m in json.load(open("list.json"))["machines"]:
    print(m["id"], m["uuid"])' | sort -n >"$1"
}

# The I/O exits of VCPU 0 of machine $1 so far, or -1 when nvmmctl stats
# fails or has no such machine (a subshell cannot fail the case).
io_exits()
{
	if $CTL --json stats >stats.json 2>stats.err; then
		python3 -c 'import json, sys
for m in json.load(open("stats.json"))["machines"]:
    if m["id"] == int(sys.argv[1]):
        print(m["vcpu_stats"][0]["exits"]["io"])' "$1" >io.out
	else
		: >io.out
	fi
	[ -s io.out ] || echo -1 >io.out
	cat io.out
}

# Machine $1's I/O exits grow past $2 (by default, what they are now).
io_grows()
{
	ig_from=${2:-$(io_exits "$1")}
	[ "$ig_from" -ge 0 ] ||
	    atf_fail "machine $1 is not in nvmmctl stats: $(oneline stats.err)"
	wait_for "[ \$(io_exits $1) -gt $ig_from ]" \
	    "the guest of machine $1 does not run (io exits stay $ig_from)"
}

# The guest of client $1 runs: its worker and its h_guest are alive, and
# its run has not failed.
runs_on()
{
	alive "$(cat "$1.worker")" || atf_fail "the worker of $1 is gone"
	alive "$(cat "$1.pid")" ||
	    atf_fail "h_guest $1 is gone: $(oneline "$1.out")"
	! grep -q '^run failed' "$1.out" ||
	    atf_fail "$1: $(grep 'run failed' "$1.out")"
}

# Kills whatever the case started, whatever state it stopped in, and the
# workers of its daemons that it did not get to write down.
stop_all()
{
	[ -f pids ] || return 0
	TOP=$PWD
	while read -r p t; do
		[ "$(started "$p")" = "$t" ] || continue
		if [ "$(cat /proc/"$p"/comm)" = nvmmd ]; then
			for w in $(workers_of "$p"); do
				remember "$w"
			done
		fi
	done <pids
	while read -r p t; do
		[ "$(started "$p")" = "$t" ] && kill -9 "$p" 2>/dev/null
	done <pids
	[ -f sock ] && rm -rf "$(dirname "$(cat sock)")"
	return 0
}

needs_daemon()
{
	atf_set "require.user" "root"
	atf_set "require.files" "/dev/kvm"
	atf_set "require.progs" "python3"
}

# -----------------------------------------------------------------------------

atf_test_case worker_sigkill cleanup
worker_sigkill_head()
{
	atf_set "descr" "SIGKILL of one worker ends its client's machine" \
	    "alone: the client's run fails, the daemon logs it, the other" \
	    "guest runs on, nvmmctl list shows only it, and the freed id" \
	    "is the next machine's"
	needs_daemon
}
worker_sigkill_body()
{
	daemon_start
	guests a:run b:io
	io_grows "$(cat b.id)"

	kill -9 "$(cat a.worker)"
	wait_for "grep -q '^run failed: ' a.out" "the run of a did not fail"
	alive "$(cat nvmmd.pid)" || atf_fail "the daemon died with a worker"
	runs_on b
	io_grows "$(cat b.id)"
	line="worker $(cat a.worker) (pid $(cat a.pid) uid $(id -u)): .*;"
	line="$line its 1 machine(s) are gone"
	wait_for "grep -q '$line' nvmmd.log" "no \"$line\"" 50 nvmmd.log
	! grep -q "worker $(cat b.worker) " nvmmd.log ||
	    atf_fail "the log speaks of the other worker"
	listed after || atf_fail "nvmmctl list: $(oneline list.err)"
	grep -v "^$(cat a.id) " before >want
	atf_check -o file:want cat after

	guest_start c run
	atf_check -o file:a.id cat c.id
	runs_on b
}
worker_sigkill_cleanup()
{
	stop_all
}

atf_test_case restart cleanup
restart_head()
{
	atf_set "descr" "SIGTERM ends the parent alone: its workers run their" \
	    "guests on, a new nvmmd on the same socket adopts them with the" \
	    "same ids, UUIDs and counters, and can kill them; a new machine" \
	    "gets an id that no survivor has"
	needs_daemon
}
restart_body()
{
	daemon_start
	guests a:io b:io
	io_a=$(io_exits "$(cat a.id)")
	io_b=$(io_exits "$(cat b.id)")

	pid=$(cat nvmmd.pid)
	kill -TERM "$pid"
	wait_for "! alive $pid" "nvmmd does not end on SIGTERM"
	[ ! -e "$SOCK" ] || atf_fail "the socket is left behind"
	[ ! -e "$SOCK.workers" ] || atf_fail "the worker socket is left behind"
	# No parent to ask: a guest that runs costs its worker CPU time.
	for g in a b; do
		runs_on $g
		t=$(ticks "$(cat $g.worker)")
		wait_for "[ \$(ticks $(cat $g.worker)) -gt $t ]" \
		    "the worker of $g does no work without a parent"
	done

	daemon_start new
	wait_for "listed now && cmp -s before now" \
	    "the machines are not back" 50 now
	for g in a b; do
		line="worker $(cat $g.worker) (pid $(cat $g.pid) uid $(id -u))"
		line="$line registered with 1 machine(s)"
		grep -Fq "$line" new/nvmmd.log ||
		    atf_fail "no \"$line\": $(oneline new/nvmmd.log)"
		runs_on $g
	done
	# The counters carried over, and went on.
	io_grows "$(cat a.id)" "$io_a"
	io_grows "$(cat b.id)" "$io_b"
	io_grows "$(cat a.id)"
	io_grows "$(cat b.id)"

	# A new machine: an id no survivor holds, beside the survivors.
	guest_start c run
	worker_of c new
	for g in a b; do
		! cmp -s c.id $g.id ||
		    atf_fail "c got the id of $g, $(cat c.id)"
	done
	listed with_c || atf_fail "nvmmctl list: $(oneline list.err)"
	grep -q "^$(cat c.id) " with_c || atf_fail "c is not listed"
	grep -v "^$(cat c.id) " with_c >survivors
	atf_check -o file:before cat survivors

	atf_check -s exit:0 -o ignore -e empty $CTL kill "$(cat a.id)"
	wait_for "grep -q '^run failed: ENOENT\$' a.out" \
	    "the killed guest does not end as killed" 50 a.out
	runs_on b
	runs_on c
	io_grows "$(cat b.id)"
	listed after || atf_fail "nvmmctl list: $(oneline list.err)"
	grep -v "^$(cat a.id) " with_c >want
	atf_check -o file:want cat after
}
restart_cleanup()
{
	stop_all
}

atf_test_case orphan_calls cleanup
orphan_calls_head()
{
	atf_set "descr" "While no parent has it, a worker's client gets" \
	    "EAGAIN for a call that needs the parent (a new machine), and" \
	    "the same call works once a new nvmmd has adopted the worker"
	needs_daemon
}
orphan_calls_body()
{
	daemon_start
	guest_start a again
	worker_of a
	kill -USR1 "$(cat a.pid)"
	wait_for "grep -q '^create: ' a.out" "no answer with a parent" 50 a.out
	grep -q '^create: ok$' a.out || atf_fail "with a parent: $(oneline a.out)"

	pid=$(cat nvmmd.pid)
	kill -TERM "$pid"
	wait_for "! alive $pid" "nvmmd does not end on SIGTERM"
	kill -USR1 "$(cat a.pid)"
	wait_for "[ \$(grep -c '^create: ' a.out) -eq 2 ]" \
	    "no answer without a parent" 100 a.out
	[ "$(grep '^create: ' a.out | sed -n 2p)" = "create: EAGAIN" ] ||
	    atf_fail "without a parent: $(oneline a.out)"
	alive "$(cat a.worker)" || atf_fail "the worker ended with its parent"

	daemon_start new
	wait_for "grep -q 'registered with 2 machine(s)' new/nvmmd.log" \
	    "the worker is not adopted" 50 new/nvmmd.log
	kill -USR1 "$(cat a.pid)"
	wait_for "[ \$(grep -c '^create: ' a.out) -eq 3 ]" \
	    "no answer from the new parent" 50 a.out
	[ "$(grep '^create: ' a.out | sed -n 3p)" = "create: ok" ] ||
	    atf_fail "after the adoption: $(oneline a.out)"
	$CTL list >list.out 2>list.err || atf_fail "$(oneline list.err)"
	[ "$(grep -c '^[0-9]' list.out)" -eq 3 ] ||
	    atf_fail "not 3 machines: $(oneline list.out)"
}
orphan_calls_cleanup()
{
	stop_all
}

atf_test_case procs cleanup
procs_head()
{
	atf_set "descr" "The parent and each worker, every task of them, are" \
	    "the nvmmd user with no capability, no_new_privs and seccomp;" \
	    "there is one worker per connection, a child of the parent," \
	    "holding that client's VCPU threads, and it goes with it"
	needs_daemon
}
# The fewest and the most seccomp filters of any task of process $1.
filters()
{
	cat /proc/"$1"/task/*/status |
	    awk '/^Seccomp_filters:/ { if (min == "" || $2 < min) min = $2
		if ($2 > max) max = $2 } END { print min, max }'
}
procs_body()
{
	daemon_start
	pid=$(cat nvmmd.pid)
	ls /proc/"$pid"/task >tasks.idle
	guests a:run b:io
	sort a.worker b.worker >want.workers
	workers_of "$pid" >got.workers
	atf_check -o file:want.workers cat got.workers

	atf_check -o inline:"nvmmd\n" cat /proc/"$pid"/comm
	check_tasks "$pid"
	# No VCPU thread is the parent's.
	ls /proc/"$pid"/task >tasks.busy
	atf_check -o file:tasks.idle cat tasks.busy
	set -- $(filters "$pid")
	parent_max=$2
	for g in a b; do
		w=$(cat $g.worker)
		atf_check -o inline:"nvmmd-worker\n" cat /proc/"$w"/comm
		atf_check -o inline:"$pid\n" awk '/^PPid:/ { print $2 }' \
		    /proc/"$w"/status
		check_tasks "$w"
		# Its event loop and the two VCPU threads of its guest.
		[ "$(cat ntasks)" -ge 3 ] ||
		    atf_fail "worker $w has $(cat ntasks) task(s)"
		# The parent's filter, and its own on top.
		set -- $(filters "$w")
		[ "$1" -gt "$parent_max" ] || atf_fail "worker $w has" \
		    "$1 seccomp filter(s), its parent $parent_max"
	done

	# A third connection has a worker of its own while it is open.
	python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
print("connected", flush=True)
time.sleep(60)' "$SOCK" >c.out &
	echo $! >c.pid
	remember $!
	wait_for "grep -q connected c.out" "no third connection"
	worker_of c
	check_tasks "$(cat c.worker)"
	kill "$(cat c.pid)"
	wait_for "! alive $(cat c.worker)" \
	    "the worker of a closed connection stays"
	workers_of "$pid" >got.workers
	atf_check -o file:want.workers cat got.workers
	alive "$pid" || atf_fail "the daemon is gone: $(oneline nvmmd.log)"
	runs_on a
	runs_on b
}
procs_cleanup()
{
	stop_all
}

atf_test_case scribble cleanup
scribble_head()
{
	atf_set "descr" "A client that writes garbage over its own comm page" \
	    "and runs, over and over, harms no other owner's guest: the" \
	    "parent and the other worker stay, the other guest runs on and" \
	    "is listed; the scribbler's machine goes with it"
	needs_daemon
}
scribble_body()
{
	daemon_start
	guests b:io
	io_grows "$(cat b.id)"

	"$H_SCRIBBLE" >s.out 2>s.err &
	echo $! >s.pid
	remember $!
	wait_for "grep -q '^ready\$' s.out" "h_scribble is not ready" 50 s.err
	worker_of s
	kill -USR1 "$(cat s.pid)"
	wait_for "! alive $(cat s.pid)" "h_scribble does not end" 150
	# Its runs came to an end, of whatever kind: its own worker's affair.
	grep -q '^round 1 comm: ' s.out ||
	    atf_fail "no scribbled run: $(oneline s.out)"
	grep -Eq '^(done|no answer)$' s.out ||
	    atf_fail "h_scribble: $(oneline s.err)"

	alive "$(cat nvmmd.pid)" ||
	    atf_fail "the daemon is gone: $(oneline nvmmd.log)"
	runs_on b
	io_grows "$(cat b.id)"
	! grep -q "worker $(cat b.worker) " nvmmd.log ||
	    atf_fail "the log speaks of the other worker"
	# The scribbler's worker and machine went with it.
	wait_for "! alive $(cat s.worker)" "the worker of h_scribble stays"
	wait_for "listed now && cmp -s before now" \
	    "the machines are not what they were" 50 now
}
scribble_cleanup()
{
	stop_all
}

atf_test_case seccomp_worker cleanup
seccomp_worker_head()
{
	atf_set "descr" "A worker that makes a call outside its allow-list" \
	    "(chmod, made for it through ptrace), in its event loop or in" \
	    "a VCPU thread, is killed by SIGSYS, and it alone: the parent" \
	    "logs it, the other guest runs on and is listed"
	needs_daemon
}
# A VCPU thread of worker $1: a task with more seccomp filters than the
# worker's main thread (the VCPU's on top); nothing when there is none.
vcpu_thread()
{
	main=$(awk '/^Seccomp_filters:/ { print $2 }' /proc/"$1"/status)
	for t in /proc/"$1"/task/*; do
		n=$(awk '/^Seccomp_filters:/ { print $2 }' "$t/status")
		[ "$n" -gt "$main" ] && { basename "$t"; return 0; }
	done
}
seccomp_worker_body()
{
	# The call itself harms no process without a filter.
	sleep 30 &
	remember $!
	atf_check -o inline:"returned -14\n" "$H_INJECT" $!
	alive $! || atf_fail "h_inject killed a process without a filter"

	daemon_start
	guests a:io b:io c:io
	io_grows "$(cat b.id)"

	vcpu=$(vcpu_thread "$(cat c.worker)")
	[ -n "$vcpu" ] || atf_fail "worker $(cat c.worker): no VCPU thread"
	for tid in "$(cat a.worker)" "$vcpu"; do
		atf_check -o match:'^returned ' "$H_INJECT" "$tid"
	done
	for g in a c; do
		w=$(cat $g.worker)
		wait_for "! alive $w" "worker $w made the call and lives"
		alive "$(cat nvmmd.pid)" ||
		    atf_fail "the daemon died with worker $w"
		line="nvmmd: worker $w killed by signal $SIGSYS"
		wait_for "grep -Fqx '$line' nvmmd.log" \
		    "worker $w was not killed by its filter" 50 nvmmd.log
		wait_for "grep -q '^run failed: ' $g.out" \
		    "the run of $g goes on"
	done
	alive "$(cat nvmmd.pid)" ||
	    atf_fail "the daemon is gone: $(oneline nvmmd.log)"
	runs_on b
	io_grows "$(cat b.id)"
	listed after || atf_fail "nvmmctl list: $(oneline list.err)"
	grep "^$(cat b.id) " before >want
	atf_check -o file:want cat after
}
seccomp_worker_cleanup()
{
	stop_all
}

atf_init_test_cases()
{
	atf_add_test_case worker_sigkill
	atf_add_test_case restart
	atf_add_test_case orphan_calls
	atf_add_test_case procs
	atf_add_test_case scribble
	atf_add_test_case seccomp_worker
}
