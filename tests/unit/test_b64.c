/*
 * base/b64: the RFC 4648 test vectors in both alphabets, bytes that map
 * to the characters the two alphabets differ in, and the cap of a buf.
 */
#include <string.h>

#include "base/b64.h"
#include "base/buf.h"
#include "harness.h"

static const char *const vec[][2] = { { "", "" }, { "f", "Zg==" },
	{ "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" } };

static void
test_rfc4648(void)
{
	struct buf b = BUF_INIT(64);

	for (size_t i = 0; i < ARRAY_LEN(vec); i++) {
		buf_reset(&b);
		CHECK_INT(b64_add(&b, vec[i][0], strlen(vec[i][0])), 0);
		CHECK_STR(buf_cstr(&b), vec[i][1]);
	}
	buf_release(&b);
}

/* Appends to what is there; past the cap nothing is appended. */
static void
test_cap(void)
{
	struct buf tiny = BUF_INIT(6);

	buf_adds(&tiny, "ab");
	CHECK_INT(b64_add(&tiny, "f", 1), 0);
	CHECK_STR(buf_cstr(&tiny), "abZg==");
	CHECK_INT(b64_add(&tiny, "foobar", 6), -1);
	CHECK_STR(buf_cstr(&tiny), "abZg==");	/* all or nothing */
	buf_release(&tiny);
}

static void
test_url_vectors(void)
{
	char out[16];
	size_t n;

	for (size_t i = 0; i < ARRAY_LEN(vec); i++) {
		n = strlen(vec[i][0]);
		b64url(vec[i][0], n, out);
		CHECK_INT(strlen(out), B64URL_LEN(n));
		CHECK_INT(strncmp(out, vec[i][1], strlen(out)), 0);
		CHECK(strchr(out, '=') == NULL);
	}
}

/* 0xfb 0xff 0xbf: "+/+/" in the standard alphabet, "-_-_" in the URL one. */
static void
test_url_alphabet(void)
{
	static const unsigned char raw[] = { 0xfb, 0xff, 0xbf, 0xfe };
	struct buf b = BUF_INIT(64);
	char out[16];

	b64_add(&b, raw, 3);
	CHECK_STR(buf_cstr(&b), "+/+/");
	b64url(raw, 3, out);
	CHECK_STR(out, "-_-_");
	b64url(raw, 4, out);
	CHECK_STR(out, "-_-__g");
	buf_release(&b);
}

/* A session token: 32 bytes make 43 characters. */
static void
test_url_length(void)
{
	unsigned char raw[32];
	char out[B64URL_LEN(sizeof(raw)) + 1];

	memset(raw, 0xff, sizeof(raw));
	b64url(raw, sizeof(raw), out);
	CHECK_INT(B64URL_LEN(32), 43);
	CHECK_INT(strlen(out), 43);
	CHECK_INT(strspn(out, "_"), 42);
	CHECK_STR(out + 42, "8");
}

static const struct test_case cases[] = {
	{ "rfc4648", test_rfc4648 },
	{ "cap", test_cap },
	{ "url_vectors", test_url_vectors },
	{ "url_alphabet", test_url_alphabet },
	{ "url_length", test_url_length },
};

int
main(void)
{
	return harness_run("b64", cases, ARRAY_LEN(cases));
}
