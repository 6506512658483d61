/*
 * Achievements: a fixed catalogue (the table achievements, sql 0014), each
 * earned once per person (primary key (user, key), inserted with ON
 * CONFLICT DO NOTHING, so a race pays nobody twice), awarded by the action
 * that earns it inside that action's own statement or transaction:
 *	harvests, streak, goldens	the harvest (domain/game.c)
 *	categories			the answer (domain/game.c)
 *	databases			instance create (domain/instance.c)
 *	database_days			the billing job (achieve_billing_pass)
 * A reward is paid through the ledger (action achievement_bonus), clipped
 * at the cap, only by the transaction whose insert earned it.
 */
#ifndef DOMAIN_ACHIEVE_H
#define DOMAIN_ACHIEVE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "domain/ledger.h"

struct db;

enum achieve_key {
	ACHIEVE_FIRST_HARVEST,
	ACHIEVE_HARVESTS_10,
	ACHIEVE_HARVESTS_100,
	ACHIEVE_STREAK_3,
	ACHIEVE_STREAK_7,
	ACHIEVE_ALL_CATEGORIES,
	ACHIEVE_GOLDEN_LEMON,
	ACHIEVE_FIRST_DATABASE,
	ACHIEVE_DATABASE_WEEK,
};
#define ACHIEVE_COUNT 9

/* The value an achievement k (achievements row) counts on the users row u
 * (sql 0014), in SQL; metrics other actions count are 0 here. */
#define ACHIEVE_VALUE(u, k) " CASE " k ".metric" \
	" WHEN 'harvests' THEN " u ".harvests" \
	" WHEN 'streak' THEN " u ".streak_best" \
	" WHEN 'categories' THEN bit_count(" u ".categories::bit(32))::int" \
	" WHEN 'goldens' THEN " u ".goldens ELSE 0 END"
/* The achievements a harvest can earn: its counts move by one, so each is
 * earned when its count reaches the goal (no probe of user_achievements
 * on every harvest after). */
#define ACHIEVE_HARVEST_SQL(u, k) " " k ".metric IN" \
	" ('harvests', 'streak', 'goldens') AND" ACHIEVE_VALUE(u, k) " = " k ".goal"

/* One newly earned achievement and what its reward booked. */
struct achieve_award {
	enum achieve_key key;
	int64_t reward;		/* the catalogue's */
	int64_t applied;	/* booked (less when clipped at the cap) */
};

/* The text name of k ("first_harvest") and back: 0, or -1 if unknown. */
const char *achieve_name(enum achieve_key k);
int achieve_parse(const char *name, enum achieve_key *k);

/* Inside the caller's transaction: books the reward of a (achievement_bonus,
 * clipped at cap) and fills a->applied.  A full storage books nothing and
 * is no error.  0 or -1. */
int achieve_pay(struct db *db, const char *user_id, int64_t cap,
		struct achieve_award *a);

/* Inside the caller's transaction: awards `key` to user_id if not yet
 * earned, and pays its reward.  1 when earned now, 0 when already, -1. */
int achieve_award(struct db *db, const char *user_id, enum achieve_key key,
		  int64_t cap, struct achieve_award *out);

/* One row of GET /api/user/achievements. */
struct achieve_state {
	enum achieve_key key;
	bool earned;
	time_t earned_at;
	int64_t progress;	/* at most goal */
	int64_t goal;
	int64_t reward;
};

/* Every achievement for user_id, in catalogue order; billing_period_s
 * turns billed periods into days.  Returns how many (ACHIEVE_COUNT), or
 * -1. */
int achieve_list(struct db *db, const char *user_id, int64_t billing_period_s,
		 struct achieve_state out[ACHIEVE_COUNT]);

/* The billing job: awards database_week to everyone with an instance
 * billed for its goal in days, each in a transaction with its reward.
 * Returns how many were awarded, or -1. */
int achieve_billing_pass(struct db *db, int64_t billing_period_s,
			 int64_t cap);

#include "base/banned.h"
#endif
