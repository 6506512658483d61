/*
 * Bearer-token authentication for handlers:
 *
 *	const char *uid = auth_user(req);
 *	if (!uid)
 *		return req->status;	(401 already sent)
 *
 * The header must be exactly "Authorization: Bearer <token>".  Missing,
 * malformed, unknown or expired tokens and deleted users all get 401 with
 * code 1206.  Answers come from the pool's session cache for up to 1 s
 * (web/sesscache.h), so an ended session may still pass for that long in
 * other pools; the handler that ends one calls auth_forget* so that its
 * own pool stops at once.
 */
#ifndef WEB_AUTH_H
#define WEB_AUTH_H

struct profile;
struct req;

/* The user id behind the request's token (request lifetime), or NULL after
 * answering 401 (or 503 when the database is unavailable). */
const char *auth_user(struct req *req);
/* The user id behind the request's token, or NULL when there is no valid
 * one (nothing is answered): for public routes that say more to a
 * logged-in person. */
const char *auth_maybe_user(struct req *req);
/* The profile of the request's user (a ROUTE_USER route): kept with the
 * session in the pool's cache for under 1 s, and only while no pool or job
 * of this host noted a change to the user since it was read
 * (base/changes.h; every write request of a person notes one: web/worker.c).
 * ACCOUNT_OK, ACCOUNT_NONE or -1, as account_profile. */
int auth_profile(struct req *req, struct profile *p);
/* Notes that user uid changed, after the change committed: the views of
 * the user cached on this host are read again. */
void auth_changed(const char *uid);
/* Forgets token's session in this pool's cache (after ending it). */
void auth_forget(const char *token);
/* Forgets every session of user uid in this pool's cache (after ending
 * them). */
void auth_forget_user(const char *uid);
/* The token of the request, or NULL when the header is malformed. */
const char *auth_token(struct req *req);
/* The same, answering 401 when there is none: for handlers whose domain
 * call checks the session itself (the game does, inside its statements). */
const char *auth_bearer(struct req *req);

#include "base/banned.h"
#endif
