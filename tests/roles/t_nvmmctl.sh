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

# NetBSD's formats, for the checks below.
cat_formats()
{
	cat <<'EOF'
import json, os, pwd, sys, time

def humanize(n):
    """NetBSD humanize_number(buf, 5, n, "", HN_AUTOSCALE,
    HN_DECIMAL | HN_NOSPACE | HN_B), as nvmmctl(8) uses it."""
    prefixes = ["B", "K", "M", "G", "T", "P", "E"]
    maxv = 100 * 10 ** (5 - 2)      # len 5, baselen 2: 1 digit + prefix
    b, i = n * 100, 0
    while b >= maxv - 50 and i < 6:
        b //= 1024
        i += 1
    if b < 995 and i > 0:
        d = (b + 5) // 10
        return "%d.%d%s" % (d // 10, d % 10, prefixes[i])
    return "%d%s" % ((b + 50) // 100, prefixes[i])

def snprintb(v, names):
    """NetBSD snprintb with an old-style "\\20" format: the value in
    hex, then the names of its set bits between < and >."""
    if v == 0:
        return "0"
    s = "%#x" % v
    set_names = [n for i, n in enumerate(names) if v >> i & 1]
    return s + ("<" + ",".join(set_names) + ">" if set_names else "")

XCR0 = ["x87", "SSE", "AVX", "BNDREGS", "BNDCSR", "Opmask", "ZMM_Hi256",
        "Hi16_ZMM", "PT", "PKRU"]
EXITS = ["none", "memory", "io", "shutdown", "int_ready", "nmi_ready",
         "halted", "tpr_changed", "rdmsr", "wrmsr", "monitor", "mwait",
         "cpuid", "stopped", "invalid"]
MACHINE_KEYS = {"id", "vcpus", "ram", "owner_pid", "owner_uid",
                "owner_user", "command", "created"}

def kv(path):
    """h_guest's "name value" lines."""
    d = {}
    for line in open(path):
        k, _, v = line.rstrip("\n").partition(" ")
        d[k] = v
    return d

def guest():
    g = kv("guest.out")
    return {"machid": int(g["machid"]), "pid": int(g["pid"]),
            "created": int(g["created"]), "nvcpus": int(g["nvcpus"]),
            "nram": int(g["nram"])}

def check(cond, what):
    if not cond:
        sys.exit("FAILED: " + what)
EOF
}

# Runs the Python script $1, after the formats above, with the other
# arguments; its check()s fail the test case with what went wrong.
py()
{
	{ cat_formats; printf '%s\n' "$1"; } >check.py
	shift
	atf_check -s exit:0 -o ignore -e empty python3 check.py "$@"
}

# Starts a private daemon on ./s.sock and waits until it accepts.
daemon_start()
{
	"${nvmmd}" -f -c /dev/null -s "${PWD}/s.sock" 2>nvmmd.log &
	echo $! >nvmmd.pid
	i=0
	while ! python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])' "${PWD}/s.sock" 2>/dev/null; do
		kill -0 "$(cat nvmmd.pid)" 2>/dev/null ||
		    atf_fail "nvmmd exited: $(cat nvmmd.log)"
		i=$((i + 1))
		[ ${i} -lt 1000 ] || atf_fail "nvmmd does not listen"
		sleep 0.01
	done
	export NVMM_SOCKET="${PWD}/s.sock"
	ctl="${nvmmctl} -s ${PWD}/s.sock"
}

# Starts h_guest and waits until its guest runs; sets id to its machine.
guest_start()
{
	"${h_guest}" run >guest.out 2>guest.err &
	echo $! >guest.pid
	i=0
	while ! grep -q '^ready$' guest.out; do
		kill -0 "$(cat guest.pid)" 2>/dev/null ||
		    atf_fail "h_guest exited: $(cat guest.err)"
		i=$((i + 1))
		[ ${i} -lt 1000 ] || atf_fail "h_guest is not ready"
		sleep 0.01
	done
	id=$(sed -n 's/^machid //p' guest.out)
	[ -n "${id}" ] || atf_fail "h_guest gave no machine id"
}

# Waits until VCPU 0 of the guest has guest time: it is inside its run.
guest_spinning()
{
	i=0
	while :; do
		${ctl} --json info ${id} >spin.json 2>/dev/null
		python3 -c 'import json, sys
d = json.load(open("spin.json"))
sys.exit(0 if d["vcpu_stats"][0]["run_ns"] > 0 else 1)' 2>/dev/null && break
		i=$((i + 1))
		[ ${i} -lt 500 ] || atf_fail "VCPU 0 of the guest does not run"
		sleep 0.01
	done
}

# Kills what a case started, whatever state it stopped in.
stop_all()
{
	for f in guest.pid root.pid nvmmd.pid; do
		[ -f ${f} ] && kill -9 "$(cat ${f})" 2>/dev/null
		rm -f ${f}
	done
	return 0
}

# Stops the daemon the normal way: it must exit 0.
daemon_stop()
{
	pid=$(cat nvmmd.pid)
	kill -TERM "${pid}"
	wait "${pid}"
	status=$?
	rm -f nvmmd.pid
	[ ${status} -eq 0 ] || atf_fail "nvmmd exited ${status}"
}

needs_daemon()
{
	atf_set "require.user" "root"
	atf_set "require.files" "/dev/kvm"
	atf_set "require.progs" "python3"
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
	header="Machine ID VCPUs RAM  Owner PID Creation Time            User     Command
---------- ----- ---- --------- ------------------------ -------- ----------------"

	# No machine: the header alone, and an empty list.
	atf_check -s exit:0 -o inline:"${header}\n" -e empty ${ctl} list
	atf_check -s exit:0 -o save:empty.json -e empty ${ctl} --json list
	py '
d = json.load(open("empty.json"))
check(d == {"machines": []}, "no machine: %r" % d)
'

	guest_start
	py '
g = guest()
check(g["nvcpus"] == 2 and g["nram"] == 2 << 20, "h_guest: %r" % g)
row = "%-10u %5u %4s %9d %-24s %-8s %s" % (g["machid"], g["nvcpus"],
    humanize(g["nram"]), g["pid"], time.asctime(time.localtime(g["created"])),
    pwd.getpwuid(os.getuid()).pw_name, "h_guest")
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
want = {"id": g["machid"], "vcpus": 2, "ram": 2 << 20, "owner_pid": g["pid"],
        "owner_uid": os.getuid(),
        "owner_user": pwd.getpwuid(os.getuid()).pw_name,
        "command": "h_guest", "created": g["created"]}
for k, v in want.items():
    check(m[k] == v and type(m[k]) is type(v), "%s is %r, want %r" %
          (k, m[k], v))
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
want = {"id": g["machid"], "vcpus": 2, "ram": 2 << 20, "owner_pid": g["pid"],
        "owner_uid": os.getuid(),
        "owner_user": pwd.getpwuid(os.getuid()).pw_name,
        "command": "h_guest", "created": g["created"]}
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
    "Owner:         pid %d, uid %d (%s), command h_guest" % (g["pid"],
        os.getuid(), user),
    "Created:       %s" % time.asctime(time.localtime(g["created"])),
    "VCPUs:         2",
    "RAM:           %s (%d bytes)" % (humanize(g["nram"]), g["nram"]),
    "",
    "VCPU Runs       Guest time    Exits",
]
check(lines[:7] == want, "head %r, want %r" % (lines[:7], want))
check(len(lines) == 10 and lines[9] == "", "%d lines: %r" % (len(lines),
      lines))
# VCPU 1 does not run any more: its row is known to the digit.
row1 = "%-4u %-10u %-13.6f halted 1" % (1, 1, v1["run_ns"] / 1e9)
check(lines[8] == row1, "VCPU 1: %r, want %r" % (lines[8], row1))
# VCPU 0 is running: its guest time grows.
f = lines[7].split()
check(lines[7].startswith("0    ") and len(f) >= 4, "VCPU 0: %r" % lines[7])
check(float(f[2]) > 0 and f[2] == "%.6f" % float(f[2]), "VCPU 0 time %r" %
      f[2])
check(f[3:] == ["-"] if f[1] == "0" else f[3:] == ["none", f[1]],
      "VCPU 0: %s runs, exits %r" % (f[1], f[3:]))
'

	# A machine that is not there.
	missing=$(( (id + 5) % 128 ))
	atf_check -s exit:1 -o empty \
	    -e match:"^nvmmctl: machine ${missing}: No such file or directory" \
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

	header="Machine ID VCPUs RAM  Owner PID Creation Time            User     Command
---------- ----- ---- --------- ------------------------ -------- ----------------"
	atf_check -s exit:0 -o inline:"${header}\n" -e empty ${ctl} list
	atf_check -s exit:1 -o empty -e match:"machine ${id}" ${ctl} info ${id}
	atf_check -s exit:1 -o empty \
	    -e match:"^nvmmctl: kill ${id}: No such file or directory" \
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
	atf_check -s exit:1 -o empty \
	    -e match:"^nvmmctl: kill 77: No such file or directory" \
	    ${ctl} kill 77

	guest_start
	atf_check -s exit:1 -o empty -e match:"^nvmmctl: kill 77: " \
	    ${ctl} kill 77
	atf_check -s exit:0 -o save:still.json -e empty ${ctl} --json list
	py '
d = json.load(open("still.json"))
check([m["id"] for m in d["machines"]] == [guest()["machid"]],
      "after a kill of 77: %r" % d)
'

	atf_check -s exit:1 -o inline:"Machine ${id} killed\n" \
	    -e match:"^nvmmctl: kill 77: " ${ctl} kill 77 ${id}
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
	"${h_guest}" root >root.out 2>root.err &
	echo $! >root.pid
	i=0
	while ! grep -q '^ready$' root.out; do
		kill -0 "$(cat root.pid)" 2>/dev/null ||
		    atf_fail "h_guest root exited: $(cat root.err)"
		i=$((i + 1))
		[ ${i} -lt 1000 ] || atf_fail "h_guest root is not ready"
		sleep 0.01
	done
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

atf_test_case usage
usage_head()
{
	atf_set "descr" "Usage errors exit 2 with the usage on stderr, before" \
	    "any connection; -h and --help exit 0 with it on stdout"
	atf_set "require.progs" "python3"
}
usage_body()
{
	# No daemon: a usage error must not need one.
	ctl="${nvmmctl} -s ${PWD}/none.sock"

	atf_check -s exit:0 -o save:usage.txt -e empty ${ctl} -h
	py '
u = open("usage.txt").read().split("\n")
check(u[-1] == "" and len(u) == 5, "usage: %r" % u)
check(u[0].startswith("usage: nvmmctl ") and
      all(l.startswith("       nvmmctl ") for l in u[1:4]), "usage: %r" % u)
for c in ("identify", "list", "info", "kill"):
    check(any((" " + c) in l for l in u[:4]), "%s missing: %r" % (c, u))
'
	atf_check -s exit:0 -o file:usage.txt -e empty ${ctl} --help

	atf_check -s exit:2 -o empty -e file:usage.txt ${ctl}
	atf_check -s exit:2 -o empty -e file:usage.txt ${ctl} --json
	atf_check -s exit:2 -o empty -e save:badopt.txt ${ctl} -x list
	atf_check -s exit:0 -o file:usage.txt -e empty tail -n 4 badopt.txt
	atf_check -s exit:0 -o match:"nvmmctl: invalid option -- 'x'$" \
	    -e empty head -n 1 badopt.txt
	{
		echo "nvmmctl: unknown command \`\`frob''"
		cat usage.txt
	} >unknown.txt
	atf_check -s exit:2 -o empty -e file:unknown.txt ${ctl} frob
	atf_check -s exit:2 -o empty -e file:unknown.txt ${ctl} --json frob

	for args in "identify x" "list x" "info" "info abc" "info -1" \
	    "info 128" "info 1x" "info 0x1" "info 1 2" "kill" "kill x" \
	    "kill 1 x" "kill 128" "--json kill 0" "--json kill 77"; do
		atf_check -s exit:2 -o empty -e file:usage.txt ${ctl} ${args}
	done
	atf_check -s exit:2 -o empty -e file:usage.txt ${ctl} info ""

	# And with no daemon, a command that is well formed fails at once.
	atf_check -s exit:1 -o empty \
	    -e match:"^nvmmctl: cannot use nvmmd at ${PWD}/none.sock" \
	    ${ctl} list
}

atf_init_test_cases()
{
	atf_add_test_case identify
	atf_add_test_case list
	atf_add_test_case info
	atf_add_test_case kill
	atf_add_test_case kill_missing
	atf_add_test_case kill_spares_others
	atf_add_test_case usage
}
