/*
 * The golden lemon (golden.h).  Each step runs under the tree lock the
 * quiz assignment takes (every lemon row, FOR UPDATE), so it never picks
 * a quiz another lemon is getting; two passes at once (on two hosts) are
 * kept to one mark by the unique index, the loser rolling back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/pause.h"
#include "domain/gameday.h"
#include "domain/golden.h"
#include "store/db.h"

/* Clears marks that are stale (harvested, regrown), of another day, or
 * all of them when golden lemons are off; logs every open one without its
 * mark as expired.  0 or -1. */
static int
expire(struct db *db, const struct gameday *d, const char *per_day)
{
	const char *params[] = { d->offset, d->tz, per_day };
	PGresult *res = db_exec(db, "WITH o AS (SELECT position_id,"
	    " golden_generation AS gen FROM lemons"
	    " WHERE golden_generation IS NOT NULL AND ($3::int = 0"
	    "  OR golden_generation <> generation OR NOT is_available"
	    "  OR golden_day <> " GAMEDAY_SQL("$1", "$2") ")),"
	    " l AS (UPDATE lemons SET golden_generation = NULL,"
	    "  golden_day = NULL FROM o WHERE lemons.position_id = o.position_id)"
	    /* every open log row but the mark that stays (a mark cleared
	     * by hand would otherwise hold golden_lemons_open forever) */
	    " UPDATE golden_lemons g SET ended = 'expired', ended_at = now()"
	    " WHERE g.ended IS NULL AND NOT EXISTS (SELECT 1 FROM lemons x"
	    "  WHERE x.position_id = g.position_id"
	    "  AND x.golden_generation = g.generation"
	    "  AND x.position_id NOT IN (SELECT position_id FROM o))", 3, params);

	PQclear(res);
	return res ? 0 : -1;
}

/* The lemon to gild (a hanging one nobody is playing) and its hard quiz,
 * when today allows one: 0 with pos and quiz filled, 1 when none is due or
 * free, -1. */
static int
choose(struct db *db, const struct gameday *d, const char *per_day,
       char pos[8], char quiz[24])
{
	const char *params[] = { d->offset, d->tz, per_day };
	PGresult *res = db_exec(db, "WITH l AS (SELECT position_id FROM lemons"
	    " WHERE is_available AND quiz_id IS NOT NULL"
	    /* not one somebody is playing: the new generation would take it
	     * from under their quiz or click (the open attempts are few, in
	     * partial indexes) */
	    " AND NOT EXISTS (SELECT 1 FROM user_quiz_attempts a"
	    "  WHERE a.lemon_position_id = lemons.position_id"
	    "  AND a.lemon_generation = lemons.generation"
	    "  AND ((a.status = 'started' AND a.deadline > now())"
	    "  OR (a.harvest_status = 'in_progress'"
	    "  AND a.harvest_deadline > now())))"
	    " AND NOT EXISTS (SELECT 1 FROM lemons x"
	    "  WHERE x.golden_generation IS NOT NULL)"
	    " AND $3::int > (SELECT count(*) FROM golden_lemons g"
	    "  WHERE g.day = " GAMEDAY_SQL("$1", "$2") ")"
	    " ORDER BY random() LIMIT 1)"
	    " SELECT l.position_id, (SELECT q.id FROM quizzes q"
	    "  WHERE NOT EXISTS (SELECT 1 FROM lemons o WHERE o.quiz_id = q.id"
	    "  AND o.position_id <> l.position_id)"
	    "  ORDER BY q.difficulty <> 'hard', q.usage_count, random() LIMIT 1)"
	    " FROM l", 3, params);
	int ret = 1;

	if (!res)
		return -1;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 1)) {
		snprintf(pos, 8, "%s", PQgetvalue(res, 0, 0));
		snprintf(quiz, 24, "%s", PQgetvalue(res, 0, 1));
		ret = 0;
	}
	PQclear(res);
	return ret;
}

/* Gilds pos with quiz: a new generation (nobody is locked out of it), the
 * mark, the quiz's use and the log row.  0, 1 when another mark won (the
 * unique index), or -1. */
static int
gild(struct db *db, const struct gameday *d, const char *pos,
     const char *quiz)
{
	const char *params[] = { d->offset, d->tz, pos, quiz };
	PGresult *res = db_exec(db, "WITH l AS (UPDATE lemons SET"
	    " generation = generation + 1, quiz_id = $4::int,"
	    " golden_generation = generation + 1,"
	    " golden_day = " GAMEDAY_SQL("$1", "$2")
	    " WHERE position_id = $3::int AND is_available"
	    " RETURNING position_id, generation, golden_day),"
	    " q AS (UPDATE quizzes SET usage_count = usage_count + 1"
	    "  WHERE id = $4::int AND EXISTS (SELECT 1 FROM l))"
	    " INSERT INTO golden_lemons (day, position_id, generation)"
	    " SELECT golden_day, position_id, generation FROM l", 4, params);

	PQclear(res);
	if (res)
		return 0;
	return db_failed_with(db, "23505") ? 1 : -1;
}

int
golden_pass(struct db *db, int64_t per_day)
{
	char n[24], pos[8], quiz[24];
	struct gameday d;
	PGresult *res;
	int ret = -1;

	snprintf(n, sizeof(n), "%lld", (long long)per_day);
	gameday_now(&d);
	if (db_begin(db) < 0)
		return -1;
	res = db_exec(db, "SELECT 1 FROM lemons ORDER BY position_id FOR UPDATE",
	    0, NULL);
	if (!res || expire(db, &d, n) < 0)
		goto out;
	ret = choose(db, &d, n, pos, quiz);
	if (ret == 0) {
		pause_point("golden.chosen");
		/* another mark won: roll back, the next pass expires again */
		if ((ret = gild(db, &d, pos, quiz)) != 0)
			goto out;
	}
	if (ret >= 0 && db_commit(db) < 0)
		ret = -1;
out:
	PQclear(res);
	db_rollback(db);
	if (ret < 0)
		return -1;
	return ret == 0 ? (int)strtol(pos, NULL, 10) : GOLDEN_NONE;
}
