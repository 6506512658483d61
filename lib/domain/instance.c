/*
 * Instances.  Creation takes a transaction-level advisory lock so that
 * capacity checks of concurrent creates see each other, and the user row
 * lock (through the ledger) so that one person's quota holds; ports come
 * from port_allocations, whose primary key makes sharing impossible.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/pause.h"
#include "base/rand.h"
#include "base/trace.h"
#include "base/xalloc.h"
#include "domain/achieve.h"
#include "domain/backup.h"
#include "domain/instance.h"
#include "domain/ledger.h"
#include "domain/lifecycle.h"
#include "store/db.h"

#define CREATE_LOCK "7424590002"	/* dbtree-wide advisory lock key */
#define RESET_LEASE_S 60	/* a credentials reset in flight holds it */

bool
instance_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 3 || n > INSTANCE_NAME_MAX || name[0] == '-' ||
	    name[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) && name[i] != '-')
			return false;
	return true;
}

void
instance_new_password(char out[25])
{
	rand_string(out, 24, "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
	    "23456789");
}

/* The query a URI of type ends with for tls. */
static const char *
tls_query(enum instance_tls tls, const char *type)
{
	bool verify = tls == INSTANCE_TLS_VERIFY;

	if (strcmp(type, "postgres") == 0)
		return verify ? "?sslmode=verify-full&sslrootcert="
		    INSTANCE_CA_FILE : "?sslmode=require";
	if (strcmp(type, "redis") == 0)
		return "";
	return verify ? "?authSource=admin&tls=true&tlsCAFile="
	    INSTANCE_CA_FILE : "?authSource=admin&tls=true";
}

int
instance_uri(char *out, size_t size, enum instance_tls tls, const char *type,
	     const char *user, const char *password, const char *host,
	     int port, const char *name)
{
	const char *q = tls_query(tls, type);
	int n;

	if (strcmp(type, "postgres") == 0)
		n = snprintf(out, size, "postgresql://%s:%s@%s:%d/%s%s", user,
		    password, host, port, name, q);
	else if (strcmp(type, "redis") == 0)
		n = snprintf(out, size, "rediss://%s:%s@%s:%d", user,
		    password, host, port);
	else
		n = snprintf(out, size, "mongodb://%s:%s@%s:%d/%s%s", user,
		    password, host, port, name, q);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static const char *
size_of(double cpu, int64_t mb)
{
	if (cpu <= 0.25 && mb <= 256)
		return "tiny";
	if (cpu <= 0.5 && mb <= 512)
		return "small";
	if (cpu <= 1.0 && mb <= 2048)
		return "medium";
	return "large";
}

int
instance_custom_spec(struct instance_spec *s, char *why, size_t why_size)
{
	double hourly;

	if (s->cpu < 0.1 || s->cpu > 16 || s->memory_mb < 128 ||
	    s->memory_mb > 65536 || s->disk_gb < 1 || s->disk_gb > 1000) {
		snprintf(why, why_size, "resources must be cpu 0.1-16, memory"
		    " 128-65536 MB, disk 1-1000 GB");
		return -1;
	}
	hourly = strcmp(s->type, "redis") == 0 ? s->memory_mb / 512.0 :
	    s->memory_mb / 1024.0 * 3;
	if (s->cpu > 0.5)
		hourly += (s->cpu - 0.5) * 2;
	if (s->disk_gb > 10)
		hourly += (s->disk_gb - 10) / 10.0;
	s->hourly_cost = (int64_t)fmax(hourly, 0.5);
	if (s->hourly_cost < 1)
		s->hourly_cost = 1;
	s->creation_cost = s->hourly_cost * 10;
	snprintf(s->size, sizeof(s->size), "%s", size_of(s->cpu, s->memory_mb));
	s->preset[0] = '\0';
	return 0;
}

int
instance_preset_spec(struct db *db, const char *id, struct instance_spec *s)
{
	const char *params[] = { id };
	PGresult *res = db_exec(db, "SELECT type, size, mode, cpu, memory,"
	    " disk, creation_cost, hourly_cost FROM db_presets WHERE id = $1",
	    1, params);

	if (!res)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 1;
	}
	snprintf(s->type, sizeof(s->type), "%s", PQgetvalue(res, 0, 0));
	snprintf(s->size, sizeof(s->size), "%s", PQgetvalue(res, 0, 1));
	snprintf(s->mode, sizeof(s->mode), "%s", PQgetvalue(res, 0, 2));
	snprintf(s->preset, sizeof(s->preset), "%s", id);
	s->cpu = strtod(PQgetvalue(res, 0, 3), NULL);
	s->memory_mb = db_get_i64(res, 0, 4);
	s->disk_gb = db_get_i64(res, 0, 5);
	s->creation_cost = db_get_i64(res, 0, 6);
	s->hourly_cost = db_get_i64(res, 0, 7);
	PQclear(res);
	return 0;
}

int
instance_capacity(struct db *db, struct capacity *c)
{
	PGresult *res = db_exec(db, "SELECT coalesce(sum(cpu), 0),"
	    " coalesce(sum(memory), 0), count(*) FROM db_instances"
	    " WHERE destroyed_at IS NULL AND (desired = 'running'"
	    " OR status IN ('provisioning', 'running') OR NOT scaled_down)",
	    0, NULL);

	if (!res)
		return -1;
	c->used_cpu = strtod(PQgetvalue(res, 0, 0), NULL);
	c->used_mb = db_get_i64(res, 0, 1);
	c->active = db_get_i64(res, 0, 2);
	PQclear(res);
	return 0;
}

bool
instance_holds(const struct instance_row *r)
{
	return r->desired == LC_WANT_RUNNING || r->status == LC_PROVISIONING ||
	    r->status == LC_RUNNING;
}

bool
instance_fits(const struct capacity *c, double cpu, int64_t memory_mb)
{
	return cpu <= c->total_cpu - c->reserved_cpu - c->used_cpu + 1e-9 &&
	    memory_mb <= c->total_mb - c->reserved_mb - c->used_mb;
}

/* Inside the create transaction: the user row locked, then quota, name,
 * capacity.  INSTANCE_OK or the refusal, or -1. */
static int
create_checks(struct db *db, const struct instance_create *c)
{
	const char *params[] = { c->user_id, c->name };
	PGresult *res = db_exec(db, "SELECT count(i.id),"
	    " count(i.id) FILTER (WHERE i.name = $2) FROM (SELECT id FROM users"
	    " WHERE id = $1 AND NOT is_deleted FOR UPDATE) u"
	    " LEFT JOIN db_instances i ON i.user_id = u.id"
	    " AND i.deleted_at IS NULL GROUP BY u.id", 2, params);
	struct capacity cap = { 0 };
	int ret = INSTANCE_OK;

	if (!res)
		return -1;
	if (PQntuples(res) != 1)
		ret = INSTANCE_NO_USER;
	else if (db_get_i64(res, 0, 1) > 0)
		ret = INSTANCE_NAME_TAKEN;
	else if (db_get_i64(res, 0, 0) >= c->quota)
		ret = INSTANCE_QUOTA;
	PQclear(res);
	if (ret != INSTANCE_OK)
		return ret;
	if (instance_capacity(db, &cap) < 0)
		return -1;
	cap.total_cpu = c->cap_cpu;
	cap.total_mb = c->cap_mb;
	return instance_fits(&cap, c->spec.cpu, c->spec.memory_mb) ?
	    INSTANCE_OK : INSTANCE_NO_CAPACITY;
}

static int
insert_row(struct db *db, struct instance_create *c)
{
	char cpu[24], mem[24], disk[24], cc[24], hc[24], tp[TRACE_PARENT_LEN];
	const struct instance_spec *s = &c->spec;
	const char *params[] = { c->user_id, c->name, s->type, s->size,
		s->mode, s->preset[0] ? s->preset : NULL, cpu, mem, disk, cc, hc,
		trace_current(tp) == 0 ? tp : NULL };
	PGresult *res;

	snprintf(cpu, sizeof(cpu), "%.2f", s->cpu);
	snprintf(mem, sizeof(mem), "%lld", (long long)s->memory_mb);
	snprintf(disk, sizeof(disk), "%lld", (long long)s->disk_gb);
	snprintf(cc, sizeof(cc), "%lld", (long long)s->creation_cost);
	snprintf(hc, sizeof(hc), "%lld", (long long)s->hourly_cost);
	res = db_exec(db, "INSERT INTO db_instances (user_id, name, type, size,"
	    " mode, created_from_preset, cpu, memory, disk, creation_cost,"
	    " hourly_cost, trace_parent) VALUES ($1, $2, $3, $4, $5, $6,"
	    " $7::numeric, $8::int, $9::int, $10::int, $11::int, $12)"
	    " RETURNING id, external_id, extract(epoch FROM created_at)::bigint",
	    12, params);
	if (!res)
		return -1;
	c->row_id = db_get_i64(res, 0, 0);
	snprintf(c->id, sizeof(c->id), "%s", PQgetvalue(res, 0, 1));
	c->created_at = (time_t)db_get_i64(res, 0, 2);
	PQclear(res);
	return 0;
}

/* A free port at random (not the lowest, so concurrent creates rarely
 * collide); the primary key settles any collision: DO NOTHING, try the
 * next.  INSTANCE_OK, INSTANCE_NO_PORT or -1. */
static int
allocate_port(struct db *db, struct instance_create *c)
{
	char min[16], max[16], row[24];
	const char *params[] = { min, max, c->reserved_ports, row };
	PGresult *res;

	snprintf(min, sizeof(min), "%lld", (long long)c->port_min);
	snprintf(max, sizeof(max), "%lld", (long long)c->port_max);
	snprintf(row, sizeof(row), "%lld", (long long)c->row_id);
	for (int attempt = 0; attempt < 8; attempt++) {
		res = db_exec(db, "INSERT INTO port_allocations (port,"
		    " instance_id) SELECT p, $4::bigint FROM generate_series("
		    "$1::int, $2::int) p WHERE p <> ALL (string_to_array($3, ',')"
		    "::int[]) AND NOT EXISTS (SELECT 1 FROM port_allocations a"
		    " WHERE a.port = p) AND NOT EXISTS (SELECT 1 FROM burned_ports b"
		    " WHERE b.port = p) ORDER BY random() LIMIT 1"
		    " ON CONFLICT (port) DO NOTHING RETURNING port", 4, params);
		if (!res)
			return -1;
		c->port = (int)db_get_i64(res, 0, 0);
		PQclear(res);
		if (c->port)
			return INSTANCE_OK;
	}
	return INSTANCE_NO_PORT;
}

static int
record_port(struct db *db, const struct instance_create *c)
{
	char port[16], row[24];
	const char *params[] = { row, port };
	PGresult *res;

	snprintf(port, sizeof(port), "%d", c->port);
	snprintf(row, sizeof(row), "%lld", (long long)c->row_id);
	res = db_exec(db, "UPDATE db_instances SET port = $2::int"
	    " WHERE id = $1::bigint", 2, params);
	PQclear(res);
	return res ? 0 : -1;
}

static int
debit_creation(struct db *db, struct instance_create *c)
{
	char note[128], row[24];
	struct ledger_move m = { .user_id = c->user_id,
		.action = "instance_create", .amount = -c->spec.creation_cost,
		.note = note, .instance_id = row };
	int r;

	snprintf(note, sizeof(note), "instance %s created", c->name);
	snprintf(row, sizeof(row), "%lld", (long long)c->row_id);
	if (c->spec.creation_cost == 0)
		return INSTANCE_OK;
	r = ledger_apply(db, &m);
	c->balance = m.balance;
	if (r == LEDGER_INSUFFICIENT)
		return INSTANCE_POOR;
	return r == LEDGER_OK ? INSTANCE_OK : -1;
}

int
instance_create(struct db *db, struct instance_create *c)
{
	struct achieve_award award;
	PGresult *res;
	int ret;

	if (db_begin(db) < 0)
		return -1;
	res = db_exec(db, "SELECT pg_advisory_xact_lock(" CREATE_LOCK ")", 0,
	    NULL);
	ret = res ? create_checks(db, c) : -1;
	PQclear(res);
	pause_point("create.checked");
	if (ret == INSTANCE_OK)
		ret = insert_row(db, c) < 0 ? -1 : debit_creation(db, c);
	if (ret == INSTANCE_OK)
		ret = allocate_port(db, c);
	if (ret == INSTANCE_OK && (record_port(db, c) < 0 ||
	    (c->from_backup && backup_restore_into_new(db, c->row_id,
	    c->from_backup) < 0) || achieve_award(db, c->user_id,
	    ACHIEVE_FIRST_DATABASE, c->lemon_cap, &award) < 0 ||
	    db_commit(db) < 0))
		ret = -1;
	db_rollback(db);
	return ret;
}

int
instance_new_port(struct db *db, int64_t row_id, int old_port,
		  const struct instance_create *range, int *port)
{
	struct instance_create c = *range;
	char old[16], row[24];
	const char *params[] = { old, row };
	PGresult *res;
	int ret = -1;

	c.row_id = row_id;
	snprintf(old, sizeof(old), "%d", old_port);
	snprintf(row, sizeof(row), "%lld", (long long)row_id);
	if (db_begin(db) < 0)
		return -1;
	res = db_exec(db, "WITH b AS (INSERT INTO burned_ports (port, reason)"
	    " VALUES ($1::int, 'in use by something else') ON CONFLICT DO NOTHING)"
	    " DELETE FROM port_allocations WHERE instance_id = $2::bigint",
	    2, params);
	if (res && (ret = allocate_port(db, &c)) == INSTANCE_OK &&
	    record_port(db, &c) == 0 && db_commit(db) == 0)
		*port = c.port;
	else if (ret == INSTANCE_OK)
		ret = -1;
	PQclear(res);
	db_rollback(db);
	return ret;
}

int
instance_release_port(struct db *db, int64_t row_id)
{
	char row[24];
	const char *params[] = { row };
	PGresult *res;

	snprintf(row, sizeof(row), "%lld", (long long)row_id);
	res = db_exec(db, "DELETE FROM port_allocations"
	    " WHERE instance_id = $1::bigint", 1, params);
	PQclear(res);
	return res ? 0 : -1;
}

int
instance_create_undo(struct db *db, const struct instance_create *c)
{
	char note[128], row[24];
	struct ledger_move m = { .user_id = c->user_id,
		.action = "instance_create_refund",
		.amount = c->spec.creation_cost, .note = note,
		.instance_id = row };
	struct lc_target t = { .row_id = c->row_id, .seen_seq = -1 };
	int ret = -1;

	snprintf(note, sizeof(note), "refund: instance %s could not be set up",
	    c->name);
	snprintf(row, sizeof(row), "%lld", (long long)c->row_id);
	if (db_begin(db) < 0)
		return -1;
	switch (lifecycle_move(db, LC_CREATE_UNDO, &t, NULL)) {
	case LC_MOVED:
		if (instance_release_port(db, c->row_id) == 0 &&
		    (m.amount == 0 || ledger_apply(db, &m) == LEDGER_OK))
			ret = db_commit(db);
		break;
	case LC_LOST_RACE:	/* deleted meanwhile: the reconciler cleans up */
	case LC_NOT_ALLOWED:
	case LC_NOT_FOUND:
		ret = 0;
		break;
	}
	db_rollback(db);
	return ret;
}

/* The row id and hourly cost of the user's live instance id (external). */
static int
find_row(struct db *db, const char *user_id, const char *id, int64_t *row,
	 int64_t *hourly)
{
	const char *params[] = { user_id, id };
	PGresult *res = db_exec(db, "SELECT id, hourly_cost FROM db_instances"
	    " WHERE user_id = $1 AND external_id::text = $2"
	    " AND deleted_at IS NULL", 2, params);
	int ret;

	if (!res)
		return -1;
	ret = PQntuples(res) == 1 ? INSTANCE_OK : INSTANCE_NOT_FOUND;
	if (ret == INSTANCE_OK) {
		*row = db_get_i64(res, 0, 0);
		*hourly = db_get_i64(res, 0, 1);
	}
	PQclear(res);
	return ret;
}

static int
balance_covers(struct db *db, const char *user_id, int64_t hourly)
{
	const char *params[] = { user_id };
	PGresult *res = db_exec(db, "SELECT lemon_balance FROM users"
	    " WHERE id = $1", 1, params);
	int ret;

	if (!res)
		return -1;
	ret = db_get_i64(res, 0, 0) >= hourly ? INSTANCE_OK : INSTANCE_POOR;
	PQclear(res);
	return ret;
}

static int
from_move(int r)
{
	switch (r) {
	case LC_MOVED:
		return INSTANCE_OK;
	case LC_NOT_FOUND:
		return INSTANCE_NOT_FOUND;
	case LC_LOST_RACE:
	case LC_NOT_ALLOWED:
		return INSTANCE_BAD_STATE;
	}
	return -1;
}

int
instance_action(struct db *db, const char *user_id, const char *id,
		enum lc_event ev, struct lc_state *now)
{
	struct lc_target t = { .user_id = user_id, .seen_seq = -1 };
	int64_t hourly = 0;
	int ret = find_row(db, user_id, id, &t.row_id, &hourly);

	if (ret != INSTANCE_OK)
		return ret;
	if (db_begin(db) < 0)
		return -1;
	ret = from_move(lifecycle_move(db, ev, &t, now));
	if (ret == INSTANCE_OK && ev == LC_START)
		ret = balance_covers(db, user_id, hourly);
	if (ret == INSTANCE_OK && db_commit(db) < 0)
		ret = -1;
	db_rollback(db);
	return ret;
}

int
instance_delete(struct db *db, const char *user_id, const char *id)
{
	struct lc_target t = { .user_id = user_id, .seen_seq = -1 };
	char final[BACKUP_ID_LEN + 1];
	int64_t hourly = 0;
	int ret = find_row(db, user_id, id, &t.row_id, &hourly);

	if (ret != INSTANCE_OK)
		return ret;
	if (db_begin(db) < 0)
		return -1;
	ret = from_move(lifecycle_move(db, LC_DELETE, &t, NULL));
	if (ret == INSTANCE_OK && (backup_queue_final(db, t.row_id, final) < 0 ||
	    db_commit(db) < 0))
		ret = -1;
	db_rollback(db);
	return ret == INSTANCE_BAD_STATE ? INSTANCE_NOT_FOUND : ret;
}

int
instance_delete_all(struct db *db, const char *user_id)
{
	return lifecycle_delete_all(db, user_id) < 0 ? -1 : 0;
}

int
instance_reset_begin(struct db *db, const char *user_id, const char *id,
		     struct instance_row *row)
{
	const char *params[] = { user_id, id };
	PGresult *res;
	bool leased;
	int ret;

	pause_point("credentials.before");
	res = db_exec(db, "UPDATE db_instances SET reset_until = now()"
	    " + interval '" DB_SQL_INT(RESET_LEASE_S) " seconds'"
	    " WHERE user_id = $1 AND external_id::text = $2"
	    " AND deleted_at IS NULL AND status <> 'error'"
	    " AND (reset_until IS NULL OR reset_until < now())", 2, params);
	if (!res)
		return -1;
	leased = strcmp(PQcmdTuples(res), "1") == 0;
	PQclear(res);
	if ((ret = instance_get(db, user_id, id, row)) != INSTANCE_OK)
		return ret;
	if (leased)
		return INSTANCE_OK;
	return row->status == LC_ERROR ? INSTANCE_BAD_STATE : INSTANCE_BUSY;
}

int
instance_reset_end(struct db *db, int64_t row_id)
{
	char row[24];
	const char *params[] = { row };
	PGresult *res;

	snprintf(row, sizeof(row), "%lld", (long long)row_id);
	res = db_exec(db, "UPDATE db_instances SET reset_until = NULL"
	    " WHERE id = $1::bigint", 1, params);
	PQclear(res);
	return res ? 0 : -1;
}

/* The columns of ROW_COLUMNS, in order. */
enum row_col {
	COL_EXTERNAL_ID, COL_ID, COL_NAME, COL_TYPE, COL_SIZE, COL_MODE,
	COL_PRESET, COL_CPU, COL_MEMORY, COL_DISK, COL_CREATION_COST,
	COL_HOURLY_COST, COL_STATUS, COL_DESIRED, COL_REASON, COL_PORT,
	COL_CREATED_AT, COL_UPDATED_AT, COL_PAUSED_AT,
};

#define ROW_COLUMNS "external_id, id, name, type, size, mode," \
	" coalesce(created_from_preset, ''), cpu, memory, disk, creation_cost," \
	" hourly_cost, status, desired, status_reason, coalesce(port, 0)," \
	" extract(epoch FROM created_at)::bigint," \
	" extract(epoch FROM updated_at)::bigint," \
	" coalesce(extract(epoch FROM paused_at)::bigint, 0)"

static void
text_at(const PGresult *res, int i, enum row_col c, char *out, size_t size)
{
	snprintf(out, size, "%s", PQgetvalue(res, i, c));
}

static void
row_from(const PGresult *res, int i, struct instance_row *r)
{
	struct instance_spec *s = &r->spec;

	memset(r, 0, sizeof(*r));
	text_at(res, i, COL_EXTERNAL_ID, r->id, sizeof(r->id));
	r->row_id = db_get_i64(res, i, COL_ID);
	text_at(res, i, COL_NAME, r->name, sizeof(r->name));
	text_at(res, i, COL_TYPE, s->type, sizeof(s->type));
	text_at(res, i, COL_SIZE, s->size, sizeof(s->size));
	text_at(res, i, COL_MODE, s->mode, sizeof(s->mode));
	text_at(res, i, COL_PRESET, s->preset, sizeof(s->preset));
	s->cpu = strtod(PQgetvalue(res, i, COL_CPU), NULL);
	s->memory_mb = db_get_i64(res, i, COL_MEMORY);
	s->disk_gb = db_get_i64(res, i, COL_DISK);
	s->creation_cost = db_get_i64(res, i, COL_CREATION_COST);
	s->hourly_cost = db_get_i64(res, i, COL_HOURLY_COST);
	lc_status_parse(PQgetvalue(res, i, COL_STATUS), &r->status);
	lc_desired_parse(PQgetvalue(res, i, COL_DESIRED), &r->desired);
	text_at(res, i, COL_REASON, r->reason, sizeof(r->reason));
	r->port = (int)db_get_i64(res, i, COL_PORT);
	r->created_at = (time_t)db_get_i64(res, i, COL_CREATED_AT);
	r->updated_at = (time_t)db_get_i64(res, i, COL_UPDATED_AT);
	r->paused_at = (time_t)db_get_i64(res, i, COL_PAUSED_AT);
}

int
instance_list(struct db *db, const char *user_id, struct instance_row **rows,
	      size_t *n)
{
	const char *params[] = { user_id };
	PGresult *res = db_exec(db, "SELECT " ROW_COLUMNS " FROM db_instances"
	    " WHERE user_id = $1 AND deleted_at IS NULL"
	    " ORDER BY created_at DESC, id DESC", 1, params);

	if (!res)
		return -1;
	*n = (size_t)PQntuples(res);
	*rows = xcalloc(*n ? *n : 1, sizeof(**rows));
	for (size_t i = 0; i < *n; i++)
		row_from(res, (int)i, &(*rows)[i]);
	PQclear(res);
	return 0;
}

int
instance_get(struct db *db, const char *user_id, const char *id,
	     struct instance_row *row)
{
	const char *params[] = { user_id, id };
	PGresult *res = db_exec(db, "SELECT " ROW_COLUMNS " FROM db_instances"
	    " WHERE user_id = $1 AND external_id::text = $2"
	    " AND deleted_at IS NULL", 2, params);
	int ret;

	if (!res)
		return -1;
	ret = PQntuples(res) == 1 ? INSTANCE_OK : INSTANCE_NOT_FOUND;
	if (ret == INSTANCE_OK)
		row_from(res, 0, row);
	PQclear(res);
	return ret;
}
