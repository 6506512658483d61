/* Bearer tokens -> user ids, through domain/session. */
#include <string.h>

#include "domain/session.h"
#include "web/app.h"
#include "web/auth.h"
#include "web/req.h"

const char *
auth_token(struct req *req)
{
	const char *h = req_header(req, "AUTHORIZATION");
	const char *token;

	if (!h || strncmp(h, "Bearer ", 7) != 0)
		return NULL;
	token = h + 7;
	if (!*token || strchr(token, ' '))
		return NULL;
	return token;
}

const char *
auth_bearer(struct req *req)
{
	const char *token = auth_token(req);

	if (!token)
		resp_error(req, ERR_UNAUTHORIZED, NULL);
	return token;
}

const char *
auth_user(struct req *req)
{
	const char *token = auth_bearer(req);
	char uid[USER_ID_LEN + 1];
	int r;

	if (!token)
		return NULL;
	r = session_user(&req->app->db, token, uid);
	if (r == SESSION_OK)
		return req_strdup(req, uid);
	resp_error(req, r < 0 ? ERR_UNAVAILABLE : ERR_UNAUTHORIZED, NULL);
	return NULL;
}

const char *
auth_maybe_user(struct req *req)
{
	const char *token = auth_token(req);
	char uid[USER_ID_LEN + 1];

	if (!token || session_user(&req->app->db, token, uid) != SESSION_OK)
		return NULL;
	return req_strdup(req, uid);
}
