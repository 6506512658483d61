/*
 * libFuzzer target for the router: the input, cut at its first NUL, is
 * the path, tried with several methods against a fixed table.  Checks
 * what route.h promises about captures and the Allow list.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(cond) do { if (!(cond)) __builtin_trap(); } while (0)
#define N(a) (sizeof(a) / sizeof((a)[0]))

static int
handler(struct req *req)
{
	(void)req;
	return 200;
}

static const struct route routes[] = {
	{ "GET", "/api/health", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "GET", "/api/db/instances", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "POST", "/api/db/instances", handler, ROUTE_PUBLIC, ROUTE_JSON_BODY,
	  LIMIT_NONE },
	{ "GET", "/api/db/instances/:id", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "DELETE", "/api/db/instances/:id", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "POST", "/api/db/instances/:id/start", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "GET", "/api/db/instances/:id/backups/:backup", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "GET", "/api/db/:a/:b/:c/:d", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "GET", "/v1/items/:id", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "POST", "/v1/items/new", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
	{ "GET", "/", handler, ROUTE_PUBLIC, 0, LIMIT_NONE },
};

static void
check_found(const char *method, const char *path, size_t index,
	    const struct route_params *rp)
{
	MUST(index < N(routes));
	MUST(strcmp(routes[index].method, method) == 0);
	MUST(rp->n >= 0 && rp->n <= ROUTE_MAX_PARAMS);
	for (int i = 0; i < rp->n; i++) {
		const char *v = rp->p[i].value;
		size_t len = strnlen(v, ROUTE_PARAM_MAX + 1);

		MUST(len >= 1 && len <= ROUTE_PARAM_MAX);
		MUST(strspn(v, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == len);
		MUST(strstr(path, v) != NULL);
		MUST(rp->p[i].name > routes[index].pattern);
		MUST(rp->p[i].name_len >= 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "POST", "DELETE",
		"PATCH" };
	char *path = malloc(size + 1);

	if (!path)
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	for (size_t m = 0; m < N(methods); m++) {
		struct route_params rp;
		size_t index = (size_t)-1;
		char allow[64];
		int r = route_find(routes, N(routes), methods[m], path,
		    &index, &rp, allow, sizeof(allow));

		MUST(memchr(allow, '\0', sizeof(allow)) != NULL);
		if (r == ROUTE_FOUND)
			check_found(methods[m], path, index, &rp);
		else if (r == ROUTE_NO_METHOD)
			MUST(allow[0] != '\0');
		else
			MUST(r == ROUTE_NO_PATH && allow[0] == '\0');
	}
	free(path);
	return 0;
}
