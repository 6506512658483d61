/*
 * A worker and the path of one request: refuse client text that is not
 * UTF-8 (req_check_input, before routing and again once a JSON body is
 * parsed), route, check and parse the body for JSON routes, run the
 * handler, count it.  Connections and stopping are web/conns.c's: SIGTERM
 * is taken only while the worker waits for work, and the worker then
 * serves what nginx still sends on the connections it holds before it
 * leaves.
 */
#include <fcgiapp.h>
#include <json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/conf.h"
#include "base/hash.h"
#include "base/jget.h"
#include "base/log.h"
#include "base/rand.h"
#include "base/trace.h"
#include "net/otlp.h"
#include "web/app.h"
#include "web/auth.h"
#include "web/conns.h"
#include "web/limit.h"
#include "web/metrics.h"
#include "web/req.h"
#include "web/worker.h"

static volatile sig_atomic_t stopping;	/* set only by on_term */

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
install_signals(void)
{
	struct sigaction sa;
	sigset_t all;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&all);
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGINT);
	sigprocmask(SIG_SETMASK, &all, NULL);	/* let through by conns_loop */
}

static const char *
param(FCGX_Request *fr, const char *name, const char *def)
{
	const char *v = FCGX_GetParam(name, fr->envp);

	return v ? v : def;
}

static bool
is_json_type(const char *type)
{
	size_t n = strlen("application/json");

	return strncasecmp(type, "application/json", n) == 0 &&
	    (type[n] == '\0' || type[n] == ';');
}

/* Reads and parses the body of a JSON route; answers the error itself and
 * returns -1 when the body is not acceptable. */
static int
read_json_body(struct req *req, int64_t max_body)
{
	FCGX_Request *fr = req->fcgi;
	const char *cl = param(fr, "CONTENT_LENGTH", "");
	long long len = *cl ? strtoll(cl, NULL, 10) : 0;
	const char *why = "body must be a JSON object";
	char *body;

	if (!is_json_type(param(fr, "CONTENT_TYPE", "")))
		return resp_error(req, ERR_UNSUPPORTED_MEDIA_TYPE, NULL), -1;
	if (len > max_body)
		return resp_error(req, ERR_PAYLOAD_TOO_LARGE, NULL), -1;
	if (len <= 0)
		return resp_errorf(req, ERR_INVALID_PARAMETER, NULL, "%s",
		    why), -1;
	body = arena_alloc(&req->arena, (size_t)len + 1);
	if (FCGX_GetStr(body, (int)len, fr->in) != len ||
	    !(req->json = jget_parse_object(body, (size_t)len, &why)))
		return resp_errorf(req, ERR_INVALID_PARAMETER, NULL, "%s",
		    why), -1;
	return 0;
}

/* The route's access rule: 0, or -1 after answering 401 (503 when the
 * session could not be looked up). */
static int
authorize(struct req *req)
{
	switch (req->route->access) {
	case ROUTE_PUBLIC:
		return 0;
	case ROUTE_USER:
		if (!(req->user_id = auth_user(req)))
			return -1;
		req->token = auth_token(req);
		return 0;
	case ROUTE_TOKEN:
		return (req->token = auth_bearer(req)) ? 0 : -1;
	}
	return -1;
}

/* The route's per-person limit: 0, or -1 after answering 429. */
static int
within_limit(struct req *req)
{
	enum route_limit cls = req->route->limit;
	char who[HASH_SHA256_HEX], secs[24];
	struct json_object *d;
	int64_t wait = 0;

	if (cls == LIMIT_NONE || !req->token || !req->app->conf.route_limits)
		return 0;
	if (req->user_id)
		snprintf(who, sizeof(who), "%s", req->user_id);
	else	/* a token-only route: its session, never the token itself */
		hash_sha256_hex(req->token, strlen(req->token), who);
	if (limit_take(&req->app->kv, cls, who, &wait) == LIMIT_OK)
		return 0;
	snprintf(secs, sizeof(secs), "%lld", (long long)wait);
	resp_header(req, "Retry-After", secs);
	d = json_object_new_object();
	json_object_object_add(d, "retryAfter", json_object_new_int64(wait));
	resp_errorf(req, ERR_TOO_MANY_REQUESTS, d, "%s; try again in %lld s",
	    limit_rule(cls), (long long)wait);
	return -1;
}

/* True for a method that may change what it names. */
static bool
is_write(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* Runs the handler; a domain failure it reports is answered here, the
 * same way for every route.  A person's write request may have changed
 * their profile: the caches of this host read it again (web/auth.h), noted
 * before the answer leaves, so the person's next request sees the change. */
static void
run_handler(struct req *req)
{
	if (req->route->fn(req) == ROUTE_FAILED && !req->status)
		resp_error(req, ERR_UNAVAILABLE, NULL);
	if (req->user_id && is_write(req->method))
		auth_changed(req->user_id);
	if (!req->status) {
		log_err("bug: handler for '%s' did not answer",
		    req->route->pattern);
		resp_error(req, ERR_INTERNAL, NULL);
	}
}

static void
dispatch(struct req *req, const struct worker_ctx *ctx, size_t *route)
{
	char allow[64];
	struct json_object *data;
	int r;

	if (req_check_input(req) < 0)
		return;
	r = route_find(ctx->routes, ctx->nroutes, req->method, req->path,
	    route, &req->params, allow, sizeof(allow));
	if (r == ROUTE_NO_PATH) {
		data = json_object_new_object();
		json_object_object_add(data, "path",
		    json_object_new_string(req->path));
		resp_errorf(req, ERR_ENDPOINT_NOT_FOUND, data,
		    "no endpoint at this path");
		return;
	}
	if (r == ROUTE_NO_METHOD) {
		data = json_object_new_object();
		json_object_object_add(data, "allowed",
		    json_object_new_string(allow));
		resp_header(req, "Allow", allow);
		resp_errorf(req, ERR_METHOD_NOT_ALLOWED, data,
		    "%s is not allowed here; use %s", req->method, allow);
		return;
	}
	req->route = &ctx->routes[*route];
	db_check(&req->app->db);
	if (authorize(req) < 0)
		return;
	if ((req->route->flags & ROUTE_JSON_BODY) &&
	    (read_json_body(req, ctx->conf->max_body) < 0 ||
	    req_check_input(req) < 0))
		return;
	if (within_limit(req) < 0)
		return;
	run_handler(req);
}

/* Names the request's span after its route and sends its trace. */
static void
request_span(const struct req *req, const struct worker_ctx *ctx, int span)
{
	char name[160];

	if (span >= 0) {
		snprintf(name, sizeof(name), "%s %s", req->method, req->route ?
		    req->route->pattern : "(no route)");
		trace_name(span, name);
		trace_str(span, "http.request.method", req->method);
		if (req->route)
			trace_str(span, "http.route", req->route->pattern);
		trace_int(span, "http.response.status_code", req->status);
		trace_str(span, "dbtree.group", ctx->group);
		trace_str(span, "dbtree.request_id", req->request_id);
		if (req->status >= 500)
			trace_fail(span, "server error");
	}
	trace_finish();
}

static void
serve_one(struct app *app, FCGX_Request *fr, const struct worker_ctx *ctx)
{
	struct req req;
	char idbuf[33];
	size_t route = ctx->nroutes;
	int span;
	int64_t t0 = clock_mono_us();

	memset(&req, 0, sizeof(req));
	buf_init(&req.headers, 4096);
	req.app = app;
	req.fcgi = fr;
	req.method = param(fr, "REQUEST_METHOD", "GET");
	req.path = param(fr, "DOCUMENT_URI", param(fr, "SCRIPT_NAME", "/"));
	req.query = param(fr, "QUERY_STRING", "");
	req.client_addr = param(fr, "REMOTE_ADDR", "");
	req.request_id = param(fr, "REQUEST_ID", NULL);
	if (!req.request_id || strlen(req.request_id) > 32) {
		rand_hex(idbuf, 16);
		req.request_id = idbuf;
	}
	log_set_reqid(req.request_id);
	span = trace_begin(param(fr, "HTTP_TRACEPARENT", NULL),
	    req.request_id, "request", TRACE_SERVER);
	log_set_trace(trace_id_hex());
	dispatch(&req, ctx, &route);
	metrics_request(ctx->metrics, route, req.status,
	    clock_mono_us() - t0);
	request_span(&req, ctx, span);
	json_object_put(req.json);
	arena_release(&req.arena);
	buf_release(&req.headers);
	log_set_reqid(NULL);
	log_set_trace(NULL);
}

struct worker_run {
	struct app *app;
	const struct worker_ctx *ctx;
};

static void
serve_request(FCGX_Request *fr, void *arg)
{
	struct worker_run *run = arg;

	serve_one(run->app, fr, run->ctx);
}

int
worker_serve(const struct worker_ctx *ctx)
{
	struct app app;
	struct worker_run run = { &app, ctx };

	install_signals();
	if (FCGX_Init() != 0)
		return log_err("fcgx init failed"), 1;
	app_open(&app, ctx->conf);
	if (ctx->span_fd >= 0) {
		static int span_fd;

		span_fd = ctx->span_fd;
		trace_setup(ctx->conf->trace_sampling, otlp_pipe_sink,
		    &span_fd);
	}
	app.metrics = ctx->metrics;
	app.live_fd = ctx->live_fd;
	conns_loop(ctx->listen_fd, &stopping, ctx->conf->shutdown_grace_ms / 2,
	    serve_request, &run);
	app_close(&app);
	return 0;
}
