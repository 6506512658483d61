/*
 * The game's clock and day.  A day (for streaks and the golden lemon) is
 * the date in the configured time zone (DBTREE_TIME_ZONE) of the game's
 * now: the database's now() moved on by an offset that is always 0 in
 * production and that tests set at runtime (base/pause.h: the file
 * clock-offset in the test pause directory), never the system clock.
 * Every statement where the day matters takes the offset and the zone as
 * parameters and computes the day with GAMEDAY_SQL, so C and SQL agree.
 */
#ifndef DOMAIN_GAMEDAY_H
#define DOMAIN_GAMEDAY_H

#include <stdint.h>

/* The game's now and today in SQL, from the parameters holding the offset
 * in seconds and the zone name (placeholders such as "$4"). */
#define GAMEDAY_NOW_SQL(off) "(now() + make_interval(secs => " off "::int))"
#define GAMEDAY_SQL(off, tz) \
	"(" GAMEDAY_NOW_SQL(off) " AT TIME ZONE " tz "::text)::date"

/* The two parameters, as text. */
struct gameday {
	char offset[24];
	const char *tz;
};

/* Sets the zone (validated by conf_load).  Once, at startup. */
void gameday_setup(const char *time_zone);
/* Fills d with the current offset and the zone. */
void gameday_now(struct gameday *d);

#include "base/banned.h"
#endif
