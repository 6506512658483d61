/*
 * Query strings: pairs as nginx passes them, percent-decoding, and the
 * check that every decoded key and value is UTF-8 text without NUL.
 */
#include <string.h>

#include "base/xalloc.h"
#include "harness.h"
#include "web/query.h"

static void
test_next(void)
{
	const char *qs = "a=1&b&=x&&c=";
	const char *pos = qs;
	struct query_pair p;

	CHECK(query_next(&pos, &p));
	CHECK_INT(p.key_len, 1);
	CHECK(p.value && p.value_len == 1 && p.value[0] == '1');
	CHECK(query_next(&pos, &p));
	CHECK(p.key[0] == 'b' && p.key_len == 1 && p.value == NULL);
	CHECK(query_next(&pos, &p));
	CHECK(p.key_len == 0 && p.value_len == 1);
	CHECK(query_next(&pos, &p));
	CHECK(p.key_len == 0 && p.value == NULL);	/* "&&" */
	CHECK(query_next(&pos, &p));
	CHECK(p.key[0] == 'c' && p.value && p.value_len == 0);
	CHECK(!query_next(&pos, &p));
	CHECK(*pos == '\0');
	pos = "";
	CHECK(!query_next(&pos, &p));
}

static void
test_find(void)
{
	struct query_pair p;

	CHECK(query_find("page=2&limit=10", "limit", &p));
	CHECK(p.value_len == 2 && memcmp(p.value, "10", 2) == 0);
	CHECK(query_find("x=1&x=2", "x", &p));
	CHECK(p.value[0] == '1');			/* the first wins */
	CHECK(query_find("flag&y=1", "flag", &p));
	CHECK(p.value == NULL);
	CHECK(!query_find("pages=1", "page", &p));
	CHECK(!query_find("page", "pag", &p));
	CHECK(!query_find("", "page", &p));
	CHECK(!query_find("%70age=1", "page", &p));	/* keys undecoded */
}

/* out: what is decoded, also on failure (up to the bad escape). */
#define D(in, want, out) { in, want, out, sizeof(out) - 1 }

static void
test_decode(void)
{
	static const struct {
		const char *in;
		int want;
		const char *out;
		size_t len;
	} t[] = {
		D("plain", QUERY_OK, "plain"),
		D("a+b%20c", QUERY_OK, "a b c"),
		D("%2B%2b%25", QUERY_OK, "++%"),
		D("caf%C3%A9", QUERY_OK, "caf\xc3\xa9"),
		D("caf\xc3\xa9", QUERY_OK, "caf\xc3\xa9"),	/* raw bytes */
		D("%F0%9F%8D%8B", QUERY_OK, "\xf0\x9f\x8d\x8b"),
		D("", QUERY_OK, ""),
		D("%", QUERY_BAD_ESCAPE, ""),
		D("a%4", QUERY_BAD_ESCAPE, "a"),
		D("%zz", QUERY_BAD_ESCAPE, ""),
		D("x%4g", QUERY_BAD_ESCAPE, "x"),
		D("%ff%fe", QUERY_NOT_TEXT, "\xff\xfe"),
		D("%C3", QUERY_NOT_TEXT, "\xc3"),
		D("%C0%AF", QUERY_NOT_TEXT, "\xc0\xaf"),	/* overlong */
		D("%ED%A0%80", QUERY_NOT_TEXT, "\xed\xa0\x80"),
		D("%F4%90%80%80", QUERY_NOT_TEXT, "\xf4\x90\x80\x80"),
		D("\xff", QUERY_NOT_TEXT, "\xff"),
		D("a%00b", QUERY_NOT_TEXT, "a\0b"),		/* NUL */
	};

	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		size_t n = strlen(t[i].in), len = 99;
		char out[32];

		if (!CHECK_INT(query_decode(t[i].in, n, out, &len), t[i].want))
			fprintf(stderr, "  input '%s'\n", t[i].in);
		CHECK_INT(len, t[i].len);
		CHECK(memcmp(out, t[i].out, t[i].len + 1) == 0);
	}
}

static void
test_check(void)
{
	struct query_pair bad;

	CHECK_INT(query_check("", &bad), QUERY_OK);
	CHECK_INT(query_check("page=1&limit=10&q=caf%C3%A9+x", &bad),
	    QUERY_OK);
	CHECK_INT(query_check("a=1&instanceName=%ff%fe", &bad),
	    QUERY_NOT_TEXT);
	CHECK(bad.key_len == 12 && memcmp(bad.key, "instanceName", 12) == 0);
	CHECK_INT(query_check("a=1&b=x%00y", &bad), QUERY_NOT_TEXT);
	CHECK(bad.key[0] == 'b');
	CHECK_INT(query_check("a%ff=1", &bad), QUERY_NOT_TEXT);	/* a key */
	CHECK_INT(query_check("ok&x=%", &bad), QUERY_BAD_ESCAPE);
	CHECK(bad.key[0] == 'x');
	CHECK_INT(query_check("a=1", NULL), QUERY_OK);
	CHECK_INT(query_check("a=%ff", NULL), QUERY_NOT_TEXT);
}

static const struct test_case cases[] = {
	{ "next", test_next },
	{ "find", test_find },
	{ "decode", test_decode },
	{ "check", test_check },
};

int
main(void)
{
	return harness_run("query", cases, ARRAY_LEN(cases));
}
