/*
 * The router: a linear scan of the group's table (a pool has a handful of
 * routes, so a scan beats any structure).  A path that matches a pattern
 * with another method yields 405 with the allowed methods.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "web/route.h"

static bool
is_param_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* Matches one placeholder at *path; advances both cursors. */
static bool
match_param(const char **pat, const char **path, struct route_params *rp)
{
	const char *name = *pat + 1;
	size_t name_len = strcspn(name, "/");
	size_t len = 0;

	while ((*path)[len] && (*path)[len] != '/') {
		if (!is_param_char((*path)[len]) || len >= ROUTE_PARAM_MAX)
			return false;
		len++;
	}
	if (len == 0 || rp->n >= ROUTE_MAX_PARAMS)
		return false;
	rp->p[rp->n].name = name;
	rp->p[rp->n].name_len = name_len;
	memcpy(rp->p[rp->n].value, *path, len);
	rp->p[rp->n].value[len] = '\0';
	rp->n++;
	*pat = name + name_len;
	*path += len;
	return true;
}

static bool
match(const char *pat, const char *path, struct route_params *rp)
{
	rp->n = 0;
	while (*pat) {
		if (*pat == ':' && pat[-1] == '/') {
			if (!match_param(&pat, &path, rp))
				return false;
			continue;
		}
		if (*pat != *path)
			return false;
		pat++;
		path++;
	}
	return *path == '\0';
}

static void
allow_add(char *allow, size_t size, const char *method)
{
	size_t len = strlen(allow);

	if (strstr(allow, method))
		return;
	snprintf(allow + len, size - len, "%s%s", len ? ", " : "", method);
}

int
route_find(const struct route *routes, size_t n, const char *method,
	   const char *path, size_t *index, struct route_params *params,
	   char *allow, size_t allow_size)
{
	struct route_params scratch;
	bool path_seen = false;

	allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!match(routes[i].pattern, path, &scratch))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			*index = i;
			*params = scratch;
			return ROUTE_FOUND;
		}
		path_seen = true;
		allow_add(allow, allow_size, routes[i].method);
	}
	return path_seen ? ROUTE_NO_METHOD : ROUTE_NO_PATH;
}
