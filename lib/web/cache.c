/* The Redis answer cache: keys dbtree:v1:cache:<name>, values JSON text. */
#include <hiredis.h>
#include <stdio.h>

#include "base/meter.h"
#include "store/kv.h"
#include "web/cache.h"
#include "web/req.h"

int
cache_answer(struct req *req, struct kv *kv, const char *name)
{
	char key[128];
	const char *argv[] = { "GET", key };
	redisReply *r;
	int status = 0;

	kv_key(key, sizeof(key), "cache", name, NULL);
	r = kv_command(kv, 2, argv);
	if (r && r->type == REDIS_REPLY_STRING)
		status = resp_text(req, 200, "application/json", r->str,
		    r->len);
	meter_count(status ? METER_CACHE_HIT : METER_CACHE_MISS, name);
	freeReplyObject(r);
	return status;
}

void
cache_put(struct kv *kv, const char *name, const char *json, int64_t ttl_ms)
{
	char key[128], ttl[24];
	const char *argv[] = { "SET", key, json, "PX", ttl };

	if (ttl_ms <= 0)
		return;
	kv_key(key, sizeof(key), "cache", name, NULL);
	snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_ms);
	freeReplyObject(kv_command(kv, 5, argv));
}
