/* SPDX-License-Identifier: BSD-2-Clause */
/* Copyright (c) 2026 The nvmmd developers; see LICENSE. */
/*
 * How nvmmctl writes values, in NetBSD nvmmctl's ways; shared by the
 * commands (nvmmctl.c) and the output (output.c).
 */
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include <bsd/libutil.h>
#define LIBBSD_NETBSD_VIS
#include <bsd/vis.h>

#include "nvmmctl.h"

/* NetBSD's snprintb: the value in hex, then the names of its set bits. */
void
format_bits(char *buf, size_t size, uint64_t value,
    const char *const *names)
{
	size_t len, i;
	bool first = true;

	if (value == 0) {
		snprintf(buf, size, "0");
		return;
	}
	len = (size_t)snprintf(buf, size, "%#jx<", (uintmax_t)value);
	for (i = 0; names[i] != NULL && i < 64 && len < size; i++) {
		if (!(value & (1ULL << i)))
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    first ? "" : ",", names[i]);
		first = false;
	}
	if (len < size)
		snprintf(buf + len, size - len, ">");
}

/* NetBSD's humanize_number use: four characters, decimal, e.g. 128G. */
void
format_size(char *buf, size_t size, uint64_t bytes)
{
	if (humanize_number(buf, size < 5 ? size : 5, (int64_t)bytes, "",
	    HN_AUTOSCALE, HN_DECIMAL | HN_NOSPACE | HN_B) == -1)
		snprintf(buf, size, "?");
}

/* asctime(3) without its newline, as NetBSD's nvmmctl list. */
void
format_time(char *buf, size_t size, time_t t)
{
	struct tm tm;
	char *nl;

	if (localtime_r(&t, &tm) == NULL || asctime_r(&tm, buf) == NULL) {
		snprintf(buf, size, "?");
		return;
	}
	nl = strchr(buf, '\n');
	if (nl != NULL)
		*nl = '\0';
}

const char *
user_name(uid_t uid, char *buf, size_t size)
{
	struct passwd *pw;

	pw = getpwuid(uid);
	if (pw != NULL)
		return pw->pw_name;
	snprintf(buf, size, "%u", (unsigned)uid);
	return buf;
}

/*
 * A string someone else chose (a command name, a user name) as it may go
 * to a terminal: whatever is not printable is shown as a C escape, so it
 * cannot move the cursor, erase a line or forge one.  What does not fit
 * in buf (TEXT_SAFE_SIZE) is cut.
 */
const char *
text_safe(const char *s, char *buf, size_t size)
{
	size_t len = strnlen(s, (size - 1) / 4);

	if (strvisx(buf, s, len, VIS_CSTYLE | VIS_OCTAL | VIS_TAB |
	    VIS_NL) == -1)
		snprintf(buf, size, "?");
	return buf;
}
