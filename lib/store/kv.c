/*
 * hiredis wrapper: one context per worker, timeouts on connect and on every
 * command, reconnect after any I/O failure.
 */
#include <hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/meter.h"
#include "base/trace.h"
#include "base/xalloc.h"
#include "store/kv.h"

static void
kv_drop(struct kv *kv)
{
	if (kv->ctx)
		redisFree(kv->ctx);
	kv->ctx = NULL;
}

static int
kv_connect(struct kv *kv)
{
	struct timeval tv = { kv->timeout_ms / 1000,
		(kv->timeout_ms % 1000) * 1000 };
	const char *colon = strrchr(kv->addr, ':');

	kv_drop(kv);
	if (kv->addr[0] == '/' || !colon) {
		kv->ctx = redisConnectUnixWithTimeout(kv->addr, tv);
	} else {
		char host[256];

		snprintf(host, sizeof(host), "%.*s",
		    (int)(colon - kv->addr), kv->addr);
		kv->ctx = redisConnectWithTimeout(host, (int)strtol(colon + 1,
		    NULL, 10), tv);
	}
	if (!kv->ctx || kv->ctx->err) {
		log_err("connect to redis '%s': %s", kv->addr,
		    kv->ctx ? kv->ctx->errstr : "out of memory");
		kv_drop(kv);
		return -1;
	}
	redisSetTimeout(kv->ctx, tv);
	return 0;
}

int
kv_open(struct kv *kv, const char *addr, int64_t timeout_ms)
{
	memset(kv, 0, sizeof(*kv));
	kv->addr = xstrdup(addr);
	kv->timeout_ms = timeout_ms;
	return kv_connect(kv);
}

void
kv_close(struct kv *kv)
{
	kv_drop(kv);
	free(kv->addr);
	kv->addr = NULL;
}

static struct redisReply *
kv_run(struct kv *kv, int argc, const char **argv)
{
	redisReply *r = NULL;

	/* A context Redis dropped (a restart, say) is only noticed on use:
	 * reconnect and try once more. */
	for (int attempt = 0; attempt < 2 && !r; attempt++) {
		if (!kv->ctx && kv_connect(kv) < 0)
			return NULL;
		r = redisCommandArgv(kv->ctx, argc, argv, NULL);
		if (!r) {
			log_warn("redis '%s': %s", argv[0], kv->ctx->errstr);
			kv_drop(kv);
		}
	}
	if (!r)
		log_err("redis '%s': no answer", argv[0]);
	else if (r->type == REDIS_REPLY_ERROR)
		log_warn("redis '%s': %s", argv[0], r->str);
	return r;
}

/* The command's name for metrics and spans: its letters, upper case. */
static void
command_name(const char *cmd, char out[24])
{
	size_t n = 0;

	for (; *cmd && n + 1 < 24; cmd++)
		if ((*cmd >= 'A' && *cmd <= 'Z') || (*cmd >= 'a' && *cmd <= 'z'))
			out[n++] = (char)(*cmd >= 'a' ? *cmd - 'a' + 'A' : *cmd);
	out[n] = '\0';
}

struct redisReply *
kv_command(struct kv *kv, int argc, const char **argv)
{
	char name[24];
	int span;
	int64_t t0 = clock_mono_us();
	redisReply *r;

	command_name(argv[0], name);
	span = trace_span(name, TRACE_CLIENT);
	r = kv_run(kv, argc, argv);
	meter_op(METER_REDIS, name, r && r->type != REDIS_REPLY_ERROR,
	    clock_mono_us() - t0);
	if (span >= 0) {
		trace_str(span, "db.system", "redis");
		if (!r || r->type == REDIS_REPLY_ERROR)
			trace_fail(span, r ? "error reply" : "no answer");
		trace_span_end(span);
	}
	return r;
}

bool
kv_ping(struct kv *kv)
{
	const char *argv[] = { "PING" };
	redisReply *r = kv_command(kv, 1, argv);
	bool ok = r && r->type == REDIS_REPLY_STATUS &&
	    strcmp(r->str, "PONG") == 0;

	freeReplyObject(r);
	return ok;
}

int
kv_key(char *out, size_t size, ...)
{
	struct buf b = BUF_INIT(size ? size - 1 : 0);
	const char *part;
	va_list ap;
	int ret = size ? buf_adds(&b, "dbtree:v1") : -1;

	va_start(ap, size);
	while (ret == 0 && (part = va_arg(ap, const char *)))
		ret = buf_addf(&b, ":%s", part);
	va_end(ap);
	if (ret == 0)
		snprintf(out, size, "%s", buf_cstr(&b));
	buf_release(&b);
	return ret;
}
