/*
 * libFuzzer target for the JSON input path: jget_parse_object on the raw
 * bytes, then every getter on every key of what it returns, checking
 * that a getter's OK result keeps its promises (type, bounds, no NUL) and
 * that every key and string of the object is UTF-8 text (base/utf8.h).
 */
#include <json.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/jget.h"
#include "base/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static void check_getters(struct json_object *obj, const char *key,
			  int depth);

/* jget.h: every string under v, keys included, is text. */
static void
check_text(struct json_object *v)
{
	if (json_object_is_type(v, json_type_string))
		MUST(utf8_is_text(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)));
	if (json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++)
			check_text(json_object_array_get_idx(v, i));
	if (json_object_is_type(v, json_type_object)) {
		struct json_object_iterator it = json_object_iter_begin(v);
		struct json_object_iterator end = json_object_iter_end(v);

		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it)) {
			const char *key = json_object_iter_peek_name(&it);

			MUST(utf8_is_text(key, strlen(key)));
			check_text(json_object_iter_peek_value(&it));
		}
	}
}

static void
check_every_key(struct json_object *obj, int depth)
{
	struct json_object_iterator it = json_object_iter_begin(obj);
	struct json_object_iterator end = json_object_iter_end(obj);

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		check_getters(obj, json_object_iter_peek_name(&it), depth);
}

static void
check_getters(struct json_object *obj, const char *key, int depth)
{
	const char *s = NULL;
	int64_t i = 0;
	double d = 0;
	bool b = false;
	struct json_object *sub = NULL;
	int r;

	r = jget_str(obj, key, 64, &s);
	MUST(r == JGET_OK || r == JGET_MISSING || r == JGET_INVALID);
	if (r == JGET_OK)
		MUST(s && strlen(s) >= 1 && strlen(s) <= 64);
	if (jget_str_opt(obj, key, 16, true, &s) == JGET_OK)
		MUST(s && strlen(s) <= 16);
	if (jget_i64(obj, key, -1000, 1000, &i) == JGET_OK)
		MUST(i >= -1000 && i <= 1000);
	if (jget_i64(obj, key, INT64_MIN, INT64_MAX, &i) == JGET_OK)
		MUST(i != INT64_MIN && i != INT64_MAX);
	if (jget_double(obj, key, -1e9, 1e9, &d) == JGET_OK)
		MUST(isfinite(d) && d >= -1e9 && d <= 1e9);
	r = jget_bool(obj, key, &b);
	MUST(r == JGET_OK || r == JGET_MISSING || r == JGET_INVALID);
	if (jget_object(obj, key, &sub) == JGET_OK) {
		MUST(json_object_is_type(sub, json_type_object));
		if (depth < JGET_MAX_DEPTH)
			check_every_key(sub, depth + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	struct json_object *obj;

	obj = jget_parse_object((const char *)data, size, &why);
	if (!obj) {
		MUST(why && why[0]);
		return 0;
	}
	MUST(json_object_is_type(obj, json_type_object));
	check_text(obj);
	check_every_key(obj, 1);
	check_getters(obj, "absent-key", 1);
	json_object_put(obj);
	return 0;
}
