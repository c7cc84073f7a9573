# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
#
# t_nvmmctl: nvmmctl's commands, in text and in JSON, against a private
# nvmmd and a guest that h_guest runs (a machine with 2 VCPUs and 2 MiB
# of RAM, VCPU 1 halted once, VCPU 0 spinning until the machine is
# killed).
#
# What nvmmctl prints is compared with what the test knows by other
# means: the capability and the machine as h_guest got them through
# libnvmm, NetBSD's formats (humanize_number, snprintb, asctime) redone
# here in Python after NetBSD's code.  JSON is parsed, never grepped.
#
# The build substitutes the build directory into this script; each test
# case works in the private directory atf gives it.
#

nvmmd="@abs_top_builddir@/nvmmd/nvmmd"
nvmmctl="@abs_top_builddir@/nvmmctl/nvmmctl"
h_guest="@abs_top_builddir@/tests/roles/h_guest"
# hd_sh_start: nvmmd started and listening.
. "@abs_top_srcdir@/tests/common/h_daemon.subr"

. "@abs_top_srcdir@/tests/roles/h_nvmmctl.subr"

# The protocol version this tree speaks.
proto_version()
{
	sed -n 's/^#define NVMM_PROTO_VERSION[^0-9]*\([0-9]*\)$/\1/p' \
	    "@abs_top_srcdir@/proto/nvmm_wire.h"
}

# A fake daemon on ./fake.sock: the Python code $1, run once s listens,
# with the other arguments in sys.argv[1:].  Its pid is in guest.pid, for
# stop_all.
fake_start()
{
	{
		printf '%s\n' 'import socket, sys' \
		    's = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)' \
		    's.bind("fake.sock")' 's.listen(4)' \
		    'open("fake.ready", "w").close()'
		printf '%s\n' "$1"
	} >fake.py
	shift
	python3 fake.py "$@" &
	echo $! >guest.pid
	while [ ! -f fake.ready ]; do
		kill -0 "$(cat guest.pid)" 2>/dev/null ||
		    atf_fail "the fake daemon exited: $(cat fake.py)"
		sleep 0.01
	done
}

# wait_gone PID NAME: until the process PID has exited, for 10 s at most.
wait_gone()
{
	wg_i=0
	while kill -0 "$1" 2>/dev/null && [ -z "$(sed -n 's/^State:.*Z.*/z/p' \
	    /proc/"$1"/status 2>/dev/null)" ]; do
		wg_i=$((wg_i + 1))
		[ ${wg_i} -lt 1000 ] || atf_fail "$2 still runs after 10 s"
		sleep 0.01
	done
}

# -----------------------------------------------------------------------------

atf_test_case identify cleanup
identify_head()
{
	atf_set "descr" "identify prints NetBSD's 8 lines with this host's" \
	    "capability, and --json the same capability as numbers"
	needs_daemon
}
identify_body()
{
	daemon_start
	atf_check -s exit:0 -o save:cap.txt -e empty "${h_guest}" cap

	py '
c = {k: int(v) for k, v in kv("cap.txt").items()}
out = open("identify.want", "w")
out.write("nvmm: Kernel API version %d\n" % c["version"])
out.write("nvmm: State size %d\n" % c["state_size"])
out.write("nvmm: Max machines %d\n" % c["max_machines"])
out.write("nvmm: Max VCPUs per machine %d\n" % c["max_vcpus"])
out.write("nvmm: Max RAM per machine %s\n" % humanize(c["max_ram"]))
out.write("nvmm: Arch Mach conf %s\n" % snprintb(c["mach_conf_support"], []))
out.write("nvmm: Arch VCPU conf %s\n" %
          snprintb(c["vcpu_conf_support"], ["CPUID", "TPR"]))
out.write("nvmm: Guest FPU states %s\n" % snprintb(c["xcr0_mask"], XCR0))
'
	# This driver's constants, as NetBSD's: the lines above are right.
	atf_check -s exit:0 -o inline:"nvmm: Kernel API version 2
nvmm: State size 1008
nvmm: Max machines 128
nvmm: Max VCPUs per machine 256
nvmm: Max RAM per machine 128G
" -e empty head -n 5 identify.want

	atf_check -s exit:0 -o file:identify.want -e empty ${ctl} identify

	atf_check -s exit:0 -o save:identify.json -e empty ${ctl} --json identify
	py '
c = {k: int(v) for k, v in kv("cap.txt").items()}
d = json.load(open("identify.json"))
check(isinstance(d, dict), "not an object: %r" % d)
check(set(d) == set(c), "fields %s, want %s" % (sorted(d), sorted(c)))
for k in c:
    check(type(d[k]) is int and d[k] == c[k],
          "%s is %r, want %d" % (k, d[k], c[k]))
'

	daemon_stop
}
identify_cleanup()
{
	stop_all
}

atf_test_case list cleanup
list_head()
{
	atf_set "descr" "list prints the header, then a row for each" \
	    "machine (VCPUs, RAM, owner pid, creation time, user, command);" \
	    "--json the same machines"
	needs_daemon
}
list_body()
{
	daemon_start
	header="Machine ID VCPUs RAM  Owner PID Creation Time            User     Command          UUID
---------- ----- ---- --------- ------------------------ -------- ---------------- ------------------------------------"

	# No machine: the header alone, and an empty list.
	atf_check -s exit:0 -o inline:"${header}\n" -e empty ${ctl} list
	atf_check -s exit:0 -o save:empty.json -e empty ${ctl} --json list
	py '
d = json.load(open("empty.json"))
check(d == {"machines": []}, "no machine: %r" % d)
'

	guest_start
	atf_check -s exit:0 -o save:list.json -e empty ${ctl} --json list
	py '
import re
g = guest()
check(g["nvcpus"] == 2 and g["nram"] == 2 << 20, "h_guest: %r" % g)
uuid = json.load(open("list.json"))["machines"][0]["uuid"]
check(re.match(UUID4, uuid), "not a v4 UUID: %r" % uuid)
row = "%-10u %5u %4s %9d %-24s %-8s %-16s %s" % (g["machid"], g["nvcpus"],
    humanize(g["nram"]), g["pid"], time.asctime(time.localtime(g["created"])),
    pwd.getpwuid(os.getuid()).pw_name, "h_guest", uuid)
open("list.want", "w").write(sys.argv[1] + "\n" + row + "\n")
' "${header}"
	atf_check -s exit:0 -o file:list.want -e empty ${ctl} list
	# The RAM column as NetBSD shows 2 MiB.
	atf_check -s exit:0 -o match:"^${id} +2 2\.0M " -e empty ${ctl} list

	atf_check -s exit:0 -o save:list.json -e empty ${ctl} --json list
	py '
g = guest()
d = json.load(open("list.json"))
check(set(d) == {"machines"}, "fields %s" % sorted(d))
ms = d["machines"]
check(isinstance(ms, list) and len(ms) == 1, "machines: %r" % ms)
m = ms[0]
check(set(m) == MACHINE_KEYS, "fields %s, want %s" % (sorted(m),
      sorted(MACHINE_KEYS)))
want = machine_want(g)
for k, v in want.items():
    check(m[k] == v and type(m[k]) is type(v), "%s is %r, want %r" %
          (k, m[k], v))
check(type(m["created_nsec"]) is int and 0 <= m["created_nsec"] < 10 ** 9,
      "created_nsec %r" % m["created_nsec"])
'

	daemon_stop
}
list_cleanup()
{
	stop_all
}

atf_test_case info cleanup
info_head()
{
	atf_set "descr" "info ID prints the machine, its owner and each" \
	    "VCPU's runs, guest time and exits; --json the same; a missing" \
	    "ID is exit 1 with an error"
	needs_daemon
}
info_body()
{
	daemon_start
	guest_start
	guest_spinning

	atf_check -s exit:0 -o save:info.json -e empty ${ctl} --json info ${id}
	py '
g = guest()
d = json.load(open("info.json"))
check(set(d) == MACHINE_KEYS | {"vcpu_stats"}, "fields %s" % sorted(d))
json.dump(d["uuid"], open("uuid.json", "w"))
want = machine_want(g)
for k, v in want.items():
    check(d[k] == v and type(d[k]) is type(v), "%s is %r, want %r" %
          (k, d[k], v))
vs = d["vcpu_stats"]
check(isinstance(vs, list) and [v.get("id") for v in vs] == [0, 1],
      "vcpu_stats: %r" % vs)
for v in vs:
    check(set(v) == {"id", "runs", "run_ns", "exits"}, "VCPU fields %s" %
          sorted(v))
    check(list(v["exits"]) == EXITS, "exit names %s" % list(v["exits"]))
    check(all(type(n) is int and n >= 0 for n in v["exits"].values()),
          "exit counts %r" % v["exits"])
    check(v["runs"] == sum(v["exits"].values()),
          "VCPU %d: %d runs, exits %r" % (v["id"], v["runs"], v["exits"]))
    check(v["run_ns"] > 0, "VCPU %d: no guest time" % v["id"])
# VCPU 1 ran once, to its HLT; VCPU 0 is inside its first run.
check(vs[1]["runs"] == 1 and vs[1]["exits"]["halted"] == 1,
      "VCPU 1: %r" % vs[1])
check(vs[0]["runs"] == vs[0]["exits"]["none"], "VCPU 0: %r" % vs[0])
json.dump(vs[1], open("vcpu1.json", "w"))
'

	atf_check -s exit:0 -o save:info.txt -e empty ${ctl} info ${id}
	py '
g = guest()
v1 = json.load(open("vcpu1.json"))
user = pwd.getpwuid(os.getuid()).pw_name
lines = open("info.txt").read().split("\n")
want = [
    "Machine ID:    %d" % g["machid"],
    "UUID:          %s" % json.load(open("uuid.json")),
    "Owner:         pid %d, uid %d (%s), command h_guest" % (g["pid"],
        os.getuid(), user),
    "Created:       %s" % time.asctime(time.localtime(g["created"])),
    "VCPUs:         2",
    "RAM:           %s (%d bytes)" % (humanize(g["nram"]), g["nram"]),
    "",
    "VCPU Runs       Guest time    Exits",
]
check(lines[:8] == want, "head %r, want %r" % (lines[:8], want))
check(len(lines) == 11 and lines[10] == "", "%d lines: %r" % (len(lines),
      lines))
# VCPU 1 does not run any more: its row is known to the digit.
row1 = "%-4u %-10u %-13.6f halted 1" % (1, 1, v1["run_ns"] / 1e9)
check(lines[9] == row1, "VCPU 1: %r, want %r" % (lines[9], row1))
# VCPU 0 is running: its guest time grows.
f = lines[8].split()
check(lines[8].startswith("0    ") and len(f) >= 4, "VCPU 0: %r" % lines[8])
check(float(f[2]) > 0 and f[2] == "%.6f" % float(f[2]), "VCPU 0 time %r" %
      f[2])
check(f[3:] == ["-"] if f[1] == "0" else f[3:] == ["none", f[1]],
      "VCPU 0: %s runs, exits %r" % (f[1], f[3:]))
'

	# A machine that is not there.
	missing=$(( (id + 5) % 128 ))
	atf_check -s exit:1 -o empty -e inline:"nvmmctl: no machine ${missing}\n" \
	    ${ctl} info ${missing}
	atf_check -s exit:1 -o empty -e match:"machine ${missing}" \
	    ${ctl} --json info ${missing}

	daemon_stop
}
info_cleanup()
{
	stop_all
}

atf_test_case kill cleanup
kill_head()
{
	atf_set "descr" "kill ID prints that the machine was killed; the" \
	    "guest's nvmm_vcpu_run then fails with ENOENT and the machine is" \
	    "gone; killing it again, or a missing ID, is exit 1 with an error"
	needs_daemon
}
kill_body()
{
	daemon_start
	guest_start
	gpid=$(cat guest.pid)

	atf_check -s exit:0 -o inline:"Machine ${id} killed\n" -e empty \
	    ${ctl} kill ${id}

	i=0
	while kill -0 "${gpid}" 2>/dev/null; do
		i=$((i + 1))
		[ ${i} -lt 500 ] || atf_fail "h_guest still runs after the kill"
		sleep 0.01
	done
	wait "${gpid}"
	status=$?
	rm -f guest.pid
	atf_check -s exit:0 -o inline:"run failed: ENOENT\n" -e empty \
	    sed -n '/^run failed/p' guest.out
	[ ${status} -eq 0 ] || atf_fail "h_guest exited ${status}"

	header="Machine ID VCPUs RAM  Owner PID Creation Time            User     Command          UUID
---------- ----- ---- --------- ------------------------ -------- ---------------- ------------------------------------"
	atf_check -s exit:0 -o inline:"${header}\n" -e empty ${ctl} list
	atf_check -s exit:1 -o empty -e match:"machine ${id}" ${ctl} info ${id}
	atf_check -s exit:1 -o empty -e inline:"nvmmctl: no machine ${id}\n" \
	    ${ctl} kill ${id}

	daemon_stop
}
kill_cleanup()
{
	stop_all
}

atf_test_case kill_missing cleanup
kill_missing_head()
{
	atf_set "descr" "kill of an ID that is no machine is exit 1 with an" \
	    "error on stderr and changes nothing; with several IDs, the" \
	    "others are killed"
	needs_daemon
}
kill_missing_body()
{
	daemon_start
	atf_check -s exit:1 -o empty -e inline:"nvmmctl: no machine 77\n" \
	    ${ctl} kill 77

	guest_start
	atf_check -s exit:1 -o empty -e inline:"nvmmctl: no machine 77\n" \
	    ${ctl} kill 77
	atf_check -s exit:0 -o save:still.json -e empty ${ctl} --json list
	py '
d = json.load(open("still.json"))
check([m["id"] for m in d["machines"]] == [guest()["machid"]],
      "after a kill of 77: %r" % d)
'

	atf_check -s exit:1 -o inline:"Machine ${id} killed\n" \
	    -e inline:"nvmmctl: no machine 77\n" ${ctl} kill 77 ${id}
	atf_check -s exit:0 -o save:gone.json -e empty ${ctl} --json list
	py '
d = json.load(open("gone.json"))
check(d == {"machines": []}, "after the kill: %r" % d)
'

	daemon_stop
}
kill_missing_cleanup()
{
	stop_all
}

atf_test_case kill_spares_others cleanup
kill_spares_others_head()
{
	atf_set "descr" "kill ID destroys that machine and no other: not the" \
	    "machines of the root owner (nvmm_root_init), whose other" \
	    "machines live on when one of them is killed"
	needs_daemon
}
kill_spares_others_body()
{
	daemon_start
	# The root owner's machines first: they are not running.
	guest_spawn root root
	r1=$(sed -n 's/^machid //p' root.out)
	r2=$(sed -n 's/^machid2 //p' root.out)
	guest_start

	# A user's machine: the root owner's two stay.
	atf_check -s exit:0 -o inline:"Machine ${id} killed\n" -e empty \
	    ${ctl} kill ${id}
	atf_check -s exit:0 -o save:after1.json -e empty ${ctl} --json list
	py '
d = json.load(open("after1.json"))
ids = sorted(m["id"] for m in d["machines"])
want = sorted([int(sys.argv[1]), int(sys.argv[2])])
check(ids == want, "after nvmmctl kill %s (a user machine): machines %s, "
      "want the root owner machines %s" % (sys.argv[3], ids, want))
' "${r1}" "${r2}" "${id}"

	# One of the root owner's: its other one stays.
	atf_check -s exit:0 -o inline:"Machine ${r1} killed\n" -e empty \
	    ${ctl} kill ${r1}
	atf_check -s exit:0 -o save:after2.json -e empty ${ctl} --json list
	py '
d = json.load(open("after2.json"))
ids = [m["id"] for m in d["machines"]]
check(ids == [int(sys.argv[2])], "after nvmmctl kill %s: machines %s, "
      "want the owner other machine %s" % (sys.argv[1], ids, sys.argv[2]))
' "${r1}" "${r2}"

	daemon_stop
}
kill_spares_others_cleanup()
{
	stop_all
}

atf_test_case shutdown cleanup
shutdown_head()
{
	atf_set "descr" "shutdown asks as an admin, sends the request alone" \
	    "and is silent on success (exit 0); a refusal is exit 4, and a" \
	    "daemon that closes the connection unanswered does not know it" \
	    "(exit 3)"
	atf_set "require.progs" "python3"
}
shutdown_body()
{
	# A daemon that grants the admin role, then answers the request
	# with error 0, with EPERM, or not at all.
	proto=$(proto_version)
	fake_start '
for answer in (b"\x10\x00", b"\x10\x01", None):
    c, _ = s.accept()
    hello = c.recv(256)
    # HelloReply: version, role admin.
    c.send(bytes([0x10, int(sys.argv[1]), 0x18, 2]))
    req = c.recv(256)
    open("seen.txt", "a").write(hello.hex() + " " + req.hex() + "\n")
    if answer is not None:
        c.send(b"\x08" + req[1:2] + answer)    # Reply: the id, the error
    c.close()
' "${proto}"
	ctl="${nvmmctl} -s ${PWD}/fake.sock"

	atf_check -s exit:0 -o empty -e empty ${ctl} shutdown
	atf_check -s exit:4 -o empty -e inline:"nvmmctl: permission denied:\
 shutdown needs the admin role\n" ${ctl} shutdown
	atf_check -s exit:3 -o empty -e inline:"nvmmctl: this nvmmd does not\
 know shutdown (${PWD}/fake.sock closed the connection)\n" ${ctl} shutdown

	# Each time: a hello of this protocol for the admin role (2), then
	# request 1 with Shutdown (field 24) and nothing else.
	h=$(printf '08%02x1002' "${proto}")
	printf '%s 0801c20100\n%s 0801c20100\n%s 0801c20100\n' "${h}" "${h}" \
	    "${h}" >seen.want
	atf_check -s exit:0 -o file:seen.want -e empty cat seen.txt
}
shutdown_cleanup()
{
	stop_all
}

atf_test_case shutdown_daemon cleanup
shutdown_daemon_head()
{
	atf_set "descr" "shutdown against nvmmd: silent and exit 0, then the" \
	    "daemon exits 0 with its socket removed, and the guest's run" \
	    "fails; a user may not (exit 4) and the daemon runs on"
	atf_set "require.user" "root"
	atf_set "require.files" "/dev/kvm"
	atf_set "require.progs" "python3 setpriv"
}
shutdown_daemon_body()
{
	daemon_start
	guest_start
	gpid=$(cat guest.pid)
	getent passwd 4242 >/dev/null && atf_skip "uid 4242 has a passwd entry"
	atf_check -s exit:4 -o empty -e inline:"nvmmctl: permission denied:\
 user uid 4242 is not in group nvmm-admin (shutdown needs the admin role)\n" \
	    setpriv --reuid=4242 --regid=4242 --clear-groups ${ctl} shutdown
	atf_check -s exit:0 -o match:"^${id} " -e empty ${ctl} list

	atf_check -s exit:0 -o empty -e empty ${ctl} shutdown
	pid=$(cat nvmmd.pid)
	wait_gone "${pid}" nvmmd
	wait "${pid}"
	status=$?
	rm -f nvmmd.pid
	[ ${status} -eq 0 ] || atf_fail "nvmmd exited ${status} after shutdown"
	[ ! -e s.sock ] || atf_fail "the socket outlived the daemon"
	wait_gone "${gpid}" h_guest
	wait "${gpid}"
	rm -f guest.pid
	atf_check -s exit:0 -o match:"^run failed: " -e empty cat guest.out
}
shutdown_daemon_cleanup()
{
	stop_all
}

atf_test_case usage
usage_head()
{
	atf_set "descr" "Usage errors exit 2 with one line that says what is" \
	    "wrong, before any connection; no command prints the usage"
	atf_set "require.progs" "python3"
}
usage_body()
{
	# No daemon: a usage error must not need one.
	ctl="${nvmmctl} -s ${PWD}/none.sock"

	atf_check -s exit:0 -o save:usage.txt -e empty ${ctl} -h
	py '
u = open("usage.txt").read().split("\n")
check(u[-1] == "" and len(u) == 10, "usage: %r" % u)
check(u[0].startswith("usage: nvmmctl ") and
      all(l.startswith("       nvmmctl ") for l in u[1:9]), "usage: %r" % u)
for c in ("identify", "list", "info", "stats", "metrics", "kill", "shutdown",
          "help"):
    check(any((" " + c) in l for l in u[:8]), "%s missing: %r" % (c, u))
check(u[8] == "       nvmmctl --version", "last line %r" % u[8])
'
	atf_check -s exit:0 -o file:usage.txt -e empty ${ctl} --help
	atf_check -s exit:0 -o file:usage.txt -e empty ${ctl} help
	atf_check -s exit:2 -o empty -e file:usage.txt ${ctl}
	atf_check -s exit:2 -o empty -e file:usage.txt ${ctl} --json

	hint="(nvmmctl help shows the usage)"
	atf_check -s exit:2 -o empty \
	    -e inline:"nvmmctl: unknown option -x ${hint}\n" ${ctl} -x list
	atf_check -s exit:2 -o empty \
	    -e inline:"nvmmctl: unknown option -x ${hint}\n" ${ctl} list -x
	atf_check -s exit:2 -o empty \
	    -e inline:"nvmmctl: unknown option --frob ${hint}\n" \
	    ${ctl} info --frob 1
	atf_check -s exit:2 -o empty -e inline:"nvmmctl: unknown command:\
 frob (nvmmctl help lists them)\n" ${ctl} frob
	atf_check -s exit:2 -o empty -e inline:"nvmmctl: unknown command:\
 frob (nvmmctl help lists them)\n" ${ctl} --json frob

	while IFS=: read -r args want; do
		atf_check -s exit:2 -o empty -e inline:"nvmmctl: ${want}\n" \
		    ${ctl} ${args}
	done <<'EOF'
identify x:identify takes no arguments
list x:list takes no arguments
info:info needs a machine id
info 1 2:info takes one machine id
kill:kill needs a machine id
--json kill 0:kill has no JSON output
kill 0 --json:kill has no JSON output
shutdown x:shutdown takes no arguments
--json shutdown:shutdown has no JSON output
--json help:help has no JSON output
--json metrics:metrics has no JSON output
list -i 1:list takes no -i or -c
stats -c 2:-c needs -i
stats -i 0:-i 0: not a number from 0.01 to 3600
stats -i x:-i x: not a number from 0.01 to 3600
stats -i 1 -c 1.5:-c 1.5: not a whole number
stats -i:-i needs a value
stats x:stats takes no arguments
help frob:unknown command: frob
help list info:help takes one command
EOF
	atf_check -s exit:2 -o empty -e inline:"nvmmctl: -s needs a socket path\n" \
	    "${nvmmctl}" -s
	atf_check -s exit:2 -o empty -e inline:"nvmmctl: -s needs a socket path\n" \
	    "${nvmmctl}" list -s
}

atf_test_case help
help_head()
{
	atf_set "descr" "help COMMAND, COMMAND -h and COMMAND --help print" \
	    "that command's line of the usage and what it does; --version" \
	    "prints the package's version, at any place"
}
help_body()
{
	ctl="${nvmmctl} -s ${PWD}/none.sock"
	atf_check -s exit:0 -o save:usage.txt -e empty ${ctl} help
	printf 'usage: nvmmctl [-s socket] [--json] list\n       list the machines\n' \
	    >list.want
	atf_check -s exit:0 -o file:list.want -e empty ${ctl} help list
	atf_check -s exit:0 -o file:list.want -e empty ${ctl} list -h
	atf_check -s exit:0 -o file:list.want -e empty ${ctl} list --help
	atf_check -s exit:0 -o file:list.want -e empty ${ctl} --json list -h
	# Each command's line is its line of the whole usage.
	for c in identify list info stats metrics kill shutdown help; do
		atf_check -s exit:0 -o save:${c}.help -e empty ${ctl} help ${c}
		atf_check -s exit:0 -o save:${c}.line -e empty \
		    sed -n "s/^\(usage:\)\{0,1\} *\(nvmmctl .* ${c}\b.*\)/\2/p" \
		    usage.txt
		atf_check -s exit:0 -o file:${c}.line -e empty \
		    sed -n '1s/^usage: //p' ${c}.help
		[ $(wc -l <${c}.help) -eq 2 ] || atf_fail "help ${c}: $(cat ${c}.help)"
		atf_check -s exit:0 -o file:${c}.help -e empty ${ctl} ${c} -h
	done
	# help before the check of the operands: kill -h needs no id.
	atf_check -s exit:0 -o file:kill.help -e empty ${ctl} kill abc -h

	version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' \
	    "@abs_top_builddir@/config.h")
	proto=$(proto_version)
	[ -n "${version}" ] && [ -n "${proto}" ] || atf_fail "no version"
	for args in "--version" "list --version" "kill 1 --version"; do
		atf_check -s exit:0 \
		    -o inline:"nvmmctl ${version} (protocol ${proto})\n" \
		    -e empty ${ctl} ${args}
	done
}

atf_test_case synopsis
synopsis_head()
{
	atf_set "descr" "nvmmctl(8)'s SYNOPSIS is the usage nvmmctl prints" \
	    "from its command table, line for line"
	atf_set "require.progs" "mandoc"
}
synopsis_body()
{
	"${nvmmctl}" help | sed 's/^usage://; s/^ *//' >usage.txt
	MANWIDTH=200 mandoc -Tascii -O width=200 \
	    "@abs_top_srcdir@/man/nvmmctl.8" | col -b |
	    sed -n '/^SYNOPSIS/,/^[A-Z]/{/^ /s/^ *//p}' >synopsis.txt
	[ -s synopsis.txt ] || atf_fail "no SYNOPSIS in nvmmctl(8)"
	atf_check -s exit:0 -o empty -e empty diff -u usage.txt synopsis.txt
}

atf_test_case bad_ids
bad_ids_head()
{
	atf_set "descr" "A machine id that is not one is exit 2 with" \
	    "\"not a machine id: X\", for info and kill, before any connection"
}
bad_ids_body()
{
	ctl="${nvmmctl} -s ${PWD}/none.sock"
	for x in abc -1 128 1x 0x1 +1 " 1" "" 99999999999999999999; do
		for c in info kill; do
			atf_check -s exit:2 -o empty \
			    -e inline:"nvmmctl: not a machine id: ${x}\n" \
			    ${ctl} ${c} "${x}"
		done
	done
	# One bad id among good ones: nothing is killed, nothing is asked.
	atf_check -s exit:2 -o empty -e inline:"nvmmctl: not a machine id: 128\n" \
	    ${ctl} kill 1 2 128
}

atf_test_case sockets
sockets_head()
{
	atf_set "descr" "A missing socket, a path that is no socket and a" \
	    "socket no daemon listens on each get their own one-line error" \
	    "(exit 3); libnvmm's errno stays ENOENT, and NVMM_DEBUG prints the" \
	    "same reason"
	atf_set "require.progs" "python3"
}
sockets_body()
{
	touch file
	mkdir dir
	python3 -c 'import socket
socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET).bind("stale.sock")'
	while IFS=: read -r path want; do
		p="${PWD}/${path}"
		eval "want=\"${want}\""
		atf_check -s exit:3 -o empty -e inline:"nvmmctl: ${want}\n" \
		    "${nvmmctl}" -s "${p}" list
		NVMM_SOCKET="${p}" atf_check -s exit:3 -o empty \
		    -e inline:"nvmmctl: ${want}\n" "${nvmmctl}" info 1
		# libnvmm: NetBSD's errno, and the reason only when asked.
		NVMM_SOCKET="${p}" atf_check -s exit:2 -o empty \
		    -e inline:"h_guest: nvmm_init: No such file or directory\n" \
		    "${h_guest}" cap
		NVMM_SOCKET="${p}" NVMM_DEBUG=1 atf_check -s exit:2 -o empty \
		    -e inline:"libnvmmclient: ${want}
h_guest: nvmm_init: No such file or directory\n" "${h_guest}" cap
	done <<'EOF'
none.sock:no such socket ${p}
file:${p} is not a socket
dir:${p} is not a socket
stale.sock:nvmmd is not running at ${p} (connection refused)
EOF
}

atf_test_case protocol
protocol_head()
{
	atf_set "descr" "A daemon of another protocol version is named with" \
	    "both versions (exit 3); libnvmm's errno is EPROGMISMATCH; the" \
	    "real daemon tells a client of another version its own"
	needs_daemon
}
protocol_body()
{
	# A daemon of protocol 99: it answers each hello with EPROGMISMATCH.
	fake_start '
for _ in range(2):
    c, _ = s.accept()
    hello = c.recv(256)
    open("hello.bin", "ab").write(hello)
    # HelloReply: error = EPROGMISMATCH (134), version = 99.
    c.send(bytes([0x08, 0x86, 0x01, 0x10, 99]))
    c.close()
'
	proto=$(proto_version)
	atf_check -s exit:3 -o empty \
	    -e inline:"nvmmctl: nvmmd speaks protocol 99, this nvmmctl ${proto}\n" \
	    "${nvmmctl}" -s "${PWD}/fake.sock" list
	NVMM_SOCKET="${PWD}/fake.sock" NVMM_DEBUG=1 atf_check -s exit:2 -o empty \
	    -e inline:"libnvmmclient: nvmmd speaks protocol 99, this\
 libnvmmclient ${proto}
h_guest: nvmm_init: $(python3 -c 'import os; print(os.strerror(134))')\n" \
	    "${h_guest}" cap

	# The real one: a hello of version 99 gets EPROGMISMATCH and its own.
	daemon_start
	py '
import socket, struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect("s.sock")
s.send(bytes([0x08, 99, 0x10, 3]))     # Hello: version 99, monitor
r = s.recv(256)
check(r[:3] == bytes([0x08, 0x86, 0x01]), "error field: %r" % r)
check(r[3:5] == bytes([0x10, int(sys.argv[1])]), "version field: %r" % r)
' "${proto}"
	daemon_stop
}
protocol_cleanup()
{
	stop_all
}

atf_test_case denied
denied_head()
{
	atf_set "descr" "A user refused a role is told which of the daemon's" \
	    "groups she lacks and what needed the role (exit 4), whether she" \
	    "is in no group or in another; libnvmm's errno stays EACCES"
	atf_set "require.user" "root"
	atf_set "require.files" "/dev/kvm"
	atf_set "require.progs" "python3 setpriv"
}
denied_body()
{
	# Groups of this host, not the defaults: the names come from nvmmd.
	printf 'user-group users\nadmin-group adm\nmonitor-group operator\n' \
	    >nvmmd.conf
	daemon_start "${PWD}/nvmmd.conf"
	getent passwd 4242 >/dev/null && atf_skip "uid 4242 has a passwd entry"
	nobody="setpriv --reuid=4242 --regid=4242 --clear-groups"
	user="setpriv --reuid=4242 --regid=100 --clear-groups"
	deny="nvmmctl: permission denied: user uid 4242 is not in group"

	atf_check -s exit:4 -o empty \
	    -e inline:"${deny} adm (kill needs the admin role)\n" \
	    ${nobody} ${ctl} kill 0
	atf_check -s exit:4 -o empty \
	    -e inline:"${deny} operator or users (list needs the monitor role)\n" \
	    ${nobody} ${ctl} list
	# In the user group: looks, may not kill.
	atf_check -s exit:0 -o ignore -e empty ${user} ${ctl} list
	atf_check -s exit:4 -o empty \
	    -e inline:"${deny} adm (kill needs the admin role)\n" \
	    ${user} ${ctl} kill 0

	atf_check -s exit:2 -o empty \
	    -e inline:"h_guest: nvmm_init: Permission denied\n" \
	    ${nobody} "${h_guest}" cap
	NVMM_DEBUG=1 atf_check -s exit:2 -o empty \
	    -e inline:"libnvmmclient: permission denied: user uid 4242 is not in\
 group users (nvmm_init needs the user role)
h_guest: nvmm_init: Permission denied\n" ${nobody} "${h_guest}" cap
	daemon_stop
}
denied_cleanup()
{
	stop_all
}

atf_test_case options_anywhere
options_anywhere_head()
{
	atf_set "descr" "--json and -s are taken before and after the command" \
	    "and among its operands, with the same answer"
	needs_daemon
}
options_anywhere_body()
{
	daemon_start
	guest_start
	s="${PWD}/s.sock"
	atf_check -s exit:0 -o save:before.json -e empty ${ctl} --json list
	atf_check -s exit:0 -o file:before.json -e empty \
	    "${nvmmctl}" list --json -s "${s}"
	atf_check -s exit:0 -o file:before.json -e empty \
	    "${nvmmctl}" list -s"${s}" --json
	atf_check -s exit:0 -o file:before.json -e empty \
	    "${nvmmctl}" -s "${s}" list --json
	for args in "--json info ${id}" "info --json ${id}" "info ${id} --json"; do
		atf_check -s exit:0 -o save:info.json -e empty ${ctl} ${args}
		py '
d = json.load(open("info.json"))
check(d["id"] == guest()["machid"] and len(d["vcpu_stats"]) == 2,
      "info: %r" % d)
'
	done
	atf_check -s exit:0 -o inline:"Machine ${id} killed\n" -e empty \
	    "${nvmmctl}" kill ${id} -s "${s}"
	daemon_stop
}
options_anywhere_cleanup()
{
	stop_all
}

atf_test_case json_names
json_names_head()
{
	atf_set "descr" "Command names in JSON: UTF-8 as it is, control" \
	    "characters escaped as JSON says, bytes that are not UTF-8 shown" \
	    "as C escapes; the text output escapes them all"
	needs_daemon
}
json_names_body()
{
	daemon_start
	while IFS=: read -r name want text; do
		guest_start "$(printf "${name}")"
		atf_check -s exit:0 -o save:names.json -e empty ${ctl} --json list
		py '
raw = open("names.json", "rb").read()
want = sys.argv[1].encode()
check(b"\"command\": \"" + want + b"\"" in raw, "raw %r, want %r" %
      (raw, want))
d = json.loads(raw)
check(d["machines"][0]["command"] == json.loads("\"%s\"" % sys.argv[1]),
      "parsed %r" % d)
' "${want}"
		atf_check -s exit:0 -o match:" ${text} +[0-9a-f-]{36}\$" \
		    -e empty ${ctl} list
		atf_check -s exit:0 -o ignore -e empty ${ctl} kill ${id}
		wait "$(cat guest.pid)"
		rm -f guest.pid
	done <<'EOF'
\303\251mul\303\251:émulé:\\303\\251mul\\303\\251
a\tb\033c\001:a\tb\u001Bc\u0001:a\\tb\\033c\\001
x\377y:x\\377y:x\\377y
EOF
	daemon_stop
}
json_names_cleanup()
{
	stop_all
}

atf_init_test_cases()
{
	atf_add_test_case identify
	atf_add_test_case list
	atf_add_test_case info
	atf_add_test_case kill
	atf_add_test_case kill_missing
	atf_add_test_case kill_spares_others
	atf_add_test_case shutdown
	atf_add_test_case shutdown_daemon
	atf_add_test_case usage
	atf_add_test_case help
	atf_add_test_case options_anywhere
	atf_add_test_case synopsis
	atf_add_test_case bad_ids
	atf_add_test_case sockets
	atf_add_test_case protocol
	atf_add_test_case denied
	atf_add_test_case json_names
}
