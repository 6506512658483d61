/*
 * Pool "account": the profile, account deletion and support inquiries.
 *
 *	GET    /api/user			-> profile
 *	DELETE /api/user			-> 204
 *	POST   /api/support/inquiry	{category, subject, message, context}
 *		-> 204
 */
#include <json.h>
#include <string.h>

#include "base/jget.h"
#include "base/xalloc.h"
#include "domain/account.h"
#include "domain/outbox.h"
#include "domain/support.h"
#include "web/app.h"
#include "web/auth.h"
#include "web/pool.h"
#include "web/req.h"
#include "web/views.h"

/* One query from token to profile: the hottest authenticated route. */
static int
get_user(struct req *req)
{
	const char *token = auth_token(req);
	struct profile p;

	if (!token)
		return resp_error(req, ERR_UNAUTHORIZED, NULL);
	switch (account_profile_by_token(&req->app->db, token, &p)) {
	case ACCOUNT_OK:
		return resp_json(req, 200, view_profile(&p));
	case ACCOUNT_NONE:
		return resp_error(req, ERR_UNAUTHORIZED, NULL);
	default:
		return resp_error(req, ERR_UNAVAILABLE, NULL);
	}
}

static int
delete_user(struct req *req)
{
	const char *uid = auth_user(req);
	int64_t mail;

	if (!uid)
		return req->status;
	switch (account_delete(&req->app->db, uid, &mail)) {
	case ACCOUNT_OK:
		outbox_send(&req->app->db, &req->app->mailer, mail, NULL);
		return resp_empty(req, 204);
	case ACCOUNT_NONE:
		return resp_error(req, ERR_UNAUTHORIZED, NULL);
	default:
		return resp_error(req, ERR_INTERNAL, NULL);
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
	const char *uid = auth_user(req);
	struct support_inquiry q = { 0 };
	int r;

	if (!uid)
		return req->status;
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
	if (r != 0)
		return resp_error(req, r > 0 ? ERR_UNAUTHORIZED : ERR_INTERNAL,
		    NULL);
	outbox_send(&req->app->db, &req->app->mailer, q.admin_mail, NULL);
	outbox_send(&req->app->db, &req->app->mailer, q.confirm_mail, NULL);
	return resp_empty(req, 204);
}

static const struct route routes[] = {
	{ "GET", "/api/user", get_user, 0 },
	{ "DELETE", "/api/user", delete_user, 0 },
	{ "POST", "/api/support/inquiry", support_inquiry, ROUTE_JSON_BODY },
};

int
main(void)
{
	return pool_main("account", routes, ARRAY_LEN(routes));
}
