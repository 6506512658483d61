/*
 * Inside a PostgreSQL instance.  These connections are not the service's
 * database, so they use libpq directly instead of store/db.  Two
 * statements cannot take bind parameters: CREATE DATABASE quotes the name
 * with PQescapeIdentifier (it was also checked against the name rule),
 * and ALTER ROLE ... PASSWORD gets a SCRAM verifier computed here by
 * PQencryptPasswordConn, quoted with PQescapeLiteral, so the clear
 * password never reaches the server, its logs or ours.  The driver's
 * session also turns statement logging off.  Errors are logged with the
 * server's primary message only, never a statement.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "prov/local_pg_sql.h"
#include "prov/tls.h"

#define READY_POLL_MS 25
#define ROOT_OPTIONS "-c statement_timeout=30000" \
	" -c log_statement=none -c log_min_error_statement=panic"
#define USER_OPTIONS "-c statement_timeout=5000"
#define REVOKE_DEFAULTS "REVOKE CONNECT, TEMPORARY ON DATABASE postgres," \
	" template1 FROM PUBLIC"

static PGconn *
connect_root(const struct local_inst *in, const struct local_secret *sec)
{
	char port[8];
	const char *keys[] = { "host", "port", "user", "password", "dbname",
		"connect_timeout", "options", "application_name", NULL };
	const char *vals[] = { in->dir, port, LOCAL_PG_ROOT, sec->root,
		"postgres", "2", ROOT_OPTIONS, "dbtree", NULL };

	snprintf(port, sizeof(port), "%d", in->spec->port);
	return PQconnectdbParams(keys, vals, 0);
}

/*
 * As the person would, over TCP, which takes TLS only: the certificate is
 * checked against the installation's CA (its own copy, not the instance
 * directory's, which the instance user could replace).  The host is not
 * checked: the driver may reach the server by another address than the
 * public name.  sslcert names a path that cannot exist, so libpq looks for
 * no client certificate in ~/.postgresql (a HOME the service may not
 * read makes it fail).
 */
static PGconn *
connect_user(const struct local_inst *in, const struct local_secret *sec)
{
	char port[8], ca[LOCAL_PATH_MAX + 16];
	const char *keys[] = { "host", "port", "user", "password", "dbname",
		"connect_timeout", "sslmode", "sslrootcert", "sslcert",
		"gssencmode", "options", "application_name", NULL };
	const char *vals[] = { in->l->host, port, LOCAL_PG_USER,
		sec->password, in->spec->name, "2", "verify-ca", ca,
		"/dev/null/none", "disable", USER_OPTIONS, "dbtree", NULL };

	snprintf(port, sizeof(port), "%d", in->spec->port);
	snprintf(ca, sizeof(ca), "%s/" TLS_CA_CERT, in->l->tls_dir);
	return PQconnectdbParams(keys, vals, 0);
}

/* True once the server accepts connections on its socket. */
static bool
is_ready(const struct local_inst *in, int64_t wait_ms)
{
	char port[8];
	const char *keys[] = { "host", "port", "connect_timeout", NULL };
	const char *vals[] = { in->dir, port, "2", NULL };
	int64_t deadline = clock_mono_ms() + wait_ms;

	snprintf(port, sizeof(port), "%d", in->spec->port);
	while (PQpingParams(keys, vals, 0) != PQPING_OK) {
		if (clock_mono_ms() >= deadline)
			return false;
		clock_sleep_ms(READY_POLL_MS, NULL);
	}
	return true;
}

static int
sql_fail(const struct local_inst *in, struct local_state *st, PGconn *c,
	 const PGresult *r, const char *what)
{
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) :
	    NULL;
	char line[PROV_REASON_LEN];

	if (!msg) {
		local_fs_first_line(PQerrorMessage(c), line, sizeof(line));
		msg = line;
	}
	return local_state_fail(in, st, "%s: %s", what, msg);
}

/* Runs sql; an error with SQLSTATE ok_state (may be NULL) is fine. */
static int
run(const struct local_inst *in, struct local_state *st, PGconn *c,
    const char *sql, const char *what, const char *ok_state)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType s = PQresultStatus(r);
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	int ret = 0;

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK &&
	    !(ok_state && state && strcmp(state, ok_state) == 0))
		ret = sql_fail(in, st, c, r, what);
	PQclear(r);
	return ret;
}

/* 0 when sql with param $1 finds a row, LOCAL_MISSING or -1. */
static int
exists(const struct local_inst *in, struct local_state *st, PGconn *c,
       const char *sql, const char *param)
{
	PGresult *r = PQexecParams(c, sql, 1, NULL, &param, NULL, NULL, 0);
	int ret;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		ret = sql_fail(in, st, c, r, "look up");
	else
		ret = PQntuples(r) > 0 ? 0 : LOCAL_MISSING;
	PQclear(r);
	return ret;
}

static int
set_password(const struct local_inst *in, struct local_state *st, PGconn *c,
	     const char *password)
{
	char *verifier = PQencryptPasswordConn(c, password, LOCAL_PG_USER,
	    "scram-sha-256");
	char *lit = verifier ? PQescapeLiteral(c, verifier, strlen(verifier)) :
	    NULL;
	struct buf sql = BUF_INIT(1024);
	int ret;

	if (!lit || buf_addf(&sql, "ALTER ROLE " LOCAL_PG_USER " PASSWORD %s",
	    lit) < 0)
		ret = sql_fail(in, st, c, NULL, "hash the password");
	else
		ret = run(in, st, c, buf_cstr(&sql), "set the password", NULL);
	PQfreemem(verifier);
	PQfreemem(lit);
	buf_release(&sql);
	return ret;
}

static int
ensure_role(const struct local_inst *in, struct local_state *st, PGconn *c,
	    const char *password)
{
	int found = exists(in, st, c, "SELECT 1 FROM pg_roles"
	    " WHERE rolname = $1", LOCAL_PG_USER);

	if (found < 0)
		return -1;
	if (found == LOCAL_MISSING && run(in, st, c, "CREATE ROLE "
	    LOCAL_PG_USER " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"
	    " NOREPLICATION NOBYPASSRLS", "create the role", "42710") < 0)
		return -1;
	if (set_password(in, st, c, password) < 0)
		return -1;
	if (found == LOCAL_MISSING)
		return 0;
	/* a credentials reset: sessions opened with the old one end too */
	return run(in, st, c, "SELECT pg_terminate_backend(pid)"
	    " FROM pg_stat_activity WHERE usename = '" LOCAL_PG_USER "'"
	    " AND pid <> pg_backend_pid()", "end the old sessions", NULL);
}

static int
ensure_database(const struct local_inst *in, struct local_state *st,
		PGconn *c)
{
	const char *name = in->spec->name;
	int found = exists(in, st, c, "SELECT 1 FROM pg_database"
	    " WHERE datname = $1", name);
	char *ident;
	struct buf sql = BUF_INIT(256);
	int ret;

	if (found != LOCAL_MISSING)
		return found;
	ident = PQescapeIdentifier(c, name, strlen(name));
	if (!ident || buf_addf(&sql, "CREATE DATABASE %s OWNER "
	    LOCAL_PG_USER, ident) < 0)
		ret = sql_fail(in, st, c, NULL, "quote the database name");
	else
		ret = run(in, st, c, buf_cstr(&sql), "create the database",
		    "42P04");
	PQfreemem(ident);
	buf_release(&sql);
	return ret;
}

int
local_pg_sql_sync(const struct local_inst *in, struct local_state *st,
		  const struct local_secret *sec, int64_t wait_ms)
{
	PGconn *c;
	int ret;

	if (!is_ready(in, wait_ms))
		return 0;
	c = connect_root(in, sec);
	if (PQstatus(c) != CONNECTION_OK)
		ret = sql_fail(in, st, c, NULL, "connect as " LOCAL_PG_ROOT);
	else if ((ret = ensure_role(in, st, c, sec->password)) == 0 &&
	    (ret = ensure_database(in, st, c)) == 0)
		ret = run(in, st, c, REVOKE_DEFAULTS, "revoke defaults", NULL);
	PQfinish(c);
	if (ret == 0) {
		st->synced = true;
		log_info("instance %s: postgres role " LOCAL_PG_USER " and"
		    " database '%s' ready", in->id, in->spec->name);
	}
	return ret;
}

static int64_t
get_i64(const PGresult *r, int col)
{
	return PQgetisnull(r, 0, col) ? -1 :
	    strtoll(PQgetvalue(r, 0, col), NULL, 10);
}

static void
figures(const struct local_inst *in, PGconn *c, struct prov_observation *o)
{
	const char *name = in->spec->name;
	PGresult *r = PQexecParams(c, "SELECT (SELECT count(*)"
	    " FROM pg_stat_activity WHERE backend_type = 'client backend') - 1,"
	    " pg_database_size($1),"
	    " extract(epoch FROM now() - pg_postmaster_start_time())::bigint",
	    1, NULL, &name, NULL, NULL, 0);

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		o->connections = get_i64(r, 0);
		o->storage_bytes = get_i64(r, 1);
		o->uptime_s = get_i64(r, 2);
	} else {
		log_warn("instance %s: figures: %s", in->id,
		    PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
	}
	PQclear(r);
}

static bool
is_refused_login(const char *why)
{
	return strstr(why, "password authentication failed") ||
	    strstr(why, "is not permitted to log in");
}

void
local_pg_sql_observe(const struct local_inst *in,
		     const struct local_secret *sec, bool detail,
		     struct prov_observation *o)
{
	PGconn *c = connect_user(in, sec);
	char why[PROV_REASON_LEN];

	if (PQstatus(c) == CONNECTION_OK) {
		local_observed(o, PROV_RUNNING, "");
	} else {
		local_fs_first_line(PQerrorMessage(c), why, sizeof(why));
		PQfinish(c);
		c = is_refused_login(why) ? connect_root(in, sec) : NULL;
		if (PQstatus(c) != CONNECTION_OK) {
			local_observed(o, PROV_STARTING, why);
			PQfinish(c);
			return;
		}
		local_observed(o, PROV_RUNNING, "the admin login is refused:"
		    " its password was changed outside dbtree");
	}
	if (detail)
		figures(in, c, o);
	PQfinish(c);
}
