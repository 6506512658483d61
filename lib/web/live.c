/* The live tree's events (see live.h). */
#include <json.h>
#include <stdbool.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "web/app.h"
#include "web/live.h"
#include "web/metrics.h"
#include "web/relay.h"
#include "web/views.h"

#define LIVE_CHANNEL "tree"

struct json_object *
live_tree_json(const struct tree_status *st)
{
	struct json_object *o = json_object_new_object();
	struct json_object *pos = json_object_new_array();

	for (int i = 0; i < st->navailable; i++)
		json_object_array_add(pos, json_object_new_int(st->available[i]));
	json_object_object_add(o, "availablePositions", pos);
	json_object_object_add(o, "totalHarvested",
	    json_object_new_int64(st->total_harvested));
	if (st->next_regrowth)
		json_object_object_add(o, "nextRegrowthTime",
		    view_time(st->next_regrowth));
	if (st->golden_position >= 0)
		json_object_object_add(o, "goldenPosition",
		    json_object_new_int(st->golden_position));
	return o;
}

/* Stamps, publishes and releases o. */
static void
publish(struct app *app, const char *type, struct json_object *o)
{
	int ok;

	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "at", json_object_new_int64(clock_epoch_ms()));
	ok = events_publish(&app->events, LIVE_CHANNEL,
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE)) >= 0;
	if (app->events.ntargets)
		metrics_live_event(app->metrics, ok);
	json_object_put(o);
}

void
live_harvest(struct app *app, int position, const struct game_harvest *h)
{
	struct json_object *o;
	int64_t regrow = app->game.regrow_s;
	int64_t at = clock_epoch_ms();

	if (app->live_fd < 0)
		return;		/* live events are off */
	o = json_object_new_object();
	json_object_object_add(o, "position", json_object_new_int(position));
	json_object_object_add(o, "by", json_object_new_string(h->by));
	/* no regrowth delay: the lemon hangs again at once */
	if (regrow > 0)
		json_object_object_add(o, "nextRegrowthTime",
		    view_time(h->harvested_at + (time_t)regrow));
	if (relay_send(app->live_fd, position, at,
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE)) < 0) {
		log_warn("live event of a harvest lost: the relay's pipe is full");
		metrics_live_event(app->metrics, false);
	}
	json_object_put(o);
}

/* What a page shows of the tree: which lemons hang, which is golden, when
 * the next grows back (the total moves with every harvest, which has an
 * event of its own). */
static bool
same_tree(const struct tree_status *a, const struct tree_status *b)
{
	return a->navailable == b->navailable &&
	    memcmp(a->available, b->available,
	    sizeof(a->available[0]) * (size_t)a->navailable) == 0 &&
	    a->golden_position == b->golden_position &&
	    a->next_regrowth == b->next_regrowth;
}

int
live_tree(struct app *app, const struct tree_status *before)
{
	struct tree_status st;

	if (!app->events.ntargets)
		return 0;
	if (tree_status(&app->db, &st) < 0)
		return -1;
	if (!before || !same_tree(before, &st))
		publish(app, "tree", live_tree_json(&st));
	return 0;
}
