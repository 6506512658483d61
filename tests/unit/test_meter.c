/*
 * Operation metrics in a .meter file: counts and histograms by name,
 * rendered as Prometheus text grouped by family; the jobs' file keeps its
 * counts from one run to the next.  Also the statement names db_exec
 * gives them (store/db.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/meter.h"
#include "store/db.h"
#include "harness.h"

static char dir[64];

static void
make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/dbtree-meter-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
}

static void
remove_dir(void)
{
	char path[128];

	meter_detach();
	snprintf(path, sizeof(path), "%s/jobs.meter", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/tree.meter", dir);
	unlink(path);
	rmdir(dir);
}

static bool
has(const struct buf *b, const char *line)
{
	return strstr(buf_cstr(b), line) != NULL;
}

static void
test_render(void)
{
	struct buf out = BUF_INIT(1 << 20);

	make_dir();
	meter_op(METER_DB, "before_attach", true, 5);	/* ignored */
	if (!CHECK_INT(meter_attach(dir, "tree", false), 0))
		return;
	meter_op(METER_DB, "game_harvest.update.users", true, 300);
	meter_op(METER_DB, "game_harvest.update.users", false, 20000);
	meter_op(METER_REDIS, "EVALSHA", true, 80);
	meter_count(METER_CACHE_HIT, "tree_status");
	meter_count(METER_CACHE_HIT, "tree_status");
	meter_count(METER_HARVEST, "won");
	CHECK_INT(meter_render(dir, &out), 0);
	CHECK(has(&out, "# TYPE dbtree_db_operations_total counter\n"));
	CHECK(has(&out, "# TYPE dbtree_db_operation_duration_seconds "
	    "histogram\n"));
	CHECK(has(&out, "dbtree_db_operations_total{group=\"tree\","
	    "statement=\"game_harvest.update.users\",outcome=\"ok\"} 1\n"));
	CHECK(has(&out, "dbtree_db_operations_total{group=\"tree\","
	    "statement=\"game_harvest.update.users\",outcome=\"error\"} 1\n"));
	CHECK(has(&out, "dbtree_db_operation_duration_seconds_bucket{group="
	    "\"tree\",statement=\"game_harvest.update.users\",le=\"0.0005\"}"
	    " 1\n"));
	CHECK(has(&out, "dbtree_db_operation_duration_seconds_bucket{group="
	    "\"tree\",statement=\"game_harvest.update.users\",le=\"+Inf\"}"
	    " 2\n"));
	CHECK(has(&out, "dbtree_db_operation_duration_seconds_sum{group="
	    "\"tree\",statement=\"game_harvest.update.users\"} 0.020300\n"));
	CHECK(has(&out, "dbtree_redis_operations_total{group=\"tree\","
	    "command=\"EVALSHA\",outcome=\"ok\"} 1\n"));
	CHECK(has(&out, "dbtree_cache_hits_total{group=\"tree\","
	    "cache=\"tree_status\"} 2\n"));
	CHECK(has(&out, "dbtree_harvests_total{group=\"tree\","
	    "outcome=\"won\"} 1\n"));
	CHECK(!has(&out, "before_attach"));
	buf_release(&out);
	remove_dir();
}

/* The jobs' file outlives the process that wrote it, and a new run adds
 * to it. */
static void
test_keep(void)
{
	struct buf out = BUF_INIT(1 << 20);

	make_dir();
	CHECK_INT(meter_attach(dir, "jobs", true), 0);
	meter_op(METER_OUTBOUND, "smtp", true, 1000);
	meter_detach();
	CHECK_INT(meter_attach(dir, "jobs", true), 0);
	meter_op(METER_OUTBOUND, "smtp", true, 1000);
	meter_detach();
	CHECK_INT(meter_render(dir, &out), 0);
	CHECK(has(&out, "dbtree_outbound_requests_total{group=\"jobs\","
	    "target=\"smtp\",outcome=\"ok\"} 2\n"));
	buf_release(&out);
	remove_dir();
}

/* Every family's HELP and TYPE come once, whatever the files. */
static void
test_families_once(void)
{
	struct buf out = BUF_INIT(1 << 20);
	const char *p;
	int n = 0;

	make_dir();
	CHECK_INT(meter_attach(dir, "jobs", true), 0);
	meter_count(METER_SPANS, "dropped");
	meter_detach();
	CHECK_INT(meter_attach(dir, "tree", false), 0);
	meter_count(METER_SPANS, "dropped");
	CHECK_INT(meter_render(dir, &out), 0);
	for (p = buf_cstr(&out); (p = strstr(p,
	    "# TYPE dbtree_trace_spans_total")); p++)
		n++;
	CHECK_INT(n, 1);
	CHECK(has(&out, "dbtree_trace_spans_total{group=\"jobs\","
	    "outcome=\"dropped\"} 1\n"));
	CHECK(has(&out, "dbtree_trace_spans_total{group=\"tree\","
	    "outcome=\"dropped\"} 1\n"));
	buf_release(&out);
	remove_dir();
}

/* Processes claiming the same new series at the same moment make one
 * slot each, never two series with the same labels. */
static void
test_concurrent_claims(void)
{
	struct buf out = BUF_INIT(4 << 20);
	char label[32], line[96];
	pid_t kids[4];

	make_dir();
	CHECK_INT(meter_attach(dir, "tree", false), 0);
	for (int k = 0; k < 4; k++) {
		if ((kids[k] = fork()) == 0) {
			for (int i = 0; i < 300; i++) {
				snprintf(label, sizeof(label), "key%d", i);
				meter_count(METER_CACHE_MISS, label);
			}
			_exit(0);
		}
	}
	for (int k = 0; k < 4; k++)
		waitpid(kids[k], NULL, 0);
	CHECK_INT(meter_render(dir, &out), 0);
	for (int i = 0; i < 300; i++) {
		const char *p = buf_cstr(&out);
		int n = 0;

		snprintf(line, sizeof(line), "cache=\"key%d\"} ", i);
		while ((p = strstr(p, line)) != NULL) {
			if (!CHECK(strncmp(p + strlen(line), "4\n", 2) == 0))
				break;
			n++;
			p++;
		}
		if (!CHECK_INT(n, 1))
			break;
	}
	buf_release(&out);
	remove_dir();
}

static void
check_name(const char *func, const char *sql, const char *want)
{
	char name[64];

	db_statement_name(func, sql, name, sizeof(name));
	if (!CHECK_STR(name, want))
		fprintf(stderr, "  for '%s'\n", sql);
}

static void
test_statement_names(void)
{
	check_name("game_harvest", "UPDATE users SET lemon_balance = $1",
	    "game_harvest.update.users");
	check_name("stats_load", "SELECT count(*) FROM ledger WHERE x = $1",
	    "stats_load.select.ledger");
	check_name("queue", "INSERT INTO mail_outbox (kind) VALUES ($1)",
	    "queue.insert.mail_outbox");
	check_name("sweep", "DELETE FROM quiz_attempts WHERE id = $1",
	    "sweep.delete.quiz_attempts");
	check_name("take", "WITH taken AS (UPDATE t SET a = 1) SELECT 1",
	    "take.with.taken");
	check_name("db", "COMMIT", "db.commit");
	check_name("lock", "SELECT pg_advisory_lock(1)", "lock.select");
	/* parameters and literals never reach the name */
	check_name("f", "SELECT 'secret' FROM \"x\"", "f.select");
}

static const struct test_case cases[] = {
	{ "render", test_render },
	{ "keep", test_keep },
	{ "families_once", test_families_once },
	{ "concurrent_claims", test_concurrent_claims },
	{ "statement_names", test_statement_names },
};

int
main(void)
{
	return harness_run("meter", cases, ARRAY_LEN(cases));
}
