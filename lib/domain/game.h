/*
 * The harvest game: quiz -> answer -> click.
 *
 * game_start() checks the cooldown, that the lemon hangs with a quiz and
 * that this user has not answered this lemon (generation) before, records
 * the attempt and takes the user's quiz lock in Redis (SET NX EX, atomic
 * with the attempt's own key); a refused lock removes the attempt again.
 * game_answer() requires the attempt's lock to be live and the session to
 * be its owner's, marks it right, wrong or late, and opens the click window
 * for a right, timely answer.
 * game_harvest() settles the race in one transaction: the attempt row, the
 * cooldown again, one conditional UPDATE of the lemon row (exactly one
 * winner), the ledger credit and the user's last harvest.  The same
 * transaction keeps the game around it (one more statement: counters,
 * the daily streak, streak milestones and achievements earned, sql 0014)
 * and books a streak bonus or an achievement's reward only when one is
 * due.  A golden lemon (domain/golden.h) pays GAME_GOLDEN_FACTOR times.
 */
#ifndef DOMAIN_GAME_H
#define DOMAIN_GAME_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "domain/achieve.h"
#include "domain/ledger.h"
#include "domain/session.h"
#include "domain/stats.h"

struct db;
struct kv;

struct game_rules {
	int64_t amount;		/* lemons a harvest */
	int64_t cooldown_s;	/* per user, after a harvest */
	int64_t regrow_s;	/* per lemon, after a harvest */
	int64_t click_window_ms;
	int64_t grace_s;	/* lock lifetime past the quiz time limit */
	int64_t cap;
	int64_t streak_bonus[3];	/* at GAME_MILESTONE_DAYS */
	int64_t golden_per_day;
};

/* Days in a row that pay a streak bonus, ascending. */
#define GAME_MILESTONE_DAYS { 3, 7, 30 }
#define GAME_MILESTONES 3

/* The first milestone above streak `current`, or 0 past the last. */
int64_t game_next_milestone(int64_t current);
/* The bonus of r for reaching `days` in a row (0 if none). */
int64_t game_milestone_bonus(const struct game_rules *r, int64_t days);

enum game_result {
	GAME_OK = 0,
	GAME_COOLDOWN,		/* wait_s set */
	GAME_NO_LEMON,		/* not available */
	GAME_NO_QUIZ,		/* available but no quiz on it */
	GAME_LOCKED_OUT,	/* already answered this lemon */
	GAME_IN_PROGRESS,	/* another quiz holds the lock */
	GAME_NO_ATTEMPT,	/* answer: no quiz in progress with that id */
	GAME_BAD_OPTION,	/* answer: option index out of range */
	GAME_NOT_PASSED,	/* harvest: no right, timely answer */
	GAME_PROCESSED,		/* harvest: already settled */
	GAME_TOO_LATE,		/* harvest: click window over */
	GAME_TAKEN,		/* harvest: someone else won */
	GAME_FULL,		/* harvest: storage full */
	GAME_UNAVAILABLE,	/* Redis did not answer */
	GAME_NO_SESSION,	/* the token names no live session */
};

struct game_quiz {
	int64_t attempt_id;
	int64_t time_limit;
	bool golden;
	char *question;		/* malloc'd; game_quiz_release() */
	char *options_json;	/* JSON array text, malloc'd */
	char *question_ko;	/* the Korean text, NULL when the quiz */
	char *options_ko_json;	/* has none; malloc'd */
	int64_t wait_s;		/* GAME_COOLDOWN */
};

struct game_answer {
	char user_id[USER_ID_LEN + 1];	/* who answered (GAME_OK) */
	bool correct;
	bool late;
	int64_t correct_option;
	time_t harvest_deadline_ms_epoch;	/* ms since the epoch */
	char *explanation;	/* malloc'd, for wrong answers */
	char *explanation_ko;	/* Korean, or NULL when the quiz has none */
	bool awarded;		/* earned `award` with this answer */
	struct achieve_award award;
};

#define GAME_MAX_AWARDS ACHIEVE_COUNT

struct game_harvest {
	char user_id[USER_ID_LEN + 1];	/* who harvested (GAME_OK) */
	struct ledger_move move;	/* applied, balance, tx_id */
	time_t next_harvest_at;
	time_t harvested_at;		/* the transaction's time */
	char by[STATS_MASK_MAX];	/* the winner's masked address */
	int64_t wait_s;			/* GAME_COOLDOWN */
	bool golden;			/* a golden lemon */
	int64_t streak, streak_best;	/* after this harvest */
	int64_t milestone;		/* days reached now, 0 = none */
	int64_t streak_bonus;		/* booked for it (clipped) */
	struct achieve_award awards[GAME_MAX_AWARDS];	/* earned now */
	int nawards;
	int64_t balance;		/* after every bonus */
};

/* The three steps take the request's session token and check it inside
 * their own statements (GAME_NO_SESSION), which saves a round trip each. */
int game_start(struct db *db, struct kv *kv, const struct game_rules *r,
	       const char *token, int position, struct game_quiz *out);
void game_quiz_release(struct game_quiz *q);

int game_answer(struct db *db, struct kv *kv, const struct game_rules *r,
		const char *token, int64_t attempt_id, int64_t option,
		struct game_answer *out);
void game_answer_release(struct game_answer *a);

int game_harvest(struct db *db, const struct game_rules *r,
		 const char *token, int position, int64_t attempt_id,
		 struct game_harvest *out);

/* Seconds until user_id may harvest again (0 = now), or -1. */
int64_t game_cooldown_left(struct db *db, const struct game_rules *r,
			   const char *user_id);

/* The sweep job: closes unanswered attempts past their deadline as
 * timeout, unclicked ones past the window as harvest_timeout, and drops
 * their quiz locks, in batches until none is left or the monotonic clock
 * reaches deadline_ms (the rest goes next time).  Returns how many attempts
 * it closed, or -1. */
int64_t game_sweep(struct db *db, struct kv *kv, const struct game_rules *r,
		   int64_t deadline_ms);

#include "base/banned.h"
#endif
