/* Shared JSON shapes (field names follow the reference API). */
#include <json.h>
#include <stdio.h>

#include "base/clock.h"
#include "domain/account.h"
#include "domain/achieve.h"
#include "web/views.h"

struct json_object *
view_time(time_t t)
{
	char s[32];

	if (t == 0)
		return NULL;
	clock_rfc3339(s, sizeof(s), t);
	return json_object_new_string(s);
}

struct json_object *
view_profile(const struct profile *p)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(p->id));
	json_object_object_add(o, "email", json_object_new_string(p->email));
	json_object_object_add(o, "lemonBalance",
	    json_object_new_int64(p->balance));
	json_object_object_add(o, "totalEarnedLemons",
	    json_object_new_int64(p->total_earned));
	json_object_object_add(o, "totalSpentLemons",
	    json_object_new_int64(p->total_spent));
	json_object_object_add(o, "lastHarvestAt",
	    view_time(p->last_harvest_at));
	json_object_object_add(o, "joinedAt", view_time(p->joined_at));
	json_object_object_add(o, "lang",
	    json_object_new_string(lang_name(p->lang)));
	json_object_object_add(o, "streak", view_streak(p->streak,
	    p->streak_best, p->next_milestone));
	return o;
}

struct json_object *
view_streak(int64_t current, int64_t best, int64_t next_milestone)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "current", json_object_new_int64(current));
	json_object_object_add(o, "best", json_object_new_int64(best));
	json_object_object_add(o, "nextMilestone", next_milestone ?
	    json_object_new_int64(next_milestone) : NULL);
	return o;
}

struct json_object *
view_awards(const struct achieve_award *a, int n)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "key",
		    json_object_new_string(achieve_name(a[i].key)));
		json_object_object_add(o, "reward",
		    json_object_new_int64(a[i].reward));
		json_object_object_add(o, "lemons",
		    json_object_new_int64(a[i].applied));
		json_object_array_add(arr, o);
	}
	return arr;
}

struct json_object *
view_achievement(const struct achieve_state *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "key",
	    json_object_new_string(achieve_name(s->key)));
	json_object_object_add(o, "earned", json_object_new_boolean(s->earned));
	json_object_object_add(o, "earnedAt", s->earned ?
	    view_time(s->earned_at) : NULL);
	json_object_object_add(o, "progress", json_object_new_int64(s->progress));
	json_object_object_add(o, "goal", json_object_new_int64(s->goal));
	json_object_object_add(o, "reward", json_object_new_int64(s->reward));
	return o;
}

struct json_object *
view_number(double d)
{
	char text[32];

	snprintf(text, sizeof(text), "%.15g", d);
	return json_object_new_double_s(d, text);
}
