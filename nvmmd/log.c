/*
 * Logging: syslog for a daemon, stderr in the foreground.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "nvmmd.h"

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

static void
log_vwrite(int prio, const char *fmt, va_list ap)
{
	if (log_to_stderr) {
		fputs("nvmmd: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(prio, fmt, ap);
	}
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
