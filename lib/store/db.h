/*
 * PostgreSQL access.  The only way to run SQL is db_exec(), whose SQL must be
 * a string literal ("" sql only compiles for literals) and whose values go
 * as text parameters ($1, $2, ...).  A NULL parameter is SQL NULL.
 *
 * Each statement is prepared on its connection the first time it runs and
 * executed by name afterwards, so PostgreSQL parses and plans it once.
 *
 * Connections carry connect_timeout and statement_timeout.  A connection
 * found broken is reset before the next statement run outside a
 * transaction, so a worker recovers by itself once the server is back.
 */
#ifndef STORE_DB_H
#define STORE_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DB_MAX_PREPARED 128

struct db {
	PGconn *conn;
	/* statements prepared on this connection, keyed by the address of
	 * their SQL literal (literals never move) */
	const char *prepared[DB_MAX_PREPARED];
	int nprepared;
	char *conninfo_dsn;
	int64_t connect_timeout_s;
	int64_t statement_timeout_ms;
	char sqlstate[6];	/* SQLSTATE of the last failure, or "" */
	bool in_tx;
	bool begin_pending;	/* in_tx, and BEGIN not sent yet */
};

/* Sets up db and tries to connect.  A failed first connection is logged but
 * not fatal (the next db_exec retries); returns 0, or -1 if it failed. */
int db_open(struct db *db, const char *dsn, int64_t connect_timeout_s,
	    int64_t statement_timeout_ms);
void db_close(struct db *db);

/* Runs one statement; returns a result to PQclear(), or NULL (logged, with
 * db->sqlstate set, e.g. "23505").  Use through the db_exec macro, which
 * names the statement after the calling function (db_statement_name) for
 * its metrics and its trace span. */
PGresult *db_exec_(struct db *db, const char *func, const char *sql, int n,
		   const char *const *params);
#define db_exec(db, sql, n, params)	\
	db_exec_((db), __func__, "" sql, (n), (params))

/* A statement's short name: "<func>.<verb>[.<object>]", e.g.
 * "game_harvest.update.users" (the object: the table after FROM, INTO or
 * UPDATE, or a WITH's first name).  Never the text or the parameters. */
void db_statement_name(const char *func, const char *sql, char *out,
		       size_t size);
/* A number macro as SQL text, for constants spliced into literal SQL:
 * " LIMIT " DB_SQL_INT(BATCH) */
#define DB_SQL_INT_(n)	#n
#define DB_SQL_INT(n)	DB_SQL_INT_(n)

/* Runs a whole script of statements (migrations only: the one place SQL is
 * not a literal, because it comes from files in sql/). 0 or -1 (logged). */
int db_exec_script(struct db *db, const char *script, const char *name);

/* Starts a transaction.  Its BEGIN is sent with the first statement, in
 * one round trip; a transaction with no statement costs none. */
int db_begin(struct db *db);
int db_commit(struct db *db);
/* Rolls back an open transaction; harmless when none is open. */
void db_rollback(struct db *db);
/* Starts a transaction for one batch statement of a sweep ("... WHERE id
 * IN (SELECT id ... LIMIT n)"), planned without nested loops: a backlog
 * arrives faster than the table's statistics, and planned from a count of
 * a few rows such a statement compared every backlog row with every id of
 * the batch (25,000 x 10,000: past the statement timeout); a hash join
 * does not care what the statistics say.  0 or -1. */
int db_begin_batch(struct db *db);

/* Before each request: reset a broken connection and roll back a
 * transaction a previous request left open (logged as a bug). */
void db_check(struct db *db);
/* True when SELECT 1 answers within timeout_ms. */
bool db_ping(struct db *db, int64_t timeout_ms);
/* True if the last failure was SQLSTATE state. */
bool db_failed_with(const struct db *db, const char *state);

/* Helpers for results: the int64 in row r, column c (0 if NULL). */
int64_t db_get_i64(const PGresult *res, int r, int c);
/* Borrowed text, or NULL for SQL NULL. */
const char *db_get_str(const PGresult *res, int r, int c);

/* Appends "{1,2,3}", the PostgreSQL array text of the n numbers of v, to
 * b: one parameter for a statement over a set (= ANY($1::bigint[])). */
struct buf;
void db_i64_array(struct buf *b, const int64_t *v, size_t n);

#include "base/banned.h"
#endif
