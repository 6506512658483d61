/*
 * Reconciler bookkeeping.  Each change is its own short statement or
 * transaction, so one instance's failure never holds up another's.
 */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "domain/backup.h"
#include "domain/fleet.h"
#include "domain/ledger.h"
#include "domain/outbox.h"
#include "store/db.h"

/* The columns of fleet_load's query, in order. */
enum fleet_col {
	COL_ID, COL_EXTERNAL_ID, COL_USER_ID, COL_NAME, COL_TYPE, COL_STATUS,
	COL_DESIRED, COL_INTENT_SEQ, COL_CPU, COL_MEMORY, COL_DISK,
	COL_CREATION_COST, COL_PORT, COL_RESTART, COL_DUE, COL_OVERDUE,
	COL_SCALED_DOWN, COL_FAILURES, COL_FINAL_PENDING, COL_TRACE_PARENT,
};

static bool
flag_at(const PGresult *res, int i, enum fleet_col c)
{
	return PQgetvalue(res, i, c)[0] == 't';
}

static void
fill(const PGresult *res, int i, struct fleet_row *r)
{
	memset(r, 0, sizeof(*r));
	r->row_id = db_get_i64(res, i, COL_ID);
	snprintf(r->id, sizeof(r->id), "%s", PQgetvalue(res, i, COL_EXTERNAL_ID));
	snprintf(r->user_id, sizeof(r->user_id), "%s",
	    PQgetvalue(res, i, COL_USER_ID));
	snprintf(r->name, sizeof(r->name), "%s", PQgetvalue(res, i, COL_NAME));
	snprintf(r->type, sizeof(r->type), "%s", PQgetvalue(res, i, COL_TYPE));
	lc_status_parse(PQgetvalue(res, i, COL_STATUS), &r->status);
	lc_desired_parse(PQgetvalue(res, i, COL_DESIRED), &r->desired);
	r->intent_seq = db_get_i64(res, i, COL_INTENT_SEQ);
	r->cpu = strtod(PQgetvalue(res, i, COL_CPU), NULL);
	r->memory_mb = db_get_i64(res, i, COL_MEMORY);
	r->disk_gb = db_get_i64(res, i, COL_DISK);
	r->creation_cost = db_get_i64(res, i, COL_CREATION_COST);
	r->port = (int)db_get_i64(res, i, COL_PORT);
	r->restart = flag_at(res, i, COL_RESTART);
	r->due = flag_at(res, i, COL_DUE);
	r->overdue = flag_at(res, i, COL_OVERDUE);
	r->scaled_down = flag_at(res, i, COL_SCALED_DOWN);
	r->failures = db_get_i64(res, i, COL_FAILURES);
	r->final_pending = flag_at(res, i, COL_FINAL_PENDING);
	snprintf(r->trace_parent, sizeof(r->trace_parent), "%s",
	    PQgetvalue(res, i, COL_TRACE_PARENT));
}

int
fleet_load(struct db *db, int64_t provision_timeout_s, struct fleet_row **rows,
	   size_t *n)
{
	char timeout[24];
	const char *params[] = { timeout };
	PGresult *res;

	snprintf(timeout, sizeof(timeout), "%lld",
	    (long long)provision_timeout_s);
	res = db_exec(db, "SELECT id, external_id, user_id, name, type, status,"
	    " desired, intent_seq, cpu, memory, disk, creation_cost,"
	    " coalesce(port, 0), restart_requested, retry_at <= now(),"
	    " status = 'provisioning' AND created_at"
	    "  + make_interval(secs => $1::int) < now(),"
	    " scaled_down, failures, " BACKUP_FINAL_PENDING("db_instances")
	    ", coalesce(trace_parent, '')"
	    " FROM db_instances WHERE destroyed_at IS NULL ORDER BY id",
	    1, params);
	if (!res)
		return -1;
	*n = (size_t)PQntuples(res);
	*rows = xcalloc(*n ? *n : 1, sizeof(**rows));
	for (size_t i = 0; i < *n; i++)
		fill(res, (int)i, &(*rows)[i]);
	PQclear(res);
	return 0;
}

static struct lc_target
target_of(const struct fleet_row *r, const char *reason)
{
	return (struct lc_target){ .row_id = r->row_id,
		.seen_seq = r->intent_seq, .reason = reason };
}

int
fleet_seen(struct db *db, const struct fleet_row *r, enum lc_event ev,
	   const char *reason)
{
	struct lc_target t = target_of(r, reason);

	return lifecycle_move(db, ev, &t, NULL);
}

/* One statement about row r ($1 = its id, $2 = text); through the macro
 * below, so the SQL is a literal as everywhere else. */
static int
update_row_(struct db *db, const char *func, const struct fleet_row *r,
	    const char *sql_text, const char *sql)
{
	char row[24];
	const char *params[] = { row, sql_text };
	PGresult *res;

	snprintf(row, sizeof(row), "%lld", (long long)r->row_id);
	res = db_exec_(db, func, sql, 2, params);
	PQclear(res);
	return res ? 0 : -1;
}

#define update_row(db, r, text, sql) \
	update_row_((db), __func__, (r), (text), "" sql)

static struct json_object *
ready_mail(const struct fleet_row *r, const char *host)
{
	struct json_object *p = json_object_new_object();

	json_object_object_add(p, "name", json_object_new_string(r->name));
	json_object_object_add(p, "type", json_object_new_string(r->type));
	json_object_object_add(p, "host", json_object_new_string(host));
	json_object_object_add(p, "port", json_object_new_int(r->port));
	return p;
}

/* The owner's address, for a mail. */
static int
owner_email(struct db *db, const struct fleet_row *r, char *out,
	    size_t size)
{
	const char *params[] = { r->user_id };
	PGresult *res = db_exec(db, "SELECT email FROM users WHERE id = $1",
	    1, params);

	if (!res || PQntuples(res) != 1) {
		PQclear(res);
		return -1;
	}
	snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int
fleet_ready(struct db *db, const struct fleet_row *r, const char *host)
{
	struct json_object *p = ready_mail(r, host);
	struct lc_target t = target_of(r, NULL);
	char email[320];
	int64_t mail = 0;
	int ret;

	if (db_begin(db) < 0) {
		json_object_put(p);
		return -1;
	}
	ret = lifecycle_move(db, LC_SEEN_READY, &t, NULL);
	if (ret == LC_MOVED && (owner_email(db, r, email, sizeof(email)) < 0 ||
	    outbox_add(db, "instance_ready", email,
	    json_object_to_json_string(p), &mail) < 0 || db_commit(db) < 0))
		ret = -1;
	db_rollback(db);
	json_object_put(p);
	return ret;
}

static int
refund(struct db *db, const struct fleet_row *r)
{
	char note[128], row[24];
	struct ledger_move m = { .user_id = r->user_id,
		.action = "instance_create_refund", .amount = r->creation_cost,
		.note = note, .instance_id = row };

	snprintf(note, sizeof(note), "refund: instance %s did not start",
	    r->name);
	snprintf(row, sizeof(row), "%lld", (long long)r->row_id);
	if (r->creation_cost == 0)
		return 0;
	return ledger_apply(db, &m) == LEDGER_OK ? 0 : -1;
}

int
fleet_error(struct db *db, const struct fleet_row *r, const char *reason)
{
	struct lc_target t = target_of(r, reason);
	bool never_ready = r->status == LC_PROVISIONING;
	int ret;

	if (db_begin(db) < 0)
		return -1;
	ret = lifecycle_move(db, never_ready ? LC_NEVER_READY :
	    LC_SEEN_FAILED, &t, NULL);
	if (ret == LC_MOVED && ((never_ready && refund(db, r) < 0) ||
	    db_commit(db) < 0))
		ret = -1;
	db_rollback(db);
	if (ret == LC_MOVED)
		log_warn("instance '%s': error: %s", r->id, reason);
	return ret;
}

bool
fleet_intent_holds(struct db *db, const struct fleet_row *r)
{
	char row[24], seq[24];
	const char *params[] = { row, seq };
	PGresult *res;
	bool holds;

	snprintf(row, sizeof(row), "%lld", (long long)r->row_id);
	snprintf(seq, sizeof(seq), "%lld", (long long)r->intent_seq);
	res = db_exec(db, "SELECT 1 FROM db_instances WHERE id = $1::bigint"
	    " AND intent_seq = $2::bigint", 2, params);
	holds = res && PQntuples(res) == 1;
	PQclear(res);
	return holds;
}

int
fleet_backoff(struct db *db, const struct fleet_row *r, const char *why)
{
	return update_row(db, r, why, "UPDATE db_instances SET"
	    " failures = failures + 1, status_reason = $2,"
	    " retry_at = now() + least(interval '60 seconds',"
	    " interval '1 second' * 2 ^ least(failures, 6))"
	    " WHERE id = $1::bigint");
}

int
fleet_restarted(struct db *db, const struct fleet_row *r)
{
	return update_row(db, r, "", "UPDATE db_instances SET"
	    " restart_requested = false WHERE id = $1::bigint AND $2 = ''");
}

void
fleet_marks_init(struct fleet_marks *m)
{
	memset(m, 0, sizeof(*m));
}

static void
ids_add(struct fleet_ids *s, const struct fleet_row *r)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->id = xrealloc(s->id, s->cap * sizeof(*s->id));
		s->seq = xrealloc(s->seq, s->cap * sizeof(*s->seq));
	}
	s->id[s->n] = r->row_id;
	s->seq[s->n++] = r->intent_seq;
}

void
fleet_mark_healthy(struct fleet_marks *m, const struct fleet_row *r)
{
	if (r->failures > 0)
		ids_add(&m->healthy, r);
}

void
fleet_mark_scaled_down(struct fleet_marks *m, const struct fleet_row *r)
{
	if (!r->scaled_down)
		ids_add(&m->scaled_down, r);
}

/* The statement of one kind of mark ($1 ids, $2 their intent_seq). */
static int
flush_ids_(struct db *db, const char *func, struct fleet_ids *s,
	   const char *sql)
{
	struct buf ids = BUF_INIT(s->n * 21 + 3);
	struct buf seqs = BUF_INIT(s->n * 21 + 3);
	const char *params[2];
	PGresult *res;

	if (s->n == 0)
		return 0;
	db_i64_array(&ids, s->id, s->n);
	db_i64_array(&seqs, s->seq, s->n);
	params[0] = buf_cstr(&ids);
	params[1] = buf_cstr(&seqs);
	res = db_exec_(db, func, sql, 2, params);
	PQclear(res);
	buf_release(&ids);
	buf_release(&seqs);
	s->n = 0;
	return res ? 0 : -1;
}

#define flush_ids(db, s, sql)	flush_ids_((db), __func__, (s), "" sql)
#define MARKED " FROM unnest($1::bigint[], $2::bigint[]) AS m(id, seq)" \
	" WHERE i.id = m.id AND i.intent_seq = m.seq"

int
fleet_marks_flush(struct db *db, struct fleet_marks *m)
{
	int ret = 0;

	if (flush_ids(db, &m->healthy, "UPDATE db_instances i SET"
	    " failures = 0, status_reason = ''" MARKED
	    " AND i.failures > 0") < 0)
		ret = -1;
	if (flush_ids(db, &m->scaled_down, "UPDATE db_instances i SET"
	    " scaled_down = true" MARKED " AND NOT i.scaled_down") < 0)
		ret = -1;
	return ret;
}

void
fleet_marks_release(struct fleet_marks *m)
{
	free(m->healthy.id);
	free(m->healthy.seq);
	free(m->scaled_down.id);
	free(m->scaled_down.seq);
	memset(m, 0, sizeof(*m));
}

int
fleet_destroyed(struct db *db, const struct fleet_row *r)
{
	struct lc_target t = target_of(r, NULL);
	int ret;

	if (db_begin(db) < 0)
		return -1;
	ret = lifecycle_move(db, LC_DESTROYED, &t, NULL);
	if (ret == LC_MOVED && (instance_release_port(db, r->row_id) < 0 ||
	    db_commit(db) < 0))
		ret = -1;
	db_rollback(db);
	return ret;
}

int64_t
fleet_release_ports(struct db *db)
{
	PGresult *res = db_exec(db, "DELETE FROM port_allocations a"
	    " USING db_instances i WHERE i.id = a.instance_id"
	    " AND i.destroyed_at IS NOT NULL", 0, NULL);
	int64_t n = res ? strtoll(PQcmdTuples(res), NULL, 10) : -1;

	PQclear(res);
	return n;
}

int
fleet_owner(struct db *db, const char *id)
{
	const char *params[] = { id };
	PGresult *res = db_exec(db, "SELECT deleted_at IS NOT NULL AND NOT ("
	    BACKUP_FINAL_PENDING("i") ") FROM db_instances i"
	    " WHERE external_id::text = $1", 1, params);
	int ret;

	if (!res)
		return -1;
	if (PQntuples(res) == 0)
		ret = 2;
	else
		ret = PQgetvalue(res, 0, 0)[0] == 't' ? 1 : 0;
	PQclear(res);
	return ret;
}
