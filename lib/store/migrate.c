/*
 * Migrations.  The advisory lock is session level and taken before the
 * table is even created, so two hosts starting together apply each file
 * exactly once.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "store/db.h"
#include "store/migrate.h"

#define MIGRATE_LOCK_KEY "7424590001"	/* arbitrary, dbtree-wide constant */
#define MIGRATE_MAX_FILE (4 * 1024 * 1024)

int
migrate_is_name(const char *name)
{
	size_t n = strlen(name);

	if (n < 10 || strcmp(name + n - 4, ".sql") != 0 || name[4] != '_')
		return 0;
	for (size_t i = 0; i < 4; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	for (size_t i = 5; i < n - 4; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || name[i] == '_' ||
		    (name[i] >= '0' && name[i] <= '9')))
			return 0;
	return 1;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted list of migration file names in dir; *n gets the count. */
static char **
list_files(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d) {
		log_err("open migrations '%s': %m", dir);
		return NULL;
	}
	while ((e = readdir(d))) {
		if (!migrate_is_name(e->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (*n)
		qsort(names, *n, sizeof(*names), cmp_names);
	return names ? names : xcalloc(1, sizeof(*names));
}

static int
read_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "r");
	char chunk[8192];
	size_t got;
	int ret = 0;

	if (!f)
		return fail("open '%s': %m", path);
	while (ret == 0 && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ret = buf_add(out, chunk, got);
	if (ferror(f) || ret < 0)
		ret = fail("read '%s': error or too large", path);
	fclose(f);
	return ret;
}

static int
is_applied(struct db *db, const char *version)
{
	const char *params[] = { version };
	PGresult *res = db_exec(db, "SELECT 1 FROM schema_migrations"
	    " WHERE version = $1", 1, params);
	int ret = res ? PQntuples(res) > 0 : -1;

	PQclear(res);
	return ret;
}

static int
apply_one(struct db *db, const char *dir, const char *name)
{
	char path[4096];
	struct buf sql = BUF_INIT(MIGRATE_MAX_FILE);
	const char *params[] = { name };
	PGresult *res = NULL;
	int ret = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_file(path, &sql) < 0)
		goto out;
	if (db_begin(db) < 0)
		goto out;
	if (db_exec_script(db, buf_cstr(&sql), name) < 0)
		goto out;
	res = db_exec(db, "INSERT INTO schema_migrations (version)"
	    " VALUES ($1)", 1, params);
	if (!res)
		goto out;
	ret = db_commit(db);
	if (ret == 0)
		log_info("migration '%s' applied", name);
out:
	PQclear(res);
	if (ret != 0)
		db_rollback(db);
	buf_release(&sql);
	return ret;
}

static int
apply_pending(struct db *db, const char *dir)
{
	size_t n;
	char **names = list_files(dir, &n);
	int applied = 0;

	if (!names)
		return -1;
	for (size_t i = 0; i < n && applied >= 0; i++) {
		int done = is_applied(db, names[i]);

		if (done < 0 || (done == 0 && apply_one(db, dir, names[i]) < 0))
			applied = -1;
		else if (done == 0)
			applied++;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return applied;
}

int
migrate_run(struct db *db, const char *dir)
{
	PGresult *res;
	int ret;

	res = db_exec(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0,
	    NULL);
	if (!res)
		return -1;
	PQclear(res);
	res = db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version text PRIMARY KEY,"
	    " applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL);
	ret = res ? apply_pending(db, dir) : -1;
	PQclear(res);
	PQclear(db_exec(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")",
	    0, NULL));
	return ret;
}
