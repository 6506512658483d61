/*
 * JSON views of domain values shared by several route groups.
 */
#ifndef WEB_VIEWS_H
#define WEB_VIEWS_H

#include <stdint.h>
#include <time.h>

struct json_object;
struct profile;
struct achieve_award;
struct achieve_state;

/* {id, email, lemonBalance, totalEarnedLemons, totalSpentLemons,
 *  lastHarvestAt (RFC 3339 or null), joinedAt}; the caller owns it. */
struct json_object *view_profile(const struct profile *p);
/* {current, best, nextMilestone} (null past the last milestone). */
struct json_object *view_streak(int64_t current, int64_t best,
				int64_t next_milestone);
/* [{key, reward, lemons}] of achievements just earned. */
struct json_object *view_awards(const struct achieve_award *a, int n);
/* {key, earned, earnedAt, progress, goal, reward} */
struct json_object *view_achievement(const struct achieve_state *s);
/* A fractional number as people write it: 0.1, not 0.10000000000000001
 * (15 significant digits, the shortest form).  Every fractional field of
 * every reply goes through this one formatter. */
struct json_object *view_number(double d);
/* RFC 3339 string, or JSON null for 0. */
struct json_object *view_time(time_t t);

#include "base/banned.h"
#endif
