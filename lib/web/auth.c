/*
 * Bearer tokens -> user ids, through the pool's session cache
 * (web/sesscache.h: trusted for under 1 s) and domain/session.
 */
#include <string.h>

#include "base/changes.h"
#include "base/clock.h"
#include "base/hash.h"
#include "base/meter.h"
#include "base/pause.h"
#include "domain/account.h"
#include "domain/session.h"
#include "web/app.h"
#include "web/auth.h"
#include "web/req.h"
#include "web/sesscache.h"

_Static_assert(USER_ID_LEN == SESSCACHE_UID_LEN, "a user id fits a slot");
_Static_assert(HASH_SHA256_HEX == SESSCACHE_KEY_LEN + 1, "a key fits a slot");
_Static_assert(sizeof(((struct req *)0)->token_key) == HASH_SHA256_HEX,
    "a request holds its token's key");
_Static_assert(sizeof(struct profile) <= SESSCACHE_VIEW_MAX,
    "a profile fits a session's view");

const char *
auth_token(struct req *req)
{
	const char *h = req_header(req, "AUTHORIZATION");
	const char *token;

	if (!h || strncmp(h, "Bearer ", 7) != 0)
		return NULL;
	token = h + 7;
	if (!*token || strchr(token, ' '))
		return NULL;
	return token;
}

const char *
auth_bearer(struct req *req)
{
	const char *token = auth_token(req);

	if (!token)
		resp_error(req, ERR_UNAUTHORIZED, NULL);
	return token;
}

/* The live user behind token: from the pool's session cache, else from
 * PostgreSQL (and cached).  SESSION_OK with uid filled, SESSION_NONE or
 * -1. */
static int
session_of(struct req *req, const char *token, char uid[USER_ID_LEN + 1])
{
	char *key = req->token_key;
	int64_t started, expires;
	int r;

	if (session_key(token, key) != SESSION_OK)
		return SESSION_NONE;
	if (sesscache_get(key, uid)) {
		meter_count(METER_CACHE_HIT, "session");
		return SESSION_OK;
	}
	meter_count(METER_CACHE_MISS, "session");
	started = clock_mono_ms();
	r = session_user(&req->app->db, key, uid, &expires);
	if (r == SESSION_OK)
		sesscache_put(key, uid, expires, started);
	return r;
}

const char *
auth_user(struct req *req)
{
	const char *token = auth_bearer(req);
	char uid[USER_ID_LEN + 1];
	int r;

	if (!token)
		return NULL;
	r = session_of(req, token, uid);
	if (r == SESSION_OK)
		return req_strdup(req, uid);
	resp_error(req, r < 0 ? ERR_UNAVAILABLE : ERR_UNAUTHORIZED, NULL);
	return NULL;
}

const char *
auth_maybe_user(struct req *req)
{
	const char *token = auth_token(req);
	char uid[USER_ID_LEN + 1];

	if (!token || session_of(req, token, uid) != SESSION_OK)
		return NULL;
	return req_strdup(req, uid);
}

int
auth_profile(struct req *req, struct profile *p)
{
	const char *key = req->token_key;	/* auth_user's */
	uint64_t stamp;
	int64_t started;
	bool cacheable = key[0] && changes_stamp(req->user_id, &stamp);
	int r;

	if (cacheable && sesscache_view(key, stamp, p, sizeof(*p))) {
		meter_count(METER_CACHE_HIT, "profile");
		return ACCOUNT_OK;
	}
	meter_count(METER_CACHE_MISS, "profile");
	started = clock_mono_ms();
	pause_point("profile.read");	/* stamped, not read yet */
	r = account_profile(&req->app->db, req->user_id, p);
	pause_point("profile.store");	/* read, not stored yet */
	if (r == ACCOUNT_OK && cacheable)
		sesscache_put_view(key, p, sizeof(*p), stamp, started);
	return r;
}

void
auth_changed(const char *uid)
{
	changes_note(uid);
}

void
auth_forget(const char *token)
{
	char key[HASH_SHA256_HEX];

	if (session_key(token, key) == SESSION_OK)
		sesscache_drop(key);
}

void
auth_forget_user(const char *uid)
{
	sesscache_drop_user(uid);
}
