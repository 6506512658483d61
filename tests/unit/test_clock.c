/*
 * Clocks: RFC 3339 text for known instants, and the monotonic clock never
 * going back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/xalloc.h"
#include "harness.h"

static void
test_rfc3339(void)
{
	static const struct {
		time_t t;
		const char *want;
	} t[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ 1700000000, "2023-11-14T22:13:20Z" },
		{ 951782400, "2000-02-29T00:00:00Z" },	/* leap day */
		{ 1234567890, "2009-02-13T23:31:30Z" },
		{ 2147483647, "2038-01-19T03:14:07Z" },
		{ (time_t)2147483647 + 1, "2038-01-19T03:14:08Z" },
		{ 4102444799, "2099-12-31T23:59:59Z" },
		{ -1, "1969-12-31T23:59:59Z" },
	};
	char out[32];

	/* a local zone five hours off UTC, so local time cannot pass */
	setenv("TZ", "XST+5", 1);
	tzset();
	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		memset(out, 'Z', sizeof(out));
		clock_rfc3339(out, sizeof(out), t[i].t);
		CHECK_STR(out, t[i].want);
	}
}

/* 21 bytes is enough, as the header says, and nothing past them is
 * written. */
static void
test_rfc3339_exact_size(void)
{
	char out[22];

	memset(out, 'Q', sizeof(out));
	clock_rfc3339(out, 21, 1700000000);
	CHECK_STR(out, "2023-11-14T22:13:20Z");
	CHECK_INT(out[21], 'Q');
}

static void
test_rfc3339_now(void)
{
	char out[32];
	time_t now = clock_now();

	CHECK(now >= 1700000000);	/* any sane clock is past 2023 */
	CHECK(now - time(NULL) <= 1 && time(NULL) - now <= 1);
	clock_rfc3339(out, sizeof(out), now);
	CHECK_INT(strlen(out), 20);
	CHECK(out[4] == '-' && out[7] == '-' && out[10] == 'T' &&
	    out[13] == ':' && out[16] == ':' && out[19] == 'Z');
}

static void
test_mono_non_decreasing(void)
{
	int64_t prev_us = clock_mono_us(), prev_ms = clock_mono_ms();
	int back = 0;

	for (int i = 0; i < 100000; i++) {
		int64_t us = clock_mono_us(), ms = clock_mono_ms();

		back += us < prev_us || ms < prev_ms;
		prev_us = us;
		prev_ms = ms;
	}
	CHECK_INT(back, 0);
	CHECK(prev_us > 0);
}

static void
test_mono_units(void)
{
	int64_t us = clock_mono_us(), ms = clock_mono_ms(), us2;

	us2 = clock_mono_us();
	/* ms is the same clock in thousandths */
	CHECK(ms >= us / 1000 && ms <= us2 / 1000);
}

static void
test_sleep(void)
{
	int64_t t0 = clock_mono_ms(), dt;
	volatile int stop = 0;

	clock_sleep_ms(30, &stop);
	dt = clock_mono_ms() - t0;
	CHECK(dt >= 30);
	CHECK(dt < 5000);
	t0 = clock_mono_ms();
	clock_sleep_ms(0, NULL);
	CHECK(clock_mono_ms() - t0 < 1000);
}

static const struct test_case cases[] = {
	{ "rfc3339", test_rfc3339 },
	{ "rfc3339_exact_size", test_rfc3339_exact_size },
	{ "rfc3339_now", test_rfc3339_now },
	{ "mono_non_decreasing", test_mono_non_decreasing },
	{ "mono_units", test_mono_units },
	{ "sleep", test_sleep },
};

int
main(void)
{
	return harness_run("clock", cases, ARRAY_LEN(cases));
}
