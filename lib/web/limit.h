/*
 * Per-person limits on the routes that cost something (mail, driver work,
 * account churn), declared in each route's row (web/route.h) and enforced
 * by the dispatcher before the handler runs.  A fixed window per class and
 * person in Redis: INCR on "dbtree:v1:limit:<class>:<who>", which expires
 * with its window.  nginx limits the same routes per client address
 * (nginx/locations.conf).
 *
 * Redis unreachable: the request goes through (logged).  A limit is a
 * brake, not a reason to take the product down; the costly actions have
 * their own guards (quota, balance, one reset at a time).
 */
#ifndef WEB_LIMIT_H
#define WEB_LIMIT_H

#include <stdint.h>

struct kv;

enum route_limit {
	LIMIT_NONE = 0,
	LIMIT_SUPPORT,		/* support inquiries: two mails each */
	LIMIT_RESET,		/* credentials resets */
	LIMIT_CHURN,		/* instance creates and deletes */
	LIMIT_QUIZ,		/* quiz starts */
};
#define LIMIT_COUNT (LIMIT_QUIZ + 1)

enum limit_result {
	LIMIT_OK = 0,
	LIMIT_REACHED,		/* *retry_after_s says when the window ends */
};

/* Counts one request of class cls by who (a user id or a token).
 * LIMIT_OK, LIMIT_REACHED with *retry_after_s (>= 1), or LIMIT_OK when
 * Redis could not be asked (logged). */
int limit_take(struct kv *kv, enum route_limit cls, const char *who,
	       int64_t *retry_after_s);
/* "at most 5 per hour": the class's rule in words, for error messages. */
const char *limit_rule(enum route_limit cls);

#include "base/banned.h"
#endif
