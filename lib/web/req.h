/*
 * One HTTP request as seen by a handler, and the ways to answer it.
 *
 * A handler reads req->json (for ROUTE_JSON_BODY routes, always an object),
 * req_param() and req_query(), calls domain code with req->app->db and
 * friends, and answers exactly once with resp_json(), resp_empty() or
 * resp_error*(), returning the status they return.  Strings from req_*
 * live until the request ends (the request arena).
 */
#ifndef WEB_REQ_H
#define WEB_REQ_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/lang.h"
#include "web/errors.h"
#include "web/route.h"

struct app;
struct json_object;

struct req {
	struct app *app;
	void *fcgi;			/* FCGX_Request *, web layer only */
	const char *method;
	const char *path;		/* decoded, normalised by nginx */
	const char *query;		/* raw query string, "" if none */
	const char *request_id;
	const char *client_addr;
	const struct route *route;
	struct route_params params;
	const char *user_id;		/* ROUTE_USER routes: the session's */
	const char *token;		/* ROUTE_USER and ROUTE_TOKEN routes */
	char token_key[65];	/* its SHA-256 in hex once auth_user hashed it */
	struct json_object *json;	/* owned; put by the worker */
	struct arena arena;
	struct buf headers;		/* extra response headers */
	int status;			/* 0 until answered */
};

/* Request-lifetime copies. */
char *req_strdup(struct req *req, const char *s);
char *req_printf(struct req *req, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The value of :name in the route pattern, or NULL. */
const char *req_param(const struct req *req, const char *name);
/* The percent-decoded value of query parameter name, or NULL when absent;
 * NULL too when it does not decode to text (base/utf8.h), which cannot
 * happen in a handler: see req_check_input(). */
const char *req_query(struct req *req, const char *name);
/* A request header, e.g. req_header(req, "AUTHORIZATION"), or NULL. */
const char *req_header(const struct req *req, const char *name);
/* The language the client asks for: the query parameter lang, else the
 * X-Dbtree-Lang header (the web UI sends it on every request), each read
 * by lang_parse().  English when neither names a language we speak, and
 * then *given (when not NULL) is false.  Accept-Language is not read: a
 * browser sends it unasked, and a client written for the reference must
 * see English. */
enum lang req_lang(struct req *req, bool *given);

/* The one check of client text, run by the worker before any handler:
 * the path (route parameters included), every query key and value once
 * decoded, and every key and string of req->json when it has been parsed
 * must be UTF-8 text without NUL bytes (base/utf8.h).  0, or -1 after
 * answering 400 (1100) with data {"in": "path"|"query"|"body"} and the
 * parameter when it is known and text itself. */
int req_check_input(struct req *req);

/* Adds a response header line ("Retry-After", "42") before answering. */
void resp_header(struct req *req, const char *name, const char *value);
/* Sends obj as JSON (consumes obj; NULL sends the literal null). */
int resp_json(struct req *req, int status, struct json_object *obj);
/* Sends a status without a body (204). */
int resp_empty(struct req *req, int status);
/* Sends text with a content type (e.g. Prometheus metrics). */
int resp_text(struct req *req, int status, const char *content_type,
	      const char *body, size_t len);
/* Sends the error shape for e with its default message; when param is not
 * NULL, data is {"parameter": param}. */
int resp_error(struct req *req, enum err e, const char *param);
/* Same with a message of one's own and optional data (consumed). */
int resp_errorf(struct req *req, enum err e, struct json_object *data,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* For a jget_* result: 1101 when missing, 1100 when invalid. */
int resp_jget_error(struct req *req, int jget_result, const char *param);

#include "base/banned.h"
#endif
