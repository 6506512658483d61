/*
 * Pool "public": liveness, readiness and metrics.  nginx also sends every
 * /api/ path no other pool owns here, so this router's 404 is the answer
 * for unknown endpoints.
 */
#include <json.h>
#include <string.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "domain/gauges.h"
#include "domain/health.h"
#include "web/app.h"
#include "web/metrics.h"
#include "web/pool.h"
#include "web/req.h"

/* GET /api/health: the process answers; touches nothing else. */
static int
health(struct req *req)
{
	struct json_object *out = json_object_new_object();

	json_object_object_add(out, "status", json_object_new_string("ok"));
	return resp_json(req, 200, out);
}

/* GET /api/ready: PostgreSQL and Redis both answer in time, else 503 with
 * the ones that did not. */
static int
ready(struct req *req)
{
	struct app *app = req->app;
	bool pg = db_ping(&app->db, app->conf.ready_timeout_ms);
	bool redis = kv_ping(&app->kv);
	struct json_object *checks = json_object_new_object();
	struct json_object *out;

	json_object_object_add(checks, "postgresql",
	    json_object_new_string(pg ? "ok" : "unavailable"));
	json_object_object_add(checks, "redis",
	    json_object_new_string(redis ? "ok" : "unavailable"));
	if (!pg || !redis)
		return resp_errorf(req, ERR_UNAVAILABLE, checks,
		    "not ready: %s%s%s unavailable", pg ? "" : "postgresql",
		    !pg && !redis ? " and " : "", redis ? "" : "redis");
	out = json_object_new_object();
	json_object_object_add(out, "status", json_object_new_string("ready"));
	json_object_object_add(out, "checks", checks);
	return resp_json(req, 200, out);
}

/* What health_render needs from the configuration. */
static void
health_conf_of(const struct conf *c, struct health_conf *hc)
{
	hc->driver = c->provisioner;
	hc->usable_cpu = (c->capacity_cpu_milli - c->reserved_cpu_milli) /
	    1000.0;
	hc->usable_mb = c->capacity_memory_mb - c->reserved_memory_mb;
	hc->ping_timeout_ms = c->ready_timeout_ms;
}

/* GET /metrics: every pool's counters, then the jobs' gauges and the
 * figures read now, as Prometheus text. */
static int
metrics(struct req *req)
{
	struct buf out = BUF_INIT(16 << 20);
	struct health_conf hc;
	int status;

	if (metrics_render(req->app->conf.run_dir, &out) < 0) {
		buf_release(&out);
		return ROUTE_FAILED;
	}
	/* the jobs' figures; without the database the pools' still show */
	gauges_render(&req->app->db, &out);
	health_conf_of(&req->app->conf, &hc);
	health_render(&req->app->db, &req->app->kv, &hc, &out);
	status = resp_text(req, 200, "text/plain; version=0.0.4",
	    buf_cstr(&out), out.len);
	buf_release(&out);
	return status;
}

static const struct route routes[] = {
	{ "GET", "/api/health", health, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "GET", "/api/ready", ready, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "GET", "/metrics", metrics, ROUTE_PUBLIC, 0, LIMIT_NONE },
};

int
main(void)
{
	return pool_main("public", routes, ARRAY_LEN(routes));
}
