/*
 * Strict JSON input: what jget_parse_object lets through, and what each
 * typed getter makes of every kind of value (missing, invalid, ok).
 */
#include <json.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "base/jget.h"
#include "base/xalloc.h"
#include "harness.h"

/* Literal text with its exact length, so embedded NULs count. */
struct text {
	const char *s;
	size_t len;
};

#define TEXT(lit) { (lit), sizeof(lit) - 1 }

static struct json_object *
parse(const char *s)
{
	return jget_parse_object(s, strlen(s), NULL);
}

/* "label: 'text' (why)" on stderr, bytes outside ASCII as \xNN. */
static void
put_text(const char *label, const struct text *t, const char *why)
{
	fprintf(stderr, "%s: '", label);
	for (size_t i = 0; i < t->len; i++) {
		unsigned char c = (unsigned char)t->s[i];

		if (c < 0x20 || c >= 0x7f)
			fprintf(stderr, "\\x%02x", (unsigned)c);
		else
			fputc(c, stderr);
	}
	fprintf(stderr, "'%s%s%s\n", why ? " (" : "", why ? why : "",
	    why ? ")" : "");
}

/* Each text must be refused, with a reason when one is asked for. */
static void
check_refused(const struct text *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *why = NULL;
		struct json_object *o = jget_parse_object(t[i].s, t[i].len,
		    &why);

		if (CHECK(o == NULL))
			CHECK(why != NULL && why[0] != '\0');
		else
			put_text("  accepted", &t[i], NULL);
		json_object_put(o);
	}
}

static void
check_accepted(const struct text *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *why = NULL;
		struct json_object *o = jget_parse_object(t[i].s, t[i].len,
		    &why);

		if (!CHECK(o != NULL))
			put_text("  refused", &t[i], why);
		else
			CHECK(json_object_is_type(o, json_type_object));
		json_object_put(o);
	}
}

static void
test_parse_objects(void)
{
	static const struct text ok[] = {
		TEXT("{}"),
		TEXT("{\"a\":1,\"b\":\"x\",\"c\":[1,2,{}],\"d\":{\"e\":null}}"),
		TEXT(" \t\r\n{ \"a\" : true } "),
		TEXT("{\"a\":1}\n"),
		TEXT("{\"\xc3\xa9t\xc3\xa9\":"
		    "\"\xe2\x82\xac \xf0\x9f\x8d\x8b\"}"),
		TEXT("{\"a\":\"\\u00e9\\ud83c\\udf4b\"}"),
		TEXT("{\"a\":\"\\uD83C\\uDF4B\\u0001\\uffff\\ud7ff\\ue000\"}"),
	};
	const char *why = "untouched";
	struct json_object *o;

	check_accepted(ok, ARRAY_LEN(ok));
	o = jget_parse_object("{\"a\":1}", 7, &why);
	CHECK(o != NULL);
	CHECK_STR(why, "untouched");	/* why is only set on failure */
	json_object_put(o);
}

static void
test_parse_not_object(void)
{
	static const struct text bad[] = {
		TEXT("[]"), TEXT("[{}]"), TEXT("1"), TEXT("-1.5"), TEXT("0"),
		TEXT("\"x\""), TEXT("null"), TEXT("true"), TEXT("false"),
		TEXT(""), TEXT("   "),
	};

	check_refused(bad, ARRAY_LEN(bad));
}

static void
test_parse_trailing(void)
{
	static const struct text bad[] = {
		TEXT("{}x"), TEXT("{} x"), TEXT("{}{}"), TEXT("{}]"),
		TEXT("{},"), TEXT("{}\0"), TEXT("{}\0{}"), TEXT("{\"a\":1}}"),
		TEXT("{}//"), TEXT("{}null"),
	};

	check_refused(bad, ARRAY_LEN(bad));
}

static void
test_parse_truncated(void)
{
	static const struct text bad[] = {
		TEXT("{"), TEXT("{\"a\""), TEXT("{\"a\":"), TEXT("{\"a\":1"),
		TEXT("{\"a\":\"x"), TEXT("{\"a\":[1,2"), TEXT("{\"a\":tru"),
		TEXT("{\"a\":1,"),
	};

	check_refused(bad, ARRAY_LEN(bad));
}

static void
test_parse_not_strict_json(void)
{
	static const struct text bad[] = {
		TEXT("{a:1}"), TEXT("{'a':'x'}"), TEXT("{\"a\":'x'}"),
		TEXT("{\"a\":1,}"), TEXT("{\"a\":[1,]}"), TEXT("{,}"),
		TEXT("{\"a\":01}"), TEXT("{\"a\":+1}"), TEXT("{\"a\":.5}"),
		TEXT("{\"a\":0x10}"), TEXT("{\"a\":TRUE}"),
		TEXT("{\"a\":None}"),
		TEXT("/* c */{}"), TEXT("{\"a\":1 /* c */}"),
		TEXT("{\"a\"=1}"), TEXT("{\"a\" 1}"), TEXT("{\"a\":\"\\x41\"}"),
		TEXT("\xef\xbb\xbf{}"),	/* a byte-order mark is not JSON */
	};

	check_refused(bad, ARRAY_LEN(bad));
}

static void
test_parse_bad_utf8(void)
{
	static const struct text bad[] = {
		TEXT("{\"a\":\"\xff\"}"),
		TEXT("{\"a\":\"\xfe\"}"),
		TEXT("{\"a\":\"\x80\"}"),		/* lone continuation */
		TEXT("{\"a\":\"\xc3\"}"),		/* truncated sequence */
		TEXT("{\"a\":\"\xe2\x82\"}"),
		TEXT("{\"a\":\"\xc3\x28\"}"),		/* bad continuation */
		TEXT("{\"\xff\":1}"),			/* in a key */
		TEXT("{\"a\":\"\xf8\x88\x80\x80\x80\"}"),	/* 5 bytes */
	};

	check_refused(bad, ARRAY_LEN(bad));
}

/* Raw NUL bytes inside the text end nothing early and are refused. */
static void
test_parse_raw_nul(void)
{
	static const struct text bad[] = {
		TEXT("{\"a\":\"x\0y\"}"), TEXT("{\0}"), TEXT("\0{}"),
	};

	check_refused(bad, ARRAY_LEN(bad));
}

/* An object nesting depth levels: objects in objects, or arrays in one
 * object. */
static void
nested(char *out, size_t size, int depth, bool arrays)
{
	size_t n = 0;

	if (depth < 1 || (size_t)depth * 6 + 8 > size) {
		out[0] = '\0';
		return;
	}
	if (depth == 1 || !arrays) {
		for (int i = 1; i < depth; i++) {
			memcpy(out + n, "{\"a\":", 5);
			n += 5;
		}
		out[n++] = '{';
		for (int i = 0; i < depth; i++)
			out[n++] = '}';
	} else {
		memcpy(out + n, "{\"a\":", 5);
		n += 5;
		for (int i = 1; i < depth; i++)
			out[n++] = '[';
		for (int i = 1; i < depth; i++)
			out[n++] = ']';
		out[n++] = '}';
	}
	out[n] = '\0';
}

static int
depth_of(const char *s)
{
	int d = 0, max = 0;

	for (; *s; s++) {
		if (*s == '{' || *s == '[')
			max = ++d > max ? d : max;
		else if (*s == '}' || *s == ']')
			d--;
	}
	return d == 0 ? max : -1;
}

static void
test_parse_depth(void)
{
	char text[512];
	struct json_object *o;

	for (int depth = 1; depth <= JGET_MAX_DEPTH + 3; depth++) {
		for (int kind = 0; kind < 2; kind++) {
			nested(text, sizeof(text), depth, kind == 1);
			if (!CHECK_INT(depth_of(text), depth))
				continue;
			o = parse(text);
			if (depth <= JGET_MAX_DEPTH)
				CHECK(o != NULL);
			else
				CHECK(o == NULL);
			if ((o != NULL) != (depth <= JGET_MAX_DEPTH))
				fprintf(stderr, "  at depth %d: %s\n", depth,
				    text);
			json_object_put(o);
		}
	}
}

/* The object every getter case reads. */
static const char sample[] =
    "{"
    "\"null\":null,"
    "\"t\":true,\"f\":false,"
    "\"zero\":0,\"neg0\":-0,\"five\":5,\"minus\":-42,"
    "\"five_s\":\"5\",\"five_f\":5.0,\"e3\":1e3,\"E3\":1E3,\"frac\":2.5,"
    "\"big\":9223372036854775806,"
    "\"imax\":9223372036854775807,\"over\":9223372036854775808,"
    "\"huge\":123456789012345678901234567890,"
    "\"small\":-9223372036854775807,"
    "\"imin\":-9223372036854775808,\"under\":-9223372036854775809,"
    "\"dbig\":1e308,"
    "\"s\":\"hello\",\"empty\":\"\",\"utf8\":\"\\u00e9t\\u00e9\","
    "\"esc\":\"a\\\"b\\\\c\\/d\\n\","
    "\"obj\":{\"k\":1},\"arr\":[1,2]"
    "}";

/* The sample, plus strings with NUL bytes that only a built object can
 * hold (jget_parse_object refuses \u0000). */
static struct json_object *
sample_obj(void)
{
	struct json_object *o = parse(sample);

	if (!CHECK(o != NULL))
		return NULL;
	json_object_object_add(o, "nul", json_object_new_string_len("", 1));
	json_object_object_add(o, "mid_nul",
	    json_object_new_string_len("ab\0cd", 5));
	return o;
}

static void
test_i64(void)
{
	static const struct {
		const char *key;
		int64_t min, max;
		int want;
		int64_t value;
	} t[] = {
		{ "five", 0, 10, JGET_OK, 5 },
		{ "zero", 0, 10, JGET_OK, 0 },
		{ "neg0", 0, 10, JGET_OK, 0 },
		{ "minus", -100, 0, JGET_OK, -42 },
		{ "five", 5, 5, JGET_OK, 5 },		/* bounds inclusive */
		{ "five", 6, 10, JGET_INVALID, 0 },
		{ "five", 0, 4, JGET_INVALID, 0 },
		{ "minus", -41, 0, JGET_INVALID, 0 },
		{ "big", INT64_MIN, INT64_MAX, JGET_OK, INT64_MAX - 1 },
		{ "small", INT64_MIN, INT64_MAX, JGET_OK, INT64_MIN + 1 },
		/* json-c saturates beyond int64, so the edges are refused */
		{ "imax", INT64_MIN, INT64_MAX, JGET_INVALID, 0 },
		{ "over", INT64_MIN, INT64_MAX, JGET_INVALID, 0 },
		{ "huge", INT64_MIN, INT64_MAX, JGET_INVALID, 0 },
		{ "imin", INT64_MIN, INT64_MAX, JGET_INVALID, 0 },
		{ "under", INT64_MIN, INT64_MAX, JGET_INVALID, 0 },
		/* never converted from other types */
		{ "five_s", 0, 10, JGET_INVALID, 0 },
		{ "five_f", 0, 10, JGET_INVALID, 0 },
		{ "e3", 0, 10000, JGET_INVALID, 0 },
		{ "E3", 0, 10000, JGET_INVALID, 0 },
		{ "frac", 0, 10, JGET_INVALID, 0 },
		{ "t", 0, 10, JGET_INVALID, 0 },
		{ "obj", 0, 10, JGET_INVALID, 0 },
		{ "arr", 0, 10, JGET_INVALID, 0 },
		{ "empty", 0, 10, JGET_INVALID, 0 },
		/* absent or null */
		{ "nope", 0, 10, JGET_MISSING, 0 },
		{ "null", 0, 10, JGET_MISSING, 0 },
		{ "FIVE", 0, 10, JGET_MISSING, 0 },	/* keys are exact */
	};
	struct json_object *o = sample_obj();

	for (size_t i = 0; i < ARRAY_LEN(t) && o; i++) {
		int64_t got = 777;
		int r = jget_i64(o, t[i].key, t[i].min, t[i].max, &got);

		if (!CHECK_INT(r, t[i].want))
			fprintf(stderr, "  key '%s'\n", t[i].key);
		/* *out is set on success only */
		CHECK_INT(got, r == JGET_OK ? t[i].value : 777);
	}
	json_object_put(o);
}

static void
test_double(void)
{
	static const struct {
		const char *key;
		double min, max;
		int want;
		double value;
	} t[] = {
		{ "frac", 0, 10, JGET_OK, 2.5 },
		{ "five", 0, 10, JGET_OK, 5.0 },	/* an integer is one */
		{ "five_f", 0, 10, JGET_OK, 5.0 },
		{ "e3", 0, 1e3, JGET_OK, 1000.0 },
		{ "minus", -42, -42, JGET_OK, -42.0 },
		{ "dbig", 0, 1e308, JGET_OK, 1e308 },
		{ "frac", 2.6, 10, JGET_INVALID, 0 },
		{ "frac", 0, 2.4, JGET_INVALID, 0 },
		{ "five_s", 0, 10, JGET_INVALID, 0 },
		{ "t", 0, 10, JGET_INVALID, 0 },
		{ "arr", 0, 10, JGET_INVALID, 0 },
		{ "nope", 0, 10, JGET_MISSING, 0 },
		{ "null", 0, 10, JGET_MISSING, 0 },
	};
	struct json_object *o = sample_obj();

	for (size_t i = 0; i < ARRAY_LEN(t) && o; i++) {
		double got = 777;
		int r = jget_double(o, t[i].key, t[i].min, t[i].max, &got);

		if (!CHECK_INT(r, t[i].want))
			fprintf(stderr, "  key '%s'\n", t[i].key);
		CHECK(got == (r == JGET_OK ? t[i].value : 777));
	}
	json_object_put(o);
}

/* Beyond double range: refused by the parser or by the getter. */
static void
test_double_overflow(void)
{
	static const char *const texts[] = {
		"{\"a\":1e400}", "{\"a\":-1e400}", "{\"a\":1E+999}",
	};

	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		struct json_object *o = parse(texts[i]);
		double got = 777;

		if (o)
			CHECK_INT(jget_double(o, "a", -HUGE_VAL, HUGE_VAL,
			    &got), JGET_INVALID);
		CHECK(got == 777);
		json_object_put(o);
	}
}

static void
test_str(void)
{
	static const struct {
		const char *key;
		size_t maxlen;
		int want;
		const char *value;
	} t[] = {
		{ "s", 64, JGET_OK, "hello" },
		{ "s", 5, JGET_OK, "hello" },		/* maxlen inclusive */
		{ "s", 4, JGET_INVALID, NULL },
		{ "utf8", 5, JGET_OK, "\xc3\xa9t\xc3\xa9" },	/* bytes */
		{ "utf8", 4, JGET_INVALID, NULL },
		{ "esc", 64, JGET_OK, "a\"b\\c/d\n" },
		{ "empty", 64, JGET_INVALID, NULL },	/* 1..maxlen */
		{ "nul", 64, JGET_INVALID, NULL },	/* embedded \u0000 */
		{ "mid_nul", 64, JGET_INVALID, NULL },
		{ "five", 64, JGET_INVALID, NULL },
		{ "t", 64, JGET_INVALID, NULL },
		{ "obj", 64, JGET_INVALID, NULL },
		{ "arr", 64, JGET_INVALID, NULL },
		{ "nope", 64, JGET_MISSING, NULL },
		{ "null", 64, JGET_MISSING, NULL },
	};
	struct json_object *o = sample_obj();

	for (size_t i = 0; i < ARRAY_LEN(t) && o; i++) {
		const char *got = "sentinel";
		int r = jget_str(o, t[i].key, t[i].maxlen, &got);

		if (!CHECK_INT(r, t[i].want))
			fprintf(stderr, "  key '%s'\n", t[i].key);
		CHECK_STR(got, r == JGET_OK ? t[i].value : "sentinel");
	}
	json_object_put(o);
}

static void
test_str_opt_empty(void)
{
	static const struct {
		const char *key;
		size_t maxlen;
		bool allow_empty;
		int want;
		const char *value;
	} t[] = {
		{ "empty", 10, true, JGET_OK, "" },
		{ "empty", 0, true, JGET_OK, "" },
		{ "empty", 10, false, JGET_INVALID, NULL },
		{ "s", 10, true, JGET_OK, "hello" },
		{ "s", 0, true, JGET_INVALID, NULL },
		{ "s", 10, false, JGET_OK, "hello" },
		{ "nul", 10, true, JGET_INVALID, NULL },
		{ "mid_nul", 10, true, JGET_INVALID, NULL },
		{ "zero", 10, true, JGET_INVALID, NULL },
		{ "nope", 10, true, JGET_MISSING, NULL },
		{ "null", 10, true, JGET_MISSING, NULL },
	};
	struct json_object *o = sample_obj();

	for (size_t i = 0; i < ARRAY_LEN(t) && o; i++) {
		const char *got = "sentinel";
		int r = jget_str_opt(o, t[i].key, t[i].maxlen,
		    t[i].allow_empty, &got);

		if (!CHECK_INT(r, t[i].want))
			fprintf(stderr, "  key '%s'\n", t[i].key);
		CHECK_STR(got, r == JGET_OK ? t[i].value : "sentinel");
	}
	json_object_put(o);
}

static void
test_bool(void)
{
	static const struct {
		const char *key;
		int want;
		bool value;
	} t[] = {
		{ "t", JGET_OK, true },
		{ "f", JGET_OK, false },
		{ "zero", JGET_INVALID, false },
		{ "five", JGET_INVALID, false },
		{ "s", JGET_INVALID, false },
		{ "empty", JGET_INVALID, false },
		{ "obj", JGET_INVALID, false },
		{ "nope", JGET_MISSING, false },
		{ "null", JGET_MISSING, false },
	};
	struct json_object *o = sample_obj();

	for (size_t i = 0; i < ARRAY_LEN(t) && o; i++) {
		bool got = !t[i].value;	/* the opposite, to see a write */
		int r = jget_bool(o, t[i].key, &got);

		if (!CHECK_INT(r, t[i].want))
			fprintf(stderr, "  key '%s'\n", t[i].key);
		if (r == JGET_OK)
			CHECK(got == t[i].value);
		else
			CHECK(got == !t[i].value);
	}
	json_object_put(o);
}

static void
test_object(void)
{
	struct json_object *o = sample_obj();
	struct json_object *sub = NULL;
	int64_t k = 0;

	if (!o)
		return;
	CHECK_INT(jget_object(o, "obj", &sub), JGET_OK);
	CHECK(sub != NULL && json_object_is_type(sub, json_type_object));
	CHECK_INT(jget_i64(sub, "k", 0, 10, &k), JGET_OK);
	CHECK_INT(k, 1);
	sub = NULL;
	CHECK_INT(jget_object(o, "arr", &sub), JGET_INVALID);
	CHECK_INT(jget_object(o, "s", &sub), JGET_INVALID);
	CHECK_INT(jget_object(o, "nope", &sub), JGET_MISSING);
	CHECK_INT(jget_object(o, "null", &sub), JGET_MISSING);
	CHECK(sub == NULL);
	json_object_put(o);
}

/* Borrowed strings stay valid for the object's life, not beyond. */
static void
test_borrowed(void)
{
	struct json_object *o = parse("{\"a\":\"text\",\"b\":\"more\"}");
	const char *a = NULL, *b = NULL;

	if (!CHECK(o != NULL))
		return;
	CHECK_INT(jget_str(o, "a", 10, &a), JGET_OK);
	CHECK_INT(jget_str(o, "b", 10, &b), JGET_OK);
	CHECK_STR(a, "text");
	CHECK_STR(b, "more");
	json_object_put(o);
}

/*
 * jget.h promises strict parsing with UTF-8 checked.  json-c's
 * JSON_TOKENER_VALIDATE_UTF8 only checks the shape of each sequence, and
 * JSON_TOKENER_STRICT still takes NaN, Infinity, "1.", "00", single-quoted
 * keys and raw control characters in strings.
 */
static void
test_parse_bad_utf8_forms(void)
{
	static const struct text bad[] = {
		TEXT("{\"a\":\"\xc0\x80\"}"),		/* overlong NUL */
		TEXT("{\"a\":\"\xc1\xbf\"}"),		/* overlong */
		TEXT("{\"a\":\"\xe0\x80\x80\"}"),	/* overlong */
		TEXT("{\"a\":\"\xed\xa0\x80\"}"),	/* UTF-16 surrogate */
		TEXT("{\"a\":\"\xf4\x90\x80\x80\"}"),	/* above U+10FFFF */
		TEXT("{\"\xc0\xaf\":1}"),		/* overlong '/' key */
	};

	check_refused(bad, ARRAY_LEN(bad));
}

/* Escapes json-c would quietly change: it cuts a key at \u0000 and turns
 * a lone surrogate into U+FFFD.  Refused, so that every string and key of
 * a parsed object is text (base/utf8.h). */
static void
test_parse_escapes_not_text(void)
{
	static const struct text bad[] = {
		TEXT("{\"a\":\"\\u0000\"}"),
		TEXT("{\"a\":\"ab\\u0000cd\"}"),
		TEXT("{\"a\\u0000b\":1}"),
		TEXT("{\"email\\u0000x\":\"a@example.com\"}"),
		TEXT("{\"a\":\"\\ud800\"}"),
		TEXT("{\"a\":\"\\udbff\"}"),
		TEXT("{\"a\":\"\\udc00\"}"),
		TEXT("{\"a\":\"\\uDFFF\"}"),
		TEXT("{\"a\":\"\\ud800x\"}"),
		TEXT("{\"a\":\"\\ud800\\u0041\"}"),
		TEXT("{\"a\":\"\\ud800\\ud800\"}"),
		TEXT("{\"a\":\"\\udc00\\ud800\"}"),
		TEXT("{\"\\ud800\":1}"),
		TEXT("{\"a\":\"\\ud800\\n\"}"),
		TEXT("{\"a\":\"\\u12\"}"),
		TEXT("{\"a\":\"\\u12g4\"}"),
		TEXT("{\"a\":\"\\ud83c\\udf4"),
	};

	check_refused(bad, ARRAY_LEN(bad));
}

static void
test_parse_not_json_tokens(void)
{
	static const struct text bad[] = {
		TEXT("{\"a\":NaN}"), TEXT("{\"a\":Infinity}"),
		TEXT("{\"a\":-Infinity}"), TEXT("{\"a\":[NaN]}"),
		TEXT("{\"a\":1.}"), TEXT("{\"a\":1.e5}"),
		/* while "01" and "{'a':'x'}" are refused */
		TEXT("{\"a\":00}"), TEXT("{\"a\":-01}"), TEXT("{'a':1}"),
		TEXT("{\"a\":\"x\ny\"}"), TEXT("{\"a\":\"\x01\"}"),
		TEXT("{\"a\":\"\x1f\"}"),
	};

	check_refused(bad, ARRAY_LEN(bad));
}

static const struct test_case cases[] = {
	{ "parse_objects", test_parse_objects },
	{ "parse_not_object", test_parse_not_object },
	{ "parse_trailing", test_parse_trailing },
	{ "parse_truncated", test_parse_truncated },
	{ "parse_not_strict_json", test_parse_not_strict_json },
	{ "parse_bad_utf8", test_parse_bad_utf8 },
	{ "parse_raw_nul", test_parse_raw_nul },
	{ "parse_depth", test_parse_depth },
	{ "i64", test_i64 },
	{ "double", test_double },
	{ "double_overflow", test_double_overflow },
	{ "str", test_str },
	{ "str_opt_empty", test_str_opt_empty },
	{ "bool", test_bool },
	{ "object", test_object },
	{ "borrowed", test_borrowed },
	{ "parse_bad_utf8_forms", test_parse_bad_utf8_forms },
	{ "parse_not_json_tokens", test_parse_not_json_tokens },
	{ "parse_escapes_not_text", test_parse_escapes_not_text },
};

int
main(void)
{
	return harness_run("jget", cases, ARRAY_LEN(cases));
}
