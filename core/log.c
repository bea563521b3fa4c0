/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>

static bool use_stderr = true;
/* Read by every thread that logs, written by log_init()/log_set_level()
 * possibly while they run: relaxed atomics, because the level is a value
 * of its own (nothing else is published with it, so no ordering is
 * needed between the store in log_set_level() and the load in
 * log_enabled()). */
static enum hvd_log_level max_level = HVD_LOG_INFO;
static bool syslog_open;

static __thread char *capture_buf;
static __thread size_t capture_len;

void log_capture(char *buf, size_t len)
{
	capture_buf = len ? buf : NULL;
	capture_len = len;
	if (capture_buf)
		capture_buf[0] = '\0';
}

__attribute__((format(printf, 2, 0))) static void capture_append(
	const char *prefix, const char *fmt, va_list ap)
{
	char text[512];
	vsnprintf(text, sizeof text, fmt, ap);
	size_t used = strlen(capture_buf);
	if (used + 1 >= capture_len)
		return;
	snprintf(capture_buf + used, capture_len - used, "%s%s%s%s",
		 used ? "; " : "", prefix ? prefix : "", prefix ? ": " : "",
		 text);
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_init(bool to_stderr, enum hvd_log_level level)
{
	use_stderr = to_stderr;
	__atomic_store_n(&max_level, level, __ATOMIC_RELAXED);
	if (!to_stderr && !syslog_open) {
		/* journald picks up the identifier from syslog. */
		openlog("hvisor", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		syslog_open = true;
	}
}

void log_set_level(enum hvd_log_level level)
{
	/* Counterpart: the relaxed load in log_enabled(). */
	__atomic_store_n(&max_level, level, __ATOMIC_RELAXED);
}

bool log_enabled(enum hvd_log_level level)
{
	/* Counterpart: the relaxed stores in log_init()/log_set_level(). */
	return level <= __atomic_load_n(&max_level, __ATOMIC_RELAXED);
}

int log_level_parse(const char *name)
{
	for (unsigned i = 0; i < sizeof level_names / sizeof level_names[0];
	     i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

void log_vmsg(enum hvd_log_level level, const char *prefix, const char *fmt,
	      va_list ap)
{
	if (capture_buf && level == HVD_LOG_ERROR) {
		va_list copy;
		va_copy(copy, ap);
		capture_append(prefix, fmt, copy);
		va_end(copy);
	}
	if (!log_enabled(level))
		return;
	char text[1024];
	vsnprintf(text, sizeof text, fmt, ap);
	if (!use_stderr) {
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO,
					   LOG_DEBUG};
		syslog(prio[level], "%s%s%s", prefix ? prefix : "",
		       prefix ? ": " : "", text);
		return;
	}
	/* One fprintf per line keeps lines from different threads whole. */
	fprintf(stderr, "hvisor: %s: %s%s%s\n", level_names[level],
		prefix ? prefix : "", prefix ? ": " : "", text);
}

void log_msg(enum hvd_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, NULL, fmt, ap);
	va_end(ap);
}
