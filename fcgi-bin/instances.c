/*
 * Pool "instances": database instances.
 *
 *	GET    /api/db/ca.pem			public: the instances' CA
 *	GET    /api/db/presets			public
 *	GET    /api/system/resources		public
 *	POST   /api/db/instances		create -> 202 with credentials
 *	GET    /api/db/instances		the user's instances
 *	GET    /api/db/instances/:id		one, with live figures
 *	DELETE /api/db/instances/:id		-> 204
 *	POST   /api/db/instances/:id/credentials	new password, shown once
 *	POST   /api/db/instances/:id/:status	start | stop | restart -> 204
 *	GET    /api/stats/summary/instances	[{id, name}]
 *
 * A create may name "fromBackup" (a backup of the same engine): the new
 * instance starts empty and the backups job loads it once it is ready.
 *
 * Handlers write desired state only; the reconciler (dbtreectl jobs) makes
 * it real through the provisioning driver.
 */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jget.h"
#include "base/pause.h"
#include "base/utf8.h"
#include "base/xalloc.h"
#include "domain/backup.h"
#include "domain/instance.h"
#include "domain/preset.h"
#include "prov/prov.h"
#include "prov/tls.h"
#include "web/app.h"
#include "web/auth.h"
#include "web/pool.h"
#include "web/req.h"
#include "web/views.h"

static void
jadd(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static struct json_object *
cost_json(const struct instance_spec *s, bool full)
{
	struct json_object *c = json_object_new_object();

	jadd(c, "creationCost", json_object_new_int64(s->creation_cost));
	jadd(c, "hourlyLemons", json_object_new_int64(s->hourly_cost));
	if (full) {
		jadd(c, "dailyLemons", json_object_new_int64(s->hourly_cost * 24));
		jadd(c, "monthlyLemons",
		    json_object_new_int64(s->hourly_cost * 24 * 30));
	}
	return c;
}

static struct json_object *
resources_json(const struct instance_spec *s)
{
	struct json_object *r = json_object_new_object();

	jadd(r, "cpu", view_number(s->cpu));
	jadd(r, "memory", json_object_new_int64(s->memory_mb));
	jadd(r, "disk", json_object_new_int64(s->disk_gb));
	return r;
}

static void
capacity_of(struct app *app, struct capacity *c)
{
	memset(c, 0, sizeof(*c));
	instance_capacity(&app->db, c);
	c->total_cpu = app->conf.capacity_cpu_milli / 1000.0;
	c->reserved_cpu = app->conf.reserved_cpu_milli / 1000.0;
	c->total_mb = app->conf.capacity_memory_mb;
	c->reserved_mb = app->conf.reserved_memory_mb;
}

static struct json_object *
preset_json(const struct preset *p, const struct capacity *cap)
{
	struct json_object *o = json_object_new_object();
	bool fits = instance_fits(cap, p->spec.cpu, p->spec.memory_mb);

	jadd(o, "id", json_object_new_string(p->id));
	jadd(o, "type", json_object_new_string(p->spec.type));
	jadd(o, "size", json_object_new_string(p->spec.size));
	jadd(o, "mode", json_object_new_string(p->spec.mode));
	jadd(o, "name", json_object_new_string(p->name));
	jadd(o, "icon", json_object_new_string(p->icon));
	jadd(o, "description", json_object_new_string(p->description));
	jadd(o, "friendlyDescription", json_object_new_string(p->friendly));
	jadd(o, "technicalTerms", json_tokener_parse(p->terms_json));
	jadd(o, "useCases", json_tokener_parse(p->uses_json));
	jadd(o, "resources", resources_json(&p->spec));
	jadd(o, "cost", cost_json(&p->spec, true));
	jadd(o, "defaultConfig", json_tokener_parse(p->config_json));
	jadd(o, "sortOrder", json_object_new_int64(p->sort_order));
	jadd(o, "available", json_object_new_boolean(fits));
	if (!fits)
		jadd(o, "unavailableReason", json_object_new_string("the"
		    " server has no room for this size right now"));
	return o;
}

static int
presets(struct req *req)
{
	struct preset *p = NULL;
	struct capacity cap;
	struct json_object *out;
	size_t n = 0;

	if (!req->app->prov || preset_list(&req->app->db, &p, &n) < 0)
		return ROUTE_FAILED;
	capacity_of(req->app, &cap);
	out = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		if (prov_supports(req->app->prov, p[i].spec.type))
			json_object_array_add(out, preset_json(&p[i], &cap));
	preset_free(p, n);
	return resp_json(req, 200, out);
}

static struct json_object *
pair(double cpu, int64_t mb)
{
	struct json_object *o = json_object_new_object();

	jadd(o, "cpu", view_number(cpu));
	jadd(o, "memory", json_object_new_int64(mb));
	return o;
}

/* The reference's "instances" of /system/resources: the caller's own
 * instances that hold resources ([] without a login: a public route names
 * nobody's instances). */
static struct json_object *
holding(struct req *req)
{
	const char *uid = auth_maybe_user(req);
	struct json_object *out = json_object_new_array(), *o;
	struct instance_row *rows = NULL;
	size_t n = 0;

	if (!uid || instance_list(&req->app->db, uid, &rows, &n) < 0)
		return out;
	for (size_t i = 0; i < n; i++) {
		if (!instance_holds(&rows[i]))
			continue;
		o = json_object_new_object();
		jadd(o, "instanceId", json_object_new_string(rows[i].id));
		jadd(o, "instanceName", json_object_new_string(rows[i].name));
		jadd(o, "resources", pair(rows[i].spec.cpu,
		    rows[i].spec.memory_mb));
		jadd(o, "status", json_object_new_string(
		    lc_status_name(rows[i].status)));
		json_object_array_add(out, o);
	}
	free(rows);
	return out;
}

static int
resources(struct req *req)
{
	struct capacity c;
	struct json_object *out = json_object_new_object();
	struct json_object *sys = json_object_new_object();
	double free_cpu;
	int64_t free_mb;

	capacity_of(req->app, &c);
	free_cpu = c.total_cpu - c.reserved_cpu - c.used_cpu;
	free_mb = c.total_mb - c.reserved_mb - c.used_mb;
	jadd(sys, "total", pair(c.total_cpu, c.total_mb));
	jadd(sys, "reserved", pair(c.reserved_cpu, c.reserved_mb));
	jadd(sys, "available", pair(c.total_cpu - c.reserved_cpu,
	    c.total_mb - c.reserved_mb));
	jadd(sys, "used", pair(c.used_cpu, c.used_mb));
	jadd(out, "system", sys);
	jadd(out, "instances", holding(req));
	jadd(out, "activeCount", json_object_new_int64(c.active));
	/* the same thresholds as the tiny, small and medium presets */
	jadd(out, "canCreateTiny", json_object_new_boolean(free_cpu >= 0.1 &&
	    free_mb >= 256));
	jadd(out, "canCreateSmall", json_object_new_boolean(free_cpu >= 0.25 &&
	    free_mb >= 512));
	jadd(out, "canCreateMedium", json_object_new_boolean(free_cpu >= 0.5 &&
	    free_mb >= 1024));
	return resp_json(req, 200, out);
}

/* The custom spec of a create body: 0, or -1 after answering. */
static int
read_custom(struct req *req, struct instance_spec *s)
{
	struct json_object *res = NULL;
	const char *type, *mode = "standalone";
	char why[128];
	int r;

	if ((r = jget_str(req->json, "type", 15, &type)) != JGET_OK)
		return resp_jget_error(req, r, "type"), -1;
	if (strcmp(type, "postgres") && strcmp(type, "redis") &&
	    strcmp(type, "mongodb"))
		return resp_error(req, ERR_INVALID_PARAMETER, "type"), -1;
	r = jget_str(req->json, "mode", 15, &mode);
	if ((r != JGET_OK && r != JGET_MISSING) || strcmp(mode, "standalone"))
		return resp_errorf(req, ERR_INVALID_PARAMETER, NULL, "mode must"
		    " be standalone"), -1;
	if ((r = jget_object(req->json, "resources", &res)) != JGET_OK)
		return resp_jget_error(req, r, "resources"), -1;
	memset(s, 0, sizeof(*s));
	snprintf(s->type, sizeof(s->type), "%s", type);
	snprintf(s->mode, sizeof(s->mode), "%s", mode);
	if (jget_double(res, "cpu", 0, 1e6, &s->cpu) != JGET_OK ||
	    jget_i64(res, "memory", 0, 1 << 30, &s->memory_mb) != JGET_OK ||
	    jget_i64(res, "disk", 0, 1 << 30, &s->disk_gb) != JGET_OK ||
	    instance_custom_spec(s, why, sizeof(why)) < 0)
		return resp_errorf(req, ERR_INVALID_RESOURCE_SPEC, NULL, "%s",
		    "resources need cpu 0.1-16, memory 128-65536 (MB) and disk"
		    " 1-1000 (GB)"), -1;
	return 0;
}

/* Name, then preset xor custom spec: 0, or -1 after answering. */
static int
read_create(struct req *req, struct instance_create *c)
{
	const char *preset;
	bool backup = false;
	int r, has_preset;

	if ((r = jget_str(req->json, "name", 200, &c->name)) != JGET_OK)
		return resp_jget_error(req, r, "name"), -1;
	if (!instance_name_ok(c->name))
		return resp_errorf(req, ERR_INVALID_INSTANCE_NAME, NULL, "names"
		    " are 3 to 63 lower-case letters, digits and hyphens, not"
		    " starting or ending with a hyphen"), -1;
	/* daily backups are always on: the flag is accepted, not needed */
	if (jget_bool(req->json, "backupEnabled", &backup) == JGET_INVALID)
		return resp_error(req, ERR_INVALID_PARAMETER, "backupEnabled"),
		    -1;
	has_preset = jget_str(req->json, "presetId", 47, &preset);
	if (has_preset == JGET_OK && (json_object_object_get_ex(req->json,
	    "type", NULL) || json_object_object_get_ex(req->json,
	    "resources", NULL)))
		return resp_errorf(req, ERR_INVALID_PARAMETER, NULL, "give"
		    " either presetId or type and resources, not both"), -1;
	if (has_preset == JGET_INVALID)
		return resp_error(req, ERR_INVALID_PARAMETER, "presetId"), -1;
	if (has_preset == JGET_MISSING)
		return read_custom(req, &c->spec);
	r = instance_preset_spec(&req->app->db, preset, &c->spec);
	if (r == 1)
		return resp_errorf(req, ERR_RESOURCE_NOT_FOUND, NULL, "there is"
		    " no preset '%.*s'", (int)utf8_prefix(preset,
		    strlen(preset), 40), preset), -1;
	return r < 0 ? -1 : 0;	/* a domain failure: not answered */
}

/* "fromBackup": the user's finished backup of the same engine, or none.
 * 0, or -1 after answering (or unanswered when the domain failed). */
static int
read_source(struct req *req, struct instance_create *c)
{
	struct json_object *d;
	char type[16] = "";
	int r = jget_str(req->json, "fromBackup", 64, &c->from_backup);

	if (r == JGET_MISSING) {
		c->from_backup = NULL;
		return 0;
	}
	if (r != JGET_OK)
		return resp_jget_error(req, r, "fromBackup"), -1;
	r = backup_check_source(&req->app->db, req->user_id, c->from_backup,
	    type);
	if (r == BACKUP_NOT_READY)
		return resp_error(req, ERR_BACKUP_NOT_READY, NULL), -1;
	if (r == BACKUP_NOT_FOUND || r == BACKUP_GONE) {
		d = json_object_new_object();
		jadd(d, "resourceName", json_object_new_string("backup"));
		return resp_errorf(req, ERR_RESOURCE_NOT_FOUND, d, "no finished"
		    " backup '%.40s' of yours", c->from_backup), -1;
	}
	if (r != BACKUP_OK)
		return -1;
	if (strcmp(type, c->spec.type) != 0)
		return resp_errorf(req, ERR_INVALID_PARAMETER, NULL, "fromBackup"
		    " is a %s backup: the new instance must be %s too", type,
		    type), -1;
	return 0;
}

static int
create_refused(struct req *req, int r, const struct instance_create *c)
{
	struct json_object *d = json_object_new_object();

	switch (r) {
	case INSTANCE_QUOTA:
		jadd(d, "limit", json_object_new_int64(c->quota));
		return resp_errorf(req, ERR_LIMIT_EXCEEDED, d, "at most %lld"
		    " instance(s) allowed", (long long)c->quota);
	case INSTANCE_NAME_TAKEN:
		jadd(d, "name", json_object_new_string(c->name));
		return resp_errorf(req, ERR_RESOURCE_CONFLICT, d, "you already"
		    " have an instance named %s", c->name);
	case INSTANCE_NO_CAPACITY:
		return resp_errorf(req, ERR_SYSTEM_CAPACITY_EXCEEDED, d, "the"
		    " server has no room for %.2f vCPU and %lld MB right now",
		    c->spec.cpu, (long long)c->spec.memory_mb);
	case INSTANCE_POOR:
		jadd(d, "required", json_object_new_int64(c->spec.creation_cost));
		jadd(d, "missing", json_object_new_int64(c->spec.creation_cost -
		    c->balance));
		return resp_errorf(req, ERR_INSUFFICIENT_LEMONS, d, "at least"
		    " %lld lemons needed: %lld short",
		    (long long)c->spec.creation_cost,
		    (long long)(c->spec.creation_cost - c->balance));
	case INSTANCE_NO_PORT:
		json_object_put(d);
		return resp_error(req, ERR_RESOURCE_EXHAUSTED, NULL);
	case INSTANCE_NO_USER:
		json_object_put(d);
		return resp_error(req, ERR_UNAUTHORIZED, NULL);
	default:
		json_object_put(d);
		return ROUTE_FAILED;
	}
}

static struct prov_spec
spec_for(const char *id, const char *name, const struct instance_spec *s,
	 int port)
{
	return (struct prov_spec){ .id = id, .type = s->type, .name = name,
		.cpu = s->cpu, .memory_mb = s->memory_mb,
		.disk_gb = s->disk_gb, .port = port, .running = true };
}

static struct json_object *
credentials_json(struct app *app, const char *type, const char *name,
		 int port, const char *password)
{
	struct json_object *o = json_object_new_object();
	char uri[512];

	jadd(o, "username", json_object_new_string("admin"));
	jadd(o, "password", json_object_new_string(password));
	jadd(o, "externalHost", json_object_new_string(app->conf.public_db_host));
	jadd(o, "externalPort", json_object_new_int(port));
	instance_uri(uri, sizeof(uri), INSTANCE_TLS_REQUIRE, type, "admin",
	    password, app->conf.public_db_host, port, name);
	jadd(o, "externalUri", json_object_new_string(uri));
	instance_uri(uri, sizeof(uri), INSTANCE_TLS_VERIFY, type, "admin",
	    password, app->conf.public_db_host, port, name);
	jadd(o, "externalUriVerifyFull", json_object_new_string(uri));
	jadd(o, "tls", json_object_new_boolean(1));
	return o;
}

static void
create_settings(struct app *app, struct instance_create *c, const char *uid)
{
	c->user_id = uid;
	c->quota = app->conf.instance_quota;
	c->port_min = app->conf.port_min;
	c->port_max = app->conf.port_max;
	c->reserved_ports = app->conf.reserved_ports;
	c->cap_cpu = (app->conf.capacity_cpu_milli -
	    app->conf.reserved_cpu_milli) / 1000.0;
	c->cap_mb = app->conf.capacity_memory_mb - app->conf.reserved_memory_mb;
	c->lemon_cap = app->conf.lemon_cap;
}

static int
create(struct req *req)
{
	const char *uid = req->user_id;
	struct instance_create c = { 0 };
	struct prov_spec ps;
	struct json_object *o;
	char password[25];
	int r;

	create_settings(req->app, &c, uid);
	if (read_create(req, &c) < 0 || read_source(req, &c) < 0)
		return req->status ? req->status : ROUTE_FAILED;
	if (!req->app->prov || !prov_supports(req->app->prov, c.spec.type))
		return resp_errorf(req, ERR_INVALID_PARAMETER, NULL, "type %s is"
		    " not available on this server", c.spec.type);
	if ((r = instance_create(&req->app->db, &c)) != INSTANCE_OK)
		return create_refused(req, r, &c);
	instance_new_password(password);
	ps = spec_for(c.id, c.name, &c.spec, c.port);
	if (prov_store_secret(req->app->prov, &ps, password) < 0) {
		/* nothing may stay behind: money back, port free, no files */
		instance_create_undo(&req->app->db, &c);
		prov_destroy(req->app->prov, c.id);
		return ROUTE_FAILED;
	}
	o = json_object_new_object();
	jadd(o, "id", json_object_new_string(c.id));
	jadd(o, "name", json_object_new_string(c.name));
	jadd(o, "type", json_object_new_string(c.spec.type));
	jadd(o, "status", json_object_new_string("provisioning"));
	jadd(o, "resources", resources_json(&c.spec));
	jadd(o, "cost", cost_json(&c.spec, false));
	jadd(o, "createdAt", view_time(c.created_at));
	jadd(o, "credentials", credentials_json(req->app, c.spec.type, c.name,
	    c.port, password));
	return resp_json(req, 202, o);
}

/* Where the instance answers, and its connection strings without the
 * password (both TLS variants: domain/instance.h). */
static void
address_json(struct app *app, const struct instance_row *r,
	     struct json_object *o)
{
	const char *host = app->conf.public_db_host;
	char uri[512];

	jadd(o, "port", json_object_new_int(r->port));
	jadd(o, "externalHost", json_object_new_string(host));
	jadd(o, "externalPort", json_object_new_int(r->port));
	instance_uri(uri, sizeof(uri), INSTANCE_TLS_REQUIRE, r->spec.type,
	    "admin", "{PASSWORD}", host, r->port, r->name);
	jadd(o, "externalUriTemplate", json_object_new_string(uri));
	instance_uri(uri, sizeof(uri), INSTANCE_TLS_VERIFY, r->spec.type,
	    "admin", "{PASSWORD}", host, r->port, r->name);
	jadd(o, "externalUriTemplateVerifyFull", json_object_new_string(uri));
}

static struct json_object *
instance_json(struct app *app, const struct instance_row *r)
{
	struct json_object *o = json_object_new_object();

	jadd(o, "id", json_object_new_string(r->id));
	jadd(o, "name", json_object_new_string(r->name));
	jadd(o, "type", json_object_new_string(r->spec.type));
	jadd(o, "size", json_object_new_string(r->spec.size));
	jadd(o, "mode", json_object_new_string(r->spec.mode));
	jadd(o, "status", json_object_new_string(lc_status_name(r->status)));
	jadd(o, "desiredStatus",
	    json_object_new_string(lc_desired_name(r->desired)));
	if (r->reason[0])
		jadd(o, "statusReason", json_object_new_string(r->reason));
	jadd(o, "resources", resources_json(&r->spec));
	jadd(o, "cost", cost_json(&r->spec, true));
	if (r->port)
		address_json(app, r, o);
	jadd(o, "tls", json_object_new_boolean(1));
	jadd(o, "backupEnabled", json_object_new_boolean(1));
	jadd(o, "config", json_object_new_object());
	jadd(o, "createdAt", view_time(r->created_at));
	jadd(o, "updatedAt", view_time(r->updated_at));
	if (r->spec.preset[0])
		jadd(o, "createdFromPreset",
		    json_object_new_string(r->spec.preset));
	if (r->paused_at)
		jadd(o, "pausedAt", view_time(r->paused_at));
	return o;
}

static int
list(struct req *req)
{
	const char *uid = req->user_id;
	struct instance_row *rows = NULL;
	struct json_object *out;
	size_t n = 0;

	if (instance_list(&req->app->db, uid, &rows, &n) < 0)
		return ROUTE_FAILED;
	out = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(out, instance_json(req->app, &rows[i]));
	free(rows);
	return resp_json(req, 200, out);
}

static int
not_found(struct req *req)
{
	struct json_object *d = json_object_new_object();

	jadd(d, "resourceName", json_object_new_string("instance"));
	return resp_errorf(req, ERR_RESOURCE_NOT_FOUND, d, "no such instance");
}

/* Live figures the driver can read, or nothing when it cannot. */
static void
add_metrics(struct app *app, const struct instance_row *r,
	    struct json_object *o)
{
	struct prov_spec s = spec_for(r->id, r->name, &r->spec, r->port);
	struct prov_observation ob;
	struct json_object *m;

	if (!app->prov || r->status != LC_RUNNING ||
	    prov_observe(app->prov, &s, 1, true, &ob) < 0 ||
	    ob.state != PROV_RUNNING)
		return;
	m = json_object_new_object();
	jadd(m, "connections", json_object_new_int64(ob.connections));
	jadd(m, "storageBytes", json_object_new_int64(ob.storage_bytes));
	jadd(m, "memoryBytes", json_object_new_int64(ob.memory_bytes));
	jadd(m, "uptimeSeconds", json_object_new_int64(ob.uptime_s));
	jadd(o, "metrics", m);
}

static int
get(struct req *req)
{
	const char *uid = req->user_id;
	struct instance_row r;
	struct json_object *o;
	int ret;

	ret = instance_get(&req->app->db, uid, req_param(req, "id"), &r);
	if (ret == INSTANCE_NOT_FOUND)
		return not_found(req);
	if (ret != INSTANCE_OK)
		return ROUTE_FAILED;
	o = instance_json(req->app, &r);
	add_metrics(req->app, &r, o);
	return resp_json(req, 200, o);
}

static int
destroy(struct req *req)
{
	const char *uid = req->user_id;
	int ret;

	ret = instance_delete(&req->app->db, uid, req_param(req, "id"));
	if (ret == INSTANCE_NOT_FOUND)
		return not_found(req);
	return ret == INSTANCE_OK ? resp_empty(req, 204) : ROUTE_FAILED;
}

/* The event a status action asks for: 0, or -1 for an unknown one. */
static int
action_event(const char *act, enum lc_event *ev)
{
	if (strcmp(act, "start") == 0)
		*ev = LC_START;
	else if (strcmp(act, "stop") == 0)
		*ev = LC_STOP;
	else if (strcmp(act, "restart") == 0)
		*ev = LC_RESTART;
	else
		return -1;
	return 0;
}

static int
bad_state(struct req *req, const char *act, const struct lc_state *now)
{
	struct json_object *d = json_object_new_object();
	const char *status = lc_status_name(now->status);

	jadd(d, "current", json_object_new_string(status));
	jadd(d, "desiredStatus",
	    json_object_new_string(lc_desired_name(now->desired)));
	jadd(d, "action", json_object_new_string(act));
	return resp_errorf(req, ERR_INVALID_STATUS_TRANSITION, d, "cannot %s"
	    " an instance that is %s (asked to be %s)", act, status,
	    lc_desired_name(now->desired));
}

static int
action(struct req *req)
{
	const char *uid = req->user_id;
	const char *act = req_param(req, "status");
	struct lc_state now = { 0 };
	enum lc_event ev;

	if (action_event(act, &ev) < 0)
		return resp_errorf(req, ERR_INVALID_PARAMETER, NULL, "the action"
		    " must be start, stop or restart");
	switch (instance_action(&req->app->db, uid, req_param(req, "id"), ev,
	    &now)) {
	case INSTANCE_OK:
		return resp_empty(req, 204);
	case INSTANCE_NOT_FOUND:
		return not_found(req);
	case INSTANCE_POOR:
		return resp_errorf(req, ERR_INSUFFICIENT_LEMONS, NULL, "you need"
		    " at least one hour's lemons to start it");
	case INSTANCE_BAD_STATE:
		return bad_state(req, act, &now);
	default:
		return ROUTE_FAILED;
	}
}

/* Stores a new password while holding the instance's reset lease. */
static int
reset_password(struct req *req, const struct instance_row *r)
{
	struct prov_spec s = spec_for(r->id, r->name, &r->spec, r->port);
	char password[25];
	int stored;

	instance_new_password(password);
	pause_point("credentials.store");
	stored = prov_store_secret(req->app->prov, &s, password);
	instance_reset_end(&req->app->db, r->row_id);
	if (stored < 0)
		return ROUTE_FAILED;
	return resp_json(req, 200, credentials_json(req->app, r->spec.type,
	    r->name, r->port, password));
}

static int
credentials(struct req *req)
{
	const char *uid = req->user_id;
	struct instance_row r;

	if (!req->app->prov)
		return ROUTE_FAILED;
	switch (instance_reset_begin(&req->app->db, uid, req_param(req, "id"),
	    &r)) {
	case INSTANCE_OK:
		return reset_password(req, &r);
	case INSTANCE_NOT_FOUND:
		return not_found(req);
	case INSTANCE_BUSY:
		return resp_error(req, ERR_RESET_IN_PROGRESS, NULL);
	case INSTANCE_BAD_STATE:
		return resp_errorf(req, ERR_INVALID_STATUS_TRANSITION, NULL,
		    "this instance failed to start; delete it instead");
	default:
		return ROUTE_FAILED;
	}
}

static int
by_name(const void *a, const void *b)
{
	struct json_object *const *x = a, *const *y = b;

	return strcmp(json_object_get_string(json_object_object_get(*x,
	    "name")), json_object_get_string(json_object_object_get(*y,
	    "name")));
}

static int
summary(struct req *req)
{
	const char *uid = req->user_id;
	struct instance_row *rows = NULL;
	struct json_object *out, *o;
	size_t n = 0;

	if (instance_list(&req->app->db, uid, &rows, &n) < 0)
		return ROUTE_FAILED;
	out = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		o = json_object_new_object();
		jadd(o, "id", json_object_new_string(rows[i].id));
		jadd(o, "name", json_object_new_string(rows[i].name));
		json_object_array_add(out, o);
	}
	free(rows);
	json_object_array_sort(out, by_name);
	return resp_json(req, 200, out);
}

/* GET /api/db/ca.pem: the installation's CA certificate, what clients
 * verify instances' certificates with (public, like any CA certificate).
 * Read at every request: the CA may be made after the pool started. */
static int
ca_pem(struct req *req)
{
	char dir[4096], *pem;
	int status;

	if (tls_dir(&req->app->conf, dir, sizeof(dir)) < 0 ||
	    !(pem = tls_ca_pem(dir)))
		return ROUTE_FAILED;
	resp_header(req, "Content-Disposition",
	    "attachment; filename=\"" INSTANCE_CA_FILE "\"");
	resp_header(req, "Cache-Control", "public, max-age=300");
	status = resp_text(req, 200, "application/x-pem-file", pem,
	    strlen(pem));
	free(pem);
	return status;
}

static const struct route routes[] = {
	{ "GET", "/api/db/ca.pem", ca_pem, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "GET", "/api/db/presets", presets, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "GET", "/api/system/resources", resources, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "POST", "/api/db/instances", create, ROUTE_USER, ROUTE_JSON_BODY,
	  LIMIT_CHURN },
	{ "GET", "/api/db/instances", list, ROUTE_USER, 0, LIMIT_NONE },
	{ "GET", "/api/db/instances/:id", get, ROUTE_USER, 0, LIMIT_NONE },
	{ "DELETE", "/api/db/instances/:id", destroy, ROUTE_USER, 0,
	  LIMIT_CHURN },
	{ "POST", "/api/db/instances/:id/credentials", credentials, ROUTE_USER,
	  0, LIMIT_RESET },
	{ "POST", "/api/db/instances/:id/:status", action, ROUTE_USER, 0,
	  LIMIT_NONE },
	{ "GET", "/api/stats/summary/instances", summary, ROUTE_USER, 0,
	  LIMIT_NONE },
};

int
main(void)
{
	return pool_main("instances", routes, ARRAY_LEN(routes));
}
