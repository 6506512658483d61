/*
 * The live tree: what an open page learns without asking.  Every event is
 * a JSON object on nchan's channel "tree" (net/events.h), served to pages
 * by nginx at GET /api/lemon/events:
 *
 *	{"type":"harvest","lemons":[{"position":3,"by":"ann***",
 *	 "nextRegrowthTime":"2026-12-07T18:00:00Z"}],"at":1765130400123}
 *	{"type":"tree","availablePositions":[0,2],"totalHarvested":41,
 *	 "nextRegrowthTime":"…","at":…}	(the global-status object)
 *
 * A harvest goes through the pool master's relay (web/relay.h), which
 * folds the harvests of a short window into one message; "at" is the
 * earliest commit time it carries (ms since the epoch).  Events carry what
 * global-status shows everyone and nothing more: no quiz, no answer, no
 * address beyond its masked form.  Publishing never fails the action that
 * caused it; a lost event is logged and counted, and the page's slow poll
 * catches up.
 */
#ifndef WEB_LIVE_H
#define WEB_LIVE_H

#include <json.h>

#include "domain/game.h"
#include "domain/tree.h"

struct app;

/* The tree's public state: global-status's body and the "tree" event. */
struct json_object *live_tree_json(const struct tree_status *st);

/* After a harvest of position committed: to the master's relay. */
void live_harvest(struct app *app, int position, const struct game_harvest *h);

/* After a jobs pass that may have changed the tree (regrowth, the golden
 * lemon made or ended): reads the tree and publishes it when it differs
 * from before (NULL: always).  0, or -1 when it could not be read. */
int live_tree(struct app *app, const struct tree_status *before);

#include "base/banned.h"
#endif
