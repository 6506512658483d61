/*
 * kv_key: every Redis key has the form "dbtree:v1:<part>:...", and a key
 * that does not fit is an error, never a truncated key.  No Redis needed.
 */
#include <string.h>

#include "base/xalloc.h"
#include "harness.h"
#include "store/kv.h"

static void
test_key(void)
{
	char out[64];

	CHECK_INT(kv_key(out, sizeof(out), "a", "b", (char *)NULL), 0);
	CHECK_STR(out, "dbtree:v1:a:b");
	CHECK_INT(kv_key(out, sizeof(out), "otp", "user@example.com",
	    (char *)NULL), 0);
	CHECK_STR(out, "dbtree:v1:otp:user@example.com");
	CHECK_INT(kv_key(out, sizeof(out), "one", (char *)NULL), 0);
	CHECK_STR(out, "dbtree:v1:one");
	CHECK_INT(kv_key(out, sizeof(out), (char *)NULL), 0);
	CHECK_STR(out, "dbtree:v1");
	CHECK_INT(kv_key(out, sizeof(out), "a", "b", "c", "d", "e",
	    (char *)NULL), 0);
	CHECK_STR(out, "dbtree:v1:a:b:c:d:e");
}

/* "dbtree:v1:a:b" is 13 characters: 14 bytes fit, 13 do not. */
static void
test_fit(void)
{
	char out[32];

	memset(out, 'Z', sizeof(out));
	CHECK_INT(kv_key(out, 14, "a", "b", (char *)NULL), 0);
	CHECK_STR(out, "dbtree:v1:a:b");
	CHECK_INT(out[14], 'Z');	/* nothing past size */

	memset(out, 'Z', sizeof(out));
	CHECK_INT(kv_key(out, 13, "a", "b", (char *)NULL), -1);
	CHECK_INT(out[13], 'Z');
	CHECK_INT(kv_key(out, 10, (char *)NULL), 0);	/* "dbtree:v1" */
	CHECK_STR(out, "dbtree:v1");
	CHECK_INT(kv_key(out, 9, (char *)NULL), -1);
	CHECK_INT(kv_key(out, 1, "a", (char *)NULL), -1);
}

static void
test_long_part(void)
{
	char part[300], out[256];

	memset(part, 'p', sizeof(part) - 1);
	part[sizeof(part) - 1] = '\0';
	CHECK_INT(kv_key(out, sizeof(out), "x", part, (char *)NULL), -1);
	part[200] = '\0';
	CHECK_INT(kv_key(out, sizeof(out), "x", part, (char *)NULL), 0);
	CHECK_INT(strlen(out), strlen("dbtree:v1:x:") + 200);
}

/* kv.h: "-1 if it does not fit".  Nothing fits in zero bytes. */
static void
test_zero_size(void)
{
	char out[4] = "ZZZ";

	CHECK_INT(kv_key(out, 0, "a", (char *)NULL), -1);
	CHECK_STR(out, "ZZZ");
}

static const struct test_case cases[] = {
	{ "key", test_key },
	{ "fit", test_fit },
	{ "long_part", test_long_part },
	{ "zero_size", test_zero_size },
};

int
main(void)
{
	return harness_run("kv", cases, ARRAY_LEN(cases));
}
