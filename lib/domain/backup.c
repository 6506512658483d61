/*
 * Backups and restores: the SQL behind backup.h.  Requests from the pool
 * each run in one transaction; the runner's steps are short statements of
 * their own, so a long dump never holds a transaction open.
 *
 * Link tokens are hashed by PostgreSQL (sha256 of the token's text): only
 * the hash is stored, and a spent, expired or unknown token looks the
 * same to the person holding it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/rand.h"
#include "base/xalloc.h"
#include "domain/backup.h"
#include "domain/ledger.h"
#include "domain/lifecycle.h"
#include "store/db.h"

#define GIB 1073741824LL	/* also spelled out in ROOM() */
#define TOKEN_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789-"
#define TOKEN_HASH "sha256(convert_to($1::text, 'UTF8'))"

/* The columns of ROW_COLS, in order. */
enum row_col {
	C_ID, C_ROW, C_INST, C_INST_ROW, C_NAME, C_TYPE, C_KIND, C_STATE,
	C_REASON, C_SIZE, C_COST, C_CREATED, C_FINISHED, C_EXPIRES, C_RUNNING_S,
	C__COUNT
};

#define ROW_COLS "b.external_id, b.id, i.external_id, i.id, i.name, i.type," \
	" b.kind, b.state, b.reason, b.size_bytes, b.cost," \
	" extract(epoch FROM b.created_at)::bigint," \
	" coalesce(extract(epoch FROM b.finished_at)::bigint, 0)," \
	" coalesce(extract(epoch FROM b.expires_at)::bigint, 0)," \
	" coalesce(extract(epoch FROM now() - b.started_at)::bigint, 0)"
#define FROM_ROWS " FROM db_backups b JOIN db_instances i" \
	" ON i.id = b.instance_id"
/* the room an instance's kept backups leave on its disk */
#define ROOM(i) "(" i ".disk::bigint * 1073741824 - coalesce((" \
	"SELECT sum(k.size_bytes) FROM db_backups k WHERE k.instance_id = " \
	i ".id AND k.kind <> 'final' AND k.state = 'done'" \
	" AND k.removed_at IS NULL AND (k.expires_at IS NULL" \
	" OR k.expires_at > now())), 0))"

static const char *const kind_names[BACKUP_KIND_COUNT] = {
	[BACKUP_MANUAL] = "manual", [BACKUP_DAILY] = "daily",
	[BACKUP_PRE_RESTORE] = "pre_restore", [BACKUP_FINAL] = "final",
};

static const char *const state_names[BACKUP_STATE_COUNT] = {
	[BACKUP_QUEUED] = "queued", [BACKUP_RUNNING] = "running",
	[BACKUP_DONE] = "done", [BACKUP_FAILED] = "failed",
};

const char *
backup_kind_name(enum backup_kind k)
{
	return (unsigned)k < BACKUP_KIND_COUNT ? kind_names[k] : "unknown";
}

const char *
backup_state_name(enum backup_state s)
{
	return (unsigned)s < BACKUP_STATE_COUNT ? state_names[s] : "unknown";
}

static int
name_index(const char *const *names, int n, const char *text)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], text) == 0)
			return i;
	return 0;
}

static void
text_at(const PGresult *res, int i, int c, char *out, size_t size)
{
	snprintf(out, size, "%s", PQgetvalue(res, i, c));
}

static void
row_from(const PGresult *res, int i, struct backup_row *r)
{
	memset(r, 0, sizeof(*r));
	text_at(res, i, C_ID, r->id, sizeof(r->id));
	r->row_id = db_get_i64(res, i, C_ROW);
	text_at(res, i, C_INST, r->instance_id, sizeof(r->instance_id));
	r->instance_row = db_get_i64(res, i, C_INST_ROW);
	text_at(res, i, C_NAME, r->instance_name, sizeof(r->instance_name));
	text_at(res, i, C_TYPE, r->type, sizeof(r->type));
	r->kind = (enum backup_kind)name_index(kind_names, BACKUP_KIND_COUNT,
	    PQgetvalue(res, i, C_KIND));
	r->state = (enum backup_state)name_index(state_names,
	    BACKUP_STATE_COUNT, PQgetvalue(res, i, C_STATE));
	text_at(res, i, C_REASON, r->reason, sizeof(r->reason));
	r->size_bytes = db_get_i64(res, i, C_SIZE);
	r->cost = db_get_i64(res, i, C_COST);
	r->created_at = (time_t)db_get_i64(res, i, C_CREATED);
	r->finished_at = (time_t)db_get_i64(res, i, C_FINISHED);
	r->expires_at = (time_t)db_get_i64(res, i, C_EXPIRES);
	r->running_s = db_get_i64(res, i, C_RUNNING_S);
}

static int
rows_from(PGresult *res, struct backup_row **rows, size_t *n)
{
	if (!res)
		return -1;
	*n = (size_t)PQntuples(res);
	*rows = xcalloc(*n ? *n : 1, sizeof(**rows));
	for (size_t i = 0; i < *n; i++)
		row_from(res, (int)i, &(*rows)[i]);
	PQclear(res);
	return 0;
}

static void
i64_text(char *out, size_t size, int64_t v)
{
	snprintf(out, size, "%" PRId64, v);
}

int
backup_path(char *out, size_t size, const char *dir,
	    const struct backup_row *b)
{
	const char *ext = strcmp(b->type, "postgres") == 0 ? "dump" :
	    strcmp(b->type, "redis") == 0 ? "rdb" : "archive";
	int n = snprintf(out, size, "%s/%s/%s.%s", dir, b->instance_id, b->id,
	    ext);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* The id in row 0 of res (freed here), 0 when it has no row, -1 when
 * the statement failed. */
static int64_t
returned_id(PGresult *res)
{
	int64_t id;

	if (!res)
		return -1;
	id = PQntuples(res) == 1 ? db_get_i64(res, 0, 0) : 0;
	PQclear(res);
	return id;
}

/* One backup by row id into *out: 0, or -1. */
static int
load(struct db *db, int64_t row_id, struct backup_row *out)
{
	char row[24];
	const char *params[] = { row };
	PGresult *res;
	int ret = -1;

	i64_text(row, sizeof(row), row_id);
	res = db_exec(db, "SELECT " ROW_COLS FROM_ROWS " WHERE b.id = $1::bigint",
	    1, params);
	if (res && PQntuples(res) == 1) {
		row_from(res, 0, out);
		ret = 0;
	}
	PQclear(res);
	return ret;
}

/* The state a backup must be in to be read or restored. */
static int
usable(const char *state, bool removed)
{
	if (removed || strcmp(state, "failed") == 0)
		return BACKUP_GONE;
	if (strcmp(state, "done") != 0)
		return BACKUP_NOT_READY;
	return BACKUP_OK;
}

/* -- the pool -- */

struct locked_instance {
	int64_t row;
	char status[16];
	int64_t room;
};

/* Locks the user's live instance for the rest of the transaction. */
static int
lock_instance(struct db *db, const char *user_id, const char *instance,
	      struct locked_instance *li)
{
	const char *params[] = { user_id, instance };
	PGresult *res = db_exec(db, "SELECT i.id, i.status, " ROOM("i")
	    " FROM db_instances i WHERE i.user_id = $1"
	    " AND i.external_id::text = $2 AND i.deleted_at IS NULL"
	    " FOR UPDATE", 2, params);
	int ret = BACKUP_NOT_FOUND;

	if (!res)
		return -1;
	if (PQntuples(res) == 1) {
		li->row = db_get_i64(res, 0, 0);
		text_at(res, 0, 1, li->status, sizeof(li->status));
		li->room = db_get_i64(res, 0, 2);
		ret = BACKUP_OK;
	}
	PQclear(res);
	return ret;
}

static int
insert_manual(struct db *db, const char *user_id, int64_t instance_row,
	      int64_t cost, int64_t *row_id)
{
	char inst[24], c[24];
	const char *params[] = { inst, user_id, c };
	PGresult *res;

	i64_text(inst, sizeof(inst), instance_row);
	i64_text(c, sizeof(c), cost);
	res = db_exec(db, "INSERT INTO db_backups (instance_id, user_id, kind,"
	    " cost) VALUES ($1::bigint, $2, 'manual', $3::int)"
	    " ON CONFLICT (instance_id) WHERE state IN ('queued', 'running')"
	    " AND kind <> 'final' DO NOTHING RETURNING id", 3, params);
	if ((*row_id = returned_id(res)) <= 0)
		return *row_id < 0 ? -1 : BACKUP_BUSY;
	return BACKUP_OK;
}

static int
move_lemons(struct db *db, const char *user_id, int64_t instance_row,
	    int64_t amount, const char *action)
{
	char inst[24];
	struct ledger_move m = { .user_id = user_id, .action = action,
		.amount = amount, .instance_id = inst,
		.note = amount < 0 ? "backup taken on demand" :
		    "backup failed: lemons back" };
	int r;

	i64_text(inst, sizeof(inst), instance_row);
	if (amount == 0)
		return BACKUP_OK;
	r = ledger_apply(db, &m);
	if (r == LEDGER_INSUFFICIENT)
		return BACKUP_POOR;
	/* a refund to an account deleted meanwhile has nobody to go to */
	return r == LEDGER_OK || (r == LEDGER_NO_USER && amount > 0) ?
	    BACKUP_OK : -1;
}

static int
request_locked(struct db *db, const char *user_id, const char *instance,
	       int64_t cost, int64_t *row_id)
{
	struct locked_instance li;
	int ret = lock_instance(db, user_id, instance, &li);

	if (ret != BACKUP_OK)
		return ret;
	if (strcmp(li.status, "backing_up") == 0)
		return BACKUP_BUSY;
	if (strcmp(li.status, "running") != 0)
		return BACKUP_NOT_RUNNING;
	if (li.room <= 0)
		return BACKUP_FULL;
	ret = insert_manual(db, user_id, li.row, cost, row_id);
	if (ret == BACKUP_OK)
		ret = move_lemons(db, user_id, li.row, -cost, "backup");
	return ret;
}

int
backup_request(struct db *db, const char *user_id, const char *instance,
	       int64_t cost, struct backup_row *out)
{
	int64_t row_id = 0;
	int ret;

	if (db_begin(db) < 0)
		return -1;
	ret = request_locked(db, user_id, instance, cost, &row_id);
	if (ret == BACKUP_OK && (load(db, row_id, out) < 0 ||
	    db_commit(db) < 0))
		ret = -1;
	db_rollback(db);
	return ret;
}

int
backup_list(struct db *db, const char *user_id, const char *instance,
	    struct backup_row **rows, size_t *n)
{
	const char *params[] = { user_id, instance };
	PGresult *res = db_exec(db, "SELECT " ROW_COLS FROM_ROWS
	    " WHERE i.user_id = $1 AND i.external_id::text = $2"
	    " AND i.deleted_at IS NULL AND b.removed_at IS NULL"
	    " AND (b.expires_at IS NULL OR b.expires_at > now())"
	    " AND (b.state <> 'failed' OR b.finished_at > now() - interval '1 day')"
	    " ORDER BY b.created_at DESC, b.id DESC", 2, params);
	struct backup_row *found;
	size_t count;

	if (rows_from(res, &found, &count) < 0)
		return -1;
	*rows = found;
	*n = count;
	if (count > 0)
		return BACKUP_OK;
	res = db_exec(db, "SELECT 1 FROM db_instances WHERE user_id = $1"
	    " AND external_id::text = $2 AND deleted_at IS NULL", 2, params);
	if (!res)
		return -1;
	count = (size_t)PQntuples(res);
	PQclear(res);
	return count ? BACKUP_OK : BACKUP_NOT_FOUND;
}

int
backup_list_final(struct db *db, const char *user_id,
		  struct backup_row **rows, size_t *n)
{
	const char *params[] = { user_id };

	return rows_from(db_exec(db, "SELECT " ROW_COLS FROM_ROWS
	    " WHERE b.user_id = $1 AND b.kind = 'final'"
	    " AND b.removed_at IS NULL AND (b.expires_at IS NULL"
	    " OR b.expires_at > now()) ORDER BY b.created_at DESC, b.id DESC",
	    1, params), rows, n);
}

static void
new_token(char token[BACKUP_TOKEN_LEN + 1])
{
	rand_string(token, BACKUP_TOKEN_LEN, TOKEN_ALPHABET);
}

int
backup_link_new(struct db *db, const char *user_id, const char *instance,
		const char *backup, int64_t ttl_s,
		char token[BACKUP_TOKEN_LEN + 1])
{
	const char *params[] = { user_id, backup, instance };
	char ttl[24];
	PGresult *res = db_exec(db, "SELECT b.id, b.state,"
	    " b.removed_at IS NOT NULL OR b.expires_at <= now(), i.type"
	    FROM_ROWS " WHERE b.user_id = $1 AND b.external_id::text = $2"
	    " AND ($3::text IS NULL OR (i.external_id::text = $3"
	    " AND i.deleted_at IS NULL))", 3, params);
	char row[24];
	int ret = BACKUP_NOT_FOUND;

	if (!res)
		return -1;
	if (PQntuples(res) == 1) {
		text_at(res, 0, 0, row, sizeof(row));
		ret = usable(PQgetvalue(res, 0, 1),
		    PQgetvalue(res, 0, 2)[0] == 't');
		if (ret == BACKUP_OK && strcmp(PQgetvalue(res, 0, 3),
		    "mongodb") == 0)
			ret = BACKUP_IN_CLUSTER;
	}
	PQclear(res);
	if (ret != BACKUP_OK)
		return ret;
	new_token(token);
	i64_text(ttl, sizeof(ttl), ttl_s);
	{
		const char *p[] = { token, row, ttl };

		res = db_exec(db, "INSERT INTO backup_links (token_hash,"
		    " backup_id, expires_at) VALUES (" TOKEN_HASH ", $2::bigint,"
		    " now() + make_interval(secs => $3::int))", 3, p);
	}
	PQclear(res);
	return res ? BACKUP_OK : -1;
}

int
backup_link_for_mail(struct db *db, const char *backup,
		     char token[BACKUP_TOKEN_LEN + 1])
{
	const char *params[] = { token, backup };
	PGresult *res;

	new_token(token);
	res = db_exec(db, "INSERT INTO backup_links (token_hash, backup_id,"
	    " expires_at) SELECT " TOKEN_HASH ", b.id, coalesce(b.expires_at,"
	    " now() + interval '7 days') FROM db_backups b"
	    " WHERE b.external_id::text = $2", 2, params);
	PQclear(res);
	return res ? 0 : -1;
}

/* Why a link could not be spent: its backup's state, or not found. */
static int
link_why_not(struct db *db, const char *token)
{
	const char *params[] = { token };
	PGresult *res = db_exec(db, "SELECT b.state, b.removed_at IS NOT NULL"
	    " OR b.expires_at <= now() FROM backup_links l JOIN db_backups b"
	    " ON b.id = l.backup_id WHERE l.token_hash = " TOKEN_HASH
	    " AND l.used_at IS NULL AND l.expires_at > now()", 1, params);
	int ret = BACKUP_NOT_FOUND;

	if (!res)
		return -1;
	if (PQntuples(res) == 1)
		ret = usable(PQgetvalue(res, 0, 0),
		    PQgetvalue(res, 0, 1)[0] == 't');
	PQclear(res);
	return ret == BACKUP_OK ? BACKUP_NOT_FOUND : ret;
}

int
backup_link_use(struct db *db, const char *token, struct backup_row *out)
{
	const char *params[] = { token };
	PGresult *res = db_exec(db, "UPDATE backup_links l SET used_at = now()"
	    " FROM db_backups b WHERE l.token_hash = " TOKEN_HASH
	    " AND l.used_at IS NULL AND l.expires_at > now()"
	    " AND b.id = l.backup_id AND b.state = 'done'"
	    " AND b.removed_at IS NULL AND (b.expires_at IS NULL"
	    " OR b.expires_at > now()) RETURNING b.id", 1, params);
	int64_t row = returned_id(res);

	if (row < 0)
		return -1;
	if (!row)
		return link_why_not(db, token);
	return load(db, row, out) < 0 ? -1 : BACKUP_OK;
}

/* The backup of instance row inst named backup: its row id and whether
 * it can be restored. */
static int
backup_of(struct db *db, int64_t inst, const char *backup, int64_t *row)
{
	char ir[24];
	const char *params[] = { ir, backup };
	PGresult *res;
	int ret = BACKUP_NOT_FOUND;

	i64_text(ir, sizeof(ir), inst);
	res = db_exec(db, "SELECT id, state, removed_at IS NOT NULL"
	    " OR expires_at <= now() FROM db_backups"
	    " WHERE instance_id = $1::bigint AND external_id::text = $2",
	    2, params);
	if (!res)
		return -1;
	if (PQntuples(res) == 1) {
		*row = db_get_i64(res, 0, 0);
		ret = usable(PQgetvalue(res, 0, 1),
		    PQgetvalue(res, 0, 2)[0] == 't');
	}
	PQclear(res);
	return ret;
}

static int
insert_restore(struct db *db, int64_t inst, int64_t backup_row)
{
	char ir[24], br[24];
	const char *params[] = { ir, br };
	PGresult *res;
	int64_t id;

	i64_text(ir, sizeof(ir), inst);
	i64_text(br, sizeof(br), backup_row);
	res = db_exec(db, "INSERT INTO db_restores (instance_id, backup_id)"
	    " VALUES ($1::bigint, $2::bigint) ON CONFLICT (instance_id)"
	    " WHERE state IN ('queued', 'running') DO NOTHING RETURNING id",
	    2, params);
	id = returned_id(res);
	return id < 0 ? -1 : id ? BACKUP_OK : BACKUP_BUSY;
}

static int
restore_locked(struct db *db, const char *user_id, const char *instance,
	       const char *backup)
{
	struct locked_instance li;
	int64_t row = 0;
	int ret = lock_instance(db, user_id, instance, &li);

	if (ret == BACKUP_OK)
		ret = backup_of(db, li.row, backup, &row);
	if (ret != BACKUP_OK)
		return ret;
	if (strcmp(li.status, "restoring") == 0)
		return BACKUP_BUSY;
	if (strcmp(li.status, "running") != 0)
		return BACKUP_NOT_RUNNING;
	return insert_restore(db, li.row, row);
}

int
backup_restore_request(struct db *db, const char *user_id,
		       const char *instance, const char *backup)
{
	int ret;

	if (db_begin(db) < 0)
		return -1;
	ret = restore_locked(db, user_id, instance, backup);
	if (ret == BACKUP_OK && db_commit(db) < 0)
		ret = -1;
	db_rollback(db);
	return ret;
}

int
backup_check_source(struct db *db, const char *user_id, const char *backup,
		    char type[16])
{
	const char *params[] = { user_id, backup };
	PGresult *res = db_exec(db, "SELECT i.type, b.state,"
	    " b.removed_at IS NOT NULL OR b.expires_at <= now()" FROM_ROWS
	    " WHERE b.user_id = $1 AND b.external_id::text = $2", 2, params);
	int ret = BACKUP_NOT_FOUND;

	if (!res)
		return -1;
	if (PQntuples(res) == 1) {
		text_at(res, 0, 0, type, 16);
		ret = usable(PQgetvalue(res, 0, 1),
		    PQgetvalue(res, 0, 2)[0] == 't');
	}
	PQclear(res);
	return ret;
}

int
backup_restore_into_new(struct db *db, int64_t instance_row,
			const char *backup)
{
	char ir[24];
	const char *params[] = { ir, backup };
	PGresult *res;

	i64_text(ir, sizeof(ir), instance_row);
	res = db_exec(db, "INSERT INTO db_restores (instance_id, backup_id,"
	    " into_new) SELECT $1::bigint, id, true FROM db_backups"
	    " WHERE external_id::text = $2", 2, params);
	if (res && strcmp(PQcmdTuples(res), "1") != 0) {
		PQclear(res);
		return fail("restore into new instance: no backup '%s'", backup);
	}
	PQclear(res);
	return res ? 0 : -1;
}

int
backup_queue_final(struct db *db, int64_t instance_row,
		   char id[BACKUP_ID_LEN + 1])
{
	char ir[24];
	const char *params[] = { ir };
	PGresult *res;

	i64_text(ir, sizeof(ir), instance_row);
	id[0] = '\0';
	res = db_exec(db, "INSERT INTO db_backups (instance_id, user_id, kind)"
	    " SELECT id, user_id, 'final' FROM db_instances"
	    " WHERE id = $1::bigint AND ready_at IS NOT NULL"
	    " AND type <> 'mongodb'"
	    " ON CONFLICT (instance_id) WHERE kind = 'final' DO NOTHING"
	    " RETURNING external_id", 1, params);
	if (!res)
		return -1;
	if (PQntuples(res) == 1)
		text_at(res, 0, 0, id, BACKUP_ID_LEN + 1);
	PQclear(res);
	return 0;
}

int
backup_queue_final_all(struct db *db, const char *user_id, char **params_json)
{
	const char *params[] = { user_id };
	PGresult *res = db_exec(db, "INSERT INTO db_backups (instance_id,"
	    " user_id, kind) SELECT id, user_id, 'final' FROM db_instances"
	    " WHERE user_id = $1 AND desired = 'deleted'"
	    " AND destroyed_at IS NULL AND ready_at IS NOT NULL"
	    " AND type <> 'mongodb'"
	    " ON CONFLICT (instance_id) WHERE kind = 'final' DO NOTHING",
	    1, params);

	if (!res)
		return -1;
	PQclear(res);
	res = db_exec(db, "SELECT json_build_object('backups', coalesce("
	    "json_agg(json_build_object('id', b.external_id, 'name', i.name)"
	    " ORDER BY i.name), '[]'))::text" FROM_ROWS
	    " WHERE b.user_id = $1 AND b.kind = 'final'"
	    " AND b.removed_at IS NULL AND b.state IN ('queued', 'running',"
	    " 'done')", 1, params);
	if (!res)
		return -1;
	*params_json = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* -- the backups job -- */

static int
refund(struct db *db, const struct backup_row *b)
{
	char user[BACKUP_ID_LEN + 1];
	char row[24];
	const char *params[] = { row };
	PGresult *res;

	if (b->cost <= 0)
		return 0;
	i64_text(row, sizeof(row), b->row_id);
	res = db_exec(db, "SELECT user_id FROM db_backups WHERE id = $1::bigint",
	    1, params);
	if (!res || PQntuples(res) != 1) {
		PQclear(res);
		return -1;
	}
	text_at(res, 0, 0, user, sizeof(user));
	PQclear(res);
	return move_lemons(db, user, b->instance_row, b->cost,
	    "backup_refund") == BACKUP_OK ? 0 : -1;
}

/* Fails backup row b with why and refunds it, in one transaction. */
static int
fail_backup(struct db *db, const struct backup_row *b, const char *why)
{
	char row[24];
	const char *params[] = { row, why };
	PGresult *res;
	int ret = -1;

	i64_text(row, sizeof(row), b->row_id);
	if (db_begin(db) < 0)
		return -1;
	res = db_exec(db, "UPDATE db_backups SET state = 'failed', reason = $2,"
	    " finished_at = now() WHERE id = $1::bigint"
	    " AND state IN ('queued', 'running')", 2, params);
	if (res && strcmp(PQcmdTuples(res), "1") == 0)
		ret = refund(db, b) < 0 ? -1 : db_commit(db);
	else if (res)
		ret = 0;	/* someone else settled it */
	PQclear(res);
	db_rollback(db);
	return ret;
}

/* Moves the instance back from backing_up or restoring. */
static void
end_busy(struct db *db, int64_t instance_row, const char *status)
{
	struct lc_target t = { .row_id = instance_row, .seen_seq = -1 };

	lifecycle_move(db, strcmp(status, "restoring") == 0 ? LC_RESTORE_END :
	    LC_BACKUP_END, &t, NULL);
}

int64_t
backup_recover(struct db *db)
{
	struct backup_row *rows = NULL;
	size_t n = 0;
	int64_t count = 0;
	PGresult *res;

	if (rows_from(db_exec(db, "SELECT " ROW_COLS FROM_ROWS
	    " WHERE b.state = 'running' AND i.type <> 'mongodb'", 0, NULL),
	    &rows, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		count += fail_backup(db, &rows[i], "interrupted: the backup"
		    " job stopped before it finished") == 0;
	free(rows);
	res = db_exec(db, "UPDATE db_restores r SET state = 'failed',"
	    " finished_at = now(), reason = CASE WHEN r.state = 'running'"
	    " THEN 'interrupted: the backup job stopped before it finished'"
	    " ELSE 'the instance is gone or failed' END FROM db_instances i"
	    " WHERE i.id = r.instance_id AND (r.state = 'running'"
	    " OR (r.state = 'queued' AND (i.desired = 'deleted'"
	    " OR i.status = 'error')))", 0, NULL);
	PQclear(res);
	res = db_exec(db, "SELECT i.id, i.status FROM db_instances i"
	    " WHERE i.status IN ('backing_up', 'restoring') AND NOT EXISTS"
	    " (SELECT 1 FROM db_backups r WHERE r.instance_id = i.id"
	    " AND r.state = 'running')", 0, NULL);
	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res); i++)
		end_busy(db, db_get_i64(res, i, 0), PQgetvalue(res, i, 1));
	count += PQntuples(res);
	PQclear(res);
	return count;
}

int64_t
backup_queue_due(struct db *db)
{
	PGresult *res = db_exec(db, "INSERT INTO db_backups (instance_id,"
	    " user_id, kind) SELECT i.id, i.user_id, 'daily'"
	    " FROM db_instances i WHERE i.status = 'running'"
	    " AND i.desired = 'running' AND i.ready_at IS NOT NULL"
	    " AND greatest(i.ready_at, (SELECT max(d.created_at)"
	    "  FROM db_backups d WHERE d.instance_id = i.id"
	    "  AND d.kind = 'daily' AND d.state <> 'failed'))"
	    "  <= now() - interval '1 day'"
	    " ON CONFLICT (instance_id) WHERE state IN ('queued', 'running')"
	    " AND kind <> 'final' DO NOTHING", 0, NULL);
	int64_t n;

	if (!res)
		return -1;
	n = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	res = db_exec(db, "INSERT INTO db_backups (instance_id, user_id, kind)"
	    " SELECT i.id, i.user_id, 'final' FROM db_instances i"
	    " WHERE i.desired = 'deleted' AND i.destroyed_at IS NULL"
	    " AND i.ready_at IS NOT NULL AND i.type <> 'mongodb'"
	    " AND i.deleted_at > now() - interval '1 hour'"
	    " ON CONFLICT (instance_id) WHERE kind = 'final' DO NOTHING",
	    0, NULL);
	if (!res)
		return -1;
	n += strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return n;
}

/* The target instance's figures for w (and the room its backups leave). */
static int
load_instance(struct db *db, int64_t instance_row, struct backup_work *w)
{
	char ir[24];
	const char *params[] = { ir };
	PGresult *res;

	i64_text(ir, sizeof(ir), instance_row);
	res = db_exec(db, "SELECT i.name, coalesce(i.port, 0), i.cpu, i.memory,"
	    " i.disk, i.deleted_at IS NOT NULL, " ROOM("i") ", i.type,"
	    " i.external_id FROM db_instances i WHERE i.id = $1::bigint",
	    1, params);
	if (!res || PQntuples(res) != 1) {
		PQclear(res);
		return -1;
	}
	w->instance_row = instance_row;
	text_at(res, 0, 0, w->name, sizeof(w->name));
	w->port = (int)db_get_i64(res, 0, 1);
	w->cpu = strtod(PQgetvalue(res, 0, 2), NULL);
	w->memory_mb = db_get_i64(res, 0, 3);
	w->disk_gb = db_get_i64(res, 0, 4);
	w->deleted = PQgetvalue(res, 0, 5)[0] == 't';
	w->room_bytes = db_get_i64(res, 0, 6);
	text_at(res, 0, 7, w->type, sizeof(w->type));
	text_at(res, 0, 8, w->instance_id, sizeof(w->instance_id));
	PQclear(res);
	return 0;
}

int
backup_next(struct db *db, struct backup_work *w)
{
	PGresult *res = db_exec(db, "UPDATE db_backups SET state = 'running',"
	    " started_at = now() WHERE id = (SELECT id FROM db_backups"
	    " WHERE state = 'queued' ORDER BY kind = 'final' DESC, id LIMIT 1"
	    " FOR UPDATE SKIP LOCKED) RETURNING id", 0, NULL);
	int64_t row = returned_id(res);

	if (row <= 0)
		return row < 0 ? -1 : BACKUP_NOT_FOUND;
	memset(w, 0, sizeof(*w));
	if (load(db, row, &w->b) < 0 ||
	    load_instance(db, w->b.instance_row, w) < 0)
		return -1;
	if (w->b.kind == BACKUP_FINAL)	/* its own allowance: the disk */
		w->room_bytes = w->disk_gb * GIB;
	return BACKUP_OK;
}

static int
rotate_dailies(struct db *db, int64_t instance_row, int64_t keep)
{
	char ir[24], k[24];
	const char *params[] = { ir, k };
	PGresult *res;

	i64_text(ir, sizeof(ir), instance_row);
	i64_text(k, sizeof(k), keep);
	res = db_exec(db, "UPDATE db_backups SET expires_at = now()"
	    " WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER"
	    " (ORDER BY created_at DESC, id DESC) AS n FROM db_backups"
	    " WHERE instance_id = $1::bigint AND kind = 'daily'"
	    " AND state = 'done' AND removed_at IS NULL"
	    " AND expires_at IS NULL) d WHERE d.n > $2::int)", 2, params);
	PQclear(res);
	return res ? 0 : -1;
}

int
backup_finish(struct db *db, const struct backup_work *w, bool ok,
	      int64_t size, const char *why, int64_t keep_s,
	      int64_t daily_keep)
{
	char row[24], sz[24], keep[24];
	const char *params[] = { row, sz, keep };
	PGresult *res;
	int ret = -1;

	if (!ok)
		return fail_backup(db, &w->b, why && why[0] ? why : "failed");
	i64_text(row, sizeof(row), w->b.row_id);
	i64_text(sz, sizeof(sz), size);
	i64_text(keep, sizeof(keep), keep_s);
	if (db_begin(db) < 0)
		return -1;
	res = db_exec(db, "UPDATE db_backups SET state = 'done',"
	    " size_bytes = $2::bigint, reason = '', finished_at = now(),"
	    " expires_at = CASE WHEN kind IN ('final', 'pre_restore')"
	    " THEN now() + make_interval(secs => $3::int) END"
	    " WHERE id = $1::bigint AND state = 'running'", 3, params);
	if (res && (w->b.kind != BACKUP_DAILY ||
	    rotate_dailies(db, w->instance_row, daily_keep) == 0))
		ret = db_commit(db);
	PQclear(res);
	db_rollback(db);
	return ret;
}

int
backup_next_restore(struct db *db, struct backup_work *w)
{
	PGresult *res = db_exec(db, "UPDATE db_restores SET state = 'running',"
	    " started_at = now() WHERE id = (SELECT r.id FROM db_restores r"
	    " JOIN db_instances i ON i.id = r.instance_id"
	    " WHERE r.state = 'queued' AND i.status = 'running'"
	    " AND i.desired = 'running' ORDER BY r.id LIMIT 1"
	    " FOR UPDATE OF r SKIP LOCKED)"
	    " RETURNING id, instance_id, backup_id, into_new", 0, NULL);
	int64_t backup_row, instance_row;

	if (!res)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return BACKUP_NOT_FOUND;
	}
	memset(w, 0, sizeof(*w));
	w->restore_id = db_get_i64(res, 0, 0);
	instance_row = db_get_i64(res, 0, 1);
	backup_row = db_get_i64(res, 0, 2);
	w->into_new = PQgetvalue(res, 0, 3)[0] == 't';
	PQclear(res);
	if (load(db, backup_row, &w->b) < 0 ||
	    load_instance(db, instance_row, w) < 0)
		return -1;
	return BACKUP_OK;
}

int
backup_finish_restore(struct db *db, const struct backup_work *w, bool ok,
		      const char *why)
{
	char row[24];
	const char *params[] = { row, ok ? "done" : "failed",
		ok ? "" : why && why[0] ? why : "failed" };
	PGresult *res;

	i64_text(row, sizeof(row), w->restore_id);
	res = db_exec(db, "UPDATE db_restores SET state = $2::backup_state,"
	    " reason = $3, finished_at = now() WHERE id = $1::bigint",
	    3, params);
	PQclear(res);
	return res ? 0 : -1;
}

int
backup_list_removable(struct db *db, struct backup_row **rows, size_t *n)
{
	return rows_from(db_exec(db, "SELECT " ROW_COLS FROM_ROWS
	    " WHERE b.removed_at IS NULL AND b.state IN ('done', 'failed')"
	    " AND (b.expires_at <= now()"
	    " OR (b.kind <> 'final' AND i.destroyed_at IS NOT NULL)"
	    " OR (b.state = 'failed' AND b.finished_at < now() - interval '1 day'))"
	    " ORDER BY b.id LIMIT 1000", 0, NULL), rows, n);
}

int
backup_mark_removed(struct db *db, int64_t row_id)
{
	char row[24];
	const char *params[] = { row };
	PGresult *res;

	i64_text(row, sizeof(row), row_id);
	res = db_exec(db, "UPDATE db_backups SET removed_at = now()"
	    " WHERE id = $1::bigint", 1, params);
	PQclear(res);
	return res ? 0 : -1;
}

int
backup_move(struct db *db, const struct backup_work *w, enum lc_event ev)
{
	struct lc_target t = { .row_id = w->instance_row, .seen_seq = -1 };

	return lifecycle_move(db, ev, &t, NULL);
}

int
backup_start_pre_restore(struct db *db, const struct backup_work *restore,
			 struct backup_work *pre)
{
	char ir[24];
	const char *params[] = { ir };
	PGresult *res;
	int64_t row = 0;

	i64_text(ir, sizeof(ir), restore->instance_row);
	res = db_exec(db, "INSERT INTO db_backups (instance_id, user_id, kind,"
	    " state, started_at) SELECT id, user_id, 'pre_restore', 'running',"
	    " now() FROM db_instances WHERE id = $1::bigint"
	    " ON CONFLICT (instance_id) WHERE state IN ('queued', 'running')"
	    " AND kind <> 'final' DO NOTHING RETURNING id", 1, params);
	if ((row = returned_id(res)) <= 0)
		return row < 0 ? -1 : BACKUP_BUSY;
	memset(pre, 0, sizeof(*pre));
	if (load(db, row, &pre->b) < 0 ||
	    load_instance(db, restore->instance_row, pre) < 0)
		return -1;
	return BACKUP_OK;
}

int
backup_list_restores(struct db *db, const char *user_id, const char *instance,
		     struct restore_row **rows, size_t *n)
{
	const char *params[] = { user_id, instance };
	PGresult *res = db_exec(db, "SELECT b.external_id, r.state, r.reason,"
	    " extract(epoch FROM r.created_at)::bigint,"
	    " coalesce(extract(epoch FROM r.finished_at)::bigint, 0),"
	    " i.id FROM db_instances i LEFT JOIN db_restores r"
	    " ON r.instance_id = i.id LEFT JOIN db_backups b ON b.id = r.backup_id"
	    " WHERE i.user_id = $1 AND i.external_id::text = $2"
	    " AND i.deleted_at IS NULL ORDER BY r.id DESC NULLS LAST LIMIT 10",
	    2, params);
	int found;

	if (!res)
		return -1;
	found = PQntuples(res);
	*n = 0;
	*rows = xcalloc(found ? (size_t)found : 1, sizeof(**rows));
	for (int i = 0; i < found && !PQgetisnull(res, i, 1); i++) {
		struct restore_row *r = &(*rows)[(*n)++];

		text_at(res, i, 0, r->backup_id, sizeof(r->backup_id));
		r->state = (enum backup_state)name_index(state_names,
		    BACKUP_STATE_COUNT, PQgetvalue(res, i, 1));
		text_at(res, i, 2, r->reason, sizeof(r->reason));
		r->created_at = (time_t)db_get_i64(res, i, 3);
		r->finished_at = (time_t)db_get_i64(res, i, 4);
	}
	PQclear(res);
	return found ? BACKUP_OK : BACKUP_NOT_FOUND;
}

int
backup_list_remote(struct db *db, struct backup_row **rows, size_t *n)
{
	return rows_from(db_exec(db, "SELECT " ROW_COLS FROM_ROWS
	    " WHERE b.state = 'running' AND i.type = 'mongodb'"
	    " ORDER BY b.id", 0, NULL), rows, n);
}

int
backup_discard(struct db *db, const char *user_id, const char *instance,
	       const char *backup)
{
	const char *params[] = { user_id, backup, instance };
	PGresult *res = db_exec(db, "UPDATE db_backups b SET expires_at = now()"
	    " FROM db_instances i WHERE i.id = b.instance_id AND b.user_id = $1"
	    " AND b.external_id::text = $2 AND ($3::text IS NULL"
	    " OR (i.external_id::text = $3 AND i.deleted_at IS NULL))"
	    " AND b.state IN ('done', 'failed') AND b.removed_at IS NULL"
	    " AND (b.expires_at IS NULL OR b.expires_at > now())"
	    " RETURNING b.id", 3, params);
	int ret = BACKUP_NOT_FOUND;

	if (!res)
		return -1;
	if (PQntuples(res) == 1)
		ret = BACKUP_OK;
	PQclear(res);
	if (ret == BACKUP_OK)
		return ret;
	res = db_exec(db, "SELECT 1 FROM db_backups b JOIN db_instances i"
	    " ON i.id = b.instance_id WHERE b.user_id = $1"
	    " AND b.external_id::text = $2 AND ($3::text IS NULL"
	    " OR (i.external_id::text = $3 AND i.deleted_at IS NULL))"
	    " AND b.state IN ('queued', 'running')", 3, params);
	if (!res)
		return -1;
	ret = PQntuples(res) == 1 ? BACKUP_BUSY : BACKUP_NOT_FOUND;
	PQclear(res);
	return ret;
}
