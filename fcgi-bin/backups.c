/*
 * Pool "backups": dumps of database instances, their downloads and
 * restores.
 *
 *	POST /api/db/instances/:id/backups		take one now -> 202
 *	GET  /api/db/instances/:id/backups		the instance's backups
 *	POST /api/db/instances/:id/backups/:bid/link	a download link
 *	DELETE /api/db/instances/:id/backups/:bid	-> 204, its file goes
 *	POST /api/db/instances/:id/backups/:bid/restore	-> 202
 *	GET  /api/db/instances/:id/restores		how the last ones went
 *	GET  /api/db/backups				last copies of deleted
 *							instances
 *	POST /api/db/backups/:bid/link			a download link
 *	DELETE /api/db/backups/:bid			-> 204
 *	GET  /api/db/backups/download/:token		public: the file, once
 *
 * Handlers only record what is asked; the backups job does it.  A
 * download answers with X-Accel-Redirect to nginx's internal location
 * /__backups/ (the backup directory), so nginx streams the file and no
 * worker waits on it.
 */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/xalloc.h"
#include "domain/backup.h"
#include "web/app.h"
#include "web/pool.h"
#include "web/req.h"
#include "web/views.h"

#define INTERNAL_PREFIX "/__backups"

static void
jadd(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static struct json_object *
backup_json(const struct backup_row *b)
{
	struct json_object *o = json_object_new_object();

	jadd(o, "id", json_object_new_string(b->id));
	jadd(o, "instanceId", json_object_new_string(b->instance_id));
	jadd(o, "instanceName", json_object_new_string(b->instance_name));
	jadd(o, "type", json_object_new_string(b->type));
	jadd(o, "kind", json_object_new_string(backup_kind_name(b->kind)));
	jadd(o, "state", json_object_new_string(backup_state_name(b->state)));
	jadd(o, "sizeBytes", json_object_new_int64(b->size_bytes));
	jadd(o, "cost", json_object_new_int64(b->cost));
	jadd(o, "createdAt", view_time(b->created_at));
	if (b->finished_at)
		jadd(o, "finishedAt", view_time(b->finished_at));
	if (b->expires_at)
		jadd(o, "expiresAt", view_time(b->expires_at));
	if (b->reason[0])
		jadd(o, "reason", json_object_new_string(b->reason));
	return o;
}

static int
list_json(struct req *req, struct backup_row *rows, size_t n)
{
	struct json_object *out = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(out, backup_json(&rows[i]));
	free(rows);
	return resp_json(req, 200, out);
}

static int
not_found(struct req *req, const char *what)
{
	struct json_object *d = json_object_new_object();

	jadd(d, "resourceName", json_object_new_string(what));
	return resp_errorf(req, ERR_RESOURCE_NOT_FOUND, d, "no such %s", what);
}

/* The answer for a refusal the domain gave. */
static int
refused(struct req *req, int r, int64_t cost)
{
	struct json_object *d;

	switch (r) {
	case BACKUP_NOT_FOUND:
		return not_found(req, "backup");
	case BACKUP_BUSY:
		return resp_error(req, ERR_BACKUP_IN_PROGRESS, NULL);
	case BACKUP_POOR:
		d = json_object_new_object();
		jadd(d, "required", json_object_new_int64(cost));
		return resp_errorf(req, ERR_INSUFFICIENT_LEMONS, d, "a backup"
		    " costs %lld lemon(s)", (long long)cost);
	case BACKUP_FULL:
		return resp_error(req, ERR_BACKUP_STORAGE_FULL, NULL);
	case BACKUP_NOT_RUNNING:
		return resp_errorf(req, ERR_INVALID_STATUS_TRANSITION, NULL,
		    "the instance must be running");
	case BACKUP_NOT_READY:
		return resp_error(req, ERR_BACKUP_NOT_READY, NULL);
	case BACKUP_GONE:
		d = json_object_new_object();
		jadd(d, "resourceName", json_object_new_string("backup"));
		return resp_errorf(req, ERR_RESOURCE_NOT_FOUND, d, "this backup"
		    " failed or its file is gone");
	case BACKUP_IN_CLUSTER:
		return resp_errorf(req, ERR_BACKUP_NOT_READY, NULL, "MongoDB"
		    " backups stay in the cluster's backup volume: they cannot"
		    " be downloaded here");
	default:
		return ROUTE_FAILED;
	}
}

static int
take(struct req *req)
{
	struct backup_row b;
	int64_t cost = req->app->conf.backup_cost;
	int r = backup_request(&req->app->db, req->user_id,
	    req_param(req, "id"), cost, &b);

	if (r == BACKUP_NOT_FOUND)
		return not_found(req, "instance");
	if (r != BACKUP_OK)
		return refused(req, r, cost);
	return resp_json(req, 202, backup_json(&b));
}

static int
list(struct req *req)
{
	struct backup_row *rows = NULL;
	size_t n = 0;
	int r = backup_list(&req->app->db, req->user_id, req_param(req, "id"),
	    &rows, &n);

	if (r == BACKUP_NOT_FOUND) {
		free(rows);
		return not_found(req, "instance");
	}
	if (r != BACKUP_OK)
		return ROUTE_FAILED;
	return list_json(req, rows, n);
}

static int
restores(struct req *req)
{
	struct restore_row *rows = NULL;
	struct json_object *out, *o;
	size_t n = 0;
	int r = backup_list_restores(&req->app->db, req->user_id,
	    req_param(req, "id"), &rows, &n);

	if (r != BACKUP_OK) {
		free(rows);
		return r == BACKUP_NOT_FOUND ? not_found(req, "instance") :
		    ROUTE_FAILED;
	}
	out = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		o = json_object_new_object();
		jadd(o, "backupId", json_object_new_string(rows[i].backup_id));
		jadd(o, "state", json_object_new_string(
		    backup_state_name(rows[i].state)));
		jadd(o, "createdAt", view_time(rows[i].created_at));
		if (rows[i].finished_at)
			jadd(o, "finishedAt", view_time(rows[i].finished_at));
		if (rows[i].reason[0])
			jadd(o, "reason", json_object_new_string(rows[i].reason));
		json_object_array_add(out, o);
	}
	free(rows);
	return resp_json(req, 200, out);
}

static int
list_final(struct req *req)
{
	struct backup_row *rows = NULL;
	size_t n = 0;

	if (backup_list_final(&req->app->db, req->user_id, &rows, &n) < 0)
		return ROUTE_FAILED;
	return list_json(req, rows, n);
}

static int
link_answer(struct req *req, const char *token)
{
	struct json_object *o = json_object_new_object();
	int64_t ttl = req->app->conf.backup_link_ttl_s;
	char *path = req_printf(req, "/api/db/backups/download/%s", token);

	jadd(o, "path", json_object_new_string(path));
	jadd(o, "url", json_object_new_string(req_printf(req, "%s%s",
	    req->app->conf.site_url, path)));
	jadd(o, "expiresAt", view_time(clock_now() + ttl));
	jadd(o, "singleUse", json_object_new_boolean(1));
	return resp_json(req, 200, o);
}

/* A link for the backup :bid, of instance :id when the route has one. */
static int
link(struct req *req)
{
	char token[BACKUP_TOKEN_LEN + 1];
	int r = backup_link_new(&req->app->db, req->user_id,
	    req_param(req, "id"), req_param(req, "bid"),
	    req->app->conf.backup_link_ttl_s, token);

	if (r != BACKUP_OK)
		return refused(req, r, 0);
	return link_answer(req, token);
}

/* DELETE the backup :bid, of instance :id when the route has one. */
static int
discard(struct req *req)
{
	int r = backup_discard(&req->app->db, req->user_id,
	    req_param(req, "id"), req_param(req, "bid"));

	if (r != BACKUP_OK)
		return refused(req, r, 0);
	return resp_empty(req, 204);
}

static int
restore(struct req *req)
{
	struct json_object *o;
	int r = backup_restore_request(&req->app->db, req->user_id,
	    req_param(req, "id"), req_param(req, "bid"));

	if (r == BACKUP_BUSY)
		return resp_error(req, ERR_RESTORE_IN_PROGRESS, NULL);
	if (r != BACKUP_OK)
		return refused(req, r, 0);
	o = json_object_new_object();
	jadd(o, "instanceId", json_object_new_string(req_param(req, "id")));
	jadd(o, "backupId", json_object_new_string(req_param(req, "bid")));
	jadd(o, "state", json_object_new_string("queued"));
	return resp_json(req, 202, o);
}

/* "<instance name>-<YYYYmmdd-HHMMSS>.<ext>": the name a browser saves. */
static const char *
file_name(struct req *req, const struct backup_row *b, const char *path)
{
	char when[32];
	struct tm tm;
	time_t t = b->created_at;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y%m%d-%H%M%S", &tm);
	return req_printf(req, "%s-%s%s", b->instance_name, when,
	    strrchr(path, '.'));
}

static int
download(struct req *req)
{
	struct backup_row b;
	char path[512];
	int r = backup_link_use(&req->app->db, req_param(req, "token"), &b);

	if (r == BACKUP_NOT_FOUND)
		return resp_errorf(req, ERR_RESOURCE_NOT_FOUND, NULL, "this"
		    " download link is unknown, used or expired");
	if (r != BACKUP_OK)
		return refused(req, r, 0);
	if (backup_path(path, sizeof(path), INTERNAL_PREFIX, &b) < 0)
		return ROUTE_FAILED;
	resp_header(req, "X-Accel-Redirect", path);
	resp_header(req, "Content-Disposition", req_printf(req,
	    "attachment; filename=\"%s\"", file_name(req, &b, path)));
	resp_header(req, "Cache-Control", "no-store");
	return resp_text(req, 200, "application/octet-stream", "", 0);
}

static const struct route routes[] = {
	{ "POST", "/api/db/instances/:id/backups", take, ROUTE_USER, 0,
	  LIMIT_CHURN },
	{ "GET", "/api/db/instances/:id/backups", list, ROUTE_USER, 0,
	  LIMIT_NONE },
	{ "POST", "/api/db/instances/:id/backups/:bid/link", link, ROUTE_USER,
	  0, LIMIT_NONE },
	{ "DELETE", "/api/db/instances/:id/backups/:bid", discard, ROUTE_USER,
	  0, LIMIT_NONE },
	{ "POST", "/api/db/instances/:id/backups/:bid/restore", restore,
	  ROUTE_USER, 0, LIMIT_CHURN },
	{ "GET", "/api/db/instances/:id/restores", restores, ROUTE_USER, 0,
	  LIMIT_NONE },
	{ "GET", "/api/db/backups", list_final, ROUTE_USER, 0, LIMIT_NONE },
	{ "POST", "/api/db/backups/:bid/link", link, ROUTE_USER, 0,
	  LIMIT_NONE },
	{ "DELETE", "/api/db/backups/:bid", discard, ROUTE_USER, 0,
	  LIMIT_NONE },
	{ "GET", "/api/db/backups/download/:token", download, ROUTE_PUBLIC, 0,
	  LIMIT_NONE },
};

int
main(void)
{
	return pool_main("backups", routes, ARRAY_LEN(routes));
}
