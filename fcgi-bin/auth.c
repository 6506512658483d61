/*
 * Pool "auth": e-mail one-time-code login and logout.
 *
 *	POST /api/send-otp?type=authentication	{"email"} -> {"isNewUser"}
 *	POST /api/verify-otp?type=authentication	{"email","otp"}
 *		-> {"profile", "token", "expiresIn"}
 *	POST /api/logout	-> null
 *
 * The code's mail is written in the language the request names (req_lang);
 * a right code records that language for the person, when the request names
 * one, so their later mails follow it.
 */
#include <ctype.h>
#include <json.h>
#include <stdio.h>
#include <string.h>

#include "base/jget.h"
#include "base/meter.h"
#include "base/xalloc.h"
#include "domain/account.h"
#include "domain/email.h"
#include "domain/login.h"
#include "domain/outbox.h"
#include "web/app.h"
#include "web/auth.h"
#include "web/pool.h"
#include "web/req.h"
#include "web/views.h"

/* Checks ?type= and reads a normalised, acceptable address from the body
 * into email; answers the error itself and returns -1 otherwise. */
static int
read_email(struct req *req, char email[EMAIL_MAX + 1])
{
	const char *type = req_query(req, "type");
	const char *raw;
	int r;

	if (!type || strcmp(type, "authentication") != 0)
		return resp_error(req, ERR_INVALID_PARAMETER, "type"), -1;
	if ((r = jget_str(req->json, "email", 320, &raw)) != JGET_OK)
		return resp_jget_error(req, r, "email"), -1;
	if (email_normalize(raw, email, EMAIL_MAX + 1) < 0)
		return resp_errorf(req, ERR_INVALID_EMAIL, NULL,
		    "this is not a valid e-mail address"), -1;
	switch (email_check(&req->app->email, email)) {
	case EMAIL_OK:
		return 0;
	case EMAIL_DISPOSABLE:
		return resp_errorf(req, ERR_INVALID_EMAIL, NULL, "disposable"
		    " e-mail addresses are not accepted"), -1;
	case EMAIL_NO_MAIL_DOMAIN:
		return resp_errorf(req, ERR_INVALID_EMAIL, NULL, "this domain"
		    " does not receive e-mail"), -1;
	default:
		return resp_errorf(req, ERR_INVALID_EMAIL, NULL,
		    "this is not a valid e-mail address"), -1;
	}
}

static int
send_limited(struct req *req, int r, int64_t retry_after)
{
	struct json_object *data = json_object_new_object();
	char s[24];

	snprintf(s, sizeof(s), "%lld", (long long)retry_after);
	resp_header(req, "Retry-After", s);
	json_object_object_add(data, "retryAfter",
	    json_object_new_int64(retry_after));
	if (r == LOGIN_TOO_MANY) {
		json_object_object_add(data, "maxResends", json_object_new_int64(
		    req->app->login.send_limit));
		return resp_errorf(req, ERR_TOO_MANY_RESENDS, data, "too many"
		    " codes sent to this address; try again in %lld s",
		    (long long)retry_after);
	}
	json_object_object_add(data, "waitSeconds",
	    json_object_new_int64(retry_after));
	return resp_errorf(req, ERR_TOO_EARLY_RESEND, data, "a code was just"
	    " sent; you can ask for another in %lld s", (long long)retry_after);
}

static int
send_otp(struct req *req)
{
	char email[EMAIL_MAX + 1];
	struct login_send s;
	struct json_object *out;
	int r;

	if (read_email(req, email) < 0)
		return req->status;
	r = login_send(&req->app->db, &req->app->login, email,
	    req_lang(req, NULL), &s);
	if (r < 0)
		return ROUTE_FAILED;
	if (r != LOGIN_SENT)
		return send_limited(req, r, s.retry_after);
	/* after commit; if this fails the mail job retries with a new code */
	outbox_send(&req->app->db, &req->app->mailer, s.outbox_id, s.code);
	out = json_object_new_object();
	json_object_object_add(out, "isNewUser",
	    json_object_new_boolean(s.is_new_user));
	return resp_json(req, 200, out);
}

static int
verify_failed(struct req *req, int r, const struct login_verify *v)
{
	struct json_object *data;

	switch (r) {
	case LOGIN_NO_CODE:
		return resp_errorf(req, ERR_SESSION_NOT_FOUND, NULL, "no code"
		    " was sent to this address; ask for a code first");
	case LOGIN_EXPIRED:
		return resp_error(req, ERR_EXPIRED_OTP, NULL);
	case LOGIN_VOID:
		return resp_errorf(req, ERR_INVALID_OTP, NULL, "too many wrong"
		    " codes; ask for a new code");
	case LOGIN_USED:
		return resp_errorf(req, ERR_ALREADY_VERIFIED, NULL, "this code"
		    " was already used; ask for a new code to log in again");
	case LOGIN_WRONG:
		data = json_object_new_object();
		json_object_object_add(data, "triesLeft",
		    json_object_new_int64(v->tries_left));
		return resp_errorf(req, ERR_INVALID_OTP, data, "wrong code;"
		    " %lld tries left", (long long)v->tries_left);
	default:
		return ROUTE_FAILED;
	}
}

static bool
is_code(const char *s)
{
	for (int i = 0; i < LOGIN_CODE_LEN; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return s[LOGIN_CODE_LEN] == '\0';
}

static int
verify_otp(struct req *req)
{
	char email[EMAIL_MAX + 1];
	const char *code;
	struct login_verify v;
	struct profile p;
	struct json_object *out;
	bool given;
	enum lang lang = req_lang(req, &given);
	int r;

	if (read_email(req, email) < 0)
		return req->status;
	if ((r = jget_str(req->json, "otp", 64, &code)) != JGET_OK)
		return resp_jget_error(req, r, "otp");
	if (!is_code(code))
		return resp_errorf(req, ERR_INVALID_OTP, NULL, "the code is"
		    " the 6 digits from the mail");
	r = login_verify(&req->app->db, &req->app->login, email, code,
	    given ? &lang : NULL, &v);
	if (r >= 0)
		meter_count(METER_LOGIN, r == LOGIN_OK ? "ok" : "failed");
	if (r != LOGIN_OK)
		return verify_failed(req, r, &v);
	if (v.welcome_outbox_id)
		outbox_send(&req->app->db, &req->app->mailer,
		    v.welcome_outbox_id, NULL);
	if (account_profile(&req->app->db, v.user_id, &p) != ACCOUNT_OK)
		return ROUTE_FAILED;
	out = json_object_new_object();
	json_object_object_add(out, "profile", view_profile(&p));
	json_object_object_add(out, "token", json_object_new_string(v.token));
	json_object_object_add(out, "expiresIn",
	    json_object_new_int64(req->app->login.session_ttl_s));
	return resp_json(req, 200, out);
}

static int
logout(struct req *req)
{
	if (session_end(&req->app->db, req->token) < 0)
		return ROUTE_FAILED;
	auth_forget(req->token);
	return resp_json(req, 200, NULL);
}

static const struct route routes[] = {
	{ "POST", "/api/send-otp", send_otp, ROUTE_PUBLIC, ROUTE_JSON_BODY,
	  LIMIT_NONE },
	{ "POST", "/api/verify-otp", verify_otp, ROUTE_PUBLIC, ROUTE_JSON_BODY,
	  LIMIT_NONE },
	{ "POST", "/api/logout", logout, ROUTE_USER, 0, LIMIT_NONE },
};

int
main(void)
{
	return pool_main("auth", routes, ARRAY_LEN(routes));
}
