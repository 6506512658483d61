/*
 * Ledger moves: SELECT ... FOR UPDATE on the user row serialises every
 * change to one balance, then one statement updates the balance and
 * inserts the ledger row.  Refunds and grants pass cap 0 (no cap).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "domain/ledger.h"
#include "store/db.h"

/* Decides what can be booked given the locked balance. */
static int
ledger_bounds(struct ledger_move *m, int64_t balance)
{
	m->balance = balance;
	m->applied = m->amount;
	if (m->amount < 0 && balance + m->amount < 0)
		return LEDGER_INSUFFICIENT;
	if (m->amount > 0 && m->cap > 0 && balance + m->amount > m->cap) {
		if (!m->clip || balance >= m->cap)
			return LEDGER_FULL;
		m->applied = m->cap - balance;
	}
	return LEDGER_OK;
}

static int
ledger_lock(struct db *db, const char *user_id, int64_t *balance)
{
	const char *params[] = { user_id };
	PGresult *res = db_exec(db, "SELECT lemon_balance FROM users"
	    " WHERE id = $1 AND NOT is_deleted FOR UPDATE", 1, params);
	int ret;

	if (!res)
		return -1;
	ret = PQntuples(res) == 1 ? LEDGER_OK : LEDGER_NO_USER;
	*balance = db_get_i64(res, 0, 0);
	PQclear(res);
	return ret;
}

static int
ledger_book(struct db *db, struct ledger_move *m)
{
	char amount[24];
	const char *params[] = { m->user_id, m->action, amount,
		m->note ? m->note : "", m->instance_id };
	PGresult *res;

	snprintf(amount, sizeof(amount), "%" PRId64, m->applied);
	res = db_exec(db, "WITH u AS (UPDATE users SET"
	    " lemon_balance = lemon_balance + $3::int,"
	    " total_earned_lemons = total_earned_lemons"
	    "  + GREATEST($3::int, 0),"
	    " total_spent_lemons = total_spent_lemons"
	    "  + GREATEST(-$3::int, 0)"
	    " WHERE id = $1 RETURNING lemon_balance)"
	    " INSERT INTO user_lemon_transactions (user_id, action_type,"
	    " amount, balance, note, db_instance_id)"
	    " SELECT $1, $2::lemon_action, $3::int, u.lemon_balance, $4,"
	    " $5::bigint FROM u RETURNING id, balance", 5, params);
	if (!res)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return fail("ledger: user '%s' vanished mid-move", m->user_id);
	}
	snprintf(m->tx_id, sizeof(m->tx_id), "%s", PQgetvalue(res, 0, 0));
	m->balance = db_get_i64(res, 0, 1);
	PQclear(res);
	return LEDGER_OK;
}

int
ledger_apply(struct db *db, struct ledger_move *m)
{
	int64_t balance;
	int ret = ledger_lock(db, m->user_id, &balance);

	if (ret != LEDGER_OK)
		return ret;
	if ((ret = ledger_bounds(m, balance)) != LEDGER_OK)
		return ret;
	return ledger_book(db, m);
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
