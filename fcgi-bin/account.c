/*
 * Pool "account": the profile, account deletion and support inquiries.
 *
 *	GET    /api/user			-> profile; a request that names
 *					its language (X-Dbtree-Lang, as the
 *					web UI's do) records it as the one
 *					the person last used: mails follow it
 *	GET    /api/user/achievements		-> [{key, earned, earnedAt,
 *						     progress, goal, reward}]
 *	DELETE /api/user			-> 204
 *	POST   /api/support/inquiry	{category, subject, message, context}
 *		-> 204
 */
#include <json.h>
#include <string.h>

#include "base/jget.h"
#include "base/xalloc.h"
#include "domain/account.h"
#include "domain/achieve.h"
#include "domain/outbox.h"
#include "domain/support.h"
#include "web/app.h"
#include "web/auth.h"
#include "web/pool.h"
#include "web/req.h"
#include "web/views.h"

/* The hottest authenticated route: the session and the profile come from
 * the pool's cache (web/auth.h), PostgreSQL is asked about once a second
 * per session and after each change; a write only when the person's
 * language changed. */
static int
get_user(struct req *req)
{
	struct profile p;
	bool given;
	enum lang lang = req_lang(req, &given);

	switch (auth_profile(req, &p)) {
	case ACCOUNT_OK:
		/* a failure is logged; the profile is still right */
		if (given && lang != p.lang &&
		    account_set_lang(&req->app->db, p.id, lang) == 0) {
			auth_changed(p.id);
			p.lang = lang;
		}
		return resp_json(req, 200, view_profile(&p));
	case ACCOUNT_NONE:
		return resp_error(req, ERR_UNAUTHORIZED, NULL);
	default:
		return ROUTE_FAILED;
	}
}

static int
achievements(struct req *req)
{
	struct achieve_state st[ACHIEVE_COUNT];
	struct json_object *arr;
	int n = achieve_list(&req->app->db, req->user_id,
	    req->app->conf.billing_period_s, st);

	if (n < 0)
		return ROUTE_FAILED;
	arr = json_object_new_array();
	for (int i = 0; i < n; i++)
		json_object_array_add(arr, view_achievement(&st[i]));
	return resp_json(req, 200, arr);
}

static int
delete_user(struct req *req)
{
	const char *uid = req->user_id;
	int64_t mail;

	switch (account_delete(&req->app->db, uid, &mail)) {
	case ACCOUNT_OK:
		auth_forget_user(uid);
		outbox_send(&req->app->db, &req->app->mailer, mail, NULL);
		return resp_empty(req, 204);
	case ACCOUNT_NONE:
		return resp_error(req, ERR_UNAUTHORIZED, NULL);
	default:
		return ROUTE_FAILED;
	}
}

/* Optional strings of the client's context object ("" when absent). */
static void
read_context(struct req *req, struct support_inquiry *q)
{
	struct json_object *ctx = NULL;

	q->user_agent = "";
	q->current_page = "";
	if (jget_object(req->json, "context", &ctx) != JGET_OK)
		return;
	jget_str_opt(ctx, "userAgent", 300, true, &q->user_agent);
	jget_str_opt(ctx, "currentPage", 300, true, &q->current_page);
}

static int
support_inquiry(struct req *req)
{
	const char *uid = req->user_id;
	struct support_inquiry q = { 0 };
	int r;

	if ((r = jget_str(req->json, "category", 20, &q.category)) != JGET_OK)
		return resp_jget_error(req, r, "category");
	if (!support_is_category(q.category))
		return resp_errorf(req, ERR_INVALID_PARAMETER, NULL, "category"
		    " must be one of bug, feature, billing, lemons, other");
	if ((r = jget_str(req->json, "subject", 100, &q.subject)) != JGET_OK)
		return resp_jget_error(req, r, "subject");
	if ((r = jget_str(req->json, "message", 1000, &q.message)) != JGET_OK)
		return resp_jget_error(req, r, "message");
	read_context(req, &q);
	r = support_submit(&req->app->db, uid, req->app->mailer.admin, &q);
	if (r < 0)
		return ROUTE_FAILED;
	if (r > 0)
		return resp_error(req, ERR_UNAUTHORIZED, NULL);
	outbox_send(&req->app->db, &req->app->mailer, q.admin_mail, NULL);
	outbox_send(&req->app->db, &req->app->mailer, q.confirm_mail, NULL);
	return resp_empty(req, 204);
}

static const struct route routes[] = {
	{ "GET", "/api/user", get_user, ROUTE_USER, 0, LIMIT_NONE },
	{ "GET", "/api/user/achievements", achievements, ROUTE_USER, 0,
	  LIMIT_NONE },
	{ "DELETE", "/api/user", delete_user, ROUTE_USER, 0, LIMIT_NONE },
	{ "POST", "/api/support/inquiry", support_inquiry, ROUTE_USER,
	  ROUTE_JSON_BODY, LIMIT_SUPPORT },
};

int
main(void)
{
	return pool_main("account", routes, ARRAY_LEN(routes));
}
