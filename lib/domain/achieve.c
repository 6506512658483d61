/*
 * Achievements (achieve.h).  The catalogue lives in SQL (goal, reward,
 * order); C knows the keys as an enum, turned into text only here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "domain/achieve.h"
#include "store/db.h"

static const char *const names[ACHIEVE_COUNT] = {
	[ACHIEVE_FIRST_HARVEST] = "first_harvest",
	[ACHIEVE_HARVESTS_10] = "harvests_10",
	[ACHIEVE_HARVESTS_100] = "harvests_100",
	[ACHIEVE_STREAK_3] = "streak_3",
	[ACHIEVE_STREAK_7] = "streak_7",
	[ACHIEVE_ALL_CATEGORIES] = "all_categories",
	[ACHIEVE_GOLDEN_LEMON] = "golden_lemon",
	[ACHIEVE_FIRST_DATABASE] = "first_database",
	[ACHIEVE_DATABASE_WEEK] = "database_week",
};

const char *
achieve_name(enum achieve_key k)
{
	return (unsigned)k < ACHIEVE_COUNT ? names[k] : "unknown";
}

int
achieve_parse(const char *name, enum achieve_key *k)
{
	for (int i = 0; i < ACHIEVE_COUNT; i++)
		if (strcmp(names[i], name) == 0) {
			*k = (enum achieve_key)i;
			return 0;
		}
	return -1;
}

int
achieve_pay(struct db *db, const char *user_id, int64_t cap,
	    struct achieve_award *a)
{
	char note[64];
	struct ledger_move m;

	a->applied = 0;
	if (a->reward <= 0)
		return 0;
	snprintf(note, sizeof(note), "achievement %s", achieve_name(a->key));
	m = (struct ledger_move){ .user_id = user_id,
		.action = "achievement_bonus", .amount = a->reward, .cap = cap,
		.clip = true, .note = note };
	switch (ledger_apply(db, &m)) {
	case LEDGER_OK:
		a->applied = m.applied;
		return 0;
	case LEDGER_FULL:
		return 0;
	case LEDGER_INSUFFICIENT:
	case LEDGER_NO_USER:
		break;
	}
	return -1;
}

int
achieve_award(struct db *db, const char *user_id, enum achieve_key key,
	      int64_t cap, struct achieve_award *out)
{
	const char *params[] = { user_id, achieve_name(key) };
	PGresult *res = db_exec(db, "WITH w AS (INSERT INTO user_achievements"
	    " (user_id, key) VALUES ($1, $2::achievement_key)"
	    " ON CONFLICT DO NOTHING RETURNING key)"
	    " SELECT k.reward FROM w JOIN achievements k USING (key)", 2,
	    params);
	int ret;

	if (!res)
		return -1;
	ret = PQntuples(res) == 1;
	out->key = key;
	out->reward = ret ? db_get_i64(res, 0, 0) : 0;
	out->applied = 0;
	PQclear(res);
	if (ret && achieve_pay(db, user_id, cap, out) < 0)
		return -1;
	return ret;
}

/* Columns of the list query. */
enum { L_KEY, L_EARNED_AT, L_VALUE, L_GOAL, L_REWARD };

static void
read_state(const PGresult *res, int i, struct achieve_state *s)
{
	int64_t v = db_get_i64(res, i, L_VALUE);

	if (achieve_parse(PQgetvalue(res, i, L_KEY), &s->key) < 0)
		s->key = ACHIEVE_FIRST_HARVEST;	/* the enums agree (sql 0014) */
	s->earned = !PQgetisnull(res, i, L_EARNED_AT);
	s->earned_at = (time_t)db_get_i64(res, i, L_EARNED_AT);
	s->goal = db_get_i64(res, i, L_GOAL);
	s->reward = db_get_i64(res, i, L_REWARD);
	s->progress = s->earned || v > s->goal ? s->goal : v;
}

int
achieve_list(struct db *db, const char *user_id, int64_t billing_period_s,
	     struct achieve_state out[ACHIEVE_COUNT])
{
	char period[24];
	const char *params[] = { user_id, period };
	PGresult *res;
	int n;

	snprintf(period, sizeof(period), "%lld", (long long)billing_period_s);
	res = db_exec(db, "SELECT k.key, extract(epoch FROM w.earned_at)::bigint,"
	    " CASE k.metric WHEN 'databases' THEN (SELECT count(*)"
	    "  FROM db_instances i WHERE i.user_id = $1)"
	    " WHEN 'database_days' THEN (SELECT coalesce(max(n), 0)"
	    "  * $2::bigint / 86400 FROM (SELECT count(*) AS n"
	    "  FROM db_instances i JOIN db_instance_billing b"
	    "  ON b.instance_id = i.id WHERE i.user_id = $1"
	    "  GROUP BY i.id) c)"
	    " ELSE coalesce(" ACHIEVE_VALUE("u", "k") ", 0) END,"
	    " k.goal, k.reward FROM achievements k"
	    " LEFT JOIN users u ON u.id = $1"
	    " LEFT JOIN user_achievements w ON w.user_id = $1 AND w.key = k.key"
	    " ORDER BY k.sort", 2, params);
	if (!res)
		return -1;
	for (n = 0; n < PQntuples(res) && n < ACHIEVE_COUNT; n++)
		read_state(res, n, &out[n]);
	PQclear(res);
	return n;
}

/* Users owed database_week: an instance billed for the goal's days. */
static PGresult *
week_candidates(struct db *db, int64_t billing_period_s)
{
	char period[24];
	const char *params[] = { period };

	snprintf(period, sizeof(period), "%lld", (long long)billing_period_s);
	return db_exec(db, "SELECT DISTINCT i.user_id FROM db_instances i"
	    " JOIN achievements k ON k.key = 'database_week'"
	    " WHERE i.deleted_at IS NULL AND NOT EXISTS (SELECT 1"
	    "  FROM user_achievements w WHERE w.user_id = i.user_id"
	    "  AND w.key = 'database_week')"
	    " AND (SELECT count(*) FROM db_instance_billing b"
	    "  WHERE b.instance_id = i.id) * $1::bigint >= k.goal * 86400",
	    1, params);
}

int
achieve_billing_pass(struct db *db, int64_t billing_period_s, int64_t cap)
{
	PGresult *res = week_candidates(db, billing_period_s);
	struct achieve_award a;
	int n = 0;

	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		int r;

		if (db_begin(db) < 0) {
			n = -1;
			break;
		}
		r = achieve_award(db, PQgetvalue(res, i, 0),
		    ACHIEVE_DATABASE_WEEK, cap, &a);
		if (r < 0 || db_commit(db) < 0) {
			db_rollback(db);
			n = -1;
			break;
		}
		n += r;
	}
	PQclear(res);
	return n;
}
