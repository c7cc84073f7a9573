# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# nvmmd is root for start-up only: afterwards every thread of it is the
# nvmmd user, with no capability, no_new_privs, the seccomp filter and no
# environment; it still removes its files, reloads what it can read, and
# says how to make the user when there is none.

TOP_BUILDDIR=@abs_top_builddir@
TOP_SRCDIR=@abs_top_srcdir@
. "$TOP_SRCDIR/tests/service/h_service.subr"
. "$TOP_SRCDIR/tests/common/h_daemon.subr"
. "$TOP_SRCDIR/tests/privsep/h_tasks.subr"

# A detached daemon with its pidfile beside the socket; ./nvmmd.pid is
# a copy, for stop_daemon.
start_detached()
{
	d=$(sockdir)
	printf 'pidfile %s/nvmmd.pid\n' "$d" >pid.conf
	atf_check -s exit:0 -o empty -e ignore \
	    env FOO=bar "$NVMMD" -c "$PWD/pid.conf" -s "$d/s.sock"
	cp "$d/nvmmd.pid" nvmmd.pid
}

atf_test_case unprivileged cleanup
unprivileged_head()
{
	atf_set "descr" "After start-up, every task of nvmmd (the parent," \
	    "the worker of a client, its VCPU threads), foreground or detached, is the nvmmd" \
	    "user with no capability in any set, no_new_privs and seccomp," \
	    "and its environment holds NOTIFY_SOCKET alone"
	root_head
}
unprivileged_body()
{
	d=$(sockdir)
	printf 'user-group daemon\n' >nvmmd.conf
	env FOO=bar NOTIFY_SOCKET="$d/no-notify" "$NVMMD" -f \
	    -c "$PWD/nvmmd.conf" -s "$d/s.sock" 2>>nvmmd.log &
	echo $! >nvmmd.pid
	wait_until "[ -S '$d/s.sock' ]" "nvmmd did not start"
	export NVMM_SOCKET="$d/s.sock"
	chmod 0644 "$IMAGE" 2>/dev/null || true
	$AS_A "$DEMO" -c 2 -t 0 "$IMAGE" >a.out 2>&1 &
	echo $! >a.pid
	wait_tick a.out 2
	pid=$(cat nvmmd.pid)
	check_tasks "$pid"
	[ "$(cat ntasks)" -eq 1 ] || atf_fail "$(cat ntasks) tasks in the parent"
	# The demo's worker: its event loop and two VCPU threads at least.
	w=
	for c in $(hd_sh_workers "$pid"); do
		[ "$(ls /proc/"$c"/task | wc -l)" -ge 3 ] && w=$c
	done
	[ -n "$w" ] || atf_fail "no worker with the demo's VCPU threads"
	check_tasks "$w"
	[ "$(cat ntasks)" -ge 3 ] || atf_fail "only $(cat ntasks) tasks in the worker"
	tr '\0' '\n' <"/proc/$w/environ" | grep -v '^$' >env.out || true
	atf_check -o inline:"NOTIFY_SOCKET=$d/no-notify\n" cat env.out
	tr '\0' '\n' <"/proc/$pid/environ" | grep -v '^$' >env.out || true
	atf_check -o inline:"NOTIFY_SOCKET=$d/no-notify\n" cat env.out
	kill "$(cat a.pid)"
	stop_daemon

	# Detached: the daemon that stays is the one that dropped.
	start_detached
	check_tasks "$(cat nvmmd.pid)"
	tr '\0' '\n' <"/proc/$(cat nvmmd.pid)/environ" | grep -v '^$' \
	    >env.out || true
	atf_check -o empty cat env.out
}
unprivileged_cleanup()
{
	[ -f a.pid ] && kill "$(cat a.pid)" 2>/dev/null
	stop_daemon
}

atf_test_case own_files cleanup
own_files_head()
{
	atf_set "descr" "The socket and pidfile are the nvmmd user's and go" \
	    "at exit; in a directory that user could not remove them from," \
	    "the start fails, naming the path, and leaves nothing"
	root_head
}
own_files_body()
{
	start_detached
	atf_check -o inline:"nvmmd\nnvmmd\n" stat -c %U "$d/s.sock" \
	    "$d/nvmmd.pid"
	pid=$(cat nvmmd.pid)
	kill -TERM "$pid"
	wait_gone "$pid"
	[ ! -e "$d/s.sock" ] || atf_fail "the socket is left behind"
	[ ! -e "$d/nvmmd.pid" ] || atf_fail "the pidfile is left behind"

	mkdir root-dir
	chmod 0755 root-dir
	for fg in -f ""; do
		atf_check -s exit:1 -o empty \
		    -e match:"^nvmmd: $PWD/root-dir/s.sock: Permission denied\$" \
		    "$NVMMD" $fg -c /dev/null -s "$PWD/root-dir/s.sock"
		atf_check -s exit:1 -o empty \
		    -e match:"^nvmmd: $PWD/root-dir/p.pid: Permission denied\$" \
		    "$NVMMD" $fg -c /dev/null -p "$PWD/root-dir/p.pid" \
		    -s "$d/s.sock"
	done
	atf_check -o empty ls -A root-dir
	[ ! -e "$d/s.sock" ] || atf_fail "a failed start left a socket"
}
own_files_cleanup()
{
	stop_daemon
}

atf_test_case reload_unreadable cleanup
reload_unreadable_head()
{
	atf_set "descr" "SIGHUP reads the file as the nvmmd user: a file only" \
	    "root may read is a failed reload, logged, and the old" \
	    "configuration stays"
	root_head
}
reload_unreadable_body()
{
	printf 'user-group daemon\n' >nvmmd.conf
	start_fg "$PWD/nvmmd.conf"
	atf_check -s exit:0 -o match:'done counting' -e empty \
	    $AS_A "$DEMO" -t 1 "$IMAGE"
	printf 'user-group nosuchgroup47\n' >nvmmd.conf
	chmod 0600 nvmmd.conf
	n=$(grep -c . nvmmd.log)
	kill -HUP "$(cat nvmmd.pid)"
	line="reload: $PWD/nvmmd.conf: Permission denied; keeping the old configuration"
	wait_until "tail -n +$((n + 1)) nvmmd.log | grep -Fqx 'nvmmd: $line'" \
	    "no \"$line\""
	atf_check -s exit:0 -o match:'done counting' -e empty \
	    $AS_A "$DEMO" -t 1 "$IMAGE"
	chmod 0644 nvmmd.conf
	n=$(grep -c . nvmmd.log)
	kill -HUP "$(cat nvmmd.pid)"
	wait_until "tail -n +$((n + 1)) nvmmd.log | grep -Fq 'reloaded $PWD/nvmmd.conf'" \
	    "no reload once the file is readable"
	atf_check -s not-exit:0 -o empty -e match:'Permission denied' \
	    $AS_A "$DEMO" -t 1 "$IMAGE"
}
reload_unreadable_cleanup()
{
	stop_daemon
}

atf_test_case missing_user cleanup
missing_user_head()
{
	atf_set "descr" "Root with no user to become: one line naming the" \
	    "fix, status 1, in the foreground and detached, from -u or the" \
	    "user key; root itself is refused as that user"
	root_head
}
missing_user_body()
{
	d=$(sockdir)
	fix='; create it with "systemd-sysusers" \(nvmmd.s sysusers.d file\) or "adduser --system --group --no-create-home nosuchuser47"$'
	printf 'user nosuchuser47\n' >user.conf
	for fg in -f ""; do
		atf_check -s exit:1 -o empty \
		    -e match:"^nvmmd: user nosuchuser47: no such user$fix" \
		    "$NVMMD" $fg -c /dev/null -u nosuchuser47 -s "$d/s.sock"
		atf_check -s exit:1 -o empty \
		    -e match:"^nvmmd: user nosuchuser47: no such user$fix" \
		    "$NVMMD" $fg -c "$PWD/user.conf" -s "$d/s.sock"
		atf_check -s exit:1 -o empty \
		    -e match:'^nvmmd: user root: is root; nvmmd runs as an unprivileged user$' \
		    "$NVMMD" $fg -c /dev/null -u root -s "$d/s.sock"
	done
	[ ! -e "$d/s.sock" ] || atf_fail "a failed start left a socket"
}
missing_user_cleanup()
{
	stop_daemon
}

atf_test_case not_root cleanup
not_root_head()
{
	atf_set "descr" "Started by a user other than root who may open" \
	    "/dev/kvm (here through a mount namespace), nvmmd stays that" \
	    "user, without capabilities or environment, and serves"
	root_head unshare mknod
}
not_root_body()
{
	d=$(sockdir)
	chmod 0777 "$d"
	mkdir dev
	chmod 0755 dev
	printf 'user-group daemon\n' >nvmmd.conf
	# A /dev/kvm of mode 0666 for this daemon alone.
	unshare -m sh -c "mount -t tmpfs -o mode=0755 none '$PWD/dev' &&
	    mknod -m 0666 '$PWD/dev/kvm' c 10 232 &&
	    mount --bind '$PWD/dev/kvm' /dev/kvm &&
	    exec env FOO=bar $AS_A '$NVMMD' -f -c '$PWD/nvmmd.conf' \
	    -s '$d/s.sock'" 2>>nvmmd.log &
	wait_until "[ -S '$d/s.sock' ]" "nvmmd did not start"
	pid=$(pgrep -u $UID_A -x nvmmd)
	[ -n "$pid" ] || atf_fail "no nvmmd of uid $UID_A"
	echo "$pid" >nvmmd.pid
	atf_check -o inline:"$(ids_line Uid $UID_A)\n$(ids_line Gid 1)\n" \
	    grep -E '^(Uid|Gid):' "/proc/$pid/status"
	atf_check -o match:'^CapEff:	0+$' -o match:'^CapPrm:	0+$' \
	    -o match:'^NoNewPrivs:	1$' -o match:'^Seccomp:	2$' \
	    cat "/proc/$pid/status"
	tr '\0' '\n' <"/proc/$pid/environ" | grep -v '^$' >env.out || true
	atf_check -o empty cat env.out
	atf_check -s exit:0 -o match:'done counting' -e empty \
	    env NVMM_SOCKET="$d/s.sock" $AS_B "$DEMO" -t 1 "$IMAGE"
}
not_root_cleanup()
{
	stop_daemon
}

atf_init_test_cases()
{
	atf_add_test_case unprivileged
	atf_add_test_case own_files
	atf_add_test_case reload_unreadable
	atf_add_test_case missing_user
	atf_add_test_case not_root
}
