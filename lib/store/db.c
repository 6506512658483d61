/*
 * libpq wrapper: timeouts in the conninfo, reconnect on a broken connection,
 * one function per transaction step.  BEGIN is not sent on its own: it
 * goes with the transaction's first statement, in one round trip (libpq
 * pipeline mode), so a transaction costs one round trip less.  Errors are
 * logged here once, with the SQLSTATE kept for callers that expect a
 * constraint violation.  Expected integrity violations (class 23) are
 * logged at warn level: the domain turns them into answers.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/meter.h"
#include "base/trace.h"
#include "base/xalloc.h"
#include "base/buf.h"
#include "store/db.h"

static int
db_connect(struct db *db)
{
	char ct[24], opts[64];
	const char *keys[] = { "dbname", "connect_timeout", "options",
		"application_name", NULL };
	const char *vals[] = { db->conninfo_dsn, ct, opts, "dbtree", NULL };

	snprintf(ct, sizeof(ct), "%lld", (long long)db->connect_timeout_s);
	/* No JIT: every statement here is short, and a large estimate (the
	 * billing batch's, 1,000 rows in one statement) made PostgreSQL
	 * compile for 0.7 s a statement that runs in 35 ms -- the first
	 * executions of a prepared statement each plan, and compile, anew. */
	snprintf(opts, sizeof(opts), "-c statement_timeout=%lld -c jit=off",
	    (long long)db->statement_timeout_ms);
	PQfinish(db->conn);
	db->conn = PQconnectdbParams(keys, vals, 1);
	db->in_tx = false;
	db->nprepared = 0;
	if (PQstatus(db->conn) != CONNECTION_OK) {
		log_err("connect to postgresql: %s",
		    PQerrorMessage(db->conn));
		return -1;
	}
	return 0;
}

int
db_open(struct db *db, const char *dsn, int64_t connect_timeout_s,
	int64_t statement_timeout_ms)
{
	memset(db, 0, sizeof(*db));
	db->conninfo_dsn = xstrdup(dsn);
	db->connect_timeout_s = connect_timeout_s;
	db->statement_timeout_ms = statement_timeout_ms;
	return db_connect(db);
}

void
db_close(struct db *db)
{
	PQfinish(db->conn);
	free(db->conninfo_dsn);
	memset(db, 0, sizeof(*db));
}

static int
db_ensure(struct db *db)
{
	bool tx = db->in_tx;
	int ret;

	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	if (tx && !db->begin_pending)
		return -1;	/* the transaction is lost; let it fail */
	ret = db_connect(db);
	db->in_tx = tx;		/* a transaction whose BEGIN is still to go */
	return ret;
}

static void
db_note_failure(struct db *db, const PGresult *res, const char *sql)
{
	const char *state = res ? PQresultErrorField(res,
	    PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : "";

	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s",
	    state ? state : "");
	if (!*msg)
		msg = PQerrorMessage(db->conn);
	if (state && strncmp(state, "23", 2) == 0)
		log_warn("sql '%.60s': %s", sql, msg);
	else
		log_err("sql '%.60s': %s", sql, msg);
}

static bool
db_is_broken(const struct db *db)
{
	return !db->conn || PQstatus(db->conn) != CONNECTION_OK;
}

/* The name of sql's prepared statement on this connection ("s<index>"),
 * preparing it first if needed; NULL when it cannot be prepared (the
 * statement then runs unprepared, which reports the error). */
static const char *
statement_name(struct db *db, const char *sql, int n, char name[16])
{
	PGresult *res;
	int i;

	for (i = 0; i < db->nprepared && db->prepared[i] != sql; i++)
		;
	snprintf(name, 16, "s%d", i);
	if (i < db->nprepared)
		return name;
	if (i == DB_MAX_PREPARED)
		return NULL;
	res = PQprepare(db->conn, name, sql, n, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		return NULL;
	}
	PQclear(res);
	db->prepared[db->nprepared++] = sql;
	return name;
}

static PGresult *
db_run(struct db *db, const char *sql, int n, const char *const *params)
{
	char buf[16];
	const char *name = statement_name(db, sql, n, buf);

	if (name)
		return PQexecPrepared(db->conn, name, n, params, NULL, NULL, 0);
	return PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
}

static const char begin_sql[] = "BEGIN";

/* Queues sql in pipeline mode, prepared when it could be. */
static int
db_send(struct db *db, const char *sql, const char *name, int n,
	const char *const *params)
{
	if (name)
		return PQsendQueryPrepared(db->conn, name, n, params, NULL,
		    NULL, 0);
	return PQsendQueryParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
}

/* The next result of a pipeline, the NULL that ends it consumed: NULL only
 * when the connection failed. */
static PGresult *
db_next_result(struct db *db)
{
	PGresult *res = PQgetResult(db->conn);

	if (res && PQresultStatus(res) != PGRES_PIPELINE_SYNC)
		PQclear(PQgetResult(db->conn));
	return res;
}

/* Leaves pipeline mode, reading what the server still owes up to the
 * sync. */
static void
db_end_pipeline(struct db *db)
{
	PGresult *res;

	while (!PQexitPipelineMode(db->conn)) {
		if (db_is_broken(db) || !(res = PQgetResult(db->conn)))
			break;
		PQclear(res);
	}
}

/* BEGIN and sql in one round trip: sql's result, with BEGIN's failure (the
 * rarer one) reported in its place. */
static PGresult *
db_run_with_begin(struct db *db, const char *sql, int n,
		  const char *const *params)
{
	char bname[16], name[16];
	const char *b = statement_name(db, begin_sql, 0, bname);
	const char *s = statement_name(db, sql, n, name);
	PGresult *begun, *res;

	if (!PQenterPipelineMode(db->conn))
		return NULL;
	if (!db_send(db, begin_sql, b, 0, NULL) ||
	    !db_send(db, sql, s, n, params) || !PQpipelineSync(db->conn)) {
		db_end_pipeline(db);
		return NULL;
	}
	begun = db_next_result(db);
	res = begun ? db_next_result(db) : NULL;
	if (PQresultStatus(begun) != PGRES_COMMAND_OK) {
		PQclear(res);
		res = begun;
	} else
		PQclear(begun);
	if (res)
		PQclear(db_next_result(db));	/* the sync */
	db_end_pipeline(db);
	return res;
}

static PGresult *
db_exec_once(struct db *db, const char *sql, int n, const char *const *params)
{
	PGresult *res;
	ExecStatusType st;
	bool begin = db->begin_pending;

	for (int attempt = 0;; attempt++) {
		db->sqlstate[0] = '\0';
		if (db_ensure(db) < 0) {
			snprintf(db->sqlstate, sizeof(db->sqlstate), "08006");
			return NULL;
		}
		db->begin_pending = false;
		res = begin ? db_run_with_begin(db, sql, n, params) :
		    db_run(db, sql, n, params);
		st = PQresultStatus(res);
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
			return res;
		/* A connection the server dropped (a restart, say) is only
		 * noticed on use.  Outside a transaction, or with the
		 * transaction's BEGIN in this same round trip, nothing ran,
		 * so one retry on a fresh connection is safe. */
		if (attempt == 0 && (!db->in_tx || begin) && db_is_broken(db)) {
			PQclear(res);
			log_warn("postgresql connection lost; reconnecting");
			db->begin_pending = begin;	/* db_ensure reconnects */
			continue;
		}
		db_note_failure(db, res, sql);
		PQclear(res);
		return NULL;
	}
}

/* --- statement names ---------------------------------------------------- */

static bool
is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* Appends "." and the identifier at p (lowercased), if there is one. */
static void
add_word(char *out, size_t size, const char *p)
{
	size_t n = strlen(out);

	while (*p == ' ' || *p == '(')
		p++;
	if (!is_word_char(*p) || n + 2 >= size)
		return;
	out[n++] = '.';
	for (; is_word_char(*p) && n + 1 < size; p++)
		out[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	out[n] = '\0';
}

/* The first word after keyword kw (" FROM ", say) in sql, or "". */
static const char *
after(const char *sql, const char *kw)
{
	const char *p = strstr(sql, kw);

	return p ? p + strlen(kw) : "";
}

void
db_statement_name(const char *func, const char *sql, char *out, size_t size)
{
	char verb[16] = "";
	const char *p = sql;
	size_t i = 0;

	while (*p == ' ' || *p == '(')
		p++;
	for (; is_word_char(*p) && i + 1 < sizeof(verb); p++)
		verb[i++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' :
		    *p);
	verb[i] = '\0';
	snprintf(out, size, "%s", func);
	add_word(out, size, verb);
	if (strcmp(verb, "select") == 0 || strcmp(verb, "delete") == 0)
		add_word(out, size, after(p, " FROM "));
	else if (strcmp(verb, "insert") == 0)
		add_word(out, size, after(p, "INTO "));
	else if (strcmp(verb, "update") == 0)
		add_word(out, size, p);
	else if (strcmp(verb, "with") == 0)
		add_word(out, size, strncmp(p, " RECURSIVE", 10) == 0 ?
		    p + 10 : p);
}

#define NAME_SLOTS 512

/* sql's name, worked out once per literal (literals never move). */
static const char *
name_of(const char *func, const char *sql)
{
	static struct {
		const char *sql;
		char name[64];
	} cache[NAME_SLOTS];
	size_t h = ((uintptr_t)sql >> 3) % NAME_SLOTS;

	for (size_t i = 0; i < NAME_SLOTS; i++) {
		size_t k = (h + i) % NAME_SLOTS;

		if (cache[k].sql == sql)
			return cache[k].name;
		if (!cache[k].sql) {
			db_statement_name(func, sql, cache[k].name,
			    sizeof(cache[k].name));
			cache[k].sql = sql;
			return cache[k].name;
		}
	}
	return func;
}

PGresult *
db_exec_(struct db *db, const char *func, const char *sql, int n,
	 const char *const *params)
{
	const char *name = name_of(func, sql);
	int span = trace_span(name, TRACE_CLIENT);
	int64_t t0 = clock_mono_us();
	PGresult *res = db_exec_once(db, sql, n, params);

	meter_op(METER_DB, name, res != NULL, clock_mono_us() - t0);
	if (span >= 0) {
		trace_str(span, "db.system", "postgresql");
		if (!res)
			trace_str(span, "db.response.status_code", db->sqlstate);
		if (!res && strncmp(db->sqlstate, "23", 2) != 0)
			trace_fail(span, "statement failed");
		trace_span_end(span);
	}
	return res;
}

static int
db_simple(struct db *db, const char *sql)
{
	PGresult *res = db_exec_(db, "db", sql, 0, NULL);

	PQclear(res);
	return res ? 0 : -1;
}

int
db_exec_script(struct db *db, const char *script, const char *name)
{
	PGresult *res;
	int ret = 0;

	if (db->begin_pending) {
		db->begin_pending = false;
		if (db_simple(db, begin_sql) < 0)
			return -1;
	}
	if (db_ensure(db) < 0)
		return -1;
	res = PQexec(db->conn, script);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_note_failure(db, res, name);
		ret = -1;
	}
	PQclear(res);
	return ret;
}

/* Only notes the transaction: its BEGIN goes with the first statement. */
int
db_begin(struct db *db)
{
	db->in_tx = db->begin_pending = true;
	return 0;
}

int
db_commit(struct db *db)
{
	int ret = 0;

	if (!db->begin_pending)	/* else nothing ran: nothing to commit */
		ret = db_simple(db, "COMMIT");
	db->in_tx = db->begin_pending = false;
	return ret;
}

void
db_rollback(struct db *db)
{
	bool sent = !db->begin_pending;

	db->begin_pending = false;
	if (!db->in_tx && (!db->conn ||
	    PQtransactionStatus(db->conn) == PQTRANS_IDLE))
		return;
	db->in_tx = false;
	if (sent && db->conn && PQstatus(db->conn) == CONNECTION_OK)
		PQclear(PQexec(db->conn, "ROLLBACK"));
}

void
db_check(struct db *db)
{
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
		db->in_tx = false;
		db_connect(db);
		return;
	}
	if (db->begin_pending || PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
		log_err("bug: connection left in a transaction; rolling back");
		db->in_tx = true;
		db_rollback(db);
	}
}

static bool
db_wait_result(struct db *db, int64_t timeout_ms)
{
	struct pollfd pfd = { PQsocket(db->conn), POLLIN, 0 };
	PGresult *res;
	bool ok = true;

	while (PQisBusy(db->conn)) {
		int r = poll(&pfd, 1, (int)timeout_ms);

		if (r <= 0 || !PQconsumeInput(db->conn))
			return false;
	}
	while ((res = PQgetResult(db->conn))) {
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			ok = false;
		PQclear(res);
	}
	return ok;
}

bool
db_ping(struct db *db, int64_t timeout_ms)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (db_ensure(db) < 0)
			return false;
		if (PQsendQuery(db->conn, "SELECT 1") &&
		    db_wait_result(db, timeout_ms))
			return true;
		if (!db_is_broken(db))
			break;	/* no answer in time: do not wait twice */
	}
	log_warn("postgresql did not answer within %lld ms",
	    (long long)timeout_ms);
	/* an unanswered query leaves the connection unusable */
	PQfinish(db->conn);
	db->conn = NULL;
	return false;
}

bool
db_failed_with(const struct db *db, const char *state)
{
	return strcmp(db->sqlstate, state) == 0;
}

int64_t
db_get_i64(const PGresult *res, int r, int c)
{
	if (r >= PQntuples(res) || PQgetisnull(res, r, c))
		return 0;
	return strtoll(PQgetvalue(res, r, c), NULL, 10);
}

const char *
db_get_str(const PGresult *res, int r, int c)
{
	if (r >= PQntuples(res) || PQgetisnull(res, r, c))
		return NULL;
	return PQgetvalue(res, r, c);
}

int
db_begin_batch(struct db *db)
{
	PGresult *res;

	if (db_begin(db) < 0)
		return -1;
	res = db_exec(db, "SET LOCAL enable_nestloop = off", 0, NULL);
	PQclear(res);
	if (res)
		return 0;
	db_rollback(db);
	return -1;
}

void
db_i64_array(struct buf *b, const int64_t *v, size_t n)
{
	buf_adds(b, "{");
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "%s%lld", i ? "," : "", (long long)v[i]);
	buf_adds(b, "}");
}
