/*
 * Sessions.  Tokens are 256 random bits in base64url; the table keys on
 * their SHA-256, so a database dump holds no usable token.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/b64.h"
#include "base/clock.h"
#include "base/hash.h"
#include "base/rand.h"
#include "domain/session.h"
#include "store/db.h"

_Static_assert(B64URL_LEN(32) == SESSION_TOKEN_LEN, "32 bytes make a token");

void
session_token_hash(const char *token, char hex[HASH_SHA256_HEX])
{
	hash_sha256_hex(token, strlen(token), hex);
}

int
session_create(struct db *db, const char *user_id, int64_t ttl_s,
	       char token[SESSION_TOKEN_LEN + 1])
{
	unsigned char raw[32];
	char hash[HASH_SHA256_HEX], ttl[24];
	const char *params[] = { hash, user_id, ttl };
	PGresult *res;

	rand_bytes(raw, sizeof(raw));
	b64url(raw, sizeof(raw), token);
	session_token_hash(token, hash);
	snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_s);
	res = db_exec(db, "INSERT INTO sessions (token_hash, user_id,"
	    " expires_at) VALUES (decode($1, 'hex'), $2,"
	    " now() + make_interval(secs => $3::int))", 3, params);
	PQclear(res);
	return res ? 0 : -1;
}

int
session_key(const char *token, char hex[HASH_SHA256_HEX])
{
	if (strlen(token) != SESSION_TOKEN_LEN)
		return SESSION_NONE;
	session_token_hash(token, hex);
	return SESSION_OK;
}

int
session_user(struct db *db, const char *key, char user_id[USER_ID_LEN + 1],
	     int64_t *expires_ms)
{
	enum { COL_USER, COL_EXPIRES };
	const char *params[] = { key };
	PGresult *res;
	int ret;

	res = db_exec(db, "SELECT s.user_id,"
	    " (date_part('epoch', s.expires_at) * 1000)::int8"
	    SESSION_LIVE_SQL("$1"), 1, params);
	if (!res)
		return -1;
	ret = PQntuples(res) == 1 ? SESSION_OK : SESSION_NONE;
	if (ret == SESSION_OK) {
		snprintf(user_id, USER_ID_LEN + 1, "%s",
		    PQgetvalue(res, 0, COL_USER));
		*expires_ms = db_get_i64(res, 0, COL_EXPIRES);
	}
	PQclear(res);
	return ret;
}

int
session_end(struct db *db, const char *token)
{
	char hash[HASH_SHA256_HEX];
	const char *params[] = { hash };
	PGresult *res;

	session_token_hash(token, hash);
	res = db_exec(db, "DELETE FROM sessions"
	    " WHERE token_hash = decode($1, 'hex')", 1, params);
	PQclear(res);
	return res ? 0 : -1;
}

/* Rows each statement of a sweep batch removes at most: a backlog (jobs
 * stopped for days) goes in short statements, each far from the statement
 * timeout, instead of one that might never finish. */
#define SESSION_SWEEP_BATCH 10000
#define SESSION_SWEEP_LIMIT " LIMIT " DB_SQL_INT(SESSION_SWEEP_BATCH)
#define SESSION_EXPIRED "expires_at <= now()"
#define CODE_STALE "expires_at <= now() - interval '1 hour'"
#define SEND_STALE "sent_at <= now() - interval '1 day'"

/* One batch of each kind: the rows removed in *n, and whether any kind
 * filled its batch (more may be left) in *more; 0 or -1. */
static int
sweep_batch(struct db *db, int64_t *n, bool *more)
{
	PGresult *res;

	if (db_begin_batch(db) < 0)
		return -1;
	res = db_exec(db, "WITH s AS (DELETE FROM sessions"
	    " WHERE token_hash IN (SELECT token_hash FROM sessions"
	    "  WHERE " SESSION_EXPIRED SESSION_SWEEP_LIMIT ")"
	    " AND " SESSION_EXPIRED " RETURNING 1),"
	    " c AS (DELETE FROM login_codes WHERE email IN (SELECT email"
	    "  FROM login_codes WHERE " CODE_STALE SESSION_SWEEP_LIMIT ")"
	    " AND " CODE_STALE " RETURNING 1),"
	    " n AS (DELETE FROM login_code_sends WHERE ctid IN (SELECT ctid"
	    "  FROM login_code_sends WHERE " SEND_STALE SESSION_SWEEP_LIMIT ")"
	    " AND " SEND_STALE " RETURNING 1)"
	    " SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM c),"
	    " (SELECT count(*) FROM n)", 0, NULL);
	if (!res || db_commit(db) < 0) {
		db_rollback(db);
		PQclear(res);
		return -1;
	}
	*n = 0;
	*more = false;
	for (int i = 0; i < 3; i++) {
		int64_t k = db_get_i64(res, 0, i);

		*n += k;
		*more = *more || k == SESSION_SWEEP_BATCH;
	}
	PQclear(res);
	return 0;
}

int64_t
session_sweep(struct db *db, int64_t deadline_ms)
{
	int64_t n, total = 0;
	bool more;

	do {
		if (sweep_batch(db, &n, &more) < 0)
			return -1;
		total += n;
	} while (more && clock_mono_ms() < deadline_ms);
	return total;
}
