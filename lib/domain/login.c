/*
 * Login by e-mail code.  Each address has one login_codes row, locked FOR
 * UPDATE by every send and verify of that address: that row is what makes
 * the send limits and "one session per code" hold under concurrency.
 */
#include <json.h>
#include <stdio.h>
#include <string.h>

#include "base/hash.h"
#include "base/log.h"
#include "base/rand.h"
#include "domain/email.h"
#include "domain/ledger.h"
#include "domain/login.h"
#include "domain/outbox.h"
#include "store/db.h"

static void
new_code(char code[LOGIN_CODE_LEN + 1], char hash[HASH_SHA256_HEX])
{
	snprintf(code, LOGIN_CODE_LEN + 1, "%06u",
	    (unsigned)rand_below(1000000));
	hash_sha256_hex(code, LOGIN_CODE_LEN, hash);
}

static int
lock_address(struct db *db, const char *email)
{
	const char *params[] = { email };
	PGresult *res = db_exec(db, "INSERT INTO login_codes (email)"
	    " VALUES ($1) ON CONFLICT (email) DO NOTHING", 1, params);

	PQclear(res);
	if (!res)
		return -1;
	res = db_exec(db, "SELECT 1 FROM login_codes WHERE email = $1"
	    " FOR UPDATE", 1, params);
	PQclear(res);
	return res ? 0 : -1;
}

/* LOGIN_SENT when another send is allowed now, else the limit and the
 * whole seconds until it is. */
static int
check_limits(struct db *db, const struct login_policy *p, const char *email,
	     int64_t *retry_after)
{
	char window[24], limit[24], resend[24];
	const char *params[] = { email, window, limit, resend };
	PGresult *res;
	int ret = LOGIN_SENT;

	snprintf(window, sizeof(window), "%lld", (long long)p->send_window_s);
	snprintf(limit, sizeof(limit), "%lld", (long long)p->send_limit);
	snprintf(resend, sizeof(resend), "%lld", (long long)p->resend_s);
	res = db_exec(db, "SELECT count(*) >= $3::int,"
	    " ceil(extract(epoch FROM min(sent_at)"
	    "  + make_interval(secs => $2::int) - now()))::int,"
	    " coalesce(max(sent_at) > now() - make_interval(secs => $4::int),"
	    "  false),"
	    " ceil(extract(epoch FROM max(sent_at)"
	    "  + make_interval(secs => $4::int) - now()))::int"
	    " FROM login_code_sends WHERE email = $1"
	    " AND sent_at > now() - make_interval(secs => $2::int)", 4, params);
	if (!res)
		return -1;
	if (PQgetvalue(res, 0, 0)[0] == 't') {
		ret = LOGIN_TOO_MANY;
		*retry_after = db_get_i64(res, 0, 1);
	} else if (PQgetvalue(res, 0, 2)[0] == 't') {
		ret = LOGIN_TOO_EARLY;
		*retry_after = db_get_i64(res, 0, 3);
	}
	if (ret != LOGIN_SENT && *retry_after < 1)
		*retry_after = 1;
	PQclear(res);
	return ret;
}

static int
store_code(struct db *db, const struct login_policy *p, const char *email,
	   const char *hash)
{
	char ttl[24];
	const char *params[] = { email, hash, ttl };
	PGresult *res;

	snprintf(ttl, sizeof(ttl), "%lld", (long long)p->code_ttl_s);
	res = db_exec(db, "WITH c AS (UPDATE login_codes SET"
	    " code_hash = decode($2, 'hex'), wrong_tries = 0, used_at = NULL,"
	    " created_at = now(),"
	    " expires_at = now() + make_interval(secs => $3::int)"
	    " WHERE email = $1 RETURNING 1)"
	    " INSERT INTO login_code_sends (email) SELECT $1 FROM c", 3, params);
	PQclear(res);
	return res ? 0 : -1;
}

static int
is_new_address(struct db *db, const char *email, bool *is_new)
{
	const char *params[] = { email };
	PGresult *res = db_exec(db, "SELECT 1 FROM users WHERE email = $1"
	    " AND NOT is_deleted", 1, params);

	if (!res)
		return -1;
	*is_new = PQntuples(res) == 0;
	PQclear(res);
	return 0;
}

int
login_send(struct db *db, const struct login_policy *p, const char *email,
	   enum lang lang, struct login_send *out)
{
	char hash[HASH_SHA256_HEX], params[64];
	int ret;

	memset(out, 0, sizeof(*out));
	if (db_begin(db) < 0)
		return -1;
	ret = lock_address(db, email);
	if (ret == 0)
		ret = check_limits(db, p, email, &out->retry_after);
	if (ret != LOGIN_SENT)
		goto out;
	new_code(out->code, hash);
	if (store_code(db, p, email, hash) < 0 ||
	    is_new_address(db, email, &out->is_new_user) < 0) {
		ret = -1;
		goto out;
	}
	snprintf(params, sizeof(params), "{\"isNewUser\":%s,"
	    "\"ttlMinutes\":%lld}", out->is_new_user ? "true" : "false",
	    (long long)(p->code_ttl_s + 59) / 60);
	if (outbox_add_in(db, "login_code", email, params, lang,
	    &out->outbox_id) < 0 ||
	    db_commit(db) < 0)
		ret = -1;
out:
	if (ret != LOGIN_SENT)
		db_rollback(db);
	return ret;
}

struct code_state {
	bool found, match, expired, used, void_;
	int64_t wrong_tries;
};

static int
read_code(struct db *db, const char *email, const char *hash,
	  struct code_state *st)
{
	const char *params[] = { email, hash };
	PGresult *res = db_exec(db, "SELECT coalesce(code_hash ="
	    " decode($2, 'hex'), false), coalesce(expires_at <= now(), true),"
	    " used_at IS NOT NULL, code_hash IS NULL, wrong_tries"
	    " FROM login_codes WHERE email = $1 FOR UPDATE", 2, params);

	if (!res)
		return -1;
	memset(st, 0, sizeof(*st));
	if (PQntuples(res) == 1) {
		st->found = true;
		st->match = PQgetvalue(res, 0, 0)[0] == 't';
		st->expired = PQgetvalue(res, 0, 1)[0] == 't';
		st->used = PQgetvalue(res, 0, 2)[0] == 't';
		st->void_ = PQgetvalue(res, 0, 3)[0] == 't';
		st->wrong_tries = db_get_i64(res, 0, 4);
	}
	PQclear(res);
	return 0;
}

/* A wrong code: count it, void the code at the limit (committed, so the
 * count survives).  Returns LOGIN_WRONG or LOGIN_VOID, or -1. */
static int
count_wrong(struct db *db, const struct login_policy *p, const char *email,
	    const struct code_state *st, struct login_verify *out)
{
	char max[24];
	const char *params[] = { email, max };
	PGresult *res;

	snprintf(max, sizeof(max), "%lld", (long long)p->max_tries);
	res = db_exec(db, "UPDATE login_codes SET wrong_tries = wrong_tries"
	    " + 1, code_hash = CASE WHEN wrong_tries + 1 >= $2::int THEN NULL"
	    " ELSE code_hash END WHERE email = $1", 2, params);
	PQclear(res);
	if (!res || db_commit(db) < 0)
		return -1;
	out->tries_left = p->max_tries - st->wrong_tries - 1;
	return out->tries_left > 0 ? LOGIN_WRONG : LOGIN_VOID;
}

/* lang NULL keeps an account's language (a new one starts in English). */
static int
find_or_create_user(struct db *db, const char *email, const char *lang,
		    struct login_verify *out)
{
	const char *params[] = { email, lang };
	PGresult *res = db_exec(db, "INSERT INTO users (email, lang)"
	    " VALUES ($1, coalesce($2::ui_lang, 'en'))"
	    " ON CONFLICT (email) WHERE NOT is_deleted DO NOTHING"
	    " RETURNING id", 2, params);

	if (!res)
		return -1;
	out->is_new_user = PQntuples(res) == 1;
	if (!out->is_new_user) {
		PQclear(res);
		res = db_exec(db, "UPDATE users SET lang = coalesce($2::ui_lang,"
		    " lang) WHERE email = $1 AND NOT is_deleted RETURNING id", 2,
		    params);
		if (!res || PQntuples(res) != 1) {
			PQclear(res);
			return fail("login: no account for a verified address");
		}
	}
	snprintf(out->user_id, sizeof(out->user_id), "%s",
	    PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

enum bonus_claim {
	BONUS_CLAIMED = 0,
	BONUS_PAID_BEFORE = 1,	/* this mailbox, or in a row from before
				 * mailbox keys this very address */
};

/* Records the bonus of email's mailbox for the user: BONUS_CLAIMED,
 * BONUS_PAID_BEFORE or -1. */
static int
claim_bonus(struct db *db, const char *email, const char *user_id)
{
	char key[EMAIL_MAX + 1], key_hash[HASH_SHA256_HEX];
	char addr_hash[HASH_SHA256_HEX];
	const char *params[] = { key_hash, user_id, addr_hash };
	PGresult *res;
	int ret;

	if (email_mailbox(email, key, sizeof(key)) < 0)
		return fail("login: no mailbox key for user '%s'", user_id);
	hash_sha256_hex(key, strlen(key), key_hash);
	hash_sha256_hex(email, strlen(email), addr_hash);
	res = db_exec(db, "INSERT INTO welcome_bonuses (email_hash, user_id)"
	    " SELECT decode($1, 'hex'), $2::uuid WHERE NOT EXISTS"
	    " (SELECT 1 FROM welcome_bonuses WHERE email_hash = decode($3, 'hex'))"
	    " ON CONFLICT DO NOTHING RETURNING 1", 3, params);
	if (!res)
		return -1;
	ret = PQntuples(res) == 1 ? BONUS_CLAIMED : BONUS_PAID_BEFORE;
	PQclear(res);
	return ret;
}

/* Pays the welcome bonus unless this mailbox was ever paid one. */
static int
welcome_bonus(struct db *db, const struct login_policy *p, const char *email,
	      struct login_verify *out)
{
	struct ledger_move m = { .user_id = out->user_id,
		.action = "welcome_bonus", .amount = p->welcome_bonus,
		.cap = p->lemon_cap, .clip = true, .note = "sign-up bonus" };
	int r = claim_bonus(db, email, out->user_id);

	if (r < 0)
		return -1;
	if (r == BONUS_PAID_BEFORE || p->welcome_bonus <= 0)
		return 0;
	if (ledger_apply(db, &m) != LEDGER_OK)
		return fail("login: welcome bonus for '%s' failed",
		    out->user_id);
	return outbox_add(db, "welcome", email, "{}",
	    &out->welcome_outbox_id);
}

static int
log_in(struct db *db, const struct login_policy *p, const char *email,
       const char *lang, struct login_verify *out)
{
	const char *params[] = { email };
	PGresult *res = db_exec(db, "UPDATE login_codes SET used_at = now()"
	    " WHERE email = $1", 1, params);

	PQclear(res);
	if (!res || find_or_create_user(db, email, lang, out) < 0 ||
	    welcome_bonus(db, p, email, out) < 0 ||
	    session_create(db, out->user_id, p->session_ttl_s,
	    out->token) < 0 || db_commit(db) < 0)
		return -1;
	return LOGIN_OK;
}

int
login_verify(struct db *db, const struct login_policy *p, const char *email,
	     const char *code, const enum lang *lang, struct login_verify *out)
{
	char hash[HASH_SHA256_HEX];
	struct code_state st;
	int ret;

	memset(out, 0, sizeof(*out));
	hash_sha256_hex(code, strlen(code), hash);
	if (db_begin(db) < 0)
		return -1;
	if (read_code(db, email, hash, &st) < 0)
		ret = -1;
	else if (!st.found || (st.used && !st.match))
		ret = LOGIN_NO_CODE;
	else if (st.used)
		ret = LOGIN_USED;
	else if (st.void_)
		ret = LOGIN_VOID;
	else if (st.expired)
		ret = LOGIN_EXPIRED;
	else if (!st.match)
		ret = count_wrong(db, p, email, &st, out);
	else
		ret = log_in(db, p, email, lang ? lang_name(*lang) : NULL, out);
	db_rollback(db);	/* no-op after a commit */
	return ret;
}

int
login_reissue(struct db *db, const char *email, char code[LOGIN_CODE_LEN + 1])
{
	char hash[HASH_SHA256_HEX];
	const char *params[] = { email, hash };
	PGresult *res;
	int ret;

	new_code(code, hash);
	/* wrong_tries stays: a flaky relay must not buy more guesses */
	res = db_exec(db, "UPDATE login_codes SET code_hash = decode($2, 'hex')"
	    " WHERE email = $1 AND used_at IS NULL"
	    " AND code_hash IS NOT NULL AND expires_at > now() RETURNING 1",
	    2, params);
	if (!res)
		return -1;
	ret = PQntuples(res) == 1 ? 0 : 1;
	PQclear(res);
	return ret;
}
