/*
 * Routing on method + path.  Patterns are exact segments with ":name"
 * placeholders, e.g. "/api/db/instances/:id"; a placeholder matches one
 * segment of [A-Za-z0-9-], 1..64 characters.  No trailing-slash tolerance.
 */
#ifndef WEB_ROUTE_H
#define WEB_ROUTE_H

#include <stddef.h>

#include "web/limit.h"

struct req;

/* Who may call a route; the dispatcher checks it before the handler. */
enum route_access {
	ROUTE_PUBLIC,		/* anyone */
	ROUTE_USER,		/* a live session: req->user_id is set */
	ROUTE_TOKEN,		/* a well-formed bearer token in req->token;
				 * the handler's domain call checks the
				 * session inside its own statement */
};

enum route_flags {
	ROUTE_JSON_BODY = 1 << 0,	/* body parsed before the handler */
};

/* A handler answers the request and returns the HTTP status it sent, or
 * ROUTE_FAILED without answering when a domain call failed (already
 * logged): the dispatcher answers every such failure the same way (503). */
typedef int (*route_fn)(struct req *req);
#define ROUTE_FAILED (-1)

struct route {
	const char *method;
	const char *pattern;
	route_fn fn;
	enum route_access access;
	unsigned flags;
	enum route_limit limit;	/* per-person limit class (web/limit.h) */
};

#define ROUTE_MAX_PARAMS 4
#define ROUTE_PARAM_MAX 64

struct route_params {
	int n;
	struct {
		const char *name;	/* points into the pattern */
		size_t name_len;
		char value[ROUTE_PARAM_MAX + 1];
	} p[ROUTE_MAX_PARAMS];
};

enum route_result {
	ROUTE_FOUND = 0,
	ROUTE_NO_PATH = 1,	/* 404 */
	ROUTE_NO_METHOD = 2,	/* 405: allow lists the methods */
};

/* Finds the route for method and path; on ROUTE_FOUND sets *index and
 * fills params; on ROUTE_NO_METHOD writes "GET, POST" into allow. */
int route_find(const struct route *routes, size_t n, const char *method,
	       const char *path, size_t *index, struct route_params *params,
	       char *allow, size_t allow_size);

#include "base/banned.h"
#endif
