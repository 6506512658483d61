/*
 * Support inquiries.  The mail params are built with json-c from the
 * client's text; the mail renderer escapes them for HTML.
 */
#include <json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "domain/account.h"
#include "domain/outbox.h"
#include "domain/support.h"
#include "store/db.h"

int
support_is_category(const char *category)
{
	static const char *const known[] = { "bug", "feature", "billing",
		"lemons", "other" };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(category, known[i]) == 0)
			return 1;
	return 0;
}

static void
add(struct json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, json_object_new_string(value));
}

static struct json_object *
admin_params(const struct profile *p, const struct support_inquiry *q)
{
	struct json_object *o = json_object_new_object();
	char now[32], balance[24];

	clock_rfc3339(now, sizeof(now), clock_now());
	snprintf(balance, sizeof(balance), "%lld", (long long)p->balance);
	add(o, "category", q->category);
	add(o, "subject", q->subject);
	add(o, "message", q->message);
	add(o, "userEmail", p->email);
	add(o, "userId", p->id);
	add(o, "lemonBalance", balance);
	add(o, "userAgent", q->user_agent);
	add(o, "currentPage", q->current_page);
	add(o, "timestamp", now);
	return o;
}

int
support_submit(struct db *db, const char *user_id, const char *admin,
	       struct support_inquiry *q)
{
	struct profile p;
	struct json_object *a = NULL, *c = NULL;
	int ret = account_profile(db, user_id, &p);

	if (ret != ACCOUNT_OK)
		return ret;
	a = admin_params(&p, q);
	c = json_object_new_object();
	add(c, "subject", q->subject);
	add(c, "message", q->message);
	ret = -1;
	if (db_begin(db) == 0 &&
	    outbox_add(db, "support_admin", admin,
	    json_object_to_json_string(a), &q->admin_mail) == 0 &&
	    outbox_add(db, "support_confirm", p.email,
	    json_object_to_json_string(c), &q->confirm_mail) == 0)
		ret = db_commit(db);
	if (ret != 0)
		db_rollback(db);
	json_object_put(a);
	json_object_put(c);
	return ret;
}
