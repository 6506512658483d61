/*
 * Ledger moves, one statement each: FOR UPDATE on the user row serialises
 * every change to one balance; the same statement checks the bounds,
 * updates the balance and inserts the ledger row (one round trip on the
 * harvest path).  Refunds and grants pass cap 0 (no cap).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "domain/ledger.h"
#include "store/db.h"

/* One statement: lock the user row, decide what can be booked (bounds,
 * clipping at the cap), update the balance and totals, append the ledger
 * row.  Columns: the balance before, whether the user exists, then the
 * ledger id, amount and balance after (NULL when nothing was booked). */
static PGresult *
ledger_statement(struct db *db, const struct ledger_move *m)
{
	char amount[24], cap[24];
	const char *params[] = { m->user_id, m->action, amount, cap,
		m->clip ? "t" : "f", m->note ? m->note : "", m->instance_id };

	snprintf(amount, sizeof(amount), "%" PRId64, m->amount);
	snprintf(cap, sizeof(cap), "%" PRId64, m->cap);
	return db_exec(db, "WITH u AS (SELECT lemon_balance AS bal FROM users"
	    " WHERE id = $1 AND NOT is_deleted FOR UPDATE),"
	    " d AS (SELECT bal, CASE"
	    "  WHEN bal + $3::int < 0 THEN NULL"
	    "  WHEN $3::int > 0 AND $4::int > 0 AND bal + $3::int > $4::int"
	    "  THEN CASE WHEN $5::boolean AND bal < $4::int THEN $4::int - bal END"
	    "  ELSE $3::int END AS a FROM u),"
	    " b AS (UPDATE users SET lemon_balance = lemon_balance + d.a,"
	    "  total_earned_lemons = total_earned_lemons + GREATEST(d.a, 0),"
	    "  total_spent_lemons = total_spent_lemons + GREATEST(-d.a, 0)"
	    "  FROM d WHERE users.id = $1 AND d.a IS NOT NULL"
	    "  RETURNING users.lemon_balance, d.a),"
	    " t AS (INSERT INTO user_lemon_transactions (user_id, action_type,"
	    "  amount, balance, note, db_instance_id)"
	    "  SELECT $1, $2::lemon_action, b.a, b.lemon_balance, $6 || CASE"
	    "  WHEN b.a < $3::int THEN ' (clipped at the cap: ' || b.a || ' of '"
	    "  || $3 || ')' ELSE '' END,"
	    "  $7::bigint FROM b RETURNING id, amount, balance)"
	    " SELECT (SELECT bal FROM u), (SELECT count(*) FROM u),"
	    " t.id, t.amount, t.balance FROM (SELECT 1) one"
	    " LEFT JOIN t ON true", 7, params);
}

int
ledger_apply(struct db *db, struct ledger_move *m)
{
	PGresult *res = ledger_statement(db, m);
	int ret;

	if (!res)
		return -1;
	m->balance = db_get_i64(res, 0, 0);
	m->applied = 0;
	if (db_get_i64(res, 0, 1) == 0)
		ret = LEDGER_NO_USER;
	else if (PQgetisnull(res, 0, 2))
		ret = m->amount < 0 ? LEDGER_INSUFFICIENT : LEDGER_FULL;
	else {
		snprintf(m->tx_id, sizeof(m->tx_id), "%s",
		    PQgetvalue(res, 0, 2));
		m->applied = db_get_i64(res, 0, 3);
		m->balance = db_get_i64(res, 0, 4);
		ret = LEDGER_OK;
	}
	PQclear(res);
	return ret;
}

int
ledger_move(struct db *db, struct ledger_move *m)
{
	int ret;

	if (db_begin(db) < 0)
		return -1;
	ret = ledger_apply(db, m);
	if (ret == LEDGER_OK && db_commit(db) < 0)
		ret = -1;
	if (ret != LEDGER_OK)
		db_rollback(db);
	return ret;
}
