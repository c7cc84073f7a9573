# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
#
# t_qemu: QEMU's NVMM accelerator, as scripts/qemu builds it, through a
# private nvmmd.  QEMU runs as a uid without a passwd entry whose only
# privilege is the supplementary group nvmm: no root, no /dev/kvm.  It
# loads this build tree's libnvmm, so that the suite tests this tree.
#
# The guests: SeaBIOS (Debian's seabios package) with the boot sector of
# tests/qemu/bootsector.S, and a GRUB image made here with grub-mkrescue.
# Each ends by writing 0x10 to isa-debug-exit, which QEMU turns into exit
# status 33; a hang ends in timeout's 124 instead.
#
# Not part of 'make check': 'make check-qemu' runs it.
#

nvmmd="@abs_top_builddir@/nvmmd/nvmmd"
nvmmctl="@abs_top_builddir@/nvmmctl/nvmmctl"
libs="@abs_top_builddir@/libnvmmclient/.libs"
images="@abs_top_builddir@/tests/qemu"
qemu="${NVMMD_QEMU:-/usr/local/lib/nvmmd/qemu/bin/qemu-system-x86_64}"
wrapper="${NVMMD_QEMU_WRAPPER:-/usr/local/bin/qemu-system-x86_64-nvmm}"
bios=/usr/share/seabios/bios.bin
exit_ok=33		# isa-debug-exit: (0x10 << 1) | 1
guest_timeout=60	# seconds; a boot takes a few (-k: a hung QEMU ignores TERM)
# hd_sh_start: nvmmd started and listening.
. "@abs_top_srcdir@/tests/common/h_daemon.subr"

# What every case needs, or the reason it cannot run.
need_qemu()
{
	[ -x "${qemu}" ] ||
	    atf_skip "no QEMU build at ${qemu}: run scripts/qemu (as root)"
	[ -f "${bios}" ] || atf_skip "no ${bios}: install Debian's seabios"
	getent group nvmm >/dev/null ||
	    atf_skip "no 'nvmm' group: scripts/qemu creates it"
	command -v setpriv >/dev/null || atf_skip "no setpriv (util-linux)"
}

qemu_head()
{
	atf_set "require.user" "root"
	atf_set "require.files" "/dev/kvm"
	atf_set "timeout" "300"
}

# A private directory the test uid can reach (the atf work directory may
# not be), a uid without a passwd entry, and nvmmd on a socket in there.
setup()
{
	need_qemu
	dir=$(mktemp -d /tmp/nvmmd-qemu.XXXXXX)
	echo "${dir}" >dir.path
	chmod 0711 "${dir}"
	uid=47201
	while getent passwd "${uid}" >/dev/null; do
		uid=$((uid + 1))
	done
	echo "${uid}" >uid
	gid_nvmm=$(getent group nvmm | cut -d: -f3)
	hd_sh_start "${nvmmd}" "${dir}/s.sock" -g nvmm
	ctl="${nvmmctl} -s ${dir}/s.sock"
	# SeaBIOS's own log (port 0x402), written by the test uid.
	touch "${dir}/bios.log"
	chown "${uid}" "${dir}/bios.log"
}

# A file the test uid may open read-write, in the private directory.
give()
{
	cp "$1" "${dir}/$2"
	chown "${uid}" "${dir}/$2"
}

# Becomes "$@" as the test uid: primary group nogroup, supplementary nvmm,
# no capabilities; the environment finds this tree's libnvmm and nvmmd.
# It execs, so that a background job's pid is QEMU's: call it in a
# subshell, ( ... ) or &.
as_user()
{
	ulimit -c 0
	exec setpriv --reuid="${uid}" --regid=65534 --groups="${gid_nvmm}" \
	    --inh-caps=-all env LD_LIBRARY_PATH="${libs}" \
	    NVMM_SOCKET="${dir}/s.sock" "$@" </dev/null
}

# The options every guest gets: serial on stdout, SeaBIOS's log, the exit
# device, nothing else.
common_opts()
{
	echo "-display none -nodefaults -no-user-config -bios ${bios}" \
	    "-serial stdio -device isa-debug-exit" \
	    "-chardev file,id=bioslog,path=${dir}/bios.log" \
	    "-device isa-debugcon,iobase=0x402,chardev=bioslog"
}

teardown()
{
	[ -f qemu.pid ] && kill -KILL "$(cat qemu.pid)" 2>/dev/null
	# A QEMU that outlived a timed-out body: the uid is the test's own.
	[ -f uid ] && pkill -KILL -U "$(cat uid)" 2>/dev/null
	[ -f nvmmd.pid ] && kill -TERM "$(cat nvmmd.pid)" 2>/dev/null
	if [ -f dir.path ]; then
		dir=$(cat dir.path)
		case ${dir} in
		/tmp/nvmmd-qemu.*) rm -rf "${dir}" ;;
		esac
	fi
	return 0
}

# The boot sector under SeaBIOS on machine $1 with $2 VCPUs.
boot_sector()
{
	setup
	give "${images}/boot.img" boot.img
	# shellcheck disable=SC2046
	(as_user timeout -k 5 "${guest_timeout}" "${qemu}" -accel nvmm \
	    -M "$1" -smp "$2" -m 64 $(common_opts) \
	    -drive "file=${dir}/boot.img,format=raw,if=ide") >serial 2>stderr
	status=$?
	[ ${status} -eq ${exit_ok} ] || atf_fail "QEMU exited ${status}," \
	    "not ${exit_ok}; serial: $(tail -n 3 serial); stderr: $(cat stderr)"
	atf_check -o match:'^nvmmd boot sector: hello' cat serial
	for n in 1 2 3; do
		atf_check -o match:"^tick ${n}" cat serial
	done
	atf_check -o match:'^nvmmd boot sector: done' cat serial
	atf_check -o match:"Found $2 cpu\\(s\\)" cat "${dir}/bios.log"
	atf_check -o match:'^Booting from Hard Disk' cat "${dir}/bios.log"
}

for m in pc q35; do
	for n in 1 2; do
		eval "
atf_test_case seabios_${m}_smp${n} cleanup
seabios_${m}_smp${n}_head()
{
	atf_set descr 'SeaBIOS boots the boot sector on -M ${m} -smp ${n}:' \
	    'serial output, IRQ0 ticks through HLT, isa-debug-exit'
	qemu_head
}
seabios_${m}_smp${n}_body() { boot_sector ${m} ${n}; }
seabios_${m}_smp${n}_cleanup() { teardown; }
"
	done
done

atf_test_case grub cleanup
grub_head()
{
	atf_set "descr" "A GRUB image from grub-mkrescue prints over serial" \
	    "and exits, through the qemu-system-x86_64-nvmm wrapper"
	qemu_head
}
grub_body()
{
	need_qemu
	command -v grub-mkrescue >/dev/null ||
	    atf_skip "no grub-mkrescue: install grub-common and grub-pc-bin"
	[ -d /usr/lib/grub/i386-pc ] || atf_skip "no grub-pc-bin"
	command -v xorriso >/dev/null || atf_skip "no xorriso"
	[ -x "${wrapper}" ] || atf_skip "no ${wrapper}: run scripts/qemu"
	setup
	mkdir -p iso/boot/grub
	cat >iso/boot/grub/grub.cfg <<-'EOF'
	insmod serial
	insmod iorw
	serial --unit=0 --speed=115200
	terminal_input serial
	terminal_output serial
	echo "nvmmd grub: hello from GRUB"
	outb 0x501 0x10
	EOF
	atf_check -s exit:0 -o ignore -e ignore grub-mkrescue -o grub.iso iso
	give grub.iso grub.iso
	# The wrapper adds -accel nvmm; NVMM_SOCKET, set, is left alone.
	# shellcheck disable=SC2046
	(as_user timeout -k 5 "${guest_timeout}" "${wrapper}" -M pc -m 64 \
	    $(common_opts) -cdrom "${dir}/grub.iso") >serial 2>stderr
	status=$?
	[ ${status} -eq ${exit_ok} ] || atf_fail "QEMU exited ${status}," \
	    "not ${exit_ok}; stderr: $(cat stderr)"
	atf_check -o match:'nvmmd grub: hello from GRUB' cat serial
	atf_check -o match:'NetBSD Virtual Machine Monitor accelerator is operational' \
	    cat serial
	atf_check -o match:'Booting from DVD/CD' cat "${dir}/bios.log"
}
grub_cleanup()
{
	teardown
}

atf_test_case list_and_kill cleanup
list_and_kill_head()
{
	atf_set "descr" "nvmmctl list shows the running QEMU guest with its" \
	    "owner; nvmmctl kill ends it and QEMU exits with NVMM's error"
	qemu_head
}
list_and_kill_body()
{
	setup
	give "${images}/forever.img" forever.img
	# shellcheck disable=SC2046
	as_user "${qemu}" -accel nvmm -M pc -smp 2 -m 64 $(common_opts) \
	    -drive "file=${dir}/forever.img,format=raw,if=ide" \
	    >serial 2>stderr &
	pid=$!
	echo ${pid} >qemu.pid
	i=0
	while ! grep -q '^tick 2' serial; do
		kill -0 ${pid} 2>/dev/null ||
		    atf_fail "QEMU exited: $(cat stderr)"
		i=$((i + 1))
		[ ${i} -lt 6000 ] || atf_fail "the guest does not tick"
		sleep 0.02
	done
	${ctl} --json list >list.json || atf_fail "nvmmctl list failed"
	cat >check.py <<-'EOF'
	import json, sys
	ms = json.load(open("list.json"))["machines"]
	pid, uid = int(sys.argv[1]), int(sys.argv[2])
	if len(ms) != 1:
	    sys.exit("FAILED: %d machines listed, not 1" % len(ms))
	m = ms[0]
	for k, want in (("owner_pid", pid), ("owner_uid", uid), ("vcpus", 2)):
	    if m[k] != want:
	        sys.exit("FAILED: %s is %r, not %r" % (k, m[k], want))
	if not m["command"].startswith("qemu-system-x86"):
	    sys.exit("FAILED: command %r" % m["command"])
	if m["ram"] < 64 << 20:
	    sys.exit("FAILED: ram %d, less than -m 64" % m["ram"])
	print(m["id"])
	EOF
	atf_check -s exit:0 -o save:id -e empty python3 check.py ${pid} "${uid}"
	id=$(cat id)
	atf_check -s exit:0 -o match:"pid ${pid}, uid ${uid}" \
	    -o match:'^VCPUs: +2$' ${ctl} info "${id}"
	atf_check -s exit:0 -o match:"Machine ${id} killed" ${ctl} kill "${id}"
	wait ${pid}
	status=$?
	rm -f qemu.pid
	# QEMU's NVMM accelerator reports the failed run and aborts.
	[ ${status} -eq 134 ] ||
	    atf_fail "QEMU exited ${status}, not 134 (SIGABRT), after the kill"
	atf_check -o match:'NVMM: Failed to exec a virtual processor' cat stderr
	atf_check -o match:'NVMM: Failed to execute a VCPU' cat stderr
	atf_check -s exit:0 -o match:'"machines": \[\]' ${ctl} --json list
}
list_and_kill_cleanup()
{
	teardown
}

atf_init_test_cases()
{
	for m in pc q35; do
		for n in 1 2; do
			atf_add_test_case seabios_${m}_smp${n}
		done
	done
	atf_add_test_case grub
	atf_add_test_case list_and_kill
}
