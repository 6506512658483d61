/*
 * The golden lemon: once a day (DBTREE_GOLDEN_PER_DAY times; 0 = never)
 * the regrow job marks one hanging lemon golden and gives it a hard quiz;
 * its harvest pays GAME_GOLDEN_FACTOR times the lemons.  A lemon is golden
 * while lemons.golden_generation equals its generation and it hangs, so a
 * harvest or a regrowth ends it by itself; the job clears stale marks and
 * the marks of past days.  A partial unique index (sql 0014) keeps at most
 * one mark, whoever writes it.  Every golden lemon made is logged in
 * golden_lemons with how it ended (harvested by whom, or expired).
 */
#ifndef DOMAIN_GOLDEN_H
#define DOMAIN_GOLDEN_H

#include <stdint.h>

struct db;

#define GAME_GOLDEN_FACTOR 3

/* One pass of the job: ends stale and past-day marks, then makes a golden
 * lemon if none hangs and fewer than per_day were made today.  Returns the
 * golden position made (0-9), GOLDEN_NONE, or -1. */
#define GOLDEN_NONE (-2)
int golden_pass(struct db *db, int64_t per_day);

#include "base/banned.h"
#endif
