# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# The manual pages: mandoc finds nothing wrong in any of them, every page
# is installed, and libnvmm(3) is a reference for every function of
# <nvmm.h>, in the header's (NetBSD's) order.

SRC=@abs_top_srcdir@

atf_test_case lint_clean
lint_clean_head()
{
	atf_set "descr" "mandoc -Tlint reports no warning or error on any page"
	atf_set "require.progs" "mandoc"
}
lint_clean_body()
{
	n=0
	for page in "$SRC"/man/*.[1-9]; do
		n=$((n + 1))
		# Style hints are advice; warnings and errors are defects.
		atf_check -s exit:0 -o empty -e empty \
		    mandoc -Tlint -Wwarning "$page"
	done
	[ "$n" -ge 4 ] || atf_fail "only $n pages found in $SRC/man"
}

atf_test_case every_page_installed
every_page_installed_head()
{
	atf_set "descr" "Each page in man/ is listed for installation"
}
every_page_installed_body()
{
	for page in "$SRC"/man/*.[1-9]; do
		name=man/$(basename "$page")
		grep -q "_MANS.*$name\|^	*$name" "$SRC/man/local.mk" ||
		    atf_fail "$name is not installed by man/local.mk"
	done
}

# The public functions of <nvmm.h>, in the order the header declares them.
header_functions()
{
	sed -n 's/^int \(nvmm_[a-z_0-9]*\)(.*/\1/p' "$SRC/include/nvmm.h"
}

atf_test_case libnvmm_every_function
libnvmm_every_function_head()
{
	atf_set "descr" "libnvmm(3) names and describes every function of" \
	    "<nvmm.h> in the header's order, with its return values, errors," \
	    "environment and files"
}
libnvmm_every_function_body()
{
	page="$SRC/man/libnvmm.3"
	header_functions >header.txt
	[ "$(wc -l <header.txt)" -ge 24 ] ||
	    atf_fail "only $(wc -l <header.txt) functions found in nvmm.h"
	sed -n 's/^\.Nm \(nvmm_[a-z_0-9]*\).*/\1/p' "$page" >names.txt
	sed -n 's/^\.Fn \(nvmm_[a-z_0-9]*\) ".*/\1/p' "$page" >synopsis.txt
	sed -n 's/^\.It Fn \(nvmm_[a-z_0-9]*\)$/\1/p' "$page" >described.txt
	atf_check -o empty diff header.txt names.txt
	atf_check -o empty diff header.txt synopsis.txt
	atf_check -o empty diff header.txt described.txt
	for section in "RETURN VALUES" ERRORS ENVIRONMENT FILES \
	    "DIFFERENCES FROM NETBSD"; do
		grep -q "^\.Sh $section\$" "$page" ||
		    atf_fail "libnvmm(3) has no $section section"
	done
}

atf_init_test_cases()
{
	atf_add_test_case lint_clean
	atf_add_test_case every_page_installed
	atf_add_test_case libnvmm_every_function
}
