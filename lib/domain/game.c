/*
 * The harvest game.  The quiz lock is one Redis key per user,
 * dbtree:v1:quiz:<user>, set with SET NX EX (no window where a lock exists
 * without its expiry) and holding the attempt id once the attempt row
 * exists.  The race is settled by
 *	UPDATE lemons ... WHERE position_id = $1 AND is_available
 *	    AND generation = $2
 * inside the harvest transaction: the first transaction takes the row lock
 * and flips it; every other one waits, re-checks and updates nothing.
 */
#include <hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "domain/game.h"
#include "store/db.h"
#include "store/kv.h"

/* Whole seconds until a user whose last harvest is `last` may harvest
 * again, with the cooldown in parameter `secs` (SQL text, a literal). */
#define COOLDOWN_LEFT(last, secs) " coalesce(greatest(0, ceil(extract(" \
	"epoch FROM " last " + make_interval(secs => " secs "::int)" \
	" - now()))), 0)::bigint"

static void
lock_key(char key[96], const char *user_id)
{
	kv_key(key, 96, "quiz", user_id, NULL);
}

int64_t
game_cooldown_left(struct db *db, const struct game_rules *r,
		   const char *user_id)
{
	char cd[24];
	const char *params[] = { user_id, cd };
	PGresult *res;
	int64_t left;

	snprintf(cd, sizeof(cd), "%lld", (long long)r->cooldown_s);
	res = db_exec(db, "SELECT" COOLDOWN_LEFT("last_harvest_at", "$2")
	    " FROM users WHERE id = $1", 2, params);
	if (!res)
		return -1;
	left = db_get_i64(res, 0, 0);
	PQclear(res);
	return left;
}

/* SET key value NX EX ttl: 0 taken, 1 held by someone, -1 Redis down. */
static int
lock_take(struct kv *kv, const char *key, int64_t ttl)
{
	char ttl_s[24];
	const char *argv[] = { "SET", key, "0", "NX", "EX", ttl_s };
	redisReply *rep;
	int ret;

	snprintf(ttl_s, sizeof(ttl_s), "%lld", (long long)ttl);
	rep = kv_command(kv, 6, argv);
	if (!rep || rep->type == REDIS_REPLY_ERROR)
		ret = -1;
	else
		ret = rep->type == REDIS_REPLY_STATUS ? 0 : 1;
	freeReplyObject(rep);
	return ret;
}

static void
lock_set(struct kv *kv, const char *key, int64_t attempt)
{
	char v[24];
	const char *argv[] = { "SET", key, v, "XX", "KEEPTTL" };

	snprintf(v, sizeof(v), "%lld", (long long)attempt);
	freeReplyObject(kv_command(kv, 5, argv));
}

/* The attempt id the lock holds: >= 0, -2 when there is no lock, -1 when
 * Redis did not answer. */
static int64_t
lock_get(struct kv *kv, const char *key)
{
	const char *argv[] = { "GET", key };
	redisReply *rep = kv_command(kv, 2, argv);
	int64_t v;

	if (!rep || rep->type == REDIS_REPLY_ERROR)
		v = -1;
	else if (rep->type != REDIS_REPLY_STRING)
		v = -2;
	else
		v = strtoll(rep->str, NULL, 10);
	freeReplyObject(rep);
	return v;
}

static void
lock_drop(struct kv *kv, const char *key)
{
	const char *argv[] = { "DEL", key };

	freeReplyObject(kv_command(kv, 2, argv));
}

struct lemon_view {
	bool available, has_quiz, answered;
	char generation[24], quiz[24];
	int64_t time_limit;
	int64_t wait_s;		/* the user's cooldown left */
};

/* The lemon at pos and whether user_id already answered it; res kept in
 * *keep for the question text.  0 or -1. */
static int
read_lemon(struct db *db, const char *user_id, const char *pos,
	   int64_t cooldown_s, struct lemon_view *l, PGresult **keep)
{
	char cd[24];
	const char *params[] = { user_id, pos, cd };
	PGresult *res;

	snprintf(cd, sizeof(cd), "%lld", (long long)cooldown_s);
	res = db_exec(db, "SELECT l.is_available, q.id IS NOT NULL,"
	    " l.generation, q.id, q.time_limit, q.question, q.options::text,"
	    " EXISTS (SELECT 1 FROM user_quiz_attempts a WHERE a.user_id = $1"
	    "  AND a.lemon_position_id = l.position_id"
	    "  AND a.lemon_generation = l.generation"
	    "  AND a.submit_time IS NOT NULL),"
	    " (SELECT" COOLDOWN_LEFT("last_harvest_at", "$3")
	    "  FROM users WHERE id = $1)"
	    " FROM lemons l LEFT JOIN quizzes q ON q.id = l.quiz_id"
	    " WHERE l.position_id = $2::int", 3, params);

	if (!res)
		return -1;
	memset(l, 0, sizeof(*l));
	if (PQntuples(res) == 1) {
		l->available = PQgetvalue(res, 0, 0)[0] == 't';
		l->has_quiz = PQgetvalue(res, 0, 1)[0] == 't';
		snprintf(l->generation, sizeof(l->generation), "%s",
		    PQgetvalue(res, 0, 2));
		snprintf(l->quiz, sizeof(l->quiz), "%s", PQgetvalue(res, 0, 3));
		l->time_limit = db_get_i64(res, 0, 4);
		l->answered = PQgetvalue(res, 0, 7)[0] == 't';
		l->wait_s = db_get_i64(res, 0, 8);
	}
	*keep = res;
	return 0;
}

static int64_t
insert_attempt(struct db *db, const char *user_id, const char *pos,
	       const struct lemon_view *l)
{
	char limit[24];
	const char *params[] = { user_id, l->quiz, pos, l->generation, limit };
	PGresult *res;
	int64_t id;

	snprintf(limit, sizeof(limit), "%lld", (long long)l->time_limit);
	res = db_exec(db, "INSERT INTO user_quiz_attempts (user_id, quiz_id,"
	    " lemon_position_id, lemon_generation, deadline)"
	    " VALUES ($1, $2::int, $3::int, $4::bigint,"
	    " now() + make_interval(secs => $5::int)) RETURNING id", 5, params);
	if (!res)
		return -1;
	id = db_get_i64(res, 0, 0);
	PQclear(res);
	return id;
}

static int
start_checks(const struct lemon_view *l)
{
	if (!l->available)
		return GAME_NO_LEMON;
	if (!l->has_quiz)
		return GAME_NO_QUIZ;
	return l->answered ? GAME_LOCKED_OUT : GAME_OK;
}

int
game_start(struct db *db, struct kv *kv, const struct game_rules *r,
	   const char *user_id, int position, struct game_quiz *out)
{
	char pos[8], key[96];
	struct lemon_view l;
	PGresult *res = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	snprintf(pos, sizeof(pos), "%d", position);
	if (read_lemon(db, user_id, pos, r->cooldown_s, &l, &res) < 0)
		return -1;
	if ((out->wait_s = l.wait_s) != 0) {
		ret = GAME_COOLDOWN;
		goto out;
	}
	if ((ret = start_checks(&l)) != GAME_OK)
		goto out;
	lock_key(key, user_id);
	ret = lock_take(kv, key, l.time_limit + r->grace_s);
	if (ret != 0) {
		ret = ret < 0 ? GAME_UNAVAILABLE : GAME_IN_PROGRESS;
		goto out;
	}
	if ((out->attempt_id = insert_attempt(db, user_id, pos, &l)) < 0) {
		lock_drop(kv, key);
		ret = -1;
		goto out;
	}
	lock_set(kv, key, out->attempt_id);
	out->time_limit = l.time_limit;
	out->question = xstrdup(PQgetvalue(res, 0, 5));
	out->options_json = xstrdup(PQgetvalue(res, 0, 6));
out:
	PQclear(res);
	return ret;
}

void
game_quiz_release(struct game_quiz *q)
{
	free(q->question);
	free(q->options_json);
	q->question = q->options_json = NULL;
}

/* Why an answer changed nothing: no such open attempt, or a bad option. */
static int
answer_refused(struct db *db, const char *user_id, const char *attempt)
{
	const char *params[] = { attempt, user_id };
	PGresult *res = db_exec(db, "SELECT 1 FROM user_quiz_attempts"
	    " WHERE id = $1::bigint AND user_id = $2 AND status = 'started'",
	    2, params);
	int ret;

	if (!res)
		return -1;
	ret = PQntuples(res) == 1 ? GAME_BAD_OPTION : GAME_NO_ATTEMPT;
	PQclear(res);
	return ret;
}

/* The whole answer in one statement: right, wrong or late, and the click
 * window for a right, timely one.  GAME_OK, a refusal, or -1. */
static int
record_answer(struct db *db, const char *user_id, const char *attempt,
	      int64_t option, const struct game_rules *r,
	      struct game_answer *out)
{
	char opt[24], window[24];
	const char *params[] = { attempt, user_id, opt, window };
	PGresult *res;

	snprintf(opt, sizeof(opt), "%lld", (long long)option);
	snprintf(window, sizeof(window), "%lld", (long long)r->click_window_ms);
	res = db_exec(db, "WITH x AS (SELECT a.id, q.correct_option_idx AS c,"
	    " q.explanation AS e, now() > a.deadline AS late"
	    " FROM user_quiz_attempts a JOIN quizzes q ON q.id = a.quiz_id"
	    " WHERE a.id = $1::bigint AND a.user_id = $2"
	    " AND a.status = 'started' AND $3::int < jsonb_array_length(q.options)"
	    " FOR UPDATE OF a)"
	    " UPDATE user_quiz_attempts a SET submit_time = now(),"
	    " selected_option = $3::int, is_correct = ($3::int = x.c),"
	    " status = CASE WHEN x.late THEN 'timeout' ELSE 'done' END"
	    "::quiz_status,"
	    " time_taken_ms = (extract(epoch FROM now() - start_time) * 1000)"
	    "::int,"
	    " harvest_status = CASE WHEN $3::int = x.c AND NOT x.late"
	    " THEN 'in_progress' ELSE 'none' END::harvest_status,"
	    " harvest_deadline = CASE WHEN $3::int = x.c AND NOT x.late"
	    " THEN now() + make_interval(secs => $4::int / 1000.0) END"
	    " FROM x WHERE a.id = x.id RETURNING x.c, x.late, x.e,"
	    " (extract(epoch FROM a.harvest_deadline) * 1000)::bigint", 4,
	    params);
	if (!res)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return answer_refused(db, user_id, attempt);
	}
	out->correct_option = db_get_i64(res, 0, 0);
	out->correct = option == out->correct_option;
	out->late = PQgetvalue(res, 0, 1)[0] == 't';
	if (!out->correct)
		out->explanation = xstrdup(PQgetvalue(res, 0, 2));
	out->harvest_deadline_ms_epoch = (time_t)db_get_i64(res, 0, 3);
	PQclear(res);
	return GAME_OK;
}

int
game_answer(struct db *db, struct kv *kv, const struct game_rules *r,
	    const char *user_id, int64_t attempt_id, int64_t option,
	    struct game_answer *out)
{
	char key[96], attempt[24];
	int64_t held;
	int ret;

	memset(out, 0, sizeof(*out));
	if (option < 0)
		return GAME_BAD_OPTION;
	lock_key(key, user_id);
	held = lock_get(kv, key);
	if (held == -1)
		return GAME_UNAVAILABLE;
	if (held != attempt_id)
		return GAME_NO_ATTEMPT;
	snprintf(attempt, sizeof(attempt), "%lld", (long long)attempt_id);
	ret = record_answer(db, user_id, attempt, option, r, out);
	if (ret == GAME_OK)
		lock_drop(kv, key);
	return ret;
}

void
game_answer_release(struct game_answer *a)
{
	free(a->explanation);
	a->explanation = NULL;
}

struct click {
	char generation[24];
	bool late;
	int64_t wait_s;		/* the user's cooldown left */
};

/* Inside a transaction: the attempt being clicked, locked.  GAME_OK,
 * GAME_NOT_PASSED, GAME_PROCESSED, or -1. */
static int
lock_click(struct db *db, const char *user_id, const char *attempt,
	   int position, int64_t cooldown_s, struct click *c)
{
	char cd[24];
	const char *params[] = { attempt, user_id, cd };
	PGresult *res;
	int ret = GAME_OK;

	snprintf(cd, sizeof(cd), "%lld", (long long)cooldown_s);
	res = db_exec(db, "SELECT a.lemon_position_id, a.lemon_generation,"
	    " a.is_correct IS TRUE AND a.status = 'done', a.harvest_status,"
	    " now() > a.harvest_deadline,"
	    COOLDOWN_LEFT("u.last_harvest_at", "$3")
	    " FROM user_quiz_attempts a JOIN users u ON u.id = a.user_id"
	    " WHERE a.id = $1::bigint AND a.user_id = $2 FOR UPDATE OF a",
	    3, params);
	if (!res)
		return -1;
	if (PQntuples(res) != 1 || db_get_i64(res, 0, 0) != position ||
	    PQgetvalue(res, 0, 2)[0] != 't')
		ret = GAME_NOT_PASSED;
	else if (strcmp(PQgetvalue(res, 0, 3), "in_progress") != 0)
		ret = GAME_PROCESSED;
	else {
		snprintf(c->generation, sizeof(c->generation), "%s",
		    PQgetvalue(res, 0, 1));
		c->late = PQgetvalue(res, 0, 4)[0] == 't';
		c->wait_s = db_get_i64(res, 0, 5);
	}
	PQclear(res);
	return ret;
}

static int
set_harvest_status(struct db *db, const char *attempt, const char *status)
{
	const char *params[] = { attempt, status };
	PGresult *res = db_exec(db, "UPDATE user_quiz_attempts SET"
	    " harvest_status = $2::harvest_status,"
	    " click_taken_ms = (extract(epoch FROM now() - submit_time) * 1000)"
	    "::int WHERE id = $1::bigint", 2, params);

	PQclear(res);
	return res ? 0 : -1;
}

/* The one conditional UPDATE that picks the winner: GAME_OK, GAME_TAKEN, or
 * -1.  A regrowth delay of 0 means the lemon hangs again at once (a new
 * generation, same quiz). */
static int
take_lemon(struct db *db, const char *pos, const struct click *c,
	   const struct game_rules *r)
{
	char regrow[24];
	const char *params[] = { pos, c->generation, regrow };
	PGresult *res;
	int ret;

	snprintf(regrow, sizeof(regrow), "%lld", (long long)r->regrow_s);
	res = db_exec(db, "UPDATE lemons SET last_harvested_at = now(),"
	    " is_available = $3::int = 0,"
	    " generation = generation + ($3::int = 0)::int,"
	    " next_available_at = CASE WHEN $3::int > 0"
	    " THEN now() + make_interval(secs => $3::int) END"
	    " WHERE position_id = $1::int AND is_available"
	    " AND generation = $2::bigint", 3, params);
	if (!res)
		return -1;
	ret = strcmp(PQcmdTuples(res), "1") == 0 ? GAME_OK : GAME_TAKEN;
	PQclear(res);
	return ret;
}

/* The winner's credit and bookkeeping: the ledger move, then the user's
 * last harvest and the attempt's success in one statement. */
static int
credit(struct db *db, const struct game_rules *r, const char *user_id,
       const char *pos, const char *attempt, struct game_harvest *out)
{
	char note[64], cd[24];
	const char *params[] = { user_id, cd, attempt };
	PGresult *res;

	snprintf(note, sizeof(note), "harvested from lemon position %s", pos);
	out->move = (struct ledger_move){ .user_id = user_id,
		.action = "harvest", .amount = r->amount, .cap = r->cap,
		.clip = true, .note = note };
	switch (ledger_apply(db, &out->move)) {
	case LEDGER_OK:
		break;
	case LEDGER_FULL:
		return GAME_FULL;
	default:
		return -1;
	}
	snprintf(cd, sizeof(cd), "%lld", (long long)r->cooldown_s);
	res = db_exec(db, "WITH a AS (UPDATE user_quiz_attempts SET"
	    " harvest_status = 'success', click_taken_ms ="
	    " (extract(epoch FROM now() - submit_time) * 1000)::int"
	    " WHERE id = $3::bigint)"
	    " UPDATE users SET last_harvest_at = now()"
	    " WHERE id = $1 RETURNING extract(epoch FROM now()"
	    " + make_interval(secs => $2::int))::bigint", 3, params);
	if (!res)
		return -1;
	out->next_harvest_at = (time_t)db_get_i64(res, 0, 0);
	PQclear(res);
	return GAME_OK;
}

/* The harvest transaction after the attempt is known good. */
static int
settle(struct db *db, const struct game_rules *r, const char *user_id,
       const char *pos, const char *attempt, const struct click *c,
       struct game_harvest *out)
{
	int ret;

	if (c->late)
		ret = set_harvest_status(db, attempt, "harvest_timeout") < 0 ?
		    -1 : GAME_TOO_LATE;
	else if ((out->wait_s = c->wait_s) != 0)
		ret = GAME_COOLDOWN;
	else if ((ret = take_lemon(db, pos, c, r)) == GAME_TAKEN)
		ret = set_harvest_status(db, attempt, "failure") < 0 ? -1 :
		    GAME_TAKEN;
	else if (ret == GAME_OK)
		ret = credit(db, r, user_id, pos, attempt, out);
	return ret;
}

int
game_harvest(struct db *db, const struct game_rules *r, const char *user_id,
	     int position, int64_t attempt_id, struct game_harvest *out)
{
	char pos[8], attempt[24];
	struct click c;
	int ret;

	memset(out, 0, sizeof(*out));
	snprintf(pos, sizeof(pos), "%d", position);
	snprintf(attempt, sizeof(attempt), "%lld", (long long)attempt_id);
	if (db_begin(db) < 0)
		return -1;
	ret = lock_click(db, user_id, attempt, position, r->cooldown_s, &c);
	if (ret == GAME_OK)
		ret = settle(db, r, user_id, pos, attempt, &c, out);
	/* a loss or a late click is recorded; nothing else is kept */
	if ((ret == GAME_OK || ret == GAME_TAKEN || ret == GAME_TOO_LATE) &&
	    db_commit(db) < 0)
		ret = -1;
	db_rollback(db);
	if (ret == GAME_FULL)
		set_harvest_status(db, attempt, "failure");
	return ret;
}

/* Drops the quiz lock of each swept attempt that still holds it. */
static void
release_locks(struct kv *kv, PGresult *swept)
{
	char key[96];

	for (int i = 0; i < PQntuples(swept); i++) {
		lock_key(key, PQgetvalue(swept, i, 1));
		if (lock_get(kv, key) == db_get_i64(swept, i, 0))
			lock_drop(kv, key);
	}
}

int64_t
game_sweep(struct db *db, struct kv *kv, const struct game_rules *r)
{
	char grace[24];
	const char *params[] = { grace };
	PGresult *res;
	int64_t n;

	snprintf(grace, sizeof(grace), "%lld", (long long)r->grace_s);
	res = db_exec(db, "UPDATE user_quiz_attempts SET status = 'timeout'"
	    " WHERE status = 'started'"
	    " AND deadline < now() - make_interval(secs => $1::int)"
	    " RETURNING id, user_id", 1, params);
	if (!res)
		return -1;
	n = PQntuples(res);
	release_locks(kv, res);
	PQclear(res);
	res = db_exec(db, "UPDATE user_quiz_attempts"
	    " SET harvest_status = 'harvest_timeout'"
	    " WHERE harvest_status = 'in_progress'"
	    " AND harvest_deadline < now() - interval '1 second'", 0, NULL);
	if (!res)
		return -1;
	n += strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return n;
}
