/*
 * The live events relay, in each pool's master.  A worker that has
 * something to tell open pages (a harvest: web/live.h) writes one line of
 * JSON into the master's pipe (non-blocking: a full pipe loses the event,
 * counted) and goes on; the master publishes it to nginx's pub/sub module
 * (net/events.h) at once when it has published nothing for a window,
 * otherwise together with whatever else arrives until the window ends.
 *
 * Each message costs nginx a write to every open page (about 15 µs each
 * on a small virtual machine, measured), so the window grows with the
 * pages nginx last reported: DBTREE_EVENTS_WINDOW_MS (40) at least, plus
 * DBTREE_EVENTS_US_PER_PAGE (60) per page, which keeps the fan-out to
 * about a quarter of a core (10,000 pages: a message at most every
 * 0.6 s).  A lone harvest still goes out at once.
 *
 * A message folds the harvests of its window into one, the latest per
 * lemon; its "at" is the earliest of their commit times (ms since the
 * epoch), so a subscriber's delay is measured from the oldest one:
 *
 *	{"type":"harvest","lemons":[{"position":3,"by":"ann***",
 *	 "nextRegrowthTime":"…"}],"at":1765130400123}
 */
#ifndef WEB_RELAY_H
#define WEB_RELAY_H

#include <stdint.h>

#include "net/events.h"

#define RELAY_LEMONS 10		/* positions on the tree */
#define RELAY_ITEM_MAX 256	/* one lemon's JSON */

struct conf;
struct metrics_shm;

struct relay {
	int rfd, wfd;		/* the pipe; -1 when live events are off */
	struct events ev;
	struct metrics_shm *metrics;
	char item[RELAY_LEMONS][RELAY_ITEM_MAX];	/* "" = none pending */
	int64_t first_at;	/* earliest pending commit time, 0 = none */
	int64_t last_pub_ms;	/* monotonic */
	int64_t window_ms;	/* the current window */
	int64_t min_window_ms, us_per_page;
	char carry[RELAY_ITEM_MAX * 2];	/* a line split across reads */
	size_t ncarry;
};

/* Master, before forking; rfd = -1 when publishing is off. */
void relay_open(struct relay *r, const struct conf *conf,
		struct metrics_shm *metrics);
void relay_close(struct relay *r);

/* Worker: hands the master one harvest of position (a JSON object's
 * text, no newline) committed at at_ms (ms since the epoch).  0, or -1
 * when the pipe is full or closed (the caller counts it lost). */
int relay_send(int wfd, int position, int64_t at_ms, const char *json);

/* Master, when rfd is readable: takes what the workers wrote. */
void relay_drain(struct relay *r);
/* Master: ms until something pending is due (0: now), -1 when nothing is
 * pending. */
int relay_due_ms(const struct relay *r);
/* Master: publishes what is pending if it is due. */
void relay_flush(struct relay *r);

#include "base/banned.h"
#endif
