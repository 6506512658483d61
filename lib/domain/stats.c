/*
 * Statistics queries.  Each answers in a few milliseconds on a ledger of
 * millions of rows (tests/bench/stats_explain.sh measures them, and holds a
 * copy of the SQL below: change both together):
 *
 *  - the public totals read the one row of stats_counters, which triggers
 *    keep, instead of counting users and the ledger;
 *  - the richest users walk users_rich (lemon_balance DESC, live users) and
 *    stop after three;
 *  - today's quiz masters read quiz_daily_correct (kept by triggers)
 *    and look up only the best three in users;
 *  - a user's harvests scan ult_harvest_user_day_amount (index only) over
 *    the asked days once,
 *    and generate_series supplies the days without harvest;
 *  - a ledger page counts the user's rows and skips to the page on
 *    ult_user_page, both index-only, from the newest end or, for a page
 *    in the older half, from the oldest (so at most half the rows are
 *    walked), then reads only the page's rows; one instance's page counts
 *    and skips on ult_instance_page, index-only.  (A count kept by a
 *    trigger would spare the count, but measured a third fewer ledger
 *    writes a second: the harvest path pays for it.)
 *
 * Days are UTC calendar days whatever the session's TimeZone: dates are
 * computed from now() AT TIME ZONE 'UTC' and turned back into instants
 * with ::timestamp AT TIME ZONE 'UTC'.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "domain/stats.h"
#include "store/db.h"

int
stats_global(struct db *db, struct stats_global *out)
{
	PGresult *res = db_exec(db, "SELECT harvested_lemons,"
	    " created_instances, live_users FROM stats_counters", 0, NULL);

	memset(out, 0, sizeof(*out));
	if (!res)
		return -1;
	if (PQntuples(res) == 1) {
		out->harvested_lemons = db_get_i64(res, 0, 0);
		out->created_instances = db_get_i64(res, 0, 1);
		out->live_users = db_get_i64(res, 0, 2);
	} else {
		log_err("stats_counters has %d rows, not 1", PQntuples(res));
	}
	PQclear(res);
	return 0;
}

/* Bytes of the first n UTF-8 characters of s[0..len). */
static size_t
utf8_prefix(const char *s, size_t len, int n)
{
	size_t i = 0;

	while (i < len && n-- > 0) {
		int cont = 0;

		i++;
		while (i < len && cont++ < 3 &&
		    ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
	}
	return i;
}

void
stats_mask_email(const char *email, char *out, size_t size)
{
	size_t local = strcspn(email, "@");

	snprintf(out, size, "%.*s***", (int)utf8_prefix(email, local, 3),
	    email);
}

/* Fills ranks from rows of (email, score); consumes res. */
static int
ranks_from(PGresult *res, struct stats_rank *ranks, int *n)
{
	*n = 0;
	if (!res)
		return -1;
	for (int r = 0; r < PQntuples(res) && r < STATS_TOP; r++) {
		stats_mask_email(PQgetvalue(res, r, 0), ranks[r].masked_email,
		    sizeof(ranks[r].masked_email));
		ranks[r].score = db_get_i64(res, r, 1);
		(*n)++;
	}
	PQclear(res);
	return 0;
}

int
stats_leaderboard(struct db *db, struct stats_leaderboard *out)
{
	memset(out, 0, sizeof(*out));
	if (ranks_from(db_exec(db, "SELECT email, lemon_balance FROM users"
	    " WHERE NOT is_deleted AND lemon_balance > 0"
	    " ORDER BY lemon_balance DESC, created_at, id LIMIT 3", 0, NULL),
	    out->rich, &out->nrich) < 0)
		return -1;
	/* quiz_daily_correct is kept by triggers; ties go to whoever
	 * reached the score first.  The LATERAL join with LIMIT 1 probes
	 * users_pkey for the first three live users only. */
	return ranks_from(db_exec(db, "SELECT u.email, q.n"
	    " FROM quiz_daily_correct q CROSS JOIN LATERAL (SELECT email"
	    " FROM users WHERE id = q.user_id AND NOT is_deleted LIMIT 1) u"
	    " WHERE q.day = (now() AT TIME ZONE 'UTC')::date"
	    " ORDER BY q.n DESC, q.reached, q.user_id LIMIT 3", 0, NULL),
	    out->quiz, &out->nquiz);
}

int
stats_daily_harvest(struct db *db, const char *user_id, int days,
		    struct stats_day *out)
{
	char days_s[16];
	const char *params[] = { user_id, days_s };
	PGresult *res;
	int ret = -1;

	snprintf(days_s, sizeof(days_s), "%d", days);
	res = db_exec(db, "WITH h AS ("
	    "SELECT (created_at AT TIME ZONE 'UTC')::date AS day,"
	    " sum(amount) AS amount FROM user_lemon_transactions"
	    " WHERE user_id = $1 AND action_type = 'harvest'"
	    " AND status = 'successful'"
	    " AND created_at >= ((now() AT TIME ZONE 'UTC')::date"
	    "  - ($2::int - 1))::timestamp AT TIME ZONE 'UTC'"
	    " GROUP BY 1)"
	    " SELECT to_char((now() AT TIME ZONE 'UTC')::date - g.i,"
	    "  'YYYY-MM-DD\"T00:00:00Z\"'), coalesce(h.amount, 0)"
	    " FROM generate_series(0, $2::int - 1) AS g(i)"
	    " LEFT JOIN h ON h.day = (now() AT TIME ZONE 'UTC')::date - g.i"
	    " ORDER BY g.i", 2, params);
	if (!res)
		return -1;
	if (PQntuples(res) != days) {
		log_err("daily harvest: %d rows for %d days", PQntuples(res),
		    days);
		goto out;
	}
	for (int r = 0; r < days; r++) {
		snprintf(out[r].date, sizeof(out[r].date), "%s",
		    PQgetvalue(res, r, 0));
		out[r].amount = db_get_i64(res, r, 1);
	}
	ret = 0;
out:
	PQclear(res);
	return ret;
}

/* Points page->rows into page->res, whose rows are (total, id, action,
 * status, amount, balance, epoch, note, instance name), with NULLs after
 * the total when the page is empty. */
static void
page_fill(struct stats_page *page)
{
	PGresult *res = page->res;
	int rows = PQntuples(res);

	page->total = rows > 0 ? db_get_i64(res, 0, 0) : 0;
	if (rows == 0 || PQgetisnull(res, 0, 1))
		return;
	page->rows = xcalloc((size_t)rows, sizeof(*page->rows));
	for (int r = 0; r < rows; r++) {
		struct stats_tx *tx = &page->rows[r];

		tx->id = PQgetvalue(res, r, 1);
		tx->instance_name = PQgetisnull(res, r, 8) ? NULL :
		    PQgetvalue(res, r, 8);
		tx->action = PQgetvalue(res, r, 2);
		tx->status = PQgetvalue(res, r, 3);
		tx->amount = db_get_i64(res, r, 4);
		tx->balance = db_get_i64(res, r, 5);
		tx->created_at = (time_t)db_get_i64(res, r, 6);
		tx->note = PQgetvalue(res, r, 7);
	}
	page->n = rows;
}

int
stats_transactions(struct db *db, const char *user_id,
		   const char *instance_name, int64_t page, int limit,
		   struct stats_page *out)
{
	char limit_s[16], offset_s[24];
	const char *params[] = { user_id, limit_s, offset_s, instance_name };
	PGresult *res;

	memset(out, 0, sizeof(*out));
	snprintf(limit_s, sizeof(limit_s), "%d", limit);
	snprintf(offset_s, sizeof(offset_s), "%" PRId64, (page - 1) * limit);
	/* One statement, so the total and the page see one snapshot.  The
	 * count and the OFFSET walk ult_user_page (or ult_instance_page)
	 * index-only; only the page's rows are read from the table.  The
	 * filter takes the ledger rows of the user's instances of that name
	 * (deleted ones included: their history stays). */
	if (!instance_name)
		res = db_exec(db, "WITH c AS MATERIALIZED (SELECT count(*)"
		    " AS total FROM user_lemon_transactions WHERE user_id = $1)"
		    " SELECT c.total, t.id, t.action_type,"
		    " t.status, t.amount, t.balance,"
		    " floor(extract(epoch FROM t.created_at))::bigint, t.note,"
		    " i.name"
		    " FROM c LEFT JOIN LATERAL (SELECT l.* FROM ("
		    "(SELECT id FROM user_lemon_transactions WHERE user_id = $1"
		    " AND $3::bigint * 2 < c.total"
		    " ORDER BY created_at DESC, id DESC"
		    " LIMIT $2::int OFFSET $3::bigint)"
		    " UNION ALL "
		    "(SELECT id FROM user_lemon_transactions WHERE user_id = $1"
		    " AND $3::bigint * 2 >= c.total AND $3::bigint < c.total"
		    " ORDER BY created_at, id"
		    " LIMIT greatest(least($2::int, c.total - $3::bigint), 0)"
		    " OFFSET greatest(c.total - $3::bigint - $2::int, 0))) p"
		    " JOIN user_lemon_transactions l ON l.id = p.id) t ON true"
		    " LEFT JOIN db_instances i ON i.id = t.db_instance_id"
		    " ORDER BY t.created_at DESC, t.id DESC", 3, params);
	else
		res = db_exec(db, "WITH n AS (SELECT id FROM db_instances"
		    " WHERE user_id = $1 AND name = $4)"
		    " SELECT c.total, t.id, t.action_type,"
		    " t.status, t.amount, t.balance,"
		    " floor(extract(epoch FROM t.created_at))::bigint, t.note,"
		    " i.name"
		    " FROM (SELECT count(*) AS total"
		    " FROM user_lemon_transactions"
		    " WHERE db_instance_id IN (SELECT id FROM n)) c"
		    " LEFT JOIN LATERAL (SELECT l.* FROM (SELECT id"
		    " FROM user_lemon_transactions"
		    " WHERE db_instance_id IN (SELECT id FROM n)"
		    " ORDER BY created_at DESC, id DESC"
		    " LIMIT $2::int OFFSET $3::bigint) p"
		    " JOIN user_lemon_transactions l ON l.id = p.id) t ON true"
		    " LEFT JOIN db_instances i ON i.id = t.db_instance_id"
		    " ORDER BY t.created_at DESC, t.id DESC", 4, params);
	if (!res)
		return -1;
	out->res = res;
	page_fill(out);
	return 0;
}

void
stats_page_release(struct stats_page *page)
{
	PQclear(page->res);
	free(page->rows);
	memset(page, 0, sizeof(*page));
}
