/*
 * Traces: traceparent parsing, the span tree a unit of work makes, the
 * sampling rule (ratio by trace id, failures always kept), a full table
 * dropping instead of waiting, and spans that changed nothing forgotten.
 * The sink collects the OTLP/JSON lines, parsed back with json-c.
 */
#include <json.h>
#include <stdio.h>
#include <string.h>

#include "base/rand.h"
#include "base/trace.h"
#include "harness.h"

#define MAX_LINES 512

static struct json_object *lines[MAX_LINES];
static int nlines;
static bool refuse;

static bool
sink(const char *line, size_t len, void *arg)
{
	(void)arg;
	if (!line)
		return true;	/* the end of a group */
	if (refuse || nlines == MAX_LINES)
		return false;
	CHECK(strlen(line) == len);
	CHECK(strchr(line, '\n') == NULL);
	lines[nlines++] = json_tokener_parse(line);
	return true;
}

static void
reset(double ratio)
{
	for (int i = 0; i < nlines; i++)
		json_object_put(lines[i]);
	nlines = 0;
	refuse = false;
	trace_setup(ratio, sink, NULL);
}

static const char *
field(int i, const char *key)
{
	struct json_object *v;

	if (i >= nlines || !json_object_object_get_ex(lines[i], key, &v))
		return "";
	return json_object_get_string(v);
}

static const char *
plain(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

/* The line whose name is name, or -1. */
static int
named(const char *name)
{
	for (int i = 0; i < nlines; i++)
		if (strcmp(field(i, "name"), name) == 0)
			return i;
	return -1;
}

static void
test_parse(void)
{
	struct trace_ctx c;
	char out[TRACE_PARENT_LEN];
	const char *tp =
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

	CHECK_INT(trace_parse(tp, &c), 0);
	CHECK(c.sampled);
	CHECK_INT(c.trace_id[0], 0x4b);
	CHECK_INT(c.span_id[7], 0xb7);
	trace_format(&c, out);
	CHECK_STR(out, tp);
	CHECK_INT(trace_parse("00-4bf92f3577b34da6a3ce929d0e0e4736-"
	    "00f067aa0ba902b7-00", &c), 0);
	CHECK(!c.sampled);
}

static void
test_parse_rejects(void)
{
	static const char *bad[] = {
		NULL, "", "garbage",
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
		"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	};
	struct trace_ctx c;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		CHECK_INT(trace_parse(bad[i], &c), -1);
}

/* A request continuing a caller's trace: root parented to the caller,
 * children to the root, grandchildren to the child. */
static void
test_tree(void)
{
	const char *tp =
	    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
	int root, child, grand, req, c, g;

	reset(0);
	root = trace_begin(tp, NULL, "request", TRACE_SERVER);
	CHECK(root >= 0);
	CHECK_STR(trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
	child = trace_span("game_harvest.update.users", TRACE_CLIENT);
	trace_str(child, "db.system", "postgresql");
	grand = trace_span("inner", TRACE_INTERNAL);
	trace_int(grand, "n", 7);
	trace_span_end(child);	/* ends grand with it */
	trace_name(root, "POST /api/lemon/harvest");
	trace_finish();
	CHECK_INT(nlines, 3);
	req = named("POST /api/lemon/harvest");
	c = named("game_harvest.update.users");
	g = named("inner");
	if (!CHECK(req >= 0 && c >= 0 && g >= 0))
		return;
	CHECK_STR(field(req, "parentSpanId"), "00f067aa0ba902b7");
	CHECK_STR(field(c, "parentSpanId"), field(req, "spanId"));
	CHECK_STR(field(g, "parentSpanId"), field(c, "spanId"));
	CHECK_STR(field(g, "traceId"), "4bf92f3577b34da6a3ce929d0e0e4736");
	CHECK_STR(field(req, "kind"), "2");
	CHECK(strstr(plain(lines[c]),
	    "{\"key\":\"db.system\",\"value\":{\"stringValue\":\"postgresql\"}}")
	    != NULL);
	CHECK(strstr(plain(lines[g]),
	    "\"intValue\":\"7\"") != NULL);
	CHECK_STR(trace_id_hex(), "");
}

/* Without a caller the trace id is the seed (the request id) and the
 * ratio decides; a failure keeps the whole trace anyway. */
static void
test_sampling(void)
{
	const char *seed = "0123456789abcdef0123456789abcdef";
	int s;

	reset(0);
	trace_begin(NULL, seed, "quiet", TRACE_SERVER);
	CHECK_STR(trace_id_hex(), seed);
	trace_span_end(trace_span("child", TRACE_CLIENT));
	trace_finish();
	CHECK_INT(nlines, 0);

	trace_begin(NULL, seed, "failing", TRACE_SERVER);
	s = trace_span("child", TRACE_CLIENT);
	trace_fail(s, "statement failed");
	trace_span_end(s);
	trace_finish();
	CHECK_INT(nlines, 2);
	CHECK(strstr(plain(lines[named("child")]),
	    "\"code\":2") != NULL);

	reset(1);
	trace_begin(NULL, NULL, "kept", TRACE_SERVER);
	CHECK_INT((int)strlen(trace_id_hex()), 32);
	trace_finish();
	CHECK_INT(nlines, 1);
	CHECK_STR(field(0, "parentSpanId"), "");
}

/* The same trace id gives the same decision in every process: about half
 * of many ids are kept at 0.5. */
static void
test_ratio(void)
{
	char seed[33];
	int kept = 0;

	reset(0.5);
	for (int i = 0; i < 400; i++) {
		(void)i;
		rand_hex(seed, 16);
		trace_begin(NULL, seed, "r", TRACE_SERVER);
		trace_finish();
	}
	kept = nlines;
	CHECK(kept > 120 && kept < 280);
}

/* More spans than the table holds: ended ones are sent early, so a long
 * pass loses nothing; open ones past the depth are dropped, not waited
 * for. */
static void
test_full_table(void)
{
	int depth[40];

	reset(1);
	trace_begin(NULL, NULL, "pass", TRACE_INTERNAL);
	for (int i = 0; i < 300; i++)
		trace_span_end(trace_span("item", TRACE_INTERNAL));
	trace_finish();
	CHECK_INT(nlines, 301);

	reset(1);
	trace_begin(NULL, NULL, "deep", TRACE_INTERNAL);
	for (int i = 0; i < 40; i++)
		depth[i] = trace_span("nested", TRACE_INTERNAL);
	CHECK(depth[0] >= 0);
	CHECK_INT(depth[39], -1);
	trace_str(depth[39], "ignored", "x");	/* harmless on -1 */
	trace_finish();
	CHECK(nlines > 1 && nlines < 40);
}

/* A sink that refuses (a full pipe) loses spans without blocking. */
static void
test_refusing_sink(void)
{
	reset(1);
	refuse = true;
	trace_begin(NULL, NULL, "lost", TRACE_SERVER);
	trace_finish();
	CHECK_INT(nlines, 0);
}

/* A span continuing a stored traceparent belongs to that trace, is linked
 * to the span it ran in, and is forgotten when nothing happened in it. */
static void
test_span_from(void)
{
	const char *stored =
	    "00-aaaabbbbccccddddeeeeffff00001111-1111222233334444-01";
	int pass, busy, idle;

	reset(0);
	pass = trace_begin(NULL, NULL, "jobs pass", TRACE_INTERNAL);
	idle = trace_span_from(stored, "reconcile idle", TRACE_INTERNAL);
	trace_span_end_busy(idle);
	busy = trace_span_from(stored, "reconcile busy", TRACE_INTERNAL);
	trace_span_end(trace_span("kubernetes PATCH statefulsets",
	    TRACE_CLIENT));
	trace_span_end_busy(busy);
	trace_finish();
	(void)pass;
	CHECK_INT(named("reconcile idle"), -1);
	CHECK(named("reconcile busy") >= 0);
	CHECK_STR(field(named("reconcile busy"), "traceId"),
	    "aaaabbbbccccddddeeeeffff00001111");
	CHECK_STR(field(named("reconcile busy"), "parentSpanId"),
	    "1111222233334444");
	CHECK_STR(field(named("kubernetes PATCH statefulsets"),
	    "parentSpanId"), field(named("reconcile busy"), "spanId"));
	CHECK(strstr(plain(lines[named("reconcile busy")]), "\"links\"") != NULL);
	/* the unsampled pass itself is not sent */
	CHECK_INT(named("jobs pass"), -1);
}

/* Not recording: ids for X-Trace-Id and the logs, nothing else. */
static void
test_off(void)
{
	char tp[TRACE_PARENT_LEN];

	reset(1);
	trace_setup(1, NULL, NULL);
	CHECK(!trace_recording());
	CHECK_INT(trace_begin(NULL, NULL, "x", TRACE_SERVER), -1);
	CHECK_INT((int)strlen(trace_id_hex()), 32);
	CHECK_INT(trace_current(tp), 0);
	CHECK_INT(trace_span("y", TRACE_CLIENT), -1);
	trace_finish();
	CHECK_INT(trace_current(tp), -1);
	CHECK_INT(nlines, 0);
}

static const struct test_case cases[] = {
	{ "parse", test_parse },
	{ "parse_rejects", test_parse_rejects },
	{ "tree", test_tree },
	{ "sampling", test_sampling },
	{ "ratio", test_ratio },
	{ "full_table", test_full_table },
	{ "refusing_sink", test_refusing_sink },
	{ "span_from", test_span_from },
	{ "off", test_off },
};

int
main(void)
{
	int ret = harness_run("trace", cases, ARRAY_LEN(cases));

	reset(0);
	return ret;
}
