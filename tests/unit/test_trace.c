/*
 * Traces: traceparent parsing, the span tree a unit of work makes, the
 * sampling rule (ratio by trace id, failures always kept), a full table
 * dropping instead of waiting, and spans that changed nothing forgotten.
 * The sink collects the protobuf records, read back by a small reader here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rand.h"
#include "base/trace.h"
#include "harness.h"

#define MAX_LINES 512

/* A span as the sink got it, read back from its protobuf record. */
struct got {
	char trace[33], id[17], parent[17], name[64];
	int kind;
	uint64_t start, end;
	int nattr;
	struct {
		char key[64], s[128];
		bool is_int;
		int64_t i;
	} attr[8];
	char link_trace[33];
	int status;
	char message[128];
};

static struct got lines[MAX_LINES];
static int nlines;
static bool refuse;

/* --- a reader for what the writer writes -------------------------------- */

struct rd {
	const uint8_t *p, *end;
};

static uint64_t
varint(struct rd *r)
{
	uint64_t v = 0;

	for (int shift = 0; r->p < r->end && shift < 64; shift += 7) {
		uint8_t b = *r->p++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	return v;
}

/* The next field: its number, wire type, and for a length-delimited one
 * its bytes in *sub. */
static unsigned
field(struct rd *r, int *wire, struct rd *sub, uint64_t *v)
{
	uint64_t tag = varint(r);

	*wire = (int)(tag & 7);
	if (*wire == 2) {
		uint64_t n = varint(r);

		sub->p = r->p;
		sub->end = r->p + n;
		r->p += n;
	} else if (*wire == 1) {
		*v = 0;
		for (int i = 0; i < 8; i++)
			*v |= (uint64_t)r->p[i] << (8 * i);
		r->p += 8;
	} else {
		*v = varint(r);
	}
	return (unsigned)(tag >> 3);
}

static void
hex(const struct rd *b, char *out)
{
	size_t n = (size_t)(b->end - b->p);

	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b->p[i]);
	out[2 * n] = '\0';
}

static void
text(const struct rd *b, char *out, size_t size)
{
	snprintf(out, size, "%.*s", (int)(b->end - b->p), (const char *)b->p);
}

static void
read_attr(struct rd kv, struct got *g)
{
	struct rd sub, val;
	uint64_t v = 0;
	int wire;

	if (g->nattr == 8)
		return;
	while (kv.p < kv.end) {
		unsigned f = field(&kv, &wire, &sub, &v);

		if (f == 1)
			text(&sub, g->attr[g->nattr].key, 64);
		if (f != 2)
			continue;
		while (sub.p < sub.end) {
			unsigned k = field(&sub, &wire, &val, &v);

			if (k == 1)
				text(&val, g->attr[g->nattr].s, 128);
			g->attr[g->nattr].is_int = k == 3;
			g->attr[g->nattr].i = (int64_t)v;
		}
	}
	g->nattr++;
}

static void
read_inner(unsigned f, struct rd sub, struct got *g)
{
	struct rd x;
	uint64_t v = 0;
	int wire;

	while (sub.p < sub.end) {
		unsigned k = field(&sub, &wire, &x, &v);

		if (f == 13 && k == 1)
			hex(&x, g->link_trace);
		if (f == 15 && k == 2)
			text(&x, g->message, sizeof(g->message));
		if (f == 15 && k == 3)
			g->status = (int)v;
	}
}

static bool
read_span(const uint8_t *rec, size_t len, struct got *g)
{
	struct rd r = { rec, rec + len }, span, sub;
	uint64_t v = 0;
	int wire;

	memset(g, 0, sizeof(*g));
	if (field(&r, &wire, &span, &v) != 2 || wire != 2 || r.p != r.end)
		return false;	/* not one ScopeSpans.spans field */
	while (span.p < span.end) {
		unsigned f = field(&span, &wire, &sub, &v);

		switch (f) {
		case 1: hex(&sub, g->trace); break;
		case 2: hex(&sub, g->id); break;
		case 4: hex(&sub, g->parent); break;
		case 5: text(&sub, g->name, sizeof(g->name)); break;
		case 6: g->kind = (int)v; break;
		case 7: g->start = v; break;
		case 8: g->end = v; break;
		case 9: read_attr(sub, g); break;
		case 13: case 15: read_inner(f, sub, g); break;
		default: return false;
		}
	}
	return true;
}

/* --- the sink ----------------------------------------------------------- */

static bool
sink(const uint8_t *rec, size_t len, void *arg)
{
	(void)arg;
	if (!rec)
		return true;	/* the end of a group */
	if (refuse || nlines == MAX_LINES)
		return false;
	CHECK(len <= TRACE_RECORD_MAX);
	CHECK(read_span(rec, len, &lines[nlines]));
	nlines++;
	return true;
}

static void
reset(double ratio)
{
	nlines = 0;
	refuse = false;
	trace_setup(ratio, sink, NULL);
}

/* The span named name, or -1. */
static int
named(const char *name)
{
	for (int i = 0; i < nlines; i++)
		if (strcmp(lines[i].name, name) == 0)
			return i;
	return -1;
}

/* The attribute key of span i, or NULL. */
static const void *
attr(int i, const char *key, bool *is_int, int64_t *n)
{
	for (int k = 0; i >= 0 && k < lines[i].nattr; k++) {
		if (strcmp(lines[i].attr[k].key, key) != 0)
			continue;
		*is_int = lines[i].attr[k].is_int;
		*n = lines[i].attr[k].i;
		return lines[i].attr[k].s;
	}
	return NULL;
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
	const char *v;
	bool is_int;
	int64_t n;

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
	CHECK_STR(lines[req].parent, "00f067aa0ba902b7");
	CHECK_STR(lines[c].parent, lines[req].id);
	CHECK_STR(lines[g].parent, lines[c].id);
	CHECK_STR(lines[g].trace, "4bf92f3577b34da6a3ce929d0e0e4736");
	CHECK_INT(lines[req].kind, TRACE_SERVER);
	CHECK_INT(lines[c].kind, TRACE_CLIENT);
	CHECK(lines[req].start <= lines[c].start && lines[c].start <=
	    lines[g].start && lines[g].end <= lines[c].end &&
	    lines[c].end <= lines[req].end);
	v = attr(c, "db.system", &is_int, &n);
	CHECK(v && !is_int && strcmp(v, "postgresql") == 0);
	v = attr(g, "n", &is_int, &n);
	CHECK(v && is_int && n == 7);
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
	CHECK_INT(lines[named("child")].status, 2);
	CHECK_STR(lines[named("child")].message, "statement failed");

	reset(1);
	trace_begin(NULL, NULL, "kept", TRACE_SERVER);
	CHECK_INT((int)strlen(trace_id_hex()), 32);
	trace_finish();
	CHECK_INT(nlines, 1);
	CHECK_STR(lines[0].parent, "");
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
	busy = named("reconcile busy");
	if (!CHECK(busy >= 0))
		return;
	CHECK_STR(lines[busy].trace, "aaaabbbbccccddddeeeeffff00001111");
	CHECK_STR(lines[busy].parent, "1111222233334444");
	CHECK_STR(lines[named("kubernetes PATCH statefulsets")].parent,
	    lines[busy].id);
	CHECK_INT((int)strlen(lines[busy].link_trace), 32);
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
	CHECK_INT(trace_current(tp), -1);	/* nothing to continue */
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
