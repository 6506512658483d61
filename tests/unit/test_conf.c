/*
 * Configuration through conf_load_from() with a lookup backed by a small
 * table instead of the environment.  A bad value must make the load fail
 * and the message must name the variable, so stderr (fd 2) is captured
 * into a temporary file around each load.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/xalloc.h"
#include "harness.h"

struct env_var {
	const char *name;
	const char *value;
};

/* The table the lookup reads; set by load() for one call. */
static const struct env_var *env;
static size_t env_n;

static const char *
table_lookup(const char *name)
{
	for (size_t i = 0; i < env_n; i++)
		if (strcmp(env[i].name, name) == 0)
			return env[i].value;
	return NULL;
}

/*
 * conf_load_from over vars[0..n), with whatever it writes to fd 2 in
 * err (NUL-terminated, cut to size).  Returns what conf_load_from returned.
 */
static int
load(const struct env_var *vars, size_t n, struct conf *c, char *err,
     size_t size)
{
	FILE *tmp = tmpfile();
	int saved, ret;
	size_t got = 0;

	err[0] = '\0';
	if (!CHECK(tmp != NULL))
		return -2;
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	if (!CHECK(saved >= 0)) {
		fclose(tmp);
		return -2;
	}
	dup2(fileno(tmp), STDERR_FILENO);
	env = vars;
	env_n = n;
	ret = conf_load_from(c, table_lookup);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	got = fread(err, 1, size - 1, tmp);
	err[got] = '\0';
	fclose(tmp);
	return ret;
}

static void
test_defaults(void)
{
	struct conf c;
	char err[512];

	CHECK_INT(load(NULL, 0, &c, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_STR(c.state_dir, "./var");
	CHECK_STR(c.run_dir, "/run/dbtree");
	CHECK_STR(c.sql_dir, "sql");
	CHECK_STR(c.db_url, "dbname=dbtree");
	CHECK_INT(c.db_connect_timeout_s, 2);
	CHECK_INT(c.db_statement_timeout_ms, 5000);
	CHECK_STR(c.redis, "127.0.0.1:6379");
	CHECK_INT(c.redis_timeout_ms, 500);
	CHECK_INT(c.workers, 4);
	CHECK_INT(c.max_body, 65536);
	CHECK_INT(c.shutdown_grace_ms, 10000);
	CHECK_INT(c.ready_timeout_ms, 1000);
	CHECK_STR(c.socket_group, "");
	CHECK_INT(c.job_budget_s, 50);
	CHECK_STR(c.log_level, "info");
	CHECK_STR(c.k8s_cert_issuer, "");
	CHECK_STR(c.k8s_cert_issuer_kind, "Issuer");
	CHECK_STR(c.time_zone, "UTC");
	CHECK_INT(c.streak_bonus[0], 2);
	CHECK_INT(c.streak_bonus[1], 5);
	CHECK_INT(c.streak_bonus[2], 15);
	CHECK_INT(c.golden_per_day, 1);
}

/* The game's time zone must be one the tz database here knows. */
static void
test_time_zone(void)
{
	static const struct env_var seoul[] = {
		{ "DBTREE_TIME_ZONE", "Asia/Seoul" },
		{ "DBTREE_GOLDEN_PER_DAY", "0" },
	};
	static const struct env_var bad[][1] = {
		{ { "DBTREE_TIME_ZONE", "Mars/Olympus" } },
		{ { "DBTREE_TIME_ZONE", "../../etc/passwd" } },
		{ { "DBTREE_TIME_ZONE", "/etc/localtime" } },
		{ { "DBTREE_TIME_ZONE", "UTC; DROP" } },
	};
	struct conf c;
	char err[512];

	CHECK_INT(load(seoul, ARRAY_LEN(seoul), &c, err, sizeof(err)), 0);
	CHECK_STR(c.time_zone, "Asia/Seoul");
	CHECK_INT(c.golden_per_day, 0);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		CHECK_INT(load(bad[i], 1, &c, err, sizeof(err)), -1);
		CHECK(strstr(err, "DBTREE_TIME_ZONE") != NULL);
	}
	CHECK(conf_is_time_zone("UTC"));
	CHECK(!conf_is_time_zone(""));
}

/* Set but empty: integers and enums fall back to their defaults. */
static void
test_empty_means_default(void)
{
	static const struct env_var vars[] = {
		{ "DBTREE_WORKERS", "" },
		{ "DBTREE_LOG_LEVEL", "" },
		{ "DBTREE_SOCKET_GROUP", "" },
	};
	struct conf c;
	char err[512];

	CHECK_INT(load(vars, ARRAY_LEN(vars), &c, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_INT(c.workers, 4);
	CHECK_STR(c.log_level, "info");
	CHECK_STR(c.socket_group, "");
}

static void
test_values_used(void)
{
	static const struct env_var vars[] = {
		{ "DBTREE_DB", "postgresql:///dbtree?host=/tmp" },
		{ "DBTREE_REDIS", "/run/redis/redis.sock" },
		{ "DBTREE_WORKERS", "16" },
		{ "DBTREE_MAX_BODY", "1048576" },
		{ "DBTREE_SHUTDOWN_GRACE_MS", "0" },
		{ "DBTREE_LOG_LEVEL", "debug" },
		{ "DBTREE_SOCKET_GROUP", "www-data" },
		{ "UNRELATED", "ignored" },
	};
	struct conf c;
	char err[512];

	CHECK_INT(load(vars, ARRAY_LEN(vars), &c, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_STR(c.db_url, "postgresql:///dbtree?host=/tmp");
	CHECK_STR(c.redis, "/run/redis/redis.sock");
	CHECK_INT(c.workers, 16);
	CHECK_INT(c.max_body, 1048576);
	CHECK_INT(c.shutdown_grace_ms, 0);
	CHECK_STR(c.log_level, "debug");
	CHECK_STR(c.socket_group, "www-data");
	CHECK_INT(c.redis_timeout_ms, 500);	/* unset: default */
}

/* Values that must load: the bounds themselves and each enum choice. */
static void
test_accepts(void)
{
	static const struct env_var ok[] = {
		{ "DBTREE_WORKERS", "1" },
		{ "DBTREE_WORKERS", "64" },
		{ "DBTREE_DB_CONNECT_TIMEOUT", "60" },
		{ "DBTREE_MAX_BODY", "1024" },
		{ "DBTREE_RUN_DIR",	/* 90 bytes: the socket path cap */
		  "/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
		{ "DBTREE_LOG_LEVEL", "err" },
		{ "DBTREE_LOG_LEVEL", "warn" },
		{ "DBTREE_LOG_LEVEL", "info" },
		{ "DBTREE_LOG_LEVEL", "debug" },
		{ "DBTREE_K8S_CERT_ISSUER_KIND", "Issuer" },
		{ "DBTREE_K8S_CERT_ISSUER_KIND", "ClusterIssuer" },
		{ "DBTREE_K8S_CERT_ISSUER", "letsencrypt-prod" },
	};
	struct conf c;
	char err[512];

	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		if (CHECK_INT(load(&ok[i], 1, &c, err, sizeof(err)), 0))
			continue;
		fprintf(stderr, "  refused %s='%s': %s", ok[i].name,
		    ok[i].value, err);
	}
}

/* One bad variable: the load fails and the message names it. */
static void
test_rejects(void)
{
	static const struct env_var bad[] = {
		/* not an integer */
		{ "DBTREE_WORKERS", "four" },
		{ "DBTREE_WORKERS", "4x" },
		{ "DBTREE_WORKERS", "4 " },
		{ "DBTREE_WORKERS", "4.0" },
		{ "DBTREE_WORKERS", "0x10" },
		{ "DBTREE_MAX_BODY", "99999999999999999999999" },
		{ "DBTREE_REDIS_TIMEOUT_MS", "-" },
		/* out of range */
		{ "DBTREE_WORKERS", "0" },
		{ "DBTREE_WORKERS", "65" },
		{ "DBTREE_WORKERS", "-1" },
		{ "DBTREE_DB_CONNECT_TIMEOUT", "1" },
		{ "DBTREE_MAX_BODY", "1023" },
		{ "DBTREE_MAX_BODY", "1048577" },
		{ "DBTREE_READY_TIMEOUT_MS", "10001" },
		{ "DBTREE_JOB_BUDGET", "9223372036854775807" },
		/* not one of the choices */
		{ "DBTREE_LOG_LEVEL", "verbose" },
		{ "DBTREE_LOG_LEVEL", "INFO" },
		{ "DBTREE_LOG_LEVEL", "inf" },
		{ "DBTREE_LOG_LEVEL", "info|" },
		{ "DBTREE_LOG_LEVEL", "err|warn" },
		{ "DBTREE_K8S_CERT_ISSUER_KIND", "issuer" },
		{ "DBTREE_K8S_CERT_ISSUER_KIND", "Vault" },
		/* strings outside their length bounds */
		{ "DBTREE_STATE_DIR", "" },
		{ "DBTREE_RUN_DIR",	/* 91 bytes: one over the socket cap */
		  "/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	};
	struct conf c;
	char err[512];

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int ret = load(&bad[i], 1, &c, err, sizeof(err));

		if (!CHECK_INT(ret, -1) || !CHECK(strstr(err, bad[i].name)))
			fprintf(stderr, "  for %s='%s': stderr was '%s'\n",
			    bad[i].name, bad[i].value, err);
	}
}

/* Every bad variable is reported, not just the first. */
static void
test_reports_all(void)
{
	static const struct env_var vars[] = {
		{ "DBTREE_WORKERS", "lots" },
		{ "DBTREE_DB", "dbname=x" },
		{ "DBTREE_LOG_LEVEL", "loud" },
	};
	struct conf c;
	char err[1024];

	CHECK_INT(load(vars, ARRAY_LEN(vars), &c, err, sizeof(err)), -1);
	CHECK(strstr(err, "DBTREE_WORKERS") != NULL);
	CHECK(strstr(err, "DBTREE_LOG_LEVEL") != NULL);
	/* the good one is quiet, and the bad value is shown */
	CHECK(strstr(err, "DBTREE_DB=") == NULL);
	CHECK(strstr(err, "lots") != NULL);
}

static const struct test_case cases[] = {
	{ "defaults", test_defaults },
	{ "time_zone", test_time_zone },
	{ "empty_means_default", test_empty_means_default },
	{ "values_used", test_values_used },
	{ "accepts", test_accepts },
	{ "rejects", test_rejects },
	{ "reports_all", test_reports_all },
};

int
main(void)
{
	return harness_run("conf", cases, ARRAY_LEN(cases));
}
