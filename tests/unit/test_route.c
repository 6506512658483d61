/*
 * The router against a fixed table: exact segments, :param capture and its
 * limits, 404 against 405 with the Allow list, and table order.
 */
#include <string.h>

#include "base/xalloc.h"
#include "harness.h"
#include "web/route.h"

static int
handler(struct req *req)
{
	(void)req;
	return 200;
}

static const struct route routes[] = {
	/* 0 */ { "GET", "/api/health", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	/* 1 */ { "GET", "/api/db/instances", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	/* 2 */ { "POST", "/api/db/instances", handler, ROUTE_PUBLIC, ROUTE_JSON_BODY, LIMIT_NONE },
	/* 3 */ { "GET", "/api/db/instances/:id", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	/* 4 */ { "DELETE", "/api/db/instances/:id", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	/* 5 */ { "POST", "/api/db/instances/:id/start", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	/* 6 */ { "GET", "/api/db/instances/:id/backups/:backup", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	/* 7 */ { "GET", "/api/db/:a/:b/:c/:d", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	/* 8 */ { "GET", "/v1/items/:id", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	/* 9 */ { "GET", "/v1/items/new", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },	/* shadowed by 8 */
	/* 10 */ { "POST", "/v1/items/new", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	/* 11 */ { "GET", "/v1/new/thing", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	/* 12 */ { "GET", "/v1/:kind/thing", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	/* 13 */ { "GET", "/", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
};

struct found {
	int result;
	size_t index;
	struct route_params params;
	char allow[64];
};

static int
find(const char *method, const char *path, struct found *f)
{
	memset(f, 0, sizeof(*f));
	f->index = (size_t)-1;
	f->result = route_find(routes, ARRAY_LEN(routes), method, path,
	    &f->index, &f->params, f->allow, sizeof(f->allow));
	return f->result;
}

/* The value captured for :name, or NULL. */
static const char *
param(const struct found *f, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < f->params.n && i < ROUTE_MAX_PARAMS; i++)
		if (f->params.p[i].name_len == n &&
		    strncmp(f->params.p[i].name, name, n) == 0)
			return f->params.p[i].value;
	return NULL;
}

static void
test_exact(void)
{
	static const struct {
		const char *method, *path;
		size_t index;
	} t[] = {
		{ "GET", "/api/health", 0 },
		{ "GET", "/api/db/instances", 1 },
		{ "POST", "/api/db/instances", 2 },
		{ "GET", "/", 13 },
		{ "GET", "/v1/new/thing", 11 },
	};
	struct found f;

	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		if (!CHECK_INT(find(t[i].method, t[i].path, &f), ROUTE_FOUND))
			fprintf(stderr, "  %s %s\n", t[i].method, t[i].path);
		CHECK_INT(f.index, t[i].index);
		CHECK_INT(f.params.n, 0);
	}
}

/* Whole paths only: no prefix, no extension, no case folding. */
static void
test_exact_no_near_miss(void)
{
	static const char *const paths[] = {
		"/api/healt", "/api/healthz", "/api/health/x", "/API/health",
		"/api//health", "//api/health", "api/health", "",
		"/api/health?x=1", "/api/db", "/api",
	};
	struct found f;

	for (size_t i = 0; i < ARRAY_LEN(paths); i++)
		if (!CHECK_INT(find("GET", paths[i], &f), ROUTE_NO_PATH))
			fprintf(stderr, "  path '%s' -> %zu\n", paths[i],
			    f.index);
}

static void
test_param_capture(void)
{
	struct found f;

	CHECK_INT(find("GET", "/api/db/instances/db-42", &f), ROUTE_FOUND);
	CHECK_INT(f.index, 3);
	CHECK_INT(f.params.n, 1);
	CHECK_STR(param(&f, "id"), "db-42");
	CHECK(param(&f, "i") == NULL);
	CHECK(param(&f, "idx") == NULL);

	CHECK_INT(find("GET", "/api/db/instances/A1/backups/b-7", &f),
	    ROUTE_FOUND);
	CHECK_INT(f.index, 6);
	CHECK_INT(f.params.n, 2);
	CHECK_STR(param(&f, "id"), "A1");
	CHECK_STR(param(&f, "backup"), "b-7");

	CHECK_INT(find("POST", "/api/db/instances/x/start", &f), ROUTE_FOUND);
	CHECK_INT(f.index, 5);
	CHECK_STR(param(&f, "id"), "x");
}

static void
test_param_four(void)
{
	struct found f;

	CHECK_INT(find("GET", "/api/db/1/2/3/4", &f), ROUTE_FOUND);
	CHECK_INT(f.index, 7);
	CHECK_INT(f.params.n, 4);
	CHECK_STR(param(&f, "a"), "1");
	CHECK_STR(param(&f, "b"), "2");
	CHECK_STR(param(&f, "c"), "3");
	CHECK_STR(param(&f, "d"), "4");
}

/* Only [A-Za-z0-9-] may be captured. */
static void
test_param_charset(void)
{
	static const char *const good[] = {
		"abcxyz", "ABCXYZ", "0123456789", "-", "a-B-9", "---",
	};
	static const char *const bad[] = {
		"a_b", "a.b", "a b", "a%20b", "a+b", "a~b", "a:b", "a@b",
		"..", ".", "%2e%2e", "\xc3\xa9", "a\tb", "a;b", "a?b", "a#b",
		"a\\b", "a*b",
	};
	char path[128];
	struct found f;

	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		snprintf(path, sizeof(path), "/api/db/instances/%s", good[i]);
		if (!CHECK_INT(find("GET", path, &f), ROUTE_FOUND))
			fprintf(stderr, "  refused '%s'\n", good[i]);
		CHECK_STR(param(&f, "id"), good[i]);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(path, sizeof(path), "/api/db/instances/%s", bad[i]);
		if (!CHECK_INT(find("GET", path, &f), ROUTE_NO_PATH))
			fprintf(stderr, "  accepted '%s'\n", bad[i]);
	}
}

static void
test_param_length(void)
{
	char value[ROUTE_PARAM_MAX + 2];
	char path[128];
	struct found f;

	memset(value, 'a', ROUTE_PARAM_MAX);
	value[ROUTE_PARAM_MAX] = '\0';
	snprintf(path, sizeof(path), "/api/db/instances/%s", value);
	CHECK_INT(find("GET", path, &f), ROUTE_FOUND);
	CHECK_INT(strlen(f.params.p[0].value), 64);
	CHECK_STR(param(&f, "id"), value);

	snprintf(path, sizeof(path), "/api/db/instances/%s/start", value);
	CHECK_INT(find("POST", path, &f), ROUTE_FOUND);
	CHECK_STR(param(&f, "id"), value);

	value[ROUTE_PARAM_MAX] = 'a';
	value[ROUTE_PARAM_MAX + 1] = '\0';
	snprintf(path, sizeof(path), "/api/db/instances/%s", value);
	CHECK_INT(find("GET", path, &f), ROUTE_NO_PATH);
	snprintf(path, sizeof(path), "/api/db/instances/%s/start", value);
	CHECK_INT(find("POST", path, &f), ROUTE_NO_PATH);
}

/* An empty segment never fills a parameter. */
static void
test_param_empty(void)
{
	static const char *const paths[] = {
		"/api/db/instances/",
		"/api/db/instances//start",
		"/api/db/instances//backups/b",
		"/api/db/instances/a/backups/",
		"/api/db/1//3/4",
		"/api/db/1/2/3/",
	};
	struct found f;

	for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
		bool ok = CHECK_INT(find("GET", paths[i], &f), ROUTE_NO_PATH);

		ok &= CHECK_INT(find("POST", paths[i], &f), ROUTE_NO_PATH);
		if (!ok)
			fprintf(stderr, "  path '%s'\n", paths[i]);
	}
}

static void
test_no_trailing_slash(void)
{
	static const char *const paths[] = {
		"/api/health/", "/api/db/instances/", "/api/db/instances/x/",
		"/api/db/instances/x/start/", "/api/db/1/2/3/4/",
		"/api/db/instances/x//",
	};
	struct found f;

	for (size_t i = 0; i < ARRAY_LEN(paths); i++)
		if (!CHECK_INT(find("GET", paths[i], &f), ROUTE_NO_PATH))
			fprintf(stderr, "  path '%s'\n", paths[i]);
	/* and the other way round: a route does not match without it */
	CHECK_INT(find("GET", "", &f), ROUTE_NO_PATH);
}

static void
test_405_allow(void)
{
	static const struct {
		const char *method, *path, *allow;
	} t[] = {
		{ "DELETE", "/api/db/instances", "GET, POST" },
		{ "PUT", "/api/db/instances", "GET, POST" },
		{ "get", "/api/db/instances", "GET, POST" },
		{ "POST", "/api/health", "GET" },
		{ "PATCH", "/api/db/instances/x", "GET, DELETE" },
		{ "GET", "/api/db/instances/x/start", "POST" },
		{ "DELETE", "/v1/items/new", "GET, POST" },	/* no repeat */
	};
	struct found f;

	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		if (!CHECK_INT(find(t[i].method, t[i].path, &f),
		    ROUTE_NO_METHOD))
			fprintf(stderr, "  %s %s\n", t[i].method, t[i].path);
		CHECK_STR(f.allow, t[i].allow);
	}
}

static void
test_404(void)
{
	static const struct {
		const char *method, *path;
	} t[] = {
		{ "GET", "/nope" },
		{ "DELETE", "/nope" },
		{ "GET", "/api/db/instances/x/stop" },
		{ "POST", "/api/db/instances/x/y/z/w" },
	};
	struct found f;

	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		memset(f.allow, 'Z', sizeof(f.allow));
		CHECK_INT(find(t[i].method, t[i].path, &f), ROUTE_NO_PATH);
		CHECK_STR(f.allow, "");
	}
}

/* The first matching route in table order wins, whatever its kind. */
static void
test_first_match_wins(void)
{
	struct found f;

	/* 8 (/v1/items/:id) is listed before 9 (/v1/items/new) */
	CHECK_INT(find("GET", "/v1/items/new", &f), ROUTE_FOUND);
	CHECK_INT(f.index, 8);
	CHECK_STR(param(&f, "id"), "new");
	/* another method goes on down the table to 10 */
	CHECK_INT(find("POST", "/v1/items/new", &f), ROUTE_FOUND);
	CHECK_INT(f.index, 10);
	CHECK_INT(f.params.n, 0);
	/* 11 (exact) is listed before 12 (:kind) */
	CHECK_INT(find("GET", "/v1/new/thing", &f), ROUTE_FOUND);
	CHECK_INT(f.index, 11);
	CHECK_INT(find("GET", "/v1/old/thing", &f), ROUTE_FOUND);
	CHECK_INT(f.index, 12);
	CHECK_STR(param(&f, "kind"), "old");
}

/* Parameters left by a route that failed further on do not leak into
 * the one that matched. */
static void
test_params_from_match_only(void)
{
	static const struct route table[] = {
		{ "GET", "/x/:a/one", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
		{ "GET", "/x/b/two", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	};
	struct route_params rp;
	size_t index = 99;
	char allow[32];

	memset(&rp, 0x5a, sizeof(rp));
	CHECK_INT(route_find(table, ARRAY_LEN(table), "GET", "/x/b/two",
	    &index, &rp, allow, sizeof(allow)), ROUTE_FOUND);
	CHECK_INT(index, 1);
	CHECK_INT(rp.n, 0);
}

/* A short Allow buffer is cut, never overrun. */
static void
test_allow_small_buffer(void)
{
	struct {
		char allow[6];
		char guard[8];
	} s;
	struct route_params rp;
	size_t index;

	memset(&s, 'G', sizeof(s));
	CHECK_INT(route_find(routes, ARRAY_LEN(routes), "PUT",
	    "/api/db/instances", &index, &rp, s.allow, sizeof(s.allow)),
	    ROUTE_NO_METHOD);
	CHECK(memchr(s.allow, '\0', sizeof(s.allow)) != NULL);
	CHECK(strncmp(s.allow, "GET", 3) == 0);
	CHECK(memcmp(s.guard, "GGGGGGGG", sizeof(s.guard)) == 0);
}

static const struct test_case cases[] = {
	{ "exact", test_exact },
	{ "exact_no_near_miss", test_exact_no_near_miss },
	{ "param_capture", test_param_capture },
	{ "param_four", test_param_four },
	{ "param_charset", test_param_charset },
	{ "param_length", test_param_length },
	{ "param_empty", test_param_empty },
	{ "no_trailing_slash", test_no_trailing_slash },
	{ "405_allow", test_405_allow },
	{ "404", test_404 },
	{ "first_match_wins", test_first_match_wins },
	{ "params_from_match_only", test_params_from_match_only },
	{ "allow_small_buffer", test_allow_small_buffer },
};

int
main(void)
{
	return harness_run("route", cases, ARRAY_LEN(cases));
}
