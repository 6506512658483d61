/*
 * One line per event on stderr:
 * "<3>tree[812] req=7f3a... trace=7f3a... what failed: why".
 * The <N> prefix is the sd-daemon priority journald understands.  The
 * request id is set by the worker at accept time, so domain code logs
 * without passing the request around.  Never log secrets, tokens, bodies
 * or personal data.
 */
#ifndef BASE_LOG_H
#define BASE_LOG_H

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARN = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* Messages above level are dropped (default LOG_LEVEL_INFO). */
void log_set_level(enum log_level level);
/* Parses "err|warn|info|debug"; -1 on anything else. */
int log_level_parse(const char *name, enum log_level *out);
/* Tag every following line with this id (copied; NULL or "" clears). */
void log_set_reqid(const char *id);
const char *log_reqid(void);
/* ... and with this trace id (base/trace.h; copied; NULL or "" clears). */
void log_set_trace(const char *id);
/* Names the program in each line, e.g. "public[1234]" (copied). */
void log_set_ident(const char *ident);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Log at err level and evaluate to -1: return fail("open '%s'", p); */
#define fail(...)	(log_err(__VA_ARGS__), -1)

#include "base/banned.h"
#endif
