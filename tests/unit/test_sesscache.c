/* web/sesscache: the table's rules, in one process. */
#include "base/clock.h"
#include "harness.h"
#include "web/sesscache.h"

#define UID_A "11111111-1111-1111-1111-111111111111"
#define UID_B "22222222-2222-2222-2222-222222222222"
#define UID_C "33333333-3333-3333-3333-333333333333"

/* A key whose pair is chosen by lead (8 hex digits) and told apart by
 * tail (one hex digit). */
static const char *
key(char out[SESSCACHE_KEY_LEN + 1], const char *lead, char tail)
{
	memset(out, tail, SESSCACHE_KEY_LEN);
	memcpy(out, lead, 8);
	out[SESSCACHE_KEY_LEN] = '\0';
	return out;
}

static int64_t
later(void)
{
	return clock_epoch_ms() + 3600 * 1000;
}

static void
fresh_table(void)
{
	sesscache_teardown();
	sesscache_setup();
}

static void
test_hit_and_miss(void)
{
	char k[SESSCACHE_KEY_LEN + 1], k2[SESSCACHE_KEY_LEN + 1];
	char uid[SESSCACHE_UID_LEN + 1];

	fresh_table();
	CHECK(!sesscache_get(key(k, "0000abcd", 'e'), uid));
	sesscache_put(k, UID_A, later(), clock_mono_ms());
	if (CHECK(sesscache_get(k, uid)))
		CHECK_STR(uid, UID_A);
	/* same pair, another token: never the first one's user */
	CHECK(!sesscache_get(key(k2, "0000abcd", 'f'), uid));
}

static void
test_stale_and_expired(void)
{
	char k[SESSCACHE_KEY_LEN + 1], k2[SESSCACHE_KEY_LEN + 1];
	char uid[SESSCACHE_UID_LEN + 1];

	fresh_table();
	sesscache_put(key(k, "12345678", 'a'), UID_A, later(),
	    clock_mono_ms() - SESSCACHE_TTL_MS);
	CHECK(!sesscache_get(k, uid));
	sesscache_put(k, UID_A, later(),
	    clock_mono_ms() - SESSCACHE_TTL_MS + 500);
	CHECK(sesscache_get(k, uid));
	sesscache_put(key(k2, "87654321", 'a'), UID_B, clock_epoch_ms() - 1,
	    clock_mono_ms());
	CHECK(!sesscache_get(k2, uid));
}

static void
test_pair_eviction(void)
{
	char k1[SESSCACHE_KEY_LEN + 1], k2[SESSCACHE_KEY_LEN + 1];
	char k3[SESSCACHE_KEY_LEN + 1], uid[SESSCACHE_UID_LEN + 1];
	int64_t now = clock_mono_ms();

	fresh_table();
	sesscache_put(key(k1, "00000002", '1'), UID_A, later(), now - 20);
	sesscache_put(key(k2, "00000002", '2'), UID_B, later(), now - 10);
	CHECK(sesscache_get(k1, uid));
	CHECK(sesscache_get(k2, uid));
	/* a third token of the pair replaces the older answer */
	sesscache_put(key(k3, "00000002", '3'), UID_C, later(), now);
	CHECK(!sesscache_get(k1, uid));
	if (CHECK(sesscache_get(k2, uid)))
		CHECK_STR(uid, UID_B);
	if (CHECK(sesscache_get(k3, uid)))
		CHECK_STR(uid, UID_C);
	/* the same token again takes its own slot, not its neighbour's */
	sesscache_put(k3, UID_C, later(), now);
	CHECK(sesscache_get(k2, uid));
}

static void
test_drop(void)
{
	char k1[SESSCACHE_KEY_LEN + 1], k2[SESSCACHE_KEY_LEN + 1];
	char k3[SESSCACHE_KEY_LEN + 1], uid[SESSCACHE_UID_LEN + 1];
	int64_t now = clock_mono_ms();

	fresh_table();
	sesscache_put(key(k1, "aaaaaaaa", '1'), UID_A, later(), now);
	sesscache_put(key(k2, "bbbbbbbb", '2'), UID_A, later(), now);
	sesscache_put(key(k3, "cccccccc", '3'), UID_B, later(), now);
	sesscache_drop(k1);
	CHECK(!sesscache_get(k1, uid));
	CHECK(sesscache_get(k2, uid));
	sesscache_put(k1, UID_A, later(), now);
	sesscache_drop_user(UID_A);
	CHECK(!sesscache_get(k1, uid));
	CHECK(!sesscache_get(k2, uid));
	CHECK(sesscache_get(k3, uid));
}

static void
test_bad_input(void)
{
	char k[SESSCACHE_KEY_LEN + 1], uid[SESSCACHE_UID_LEN + 1];

	fresh_table();
	sesscache_put("abcd", UID_A, later(), clock_mono_ms());
	CHECK(!sesscache_get("abcd", uid));
	sesscache_put(key(k, "dddddddd", 'd'), "short", later(),
	    clock_mono_ms());
	CHECK(!sesscache_get(k, uid));
	sesscache_teardown();
	sesscache_put(k, UID_A, later(), clock_mono_ms());
	CHECK(!sesscache_get(k, uid));
	sesscache_drop(k);
	sesscache_drop_user(UID_A);
}

/* A session's view: only with its session, only with its stamp and
 * size, only under the time to live; gone with the session. */
static void
test_view(void)
{
	char k[SESSCACHE_KEY_LEN + 1], k2[SESSCACHE_KEY_LEN + 1];
	char v[16] = "profile", out[16];
	int64_t now = clock_mono_ms();

	fresh_table();
	key(k, "0000beef", 'a');
	sesscache_put_view(k, v, sizeof(v), 7, now);
	CHECK(!sesscache_view(k, 7, out, sizeof(out)));	/* no session */
	sesscache_put(k, UID_A, later(), now);
	sesscache_put_view(k, v, sizeof(v), 7, now);
	memset(out, 0, sizeof(out));
	CHECK(sesscache_view(k, 7, out, sizeof(out)));
	CHECK(strcmp(out, "profile") == 0);
	CHECK(!sesscache_view(k, 8, out, sizeof(out)));	/* changed since */
	CHECK(!sesscache_view(k, 7, out, 8));		/* another size */
	sesscache_put_view(k, v, sizeof(v), 7, now - SESSCACHE_TTL_MS);
	CHECK(!sesscache_view(k, 7, out, sizeof(out)));	/* too old */
	sesscache_put_view(k, v, sizeof(v), 7, now);
	sesscache_drop(k);
	sesscache_put(k, UID_A, later(), now);
	CHECK(!sesscache_view(k, 7, out, sizeof(out)));	/* gone with it */
	/* another session taking the slot does not inherit the view */
	sesscache_put_view(k, v, sizeof(v), 7, now);
	sesscache_put(key(k2, "0000beef", 'b'), UID_B, later(), now);
	sesscache_put(key(k2, "0000beef", 'c'), UID_C, later(), now + 1);
	sesscache_put(k, UID_A, later(), now + 2);
	CHECK(!sesscache_view(k, 7, out, sizeof(out)));
	CHECK(!sesscache_view(k2, 7, out, sizeof(out)));
}

static const struct test_case cases[] = {
	{ "view", test_view },
	{ "hit_and_miss", test_hit_and_miss },
	{ "stale_and_expired", test_stale_and_expired },
	{ "pair_eviction", test_pair_eviction },
	{ "drop", test_drop },
	{ "bad_input", test_bad_input },
};

int
main(void)
{
	return harness_run("sesscache", cases, ARRAY_LEN(cases));
}
