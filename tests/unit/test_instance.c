/*
 * domain/instance: the connection strings people get, in both TLS
 * variants, for every engine, and a buffer too small for one.
 */
#include <string.h>

#include "domain/instance.h"
#include "harness.h"

static void
uri(enum instance_tls tls, const char *type, const char *want)
{
	char out[256];

	CHECK_INT(instance_uri(out, sizeof(out), tls, type, "admin", "pw",
	    "db.example.com", 30001, "shop"), 0);
	CHECK_STR(out, want);
}

static void
test_require(void)
{
	uri(INSTANCE_TLS_REQUIRE, "postgres",
	    "postgresql://admin:pw@db.example.com:30001/shop?sslmode=require");
	uri(INSTANCE_TLS_REQUIRE, "redis",
	    "rediss://admin:pw@db.example.com:30001");
	uri(INSTANCE_TLS_REQUIRE, "mongodb",
	    "mongodb://admin:pw@db.example.com:30001"
	    "/shop?authSource=admin&tls=true");
}

static void
test_verify_full(void)
{
	uri(INSTANCE_TLS_VERIFY, "postgres",
	    "postgresql://admin:pw@db.example.com:30001/shop"
	    "?sslmode=verify-full&sslrootcert=" INSTANCE_CA_FILE);
	uri(INSTANCE_TLS_VERIFY, "redis",
	    "rediss://admin:pw@db.example.com:30001");
	uri(INSTANCE_TLS_VERIFY, "mongodb",
	    "mongodb://admin:pw@db.example.com:30001"
	    "/shop?authSource=admin&tls=true&tlsCAFile=" INSTANCE_CA_FILE);
}

static void
test_too_small(void)
{
	char out[32];

	CHECK_INT(instance_uri(out, sizeof(out), INSTANCE_TLS_VERIFY,
	    "postgres", "admin", "pw", "db.example.com", 30001, "shop"), -1);
}

static const struct test_case cases[] = {
	{ "require", test_require },
	{ "verify_full", test_verify_full },
	{ "too_small", test_too_small },
};

int
main(void)
{
	return harness_run("instance", cases, ARRAY_LEN(cases));
}
