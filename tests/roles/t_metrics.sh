# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
#
# t_metrics: the whole host at once: nvmmctl stats (totals and -i rates),
# nvmmctl metrics and nvmmd's /metrics (metrics-listen), against a private
# nvmmd and a guest h_guest runs; promtool checks the text, and the
# values are checked against nvmmctl list --json and the guest's exits.
#
# The build substitutes the build directory into this script.

nvmmd="@abs_top_builddir@/nvmmd/nvmmd"
nvmmctl="@abs_top_builddir@/nvmmctl/nvmmctl"
h_guest="@abs_top_builddir@/tests/roles/h_guest"

. "@abs_top_srcdir@/tests/common/h_daemon.subr"
. "@abs_top_srcdir@/tests/roles/h_nvmmctl.subr"

# The Prometheus text in $1 as Python sees it, for the checks: series
# maps (name, frozenset of labels) to the value.
cat_prom()
{
	cat <<'EOF'
import re
def prom(path):
    series, types = {}, {}
    lab = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("# TYPE "):
            _, _, n, t = line.split(" ")
            types[n] = t
            continue
        if line.startswith("#") or not line:
            continue
        m = re.match(r'^(\w+)(\{(.*)\})? (\S+)$', line)
        check(m, "not a sample: %r" % line)
        labels = frozenset(lab.findall(m.group(3) or ""))
        series[(m.group(1), labels)] = float(m.group(4))
    return series, types
def one(series, name, **want):
    got = [(dict(l), v) for (n, l), v in series.items() if n == name and
           all(dict(l).get(k) == str(x) for k, x in want.items())]
    check(len(got) == 1, "%s %r: %d series" % (name, want, len(got)))
    return got[0]
EOF
}

pyp()
{
	s=$1
	shift
	py "$(cat_prom)
${s}" "$@"
}

# A TCP port nobody listens on now, on the loopback.
free_port()
{
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

needs_prom()
{
	atf_set "require.user" "root"
	atf_set "require.files" "/dev/kvm"
	atf_set "require.progs" "python3 promtool curl setpriv"
}

# -----------------------------------------------------------------------------

atf_test_case stats cleanup
stats_head()
{
	atf_set "descr" "stats shows every VCPU with the machine's UUID, runs," \
	    "guest time and exits, in text and JSON; -i rates, -c intervals," \
	    "SIGINT ends them"
	needs_daemon
}
stats_body()
{
	daemon_start
	guest_mode=io guest_start
	atf_check -s exit:0 -o save:list.json -e empty ${ctl} --json list
	atf_check -s exit:0 -o save:stats.json -e empty ${ctl} --json stats
	py '
l = json.load(open("list.json"))["machines"][0]
d = json.load(open("stats.json"))
check(set(d) == {"machines"}, "fields %s" % sorted(d))
m = d["machines"][0]
check(set(m) == MACHINE_KEYS | {"vcpu_stats"}, "fields %s" % sorted(m))
for k in MACHINE_KEYS - {"ram"}:
    check(m[k] == l[k], "%s: %r, list says %r" % (k, m[k], l[k]))
vs = m["vcpu_stats"]
check([v["id"] for v in vs] == [0, 1], "VCPUs %r" % vs)
for v in vs:
    check(set(v) == {"id", "runs", "run_ns", "exits"}, "%s" % sorted(v))
    check(list(v["exits"]) == EXITS, "exit names %s" % list(v["exits"]))
    check(v["runs"] == sum(v["exits"].values()), "runs %r" % v)
check(vs[1]["runs"] == 1 and vs[1]["exits"]["halted"] == 1, "%r" % vs[1])
'
	atf_check -s exit:0 -o save:stats.txt -e empty ${ctl} stats
	py '
import re
l = json.load(open("list.json"))["machines"][0]
t = open("stats.txt").read().split("\n")
check(t[0] == "Machine UUID                                 VCPU Runs       "
      "Guest time    Exits", "header %r" % t[0])
check(len(t) == 4 and t[3] == "", "lines %r" % t)
for n, row in ((0, t[1]), (1, t[2])):
    f = row.split()
    check(f[:3] == [str(l["id"]), l["uuid"], str(n)], "row %r" % row)
check(t[2].endswith(" halted 1"), "VCPU 1: %r" % t[2])
check(re.search(r" io \d+$", t[1]), "VCPU 0 exits: %r" % t[1])
'
	# Rates: two intervals, each a time line, the header and 2 VCPUs.
	atf_check -s exit:0 -o save:rates.txt -e empty ${ctl} stats -i 0.3 -c 2
	py '
import re
t = open("rates.txt").read().split("\n")
check(len(t) == 11, "lines %r" % t)
for b in (0, 5):
    m = re.search(r", rates over (\d+\.\d{3}) s$", t[b])
    check(m and float(m.group(1)) >= 0.3, "time line %r" % t[b])
    check(t[b + 1].split()[3:6] == ["Runs/s", "Guest", "%"], "%r" % t[b + 1])
    f0, f1 = t[b + 2].split(), t[b + 3].split()
    check(float(f0[3]) > 0 and f0[5] == "io", "VCPU 0 rates %r" % f0)
    check(f1[3:] == ["0.0", "0.0", "-"], "VCPU 1 rates %r" % f1)
'
	atf_check -s exit:0 -o save:rates.json -e empty \
	    ${ctl} --json stats -i 0.3 -c 2
	py '
ls = open("rates.json").read().split("\n")
check(len(ls) == 3 and ls[2] == "", "JSON lines %r" % ls)
for line in ls[:2]:
    d = json.loads(line)
    check(set(d) == {"time", "interval", "machines"}, "%s" % sorted(d))
    check(0.3 <= d["interval"] < 30 and d["time"] > 1e9, "%r" % d)
    v0, v1 = d["machines"][0]["vcpu_stats"]
    check(set(v0) == {"id", "runs_per_s", "guest_ratio", "exits_per_s"},
          "%s" % sorted(v0))
    check(v0["runs_per_s"] > 0 and v0["exits_per_s"]["io"] > 0, "%r" % v0)
    check(0 < v0["guest_ratio"] <= 1.5, "guest ratio %r" % v0)
    check(v1["runs_per_s"] == 0, "%r" % v1)
'
	# Until SIGINT: it ends at once, exit 0, with what it printed.
	${ctl} stats -i 0.2 >int.txt 2>int.err &
	spid=$!
	sleep 1
	kill -INT ${spid}
	wait ${spid}
	status=$?
	[ ${status} -eq 0 ] || atf_fail "stats -i ended by SIGINT: ${status}"
	atf_check -s exit:0 -o match:"rates over 0\.[0-9]{3} s|rates over [1-9]" \
	    -e empty cat int.txt
	atf_check -s exit:0 -o empty -e empty cat int.err
	daemon_stop
}
stats_cleanup()
{
	stop_all
}

atf_test_case big_host cleanup
big_host_head()
{
	atf_set "descr" "16 machines of 16 VCPUs: stats and metrics name all" \
	    "256 VCPUs from one request each, though their records are ten" \
	    "times a packet's maximum (4096 bytes)"
	needs_prom
}
big_host_body()
{
	daemon_start
	guest_mode="many 16 16" guest_start
	atf_check -s exit:0 -o save:big.json -e empty ${ctl} --json stats
	py '
d = json.load(open("big.json"))
ms = d["machines"]
check(len(ms) == 16, "%d machines" % len(ms))
check(all([v["id"] for v in m["vcpu_stats"]] == list(range(16)) for m in ms),
      "VCPUs %r" % [len(m["vcpu_stats"]) for m in ms])
check(len({m["uuid"] for m in ms}) == 16, "UUIDs repeat")
'
	atf_check -s exit:0 -o save:big.prom -e empty ${ctl} metrics
	atf_check -s exit:0 -o ignore -e empty promtool check metrics <big.prom
	atf_check -s exit:0 -o match:"^nvmm_vcpus 256$" -e empty cat big.prom
	atf_check -s exit:0 -o match:"^256$" -e empty \
	    sh -c "grep -c '^nvmm_vcpu_runs_total{' big.prom"
	daemon_stop
}
big_host_cleanup()
{
	stop_all
}

atf_test_case metrics cleanup
metrics_head()
{
	atf_set "descr" "nvmmctl metrics and /metrics: promtool accepts both" \
	    "with a guest running; they have the same series; the labels are" \
	    "list --json's; the exit counter grows between two scrapes"
	needs_prom
}
metrics_body()
{
	port=$(free_port)
	printf 'metrics-listen 127.0.0.1:%s\n' "${port}" >nvmmd.conf
	daemon_start "${PWD}/nvmmd.conf"
	guest_mode=io guest_start
	url="http://127.0.0.1:${port}/metrics"
	atf_check -s exit:0 -o save:list.json -e empty ${ctl} --json list

	atf_check -s exit:0 -o save:ctl.prom -e empty ${ctl} metrics
	atf_check -s exit:0 -o save:http.prom -e empty curl -sfS "${url}"
	atf_check -s exit:0 -o ignore -e empty promtool check metrics <ctl.prom
	atf_check -s exit:0 -o ignore -e empty promtool check metrics <http.prom
	atf_check -s exit:0 -o match:"text/plain; version=0.0.4" -e ignore \
	    curl -sfS -D - -o /dev/null "${url}"
	sleep 0.3
	atf_check -s exit:0 -o save:http2.prom -e empty curl -sfS "${url}"
	pyp '
l = json.load(open("list.json"))["machines"][0]
c, ct = prom("ctl.prom")
h, ht = prom("http.prom")
h2, _ = prom("http2.prom")
check(set(c) == set(h) and ct == ht, "the series differ: %r" %
      (set(c) ^ set(h)))
lab = {"machine_uuid": l["uuid"], "machine_id": l["id"],
       "owner_uid": l["owner_uid"]}
one(h, "nvmm_machine_info", command="h_guest", owner_pid=l["owner_pid"],
    **lab)
check(one(h, "nvmm_machines")[1] == 1 and one(h, "nvmm_vcpus")[1] == 2,
      "counts")
_, created = one(h, "nvmm_machine_created_timestamp_seconds", **lab)
check(abs(created - (l["created"] + l["created_nsec"] / 1e9)) < 1e-6,
      "created %r" % created)
check(one(h, "nvmm_vcpu_exits_total", vcpu=1, reason="halted", **lab)[1]
      == 1, "VCPU 1 halted once")
_, io1 = one(h, "nvmm_vcpu_exits_total", vcpu=0, reason="io", **lab)
_, io2 = one(h2, "nvmm_vcpu_exits_total", vcpu=0, reason="io", **lab)
check(io2 > io1 > 0, "io exits %r then %r" % (io1, io2))
_, r2 = one(h2, "nvmm_vcpu_runs_total", vcpu=0, **lab)
check(r2 >= io2, "runs %r, io exits %r" % (r2, io2))
for n in ("nvmm_vcpu_exits_total", "nvmm_vcpu_runs_total",
          "nvmm_vcpu_guest_seconds_total", "nvmmd_refusals_total"):
    check(ht[n] == "counter", "%s is a %s" % (n, ht.get(n)))
check(one(h, "nvmmd_connections")[1] >= 1, "connections")
info = one(h, "nvmmd_build_info")[0]
proto = open("@abs_top_srcdir@/proto/nvmm_wire.h").read()
proto = re.search(r"#define NVMM_PROTO_VERSION\s+(\d+)", proto).group(1)
check(info.get("version") and info.get("protocol") == proto,
      "%r, protocol %s in nvmm_wire.h" % (info, proto))
check(one(h, "nvmmd_start_time_seconds")[1] <= created, "start time")
'
	atf_check -s exit:0 -o match:"404" -e ignore \
	    curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:${port}/"
	daemon_stop
}
metrics_cleanup()
{
	stop_all
}

atf_test_case labels_escaped cleanup
labels_escaped_head()
{
	atf_set "descr" "A command name with a quote, a backslash and a" \
	    "newline is escaped in its label; promtool accepts the text"
	needs_prom
}
labels_escaped_body()
{
	daemon_start
	guest_start "$(printf 'a"b\\c\nd')"
	atf_check -s exit:0 -o save:ctl.prom -e empty ${ctl} metrics
	atf_check -s exit:0 -o ignore -e empty promtool check metrics <ctl.prom
	atf_check -s exit:0 -o match:'command="a\\"b\\\\c\\nd"' -e empty \
	    grep '^nvmm_machine_info' ctl.prom
	daemon_stop
}
labels_escaped_cleanup()
{
	stop_all
}

atf_test_case unix_socket cleanup
unix_socket_head()
{
	atf_set "descr" "metrics-listen a Unix path: /metrics is served there," \
	    "and the socket goes when nvmmd stops"
	needs_prom
}
unix_socket_body()
{
	printf 'metrics-listen %s/m.sock\n' "${PWD}" >nvmmd.conf
	daemon_start "${PWD}/nvmmd.conf"
	atf_check -s exit:0 -o save:unix.prom -e empty \
	    curl -sfS --unix-socket "${PWD}/m.sock" http://localhost/metrics
	atf_check -s exit:0 -o ignore -e empty promtool check metrics <unix.prom
	atf_check -s exit:0 -o match:"^nvmm_machines 0$" -e empty cat unix.prom
	daemon_stop
	[ ! -e m.sock ] || atf_fail "m.sock left behind"
}
unix_socket_cleanup()
{
	stop_all
}

atf_test_case off_by_default cleanup
off_by_default_head()
{
	atf_set "descr" "Without metrics-listen nvmmd listens on no TCP" \
	    "socket; nvmmctl metrics still answers"
	needs_prom
}
# The TCP sockets nvmmd listens on: its socket inodes in /proc/net/tcp*.
tcp_listening()
{
	python3 -c 'import os, sys
pid = sys.argv[1]
inodes = set()
for fd in os.listdir("/proc/%s/fd" % pid):
    t = os.readlink("/proc/%s/fd/%s" % (pid, fd))
    if t.startswith("socket:["):
        inodes.add(t[8:-1])
n = 0
for f in ("/proc/net/tcp", "/proc/net/tcp6"):
    for line in open(f).readlines()[1:]:
        c = line.split()
        n += c[3] == "0A" and c[9] in inodes
print(n)' "$(cat nvmmd.pid)"
}
off_by_default_body()
{
	daemon_start
	tcp_listening >n.txt
	atf_check -s exit:0 -o inline:"0\n" -e empty cat n.txt
	atf_check -s exit:0 -o match:"^nvmm_machines 0$" -e empty ${ctl} metrics
	daemon_stop
	printf 'metrics-listen [::1]:%s\n' "$(free_port)" >nvmmd.conf
	daemon_start "${PWD}/nvmmd.conf"
	tcp_listening >n.txt
	atf_check -s exit:0 -o inline:"1\n" -e empty cat n.txt
	daemon_stop
}
off_by_default_cleanup()
{
	stop_all
}

atf_test_case reload cleanup
reload_head()
{
	atf_set "descr" "A SIGHUP that changes or removes metrics-listen is" \
	    "logged as taking effect at the next start; the old address" \
	    "keeps serving"
	needs_prom
}
reload_body()
{
	port=$(free_port)
	printf 'metrics-listen 127.0.0.1:%s\n' "${port}" >nvmmd.conf
	daemon_start "${PWD}/nvmmd.conf"
	n=0
	for change in "metrics-listen 127.0.0.1:$(free_port)" "# off"; do
		printf '%s\n' "${change}" >nvmmd.conf
		n=$((n + 1))
		kill -HUP "$(cat nvmmd.pid)"
		i=0
		while [ "$(grep -c "reloaded" nvmmd.log)" -lt ${n} ]; do
			i=$((i + 1))
			[ ${i} -lt 500 ] || atf_fail "no reload: $(cat nvmmd.log)"
			sleep 0.01
		done
		atf_check -s exit:0 -o inline:"${n}\n" -e empty grep -c \
		    "reload: the socket, pidfile, user and metrics-listen settings take effect at the next start" \
		    nvmmd.log
		atf_check -s exit:0 -o match:"^nvmm_machines 0$" -e empty \
		    curl -sfS "http://127.0.0.1:${port}/metrics"
	done
	daemon_stop
}
reload_cleanup()
{
	stop_all
}

atf_test_case config_refused
config_refused_head()
{
	atf_set "descr" "metrics-listen other than the loopback or an absolute" \
	    "Unix path is a configuration error naming the file and the line"
}
config_refused_body()
{
	why="not 127.0.0.1:PORT, [::1]:PORT or the absolute path of a Unix\
 socket (metrics are served on the loopback only)"
	for v in 0.0.0.0:9100 10.1.2.3:9100 localhost:9100 127.0.0.1:0 \
	    127.0.0.1:65536 127.0.0.1: '[::]:9100' run/m.sock 127.0.0.2:80; do
		printf '# metrics\nmetrics-listen %s\n' "${v}" >bad.conf
		atf_check -s exit:1 -o empty \
		    -e inline:"nvmmd: bad.conf:2: metrics-listen ${v}: ${why}\n" \
		    "${nvmmd}" -n -c bad.conf
	done
	printf 'metrics-listen 127.0.0.1:9100 x\n' >bad.conf
	atf_check -s exit:1 -o empty -e match:"bad.conf:1: metrics-listen" \
	    "${nvmmd}" -n -c bad.conf
	for v in 127.0.0.1:9100 '[::1]:9100' /run/nvmmd-metrics.sock; do
		printf 'metrics-listen %s\n' "${v}" >good.conf
		atf_check -s exit:0 -o match:"valid" -e empty \
		    "${nvmmd}" -n -c good.conf
	done
}

atf_test_case roles cleanup
roles_head()
{
	atf_set "descr" "A monitor may run stats and metrics; a user in no" \
	    "group is refused with exit 4 and the group it lacks, and the" \
	    "refusals are counted in the metrics"
	needs_prom
}
roles_body()
{
	printf 'user-group users\nadmin-group adm\nmonitor-group operator\n' \
	    >nvmmd.conf
	daemon_start "${PWD}/nvmmd.conf"
	getent passwd 4242 >/dev/null && atf_skip "uid 4242 has a passwd entry"
	gid=$(getent group operator | cut -d: -f3)
	[ -n "${gid}" ] || atf_skip "no group operator"
	monitor="setpriv --reuid=4242 --regid=${gid} --clear-groups"
	nobody="setpriv --reuid=4242 --regid=4242 --clear-groups"
	deny="nvmmctl: permission denied: user uid 4242 is not in group"
	guest_start

	atf_check -s exit:0 -o match:" halted 1$" -e empty ${monitor} ${ctl} stats
	atf_check -s exit:0 -o save:mon.prom -e empty ${monitor} ${ctl} metrics
	atf_check -s exit:0 -o ignore -e empty promtool check metrics <mon.prom
	atf_check -s exit:0 -o match:"^nvmm_machines 1$" -e empty cat mon.prom
	for c in stats metrics; do
		atf_check -s exit:4 -o empty -e inline:"${deny} operator or\
 users (${c} needs the monitor role)\n" ${nobody} ${ctl} ${c}
	done
	atf_check -s exit:0 -o save:after.prom -e empty ${ctl} metrics
	pyp '
s, _ = prom("after.prom")
check(one(s, "nvmmd_refusals_total", reason="connection")[1] == 2,
      "connection refusals")
'
	daemon_stop
}
roles_cleanup()
{
	stop_all
}

atf_init_test_cases()
{
	atf_add_test_case stats
	atf_add_test_case metrics
	atf_add_test_case big_host
	atf_add_test_case labels_escaped
	atf_add_test_case unix_socket
	atf_add_test_case off_by_default
	atf_add_test_case config_refused
	atf_add_test_case reload
	atf_add_test_case roles
}
