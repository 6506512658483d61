/*
 * The game's clock (gameday.h).  The zone is process state like the pause
 * directory: set once at startup, read by every statement that needs a day.
 */
#include <stdio.h>

#include "base/pause.h"
#include "domain/gameday.h"

static char zone[65] = "UTC";

void
gameday_setup(const char *time_zone)
{
	snprintf(zone, sizeof(zone), "%s", time_zone && *time_zone ?
	    time_zone : "UTC");
}

void
gameday_now(struct gameday *d)
{
	snprintf(d->offset, sizeof(d->offset), "%lld", pause_clock_offset());
	d->tz = zone;
}
