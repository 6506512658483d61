/*
 * Sessions.  Tokens are 256 random bits in base64url; the table keys on
 * their SHA-256, so a database dump holds no usable token.
 */
#include <stdio.h>
#include <string.h>

#include "base/rand.h"
#include "base/sha256.h"
#include "domain/session.h"
#include "store/db.h"

static void
base64url(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_";
	size_t o = 0;
	uint32_t v;

	for (size_t i = 0; i < n; i += 3) {
		v = (uint32_t)in[i] << 16;
		v |= i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0;
		v |= i + 2 < n ? in[i + 2] : 0;
		out[o++] = a[(v >> 18) & 63];
		out[o++] = a[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = a[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = a[v & 63];
	}
	out[o] = '\0';
}

void
session_token_hash(const char *token, char hex[2 * SHA256_LEN + 1])
{
	sha256_hex(token, strlen(token), hex);
}

int
session_create(struct db *db, const char *user_id, int64_t ttl_s,
	       char token[SESSION_TOKEN_LEN + 1])
{
	unsigned char raw[32];
	char hash[2 * SHA256_LEN + 1], ttl[24];
	const char *params[] = { hash, user_id, ttl };
	PGresult *res;

	rand_bytes(raw, sizeof(raw));
	base64url(raw, sizeof(raw), token);
	session_token_hash(token, hash);
	snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_s);
	res = db_exec(db, "INSERT INTO sessions (token_hash, user_id,"
	    " expires_at) VALUES (decode($1, 'hex'), $2,"
	    " now() + make_interval(secs => $3::int))", 3, params);
	PQclear(res);
	return res ? 0 : -1;
}

int
session_key(const char *token, char hex[2 * SHA256_LEN + 1])
{
	if (strlen(token) != SESSION_TOKEN_LEN)
		return SESSION_NONE;
	session_token_hash(token, hex);
	return SESSION_OK;
}

int
session_user(struct db *db, const char *token, char user_id[USER_ID_LEN + 1])
{
	char hash[2 * SHA256_LEN + 1];
	const char *params[] = { hash };
	PGresult *res;
	int ret;

	if (session_key(token, hash) != SESSION_OK)
		return SESSION_NONE;
	res = db_exec(db, "SELECT " SESSION_USER_SQL("$1"), 1, params);
	if (!res)
		return -1;
	ret = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ? SESSION_OK :
	    SESSION_NONE;
	if (ret == SESSION_OK)
		snprintf(user_id, USER_ID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return ret;
}

int
session_end(struct db *db, const char *token)
{
	char hash[2 * SHA256_LEN + 1];
	const char *params[] = { hash };
	PGresult *res;

	session_token_hash(token, hash);
	res = db_exec(db, "DELETE FROM sessions"
	    " WHERE token_hash = decode($1, 'hex')", 1, params);
	PQclear(res);
	return res ? 0 : -1;
}

int64_t
session_sweep(struct db *db)
{
	PGresult *res = db_exec(db, "WITH s AS (DELETE FROM sessions"
	    " WHERE expires_at <= now() RETURNING 1),"
	    " c AS (DELETE FROM login_codes WHERE expires_at <= now()"
	    " - interval '1 hour' RETURNING 1),"
	    " n AS (DELETE FROM login_code_sends"
	    " WHERE sent_at <= now() - interval '1 day' RETURNING 1)"
	    " SELECT (SELECT count(*) FROM s) + (SELECT count(*) FROM c)"
	    " + (SELECT count(*) FROM n)", 0, NULL);
	int64_t n = res ? db_get_i64(res, 0, 0) : -1;

	PQclear(res);
	return n;
}
