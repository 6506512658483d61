/*
 * Short-lived shared answers in Redis for public read routes: every worker
 * of every host sees the same copy.  A
 * Redis failure is a miss (the caller computes the answer itself).
 */
#ifndef WEB_CACHE_H
#define WEB_CACHE_H

#include <stdint.h>

struct kv;
struct req;

/* Answers req with the cached JSON under name and returns its status, or
 * returns 0 on a miss (nothing sent).  Counted as dbtree_cache_hits_total
 * / _misses_total{cache=name}: name is a literal. */
int cache_answer(struct req *req, struct kv *kv, const char *name);
/* Stores json under name for ttl_ms (ignored when ttl_ms is 0). */
void cache_put(struct kv *kv, const char *name, const char *json,
	       int64_t ttl_ms);

#include "base/banned.h"
#endif
