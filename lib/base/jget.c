/*
 * Strict parsing and typed getters over json-c.  json-c types 5.0 and 1e3
 * as doubles, so they are refused where an integer is asked for; values
 * beyond int64 saturate and are refused too.
 */
#include <json.h>
#include <math.h>
#include <string.h>

#include "base/jget.h"

struct json_object *
jget_parse_object(const char *text, size_t len, const char **why)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error err;
	const char *reason = NULL;
	bool at_end = false;

	tok = json_tokener_new_ex(JGET_MAX_DEPTH);
	if (!tok) {
		if (why)
			*why = "out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	err = json_tokener_get_error(tok);
	if (!obj && err == json_tokener_continue) {
		/* a bare number, true or null ends only at end of input */
		obj = json_tokener_parse_ex(tok, "", 1);
		err = json_tokener_get_error(tok);
		at_end = true;
	}
	if (err != json_tokener_success)
		reason = "body is not valid JSON";
	else if (!at_end && json_tokener_get_parse_end(tok) != len)
		reason = "trailing data after the JSON value";
	else if (!json_object_is_type(obj, json_type_object))
		reason = "body must be a JSON object";
	json_tokener_free(tok);
	if (reason) {
		json_object_put(obj);
		if (why)
			*why = reason;
		return NULL;
	}
	return obj;
}

static struct json_object *
field(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (!obj || !json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;	/* NULL too when the value is JSON null */
}

int
jget_str_opt(struct json_object *obj, const char *key, size_t maxlen,
	     bool allow_empty, const char **out)
{
	struct json_object *v = field(obj, key);
	size_t len;

	if (!v)
		return JGET_MISSING;
	if (!json_object_is_type(v, json_type_string))
		return JGET_INVALID;
	len = (size_t)json_object_get_string_len(v);
	if (len > maxlen || (len == 0 && !allow_empty))
		return JGET_INVALID;
	if (strlen(json_object_get_string(v)) != len)
		return JGET_INVALID;	/* embedded NUL */
	*out = json_object_get_string(v);
	return JGET_OK;
}

int
jget_str(struct json_object *obj, const char *key, size_t maxlen,
	 const char **out)
{
	return jget_str_opt(obj, key, maxlen, false, out);
}

int
jget_i64(struct json_object *obj, const char *key, int64_t min, int64_t max,
	 int64_t *out)
{
	struct json_object *v = field(obj, key);
	int64_t x;

	if (!v)
		return JGET_MISSING;
	/* 5.0 and 1e3 parse as doubles, so only integer text gets here */
	if (!json_object_is_type(v, json_type_int))
		return JGET_INVALID;
	x = json_object_get_int64(v);
	if (x < min || x > max || x == INT64_MAX || x == INT64_MIN)
		return JGET_INVALID;
	*out = x;
	return JGET_OK;
}

int
jget_double(struct json_object *obj, const char *key, double min,
	    double max, double *out)
{
	struct json_object *v = field(obj, key);
	double x;

	if (!v)
		return JGET_MISSING;
	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return JGET_INVALID;
	x = json_object_get_double(v);
	if (!isfinite(x) || x < min || x > max)
		return JGET_INVALID;
	*out = x;
	return JGET_OK;
}

int
jget_bool(struct json_object *obj, const char *key, bool *out)
{
	struct json_object *v = field(obj, key);

	if (!v)
		return JGET_MISSING;
	if (!json_object_is_type(v, json_type_boolean))
		return JGET_INVALID;
	*out = json_object_get_boolean(v);
	return JGET_OK;
}

int
jget_object(struct json_object *obj, const char *key,
	    struct json_object **out)
{
	struct json_object *v = field(obj, key);

	if (!v)
		return JGET_MISSING;
	if (!json_object_is_type(v, json_type_object))
		return JGET_INVALID;
	*out = v;
	return JGET_OK;
}
