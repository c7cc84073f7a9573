/*
 * Logging: syslog for a daemon, stderr in the foreground.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#define LIBBSD_NETBSD_VIS
#include <bsd/vis.h>

#include "nvmmd.h"

/* The longest message logged; the rest is cut. */
#define LOG_MSG_MAX	512

static bool log_to_stderr;
static bool log_debug_on;

void
log_init(bool foreground, bool debug)
{
	log_to_stderr = foreground;
	log_debug_on = debug;
	if (!foreground)
		openlog("nvmmd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/*
 * Messages carry what clients chose (names, their bytes in errors), and
 * an administrator reads them on a terminal: what is not printable is
 * written as a C escape, so that no line of the log can be forged.
 */
static void
log_vwrite(int prio, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX], safe[4 * LOG_MSG_MAX + 1];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (strvisx(safe, msg, (size_t)n, VIS_CSTYLE | VIS_OCTAL | VIS_TAB |
	    VIS_NL) == -1)
		return;
	if (log_to_stderr)
		fprintf(stderr, "nvmmd: %s\n", safe);
	else
		syslog(prio, "%s", safe);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap);
	va_end(ap);
}
