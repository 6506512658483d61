/*
 * The billing pass.  Every change to one instance is one transaction: the
 * period row, the ledger debit and the status move together or not at
 * all.  Periods are aligned to the epoch (floor(now / period)).
 */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "domain/billing.h"
#include "domain/ledger.h"
#include "domain/outbox.h"
#include "store/db.h"

struct bill_row {
	char row[24], user_id[40], name[64], email[256];
	int64_t hourly;
};

static void
bill_row_from(const PGresult *res, int i, struct bill_row *b)
{
	snprintf(b->row, sizeof(b->row), "%s", PQgetvalue(res, i, 0));
	snprintf(b->user_id, sizeof(b->user_id), "%s", PQgetvalue(res, i, 1));
	snprintf(b->name, sizeof(b->name), "%s", PQgetvalue(res, i, 2));
	snprintf(b->email, sizeof(b->email), "%s", PQgetvalue(res, i, 3));
	b->hourly = db_get_i64(res, i, 4);
}

static int
mail(struct db *db, const char *kind, const struct bill_row *b)
{
	struct json_object *p = json_object_new_object();
	int64_t id;
	int ret;

	json_object_object_add(p, "name", json_object_new_string(b->name));
	ret = outbox_add(db, kind, b->email, json_object_to_json_string(p),
	    &id);
	json_object_put(p);
	return ret;
}

/* Inside a transaction: the period row (0 new, 1 already billed) and the
 * debit (LEDGER_* result). */
static int
charge(struct db *db, const struct bill_row *b, const char *period)
{
	char note[128], amount[24];
	const char *params[] = { b->row, period, amount };
	struct ledger_move m = { .user_id = b->user_id,
		.action = "instance_maintain", .amount = -b->hourly,
		.note = note, .instance_id = b->row };
	PGresult *res;
	int ret;

	snprintf(note, sizeof(note), "instance %s: one period", b->name);
	snprintf(amount, sizeof(amount), "%lld", (long long)b->hourly);
	res = db_exec(db, "INSERT INTO db_instance_billing (instance_id,"
	    " period_start, amount) VALUES ($1::bigint, to_timestamp("
	    "floor(extract(epoch FROM now()) / $2::int) * $2::int), $3::int)"
	    " ON CONFLICT DO NOTHING", 3, params);
	if (!res)
		return -1;
	ret = strcmp(PQcmdTuples(res), "1") == 0 ? 0 : 1;
	PQclear(res);
	if (ret != 0)
		return LEDGER_OK;	/* billed already: nothing to do */
	return ledger_apply(db, &m);
}

static int
set_status(struct db *db, const struct bill_row *b, const char *status,
	   const char *reason)
{
	const char *params[] = { b->row, status, reason };
	PGresult *res = db_exec(db, "UPDATE db_instances SET"
	    " status = $2::db_status, status_reason = $3, updated_at = now(),"
	    " retry_at = now(), failures = 0,"
	    " paused_at = CASE WHEN $2 = 'paused' THEN now() END,"
	    " delete_warned = false, scaled_down = scaled_down AND $2 <> 'running',"
	    " deleted_at = CASE WHEN $2 = 'deleting' THEN now() END"
	    " WHERE id = $1::bigint", 3, params);

	PQclear(res);
	return res ? 0 : -1;
}

/* One transaction: charge a running instance, or pause it if broke. */
static int
bill_running(struct db *db, const struct bill_row *b, const char *period,
	     struct billing_stats *st)
{
	int r;

	if (db_begin(db) < 0)
		return -1;
	r = charge(db, b, period);
	if (r == LEDGER_INSUFFICIENT) {
		db_rollback(db);
		if (db_begin(db) < 0)
			return -1;
		r = set_status(db, b, "paused", "paused: not enough lemons") ||
		    mail(db, "instance_paused", b) ? -1 : LEDGER_OK;
		st->paused += r == LEDGER_OK;
	} else {
		st->charged += r == LEDGER_OK;
	}
	if (r == LEDGER_OK && db_commit(db) < 0)
		r = -1;
	db_rollback(db);
	return r == LEDGER_OK ? 0 : -1;
}

/* One transaction: resume a paused instance whose owner can pay again. */
static int
resume(struct db *db, const struct bill_row *b, const char *period,
       struct billing_stats *st)
{
	int r;

	if (db_begin(db) < 0)
		return -1;
	r = charge(db, b, period);
	if (r == LEDGER_OK && set_status(db, b, "running",
	    "resumed: lemons topped up") == 0 && db_commit(db) == 0)
		st->resumed++;
	db_rollback(db);
	return r == LEDGER_OK || r == LEDGER_INSUFFICIENT ? 0 : -1;
}

/* Paused instances past the warning point or the grace. */
static int
expire(struct db *db, const struct bill_row *b, bool delete_now,
       struct billing_stats *st)
{
	const char *params[] = { b->row };
	PGresult *res;
	int ret = -1;

	if (db_begin(db) < 0)
		return -1;
	if (delete_now) {
		if (set_status(db, b, "deleting", "deleted: not enough lemons")
		    == 0 && mail(db, "instance_deleted", b) == 0 &&
		    db_commit(db) == 0)
			ret = 0, st->deleted++;
	} else {
		res = db_exec(db, "UPDATE db_instances SET delete_warned = true"
		    " WHERE id = $1::bigint", 1, params);
		if (res && mail(db, "instance_delete_warning", b) == 0 &&
		    db_commit(db) == 0)
			ret = 0, st->warned++;
		PQclear(res);
	}
	db_rollback(db);
	return ret;
}

#define BILL_COLUMNS "i.id, i.user_id, i.name, u.email, i.hourly_cost"

static PGresult *
select_work(struct db *db, const char *period, const char *grace)
{
	const char *params[] = { period, grace };

	/* kind: 0 charge, 1 resume, 2 warn, 3 delete */
	return db_exec(db, "SELECT " BILL_COLUMNS ", CASE"
	    " WHEN i.status = 'running' THEN 0"
	    " WHEN u.lemon_balance >= i.hourly_cost THEN 1"
	    " WHEN i.paused_at + make_interval(secs => $2::int) <= now() THEN 3"
	    " ELSE 2 END"
	    " FROM db_instances i JOIN users u ON u.id = i.user_id"
	    " WHERE i.deleted_at IS NULL AND ((i.status = 'running'"
	    "  AND i.hourly_cost > 0 AND NOT EXISTS (SELECT 1"
	    "  FROM db_instance_billing b WHERE b.instance_id = i.id"
	    "  AND b.period_start = to_timestamp(floor(extract(epoch FROM now())"
	    "  / $1::int) * $1::int)))"
	    " OR (i.status = 'paused' AND (u.lemon_balance >= i.hourly_cost"
	    "  OR i.paused_at + make_interval(secs => $2::int) <= now()"
	    "  OR (NOT i.delete_warned AND i.paused_at + make_interval(secs =>"
	    "  $2::int) - least(interval '1 hour', make_interval(secs =>"
	    "  $2::int / 2)) <= now()))))"
	    " ORDER BY i.id", 2, params);
}

int
billing_run(struct db *db, const struct billing_rules *r, int64_t deadline_ms,
	    struct billing_stats *st)
{
	char period[24], grace[24];
	struct bill_row b;
	PGresult *res;

	memset(st, 0, sizeof(*st));
	snprintf(period, sizeof(period), "%lld", (long long)r->period_s);
	snprintf(grace, sizeof(grace), "%lld", (long long)r->grace_s);
	if (!(res = select_work(db, period, grace)))
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t kind = db_get_i64(res, i, 5);

		if (clock_mono_ms() >= deadline_ms)
			break;
		bill_row_from(res, i, &b);
		if (kind == 0)
			bill_running(db, &b, period, st);
		else if (kind == 1)
			resume(db, &b, period, st);
		else
			expire(db, &b, kind == 3, st);
	}
	PQclear(res);
	return 0;
}
