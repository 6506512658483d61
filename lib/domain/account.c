/*
 * Accounts.  Deletion keeps the user row (ledger rows point at it) but
 * replaces the address with "deleted:<id>", so nothing personal remains
 * and the address can register again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "domain/account.h"
#include "domain/backup.h"
#include "domain/game.h"
#include "domain/gameday.h"
#include "domain/instance.h"
#include "domain/outbox.h"
#include "store/db.h"

#define PROFILE_COLUMNS "u.id, u.email, u.lemon_balance," \
	" u.total_earned_lemons, u.total_spent_lemons," \
	" coalesce(extract(epoch FROM u.last_harvest_at)::bigint, 0)," \
	" extract(epoch FROM u.created_at)::bigint, u.lang::text," \
	" u.streak, u.streak_best," \
	" coalesce(u.streak_day >= " GAMEDAY_SQL("$2", "$3") " - 1, false)"

/* Fills p from the one row of res; consumes res. */
static int
profile_from(PGresult *res, struct profile *p)
{
	if (!res)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return ACCOUNT_NONE;
	}
	snprintf(p->id, sizeof(p->id), "%s", PQgetvalue(res, 0, 0));
	snprintf(p->email, sizeof(p->email), "%s", PQgetvalue(res, 0, 1));
	p->balance = db_get_i64(res, 0, 2);
	p->total_earned = db_get_i64(res, 0, 3);
	p->total_spent = db_get_i64(res, 0, 4);
	p->last_harvest_at = (time_t)db_get_i64(res, 0, 5);
	p->joined_at = (time_t)db_get_i64(res, 0, 6);
	p->lang = LANG_EN;
	lang_parse(PQgetvalue(res, 0, 7), &p->lang);
	p->streak_best = db_get_i64(res, 0, 9);
	p->streak = PQgetvalue(res, 0, 10)[0] == 't' ? db_get_i64(res, 0, 8) : 0;
	p->next_milestone = game_next_milestone(p->streak);
	PQclear(res);
	return ACCOUNT_OK;
}

int
account_profile(struct db *db, const char *user_id, struct profile *p)
{
	struct gameday d;
	const char *params[] = { user_id, d.offset, NULL };

	gameday_now(&d);
	params[2] = d.tz;
	return profile_from(db_exec(db, "SELECT " PROFILE_COLUMNS
	    " FROM users u WHERE u.id = $1 AND NOT u.is_deleted",
	    3, params), p);
}

int
account_find(struct db *db, const char *email, char id[USER_ID_LEN + 1])
{
	const char *params[] = { email };
	PGresult *res = db_exec(db, "SELECT id FROM users WHERE email = $1"
	    " AND NOT is_deleted", 1, params);
	int ret;

	if (!res)
		return -1;
	ret = PQntuples(res) == 1 ? ACCOUNT_OK : ACCOUNT_NONE;
	if (ret == ACCOUNT_OK)
		snprintf(id, USER_ID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return ret;
}

int
account_set_lang(struct db *db, const char *user_id, enum lang lang)
{
	const char *params[] = { user_id, lang_name(lang) };
	PGresult *res = db_exec(db, "UPDATE users SET lang = $2::ui_lang"
	    " WHERE id = $1 AND lang <> $2::ui_lang", 2, params);

	PQclear(res);
	return res ? 0 : -1;
}

/* Locks the live account and returns its address in email. */
static int
lock_account(struct db *db, const char *user_id, char email[EMAIL_MAX + 1])
{
	const char *params[] = { user_id };
	PGresult *res = db_exec(db, "SELECT email FROM users WHERE id = $1"
	    " AND NOT is_deleted FOR UPDATE", 1, params);
	int ret;

	if (!res)
		return -1;
	ret = PQntuples(res) == 1 ? ACCOUNT_OK : ACCOUNT_NONE;
	if (ret == ACCOUNT_OK)
		snprintf(email, EMAIL_MAX + 1, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return ret;
}

static int
erase_account(struct db *db, const char *user_id)
{
	const char *params[] = { user_id };
	PGresult *res = db_exec(db, "UPDATE users SET is_deleted = true,"
	    " deleted_at = now(), email = 'deleted:' || id::text"
	    " WHERE id = $1", 1, params);

	PQclear(res);
	if (!res)
		return -1;
	res = db_exec(db, "DELETE FROM sessions WHERE user_id = $1", 1,
	    params);
	PQclear(res);
	return res ? 0 : -1;
}

int
account_delete(struct db *db, const char *user_id, int64_t *outbox_id)
{
	char email[EMAIL_MAX + 1];
	char *goodbye = NULL;
	int ret;

	if (db_begin(db) < 0)
		return -1;
	ret = lock_account(db, user_id, email);
	/* the instances go too: the reconciler stops and removes them and
	 * frees their ports, once their final backups are taken; the goodbye
	 * mail carries the only links to those */
	if (ret == ACCOUNT_OK && (instance_delete_all(db, user_id) < 0 ||
	    backup_queue_final_all(db, user_id, &goodbye) < 0 ||
	    /* queued while the address still names the account, whose
	     * language the mail is written in */
	    outbox_add(db, "goodbye", email, goodbye, outbox_id) < 0 ||
	    erase_account(db, user_id) < 0 ||
	    db_commit(db) < 0))
		ret = -1;
	free(goodbye);
	if (ret != ACCOUNT_OK)
		db_rollback(db);
	return ret;
}
