/*
 * UTF-8 text: which byte strings are text (RFC 3629's table, the edges of
 * every range, no NUL), and cutting at most N bytes on a character
 * boundary.
 */
#include <string.h>

#include "base/utf8.h"
#include "harness.h"

struct sample {
	const char *s;
	size_t len;
};

#define S(lit) { lit, sizeof(lit) - 1 }

static void
test_text(void)
{
	static const struct sample good[] = {
		S(""), S("plain ascii"), S("\x7f"),
		S("\xc2\x80"), S("\xdf\xbf"),			/* U+0080, U+07FF */
		S("\xe0\xa0\x80"), S("\xed\x9f\xbf"),		/* U+0800, U+D7FF */
		S("\xee\x80\x80"), S("\xef\xbf\xbf"),		/* U+E000, U+FFFF */
		S("\xf0\x90\x80\x80"), S("\xf4\x8f\xbf\xbf"),	/* U+10000, U+10FFFF */
		S("na\xc3\xafve caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8d\x8b"),
	};

	for (size_t i = 0; i < ARRAY_LEN(good); i++)
		if (!CHECK(utf8_is_text(good[i].s, good[i].len)))
			fprintf(stderr, "  refused good sample %zu\n", i);
}

static void
test_not_text(void)
{
	static const struct sample bad[] = {
		S("\xff\xfe"), S("\x80"), S("a\xbf"),		/* no lead byte */
		S("\xc0\xaf"), S("\xc1\xbf"),			/* overlong 2 */
		S("\xe0\x80\xaf"), S("\xe0\x9f\xbf"),		/* overlong 3 */
		S("\xf0\x80\x80\xaf"), S("\xf0\x8f\xbf\xbf"),	/* overlong 4 */
		S("\xed\xa0\x80"), S("\xed\xbf\xbf"),		/* surrogates */
		S("\xed\xa0\xbd\xed\xb8\x80"),			/* a CESU pair */
		S("\xf4\x90\x80\x80"), S("\xf5\x80\x80\x80"),	/* > U+10FFFF */
		S("\xf8\x88\x80\x80\x80"), S("\xfe"),
		S("\xc3"), S("\xe2\x82"), S("\xf0\x9f\x8d"),	/* cut short */
		S("\xc3(x"), S("\xe2\x28\xa1"),			/* bad trail */
		S("a\0b"), S("\0"),				/* NUL */
	};

	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		if (!CHECK(!utf8_is_text(bad[i].s, bad[i].len)))
			fprintf(stderr, "  accepted bad sample %zu\n", i);
}

static void
test_seq_len(void)
{
	CHECK_INT(utf8_seq_len("", 0), 0);
	CHECK_INT(utf8_seq_len("a", 1), 1);
	CHECK_INT(utf8_seq_len("\0", 1), 1);
	CHECK_INT(utf8_seq_len("\xc3\xa9", 2), 2);
	CHECK_INT(utf8_seq_len("\xc3\xa9", 1), 0);	/* n cuts it */
	CHECK_INT(utf8_seq_len("\xe2\x82\xac", 3), 3);
	CHECK_INT(utf8_seq_len("\xf0\x9f\x8d\x8b", 4), 4);
	CHECK_INT(utf8_seq_len("\xf0\x9f\x8d\x8b", 3), 0);
	CHECK_INT(utf8_seq_len("\xed\xa0\x80", 3), 0);
}

static void
test_prefix(void)
{
	static const char s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x8d\x8b";

	CHECK_INT(utf8_prefix(s, 10, 10), 10);		/* it all fits */
	CHECK_INT(utf8_prefix(s, 10, 100), 10);
	CHECK_INT(utf8_prefix(s, 10, 0), 0);
	CHECK_INT(utf8_prefix(s, 10, 1), 1);
	CHECK_INT(utf8_prefix(s, 10, 2), 1);		/* not half an e-acute */
	CHECK_INT(utf8_prefix(s, 10, 3), 3);
	CHECK_INT(utf8_prefix(s, 10, 4), 3);
	CHECK_INT(utf8_prefix(s, 10, 5), 3);		/* not 2/3 of a euro */
	CHECK_INT(utf8_prefix(s, 10, 6), 6);
	CHECK_INT(utf8_prefix(s, 10, 9), 6);		/* not 3/4 of a lemon */
	/* bytes that are not UTF-8 are cut anywhere, never past max */
	CHECK_INT(utf8_prefix("\xff\xff\xff\xff", 4, 3), 3);
	CHECK_INT(utf8_prefix("\xc3\xc3\xc3", 3, 2), 2);
	CHECK_INT(utf8_prefix("ab\xe2\x82", 4, 3), 3);
}

/* 40 bytes of "a" + e-acute * 23 end inside the 20th e-acute: the old
 * "%.40s" in fcgi-bin/instances.c left a lone 0xC3 there. */
static void
test_prefix_preset_name(void)
{
	char name[48] = "a";

	for (int i = 0; i < 23; i++)
		memcpy(name + 1 + 2 * i, "\xc3\xa9", 3);
	CHECK_INT(strlen(name), 47);
	CHECK_INT(utf8_prefix(name, strlen(name), 40), 39);
	CHECK(utf8_is_text(name, utf8_prefix(name, strlen(name), 40)));
}

static void
test_copy(void)
{
	char out[8];

	memset(out, 'Z', sizeof(out));
	CHECK_INT(utf8_copy(out, 0, "abc"), 0);
	CHECK_INT(out[0], 'Z');				/* size 0: untouched */
	CHECK_INT(utf8_copy(out, 1, "abc"), 0);
	CHECK_STR(out, "");
	CHECK_INT(utf8_copy(out, sizeof(out), "abc"), 3);
	CHECK_STR(out, "abc");
	CHECK_INT(utf8_copy(out, sizeof(out), "abcdefgh"), 7);
	CHECK_STR(out, "abcdefg");
	CHECK_INT(utf8_copy(out, sizeof(out), "abcdef\xc3\xa9"), 6);
	CHECK_STR(out, "abcdef");
	CHECK_INT(utf8_copy(out, sizeof(out), "abcde\xc3\xa9z"), 7);
	CHECK_STR(out, "abcde\xc3\xa9");
}

/* A sequence crossing the end of dst is seen whole even though only
 * size + a few bytes of src are looked at. */
static void
test_copy_long_source(void)
{
	char out[8], src[64];

	memset(src, 'x', sizeof(src) - 1);
	src[sizeof(src) - 1] = '\0';
	memcpy(src + 6, "\xe2\x82\xac", 3);	/* a euro at bytes 6..8 */
	CHECK_INT(utf8_copy(out, sizeof(out), src), 6);
	CHECK_STR(out, "xxxxxx");
	memcpy(src + 4, "\xf0\x9f\x8d\x8b", 4);	/* a lemon at bytes 4..7 */
	CHECK_INT(utf8_copy(out, sizeof(out), src), 4);
	CHECK_STR(out, "xxxx");
	memcpy(src + 3, "\xf0\x9f\x8d\x8b", 4);	/* bytes 3..6: fits */
	CHECK_INT(utf8_copy(out, sizeof(out), src), 7);
	CHECK_STR(out, "xxx\xf0\x9f\x8d\x8b");
}

static const struct test_case cases[] = {
	{ "text", test_text },
	{ "not_text", test_not_text },
	{ "seq_len", test_seq_len },
	{ "prefix", test_prefix },
	{ "prefix_preset_name", test_prefix_preset_name },
	{ "copy", test_copy },
	{ "copy_long_source", test_copy_long_source },
};

int
main(void)
{
	return harness_run("utf8", cases, ARRAY_LEN(cases));
}
