/*
 * Migrations runner: applies sql/migrations/NNNN_name.sql files in order,
 * each once, each in its own transaction, under a PostgreSQL advisory lock
 * (so several hosts may run it at once), recording each version in
 * schema_migrations.  Files are never edited once landed.
 */
#ifndef STORE_MIGRATE_H
#define STORE_MIGRATE_H

struct db;

/* Applies what is pending from dir.  Returns the number of files applied
 * (>= 0) or -1 (logged; the failing file's transaction is rolled back). */
int migrate_run(struct db *db, const char *dir);
/* True for "NNNN_word.sql" (four digits, underscore, [a-z0-9_]+). */
int migrate_is_name(const char *name);

#include "base/banned.h"
#endif
