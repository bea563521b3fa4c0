/* SPDX-License-Identifier: MIT */
/* Daemon logging: stderr (terminal or --foreground) or syslog ("hvisor"). */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "hvd/plugin.h"

/* to_stderr: true for a terminal/--foreground, false for syslog. Once
 * per process, before other threads log (the destination is not shared
 * safely); log_set_level() may change the level at any time. */
void log_init(bool to_stderr, enum hvd_log_level max_level);
void log_set_level(enum hvd_log_level max_level);
bool log_enabled(enum hvd_log_level level);
/* Parses "error|warn|info|debug"; returns -1 for anything else. */
int log_level_parse(const char *name);
void log_msg(enum hvd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum hvd_log_level level, const char *prefix, const char *fmt,
	      va_list ap) __attribute__((format(printf, 3, 0)));

/* While set on the calling thread, the errors logged by that thread are
 * also collected into buf, "; "-separated (the control socket returns
 * them to its caller). NULL stops collecting. */
void log_capture(char *buf, size_t len);

#define log_error(...) log_msg(HVD_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(HVD_LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(HVD_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                       \
	do {                                                 \
		if (log_enabled(HVD_LOG_DEBUG))              \
			log_msg(HVD_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
