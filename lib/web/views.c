/* Shared JSON shapes (field names follow the reference API). */
#include <json.h>
#include <stdio.h>

#include "base/clock.h"
#include "domain/account.h"
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
	return o;
}

struct json_object *
view_number(double d)
{
	char text[32];

	snprintf(text, sizeof(text), "%.15g", d);
	return json_object_new_double_s(d, text);
}
