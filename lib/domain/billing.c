/*
 * The billing pass.  Every change to an instance is in a transaction that
 * first moves (or, to charge, just locks) the instance through the
 * lifecycle, which rechecks its status, intent and deletion on the locked
 * row; then the period row, the ledger debit and the mail go with it or
 * not at all.  Charges, the common case, go a batch at a time: the
 * lifecycle locks the batch's rows by the charge's guard, and one
 * statement bills each owner's rows as far as their balance covers; the
 * rest (the pauses of what it could not pay, a resume, a warning, an
 * expiry) go one instance per transaction.  So a deleted instance is never
 * charged, a pause never overwrites a person's stop or delete, and a
 * resume never revives a deleted instance.  Periods are aligned to the
 * epoch (floor(now / period)).
 */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "domain/backup.h"
#include "domain/billing.h"
#include "domain/ledger.h"
#include "domain/lifecycle.h"
#include "domain/outbox.h"
#include "store/db.h"

/* Running instances charged per transaction (lifecycle_lock_all). */
#define BILL_BATCH 1000

struct bill_row {
	char row[24], user_id[40], name[64], email[256];
	int64_t row_id, hourly;
};

/* What select_work finds to do for a row. */
enum bill_kind { BILL_CHARGE, BILL_RESUME, BILL_WARN, BILL_DELETE };

static const char *const kind_names[] = {
	[BILL_CHARGE] = "charge", [BILL_RESUME] = "resume",
	[BILL_WARN] = "warn", [BILL_DELETE] = "delete",
};

/* 0 and *k for select_work's kind text, or -1. */
static int
kind_parse(const char *text, enum bill_kind *k)
{
	for (size_t i = 0; i < ARRAY_LEN(kind_names); i++)
		if (strcmp(kind_names[i], text) == 0) {
			*k = (enum bill_kind)i;
			return 0;
		}
	return fail("billing: unknown work kind '%s'", text);
}

/* The columns of select_work, in order. */
enum bill_col {
	COL_ID, COL_USER_ID, COL_NAME, COL_EMAIL, COL_HOURLY, COL_KIND,
};

static void
bill_row_from(const PGresult *res, int i, struct bill_row *b)
{
	snprintf(b->row, sizeof(b->row), "%s", PQgetvalue(res, i, COL_ID));
	snprintf(b->user_id, sizeof(b->user_id), "%s",
	    PQgetvalue(res, i, COL_USER_ID));
	snprintf(b->name, sizeof(b->name), "%s", PQgetvalue(res, i, COL_NAME));
	snprintf(b->email, sizeof(b->email), "%s",
	    PQgetvalue(res, i, COL_EMAIL));
	b->row_id = db_get_i64(res, i, COL_ID);
	b->hourly = db_get_i64(res, i, COL_HOURLY);
}

/* Inside a transaction: moves b's instance by ev.  True when it moved
 * (the row is then locked until the transaction ends). */
static bool
moved(struct db *db, const struct bill_row *b, enum lc_event ev)
{
	struct lc_target t = { .row_id = b->row_id, .seen_seq = -1 };

	return lifecycle_move(db, ev, &t, NULL) == LC_MOVED;
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

/* One transaction: the owner is out of lemons; pause, unless the person
 * stopped or deleted it meanwhile. */
static int
pause_broke(struct db *db, const struct bill_row *b, struct billing_stats *st)
{
	int ret = 0;

	if (db_begin(db) < 0)
		return -1;
	if (moved(db, b, LC_PAUSE)) {
		ret = mail(db, "instance_paused", b) < 0 ? -1 : db_commit(db);
		st->paused += ret == 0;
	}
	db_rollback(db);
	return ret;
}

/* One transaction: charge a running instance, or pause it if broke. */
static int
bill_running(struct db *db, const struct bill_row *b, const char *period,
	     struct billing_stats *st)
{
	int r = LEDGER_OK;

	if (db_begin(db) < 0)
		return -1;
	if (moved(db, b, LC_CHARGE)) {
		r = charge(db, b, period);
		if (r == LEDGER_OK && db_commit(db) < 0)
			r = -1;
		st->charged += r == LEDGER_OK;
	}
	db_rollback(db);
	if (r == LEDGER_INSUFFICIENT)
		return pause_broke(db, b, st);
	return r == LEDGER_OK ? 0 : -1;
}

/* One transaction: resume a paused instance whose owner can pay again. */
static int
resume(struct db *db, const struct bill_row *b, const char *period,
       struct billing_stats *st)
{
	int r = LEDGER_OK;

	if (db_begin(db) < 0)
		return -1;
	if (moved(db, b, LC_RESUME)) {
		r = charge(db, b, period);
		if (r == LEDGER_OK && db_commit(db) == 0)
			st->resumed++;
	}
	db_rollback(db);
	return r == LEDGER_OK || r == LEDGER_INSUFFICIENT ? 0 : -1;
}

/* Inside the expiry's transaction: the instance's final backup, so its
 * data stays downloadable for a while after it is deleted. */
static int
keep_a_copy(struct db *db, const struct bill_row *b)
{
	char final[BACKUP_ID_LEN + 1];

	return backup_queue_final(db, strtoll(b->row, NULL, 10), final);
}

/* One transaction: a paused instance past the warning point (mail) or the
 * grace (deleted, mail). */
static int
expire(struct db *db, const struct bill_row *b, bool delete_now,
       struct billing_stats *st)
{
	int ret = 0;

	if (db_begin(db) < 0)
		return -1;
	if (moved(db, b, delete_now ? LC_EXPIRE : LC_WARN)) {
		ret = delete_now ? keep_a_copy(db, b) : 0;
		if (ret == 0)
			ret = mail(db, delete_now ? "instance_deleted" :
			    "instance_delete_warning", b) < 0 ? -1 :
			    db_commit(db);
		if (ret == 0 && delete_now)
			st->deleted++;
		else if (ret == 0)
			st->warned++;
	}
	db_rollback(db);
	return ret;
}

#define BILL_COLUMNS "i.id, i.user_id, i.name, u.email, i.hourly_cost"

/* What there is to do: running instances not billed this period
 * ("charge"), paused ones to resume, warn or delete.  Two selects, so
 * that the first is an anti-join that looks up this period's rows only
 * (db_instance_billing_period), however long the billing history. */
static PGresult *
select_work(struct db *db, const char *period, const char *grace)
{
	const char *params[] = { period, grace };

	return db_exec(db, "SELECT * FROM (SELECT " BILL_COLUMNS ", 'charge'"
	    " FROM db_instances i JOIN users u ON u.id = i.user_id"
	    " WHERE i.status IN ('running', 'backing_up', 'restoring')"
	    "  AND i.desired = 'running' AND i.hourly_cost > 0"
	    "  AND NOT EXISTS (SELECT 1 FROM db_instance_billing b"
	    "  WHERE b.instance_id = i.id AND b.period_start ="
	    "  to_timestamp(floor(extract(epoch FROM now()) / $1::int)"
	    "  * $1::int))"
	    " UNION ALL SELECT " BILL_COLUMNS ", CASE"
	    " WHEN u.lemon_balance >= i.hourly_cost THEN 'resume'"
	    " WHEN i.paused_at + make_interval(secs => $2::int) <= now()"
	    "  THEN 'delete' ELSE 'warn' END"
	    " FROM db_instances i JOIN users u ON u.id = i.user_id"
	    " WHERE i.desired = 'paused' AND (u.lemon_balance >= i.hourly_cost"
	    "  OR i.paused_at + make_interval(secs => $2::int) <= now()"
	    "  OR (NOT i.delete_warned AND i.paused_at + make_interval(secs =>"
	    "  $2::int) - least(interval '1 hour', make_interval(secs =>"
	    "  $2::int / 2)) <= now()))) w"
	    " ORDER BY 1", 2, params);
}

static int
bill_one(struct db *db, const struct bill_row *b, enum bill_kind kind,
	 const char *period, struct billing_stats *st)
{
	switch (kind) {
	case BILL_CHARGE:
		return bill_running(db, b, period, st);
	case BILL_RESUME:
		return resume(db, b, period, st);
	case BILL_WARN:
		return expire(db, b, false, st);
	case BILL_DELETE:
		return expire(db, b, true, st);
	}
	return -1;
}

/* Inside the batch's transaction, the instances of ids locked by
 * lifecycle_lock_all: one statement charges, for every owner, their
 * instances in id order as far as the locked balance covers them: the
 * period rows (ON CONFLICT DO NOTHING: never twice), one debit per owner
 * by the sum of the rows it really inserted, one ledger row per instance
 * carrying the running balance.  Rows: the number charged, then the
 * instances left over (NULL when none), each with whether its cost still
 * fits in what its owner has left (an owner gone: true, so that the
 * per-row path decides). */
static PGresult *
charge_set(struct db *db, const int64_t *ids, int n, const char *period)
{
	struct buf set = BUF_INIT((size_t)n * 21 + 3);
	const char *params[] = { NULL, period };
	PGresult *res;

	db_i64_array(&set, ids, (size_t)n);
	params[0] = buf_cstr(&set);
	res = db_exec(db, "WITH p AS (SELECT to_timestamp(floor(extract(epoch"
	    "  FROM now()) / $2::int) * $2::int) AS start),"
	    " c AS (SELECT i.id, i.user_id, i.name, i.hourly_cost AS cost"
	    "  FROM db_instances i, p WHERE i.id = ANY($1::bigint[])"
	    "  AND i.hourly_cost > 0 AND NOT EXISTS (SELECT 1"
	    "  FROM db_instance_billing b WHERE b.instance_id = i.id"
	    "  AND b.period_start = p.start)),"
	    " u AS (SELECT id, lemon_balance AS bal FROM users"
	    "  WHERE id IN (SELECT user_id FROM c) AND NOT is_deleted"
	    "  ORDER BY id FOR UPDATE),"
	    " r AS (SELECT c.*, u.bal, sum(c.cost) OVER (PARTITION BY"
	    "  c.user_id ORDER BY c.id) AS cum"
	    "  FROM c JOIN u ON u.id = c.user_id),"
	    " ins AS (INSERT INTO db_instance_billing (instance_id,"
	    "  period_start, amount) SELECT r.id, p.start, r.cost FROM r, p"
	    "  WHERE r.cum <= r.bal ON CONFLICT DO NOTHING"
	    "  RETURNING instance_id),"
	    " ch AS (SELECT r.id, r.user_id, r.name, r.cost,"
	    "  r.bal - sum(r.cost) OVER (PARTITION BY r.user_id"
	    "  ORDER BY r.id) AS after"
	    "  FROM ins JOIN r ON r.id = ins.instance_id),"
	    " debit AS (UPDATE users"
	    "  SET lemon_balance = lemon_balance - s.total,"
	    "  total_spent_lemons = total_spent_lemons + s.total"
	    "  FROM (SELECT user_id, sum(cost) AS total FROM ch"
	    "  GROUP BY user_id) s WHERE users.id = s.user_id"
	    "  RETURNING users.id),"
	    " led AS (INSERT INTO user_lemon_transactions (user_id,"
	    "  action_type, amount, balance, note, db_instance_id)"
	    "  SELECT user_id, 'instance_maintain', -cost, after,"
	    "  'instance ' || name || ': one period', id FROM ch"
	    "  RETURNING id)"
	    " SELECT (SELECT count(*) FROM led), left_over.id, left_over.fits"
	    " FROM (SELECT 1) one LEFT JOIN (SELECT c.id, coalesce(c.cost"
	    "  <= r.bal - (SELECT coalesce(max(k.cum), 0) FROM r k"
	    "  WHERE k.user_id = c.user_id AND k.cum <= k.bal), true) AS fits"
	    "  FROM c LEFT JOIN r ON r.id = c.id"
	    "  WHERE r.id IS NULL OR r.cum > r.bal) left_over ON true"
	    " ORDER BY left_over.id", 2, params);
	buf_release(&set);
	return res;
}

/* What becomes of a row of the batch after its statement. */
enum bill_next { NEXT_DONE, NEXT_CHARGE, NEXT_PAUSE };

/* Sets next[i] for the rows charge_set left over: NEXT_CHARGE (one by
 * one) when the cost may still fit, NEXT_PAUSE when the owner's locked
 * balance could not pay it.  Both are in id order. */
static void
mark_left_over(const PGresult *res, const struct bill_row *rows, int n,
	       enum bill_next *next)
{
	int j = 0;

	for (int r = 0; r < PQntuples(res); r++) {
		int64_t id;

		if (PQgetisnull(res, r, 1))
			continue;
		id = db_get_i64(res, r, 1);
		while (j < n && rows[j].row_id < id)
			j++;
		if (j < n && rows[j].row_id == id)
			next[j] = PQgetvalue(res, r, 2)[0] == 't' ?
			    NEXT_CHARGE : NEXT_PAUSE;
	}
}

/* A batch of running instances (in id order): one transaction locks them
 * through the lifecycle and charges each owner's as far as the balance
 * covers; those it could not pay are paused one by one (pause_broke:
 * unless the person stopped or deleted it meanwhile), any other left over
 * goes through bill_running.  If the batch fails (a deadlock with a
 * person's writer, say), every row of it goes through bill_running. */
static int
charge_batch(struct db *db, const struct bill_row *rows, int n,
	     const char *period, struct billing_stats *st)
{
	int64_t *ids = xcalloc((size_t)n, sizeof(*ids));
	int64_t *locked = xcalloc((size_t)n, sizeof(*locked));
	enum bill_next *next = xcalloc((size_t)n, sizeof(*next));
	PGresult *res = NULL;
	int64_t charged = 0;
	int nl, ret = 0;

	for (int i = 0; i < n; i++)
		ids[i] = rows[i].row_id;
	if (db_begin(db) < 0 ||
	    (nl = lifecycle_lock_all(db, LC_CHARGE, ids, n, locked)) < 0)
		goto failed;
	if (nl > 0) {
		if (!(res = charge_set(db, locked, nl, period)))
			goto failed;
		charged = db_get_i64(res, 0, 0);
		mark_left_over(res, rows, n, next);
	}
	if (db_commit(db) < 0)
		goto failed;
	st->charged += charged;
	goto per_row;
failed:
	db_rollback(db);
	log_warn("billing: a batch of %d failed; charging them one by one",
	    n);
	for (int i = 0; i < n; i++)
		next[i] = NEXT_CHARGE;
per_row:
	for (int i = 0; i < n; i++) {
		int r = 0;

		if (next[i] == NEXT_CHARGE)
			r = bill_running(db, &rows[i], period, st);
		else if (next[i] == NEXT_PAUSE)
			r = pause_broke(db, &rows[i], st);
		if (r < 0)
			ret = -1;
	}
	PQclear(res);
	free(ids);
	free(locked);
	free(next);
	return ret;
}

int
billing_run(struct db *db, const struct billing_rules *r, int64_t deadline_ms,
	    struct billing_stats *st)
{
	char period[24], grace[24];
	struct bill_row *run, b;
	enum bill_kind kind;
	PGresult *res;
	int nrun = 0;

	memset(st, 0, sizeof(*st));
	snprintf(period, sizeof(period), "%lld", (long long)r->period_s);
	snprintf(grace, sizeof(grace), "%lld", (long long)r->grace_s);
	if (!(res = select_work(db, period, grace)))
		return -1;
	/* charges in batches first, then the rare kinds one by one */
	run = xcalloc((size_t)PQntuples(res) + 1, sizeof(*run));
	for (int i = 0; i < PQntuples(res); i++)
		if (kind_parse(PQgetvalue(res, i, COL_KIND), &kind) == 0 &&
		    kind == BILL_CHARGE)
			bill_row_from(res, i, &run[nrun++]);
	for (int i = 0; i < nrun; i += BILL_BATCH) {
		if (clock_mono_ms() >= deadline_ms)
			break;
		charge_batch(db, run + i, nrun - i < BILL_BATCH ? nrun - i :
		    BILL_BATCH, period, st);
	}
	for (int i = 0; i < PQntuples(res); i++) {
		if (clock_mono_ms() >= deadline_ms)
			break;
		if (kind_parse(PQgetvalue(res, i, COL_KIND), &kind) < 0 ||
		    kind == BILL_CHARGE)
			continue;
		bill_row_from(res, i, &b);
		bill_one(db, &b, kind, period, st);
	}
	free(run);
	PQclear(res);
	return 0;
}
