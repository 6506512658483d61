/*
 * Statistics: the public numbers and mini leaderboard of the home page, and
 * a person's harvest history and ledger pages.  Queries only; the HTTP side
 * (validation, caching, JSON) is the "stats" pool's.
 *
 * Every function returns 0 or -1 (already logged).  The queries are sized
 * for a ledger of millions of rows: the public numbers read the one row of
 * stats_counters, the rest walk one user's slice of an index.
 */
#ifndef DOMAIN_STATS_H
#define DOMAIN_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct db;
struct pg_result;

/* The three public totals, read from stats_counters (kept by triggers). */
struct stats_global {
	int64_t harvested_lemons;	/* lemons actually harvested */
	int64_t created_instances;	/* ever created, deleted ones too */
	int64_t live_users;
};

int stats_global(struct db *db, struct stats_global *out);

#define STATS_TOP 3
/* A masked address: up to 3 characters of 4 UTF-8 bytes, "***", NUL. */
#define STATS_MASK_MAX 16

struct stats_rank {
	char masked_email[STATS_MASK_MAX];
	int64_t score;
};

/* The mini leaderboard.  rich: the live users with the largest positive
 * balances (score = balance; ties: the earlier account first).  quiz: the
 * live users with the most correct, finished quiz attempts started today
 * (UTC; score = that count; ties: who reached it first).  Addresses come
 * masked (stats_mask_email); rank i is entry i + 1. */
struct stats_leaderboard {
	struct stats_rank rich[STATS_TOP];
	int nrich;
	struct stats_rank quiz[STATS_TOP];
	int nquiz;
};

int stats_leaderboard(struct db *db, struct stats_leaderboard *out);

/* Writes the public form of an address into out (>= STATS_MASK_MAX
 * bytes): the first 3 characters of the local part (the whole local part
 * when shorter) followed by "***"; the domain is dropped.  Characters are
 * UTF-8 sequences, never cut in half. */
void stats_mask_email(const char *email, char *out, size_t size);

#define STATS_DAYS_DEFAULT 7
#define STATS_DAYS_MAX 90

struct stats_day {
	char date[24];		/* "2026-11-21T00:00:00Z" */
	int64_t amount;		/* lemons harvested that UTC day */
};

/* The user's harvests per UTC calendar day for the days (1..STATS_DAYS_MAX)
 * days ending today, newest first, days without harvest included: fills
 * out[0..days). */
int stats_daily_harvest(struct db *db, const char *user_id, int days,
			struct stats_day *out);

#define STATS_LIMIT_DEFAULT 20
#define STATS_LIMIT_MAX 100

/* One ledger row as the ledger page shows it. */
struct stats_tx {
	const char *id;
	const char *instance_name;	/* NULL: no instance (or not known) */
	const char *action;
	const char *status;
	int64_t amount;
	int64_t balance;
	time_t created_at;
	const char *note;
};

/* One page of a user's ledger, newest first.  The strings of rows are
 * borrowed from the query result the page holds: they live until
 * stats_page_release(). */
struct stats_page {
	struct pg_result *res;
	struct stats_tx *rows;
	int n;
	int64_t total;		/* rows matching, over all pages */
};

/* Fills page with page number (>= 1) of limit (1..STATS_LIMIT_MAX) rows of
 * the user's ledger.  instance_name, when not NULL, keeps only the rows of
 * the user's instances of that name.  A page past the end has no rows. */
int stats_transactions(struct db *db, const char *user_id,
		       const char *instance_name, int64_t page, int limit,
		       struct stats_page *out);
/* Frees what the page holds; accepts a page that was never filled (zeroed)
 * or failed. */
void stats_page_release(struct stats_page *page);

#include "base/banned.h"
#endif
