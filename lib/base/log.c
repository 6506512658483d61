/*
 * Logging to stderr, one write(2) per line so lines from several workers
 * sharing one stderr never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

static enum log_level max_level = LOG_LEVEL_INFO;
static char reqid[40];
static char traceid[40];
static char ident[48];

void
log_set_level(enum log_level level)
{
	max_level = level;
}

int
log_level_parse(const char *name, enum log_level *out)
{
	static const struct {
		const char *name;
		enum log_level level;
	} names[] = {
		{ "err", LOG_LEVEL_ERR },	{ "warn", LOG_LEVEL_WARN },
		{ "info", LOG_LEVEL_INFO },	{ "debug", LOG_LEVEL_DEBUG },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i].name) == 0) {
			*out = names[i].level;
			return 0;
		}
	}
	return -1;
}

void
log_set_reqid(const char *id)
{
	snprintf(reqid, sizeof(reqid), "%s", id ? id : "");
}

void
log_set_trace(const char *id)
{
	snprintf(traceid, sizeof(traceid), "%s", id ? id : "");
}

const char *
log_reqid(void)
{
	return reqid;
}

void
log_set_ident(const char *name)
{
	snprintf(ident, sizeof(ident), "%s", name ? name : "");
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	size_t n;
	int k;
	va_list ap;

	if (level > max_level)
		return;
	k = snprintf(line, sizeof(line), "<%d>%s%s%s%s%s%s%s%s", (int)level,
	    ident, ident[0] ? " " : "", reqid[0] ? "req=" : "", reqid,
	    reqid[0] ? " " : "", traceid[0] ? "trace=" : "", traceid,
	    traceid[0] ? " " : "");
	n = k < 0 ? 0 : (size_t)k;
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n += k < 0 ? 0 : (size_t)k;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}
