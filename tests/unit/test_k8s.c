/*
 * Unit tests for net/k8s: how one page of a list answer is read
 * (k8s_list_page), the parsing under k8s_list and k8s_list_each.  The
 * exchanges themselves, paging and the 410 restart are tested against the
 * API stand-in (tests/kubernetes).
 */
#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "harness.h"
#include "net/k8s.h"

#define PODS "/api/v1/namespaces/dbtree/pods"

static int
page(const char *body, struct json_object *items, char **cont)
{
	return k8s_list_page(PODS, body, strlen(body), items, cont);
}

static const char *
name_at(struct json_object *items, size_t i)
{
	struct json_object *m, *n;

	if (!json_object_object_get_ex(json_object_array_get_idx(items, i),
	    "metadata", &m) || !json_object_object_get_ex(m, "name", &n))
		return "";
	return json_object_get_string(n);
}

/* Pages append in order; the token of the last page is NULL. */
static void
test_pages_append(void)
{
	struct json_object *items = json_object_new_array();
	char *cont = NULL;

	CHECK_INT(page("{\"kind\": \"PodList\", \"metadata\": {\"continue\":"
	    " \"tok-1\", \"remainingItemCount\": 1}, \"items\": [{\"metadata\":"
	    " {\"name\": \"a\"}}, {\"metadata\": {\"name\": \"b\"}}]}", items,
	    &cont), 0);
	if (CHECK(cont != NULL))
		CHECK_STR(cont, "tok-1");
	free(cont);
	CHECK_INT(page("{\"metadata\": {\"continue\": \"\"}, \"items\":"
	    " [{\"metadata\": {\"name\": \"c\"}}]}", items, &cont), 0);
	CHECK(cont == NULL);
	CHECK_INT(json_object_array_length(items), 3);
	CHECK_STR(name_at(items, 0), "a");
	CHECK_STR(name_at(items, 2), "c");
	json_object_put(items);
}

/* An empty list may say "items": null, or leave items out. */
static void
test_empty_pages(void)
{
	struct json_object *items = json_object_new_array();
	char *cont = NULL;

	CHECK_INT(page("{\"metadata\": {}, \"items\": null}", items, &cont),
	    0);
	CHECK(cont == NULL);
	CHECK_INT(page("{\"metadata\": {\"continue\": 5}}", items, &cont), 0);
	CHECK(cont == NULL);	/* a token that is not a string: last page */
	CHECK_INT(json_object_array_length(items), 0);
	json_object_put(items);
}

/* Not a list: -1, nothing appended, no token. */
static void
test_bad_pages(void)
{
	static const char *const bad[] = {
		"", "[]", "{\"items\": {}}", "{\"items\": 3}", "{\"items\": [",
		"{\"metadata\": {\"continue\": \"x\"}, \"items\": \"no\"}",
	};
	static char sentinel[] = "sentinel";
	struct json_object *items = json_object_new_array();

	json_object_array_add(items, json_object_new_string("earlier"));
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char *cont = sentinel;

		CHECK_INT(page(bad[i], items, &cont), -1);
		CHECK(cont == NULL);
	}
	CHECK_INT(json_object_array_length(items), 1);
	json_object_put(items);
}

static const struct test_case cases[] = {
	{ "pages_append", test_pages_append },
	{ "empty_pages", test_empty_pages },
	{ "bad_pages", test_bad_pages },
};

int
main(void)
{
	log_set_level((enum log_level)(LOG_LEVEL_ERR - 1));	/* quiet */
	return harness_run("k8s", cases, ARRAY_LEN(cases));
}
