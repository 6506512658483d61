/*
 * Pool "stats": public numbers, the mini leaderboard, and a person's
 * harvest history and ledger.
 *
 *	GET /api/stats/global		-> {totalHarvestedLemons,
 *					    totalCreatedInstances, totalUsers}
 *	GET /api/leaderboard/mini	-> {lemonRichUsers, quizMasters}
 *	GET /api/stats/daily-harvest?days=N	(auth) -> [{date, amount}]
 *	GET /api/stats/transactions?page=&limit=&instanceName=
 *					(auth) -> {data, pagination}
 *
 * The two public answers are cached in Redis (web/cache.h) as their JSON
 * text for 2 s: they are the same for everyone, every visitor's home page
 * asks for them every few seconds, and numbers 2 s stale are invisible
 * there.  So the database sees each at most once per TTL per key, not once
 * per visitor.  Redis is only a shortcut: when it fails the answer is
 * computed from the database as if nothing were cached.  The per-user
 * routes are never cached.
 */
#include <inttypes.h>
#include <json.h>
#include <string.h>

#include "base/xalloc.h"
#include "domain/stats.h"
#include "web/app.h"
#include "web/auth.h"
#include "web/cache.h"
#include "web/pool.h"
#include "web/req.h"
#include "web/views.h"

#define CACHE_TTL_MS 2000
/* Far past any ledger's last page; keeps offsets small. */
#define PAGE_MAX 1000000000

/* Sends obj (consumed) as a 200 and keeps its text in the cache under
 * name. */
static int
send_cached(struct req *req, const char *name, struct json_object *obj)
{
	cache_put(&req->app->kv, name, json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    CACHE_TTL_MS);
	return resp_json(req, 200, obj);
}

/* Answers 400 (1100) for the integer query parameter `name`; returns -1. */
static int
bad_param(struct req *req, const char *name, int64_t min, int64_t max,
	  bool cap)
{
	struct json_object *data = json_object_new_object();

	json_object_object_add(data, "parameter", json_object_new_string(name));
	if (cap)
		resp_errorf(req, ERR_INVALID_PARAMETER, data, "%s must be a"
		    " whole number of at least %" PRId64 " (larger values"
		    " count as %" PRId64 ")", name, min, max);
	else
		resp_errorf(req, ERR_INVALID_PARAMETER, data, "%s must be a"
		    " whole number from %" PRId64 " to %" PRId64, name, min,
		    max);
	return -1;
}

/* Reads the query parameter `name` as a decimal integer into *out: def
 * when absent; values above max become max when cap, else are refused.
 * Returns 0, or -1 (after answering 400) for anything else: signs,
 * spaces, fractions, an empty value, values below min. */
static int
query_int(struct req *req, const char *name, int64_t def, int64_t min,
	  int64_t max, bool cap, int64_t *out)
{
	const char *s = req_query(req, name);
	int64_t v = 0;

	*out = def;
	if (!s)
		return 0;
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return bad_param(req, name, min, max, cap);
	/* stops once past max, so no overflow */
	for (; *s && v <= max; s++)
		v = v * 10 + (*s - '0');
	if (v < min || (v > max && !cap))
		return bad_param(req, name, min, max, cap);
	*out = v > max ? max : v;
	return 0;
}

static int
global(struct req *req)
{
	struct stats_global g;
	struct json_object *out;
	int status = cache_answer(req, &req->app->kv, "stats");

	if (status)
		return status;
	if (stats_global(&req->app->db, &g) < 0)
		return ROUTE_FAILED;
	out = json_object_new_object();
	json_object_object_add(out, "totalHarvestedLemons",
	    json_object_new_int64(g.harvested_lemons));
	json_object_object_add(out, "totalCreatedInstances",
	    json_object_new_int64(g.created_instances));
	json_object_object_add(out, "totalUsers",
	    json_object_new_int64(g.live_users));
	return send_cached(req, "stats", out);
}

/* [{maskedEmail, score, rank}], [] when n is 0. */
static struct json_object *
view_ranks(const struct stats_rank *ranks, int n)
{
	struct json_object *a = json_object_new_array();

	for (int i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "maskedEmail",
		    json_object_new_string(ranks[i].masked_email));
		json_object_object_add(o, "score",
		    json_object_new_int64(ranks[i].score));
		json_object_object_add(o, "rank", json_object_new_int(i + 1));
		json_object_array_add(a, o);
	}
	return a;
}

static int
leaderboard(struct req *req)
{
	struct stats_leaderboard lb;
	struct json_object *out;
	int status = cache_answer(req, &req->app->kv, "leaderboard");

	if (status)
		return status;
	if (stats_leaderboard(&req->app->db, &lb) < 0)
		return ROUTE_FAILED;
	out = json_object_new_object();
	json_object_object_add(out, "lemonRichUsers",
	    view_ranks(lb.rich, lb.nrich));
	json_object_object_add(out, "quizMasters",
	    view_ranks(lb.quiz, lb.nquiz));
	return send_cached(req, "leaderboard", out);
}

static int
daily_harvest(struct req *req)
{
	const char *uid = req->user_id;
	struct stats_day days[STATS_DAYS_MAX];
	struct json_object *out;
	int64_t n;

	if (query_int(req, "days", STATS_DAYS_DEFAULT, 1, STATS_DAYS_MAX,
	    true, &n) < 0)
		return req->status;
	if (stats_daily_harvest(&req->app->db, uid, (int)n, days) < 0)
		return ROUTE_FAILED;
	out = json_object_new_array();
	for (int i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "date",
		    json_object_new_string(days[i].date));
		json_object_object_add(o, "amount",
		    json_object_new_int64(days[i].amount));
		json_object_array_add(out, o);
	}
	return resp_json(req, 200, out);
}

static struct json_object *
view_tx(const struct stats_tx *tx)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(tx->id));
	json_object_object_add(o, "instanceName", tx->instance_name ?
	    json_object_new_string(tx->instance_name) : NULL);
	json_object_object_add(o, "actionType",
	    json_object_new_string(tx->action));
	json_object_object_add(o, "status", json_object_new_string(tx->status));
	json_object_object_add(o, "amount", json_object_new_int64(tx->amount));
	json_object_object_add(o, "balance",
	    json_object_new_int64(tx->balance));
	json_object_object_add(o, "createdAt", view_time(tx->created_at));
	json_object_object_add(o, "note", json_object_new_string(tx->note));
	return o;
}

static struct json_object *
view_pagination(int64_t page, int64_t limit, int64_t total)
{
	struct json_object *o = json_object_new_object();
	int64_t pages = total > 0 ? (total + limit - 1) / limit : 1;

	json_object_object_add(o, "currentPage", json_object_new_int64(page));
	json_object_object_add(o, "totalPages", json_object_new_int64(pages));
	json_object_object_add(o, "totalItems", json_object_new_int64(total));
	json_object_object_add(o, "hasNext",
	    json_object_new_boolean(page < pages));
	json_object_object_add(o, "hasPrev", json_object_new_boolean(page > 1));
	return o;
}

static int
transactions(struct req *req)
{
	const char *uid = req->user_id;
	const char *instance;
	struct stats_page p;
	struct json_object *out, *data;
	int64_t page, limit;

	if (query_int(req, "page", 1, 1, PAGE_MAX, false, &page) < 0 ||
	    query_int(req, "limit", STATS_LIMIT_DEFAULT, 1, STATS_LIMIT_MAX,
	    true, &limit) < 0)
		return req->status;
	instance = req_query(req, "instanceName");
	if (instance && !*instance)
		instance = NULL;	/* "instanceName=": every row */
	if (stats_transactions(&req->app->db, uid, instance, page, (int)limit,
	    &p) < 0)
		return ROUTE_FAILED;
	data = json_object_new_array();
	for (int i = 0; i < p.n; i++)
		json_object_array_add(data, view_tx(&p.rows[i]));
	out = json_object_new_object();
	json_object_object_add(out, "data", data);
	json_object_object_add(out, "pagination",
	    view_pagination(page, limit, p.total));
	stats_page_release(&p);
	return resp_json(req, 200, out);
}

static const struct route routes[] = {
	{ "GET", "/api/stats/global", global, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "GET", "/api/leaderboard/mini", leaderboard, ROUTE_PUBLIC, 0,
	  LIMIT_NONE },
	{ "GET", "/api/stats/daily-harvest", daily_harvest, ROUTE_USER, 0,
	  LIMIT_NONE },
	{ "GET", "/api/stats/transactions", transactions, ROUTE_USER, 0,
	  LIMIT_NONE },
};

int
main(void)
{
	return pool_main("stats", routes, ARRAY_LEN(routes));
}
