/*
 * The backups job (see backup_run.h).  Decisions live here; SQL in
 * domain/backup.c; reaching an instance in the driver (prov_admin).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/pause.h"
#include "base/spawn.h"
#include "domain/backup.h"
#include "prov/backup_run.h"
#include "prov/prov.h"

#define PG_ROOT "/usr/lib/postgresql"
#define PATH_LEN 512
#define WHY_LEN 256
#define ENV_MAX 8
#define GIB 1073741824LL

/* The newest PostgreSQL's program name (pg_dump, pg_restore), falling
 * back to /usr/bin's. */
static void
pg_program(const char *name, char out[PATH_LEN])
{
	DIR *d = opendir(PG_ROOT);
	struct dirent *e;
	double best = 0;

	snprintf(out, PATH_LEN, "/usr/bin/%s", name);
	while (d && (e = readdir(d))) {
		char *end, cand[PATH_LEN];
		double v = strtod(e->d_name, &end);

		if (end == e->d_name || *end || v <= best ||
		    snprintf(cand, sizeof(cand), PG_ROOT "/%s/bin/%s",
		    e->d_name, name) >= (int)sizeof(cand) ||
		    access(cand, X_OK) < 0)
			continue;
		best = v;
		snprintf(out, PATH_LEN, "%s", cand);
	}
	if (d)
		closedir(d);
}

/* The environment a client program gets: no more than it needs. */
struct env {
	char vars[ENV_MAX][PROV_SECRET_MAX + PATH_LEN];
	const char *list[ENV_MAX + 1];
	int n;
};

static void
env_add(struct env *e, const char *name, const char *value)
{
	if (e->n >= ENV_MAX)
		return;
	snprintf(e->vars[e->n], sizeof(e->vars[e->n]), "%s=%s", name, value);
	e->list[e->n] = e->vars[e->n];
	e->list[++e->n] = NULL;
}

static void
env_clear(struct env *e)
{
	explicit_bzero(e->vars, sizeof(e->vars));
}

static void
pg_env(struct env *e, const struct prov_admin *a)
{
	env_add(e, "PATH", "/usr/bin:/bin");
	env_add(e, "PGPASSWORD", a->password);
	env_add(e, "PGPASSFILE", "/dev/null");
	env_add(e, "PGCONNECT_TIMEOUT", "10");
	env_add(e, "PGSSLMODE", !a->tls ? "prefer" : a->ca_file[0] ?
	    "verify-full" : "require");
	if (a->ca_file[0])
		env_add(e, "PGSSLROOTCERT", a->ca_file);
}

static int
outcome(int rc, const char *prog, const char *err, int64_t room, char *why,
	size_t size)
{
	if (rc == 0)
		return 0;
	if (rc == SPAWN_TOO_BIG)
		snprintf(why, size, "the backup would not fit: the instance's"
		    " backups may take %lld GB (its disk size), %lld MB of it"
		    " was left", (long long)(room / GIB ? room / GIB : 1),
		    (long long)(room / 1048576));
	else if (rc == SPAWN_TIMEOUT)
		snprintf(why, size, "%s took too long", prog);
	else
		snprintf(why, size, "%s failed: %.200s", prog, err[0] ? err :
		    "no reason given");
	return -1;
}

static int
dump_pg(const struct prov_admin *a, const struct backup_work *w,
	const char *tmp, const struct backup_conf *bc, char *why, size_t size)
{
	char prog[PATH_LEN], port[16], err[WHY_LEN];
	const char *argv[] = { prog, "-Fc", "--no-password", "-h", a->host,
		"-p", port, "-U", a->user, "-d", w->name, "-f", tmp, NULL };
	struct env e = { .n = 0 };
	struct spawn_opts o = { argv, e.list, -1, -1, tmp, w->room_bytes,
		bc->step_timeout_ms };
	int rc;

	pg_program("pg_dump", prog);
	snprintf(port, sizeof(port), "%d", a->port);
	pg_env(&e, a);
	rc = spawn_run(&o, err, sizeof(err));
	env_clear(&e);
	return outcome(rc, "pg_dump", err, w->room_bytes, why, size);
}

static int
dump_redis(const struct prov_admin *a, const struct backup_work *w,
	   const char *tmp, const struct backup_conf *bc, char *why,
	   size_t size)
{
	char port[16], err[WHY_LEN];
	const char *argv[16] = { "/usr/bin/redis-cli", "--no-auth-warning",
		"--user", a->user };
	struct env e = { .n = 0 };
	struct spawn_opts o = { argv, e.list, -1, -1, tmp, w->room_bytes,
		bc->step_timeout_ms };
	int n = 4, rc;

	snprintf(port, sizeof(port), "%d", a->port);
	if (a->host[0] == '/') {
		argv[n++] = "-s";
		argv[n++] = a->host;
	} else {
		argv[n++] = "-h";
		argv[n++] = a->host;
		argv[n++] = "-p";
		argv[n++] = port;
	}
	if (a->tls) {
		argv[n++] = "--tls";
		argv[n++] = "--cacert";
		argv[n++] = a->ca_file;
	}
	argv[n++] = "--rdb";
	argv[n++] = tmp;
	env_add(&e, "PATH", "/usr/bin:/bin");
	env_add(&e, "REDISCLI_AUTH", a->password);
	rc = spawn_run(&o, err, sizeof(err));
	env_clear(&e);
	return outcome(rc, "redis-cli", err, w->room_bytes, why, size);
}

static struct prov_spec
spec_of(const struct backup_work *w)
{
	return (struct prov_spec){ .id = w->instance_id, .type = w->type,
		.name = w->name, .cpu = w->cpu, .memory_mb = w->memory_mb,
		.disk_gb = w->disk_gb, .port = w->port, .running = true };
}

static int
make_dir(const char *path, gid_t gid)
{
	if (mkdir(path, 0750) < 0 && errno != EEXIST)
		return fail("mkdir '%s': %s", path, strerror(errno));
	if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0 &&
	    errno != EPERM)
		return fail("chown '%s': %s", path, strerror(errno));
	return 0;
}

static gid_t
web_gid(const struct backup_conf *bc)
{
	struct group *g = bc->web_group[0] ? getgrnam(bc->web_group) : NULL;

	return g ? g->gr_gid : (gid_t)-1;
}

int
backup_run_prepare(const struct backup_conf *bc)
{
	return make_dir(bc->dir, web_gid(bc));
}

/* Dumps w's instance into its file; *size on success. */
static int
dump(struct prov_driver *d, const struct backup_conf *bc,
     const struct backup_work *w, int64_t *size, char *why, size_t wsize)
{
	struct prov_spec s = spec_of(w);
	struct prov_admin a;
	char path[PATH_LEN], tmp[PATH_LEN + 8], dir[PATH_LEN];
	struct stat st;
	int ret;

	if (backup_path(path, sizeof(path), bc->dir, &w->b) < 0 ||
	    snprintf(dir, sizeof(dir), "%s/%s", bc->dir, w->instance_id) >=
	    (int)sizeof(dir) || make_dir(dir, web_gid(bc)) < 0)
		return snprintf(why, wsize, "cannot make its directory"), -1;
	snprintf(tmp, sizeof(tmp), "%s.part", path);
	if (prov_admin(d, &s, &a) < 0)
		return snprintf(why, wsize, "cannot reach the instance"), -1;
	pause_point("backup.dump");
	ret = strcmp(w->type, "postgres") == 0 ?
	    dump_pg(&a, w, tmp, bc, why, wsize) :
	    dump_redis(&a, w, tmp, bc, why, wsize);
	explicit_bzero(&a, sizeof(a));
	/* the size watch looks every 100 ms: a quick dump can overshoot */
	if (ret == 0 && stat(tmp, &st) == 0 && st.st_size > w->room_bytes)
		ret = outcome(SPAWN_TOO_BIG, "", "", w->room_bytes, why, wsize);
	if (ret == 0 && (chmod(tmp, 0640) < 0 || rename(tmp, path) < 0 ||
	    stat(path, &st) < 0)) {
		snprintf(why, wsize, "cannot keep the file: %s",
		    strerror(errno));
		ret = -1;
	}
	if (ret < 0)
		unlink(tmp);
	else
		*size = st.st_size;
	return ret;
}

/* A final backup of an instance that is not serving: start it (it is
 * destroyed right after) and wait until it answers. */
static int
bring_up(struct prov_driver *d, const struct backup_conf *bc,
	 const struct backup_work *w, char *why, size_t wsize)
{
	struct prov_spec s = spec_of(w);
	struct prov_observation o;
	int64_t until = clock_mono_ms() + bc->ready_wait_ms;

	if (prov_observe(d, &s, 1, false, &o) < 0)
		return snprintf(why, wsize, "cannot see the instance"), -1;
	if (o.state == PROV_ABSENT || o.state == PROV_FAILED)
		return snprintf(why, wsize, "the instance could not answer"
		    " (%.180s): no copy was possible", o.reason), -1;
	if (o.state != PROV_RUNNING && prov_apply(d, &s) != 0)
		return snprintf(why, wsize, "the instance could not be"
		    " started for its last copy"), -1;
	while (o.state != PROV_RUNNING && clock_mono_ms() < until) {
		clock_sleep_ms(200, NULL);
		if (prov_observe(d, &s, 1, false, &o) < 0)
			break;
	}
	if (o.state != PROV_RUNNING)
		return snprintf(why, wsize, "the instance did not answer for"
		    " its last copy"), -1;
	return 0;
}

/* MongoDB: the driver dumps it where it runs (a Kubernetes Job writing to
 * the cluster's backup volume).  Started here, the backup stays running
 * and the instance backing_up; every pass polls it (poll_remote). */
static void
start_remote(struct db *db, struct prov_driver *d, struct backup_work *w,
	     struct backup_stats *st)
{
	struct prov_spec s = spec_of(w);
	const char *why = NULL;

	if (!prov_supports_dump(d, w->type))
		why = "backups of this engine are not available here";
	else if (w->deleted || backup_move(db, w, LC_BACKUP_BEGIN) != LC_MOVED)
		why = "the instance was not running";
	else if (prov_dump_start(d, &s, w->b.id) < 0) {
		backup_move(db, w, LC_BACKUP_END);
		why = "the dump could not be started";
	}
	if (why && backup_finish(db, w, false, 0, why, 0, 0) == 0)
		st->failed++;
	log_info("backup %s of instance %s: %s", w->b.id, w->instance_id,
	    why ? why : "dumping where it runs");
}

/* Where each remote dump stands; one that ended is recorded. */
static void
poll_remote(struct db *db, struct prov_driver *d, const struct backup_conf *bc,
	    struct backup_stats *st)
{
	struct backup_row *rows = NULL;
	char reason[PROV_REASON_LEN], why[WHY_LEN];
	enum prov_dump_state ds;
	size_t n = 0;

	if (backup_list_remote(db, &rows, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct backup_work w = { .b = rows[i],
			.instance_row = rows[i].instance_row };

		if (prov_dump_poll(d, rows[i].id, &ds, reason) < 0 ||
		    (ds == PROV_DUMP_RUNNING &&
		    rows[i].running_s * 1000 < bc->step_timeout_ms))
			continue;
		snprintf(why, sizeof(why), "the dump %s%.200s",
		    ds == PROV_DUMP_RUNNING ? "took too long" : "failed: ",
		    ds == PROV_DUMP_RUNNING ? "" : reason[0] ? reason :
		    "it vanished");
		backup_move(db, &w, LC_BACKUP_END);
		if (backup_finish(db, &w, ds == PROV_DUMP_DONE, 0, why,
		    bc->final_keep_s, bc->daily_keep) == 0)
			ds == PROV_DUMP_DONE ? st->taken++ : st->failed++;
	}
	free(rows);
}

/* Takes w (a queued backup, now running) and records how it went. */
static void
take(struct db *db, struct prov_driver *d, const struct backup_conf *bc,
     struct backup_work *w, struct backup_stats *st)
{
	char why[WHY_LEN] = "";
	int64_t size = 0;
	bool busy = false;
	int ret;

	if (w->b.kind == BACKUP_FINAL) {
		ret = bring_up(d, bc, w, why, sizeof(why));
	} else if (w->deleted) {
		snprintf(why, sizeof(why), "the instance was deleted");
		ret = -1;
	} else {
		busy = backup_move(db, w, LC_BACKUP_BEGIN) == LC_MOVED;
		ret = busy ? 0 : -1;
		if (!busy)
			snprintf(why, sizeof(why), "the instance was not"
			    " running");
	}
	if (ret == 0)
		ret = dump(d, bc, w, &size, why, sizeof(why));
	if (busy)
		backup_move(db, w, LC_BACKUP_END);
	if (backup_finish(db, w, ret == 0, size, why, bc->final_keep_s,
	    bc->daily_keep) == 0)
		ret == 0 ? st->taken++ : st->failed++;
	log_info("backup %s of instance %s (%s): %s%s", w->b.id,
	    w->instance_id, backup_kind_name(w->b.kind), ret == 0 ? "done" :
	    "failed: ", ret == 0 ? "" : why);
}

/* -- restores -- */

#define PERSON_ROLE "admin"	/* the person's role, in every driver */

static int
pg_connect(const struct prov_admin *a, PGconn **out)
{
	char port[16];
	const char *keys[] = { "host", "port", "user", "password", "dbname",
		"connect_timeout", "sslmode", "sslrootcert", NULL };
	const char *vals[] = { a->host, port, a->user, a->password,
		"postgres", "10", !a->tls ? "prefer" : a->ca_file[0] ?
		"verify-full" : "require", a->ca_file[0] ? a->ca_file : NULL,
		NULL };

	snprintf(port, sizeof(port), "%d", a->port);
	*out = PQconnectdbParams(keys, vals, 0);
	return PQstatus(*out) == CONNECTION_OK ? 0 : -1;
}

static int
pg_run(PGconn *c, const char *sql, const char *param, char *why,
       size_t wsize)
{
	PGresult *res = PQexecParams(c, sql, param ? 1 : 0, NULL, &param,
	    NULL, NULL, 0);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		snprintf(why, wsize, "%s", PQresultErrorField(res,
		    PG_DIAG_MESSAGE_PRIMARY) ? PQresultErrorField(res,
		    PG_DIAG_MESSAGE_PRIMARY) : "the server refused");
	PQclear(res);
	return ok ? 0 : -1;
}

/* An empty database of the instance's name, owned by the person's role:
 * sessions on the old one end, it goes. */
static int
pg_recreate(const struct prov_admin *a, const char *name, char *why,
	    size_t wsize)
{
	PGconn *c;
	char *ident = NULL;
	struct buf sql = BUF_INIT(256);
	int ret = -1;

	if (pg_connect(a, &c) < 0)
		snprintf(why, wsize, "cannot connect: %s", PQerrorMessage(c));
	else if (!(ident = PQescapeIdentifier(c, name, strlen(name))))
		snprintf(why, wsize, "cannot quote the database name");
	else if (pg_run(c, "SELECT pg_terminate_backend(pid)"
	    " FROM pg_stat_activity WHERE datname = $1"
	    " AND pid <> pg_backend_pid()", name, why, wsize) == 0 &&
	    buf_addf(&sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)",
	    ident) == 0 && pg_run(c, buf_cstr(&sql), NULL, why, wsize) == 0) {
		buf_reset(&sql);
		if (buf_addf(&sql, "CREATE DATABASE %s OWNER " PERSON_ROLE,
		    ident) == 0)
			ret = pg_run(c, buf_cstr(&sql), NULL, why, wsize);
	}
	PQfreemem(ident);
	buf_release(&sql);
	PQfinish(c);
	return ret;
}

static int
restore_pg(const struct prov_admin *a, const struct backup_work *w,
	   const char *file, const struct backup_conf *bc, char *why,
	   size_t wsize)
{
	char prog[PATH_LEN], port[16], err[WHY_LEN];
	const char *argv[] = { prog, "--no-owner", "--role=" PERSON_ROLE,
		"--no-password", "--exit-on-error", "-h", a->host, "-p", port,
		"-U", a->user, "-d", w->name, file, NULL };
	struct env e = { .n = 0 };
	struct spawn_opts o = { argv, e.list, -1, -1, NULL, 0,
		bc->step_timeout_ms };
	int rc;

	if (pg_recreate(a, w->name, why, wsize) < 0)
		return -1;
	pg_program("pg_restore", prog);
	snprintf(port, sizeof(port), "%d", a->port);
	pg_env(&e, a);
	rc = spawn_run(&o, err, sizeof(err));
	env_clear(&e);
	return outcome(rc, "pg_restore", err, 0, why, wsize);
}

/* Loads backup w->b into w's instance. */
static int
load_into(struct prov_driver *d, const struct backup_conf *bc,
	  const struct backup_work *w, char *why, size_t wsize)
{
	struct prov_spec s = spec_of(w);
	struct prov_admin a;
	char file[PATH_LEN];
	int ret;

	if (strcmp(w->b.type, w->type) != 0)
		return snprintf(why, wsize, "a %s backup cannot go into a %s"
		    " instance", w->b.type, w->type), -1;
	if (strcmp(w->type, "mongodb") == 0)
		return snprintf(why, wsize, "MongoDB backups cannot be restored"
		    " here yet: restore the archive with mongorestore"), -1;
	if (backup_path(file, sizeof(file), bc->dir, &w->b) < 0 ||
	    access(file, R_OK) < 0)
		return snprintf(why, wsize, "the backup's file is missing"), -1;
	pause_point("backup.restore");
	if (strcmp(w->type, "redis") == 0)
		return prov_load_rdb(d, &s, file) == 0 ? 0 :
		    (snprintf(why, wsize, "the data could not be swapped in"),
		    -1);
	if (prov_admin(d, &s, &a) < 0)
		return snprintf(why, wsize, "cannot reach the instance"), -1;
	ret = restore_pg(&a, w, file, bc, why, wsize);
	explicit_bzero(&a, sizeof(a));
	return ret;
}

/* The instance's current data, kept as a pre_restore backup. */
static int
keep_current(struct db *db, struct prov_driver *d,
	     const struct backup_conf *bc, const struct backup_work *w,
	     char *why, size_t wsize)
{
	struct backup_work pre;
	int64_t size = 0;
	int ret = backup_start_pre_restore(db, w, &pre);

	if (ret == BACKUP_BUSY)
		return snprintf(why, wsize, "a backup of this instance is"
		    " under way; try again once it is done"), -1;
	if (ret != BACKUP_OK)
		return snprintf(why, wsize, "could not record a backup"), -1;
	ret = dump(d, bc, &pre, &size, why, wsize);
	backup_finish(db, &pre, ret == 0, size, why, bc->final_keep_s,
	    bc->daily_keep);
	if (ret < 0) {
		char inner[WHY_LEN];

		snprintf(inner, sizeof(inner), "%s", why);
		snprintf(why, wsize, "the current data could not be kept"
		    " first (%.180s): nothing was overwritten", inner);
	}
	return ret;
}

static void
restore(struct db *db, struct prov_driver *d, const struct backup_conf *bc,
	struct backup_work *w, struct backup_stats *st)
{
	char why[WHY_LEN] = "";
	bool busy = backup_move(db, w, LC_RESTORE_BEGIN) == LC_MOVED;
	int ret = busy ? 0 : -1;

	if (!busy)
		snprintf(why, sizeof(why), "the instance was not running");
	if (ret == 0 && !w->into_new)
		ret = keep_current(db, d, bc, w, why, sizeof(why));
	if (ret == 0)
		ret = load_into(d, bc, w, why, sizeof(why));
	if (busy)
		backup_move(db, w, LC_RESTORE_END);
	if (backup_finish_restore(db, w, ret == 0, why) == 0)
		ret == 0 ? st->restored++ : st->restore_failed++;
	log_info("restore of backup %s into instance %s: %s%s", w->b.id,
	    w->instance_id, ret == 0 ? "done" : "failed: ", ret == 0 ? "" :
	    why);
}

/* -- the pass -- */

static void
remove_expired(struct db *db, const struct backup_conf *bc,
	       struct backup_stats *st)
{
	struct backup_row *rows = NULL;
	char path[PATH_LEN];
	size_t n = 0;

	if (backup_list_removable(db, &rows, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (backup_path(path, sizeof(path), bc->dir, &rows[i]) < 0 ||
		    (unlink(path) < 0 && errno != ENOENT)) {
			log_warn("backup %s: cannot remove its file: %s",
			    rows[i].id, strerror(errno));
			continue;
		}
		if (backup_mark_removed(db, rows[i].row_id) == 0)
			st->removed++;
		*strrchr(path, '/') = '\0';
		rmdir(path);	/* the instance's directory, once empty */
	}
	free(rows);
}

int
backup_run_pass(struct db *db, struct prov_driver *d,
		const struct backup_conf *bc, int64_t deadline_ms,
		struct backup_stats *st)
{
	struct backup_work w;
	int r = 0;

	memset(st, 0, sizeof(*st));
	if (backup_run_prepare(bc) < 0 ||
	    (st->recovered = backup_recover(db)) < 0 ||
	    backup_queue_due(db) < 0)
		return -1;
	poll_remote(db, d, bc, st);
	while (clock_mono_ms() < deadline_ms) {
		if ((r = backup_next(db, &w)) == BACKUP_OK) {
			if (strcmp(w.type, "mongodb") == 0)
				start_remote(db, d, &w, st);
			else
				take(db, d, bc, &w, st);
			continue;
		}
		if (r == BACKUP_NOT_FOUND &&
		    (r = backup_next_restore(db, &w)) == BACKUP_OK) {
			restore(db, d, bc, &w, st);
			continue;
		}
		break;
	}
	remove_expired(db, bc, st);
	return r < 0 ? -1 : 0;
}
