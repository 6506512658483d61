/*
 * Per-person route limits (see limit.h).  The numbers live in one table;
 * README.md lists them.
 */
#include <hiredis.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "store/kv.h"
#include "web/limit.h"

struct limit_class {
	const char *name;	/* key part */
	int64_t max;		/* requests per window */
	int64_t window_s;
	const char *rule;	/* the same in words */
};

static const struct limit_class classes[LIMIT_COUNT] = {
	[LIMIT_NONE] = { "none", 0, 0, "" },
	[LIMIT_SUPPORT] = { "support", 5, 3600, "at most 5 per hour" },
	[LIMIT_RESET] = { "reset", 10, 3600, "at most 10 per hour" },
	[LIMIT_CHURN] = { "churn", 20, 3600,
	    "at most 20 creates and deletes per hour" },
	[LIMIT_QUIZ] = { "quiz", 30, 60, "at most 30 per minute" },
};

/* INCR, the window's expiry on the first count, and what is left of it:
 * one round trip.  Run twice after a timeout, it counts twice: a request
 * too many, never one too few. */
static const char take_script[] =
    "local n = redis.call('INCR', KEYS[1]) "
    "if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
    "return {n, redis.call('TTL', KEYS[1])}";

const char *
limit_rule(enum route_limit cls)
{
	return (unsigned)cls < LIMIT_COUNT ? classes[cls].rule : "";
}

int
limit_take(struct kv *kv, enum route_limit cls, const char *who,
	   int64_t *retry_after_s)
{
	const struct limit_class *c = &classes[cls];
	char key[256], window[24];
	const char *argv[] = { "EVAL", take_script, "1", key, window };
	struct redisReply *r;
	int ret = LIMIT_OK;

	if (cls == LIMIT_NONE || (unsigned)cls >= LIMIT_COUNT)
		return LIMIT_OK;
	if (kv_key(key, sizeof(key), "limit", c->name, who, NULL) < 0)
		return LIMIT_OK;
	snprintf(window, sizeof(window), "%lld", (long long)c->window_s);
	if (!(r = kv_command(kv, 5, argv)))
		return LIMIT_OK;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->integer > c->max) {
		*retry_after_s = r->element[1]->integer > 0 ?
		    r->element[1]->integer : 1;
		ret = LIMIT_REACHED;
	} else if (r->type != REDIS_REPLY_ARRAY) {
		log_warn("limit '%s': unexpected answer from Redis", c->name);
	}
	freeReplyObject(r);
	return ret;
}
