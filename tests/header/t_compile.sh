# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
#
# t_header_compile: the installed-style NVMM headers compile cleanly in the
# ways NVMM consumers use them: alone, each sub-header alone and in either
# order, under strict ISO modes, next to libbsd, from C++, from assembly,
# and with NetBSD-style emulator code.
#
# The build substitutes the source directory and the compilers into this
# script; each test case works in the private directory atf gives it.
#

srcdir_inc="@abs_top_srcdir@/include"

# Warnings are errors everywhere: a header that warns breaks -Werror users.
# -pedantic holds too: uint16_t/uint64_t bit-fields are implementation-
# defined types that C99 permits, and GCC and Clang accept them silently.
cwarn="-Wall -Wextra -Werror -pedantic"

# Compile a C file with the test's include path; stderr must stay empty.
# $1: the file; the rest: extra flags.
compile_c()
{
	_f="$1"; shift
	atf_check -s exit:0 -o ignore -e empty \
	    @CC@ -std=gnu11 ${cwarn} "$@" -I"${srcdir_inc}" -c "${_f}" \
	    -o "${_f%.*}.o"
}

require_cc()
{
	set -- @CC@
	command -v "$1" >/dev/null 2>&1 || atf_fail "C compiler $1 not found"
}

require_cxx()
{
	set -- @CXX@
	[ -n "$1" ] || atf_skip "no C++ compiler configured"
	command -v "$1" >/dev/null 2>&1 || atf_fail "C++ compiler $1 not found"
}

atf_test_case c_alone
c_alone_head()
{
	atf_set "descr" "<nvmm.h> is self-contained and warning-free in C"
}
c_alone_body()
{
	require_cc
	echo '#include <nvmm.h>' > alone.c
	compile_c alone.c
}

atf_test_case c_each_subheader
c_each_subheader_head()
{
	atf_set "descr" "Each <nvmm/...> header compiles alone and in" \
	    "any order with the others"
}
c_each_subheader_body()
{
	require_cc
	for h in nvmm_dev.h nvmm_x86.h nvmm_compat.h; do
		printf '#include <nvmm/%s>\n' "${h}" > "sub_${h%.h}.c"
		compile_c "sub_${h%.h}.c"
	done

	# nvmm_x86.h and nvmm_dev.h include each other; both orders and
	# a second inclusion of everything must work.
	n=0
	for order in "nvmm/nvmm_x86.h nvmm/nvmm_dev.h nvmm.h" \
	    "nvmm/nvmm_dev.h nvmm/nvmm_x86.h nvmm.h" \
	    "nvmm/nvmm_compat.h nvmm.h nvmm/nvmm_x86.h" \
	    "nvmm.h nvmm/nvmm_x86.h nvmm/nvmm_dev.h nvmm/nvmm_compat.h nvmm.h"
	do
		n=$((n + 1))
		: > "order${n}.c"
		for h in ${order}; do
			printf '#include <%s>\n' "${h}" >> "order${n}.c"
		done
		# Something that needs all of it, after the includes.
		cat >> "order${n}.c" <<'EOF'
int order_check[sizeof(struct nvmm_comm_page) == 1072 ? 1 : -1];
EOF
		compile_c "order${n}.c"
	done
}

atf_test_case c_strict_std
c_strict_std_head()
{
	atf_set "descr" "<nvmm.h> compiles under strict ISO C99 and C11," \
	    "without glibc's _DEFAULT_SOURCE (u_int is then ours)"
}
c_strict_std_body()
{
	require_cc
	cat > strict.c <<'EOF'
#include <nvmm.h>

u_int strict_type = NVMM_VCPU_EVENT_INTR;
uint64_t strict_mask = __BITS(7, 4);
EOF
	for std in c99 c11; do
		atf_check -s exit:0 -o ignore -e empty \
		    @CC@ -std=${std} ${cwarn} -I"${srcdir_inc}" \
		    -c strict.c -o strict.o
	done
}

# The libbsd headers, included before and after <nvmm.h>, in one file.
# $1: the libbsd include lines.
libbsd_files()
{
	printf '%s\n#include <nvmm.h>\n' "$1" > bsd_before.c
	printf '#include <nvmm.h>\n%s\n' "$1" > bsd_after.c
	for f in bsd_before.c bsd_after.c; do
		# Use both libraries' macros side by side.
		cat >> "${f}" <<'EOF'

const uint64_t bits[] = { __BIT(3), __BITS(5, 4) };
size_t nbits = __arraycount(bits);
EOF
	done
}

atf_test_case c_with_libbsd
c_with_libbsd_head()
{
	atf_set "descr" "<nvmm.h> coexists with libbsd's <bsd/...> headers"
}
c_with_libbsd_body()
{
	require_cc
	[ -f /usr/include/bsd/sys/cdefs.h ] || atf_skip "libbsd not installed"
	libbsd_files '#include <bsd/sys/cdefs.h>
#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <sys/param.h>'
	compile_c bsd_before.c
	compile_c bsd_after.c
}

atf_test_case c_with_libbsd_overlay
c_with_libbsd_overlay_head()
{
	atf_set "descr" "<nvmm.h> coexists with libbsd in overlay mode," \
	    "where <sys/cdefs.h> is libbsd's"
}
c_with_libbsd_overlay_body()
{
	require_cc
	[ -f /usr/include/bsd/sys/cdefs.h ] || atf_skip "libbsd not installed"
	# In overlay mode libbsd's headers must be reached by their
	# standard names; <bsd/...> would fail on its own #include_next.
	bsdflags=$(pkg-config --cflags libbsd-overlay 2>/dev/null) ||
	    bsdflags="-isystem /usr/include/bsd -DLIBBSD_OVERLAY"
	libbsd_files '#include <sys/cdefs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>'
	compile_c bsd_before.c ${bsdflags}
	compile_c bsd_after.c ${bsdflags}
}

atf_test_case cxx_syntax
cxx_syntax_head()
{
	atf_set "descr" "<nvmm.h> is valid, warning-free C++ with C linkage"
}
cxx_syntax_body()
{
	require_cxx
	cat > cxx.cc <<'EOF'
#include <nvmm.h>

/*
 * libnvmm is C: redeclaring with C linkage is an error unless the header
 * already gave the functions C linkage.
 */
extern "C" {
int nvmm_init(void);
int nvmm_vcpu_run(struct nvmm_machine *, struct nvmm_vcpu *);
int nvmm_vcpu_stop(struct nvmm_vcpu *);
int nvmm_ctl(int, void *, size_t);
}

static_assert(sizeof(struct nvmm_x64_state) == 1008, "state size");
static_assert(sizeof(struct nvmm_vcpu_exit) == 64, "exit size");
static_assert(sizeof(struct nvmm_comm_page) == 1072, "comm page size");
static_assert(sizeof(struct nvmm_vcpu) == 56, "vcpu size");

int
cxx_use(struct nvmm_vcpu *vcpu)
{
	vcpu->state->segs[NVMM_X64_SEG_CS].attrib.l = 1;
	return vcpu->exit->reason == NVMM_VCPU_EXIT_IO ?
	    vcpu->exit->u.io.port : 0;
}
EOF
	atf_check -s exit:0 -o ignore -e empty \
	    @CXX@ -fsyntax-only ${cwarn} -x c++ -I"${srcdir_inc}" cxx.cc
}

atf_test_case asm_constants
asm_constants_head()
{
	atf_set "descr" "With ASM_NVMM, nvmm_x86.h gives assembly sources" \
	    "the index constants and nothing else"
}
asm_constants_body()
{
	require_cc
	cat > consts.S <<'EOF'
#define ASM_NVMM
#include <nvmm/nvmm_x86.h>

	.text
	.globl	consts
consts:
	movq	$(NVMM_X64_GPR_RIP * 8), %rax
	movq	$(NVMM_X64_SEG_TR), %rcx
	movq	$(NVMM_X64_STATE_ALL), %rdx
	movq	$(NVMM_X64_MSR_TSC), %rsi
	ret
	.section .note.GNU-stack,"",@progbits
EOF
	atf_check -s exit:0 -o ignore -e empty \
	    @CC@ -I"${srcdir_inc}" -c consts.S -o consts.o
}

atf_test_case netbsd_source
netbsd_source_head()
{
	atf_set "descr" "Emulator code written against NetBSD's libnvmm" \
	    "(QEMU-style) compiles unchanged"
}
netbsd_source_body()
{
	require_cc
	cat > emul.c <<'EOF'
#include <sys/types.h>
#include <sys/mman.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <nvmm.h>

/* x86 descriptor attribute masks, in the layout QEMU's SegmentCache uses. */
#define DESC_TYPE_MASK	(15 << 8)
#define DESC_S_MASK	(1 << 12)
#define DESC_DPL_MASK	(3 << 13)
#define DESC_P_MASK	(1 << 15)
#define DESC_AVL_MASK	(1 << 20)
#define DESC_L_MASK	(1 << 21)
#define DESC_B_MASK	(1 << 22)
#define DESC_G_MASK	(1 << 23)

static struct nvmm_machine mach;
static struct nvmm_capability cap;
static u_int ndevice_io;

static void
io_callback(struct nvmm_io *io)
{
	if (io->in)
		memset(io->data, 0xFF, io->size);
	ndevice_io += io->port;
}

static void
mem_callback(struct nvmm_mem *mem)
{
	if (!mem->write)
		memset(mem->data, 0, mem->size);
	(void)mem->gpa;
}

static const struct nvmm_assist_callbacks callbacks = {
	.io = io_callback,
	.mem = mem_callback
};

int emul_init(struct nvmm_vcpu *);
int emul_set_seg(struct nvmm_vcpu *, uint32_t);
uint32_t emul_get_seg(const struct nvmm_x64_state_seg *);
int emul_loop(struct nvmm_vcpu *);
void emul_kick(struct nvmm_vcpu *);

int
emul_init(struct nvmm_vcpu *vcpu)
{
	struct nvmm_vcpu_conf_cpuid cpuid;
	struct nvmm_vcpu_conf_tpr tpr;
	struct nvmm_ctl_mach_info info;

	if (nvmm_init() == -1) {
		if (errno == EPROGMISMATCH)
			fprintf(stderr, "NVMM: version mismatch\n");
		return -1;
	}
	if (nvmm_capability(&cap) == -1)
		return -1;
	if (cap.version < NVMM_KERN_VERSION ||
	    cap.state_size != sizeof(struct nvmm_x64_state))
		return -1;
	if (nvmm_machine_create(&mach) == -1)
		return -1;
	if (nvmm_vcpu_create(&mach, 0, vcpu) == -1)
		return -1;
	if (nvmm_vcpu_configure(&mach, vcpu, NVMM_VCPU_CONF_CALLBACKS,
	    (void *)&callbacks) == -1)
		return -1;

	memset(&cpuid, 0, sizeof(cpuid));
	cpuid.mask = 1;
	cpuid.leaf = 0x00000001;
	cpuid.u.mask.set.edx = __BIT(31);
	cpuid.u.mask.del.ecx = __BITS(5, 3);
	if (nvmm_vcpu_configure(&mach, vcpu, NVMM_VCPU_CONF_CPUID,
	    &cpuid) == -1)
		return -1;

	if (cap.arch.vcpu_conf_support & NVMM_CAP_ARCH_VCPU_CONF_TPR) {
		memset(&tpr, 0, sizeof(tpr));
		tpr.exit_changed = 1;
		(void)nvmm_vcpu_configure(&mach, vcpu, NVMM_VCPU_CONF_TPR,
		    &tpr);
	}

	if (nvmm_hva_map(&mach, (uintptr_t)0x100000, 0x200000) == -1 ||
	    nvmm_gpa_map(&mach, (uintptr_t)0x100000, 0, 0x200000,
	    PROT_READ | PROT_WRITE | PROT_EXEC) == -1)
		return -1;

	info.machid = mach.machid;
	if (nvmm_ctl(NVMM_CTL_MACH_INFO, &info, sizeof(info)) == 0)
		printf("%u vcpus, %ju bytes, pid %d\n", info.nvcpus,
		    (uintmax_t)info.nram, (int)info.pid);
	return 0;
}

int
emul_set_seg(struct nvmm_vcpu *vcpu, uint32_t attrib)
{
	struct nvmm_x64_state *state = vcpu->state;
	struct nvmm_x64_state_seg *seg = &state->segs[NVMM_X64_SEG_CS];

	if (nvmm_vcpu_getstate(&mach, vcpu, NVMM_X64_STATE_ALL) == -1)
		return -1;
	seg->attrib.type = __SHIFTOUT(attrib, DESC_TYPE_MASK);
	seg->attrib.s = __SHIFTOUT(attrib, DESC_S_MASK);
	seg->attrib.dpl = __SHIFTOUT(attrib, DESC_DPL_MASK);
	seg->attrib.p = __SHIFTOUT(attrib, DESC_P_MASK);
	seg->attrib.avl = __SHIFTOUT(attrib, DESC_AVL_MASK);
	seg->attrib.l = __SHIFTOUT(attrib, DESC_L_MASK);
	seg->attrib.def = __SHIFTOUT(attrib, DESC_B_MASK);
	seg->attrib.g = __SHIFTOUT(attrib, DESC_G_MASK);
	state->segs[NVMM_X64_SEG_SS].attrib.dpl = 0;

	state->gprs[NVMM_X64_GPR_RIP] = 0xFFF0;
	state->crs[NVMM_X64_CR_CR8] = 0;
	state->drs[NVMM_X64_DR_DR7] = 0x400;
	state->msrs[NVMM_X64_MSR_EFER] = 0;
	state->intr.int_window_exiting = 1;

	state->fpu.fx_cw = 0x037F;
	state->fpu.fx_sw = 0;
	state->fpu.fx_tw = 0;
	state->fpu.fx_opcode = 0;
	state->fpu.fx_ip.fa_64 = 0;
	state->fpu.fx_dp.fa_32.fa_seg = 0;
	state->fpu.fx_mxcsr = 0x1F80;
	state->fpu.fx_mxcsr_mask = 0x0000FFFF;
	state->fpu.fx_87_ac[0].r.f87_mantissa = 0;
	state->fpu.fx_87_ac[0].r.f87_exp_sign = 0;
	memset(state->fpu.fx_87_ac, 0, sizeof(state->fpu.fx_87_ac));
	state->fpu.fx_xmm[0].xmm_bytes[0] = 0;
	memset(&state->fpu.fx_xmm[15].xmm_bytes[8], 0, 8);

	return nvmm_vcpu_setstate(&mach, vcpu, NVMM_X64_STATE_SEGS |
	    NVMM_X64_STATE_GPRS | NVMM_X64_STATE_CRS | NVMM_X64_STATE_DRS |
	    NVMM_X64_STATE_MSRS | NVMM_X64_STATE_INTR | NVMM_X64_STATE_FPU);
}

uint32_t
emul_get_seg(const struct nvmm_x64_state_seg *seg)
{
	return __SHIFTIN((uint32_t)seg->attrib.type, DESC_TYPE_MASK) |
	    __SHIFTIN((uint32_t)seg->attrib.s, DESC_S_MASK) |
	    __SHIFTIN((uint32_t)seg->attrib.dpl, DESC_DPL_MASK) |
	    __SHIFTIN((uint32_t)seg->attrib.p, DESC_P_MASK) |
	    __SHIFTIN((uint32_t)seg->attrib.avl, DESC_AVL_MASK) |
	    __SHIFTIN((uint32_t)seg->attrib.l, DESC_L_MASK) |
	    __SHIFTIN((uint32_t)seg->attrib.def, DESC_B_MASK) |
	    __SHIFTIN((uint32_t)seg->attrib.g, DESC_G_MASK);
}

int
emul_loop(struct nvmm_vcpu *vcpu)
{
	struct nvmm_vcpu_exit *exit = vcpu->exit;
	struct nvmm_vcpu_event *event = vcpu->event;
	struct nvmm_x64_state *state = vcpu->state;
	gpaddr_t gpa;
	uintptr_t hva;
	nvmm_prot_t prot;

	for (;;) {
		if (!exit->exitstate.int_shadow &&
		    !exit->exitstate.evt_pending &&
		    (exit->exitstate.rflags & 0x200) != 0) {
			event->type = NVMM_VCPU_EVENT_INTR;
			event->vector = 0x20;
			if (nvmm_vcpu_inject(&mach, vcpu) == -1)
				return -1;
		}
		if (nvmm_vcpu_run(&mach, vcpu) == -1)
			return -1;

		switch (exit->reason) {
		case NVMM_VCPU_EXIT_NONE:
			break;
#if NVMM_USER_VERSION >= 2
		case NVMM_VCPU_EXIT_STOPPED:
			return 0;
#endif
		case NVMM_VCPU_EXIT_IO:
			if (exit->u.io.port == 0x3F8 && !exit->u.io.str &&
			    !exit->u.io.rep && exit->u.io.seg == -1 &&
			    exit->u.io.operand_size == 1 &&
			    exit->u.io.address_size == 8)
				state->gprs[NVMM_X64_GPR_RIP] = exit->u.io.npc;
			else if (nvmm_assist_io(&mach, vcpu) == -1)
				return -1;
			break;
		case NVMM_VCPU_EXIT_MEMORY:
			if (exit->u.mem.prot == PROT_WRITE &&
			    exit->u.mem.inst_len > 0 &&
			    exit->u.mem.inst_bytes[0] == 0x89)
				(void)nvmm_gpa_to_hva(&mach, exit->u.mem.gpa,
				    &hva, &prot);
			if (nvmm_assist_mem(&mach, vcpu) == -1)
				return -1;
			break;
		case NVMM_VCPU_EXIT_RDMSR:
			state->gprs[NVMM_X64_GPR_RAX] = exit->u.rdmsr.msr;
			state->gprs[NVMM_X64_GPR_RIP] = exit->u.rdmsr.npc;
			nvmm_vcpu_setstate(&mach, vcpu, NVMM_X64_STATE_GPRS);
			break;
		case NVMM_VCPU_EXIT_WRMSR:
			if (exit->u.wrmsr.msr == 0x1B &&
			    exit->u.wrmsr.val != 0)
				state->gprs[NVMM_X64_GPR_RIP] =
				    exit->u.wrmsr.npc;
			break;
		case NVMM_VCPU_EXIT_MONITOR:
		case NVMM_VCPU_EXIT_MWAIT:
		case NVMM_VCPU_EXIT_CPUID:
			state->gprs[NVMM_X64_GPR_RIP] = exit->u.insn.npc;
			break;
		case NVMM_VCPU_EXIT_INT_READY:
		case NVMM_VCPU_EXIT_NMI_READY:
		case NVMM_VCPU_EXIT_TPR_CHANGED:
			break;
		case NVMM_VCPU_EXIT_HALTED:
			if (nvmm_gva_to_gpa(&mach, vcpu,
			    state->gprs[NVMM_X64_GPR_RIP], &gpa, &prot) == 0 &&
			    (prot & NVMM_PROT_EXEC))
				break;
			return 0;
		case NVMM_VCPU_EXIT_SHUTDOWN:
			return 0;
		case NVMM_VCPU_EXIT_INVALID:
		default:
			fprintf(stderr, "invalid exit %#jx\n",
			    (uintmax_t)exit->u.inv.hwcode);
			nvmm_vcpu_dump(&mach, vcpu);
			return -1;
		}
	}
}

/* From a signal handler on another thread. */
void
emul_kick(struct nvmm_vcpu *vcpu)
{
#if NVMM_USER_VERSION >= 2
	nvmm_vcpu_stop(vcpu);
	*vcpu->stop = 1;
#endif
	(void)nvmm_vcpu_destroy(&mach, vcpu);
	(void)nvmm_hva_unmap(&mach, (uintptr_t)0x100000, 0x200000);
	(void)nvmm_gpa_unmap(&mach, (uintptr_t)0x100000, 0, 0x200000);
	(void)nvmm_machine_configure(&mach, NVMM_MACH_CONF_MD_BEGIN, NULL);
	(void)nvmm_machine_destroy(&mach);
	(void)nvmm_root_init();
}
EOF
	compile_c emul.c
}

atf_init_test_cases()
{
	atf_add_test_case c_alone
	atf_add_test_case c_each_subheader
	atf_add_test_case c_strict_std
	atf_add_test_case c_with_libbsd
	atf_add_test_case c_with_libbsd_overlay
	atf_add_test_case cxx_syntax
	atf_add_test_case asm_constants
	atf_add_test_case netbsd_source
}
