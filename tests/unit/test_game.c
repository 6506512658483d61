/*
 * The pure parts of the game: streak milestones (the next one, the bonus
 * for each, configured per milestone) and the achievement names, which
 * must match the SQL enum achievement_key of sql/migrations/0014_game.sql
 * (run from the repo root) one for one and in order.
 */
#include <stdio.h>
#include <string.h>

#include "domain/achieve.h"
#include "domain/game.h"
#include "harness.h"

#define MIGRATION "sql/migrations/0014_game.sql"

static void
test_next_milestone(void)
{
	static const struct {
		int64_t current, next;
	} cases[] = {
		{ 0, 3 }, { 1, 3 }, { 2, 3 }, { 3, 7 }, { 6, 7 }, { 7, 30 },
		{ 29, 30 }, { 30, 0 }, { 365, 0 },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		CHECK_INT(game_next_milestone(cases[i].current), cases[i].next);
}

static void
test_milestone_bonus(void)
{
	struct game_rules r = { .streak_bonus = { 2, 5, 15 } };

	CHECK_INT(game_milestone_bonus(&r, 3), 2);
	CHECK_INT(game_milestone_bonus(&r, 7), 5);
	CHECK_INT(game_milestone_bonus(&r, 30), 15);
	CHECK_INT(game_milestone_bonus(&r, 0), 0);
	CHECK_INT(game_milestone_bonus(&r, 4), 0);
	CHECK_INT(game_milestone_bonus(&r, 31), 0);
	r.streak_bonus[1] = 0;
	CHECK_INT(game_milestone_bonus(&r, 7), 0);
}

static void
test_names_round_trip(void)
{
	enum achieve_key k;

	for (int i = 0; i < ACHIEVE_COUNT; i++) {
		if (!CHECK_INT(achieve_parse(achieve_name((enum achieve_key)i),
		    &k), 0))
			continue;
		CHECK_INT(k, i);
	}
	CHECK_INT(achieve_parse("first_harvest ", &k), -1);
	CHECK_INT(achieve_parse("", &k), -1);
	CHECK_STR(achieve_name((enum achieve_key)ACHIEVE_COUNT), "unknown");
}

/* The SQL enum lists the same names in the same order. */
static void
test_names_match_the_migration(void)
{
	static char text[16384];
	FILE *f = fopen(MIGRATION, "r");
	size_t n;
	const char *p;

	if (!CHECK(f != NULL))
		return;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	p = strstr(text, "CREATE TYPE achievement_key AS ENUM (");
	if (!CHECK(p != NULL))
		return;
	for (int i = 0; i < ACHIEVE_COUNT; i++) {
		char quoted[40];
		const char *q;

		snprintf(quoted, sizeof(quoted), "'%s'",
		    achieve_name((enum achieve_key)i));
		q = strstr(p, quoted);
		if (!CHECK(q != NULL && q < strchr(p, ';')))
			return;
		p = q;
	}
}

static const struct test_case cases[] = {
	{ "next_milestone", test_next_milestone },
	{ "milestone_bonus", test_milestone_bonus },
	{ "names_round_trip", test_names_round_trip },
	{ "names_match_the_migration", test_names_match_the_migration },
};

int
main(void)
{
	return harness_run("game", cases, ARRAY_LEN(cases));
}
