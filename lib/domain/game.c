/*
 * The harvest game.  The quiz lock (below) is taken with SET NX EX, so no
 * lock ever exists without its expiry.  Each step checks the session inside
 * its own first statement (SESSION_USER_SQL) instead of a lookup of its
 * own: the hot path is round trips.  The race is settled by
 *	UPDATE lemons ... WHERE position_id = $1 AND is_available
 *	    AND generation = $2
 * inside the harvest transaction: the first transaction takes the row lock
 * and flips it; every other one waits, re-checks and updates nothing.
 */
#include <hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "domain/game.h"
#include "domain/gameday.h"
#include "domain/golden.h"
#include "domain/stats.h"
#include "domain/session.h"
#include "store/db.h"
#include "store/kv.h"

/* Whole seconds until a user whose last harvest is `last` may harvest
 * again, with the cooldown in parameter `secs` (SQL text, a literal). */
#define COOLDOWN_LEFT(last, secs) " coalesce(greatest(0, ceil(extract(" \
	"epoch FROM " last " + make_interval(secs => " secs "::int)" \
	" - now()))), 0)::bigint"

int64_t
game_next_milestone(int64_t current)
{
	static const int days[] = GAME_MILESTONE_DAYS;

	for (int i = 0; i < GAME_MILESTONES; i++)
		if (days[i] > current)
			return days[i];
	return 0;
}

int64_t
game_milestone_bonus(const struct game_rules *r, int64_t days)
{
	static const int milestone[] = GAME_MILESTONE_DAYS;

	for (int i = 0; i < GAME_MILESTONES; i++)
		if (milestone[i] == days)
			return r->streak_bonus[i];
	return 0;
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

/*
 * The quiz lock is two Redis keys set and dropped together:
 *	dbtree:v1:quiz:<user>		the attempt id: one quiz at a time
 *	dbtree:v1:attempt:<attempt>	the user: the attempt is still live
 * Both carry the same expiry (the quiz time limit plus a grace), so an
 * answer finds its attempt's owner in one GET and a flushed or expired
 * lock ends the quiz.  kv_command() sends a script again when the first
 * try timed out, and the first try may have taken the lock: a lock that
 * already holds this attempt's own id counts as taken, not as held by
 * another quiz (that would lock the person out until it expires).
 */
static const char lock_take_lua[] =
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[3])"
    " or redis.call('GET', KEYS[1]) == ARGV[1] then"
    " redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) return 1 end"
    " return 0";
static const char lock_drop_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then"
    " redis.call('DEL', KEYS[1]) end redis.call('DEL', KEYS[2]) return 1";

struct lock_keys {
	char user[96], attempt[96];
};

static void
lock_keys(struct lock_keys *k, const char *user_id, const char *attempt)
{
	kv_key(k->user, sizeof(k->user), "quiz", user_id, NULL);
	kv_key(k->attempt, sizeof(k->attempt), "attempt", attempt, NULL);
}

/* Runs one of the lock scripts: its integer answer, or -1 when Redis did
 * not answer. */
static int64_t
lock_script(struct kv *kv, const char *lua, const char *user_id,
	    const char *attempt, const char *ttl)
{
	struct lock_keys k;
	const char *argv[] = { "EVAL", lua, "2", k.user, k.attempt, attempt,
		user_id, ttl };
	redisReply *rep;
	int64_t v;

	lock_keys(&k, user_id, attempt);
	rep = kv_command(kv, ttl ? 8 : 6, argv);
	v = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
	freeReplyObject(rep);
	return v;
}

/* Takes the user's lock for attempt: 0 taken, 1 held by another quiz, -1
 * Redis down. */
static int
lock_take(struct kv *kv, const char *user_id, int64_t attempt, int64_t ttl)
{
	char id[24], ttl_s[24];
	int64_t v;

	snprintf(id, sizeof(id), "%lld", (long long)attempt);
	snprintf(ttl_s, sizeof(ttl_s), "%lld", (long long)ttl);
	v = lock_script(kv, lock_take_lua, user_id, id, ttl_s);
	return v < 0 ? -1 : v == 1 ? 0 : 1;
}

static void
lock_drop(struct kv *kv, const char *user_id, const char *attempt)
{
	lock_script(kv, lock_drop_lua, user_id, attempt, NULL);
}

/* The user holding attempt's lock: 0 with user_id filled, 1 when there is
 * no lock, -1 when Redis did not answer. */
static int
lock_owner(struct kv *kv, const char *attempt, char user_id[USER_ID_LEN + 1])
{
	char key[96];
	const char *argv[] = { "GET", key };
	redisReply *rep;
	int ret;

	kv_key(key, sizeof(key), "attempt", attempt, NULL);
	rep = kv_command(kv, 2, argv);
	if (!rep || rep->type == REDIS_REPLY_ERROR)
		ret = -1;
	else if (rep->type != REDIS_REPLY_STRING || rep->len > USER_ID_LEN)
		ret = 1;
	else {
		snprintf(user_id, USER_ID_LEN + 1, "%s", rep->str);
		ret = 0;
	}
	freeReplyObject(rep);
	return ret;
}

/* For a refusal found without the session: GAME_NO_SESSION when the token
 * has none, else why (or -1). */
static int
unless_no_session(struct db *db, const char *hash, int why)
{
	const char *params[] = { hash };
	PGresult *res = db_exec(db, "SELECT " SESSION_USER_SQL("$1") " IS NULL",
	    1, params);
	int ret;

	if (!res)
		return -1;
	ret = PQgetvalue(res, 0, 0)[0] == 't' ? GAME_NO_SESSION : why;
	PQclear(res);
	return ret;
}

struct lemon_view {
	bool available, has_quiz, answered, golden;
	char user_id[USER_ID_LEN + 1];
	int64_t time_limit;
	int64_t wait_s;		/* the user's cooldown left */
	int64_t attempt;	/* the new attempt, or 0 */
};

/* One statement: the session's user, the lemon at pos, whether the user
 * already answered it and their cooldown, and the attempt row when all of
 * that allows a quiz.  No row: no session.  res is kept in *keep for the
 * question text. */
static int
open_attempt(struct db *db, const char *hash, const char *pos,
	     int64_t cooldown_s, PGresult **keep)
{
	char cd[24];
	const char *params[] = { hash, pos, cd };

	snprintf(cd, sizeof(cd), "%lld", (long long)cooldown_s);
	*keep = db_exec(db, "WITH me AS (SELECT id, last_harvest_at FROM users"
	    "  WHERE id = " SESSION_USER_SQL("$1") "),"
	    " l AS (SELECT me.id AS uid, coalesce(l.is_available, false) AS ok,"
	    "  q.id AS quiz, l.generation AS gen, q.time_limit, q.question,"
	    "  q.options::text AS options, q.question_ko,"
	    "  q.options_ko::text AS options_ko,"
	    "  coalesce(l.golden_generation = l.generation, false) AS golden,"
	    "  EXISTS (SELECT 1 FROM user_quiz_attempts a WHERE a.user_id = me.id"
	    "   AND a.lemon_position_id = l.position_id"
	    "   AND a.lemon_generation = l.generation"
	    "   AND a.submit_time IS NOT NULL) AS answered,"
	    COOLDOWN_LEFT("me.last_harvest_at", "$3") " AS wait"
	    "  FROM me LEFT JOIN lemons l ON l.position_id = $2::int"
	    "  LEFT JOIN quizzes q ON q.id = l.quiz_id),"
	    " ins AS (INSERT INTO user_quiz_attempts (user_id, quiz_id,"
	    "  lemon_position_id, lemon_generation, deadline)"
	    "  SELECT uid, quiz, $2::int, gen,"
	    "  now() + make_interval(secs => time_limit) FROM l"
	    "  WHERE ok AND quiz IS NOT NULL AND NOT answered AND wait = 0"
	    "  RETURNING id)"
	    " SELECT uid, ok, quiz IS NOT NULL, answered, wait, time_limit,"
	    " question, options, (SELECT id FROM ins), question_ko, options_ko,"
	    " golden FROM l", 3, params);
	return *keep ? 0 : -1;
}

static void
read_view(const PGresult *res, struct lemon_view *l)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->user_id, sizeof(l->user_id), "%s", PQgetvalue(res, 0, 0));
	l->available = PQgetvalue(res, 0, 1)[0] == 't';
	l->has_quiz = PQgetvalue(res, 0, 2)[0] == 't';
	l->answered = PQgetvalue(res, 0, 3)[0] == 't';
	l->wait_s = db_get_i64(res, 0, 4);
	l->time_limit = db_get_i64(res, 0, 5);
	l->attempt = db_get_i64(res, 0, 8);
	l->golden = PQgetvalue(res, 0, 11)[0] == 't';
}

/* Removes an attempt whose lock could not be taken: no quiz without a
 * lock. */
static void
drop_attempt(struct db *db, int64_t attempt)
{
	char id[24];
	const char *params[] = { id };

	snprintf(id, sizeof(id), "%lld", (long long)attempt);
	PQclear(db_exec(db, "DELETE FROM user_quiz_attempts"
	    " WHERE id = $1::bigint AND status = 'started'", 1, params));
}

static int
start_checks(const struct lemon_view *l)
{
	if (l->wait_s)
		return GAME_COOLDOWN;
	if (!l->available)
		return GAME_NO_LEMON;
	if (!l->has_quiz)
		return GAME_NO_QUIZ;
	if (l->answered)
		return GAME_LOCKED_OUT;
	return l->attempt > 0 ? GAME_OK : -1;
}

/* The attempt row is written first and the lock taken after it, holding
 * the new id (one Redis call); a refused lock removes the row again. */
int
game_start(struct db *db, struct kv *kv, const struct game_rules *r,
	   const char *token, int position, struct game_quiz *out)
{
	char pos[8], hash[65];
	struct lemon_view l;
	PGresult *res = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if (session_key(token, hash) != SESSION_OK)
		return GAME_NO_SESSION;
	snprintf(pos, sizeof(pos), "%d", position);
	if (open_attempt(db, hash, pos, r->cooldown_s, &res) < 0)
		return -1;
	if (PQntuples(res) != 1) {
		ret = GAME_NO_SESSION;
		goto out;
	}
	read_view(res, &l);
	out->wait_s = l.wait_s;
	if ((ret = start_checks(&l)) != GAME_OK)
		goto out;
	ret = lock_take(kv, l.user_id, l.attempt, l.time_limit + r->grace_s);
	if (ret != 0) {
		drop_attempt(db, l.attempt);
		ret = ret < 0 ? GAME_UNAVAILABLE : GAME_IN_PROGRESS;
		goto out;
	}
	out->attempt_id = l.attempt;
	out->time_limit = l.time_limit;
	out->golden = l.golden;
	out->question = xstrdup(PQgetvalue(res, 0, 6));
	out->options_json = xstrdup(PQgetvalue(res, 0, 7));
	if (!PQgetisnull(res, 0, 9)) {
		out->question_ko = xstrdup(PQgetvalue(res, 0, 9));
		out->options_ko_json = xstrdup(PQgetvalue(res, 0, 10));
	}
out:
	PQclear(res);
	return ret;
}

void
game_quiz_release(struct game_quiz *q)
{
	free(q->question);
	free(q->options_json);
	free(q->question_ko);
	free(q->options_ko_json);
	q->question = q->options_json = NULL;
	q->question_ko = q->options_ko_json = NULL;
}

/* Why an answer changed nothing: no session, not this user's open
 * attempt, or a bad option. */
static int
answer_refused(struct db *db, const char *hash, const char *user_id,
	       const char *attempt)
{
	const char *params[] = { hash, user_id, attempt };
	PGresult *res = db_exec(db, "SELECT " SESSION_USER_SQL("$1") " IS NULL,"
	    " EXISTS (SELECT 1 FROM user_quiz_attempts WHERE id = $3::bigint"
	    " AND user_id = $2::uuid AND user_id = " SESSION_USER_SQL("$1")
	    " AND status = 'started')", 3, params);
	int ret;

	if (!res)
		return -1;
	if (PQgetvalue(res, 0, 0)[0] == 't')
		ret = GAME_NO_SESSION;
	else
		ret = PQgetvalue(res, 0, 1)[0] == 't' ? GAME_BAD_OPTION :
		    GAME_NO_ATTEMPT;
	PQclear(res);
	return ret;
}

/* The whole answer in one statement, the session checked inside: right,
 * wrong or late, and the click window for a right, timely one.  $1 the
 * attempt, $2 its owner, $3 the option, $4 the click window in ms, $5 the
 * session's stored token.  One row (correct option, late, explanation,
 * click deadline in ms), or none when the answer is refused. */
#define ANSWER_SQL \
	"WITH a AS (UPDATE user_quiz_attempts a" \
	" SET submit_time = now()," \
	" selected_option = $3::int," \
	" is_correct = $3::int = q.correct_option_idx," \
	" status = CASE WHEN now() > a.deadline" \
	" THEN 'timeout' ELSE 'done' END::quiz_status," \
	" time_taken_ms =" \
	" (extract(epoch FROM now() - start_time) * 1000)::int," \
	" harvest_status = CASE WHEN $3::int = q.correct_option_idx" \
	" AND now() <= a.deadline THEN 'in_progress' ELSE 'none' END" \
	"::harvest_status," \
	" harvest_deadline = CASE WHEN $3::int = q.correct_option_idx" \
	" AND now() <= a.deadline" \
	" THEN now() + make_interval(secs => $4::int / 1000.0) END" \
	" FROM quizzes q WHERE a.id = $1::bigint AND a.user_id = $2::uuid" \
	" AND a.status = 'started' AND q.id = a.quiz_id" \
	" AND $3::int < jsonb_array_length(q.options)" \
	" AND a.user_id = " SESSION_USER_SQL("$5") \
	" RETURNING q.correct_option_idx AS c, a.status, a.is_correct," \
	" q.explanation AS e, a.harvest_deadline, a.user_id, a.start_time," \
	" q.explanation_ko AS e_ko, q.category)," \
	/* today's quiz masters: right answers per user and UTC day */ \
	" n AS (INSERT INTO quiz_daily_correct (day, user_id, n, reached)" \
	" SELECT (start_time AT TIME ZONE 'UTC')::date, user_id, 1," \
	" start_time FROM a WHERE is_correct AND status = 'done'" \
	" ON CONFLICT (day, user_id) DO UPDATE" \
	" SET n = quiz_daily_correct.n + 1, reached =" \
	" greatest(quiz_daily_correct.reached, EXCLUDED.reached))," \
	/* the categories answered right (the user row written only when \
	 * one is new), and their achievement */ \
	" b AS (SELECT user_id, 1 << (array_position(enum_range(" \
	" NULL::quiz_category), category) - 1) AS bit FROM a" \
	" WHERE is_correct AND status = 'done')," \
	" g AS (UPDATE users u SET categories = u.categories | b.bit FROM b" \
	" WHERE u.id = b.user_id AND u.categories | b.bit <> u.categories" \
	" RETURNING u.id, u.categories)," \
	" w AS (INSERT INTO user_achievements (user_id, key)" \
	" SELECT g.id, k.key FROM g JOIN achievements k" \
	" ON k.metric = 'categories'" \
	" AND bit_count(g.categories::bit(32)) >= k.goal" \
	" ON CONFLICT DO NOTHING RETURNING key)" \
	" SELECT c, status = 'timeout', e," \
	" (extract(epoch FROM harvest_deadline) * 1000)::bigint, e_ko," \
	" (SELECT min(key::text) FROM w) FROM a"

/* Records the answer (ANSWER_SQL): GAME_OK with *out, a refusal, or -1. */
static int
record_answer(struct db *db, const char *hash, const char *user_id,
	      const char *attempt, int64_t option, const struct game_rules *r,
	      struct game_answer *out)
{
	char opt[24], window[24];
	const char *params[] = { attempt, user_id, opt, window, hash };
	PGresult *res;

	snprintf(opt, sizeof(opt), "%lld", (long long)option);
	snprintf(window, sizeof(window), "%lld", (long long)r->click_window_ms);
	res = db_exec(db, ANSWER_SQL, 5, params);
	if (!res)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return answer_refused(db, hash, user_id, attempt);
	}
	out->correct_option = db_get_i64(res, 0, 0);
	out->correct = option == out->correct_option;
	out->late = PQgetvalue(res, 0, 1)[0] == 't';
	if (!out->correct) {
		out->explanation = xstrdup(PQgetvalue(res, 0, 2));
		if (!PQgetisnull(res, 0, 4))
			out->explanation_ko = xstrdup(PQgetvalue(res, 0, 4));
	}
	out->harvest_deadline_ms_epoch = (time_t)db_get_i64(res, 0, 3);
	out->awarded = !PQgetisnull(res, 0, 5) &&
	    achieve_parse(PQgetvalue(res, 0, 5), &out->award.key) == 0;
	PQclear(res);
	return GAME_OK;
}

/* The lock names the attempt's owner; the statement then requires the
 * session to be that owner's. */
int
game_answer(struct db *db, struct kv *kv, const struct game_rules *r,
	    const char *token, int64_t attempt_id, int64_t option,
	    struct game_answer *out)
{
	char hash[65], attempt[24], owner[USER_ID_LEN + 1];
	int ret;

	memset(out, 0, sizeof(*out));
	if (session_key(token, hash) != SESSION_OK)
		return GAME_NO_SESSION;
	if (option < 0)
		return GAME_BAD_OPTION;
	snprintf(attempt, sizeof(attempt), "%lld", (long long)attempt_id);
	ret = lock_owner(kv, attempt, owner);
	if (ret != 0)
		return unless_no_session(db, hash, ret < 0 ? GAME_UNAVAILABLE :
		    GAME_NO_ATTEMPT);
	ret = record_answer(db, hash, owner, attempt, option, r, out);
	if (ret == GAME_OK) {
		lock_drop(kv, owner, attempt);
		snprintf(out->user_id, sizeof(out->user_id), "%s", owner);
	}
	return ret;
}

void
game_answer_release(struct game_answer *a)
{
	free(a->explanation);
	free(a->explanation_ko);
	a->explanation = a->explanation_ko = NULL;
}

struct click {
	char user_id[USER_ID_LEN + 1];
	char generation[24];
	bool late;
	int64_t wait_s;		/* the user's cooldown left */
};

/* Inside a transaction: the attempt being clicked, locked, if it is the
 * session's user's.  GAME_OK, GAME_NOT_PASSED (none of that user's: the
 * caller tells a missing session apart), GAME_PROCESSED, or -1. */
static int
lock_click(struct db *db, const char *hash, const char *attempt,
	   int position, int64_t cooldown_s, struct click *c)
{
	char cd[24];
	const char *params[] = { attempt, hash, cd };
	PGresult *res;
	int ret = GAME_OK;

	snprintf(cd, sizeof(cd), "%lld", (long long)cooldown_s);
	res = db_exec(db, "SELECT a.lemon_position_id, a.lemon_generation,"
	    " a.is_correct IS TRUE AND a.status = 'done', a.harvest_status,"
	    " now() > a.harvest_deadline,"
	    COOLDOWN_LEFT("u.last_harvest_at", "$3") ", a.user_id"
	    " FROM user_quiz_attempts a JOIN users u ON u.id = a.user_id"
	    " WHERE a.id = $1::bigint AND a.user_id = " SESSION_USER_SQL("$2")
	    " FOR UPDATE OF a", 3, params);
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
		snprintf(c->user_id, sizeof(c->user_id), "%s",
		    PQgetvalue(res, 0, 6));
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

/* The one conditional UPDATE that picks the winner: GAME_OK (and
 * *golden), GAME_TAKEN, or -1.  A regrowth delay of 0 means the lemon hangs
 * again at once (a new generation, same quiz).  Neither the harvest nor
 * the regrowth touches the golden mark: the generation moves past it. */
static int
take_lemon(struct db *db, const char *pos, const struct click *c,
	   const struct game_rules *r, bool *golden)
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
	    " AND generation = $2::bigint"
	    " RETURNING golden_generation IS NOT DISTINCT FROM $2::bigint",
	    3, params);
	if (!res)
		return -1;
	ret = PQntuples(res) == 1 ? GAME_OK : GAME_TAKEN;
	*golden = ret == GAME_OK && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return ret;
}

/* The streak after a harvest on day d.day, from the user row u: the same
 * day keeps it, the next day extends it, a gap starts it again. */
#define STREAK_NEXT " CASE WHEN u.streak_day >= d.day THEN u.streak" \
	" WHEN u.streak_day = d.day - 1 THEN u.streak + 1 ELSE 1 END"

/*
 * The harvest's bookkeeping in one statement, on the user row the ledger
 * move has locked: the attempt's success; the user's last harvest (the
 * cooldown checked again: two harvests of one user on two lemons can both
 * pass lock_click, only the first may count), counters and streak, all on
 * that one row; a streak milestone reached (its key pays once); the
 * achievements earned.  $1 user, $2 cooldown, $3 attempt, $4 $5 the game
 * day (gameday.h), $6 1 for a golden lemon, $7 the milestone days.  No
 * row: the cooldown refused; else one row per achievement earned (or one
 * with none).  No parameter decides whether a part runs (the golden
 * lemon's log is a statement of its own, once a day): PostgreSQL would
 * then plan each execution anew instead of reusing the prepared plan.
 */
#define CREDIT_SQL "WITH a AS (UPDATE user_quiz_attempts SET" \
	" harvest_status = 'success', click_taken_ms =" \
	" (extract(epoch FROM now() - submit_time) * 1000)::int" \
	" WHERE id = $3::bigint)," \
	" d AS (SELECT " GAMEDAY_SQL("$4", "$5") " AS day)," \
	" u AS (UPDATE users u SET last_harvest_at = now()," \
	" harvests = u.harvests + 1, goldens = u.goldens + $6::int," \
	" streak =" STREAK_NEXT ", streak_best = greatest(u.streak_best," \
	STREAK_NEXT "), streak_start = CASE WHEN u.streak_day >= d.day - 1" \
	" THEN u.streak_start ELSE d.day END," \
	" streak_day = greatest(u.streak_day, d.day) FROM d" \
	" WHERE u.id = $1 AND ($2::int = 0 OR u.last_harvest_at IS NULL" \
	" OR u.last_harvest_at + make_interval(secs => $2::int) <= now())" \
	" RETURNING extract(epoch FROM now()" \
	" + make_interval(secs => $2::int))::bigint AS next, u.email," \
	" extract(epoch FROM now())::bigint AS at, u.harvests, u.goldens," \
	" u.streak, u.streak_best, u.streak_start, u.categories)," \
	" m AS (INSERT INTO streak_milestones (user_id, streak_start, days)" \
	" SELECT $1, streak_start, streak FROM u" \
	" WHERE streak = ANY ($7::int[]) ON CONFLICT DO NOTHING RETURNING days)," \
	" w AS (INSERT INTO user_achievements (user_id, key)" \
	" SELECT $1, k.key FROM u JOIN achievements k" \
	" ON" ACHIEVE_HARVEST_SQL("u", "k") \
	" ON CONFLICT DO NOTHING RETURNING key)" \
	" SELECT u.next, u.streak, u.streak_best, (SELECT days FROM m)," \
	" w.key, k.reward, u.email, u.at FROM u LEFT JOIN w ON true" \
	" LEFT JOIN achievements k ON k.key = w.key"

/* Columns of CREDIT_SQL. */
enum { C_NEXT, C_STREAK, C_BEST, C_MILESTONE, C_KEY, C_REWARD, C_EMAIL, C_AT };

static void
read_credit(const PGresult *res, struct game_harvest *out)
{
	out->next_harvest_at = (time_t)db_get_i64(res, 0, C_NEXT);
	out->streak = db_get_i64(res, 0, C_STREAK);
	out->streak_best = db_get_i64(res, 0, C_BEST);
	out->milestone = db_get_i64(res, 0, C_MILESTONE);
	stats_mask_email(PQgetvalue(res, 0, C_EMAIL), out->by, sizeof(out->by));
	out->harvested_at = (time_t)db_get_i64(res, 0, C_AT);
	for (int i = 0; i < PQntuples(res) && out->nawards < GAME_MAX_AWARDS;
	    i++) {
		struct achieve_award *a = &out->awards[out->nawards];

		if (PQgetisnull(res, i, C_KEY) ||
		    achieve_parse(PQgetvalue(res, i, C_KEY), &a->key) < 0)
			continue;
		a->reward = db_get_i64(res, i, C_REWARD);
		out->nawards++;
	}
}

/* Runs CREDIT_SQL: GAME_OK with *out filled, GAME_COOLDOWN, or -1. */
static int
record_credit(struct db *db, const struct game_rules *r, const char *user_id,
	      const char *attempt, struct game_harvest *out)
{
	char cd[24], days[48];
	struct gameday d;
	const char *params[] = { user_id, cd, attempt, d.offset, NULL,
		out->golden ? "1" : "0", days };
	static const int milestones[] = GAME_MILESTONE_DAYS;
	PGresult *res;

	gameday_now(&d);
	params[4] = d.tz;
	snprintf(cd, sizeof(cd), "%lld", (long long)r->cooldown_s);
	snprintf(days, sizeof(days), "{%d,%d,%d}", milestones[0],
	    milestones[1], milestones[2]);
	res = db_exec(db, CREDIT_SQL, 7, params);
	if (!res)
		return -1;
	if (PQntuples(res) > 0) {
		read_credit(res, out);
		PQclear(res);
		return GAME_OK;
	}
	PQclear(res);
	if ((out->wait_s = game_cooldown_left(db, r, user_id)) < 0)
		return -1;
	if (out->wait_s == 0)
		out->wait_s = 1;	/* refused at the very second it ended */
	return GAME_COOLDOWN;
}

/* The golden lemon's log: harvested, by whom.  0 or -1. */
static int
log_golden(struct db *db, const char *user_id, const char *pos,
	   const struct click *c)
{
	const char *params[] = { user_id, pos, c->generation };
	PGresult *res = db_exec(db, "UPDATE golden_lemons SET"
	    " ended = 'harvested', ended_at = now(), harvested_by = $1"
	    " WHERE position_id = $2::int AND generation = $3::bigint"
	    " AND ended IS NULL", 3, params);

	PQclear(res);
	return res ? 0 : -1;
}

/* The streak bonus and the rewards due, each a ledger move clipped at the
 * cap (a full storage books nothing). */
static int
pay_bonuses(struct db *db, const struct game_rules *r, const char *user_id,
	    struct game_harvest *out)
{
	int64_t bonus = game_milestone_bonus(r, out->milestone);
	char note[48];
	struct ledger_move m;

	out->balance = out->move.balance;
	if (bonus > 0) {
		snprintf(note, sizeof(note), "%lld-day streak",
		    (long long)out->milestone);
		m = (struct ledger_move){ .user_id = user_id,
			.action = "streak_bonus", .amount = bonus,
			.cap = r->cap, .clip = true, .note = note };
		switch (ledger_apply(db, &m)) {
		case LEDGER_OK:
			out->streak_bonus = m.applied;
			out->balance = m.balance;
			break;
		case LEDGER_FULL:
			break;
		case LEDGER_INSUFFICIENT:
		case LEDGER_NO_USER:
			return -1;
		}
	}
	for (int i = 0; i < out->nawards; i++) {
		if (achieve_pay(db, user_id, r->cap, &out->awards[i]) < 0)
			return -1;
		out->balance += out->awards[i].applied;
	}
	return 0;
}

/* The winner's credit (GAME_GOLDEN_FACTOR times for a golden lemon), the
 * bookkeeping and the bonuses. */
static int
credit(struct db *db, const struct game_rules *r, const char *pos,
       const char *attempt, const struct click *c, struct game_harvest *out)
{
	char note[64];
	int ret;

	snprintf(note, sizeof(note), "harvested %sfrom lemon position %s",
	    out->golden ? "the golden lemon " : "", pos);
	out->move = (struct ledger_move){ .user_id = c->user_id,
		.action = "harvest", .amount = r->amount *
		(out->golden ? GAME_GOLDEN_FACTOR : 1), .cap = r->cap,
		.clip = true, .note = note };
	switch (ledger_apply(db, &out->move)) {
	case LEDGER_OK:
		break;
	case LEDGER_FULL:
		return GAME_FULL;
	case LEDGER_INSUFFICIENT:
	case LEDGER_NO_USER:
		return -1;
	}
	ret = record_credit(db, r, c->user_id, attempt, out);
	if (ret == GAME_OK && ((out->golden && log_golden(db, c->user_id, pos,
	    c) < 0) || pay_bonuses(db, r, c->user_id, out) < 0))
		ret = -1;
	return ret;
}

/* The harvest transaction after the attempt is known good. */
static int
settle(struct db *db, const struct game_rules *r, const char *pos,
       const char *attempt, const struct click *c, struct game_harvest *out)
{
	int ret;

	if (c->late)
		ret = set_harvest_status(db, attempt, "harvest_timeout") < 0 ?
		    -1 : GAME_TOO_LATE;
	else if ((out->wait_s = c->wait_s) != 0)
		ret = GAME_COOLDOWN;
	else if ((ret = take_lemon(db, pos, c, r, &out->golden)) == GAME_TAKEN)
		ret = set_harvest_status(db, attempt, "failure") < 0 ? -1 :
		    GAME_TAKEN;
	else if (ret == GAME_OK)
		ret = credit(db, r, pos, attempt, c, out);
	return ret;
}

int
game_harvest(struct db *db, const struct game_rules *r, const char *token,
	     int position, int64_t attempt_id, struct game_harvest *out)
{
	char pos[8], attempt[24], hash[65];
	struct click c;
	int ret;

	memset(out, 0, sizeof(*out));
	if (session_key(token, hash) != SESSION_OK)
		return GAME_NO_SESSION;
	snprintf(pos, sizeof(pos), "%d", position);
	snprintf(attempt, sizeof(attempt), "%lld", (long long)attempt_id);
	if (db_begin(db) < 0)
		return -1;
	ret = lock_click(db, hash, attempt, position, r->cooldown_s, &c);
	if (ret == GAME_OK)
		ret = settle(db, r, pos, attempt, &c, out);
	/* a loss or a late click is recorded; nothing else is kept */
	if ((ret == GAME_OK || ret == GAME_TAKEN || ret == GAME_TOO_LATE) &&
	    db_commit(db) < 0)
		ret = -1;
	db_rollback(db);
	out->move.user_id = NULL;	/* c's, gone with this frame */
	if (ret == GAME_OK)
		snprintf(out->user_id, sizeof(out->user_id), "%s", c.user_id);
	if (ret == GAME_FULL)
		set_harvest_status(db, attempt, "failure");
	if (ret == GAME_NOT_PASSED)
		ret = unless_no_session(db, hash, ret);
	return ret;
}

/* Drops the quiz lock of each swept attempt that still holds it. */
static void
release_locks(struct kv *kv, PGresult *swept)
{
	for (int i = 0; i < PQntuples(swept); i++)
		lock_drop(kv, PQgetvalue(swept, i, 1), PQgetvalue(swept, i, 0));
}

/* Attempts one sweep statement closes at most: a backlog (a sweep missed
 * for hours, a burst) goes in short statements, each far from the
 * statement timeout, instead of one that might never finish. */
#define SWEEP_BATCH 10000
#define SWEEP_LIMIT " LIMIT " DB_SQL_INT(SWEEP_BATCH)
/* What each batch picks, checked again on the rows it updates (an answer
 * or a click may come in between) */
#define SWEEP_UNANSWERED "status = 'started'" \
	" AND deadline < now() - make_interval(secs => $1::int)"
#define SWEEP_UNCLICKED "harvest_status = 'in_progress'" \
	" AND harvest_deadline < now() - interval '1 second'"

/* One batch of unanswered attempts past their deadline: how many, or -1. */
static int64_t
sweep_unanswered(struct db *db, struct kv *kv, const char *grace)
{
	const char *params[] = { grace };
	PGresult *res;
	int64_t n = -1;

	if (db_begin_batch(db) < 0)
		return -1;
	res = db_exec(db, "UPDATE user_quiz_attempts SET status = 'timeout'"
	    " WHERE id IN (SELECT id FROM user_quiz_attempts"
	    "  WHERE " SWEEP_UNANSWERED SWEEP_LIMIT ")"
	    " AND " SWEEP_UNANSWERED " RETURNING id, user_id", 1, params);
	if (res && db_commit(db) == 0) {
		n = PQntuples(res);
		release_locks(kv, res);
	}
	db_rollback(db);
	PQclear(res);
	return n;
}

/* One batch of right answers whose click window passed unclicked. */
static int64_t
sweep_unclicked(struct db *db)
{
	PGresult *res;
	int64_t n = -1;

	if (db_begin_batch(db) < 0)
		return -1;
	res = db_exec(db, "UPDATE user_quiz_attempts"
	    " SET harvest_status = 'harvest_timeout'"
	    " WHERE id IN (SELECT id FROM user_quiz_attempts"
	    "  WHERE " SWEEP_UNCLICKED SWEEP_LIMIT ")"
	    " AND " SWEEP_UNCLICKED, 0, NULL);
	if (res && db_commit(db) == 0)
		n = strtoll(PQcmdTuples(res), NULL, 10);
	db_rollback(db);
	PQclear(res);
	return n;
}

int64_t
game_sweep(struct db *db, struct kv *kv, const struct game_rules *r,
	   int64_t deadline_ms)
{
	char grace[24];
	int64_t n, total = 0;

	snprintf(grace, sizeof(grace), "%lld", (long long)r->grace_s);
	do {
		if ((n = sweep_unanswered(db, kv, grace)) < 0)
			return -1;
		total += n;
	} while (n == SWEEP_BATCH && clock_mono_ms() < deadline_ms);
	/* at least one batch of each kind a pass, so neither starves */
	do {
		if ((n = sweep_unclicked(db)) < 0)
			return -1;
		total += n;
	} while (n == SWEEP_BATCH && clock_mono_ms() < deadline_ms);
	return total;
}
