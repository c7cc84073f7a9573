# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# nvmmd's start-up: each failure is one line on stderr and a non-zero
# status, in the foreground and detached; a detached start returns only
# once clients can connect; the socket path is never followed, and
# nothing but a stale socket is ever replaced; the pidfile keeps a
# second daemon out; -n checks a configuration.

TOP_BUILDDIR=@abs_top_builddir@
TOP_SRCDIR=@abs_top_srcdir@
. "$TOP_SRCDIR/tests/service/h_service.subr"
SRCCONF="$TOP_SRCDIR/etc/nvmmd.conf"

atf_test_case failures cleanup
failures_head()
{
	atf_set "descr" "Start-up failures: one line naming the cause, status" \
	    "1 (2 for the command line), in the foreground and detached"
	root_head
}
failures_body()
{
	d=$(sockdir)
	: >empty.conf
	printf 'log-level loud\n' >bad.conf
	for fg in -f ""; do
		atf_check -s exit:1 -o empty \
		    -e match:"^nvmmd: $PWD/bad.conf:1: loud: not a valid log-level\$" \
		    "$NVMMD" $fg -c "$PWD/bad.conf" -s "$d/s.sock"
		atf_check -s exit:1 -o empty \
		    -e match:'^nvmmd: /nonexistent.conf: No such file or directory$' \
		    "$NVMMD" $fg -c /nonexistent.conf -s "$d/s.sock"
		atf_check -s exit:1 -o empty \
		    -e match:'^nvmmd: /dev/kvm: not a usable KVM' \
		    unshare -m sh -c "mount --bind /dev/null /dev/kvm &&
		    exec '$NVMMD' $fg -c '$PWD/empty.conf' -s '$d/s.sock'"
		atf_check -s exit:1 -o empty \
		    -e match:'^nvmmd: /dev/kvm: No such file or directory \(is the kvm module loaded\?\)$' \
		    unshare -m sh -c "mount -t tmpfs none /dev &&
		    exec '$NVMMD' $fg -c '$PWD/empty.conf' -s '$d/s.sock'"
		atf_check -s exit:1 -o empty \
		    -e match:'^nvmmd: /dev/kvm: Permission denied$' \
		    $AS_A "$NVMMD" $fg -c "$PWD/empty.conf" -s "$d/s.sock"
		atf_check -s exit:2 -o empty -e match:'bad limits' \
		    "$NVMMD" $fg -l machines=lots
	done
	[ ! -e "$d/s.sock" ] || atf_fail "a failed start left a socket"
}
failures_cleanup()
{
	stop_daemon
}

atf_test_case detach cleanup
detach_head()
{
	atf_set "descr" "A detached nvmmd exits 0 only once a client can" \
	    "connect; a second one on the busy socket exits 1 and says why"
	root_head
}
detach_body()
{
	d=$(sockdir)
	: >empty.conf
	for i in 1 2 3 4 5; do
		atf_check -s exit:0 -o empty -e match:"listening on $d/s.sock" \
		    "$NVMMD" -c "$PWD/empty.conf" -s "$d/s.sock" -p "$d/pid"
		atf_check -s exit:0 -o match:'^Machine ID' -e empty \
		    env NVMM_SOCKET="$d/s.sock" "$NVMMCTL" list
		atf_check -s exit:1 -o empty \
		    -e match:"^nvmmd: $d/s.sock: a live socket answers there; not replacing it\$" \
		    "$NVMMD" -c "$PWD/empty.conf" -s "$d/s.sock" -p "$d/pid2"
		pid=$(cat "$d/pid")
		kill -TERM "$pid"
		wait_gone "$pid"
		[ ! -e "$d/s.sock" ] || atf_fail "the socket stayed behind"
		[ ! -e "$d/pid" ] || atf_fail "the pidfile stayed behind"
	done
}
detach_cleanup()
{
	[ -f "$(cat sockdir 2>/dev/null)/pid" ] &&
	    kill -TERM "$(cat "$(cat sockdir)/pid")" 2>/dev/null
	stop_daemon
}

# Each thing in the way: refused with its name, and left as it was.
check_refused()
{
	what=$1
	d=$(sockdir)
	before=$(ls -lA --time-style=full-iso "$d" | sort)
	atf_check -s exit:1 -o empty \
	    -e match:"^nvmmd: $d/s.sock: $what; not replacing it\$" \
	    timeout 10 "$NVMMD" -f -c "$PWD/empty.conf" -s "$d/s.sock"
	after=$(ls -lA --time-style=full-iso "$d" | sort)
	[ "$before" = "$after" ] || atf_fail "$what: the directory changed"
}

atf_test_case socket_path cleanup
socket_path_head()
{
	atf_set "descr" "A regular file, a directory, a symlink, a live" \
	    "socket of either type at the socket path: refused, named," \
	    "nothing deleted; a stale socket is replaced"
	root_head /usr/bin/python3
}
socket_path_body()
{
	d=$(sockdir)
	: >empty.conf
	echo precious >"$d/s.sock"
	check_refused "a regular file is in the way"
	atf_check -o inline:"precious\n" cat "$d/s.sock"
	rm "$d/s.sock"
	mkdir "$d/s.sock"
	check_refused "a directory is in the way"
	rmdir "$d/s.sock"
	echo target >"$d/target"
	chmod 0600 "$d/target"
	ln -s "$d/target" "$d/s.sock"
	check_refused "a symlink is in the way"
	ln -sf "$d/nowhere" "$d/s.sock"
	check_refused "a symlink is in the way"
	rm "$d/s.sock"
	mkfifo "$d/s.sock"
	check_refused "not a socket is in the way"
	rm "$d/s.sock"
	for kind in seqpacket stream; do
		$SOCKPY live $kind "$d/s.sock" >live.out &
		echo $! >live.pid
		wait_until "grep -q listening live.out" "no $kind socket"
		if [ $kind = seqpacket ]; then
			check_refused "a live socket answers there"
		else
			check_refused "a socket of another type is there"
		fi
		kill "$(cat live.pid)"
		wait "$(cat live.pid)" 2>/dev/null
		rm -f "$d/s.sock" live.pid
	done
	$SOCKPY stale "$d/s.sock"
	[ -S "$d/s.sock" ] || atf_fail "no stale socket to replace"
	start_fg "$PWD/empty.conf"
	# start_fg saw the stale socket: wait until nvmmd's replaces it.
	wait_until "'$NVMMCTL' list >/dev/null 2>&1" "the stale socket stays"
	atf_check -s exit:0 -o match:'^Machine ID' -e empty "$NVMMCTL" list
}
socket_path_cleanup()
{
	[ -f live.pid ] && kill "$(cat live.pid)" 2>/dev/null
	stop_daemon
}

atf_test_case socket_mode cleanup
socket_mode_head()
{
	atf_set "descr" "The socket gets the configured mode and group, and the" \
	    "nvmmd user as owner, at bind: no chmod or chown through its path," \
	    "which a user could have swapped for a symlink"
	root_head strace
}
socket_mode_body()
{
	d=$(sockdir)
	printf 'socket-mode 0660\nsocket-group daemon\n' >mode.conf
	strace -f -o trace -e trace=chmod,fchmodat,chown,fchownat,lchown \
	    "$NVMMD" -f -c "$PWD/mode.conf" -s "$d/s.sock" 2>nvmmd.log &
	echo $! >nvmmd.pid
	wait_until "[ -S '$d/s.sock' ]" "nvmmd did not start"
	atf_check -o inline:"660 nvmmd daemon\n" stat -c '%a %U %G' "$d/s.sock"
	if grep -v '^[0-9]* +++\|---' trace | grep -q 's\.sock'; then
		atf_fail "went through the path: $(grep s.sock trace)"
	fi
	atf_check -s exit:4 -o empty \
	    -e match:'^nvmmctl: permission denied: user uid [0-9]+ is not in group nvmm-monitor or nvmm \(list needs the monitor role\)$' \
	    env NVMM_SOCKET="$d/s.sock" $AS_B "$NVMMCTL" list
	printf 'socket-group nosuchgroup\n' >nogroup.conf
	atf_check -s exit:1 -o empty \
	    -e match:'^nvmmd: socket-group nosuchgroup: no such group$' \
	    "$NVMMD" -f -c "$PWD/nogroup.conf" -s "$d/other.sock"
}
socket_mode_cleanup()
{
	stop_daemon
}

atf_test_case pidfile cleanup
pidfile_head()
{
	atf_set "descr" "The pidfile names the daemon; a second daemon on" \
	    "it refuses to start, naming the first; it goes at exit"
	root_head
}
pidfile_body()
{
	d=$(sockdir)
	printf 'pidfile %s/nvmmd.pid\n' "$d" >pid.conf
	atf_check -s exit:0 -o empty -e ignore \
	    "$NVMMD" -c "$PWD/pid.conf" -s "$d/s.sock"
	pid=$(cat "$d/nvmmd.pid")
	atf_check -o match:'nvmmd' cat "/proc/$pid/comm"
	atf_check -s exit:1 -o empty \
	    -e match:"^nvmmd: $d/nvmmd.pid: already running as pid $pid\$" \
	    "$NVMMD" -c "$PWD/pid.conf" -s "$d/other.sock"
	atf_check -s exit:1 -o empty \
	    -e match:"^nvmmd: $d/nvmmd.pid: already running as pid $pid\$" \
	    "$NVMMD" -f -p "$d/nvmmd.pid" -s "$d/other.sock"
	[ ! -e "$d/other.sock" ] || atf_fail "the refused daemon bound"
	atf_check -s exit:0 -o match:'^Machine ID' -e empty \
	    env NVMM_SOCKET="$d/s.sock" "$NVMMCTL" list
	kill -TERM "$pid"
	wait_gone "$pid"
	[ ! -e "$d/nvmmd.pid" ] || atf_fail "the pidfile stayed behind"
}
pidfile_cleanup()
{
	d=$(cat sockdir 2>/dev/null)
	[ -f "$d/nvmmd.pid" ] && kill -TERM "$(cat "$d/nvmmd.pid")"
	stop_daemon
}

atf_test_case configtest
configtest_head()
{
	atf_set "descr" "nvmmd -n: the installed file and every default in" \
	    "it are valid; each kind of error names the file and the line"
}
configtest_body()
{
	atf_check -s exit:0 -o match:'the configuration is valid' -e empty \
	    "$NVMMD" -n -c "$SRCCONF"
	sed -n 's/^#\([a-z]\)/\1/p' "$SRCCONF" >defaults.conf
	[ "$(wc -l <defaults.conf)" -ge 11 ] || atf_fail "defaults missing"
	atf_check -s exit:0 -o match:'the configuration is valid' -e empty \
	    "$NVMMD" -n -c "$PWD/defaults.conf"
	printf '%s\n' '# a comment' '' 'limit group daemon machines=2 ram=1G' \
	    'limit user 0 vcpus=4' 'socket-mode 0600 # trailing' >good.conf
	atf_check -s exit:0 -o match:'valid' "$NVMMD" -n -c "$PWD/good.conf"
	while IFS='|' read -r line why; do
		printf '# first\n%s\n' "$line" >bad.conf
		atf_check -s exit:1 -o empty \
		    -e inline:"nvmmd: $PWD/bad.conf:2: $why\n" \
		    "$NVMMD" -n -c "$PWD/bad.conf"
	done <<'EOF_CASES'
sockets /x|sockets: unknown key
socket|socket: takes 1 value
socket a b|socket: takes 1 value
socket relative.sock|relative.sock: not an absolute path
socket-mode 0999|0999: not an octal mode from 0 to 0777
socket-mode 01777|01777: not an octal mode from 0 to 0777
log-level loud|loud: not a valid log-level
syslog-facility kern9|kern9: not a valid syslog-facility
refusal-log-rate -1|-1: not a count from 0 to 1000000
limit default|limit: takes 2 or more values
limit default machines=-1|machines=-1: not a limit (name=value)
limit default machine=1|machine=1: not a limit (name=value)
limit default ram=lots|ram=lots: not a limit (name=value)
limit user nosuchuser47 machines=1|nosuchuser47: no such user
limit group nosuchgroup47 machines=1|nosuchgroup47: no such group
limit someone machines=1|someone: not default, user or group
limit user 1000|limit user: needs a name and a limit
EOF_CASES
}

atf_test_case version
version_head()
{
	atf_set "descr" "-V and --version print the version"
}
version_body()
{
	atf_check -s exit:0 -o match:'^nvmmd [0-9]+\.[0-9]+\.[0-9]+$' "$NVMMD" -V
	atf_check -s exit:0 -o match:'^nvmmd [0-9]+\.[0-9]+\.[0-9]+$' \
	    "$NVMMD" --version
}

atf_init_test_cases()
{
	atf_add_test_case failures
	atf_add_test_case detach
	atf_add_test_case socket_path
	atf_add_test_case socket_mode
	atf_add_test_case pidfile
	atf_add_test_case configtest
	atf_add_test_case version
}
