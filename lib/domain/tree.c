/*
 * The tree.  Assigning a quiz bumps the lemon's generation (a wrong answer
 * locks a user out of one generation only) and the quiz's usage count, in
 * one transaction per lemon; the choice prefers the least-used quizzes
 * that hang on no other lemon, at random among equals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "domain/tree.h"
#include "store/db.h"

int
tree_status(struct db *db, struct tree_status *out)
{
	PGresult *res = db_exec(db, "SELECT position_id, is_available,"
	    " extract(epoch FROM next_available_at)::bigint,"
	    " (SELECT harvests FROM stats_counters),"
	    " is_available AND golden_generation IS NOT DISTINCT FROM generation"
	    " FROM lemons ORDER BY position_id", 0, NULL);

	if (!res)
		return -1;
	memset(out, 0, sizeof(*out));
	out->golden_position = -1;
	for (int i = 0; i < PQntuples(res) && i < TREE_POSITIONS; i++) {
		time_t next = (time_t)db_get_i64(res, i, 2);

		out->total_harvested = db_get_i64(res, i, 3);
		if (PQgetvalue(res, i, 4)[0] == 't')
			out->golden_position = (int)db_get_i64(res, i, 0);
		if (PQgetvalue(res, i, 1)[0] == 't')
			out->available[out->navailable++] =
			    (int)db_get_i64(res, i, 0);
		else if (next && (!out->next_regrowth ||
		    next < out->next_regrowth))
			out->next_regrowth = next;
	}
	PQclear(res);
	return 0;
}

/* Inside a transaction: the quiz for position pos; 0 and *quiz, 1 when the
 * bank is empty, or -1. */
static int
pick_quiz(struct db *db, const char *pos, char quiz[24])
{
	const char *params[] = { pos };
	PGresult *res = db_exec(db, "SELECT q.id FROM quizzes q"
	    " WHERE NOT EXISTS (SELECT 1 FROM lemons l WHERE l.quiz_id = q.id"
	    " AND l.position_id <> $1::int)"
	    " ORDER BY q.usage_count, random() LIMIT 1", 1, params);
	int ret;

	if (!res)
		return -1;
	ret = PQntuples(res) == 1 ? 0 : 1;
	if (ret == 0)
		snprintf(quiz, 24, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return ret;
}

/* One lemon, one transaction: regrow (when due) or fill (when available
 * without a quiz).  Returns 1 when it changed the lemon, 0, or -1. */
static int
assign(struct db *db, int position, int regrow)
{
	char pos[8], quiz[24] = "";
	const char *params[] = { pos, quiz };
	const char *quiz_param[] = { quiz };
	PGresult *res = NULL;
	int ret = -1;

	snprintf(pos, sizeof(pos), "%d", position);
	if (db_begin(db) < 0)
		return -1;
	/* the whole tree, so two assigners never pick one quiz for two lemons */
	res = db_exec(db, "SELECT 1 FROM lemons ORDER BY position_id FOR UPDATE",
	    0, NULL);
	if (!res || pick_quiz(db, pos, quiz) < 0)
		goto out;
	PQclear(res);
	res = regrow ? db_exec(db, "UPDATE lemons SET is_available = true,"
	    " next_available_at = NULL, generation = generation + 1,"
	    " quiz_id = coalesce(nullif($2, '')::int, quiz_id)"
	    " WHERE position_id = $1::int AND NOT is_available"
	    " AND next_available_at <= now()", 2, params) :
	    db_exec(db, "UPDATE lemons SET generation = generation + 1,"
	    " quiz_id = nullif($2, '')::int WHERE position_id = $1::int"
	    " AND is_available AND quiz_id IS NULL AND $2 <> ''", 2, params);
	if (!res)
		goto out;
	ret = strcmp(PQcmdTuples(res), "1") == 0;
	PQclear(res);
	res = ret && *quiz ? db_exec(db, "UPDATE quizzes SET usage_count ="
	    " usage_count + 1 WHERE id = $1::int", 1, quiz_param) : NULL;
	if ((ret && *quiz && !res) || db_commit(db) < 0)
		ret = -1;
out:
	PQclear(res);
	db_rollback(db);
	return ret;
}

/* Positions matching the regrow or fill condition, into pos[]. */
static int
candidates(struct db *db, int regrow, int pos[TREE_POSITIONS])
{
	PGresult *res = regrow ? db_exec(db, "SELECT position_id FROM lemons"
	    " WHERE NOT is_available AND next_available_at <= now()"
	    " ORDER BY position_id", 0, NULL) :
	    db_exec(db, "SELECT position_id FROM lemons"
	    " WHERE is_available AND quiz_id IS NULL ORDER BY position_id",
	    0, NULL);
	int n;

	if (!res)
		return -1;
	for (n = 0; n < PQntuples(res) && n < TREE_POSITIONS; n++)
		pos[n] = (int)db_get_i64(res, n, 0);
	PQclear(res);
	return n;
}

static int
assign_all(struct db *db, int regrow)
{
	int pos[TREE_POSITIONS], n = candidates(db, regrow, pos), done = 0;

	for (int i = 0; i < n; i++) {
		int r = assign(db, pos[i], regrow);

		if (r < 0)
			return -1;
		done += r;
	}
	return n < 0 ? -1 : done;
}

int
tree_fill_quizzes(struct db *db)
{
	return assign_all(db, 0);
}

int
tree_regrow(struct db *db)
{
	return assign_all(db, 1);
}
