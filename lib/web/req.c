/*
 * Requests and responses over libfcgi.  Every answer carries
 * Content-Length, Cache-Control: no-store and X-Request-Id; 5xx answers
 * never carry text from libpq, Redis or curl.
 */
#include <ctype.h>
#include <fcgiapp.h>
#include <json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/jget.h"
#include "base/log.h"
#include "web/req.h"

char *
req_strdup(struct req *req, const char *s)
{
	return arena_strdup(&req->arena, s);
}

char *
req_printf(struct req *req, const char *fmt, ...)
{
	struct buf b = BUF_INIT(1 << 20);
	va_list ap;
	char *s;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	s = arena_strdup(&req->arena, buf_cstr(&b));
	buf_release(&b);
	return s;
}

const char *
req_param(const struct req *req, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < req->params.n; i++)
		if (req->params.p[i].name_len == n &&
		    strncmp(req->params.p[i].name, name, n) == 0)
			return req->params.p[i].value;
	return NULL;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes s[0..n) (+ is space); NULL when malformed or holding NUL. */
static char *
query_decode(struct req *req, const char *s, size_t n)
{
	char *out = arena_alloc(&req->arena, n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(s[i + 2]) : -1;

			if (lo < 0 || (hi | lo) == 0)
				return NULL;
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	return out;
}

const char *
req_query(struct req *req, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = req->query;

	while (*p) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;

		if (klen == nlen && strncmp(p, name, nlen) == 0)
			return eq ? query_decode(req, eq + 1, len - klen - 1) :
			    "";
		p += len + (p[len] == '&');
	}
	return NULL;
}

const char *
req_header(const struct req *req, const char *name)
{
	char key[128];

	snprintf(key, sizeof(key), "HTTP_%s", name);
	return FCGX_GetParam(key, ((FCGX_Request *)req->fcgi)->envp);
}

void
resp_header(struct req *req, const char *name, const char *value)
{
	if (buf_addf(&req->headers, "%s: %s\r\n", name, value) < 0)
		log_err("bug: response headers too long");
}

static const char *
reason(int status)
{
	static const struct {
		int status;
		const char *text;
	} reasons[] = {
		{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
		{ 204, "No Content" }, { 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 409, "Conflict" }, { 413, "Payload Too Large" },
		{ 415, "Unsupported Media Type" }, { 429, "Too Many Requests" },
		{ 500, "Internal Server Error" },
		{ 503, "Service Unavailable" }, { 507, "Insufficient Storage" },
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "";
}

static int
resp_send(struct req *req, int status, const char *type, const char *body,
	  size_t len)
{
	FCGX_Stream *out = ((FCGX_Request *)req->fcgi)->out;
	struct buf head = BUF_INIT(8192);

	if (req->status) {
		log_err("bug: second answer to one request");
		return req->status;
	}
	req->status = status;
	/* libfcgi's own printf lacks %zu and friends: format here */
	buf_addf(&head, "Status: %d %s\r\nCache-Control: no-store\r\n"
	    "X-Request-Id: %s\r\n%s", status, reason(status), req->request_id,
	    buf_cstr(&req->headers));
	if (type)
		buf_addf(&head, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    type, len);
	buf_adds(&head, "\r\n");
	FCGX_PutStr(head.data, (int)head.len, out);
	if (len)
		FCGX_PutStr(body, (int)len, out);
	buf_release(&head);
	return status;
}

int
resp_json(struct req *req, int status, struct json_object *obj)
{
	size_t len;
	const char *s = json_object_to_json_string_length(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	int ret = resp_send(req, status, "application/json", s, len);

	json_object_put(obj);
	return ret;
}

int
resp_empty(struct req *req, int status)
{
	return resp_send(req, status, NULL, NULL, 0);
}

int
resp_text(struct req *req, int status, const char *content_type,
	  const char *body, size_t len)
{
	return resp_send(req, status, content_type, body, len);
}

static int
resp_error_obj(struct req *req, enum err e, struct json_object *data,
	       const char *text)
{
	const struct err_info *info = err_info(e);
	struct json_object *o = json_object_new_object();
	char msg[600];

	if (info->http_status >= 500)
		text = info->message;	/* never leak internals */
	snprintf(msg, sizeof(msg), "[%s] %s", info->name, text);
	json_object_object_add(o, "code", json_object_new_int(info->code));
	json_object_object_add(o, "message", json_object_new_string(msg));
	json_object_object_add(o, "data", data ? data :
	    json_object_new_object());
	return resp_json(req, info->http_status, o);
}

int
resp_error(struct req *req, enum err e, const char *param)
{
	struct json_object *data = NULL;
	const char *text = err_info(e)->message;

	if (param) {
		data = json_object_new_object();
		json_object_object_add(data, "parameter",
		    json_object_new_string(param));
		if (e == ERR_INVALID_PARAMETER || e == ERR_MISSING_PARAMETER)
			text = req_printf(req, "%s: %s", text, param);
	}
	return resp_error_obj(req, e, data, text);
}

int
resp_errorf(struct req *req, enum err e, struct json_object *data,
	    const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return resp_error_obj(req, e, data, text);
}

int
resp_jget_error(struct req *req, int jget_result, const char *param)
{
	return resp_error(req, jget_result == JGET_MISSING ?
	    ERR_MISSING_PARAMETER : ERR_INVALID_PARAMETER, param);
}
