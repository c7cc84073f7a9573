# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# nvmmd.service as built: what its stop, restart and reload do to the
# guests (nvmmd(8), SIGNALS).  systemd itself is not needed: the unit is
# read as systemd reads its keys, the last setting of a key winning.

UNIT=@abs_top_builddir@/systemd/nvmmd.service

# The value of key $1 in the [Service] section, empty if it is unset.
service_key()
{
	awk -v key="$1" '
		/^\[/ { in_service = ($0 == "[Service]") }
		in_service && index($0, key "=") == 1 {
			v = substr($0, length(key) + 2)
		}
		END { print v }' "$UNIT"
}

# Key $1 of [Service] must be $2 ("": unset).
want_key()
{
	[ -f "$UNIT" ] || atf_fail "no $UNIT"
	v=$(service_key "$1")
	[ "$v" = "$2" ] || atf_fail "$1=$v in $UNIT, want $1=$2"
}

atf_test_case restart_keeps_guests
restart_keeps_guests_head()
{
	atf_set "descr" "Stop and restart send SIGTERM to the parent alone" \
	    "(KillMode=process, KillSignal unset or SIGTERM) and run no" \
	    "ExecStop, so that the workers and their guests outlive it"
}
restart_keeps_guests_body()
{
	want_key KillMode process
	sig=$(service_key KillSignal)
	case "$sig" in
	"" | SIGTERM | TERM | 15) ;;
	*) atf_fail "KillSignal=$sig: a restart must send SIGTERM" ;;
	esac
	want_key ExecStop ""
	want_key ExecStopPost ""
}

atf_test_case reload_is_sighup
reload_is_sighup_head()
{
	atf_set "descr" "Reload sends SIGHUP to the parent, which rereads" \
	    "its configuration under running guests"
}
reload_is_sighup_body()
{
	want_key ExecReload '/bin/kill -HUP $MAINPID'
}

atf_init_test_cases()
{
	atf_add_test_case restart_keeps_guests
	atf_add_test_case reload_is_sighup
}
