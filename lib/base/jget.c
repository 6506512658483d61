/*
 * Strict parsing and typed getters over json-c.  json-c types 5.0 and 1e3
 * as doubles, so they are refused where an integer is asked for; values
 * beyond int64 saturate and are refused too.
 */
#include <ctype.h>
#include <json.h>
#include <math.h>
#include <string.h>

#include "base/jget.h"
#include "base/utf8.h"

static int
hex4(const unsigned char *s)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		int c = s[i];

		if (!isxdigit(c))
			return -1;
		v = v * 16 + (isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	return v;
}

/* Length of the escape at s[0..n) (s[0] is the backslash), or 0 for a
 * "\u" escape json-c would quietly change: \u0000 (it cuts a key there)
 * and a surrogate without its other half (it becomes U+FFFD).  Other
 * escapes are json-c's to check. */
static size_t
escape_len(const unsigned char *s, size_t n)
{
	int u, low;

	if (n < 2 || s[1] != 'u')
		return 2;
	if (n < 6 || (u = hex4(s + 2)) <= 0)
		return 0;
	if (u >= 0xdc00 && u <= 0xdfff)
		return 0;
	if (u < 0xd800 || u > 0xdbff)
		return 6;
	if (n < 12 || s[6] != '\\' || s[7] != 'u')
		return 0;
	low = hex4(s + 8);
	return low >= 0xdc00 && low <= 0xdfff ? 12 : 0;
}

/* Index just past the string opening at s[i], or 0 when it is not one. */
static size_t
string_end(const unsigned char *s, size_t i, size_t n)
{
	size_t len;

	for (i++; i < n;) {
		if (s[i] == '"')
			return i + 1;
		if (s[i] < 0x20)
			return 0;
		len = s[i] == '\\' ? escape_len(s + i, n - i) :
		    utf8_seq_len((const char *)s + i, n - i);
		if (len == 0)
			return 0;
		i += len;
	}
	return 0;
}

static size_t
digits(const unsigned char *s, size_t i, size_t n)
{
	size_t start = i;

	while (i < n && isdigit(s[i]))
		i++;
	return i > start ? i : 0;
}

/* Index past a JSON number at s[i]: -?(0|[1-9][0-9]*)(.[0-9]+)?
 * ([eE][+-]?[0-9]+)?, or 0. */
static size_t
number_end(const unsigned char *s, size_t i, size_t n)
{
	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (!(i = digits(s, i, n)))
		return 0;
	if (i < n && s[i] == '.' && !(i = digits(s, i + 1, n)))
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!(i = digits(s, i, n)))
			return 0;
	}
	return i < n && (isalnum(s[i]) || s[i] == '.') ? 0 : i;
}

static size_t
word_end(const unsigned char *s, size_t i, size_t n)
{
	static const char *const words[] = { "true", "false", "null" };

	for (size_t w = 0; w < 3; w++) {
		size_t len = strlen(words[w]);

		if (n - i >= len && memcmp(s + i, words[w], len) == 0 &&
		    (i + len == n || !isalnum(s[i + len])))
			return i + len;
	}
	return 0;
}

/* json-c's strict mode still takes NaN, Infinity, "1.", "00", single
 * quotes, raw control characters, overlong UTF-8, \u0000 and lone
 * surrogates: check the tokens ourselves first, json-c then checks the
 * structure. */
static bool
is_strict_json(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (s[i] == '"')
			i = string_end(s, i, n);
		else if (s[i] == '-' || isdigit(s[i]))
			i = number_end(s, i, n);
		else if (isalpha(s[i]))
			i = word_end(s, i, n);
		else if (s[i] && strchr("{}[],: \t\r\n", s[i]))
			i++;
		else
			return false;
		if (i == 0)
			return false;
	}
	return true;
}

struct json_object *
jget_parse_object(const char *text, size_t len, const char **why)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error err;
	const char *reason = NULL;
	bool at_end = false;

	if (!is_strict_json((const unsigned char *)text, len)) {
		if (why)
			*why = "body is not valid JSON";
		return NULL;
	}
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
