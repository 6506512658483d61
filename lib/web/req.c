/*
 * Requests and responses over libfcgi.  Every answer carries
 * Content-Length, Cache-Control: no-store, X-Request-Id and X-Trace-Id
 * (base/trace.h); 5xx answers never carry text from libpq, Redis or curl.
 * Client text is checked in one place, req_check_input (UTF-8 without NUL,
 * base/utf8.h), and error messages, which may echo it, are cut on a
 * character boundary.
 */
#include <fcgiapp.h>
#include <json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/jget.h"
#include "base/log.h"
#include "base/trace.h"
#include "base/utf8.h"
#include "web/query.h"
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

const char *
req_query(struct req *req, const char *name)
{
	struct query_pair p;
	char *out;

	if (!query_find(req->query, name, &p))
		return NULL;
	if (!p.value)
		return "";
	out = arena_alloc(&req->arena, p.value_len + 1);
	return query_decode(p.value, p.value_len, out, NULL) == QUERY_OK ?
	    out : NULL;
}

/* Answers 400 for input that is not text: where ("path", "query",
 * "body"), the parameter it is in when that is known and text itself, and
 * what is wrong with it. */
static int
refuse_input(struct req *req, const char *where, const char *param,
	     size_t param_len, const char *what)
{
	struct json_object *data = json_object_new_object();
	int shown = (int)utf8_prefix(param ? param : "", param_len, 64);

	json_object_object_add(data, "in", json_object_new_string(where));
	if (!param)
		return resp_errorf(req, ERR_INVALID_PARAMETER, data,
		    "the %s %s", where, what);
	json_object_object_add(data, "parameter",
	    json_object_new_string_len(param, (int)param_len));
	return resp_errorf(req, ERR_INVALID_PARAMETER, data, "%s parameter"
	    " '%.*s' %s", where, shown, param, what);
}

static int
check_query(struct req *req)
{
	struct query_pair bad;
	char *key;
	size_t len;
	int r = query_check(req->query, &bad);

	if (r == QUERY_OK)
		return 0;
	key = arena_alloc(&req->arena, bad.key_len + 1);
	if (query_decode(bad.key, bad.key_len, key, &len) != QUERY_OK)
		key = NULL;
	refuse_input(req, "query", key, len, r == QUERY_BAD_ESCAPE ?
	    "is not valid percent-encoding" : "is not UTF-8 text without"
	    " NUL bytes");
	return -1;
}

static bool is_json_text(struct json_object *o, const char **bad_key);

/* The members of object o; *bad_key as for is_json_text. */
static bool
is_members_text(struct json_object *o, const char **bad_key)
{
	struct json_object_iterator it = json_object_iter_begin(o);
	struct json_object_iterator end = json_object_iter_end(o);

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);

		if (!utf8_is_text(key, strlen(key))) {
			*bad_key = "";
			return false;
		}
		if (!is_json_text(json_object_iter_peek_value(&it), bad_key)) {
			if (!*bad_key)
				*bad_key = key;
			return false;
		}
	}
	return true;
}

/* True when every key and string under o is text; else false, with
 * *bad_key the innermost member holding the culprit ("" when a key is
 * the culprit, NULL when no member holds it). */
static bool
is_json_text(struct json_object *o, const char **bad_key)
{
	size_t n;

	switch (json_object_get_type(o)) {
	case json_type_string:
		return utf8_is_text(json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
	case json_type_array:
		n = json_object_array_length(o);
		for (size_t i = 0; i < n; i++)
			if (!is_json_text(json_object_array_get_idx(o, i),
			    bad_key))
				return false;
		return true;
	case json_type_object:
		return is_members_text(o, bad_key);
	case json_type_null:
	case json_type_boolean:
	case json_type_double:
	case json_type_int:
		return true;
	}
	return true;
}

int
req_check_input(struct req *req)
{
	const char *bad_key = NULL;

	if (!utf8_is_text(req->path, strlen(req->path)))
		return refuse_input(req, "path", NULL, 0, "is not UTF-8 text"),
		    -1;
	if (check_query(req) < 0)
		return -1;
	if (!req->json || is_json_text(req->json, &bad_key))
		return 0;
	if (bad_key && *bad_key)
		refuse_input(req, "body", bad_key, strlen(bad_key), "is not"
		    " UTF-8 text without NUL bytes");
	else
		refuse_input(req, "body", NULL, 0, "is not UTF-8 text"
		    " without NUL bytes");
	return -1;
}

const char *
req_header(const struct req *req, const char *name)
{
	char key[128];

	snprintf(key, sizeof(key), "HTTP_%s", name);
	return FCGX_GetParam(key, ((FCGX_Request *)req->fcgi)->envp);
}

enum lang
req_lang(struct req *req, bool *given)
{
	enum lang l = LANG_EN;
	bool ok = lang_parse(req_query(req, "lang"), &l) == 0 ||
	    lang_parse(req_header(req, "X_DBTREE_LANG"), &l) == 0;

	if (given)
		*given = ok;
	return l;
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
	    "X-Request-Id: %s\r\nX-Trace-Id: %s\r\n%s", status,
	    reason(status), req->request_id, trace_id_hex(),
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
	int n;

	if (info->http_status >= 500)
		text = info->message;	/* never leak internals */
	n = snprintf(msg, sizeof(msg), "[%s] ", info->name);
	/* a long text is cut, on a character boundary: it may echo input */
	utf8_copy(msg + n, sizeof(msg) - (size_t)n, text);
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
	struct buf text = BUF_INIT(1 << 16);
	va_list ap;
	int ret;

	va_start(ap, fmt);
	buf_vaddf(&text, fmt, ap);
	va_end(ap);
	ret = resp_error_obj(req, e, data, buf_cstr(&text));
	buf_release(&text);
	return ret;
}

int
resp_jget_error(struct req *req, int jget_result, const char *param)
{
	return resp_error(req, jget_result == JGET_MISSING ?
	    ERR_MISSING_PARAMETER : ERR_INVALID_PARAMETER, param);
}
