/*
 * Randomness from getrandom: ranges, coverage and a chi-square sanity
 * check.  The statistical bounds are loose enough that a correct
 * implementation fails them less than once in a million runs.
 */
#include <stdint.h>
#include <string.h>

#include "base/rand.h"
#include "base/xalloc.h"
#include "harness.h"

static void
test_below_in_range(void)
{
	static const uint64_t uppers[] = { 1, 2, 3, 6, 7, 10, 255, 256, 1000,
		(uint64_t)1 << 32, ((uint64_t)1 << 63) + 1, UINT64_MAX };
	int out = 0;

	for (size_t i = 0; i < ARRAY_LEN(uppers); i++)
		for (int k = 0; k < 2000; k++)
			if (rand_below(uppers[i]) >= uppers[i])
				out++;
	CHECK_INT(out, 0);
}

static void
test_below_one(void)
{
	uint64_t nonzero = 0;

	for (int k = 0; k < 1000; k++)
		nonzero += rand_below(1);
	CHECK_INT(nonzero, 0);
}

/* Every value of a small range turns up (a miss has odds < 1e-40). */
static void
test_below_covers(void)
{
	static const uint64_t uppers[] = { 2, 3, 5, 16, 37 };

	for (size_t i = 0; i < ARRAY_LEN(uppers); i++) {
		int seen[37] = { 0 };
		int missing = 0;

		for (int k = 0; k < 5000; k++) {
			uint64_t x = rand_below(uppers[i]);

			if (x < uppers[i])
				seen[x] = 1;
		}
		for (uint64_t v = 0; v < uppers[i]; v++)
			missing += !seen[v];
		if (!CHECK_INT(missing, 0))
			fprintf(stderr, "  upper %llu\n",
			    (unsigned long long)uppers[i]);
	}
}

/*
 * 60000 throws of a die.  With 5 degrees of freedom the chi-square
 * statistic exceeds 40 with probability about 1.5e-7; a biased or stuck
 * generator lands far above that.
 */
static void
test_below_chi_square(void)
{
	enum { SIDES = 6, DRAWS = 60000 };
	uint64_t count[SIDES] = { 0 };
	double expect = (double)DRAWS / SIDES, chi2 = 0;

	for (int k = 0; k < DRAWS; k++) {
		uint64_t x = rand_below(SIDES);

		if (!CHECK(x < SIDES))
			return;
		count[x]++;
	}
	for (int v = 0; v < SIDES; v++) {
		double d = (double)count[v] - expect;

		chi2 += d * d / expect;
	}
	if (!CHECK(chi2 < 40.0))
		fprintf(stderr, "  chi-square %.1f\n", chi2);
}

/* Bits of the top and the bottom of the word both vary. */
static void
test_below_large_spread(void)
{
	uint64_t seen_or = 0, seen_and = UINT64_MAX;

	for (int k = 0; k < 200; k++) {
		uint64_t x = rand_below(UINT64_MAX);

		seen_or |= x;
		seen_and &= x;
	}
	CHECK(seen_or >> 60 != 0);
	CHECK((seen_or & 1) == 1);
	CHECK((seen_and & 1) == 0);
}

static bool
is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void
test_hex(void)
{
	static const size_t sizes[] = { 0, 1, 2, 16, 32 };
	char out[80];

	for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
		size_t n = sizes[i];

		memset(out, 'Z', sizeof(out));
		rand_hex(out, n);
		CHECK_INT(strlen(out), 2 * n);
		CHECK(is_lower_hex(out, 2 * n));
		CHECK_INT(out[2 * n + 1], 'Z');	/* nothing past the NUL */
	}
}

static void
test_hex_varies(void)
{
	char a[33], b[33];
	char digits[16] = { 0 };
	int distinct = 0;

	rand_hex(a, 16);
	rand_hex(b, 16);
	CHECK(strcmp(a, b) != 0);	/* 2^-128 odds of a false alarm */
	for (int k = 0; k < 50; k++) {
		rand_hex(a, 16);
		for (int i = 0; i < 32; i++)
			if (is_lower_hex(&a[i], 1))
				digits[a[i] <= '9' ? a[i] - '0' :
				    a[i] - 'a' + 10] = 1;
	}
	for (int i = 0; i < 16; i++)
		distinct += digits[i];
	CHECK_INT(distinct, 16);
}

static void
test_string_alphabet(void)
{
	static const char *const alphabets[] = { "a", "ab", "xyz",
		"abcdefghijklmnopqrstuvwxyz0123456789" };
	enum { LEN = 2000 };
	static char out[LEN + 2];

	for (size_t i = 0; i < ARRAY_LEN(alphabets); i++) {
		const char *abc = alphabets[i];
		size_t stray = 0, used = 0;

		memset(out, 'Z', sizeof(out));
		rand_string(out, LEN, abc);
		CHECK_INT(strlen(out), LEN);
		CHECK_INT(out[LEN + 1], 'Z');
		for (size_t k = 0; k < LEN; k++)
			stray += strchr(abc, out[k]) == NULL;
		CHECK_INT(stray, 0);
		for (const char *c = abc; *c; c++)
			used += memchr(out, *c, LEN) != NULL;
		CHECK_INT(used, strlen(abc));	/* each letter shows up */
	}
}

static void
test_string_lengths(void)
{
	char out[8];

	memset(out, 'Z', sizeof(out));
	rand_string(out, 0, "ab");
	CHECK_STR(out, "");
	CHECK_INT(out[1], 'Z');
	memset(out, 'Z', sizeof(out));
	rand_string(out, 5, "q");
	CHECK_STR(out, "qqqqq");
	CHECK_INT(out[6], 'Z');
}

static void
test_bytes(void)
{
	unsigned char a[64], b[64];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	rand_bytes(a, sizeof(a));
	rand_bytes(b, sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	rand_bytes(a, 0);	/* nothing to do, must not block or crash */
}

static const struct test_case cases[] = {
	{ "below_in_range", test_below_in_range },
	{ "below_one", test_below_one },
	{ "below_covers", test_below_covers },
	{ "below_chi_square", test_below_chi_square },
	{ "below_large_spread", test_below_large_spread },
	{ "hex", test_hex },
	{ "hex_varies", test_hex_varies },
	{ "string_alphabet", test_string_alphabet },
	{ "string_lengths", test_string_lengths },
	{ "bytes", test_bytes },
};

int
main(void)
{
	return harness_run("rand", cases, ARRAY_LEN(cases));
}
