/*
 * Pool "tree": the lemon tree and the harvest game.
 *
 *	GET  /api/lemon/global-status	public; cached per worker briefly
 *	(GET /api/lemon/events is nginx's own: live.h)
 *	GET  /api/lemon/harvestable	{canHarvest, waitSeconds}
 *	GET  /api/quiz/:positionID	starts a quiz on a lemon (in the language
 *					of req_lang(): ?lang= or X-Dbtree-Lang)
 *	POST /api/quiz/answer		{optionIdx, attemptID}; the explanation
 *					in that language too
 *	POST /api/lemon/harvest		{positionId, attemptId}
 */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/conf.h"
#include "base/jget.h"
#include "base/meter.h"
#include "base/xalloc.h"
#include "domain/game.h"
#include "domain/tree.h"
#include "web/app.h"
#include "web/auth.h"
#include "web/live.h"
#include "web/shcache.h"
#include "web/pool.h"
#include "web/req.h"
#include "web/views.h"

#define NS_PER_S 1000000000LL

static struct json_object *
data_int(const char *key, int64_t v)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, key, json_object_new_int64(v));
	return d;
}

static int
cooldown_error(struct req *req, int64_t wait)
{
	struct json_object *d = data_int("waitSeconds", wait);

	json_object_object_add(d, "waitMinutes", json_object_new_int64(wait / 60));
	return resp_errorf(req, ERR_HARVEST_COOLDOWN, d, "you cannot harvest"
	    " yet: %lld min %lld s left", (long long)(wait / 60),
	    (long long)(wait % 60));
}

static int
not_found(struct req *req, const char *what)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "resourceName", json_object_new_string(what));
	return resp_errorf(req, ERR_RESOURCE_NOT_FOUND, d, "%s",
	    strcmp(what, "available_lemon") == 0 ? "there is no ripe lemon at"
	    " this position" : "this lemon has no quiz yet");
}

/* The answer for a game_* result other than GAME_OK. */
static int
game_error(struct req *req, int r, int64_t wait)
{
	static const struct {
		int result;
		enum err err;
	} map[] = {
		{ GAME_LOCKED_OUT, ERR_LEMON_LOCKED_OUT },
		{ GAME_IN_PROGRESS, ERR_QUIZ_IN_PROGRESS },
		{ GAME_NO_ATTEMPT, ERR_NO_QUIZ_IN_PROGRESS },
		{ GAME_NOT_PASSED, ERR_NO_QUIZ_PASSED },
		{ GAME_PROCESSED, ERR_HARVEST_ALREADY_PROCESSED },
		{ GAME_TOO_LATE, ERR_CLICK_TIME_EXPIRED },
		{ GAME_TAKEN, ERR_LEMON_ALREADY_HARVESTED },
		{ GAME_FULL, ERR_LEMON_STORAGE_FULL },
		{ GAME_UNAVAILABLE, ERR_UNAVAILABLE },
		{ GAME_NO_SESSION, ERR_UNAUTHORIZED },
	};

	if (r == GAME_COOLDOWN)
		return cooldown_error(req, wait);
	if (r == GAME_NO_LEMON)
		return not_found(req, "available_lemon");
	if (r == GAME_NO_QUIZ)
		return not_found(req, "quiz_for_lemon");
	if (r == GAME_BAD_OPTION)
		return resp_error(req, ERR_INVALID_PARAMETER, "optionIdx");
	for (size_t i = 0; i < ARRAY_LEN(map); i++)
		if (map[i].result == r)
			return resp_error(req, map[i].err, NULL);
	return ROUTE_FAILED;	/* PostgreSQL or Redis failed (logged) */
}

/* GET /api/lemon/global-status: the same JSON for everyone, polled by
 * every open page, so the pool's workers share one copy in memory for
 * DBTREE_STATUS_CACHE_MS; every harvest in the pool drops it. */
static int
global_status(struct req *req)
{
	char cached[SHCACHE_MAX];
	uint64_t gen = shcache_gen();
	int len = shcache_get(cached, sizeof(cached),
	    req->app->conf.status_cache_ms);
	struct tree_status st;
	struct json_object *o;
	const char *text;

	meter_count(len >= 0 ? METER_CACHE_HIT : METER_CACHE_MISS,
	    "tree_status");
	if (len >= 0)
		return resp_text(req, 200, "application/json", cached,
		    (size_t)len);
	if (tree_status(&req->app->db, &st) < 0)
		return ROUTE_FAILED;
	o = live_tree_json(&st);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	shcache_put(text, strlen(text), gen);
	return resp_json(req, 200, o);
}

static int
harvestable(struct req *req)
{
	const char *uid = req->user_id;
	int64_t wait;
	struct json_object *o;

	wait = game_cooldown_left(&req->app->db, &req->app->game, uid);
	if (wait < 0)
		return ROUTE_FAILED;
	o = json_object_new_object();
	json_object_object_add(o, "canHarvest", json_object_new_boolean(!wait));
	json_object_object_add(o, "waitSeconds", json_object_new_int64(wait));
	return resp_json(req, 200, o);
}

static int
quiz_start(struct req *req)
{
	const char *token = req->token;
	const char *p = req_param(req, "positionID");
	struct game_quiz q;
	struct json_object *o;
	bool ko;
	int r;

	if (!p || strlen(p) != 1 || p[0] < '0' || p[0] > '9')
		return resp_error(req, ERR_INVALID_PARAMETER, "positionID");
	r = game_start(&req->app->db, &req->app->kv, &req->app->game, token,
	    p[0] - '0', &q);
	if (r != GAME_OK) {
		game_quiz_release(&q);
		return game_error(req, r, q.wait_s);
	}
	ko = req_lang(req, NULL) == LANG_KO && q.question_ko;
	o = json_object_new_object();
	json_object_object_add(o, "question", json_object_new_string(ko ?
	    q.question_ko : q.question));
	json_object_object_add(o, "options", json_tokener_parse(ko ?
	    q.options_ko_json : q.options_json));
	json_object_object_add(o, "timeLimit", json_object_new_int64(q.time_limit));
	json_object_object_add(o, "attemptID", json_object_new_int64(q.attempt_id));
	if (q.golden)
		json_object_object_add(o, "golden", json_object_new_boolean(1));
	game_quiz_release(&q);
	return resp_json(req, 200, o);
}

static struct json_object *
answer_json(const struct game_answer *a, int64_t attempt, enum lang lang)
{
	struct json_object *o = json_object_new_object();
	char at[40];
	time_t s = a->harvest_deadline_ms_epoch / 1000;

	json_object_object_add(o, "isCorrect", json_object_new_boolean(a->correct));
	json_object_object_add(o, "status", json_object_new_string(a->late ?
	    "timeout" : "done"));
	json_object_object_add(o, "correctOption",
	    json_object_new_int64(a->correct_option));
	json_object_object_add(o, "attemptID", json_object_new_int64(attempt));
	if (a->correct && !a->late) {
		clock_rfc3339(at, sizeof(at), s);
		/* milliseconds matter for a 5-second window */
		snprintf(at + 19, sizeof(at) - 19, ".%03dZ",
		    (int)(a->harvest_deadline_ms_epoch % 1000));
		json_object_object_add(o, "harvestEnabled",
		    json_object_new_boolean(1));
		json_object_object_add(o, "harvestTimeoutAt",
		    json_object_new_string(at));
	}
	if (a->explanation)
		json_object_object_add(o, "explanation",
		    json_object_new_string(lang == LANG_KO && a->explanation_ko ?
		    a->explanation_ko : a->explanation));
	if (a->awarded)
		json_object_object_add(o, "achievements",
		    view_awards(&a->award, 1));
	return o;
}

static int
quiz_answer(struct req *req)
{
	const char *token = req->token;
	int64_t attempt, option;
	struct game_answer a;
	int r;

	if ((r = jget_i64(req->json, "attemptID", 1, INT64_MAX - 1,
	    &attempt)) != JGET_OK)
		return resp_jget_error(req, r, "attemptID");
	if ((r = jget_i64(req->json, "optionIdx", 0, 100, &option)) != JGET_OK)
		return resp_jget_error(req, r, "optionIdx");
	r = game_answer(&req->app->db, &req->app->kv, &req->app->game, token,
	    attempt, option, &a);
	if (r == GAME_OK)
		auth_changed(a.user_id);	/* an award may have paid */
	if (r == GAME_OK)
		r = resp_json(req, 200, answer_json(&a, attempt,
		    req_lang(req, NULL)));
	else
		r = game_error(req, r, 0);
	game_answer_release(&a);
	return r;
}

/* The harvest answer's game fields (new; the reference's are unchanged):
 * golden, streak, streakBonus, achievements and the balance after them. */
static void
add_game(struct json_object *o, const struct game_harvest *h)
{
	struct json_object *bonus = NULL;

	if (h->golden)
		json_object_object_add(o, "golden", json_object_new_boolean(1));
	json_object_object_add(o, "streak", view_streak(h->streak,
	    h->streak_best, game_next_milestone(h->streak)));
	if (h->milestone) {
		bonus = json_object_new_object();
		json_object_object_add(bonus, "days",
		    json_object_new_int64(h->milestone));
		json_object_object_add(bonus, "lemons",
		    json_object_new_int64(h->streak_bonus));
	}
	json_object_object_add(o, "streakBonus", bonus);
	json_object_object_add(o, "achievements",
	    view_awards(h->awards, h->nawards));
	json_object_object_add(o, "balanceAfterBonuses",
	    json_object_new_int64(h->balance));
}

static int
harvest(struct req *req)
{
	const char *token = req->token;
	int64_t pos, attempt;
	struct game_harvest h;
	struct json_object *o;
	int r;

	if ((r = jget_i64(req->json, "positionId", 0, 9, &pos)) != JGET_OK)
		return resp_jget_error(req, r, "positionId");
	if ((r = jget_i64(req->json, "attemptId", 1, INT64_MAX - 1,
	    &attempt)) != JGET_OK)
		return resp_jget_error(req, r, "attemptId");
	r = game_harvest(&req->app->db, &req->app->game, token, (int)pos,
	    attempt, &h);
	if (r >= 0)
		meter_count(METER_HARVEST, r == GAME_OK ? "won" : "lost");
	if (r != GAME_OK)
		return game_error(req, r, h.wait_s);
	auth_changed(h.user_id);
	shcache_drop();
	live_harvest(req->app, (int)pos, &h);
	o = json_object_new_object();
	json_object_object_add(o, "harvestAmount",
	    json_object_new_int64(h.move.applied));
	json_object_object_add(o, "newBalance",
	    json_object_new_int64(h.move.balance));
	json_object_object_add(o, "nextHarvestTime", json_object_new_int64(
	    req->app->game.cooldown_s * NS_PER_S));
	json_object_object_add(o, "nextHarvestAt", view_time(h.next_harvest_at));
	json_object_object_add(o, "transactionId",
	    json_object_new_string(h.move.tx_id));
	add_game(o, &h);
	return resp_json(req, 200, o);
}

static const struct route routes[] = {
	{ "GET", "/api/lemon/global-status", global_status, ROUTE_PUBLIC, 0,
	  LIMIT_NONE },
	{ "GET", "/api/lemon/harvestable", harvestable, ROUTE_USER, 0,
	  LIMIT_NONE },
	{ "POST", "/api/lemon/harvest", harvest, ROUTE_TOKEN, ROUTE_JSON_BODY,
	  LIMIT_NONE },
	{ "GET", "/api/quiz/:positionID", quiz_start, ROUTE_TOKEN, 0,
	  LIMIT_QUIZ },
	{ "POST", "/api/quiz/answer", quiz_answer, ROUTE_TOKEN, ROUTE_JSON_BODY,
	  LIMIT_NONE },
};

/* Clicks on one lemon wait on its row for each other until the first
 * commits, so the tree pool's size is its own (DBTREE_TREE_WORKERS).  It
 * stays 4 by default: on 2 cores, 8 gave a harvest p99 within noise of 4,
 * and cost global-status (served from the pool's cache) a quarter of its
 * rate in wake-ups of processes that had nothing to do. */
static int64_t
tree_workers(const struct conf *c)
{
	return c->tree_workers;
}

int
main(void)
{
	return pool_main_with("tree", routes, ARRAY_LEN(routes), tree_workers);
}
