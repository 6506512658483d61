/*
 * base/hash: SHA-256 test vectors of FIPS 180-4 (and NIST's examples),
 * including a message that spans two blocks and one with NUL bytes.
 */
#include <string.h>

#include "base/hash.h"
#include "harness.h"

static void
test_vectors(void)
{
	static const char *const vec[][2] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb924"
		      "27ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223"
			 "b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039"
		  "a33ce45964ff2167f6ecedd419db06c1" },
	};
	char hex[HASH_SHA256_HEX];

	for (size_t i = 0; i < ARRAY_LEN(vec); i++) {
		hash_sha256_hex(vec[i][0], strlen(vec[i][0]), hex);
		CHECK_STR(hex, vec[i][1]);
	}
}

/* The length given counts, not the first NUL. */
static void
test_binary(void)
{
	static const char two_nuls[2] = { 0, 0 };
	char hex[HASH_SHA256_HEX];

	hash_sha256_hex(two_nuls, sizeof(two_nuls), hex);
	CHECK_STR(hex, "96a296d224f285c67bee93c30f8a3091"
	    "57f0daa35dc5b87e410b78630a09cfc7");
}

/* A million 'a's (FIPS 180-2, appendix B.3). */
static void
test_million(void)
{
	static char a[1000000];
	char hex[HASH_SHA256_HEX];

	memset(a, 'a', sizeof(a));
	hash_sha256_hex(a, sizeof(a), hex);
	CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
}

static const struct test_case cases[] = {
	{ "vectors", test_vectors },
	{ "binary", test_binary },
	{ "million", test_million },
};

int
main(void)
{
	return harness_run("hash", cases, ARRAY_LEN(cases));
}
