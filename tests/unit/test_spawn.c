/*
 * spawn_run: exit statuses, the reason line (the last one not indented),
 * the exact environment, and the time and size caps that kill a child.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/spawn.h"
#include "harness.h"

static int
sh(const char *script, const char *const *env, const char *watch,
   int64_t max_bytes, int64_t timeout_ms, char *err, size_t size)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct spawn_opts o = { argv, env, -1, -1, watch, max_bytes,
		timeout_ms };

	return spawn_run(&o, err, size);
}

static void
test_exit_status_and_reason(void)
{
	char err[128];

	CHECK_INT(sh("exit 0", NULL, NULL, 0, 5000, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_INT(sh("echo first >&2; echo 'error: it broke' >&2;"
	    " printf '\\thint: look here\\n' >&2; exit 3", NULL, NULL, 0, 5000,
	    err, sizeof(err)), 3);
	CHECK_STR(err, "error: it broke");
}

static void
test_only_the_given_environment(void)
{
	static const char *const env[] = { "ONLY=this", NULL };
	char err[128];

	setenv("LEAK", "secret", 1);
	CHECK_INT(sh("[ \"$ONLY\" = this ] && [ -z \"$LEAK\" ]", env, NULL, 0,
	    5000, err, sizeof(err)), 0);
	unsetenv("LEAK");
}

static void
test_timeout_kills(void)
{
	char err[128];

	CHECK_INT(sh("sleep 5", NULL, NULL, 0, 200, err, sizeof(err)),
	    SPAWN_TIMEOUT);
}

static void
test_size_cap_kills(void)
{
	char path[] = "/tmp/dbtree-spawn-XXXXXX", script[256], err[128];
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	snprintf(script, sizeof(script), "while :; do head -c 65536"
	    " /dev/zero; done > %s", path);
	CHECK_INT(sh(script, NULL, path, 100000, 10000, err, sizeof(err)),
	    SPAWN_TOO_BIG);
	unlink(path);
}

static const struct test_case cases[] = {
	{ "exit_status_and_reason", test_exit_status_and_reason },
	{ "only_the_given_environment", test_only_the_given_environment },
	{ "timeout_kills", test_timeout_kills },
	{ "size_cap_kills", test_size_cap_kills },
};

int
main(void)
{
	return harness_run("spawn", cases, ARRAY_LEN(cases));
}
