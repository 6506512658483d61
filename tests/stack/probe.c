/*
 * Pool "probe": exists only in the test stack, to exercise the platform
 * itself (JSON bodies, slow requests, worker identity, database access)
 * independently of any product route, and to reach driver operations that
 * no route calls yet (dumps: prov_dump_start/poll).  nginx sends
 * /api/_probe/ here through tests/stack/probe.nginx.conf.
 */
#include <json.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/jget.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "prov/prov.h"
#include "store/db.h"
#include "web/app.h"
#include "web/pool.h"
#include "web/req.h"

/* POST /api/_probe/echo {"name": "1..32 chars", "n": 0..100} */
static int
echo(struct req *req)
{
	const char *name;
	int64_t n;
	int r;
	struct json_object *out;

	if ((r = jget_str(req->json, "name", 32, &name)) != JGET_OK)
		return resp_jget_error(req, r, "name");
	if ((r = jget_i64(req->json, "n", 0, 100, &n)) != JGET_OK)
		return resp_jget_error(req, r, "n");
	out = json_object_new_object();
	json_object_object_add(out, "name", json_object_new_string(name));
	json_object_object_add(out, "n", json_object_new_int64(n));
	return resp_json(req, 200, out);
}

/* GET /api/_probe/sleep?ms=N: holds the worker N ms (at most 5000). */
static int
sleep_ms(struct req *req)
{
	const char *ms = req_query(req, "ms");
	long n = ms ? strtol(ms, NULL, 10) : 0;
	struct json_object *out;

	if (n < 0 || n > 5000)
		return resp_error(req, ERR_INVALID_PARAMETER, "ms");
	clock_sleep_ms(n, NULL);
	out = json_object_new_object();
	json_object_object_add(out, "slept", json_object_new_int64(n));
	json_object_object_add(out, "pid", json_object_new_int(getpid()));
	return resp_json(req, 200, out);
}

/* GET /api/_probe/db: one statement through the worker's connection. */
static int
db_probe(struct req *req)
{
	PGresult *res = db_exec(&req->app->db, "SELECT 40 + 2", 0, NULL);
	struct json_object *out;

	if (!res)
		return resp_error(req, ERR_UNAVAILABLE, NULL);
	out = json_object_new_object();
	json_object_object_add(out, "answer",
	    json_object_new_int64(db_get_i64(res, 0, 0)));
	json_object_object_add(out, "pid", json_object_new_int(getpid()));
	PQclear(res);
	return resp_json(req, 200, out);
}

/* The transaction id of one statement, or -1. */
static int64_t
txid(struct db *db)
{
	PGresult *res = db_exec(db, "SELECT txid_current()", 0, NULL);
	int64_t id = res ? db_get_i64(res, 0, 0) : -1;

	PQclear(res);
	return id;
}

/* GET /api/_probe/tx: two statements in one transaction (its BEGIN goes
 * with the first); "one" says whether both saw the same transaction. */
static int
tx_probe(struct req *req)
{
	struct db *db = &req->app->db;
	int64_t a, b;
	struct json_object *out;

	if (db_begin(db) < 0 || (a = txid(db)) < 0 || (b = txid(db)) < 0 ||
	    db_commit(db) < 0) {
		db_rollback(db);
		return resp_error(req, ERR_UNAVAILABLE, NULL);
	}
	out = json_object_new_object();
	json_object_object_add(out, "one", json_object_new_boolean(a == b));
	json_object_object_add(out, "pid", json_object_new_int(getpid()));
	return resp_json(req, 200, out);
}

/* POST /api/_probe/dump {"id", "type", "name", "port", "diskGb",
 * "backupId"}: prov_dump_start for that instance (the spec comes from the
 * body: the test knows it). 204, or 503 when the driver failed. */
static int
dump_start(struct req *req)
{
	struct prov_spec s = { .cpu = 0.1, .memory_mb = 256, .running = true };
	const char *bid;
	int64_t port, disk;

	if (jget_str(req->json, "id", 64, &s.id) != JGET_OK ||
	    jget_str(req->json, "type", 16, &s.type) != JGET_OK ||
	    jget_str(req->json, "name", 64, &s.name) != JGET_OK ||
	    jget_i64(req->json, "port", 1, 65535, &port) != JGET_OK ||
	    jget_i64(req->json, "diskGb", 1, 1024, &disk) != JGET_OK ||
	    jget_str(req->json, "backupId", 64, &bid) != JGET_OK)
		return resp_error(req, ERR_INVALID_PARAMETER, NULL);
	s.port = (int)port;
	s.disk_gb = disk;
	if (!req->app->prov || prov_dump_start(req->app->prov, &s, bid) < 0)
		return resp_error(req, ERR_UNAVAILABLE, NULL);
	return resp_empty(req, 204);
}

/* GET /api/_probe/dump?backupId=B: prov_dump_poll -> {"state", "reason"}. */
static int
dump_poll(struct req *req)
{
	static const char *const names[] = { [PROV_DUMP_RUNNING] = "running",
		[PROV_DUMP_DONE] = "done", [PROV_DUMP_FAILED] = "failed",
		[PROV_DUMP_GONE] = "gone" };
	const char *bid = req_query(req, "backupId");
	enum prov_dump_state st;
	char reason[PROV_REASON_LEN];
	struct json_object *out;

	if (!bid)
		return resp_error(req, ERR_MISSING_PARAMETER, "backupId");
	if (!req->app->prov ||
	    prov_dump_poll(req->app->prov, bid, &st, reason) < 0)
		return resp_error(req, ERR_UNAVAILABLE, NULL);
	out = json_object_new_object();
	json_object_object_add(out, "state", json_object_new_string(names[st]));
	json_object_object_add(out, "reason", json_object_new_string(reason));
	return resp_json(req, 200, out);
}

/* GET /api/_probe/fail: logs an error and answers 500, as a request
 * whose dependency failed would (its trace is kept whatever the
 * sampling, and the log line carries its trace id). */
static int
fail_on_purpose(struct req *req)
{
	PQclear(db_exec(&req->app->db, "SELECT 1", 0, NULL));
	log_err("probe: failing on purpose");
	return resp_error(req, ERR_INTERNAL, NULL);
}

static const struct route routes[] = {
	{ "POST", "/api/_probe/echo", echo, ROUTE_PUBLIC, ROUTE_JSON_BODY,
	  LIMIT_NONE },
	{ "GET", "/api/_probe/sleep", sleep_ms, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "GET", "/api/_probe/db", db_probe, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "GET", "/api/_probe/tx", tx_probe, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "POST", "/api/_probe/dump", dump_start, ROUTE_PUBLIC,
	  ROUTE_JSON_BODY, LIMIT_NONE },
	{ "GET", "/api/_probe/dump", dump_poll, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "GET", "/api/_probe/fail", fail_on_purpose, ROUTE_PUBLIC, 0,
	  LIMIT_NONE },
};

int
main(void)
{
	return pool_main("probe", routes, ARRAY_LEN(routes));
}
