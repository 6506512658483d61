/*
 * Token -> user id answers shared by the workers of a pool, so that an
 * authenticated request does not ask PostgreSQL who its token belongs to
 * every time.  Anonymous shared memory the master maps before it forks
 * (like web/shcache.h); keyed by the token's SHA-256 (hex, the form the
 * sessions table stores), never by the token itself.
 *
 * Revocation: an answer is trusted for less than SESSCACHE_TTL_MS after the
 * lookup that produced it started, and never past the session's expiry.
 * So logout, account deletion and expiry, done by any pool on any host,
 * are seen by every worker of every pool within 1 s, with no messages
 * between pools or hosts and no other round trip on the hot path; each
 * pool asks PostgreSQL about a busy token about once a second.  (A Redis
 * revocation stamp checked on each request would cost a round trip of the
 * same order as the PostgreSQL lookup it saves.)  The pool that ends a
 * session also drops its answer at once.  A lookup that started before a
 * drop may store its answer after it: it is still bounded by the 1 s.
 *
 * The table is fixed (SESSCACHE_SLOTS entries, about 0.5 MiB a pool) and
 * set-associative in pairs: a token goes to one of two slots chosen by its
 * hash, replacing a stale entry or the older one.  A collision only costs
 * a lookup; keys are compared in full, so one token never gets another's
 * user.  Each slot has its own seqlock: a reader that sees a write in
 * progress misses, and a writer that finds the slot busy does not store.
 *
 * A session may also carry a view of its user (the profile GET /api/user
 * answers with: web/auth.h), stored with the stamp of base/changes.h the
 * reader took before it read the database.  The view is trusted under the
 * same 1 s and only while the user's stamp is unchanged: a change any pool
 * or job of this host notes after its commit makes every copy miss at once.
 */
#ifndef WEB_SESSCACHE_H
#define WEB_SESSCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSCACHE_SLOTS 4096	/* a power of two */
#define SESSCACHE_TTL_MS 1000
#define SESSCACHE_KEY_LEN 64	/* hex SHA-256, without its NUL */
#define SESSCACHE_UID_LEN 36	/* a uuid's text */
#define SESSCACHE_VIEW_MAX 512	/* bytes of a session's view */

/* Master, before forking: maps the table (on failure every get misses and
 * every put is ignored). */
void sesscache_setup(void);
/* Forgets the mapping (tests only; the pool keeps it for its lifetime). */
void sesscache_teardown(void);

/* The user id (SESSCACHE_UID_LEN characters and a NUL) of the session key
 * hashes to, if a lookup that started less than SESSCACHE_TTL_MS ago found
 * it live and it has not expired; true on a hit. */
bool sesscache_get(const char *key, char uid[SESSCACHE_UID_LEN + 1]);
/* Stores what a lookup begun at started_ms (clock_mono_ms(), read before
 * the query was sent) found: key's session belongs to uid and expires at
 * expires_ms (epoch ms).  A uid of another length is not stored. */
void sesscache_put(const char *key, const char *uid, int64_t expires_ms,
		   int64_t started_ms);
/* Copies into view (len bytes) the view stored with key's session when
 * it is fresh, was stored with len bytes and with stamp; true on a hit. */
bool sesscache_view(const char *key, uint64_t stamp, void *view, size_t len);
/* Stores view (len <= SESSCACHE_VIEW_MAX bytes) with key's session, if the
 * table holds that session: what a read begun at started_ms with stamp
 * taken before it found. */
void sesscache_put_view(const char *key, const void *view, size_t len,
			uint64_t stamp, int64_t started_ms);
/* Forgets key's session in this pool at once. */
void sesscache_drop(const char *key);
/* Forgets every session of uid in this pool at once. */
void sesscache_drop_user(const char *uid);

#include "base/banned.h"
#endif
