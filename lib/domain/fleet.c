/*
 * Reconciler bookkeeping.  Each change is its own short statement or
 * transaction, so one instance's failure never holds up another's.
 */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "domain/fleet.h"
#include "domain/ledger.h"
#include "domain/outbox.h"
#include "store/db.h"

static void
fill(const PGresult *res, int i, struct fleet_row *r)
{
	memset(r, 0, sizeof(*r));
	r->row_id = db_get_i64(res, i, 0);
	snprintf(r->id, sizeof(r->id), "%s", PQgetvalue(res, i, 1));
	snprintf(r->user_id, sizeof(r->user_id), "%s", PQgetvalue(res, i, 2));
	snprintf(r->name, sizeof(r->name), "%s", PQgetvalue(res, i, 3));
	snprintf(r->type, sizeof(r->type), "%s", PQgetvalue(res, i, 4));
	snprintf(r->status, sizeof(r->status), "%s", PQgetvalue(res, i, 5));
	r->cpu = strtod(PQgetvalue(res, i, 6), NULL);
	r->memory_mb = db_get_i64(res, i, 7);
	r->disk_gb = db_get_i64(res, i, 8);
	r->creation_cost = db_get_i64(res, i, 9);
	r->port = (int)db_get_i64(res, i, 10);
	r->restart = PQgetvalue(res, i, 11)[0] == 't';
	r->due = PQgetvalue(res, i, 12)[0] == 't';
	r->overdue = PQgetvalue(res, i, 13)[0] == 't';
	r->scaled_down = PQgetvalue(res, i, 14)[0] == 't';
	r->failures = db_get_i64(res, i, 15);
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
	    " cpu, memory, disk, creation_cost, coalesce(port, 0),"
	    " restart_requested, retry_at <= now(),"
	    " status = 'provisioning' AND created_at"
	    "  + make_interval(secs => $1::int) < now(),"
	    " scaled_down, failures FROM db_instances"
	    " WHERE destroyed_at IS NULL ORDER BY id", 1, params);
	if (!res)
		return -1;
	*n = (size_t)PQntuples(res);
	*rows = xcalloc(*n ? *n : 1, sizeof(**rows));
	for (size_t i = 0; i < *n; i++)
		fill(res, (int)i, &(*rows)[i]);
	PQclear(res);
	return 0;
}

/* One statement about row r ($1 = its id, $2 = text); through the macro
 * below, so the SQL is a literal as everywhere else. */
static int
update_row_(struct db *db, const struct fleet_row *r, const char *sql_text,
	    const char *sql)
{
	char row[24];
	const char *params[] = { row, sql_text };
	PGresult *res;

	snprintf(row, sizeof(row), "%lld", (long long)r->row_id);
	res = db_exec_(db, sql, 2, params);
	PQclear(res);
	return res ? 0 : -1;
}

#define update_row(db, r, text, sql) update_row_((db), (r), (text), "" sql)

int
fleet_ready(struct db *db, const struct fleet_row *r, const char *host)
{
	char row[24];
	const char *params[] = { row };
	struct json_object *p = json_object_new_object();
	PGresult *res;
	int64_t mail = 0;
	int ret = -1;

	snprintf(row, sizeof(row), "%lld", (long long)r->row_id);
	json_object_object_add(p, "name", json_object_new_string(r->name));
	json_object_object_add(p, "type", json_object_new_string(r->type));
	json_object_object_add(p, "host", json_object_new_string(host));
	json_object_object_add(p, "port", json_object_new_int(r->port));
	if (db_begin(db) < 0) {
		json_object_put(p);
		return -1;
	}
	res = db_exec(db, "UPDATE db_instances SET status = 'running',"
	    " status_reason = '', ready_at = now(), updated_at = now(),"
	    " failures = 0 WHERE id = $1::bigint AND status = 'provisioning'"
	    " RETURNING (SELECT email FROM users u WHERE u.id = user_id)",
	    1, params);
	if (res && PQntuples(res) == 1 && outbox_add(db, "instance_ready",
	    PQgetvalue(res, 0, 0), json_object_to_json_string(p), &mail) == 0)
		ret = db_commit(db);
	PQclear(res);
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
	if (r->creation_cost == 0 || strcmp(r->status, "provisioning") != 0)
		return 0;
	return ledger_apply(db, &m) == LEDGER_OK ? 0 : -1;
}

int
fleet_error(struct db *db, const struct fleet_row *r, const char *reason)
{
	int ret = -1;

	if (db_begin(db) < 0)
		return -1;
	if (update_row(db, r, reason, "UPDATE db_instances SET status ="
	    " 'error', status_reason = $2, updated_at = now()"
	    " WHERE id = $1::bigint") == 0 && refund(db, r) == 0)
		ret = db_commit(db);
	db_rollback(db);
	if (ret == 0)
		log_warn("instance '%s': error: %s", r->id, reason);
	return ret;
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
fleet_healthy(struct db *db, const struct fleet_row *r)
{
	if (r->failures == 0)
		return 0;
	return update_row(db, r, "", "UPDATE db_instances SET failures = 0,"
	    " status_reason = $2 WHERE id = $1::bigint AND failures > 0");
}

int
fleet_restarted(struct db *db, const struct fleet_row *r)
{
	return update_row(db, r, "", "UPDATE db_instances SET"
	    " restart_requested = false WHERE id = $1::bigint AND $2 = ''");
}

int
fleet_scaled_down(struct db *db, const struct fleet_row *r)
{
	if (r->scaled_down)
		return 0;
	return update_row(db, r, "", "UPDATE db_instances SET"
	    " scaled_down = true WHERE id = $1::bigint AND $2 = ''");
}

int
fleet_destroyed(struct db *db, const struct fleet_row *r)
{
	return update_row(db, r, "", "WITH p AS (DELETE FROM port_allocations"
	    " WHERE instance_id = $1::bigint) UPDATE db_instances SET"
	    " destroyed_at = now(), port = NULL, scaled_down = true"
	    " WHERE id = $1::bigint AND $2 = ''");
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
	PGresult *res = db_exec(db, "SELECT deleted_at IS NOT NULL"
	    " FROM db_instances WHERE external_id::text = $1", 1, params);
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
