/*
 * Spans in a fixed table with a stack of open ones; a span's handle is its
 * slot.  A span is sent as Protocol Buffers (OTLP's Span, inside its
 * ScopeSpans field), written by hand: a few hundred bytes and no
 * allocation, which keeps tracing cheap enough to leave on.  Ended spans are sent at trace_finish(), or earlier when the table
 * fills (a long jobs pass), so a pass over many instances needs no more
 * memory than a request.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/meter.h"
#include "base/pb.h"
#include "base/rand.h"
#include "base/trace.h"

#define TRACE_SLOTS 128
#define TRACE_DEPTH 16
#define TRACE_ATTRS 8

struct attr {
	const char *key;	/* a literal */
	bool is_int;
	int64_t i;
	char s[96];
};

struct span {
	bool used, open, error, sampled, has_parent, has_link;
	enum trace_kind kind;
	uint8_t trace_id[16], span_id[8], parent[8];
	uint8_t link_trace[16], link_span[8];
	int64_t start_ns, end_ns;
	int children;		/* spans opened inside it */
	char name[64];
	char status[128];
	int nattr;
	struct attr attr[TRACE_ATTRS];
};

static struct {
	double ratio;
	uint64_t rng;
	trace_sink_fn sink;
	void *arg;
	bool active;		/* inside trace_begin .. trace_finish */
	struct trace_ctx root;
	char id_hex[TRACE_ID_HEX];
	struct span slot[TRACE_SLOTS];
	int stack[TRACE_DEPTH];
	int depth;
} t;

/* Ids from a generator seeded by the kernel once per trace_setup (a
 * system call per span costs more than the rest of the span here). */
static uint64_t
next_random(void)
{
	uint64_t z;

	if (!t.rng)	/* not set up: seeded on first use, in this process */
		rand_bytes(&t.rng, sizeof(t.rng));
	z = (t.rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* n random bytes, never all zero (an invalid id). */
static void
new_id(uint8_t *out, size_t n)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n; i++) {
		if (i % 8 == 0)
			x = next_random();
		out[i] = (uint8_t)(x >> (8 * (i % 8)));
	}
	out[n - 1] |= 1;
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
to_hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lowercase hex into n bytes, refusing all zeros; 0 or -1. */
static int
from_hex(const char *s, uint8_t *out, size_t n)
{
	uint8_t any = 0;

	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(s[2 * i]), lo = hi < 0 ? -1 :
		    hex_value(s[2 * i + 1]);

		if (lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
		any |= out[i];
	}
	return any ? 0 : -1;
}

int
trace_parse(const char *tp, struct trace_ctx *out)
{
	int flags_hi, flags_lo;

	if (!tp || strlen(tp) != TRACE_PARENT_LEN - 1 ||
	    strncmp(tp, "00-", 3) != 0 || tp[35] != '-' || tp[52] != '-' ||
	    from_hex(tp + 3, out->trace_id, 16) < 0 ||
	    from_hex(tp + 36, out->span_id, 8) < 0)
		return -1;
	flags_hi = hex_value(tp[53]);
	flags_lo = hex_value(tp[54]);
	if (flags_hi < 0 || flags_lo < 0)
		return -1;
	out->sampled = (flags_lo & 1) != 0;
	return 0;
}

void
trace_format(const struct trace_ctx *ctx, char out[TRACE_PARENT_LEN])
{
	char id[33], span[17];

	to_hex(ctx->trace_id, 16, id);
	to_hex(ctx->span_id, 8, span);
	snprintf(out, TRACE_PARENT_LEN, "00-%s-%s-%s", id, span,
	    ctx->sampled ? "01" : "00");
}

void
trace_setup(double ratio, trace_sink_fn sink, void *arg)
{
	t.ratio = ratio;
	t.sink = sink;
	t.arg = arg;
	rand_bytes(&t.rng, sizeof(t.rng));
}

bool
trace_recording(void)
{
	return t.sink != NULL;
}

/* The ratio applied to the trace id's random low half, so every process
 * takes the same decision for one trace. */
static bool
ratio_keeps(const uint8_t id[16])
{
	uint64_t x = 0;

	for (int i = 8; i < 16; i++)
		x = x << 8 | id[i];
	return (double)(x >> 11) < t.ratio * (double)(1ULL << 53);
}

/* --- sending ------------------------------------------------------------ */

/* OTLP field numbers (opentelemetry/proto/trace/v1/trace.proto and
 * common/v1/common.proto), in the order the protocol declares them. */
enum {
	SPAN_TRACE_ID = 1, SPAN_SPAN_ID = 2, SPAN_PARENT = 4, SPAN_NAME = 5,
	SPAN_KIND = 6, SPAN_START = 7, SPAN_END = 8, SPAN_ATTRIBUTES = 9,
	SPAN_LINKS = 13, SPAN_STATUS = 15,
	LINK_TRACE_ID = 1, LINK_SPAN_ID = 2,
	STATUS_MESSAGE = 2, STATUS_CODE = 3, STATUS_ERROR = 2,
	KV_KEY = 1, KV_VALUE = 2, ANY_STRING = 1, ANY_INT = 3,
	SCOPE_SPANS_SPAN = 2,
};

static void
add_attr(struct pb *span, const struct attr *a)
{
	uint8_t vmem[128], kvmem[192];
	struct pb v = PB_INIT(vmem), kv = PB_INIT(kvmem);

	if (a->is_int)
		pb_uint(&v, ANY_INT, (uint64_t)a->i);
	else
		pb_str(&v, ANY_STRING, a->s);
	pb_str(&kv, KV_KEY, a->key);
	pb_msg(&kv, KV_VALUE, &v);
	pb_msg(span, SPAN_ATTRIBUTES, &kv);
}

static void
add_link_and_status(struct pb *span, const struct span *s)
{
	uint8_t mem[192];
	struct pb m = PB_INIT(mem);

	if (s->has_link) {
		pb_bytes(&m, LINK_TRACE_ID, s->link_trace, 16);
		pb_bytes(&m, LINK_SPAN_ID, s->link_span, 8);
		pb_msg(span, SPAN_LINKS, &m);
	}
	if (s->error) {
		m = (struct pb)PB_INIT(mem);
		pb_str(&m, STATUS_MESSAGE, s->status);
		pb_uint(&m, STATUS_CODE, STATUS_ERROR);
		pb_msg(span, SPAN_STATUS, &m);
	}
}

/* s as a "spans" field of OTLP's ScopeSpans: a record the exporter can
 * put in a request as it is.  0, or -1 when it does not fit out. */
static int
span_record(const struct span *s, struct pb *out)
{
	uint8_t mem[TRACE_RECORD_MAX];
	struct pb span = PB_INIT(mem);

	pb_bytes(&span, SPAN_TRACE_ID, s->trace_id, 16);
	pb_bytes(&span, SPAN_SPAN_ID, s->span_id, 8);
	if (s->has_parent)
		pb_bytes(&span, SPAN_PARENT, s->parent, 8);
	pb_str(&span, SPAN_NAME, s->name);
	pb_uint(&span, SPAN_KIND, (uint64_t)s->kind);
	pb_fixed64(&span, SPAN_START, (uint64_t)s->start_ns);
	pb_fixed64(&span, SPAN_END, (uint64_t)s->end_ns);
	for (int i = 0; i < s->nattr; i++)
		add_attr(&span, &s->attr[i]);
	add_link_and_status(&span, s);
	pb_msg(out, SCOPE_SPANS_SPAN, &span);
	return out->full ? -1 : 0;
}

static void
send_span(const struct span *s)
{
	uint8_t mem[TRACE_RECORD_MAX];
	struct pb rec = PB_INIT(mem);

	if (span_record(s, &rec) < 0 || !t.sink(rec.data, rec.len, t.arg))
		meter_count(METER_SPANS, "dropped");
}

static bool
trace_failed(const uint8_t id[16])
{
	for (int i = 0; i < TRACE_SLOTS; i++)
		if (t.slot[i].used && t.slot[i].error &&
		    memcmp(t.slot[i].trace_id, id, 16) == 0)
			return true;
	return false;
}

/* Sends (or forgets, when not kept) every ended span and frees its slot. */
static void
flush_ended(void)
{
	for (int i = 0; i < TRACE_SLOTS; i++) {
		struct span *s = &t.slot[i];

		if (!s->used || s->open)
			continue;
		if (s->sampled || trace_failed(s->trace_id))
			send_span(s);
	}
	for (int i = 0; i < TRACE_SLOTS; i++)
		if (t.slot[i].used && !t.slot[i].open)
			t.slot[i].used = false;
	t.sink(NULL, 0, t.arg);
}

/* --- spans -------------------------------------------------------------- */

static int
free_slot(void)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < TRACE_SLOTS; i++)
			if (!t.slot[i].used)
				return i;
		if (pass == 0)
			flush_ended();
	}
	return -1;
}

static struct span *
span_of(int h)
{
	return h >= 0 && h < TRACE_SLOTS && t.slot[h].used ? &t.slot[h] : NULL;
}

/* A new open span of trace ctx (parent: ctx's span id when parented),
 * pushed as the current one. */
static int
open_span(const struct trace_ctx *ctx, bool parented, const char *name,
	  enum trace_kind kind)
{
	int h;
	struct span *s;

	if (!t.sink || !t.active)
		return -1;
	if (t.depth == TRACE_DEPTH || (h = free_slot()) < 0) {
		meter_count(METER_SPANS, "dropped");
		return -1;
	}
	if (t.depth > 0)
		t.slot[t.stack[t.depth - 1]].children++;
	s = &t.slot[h];
	memset(s, 0, sizeof(*s));
	s->used = s->open = true;
	s->kind = kind;
	s->sampled = ctx->sampled;
	memcpy(s->trace_id, ctx->trace_id, 16);
	if (parented) {
		memcpy(s->parent, ctx->span_id, 8);
		s->has_parent = true;
	}
	new_id(s->span_id, 8);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->start_ns = now_ns();
	t.stack[t.depth++] = h;
	return h;
}

/* The current span's context: the top of the stack, or the root's. */
static struct trace_ctx
current_ctx(void)
{
	struct trace_ctx c = t.root;
	const struct span *s;

	if (t.depth > 0) {
		s = &t.slot[t.stack[t.depth - 1]];
		memcpy(c.trace_id, s->trace_id, 16);
		memcpy(c.span_id, s->span_id, 8);
		c.sampled = s->sampled;
	}
	return c;
}

int
trace_span(const char *name, enum trace_kind kind)
{
	static const uint8_t none[8];
	struct trace_ctx c = current_ctx();

	return open_span(&c, memcmp(c.span_id, none, 8) != 0, name, kind);
}

int
trace_span_from(const char *traceparent, const char *name,
		enum trace_kind kind)
{
	struct trace_ctx here = current_ctx(), there;
	bool linked = t.depth > 0;
	struct span *s;
	int h;

	if (trace_parse(traceparent, &there) < 0)
		return trace_span(name, kind);
	there.sampled = there.sampled || ratio_keeps(there.trace_id);
	h = open_span(&there, true, name, kind);
	if ((s = span_of(h)) != NULL && linked) {
		memcpy(s->link_trace, here.trace_id, 16);
		memcpy(s->link_span, here.span_id, 8);
		s->has_link = true;
	}
	return h;
}

void
trace_name(int h, const char *name)
{
	struct span *s = span_of(h);

	if (s)
		snprintf(s->name, sizeof(s->name), "%s", name);
}

static struct attr *
new_attr(int h, const char *key)
{
	struct span *s = span_of(h);

	if (!s || s->nattr == TRACE_ATTRS)
		return NULL;
	s->attr[s->nattr].key = key;
	return &s->attr[s->nattr++];
}

void
trace_str(int h, const char *key, const char *value)
{
	struct attr *a = new_attr(h, key);

	if (a)
		snprintf(a->s, sizeof(a->s), "%s", value ? value : "");
}

void
trace_int(int h, const char *key, int64_t value)
{
	struct attr *a = new_attr(h, key);

	if (a) {
		a->is_int = true;
		a->i = value;
	}
}

void
trace_fail(int h, const char *message)
{
	struct span *s = span_of(h);

	if (!s)
		return;
	s->error = true;
	snprintf(s->status, sizeof(s->status), "%s", message ? message : "");
}

void
trace_span_end(int h)
{
	struct span *s = span_of(h);
	int64_t end = now_ns();

	if (!s || !s->open)
		return;
	while (t.depth > 0) {
		struct span *top = &t.slot[t.stack[--t.depth]];

		top->open = false;
		top->end_ns = end;
		if (top == s)
			break;
	}
}

void
trace_span_end_busy(int h)
{
	struct span *s = span_of(h);

	trace_span_end(h);
	if (s && !s->children && !s->error)
		s->used = false;
}

/* --- units of work ------------------------------------------------------ */

int
trace_begin(const char *traceparent, const char *seed_hex, const char *name,
	    enum trace_kind kind)
{
	struct trace_ctx c;
	bool parented = trace_parse(traceparent, &c) == 0;
	int h;

	if (t.active)
		trace_finish();
	if (!parented) {
		if (!seed_hex || strlen(seed_hex) != 32 ||
		    from_hex(seed_hex, c.trace_id, 16) < 0)
			new_id(c.trace_id, 16);
		memset(c.span_id, 0, sizeof(c.span_id));
		c.sampled = ratio_keeps(c.trace_id);
	}
	t.root = c;
	t.active = true;
	t.depth = 0;
	to_hex(c.trace_id, 16, t.id_hex);
	if ((h = open_span(&c, parented, name, kind)) < 0)
		new_id(t.root.span_id, 8);	/* not recording */
	return h;
}

void
trace_finish(void)
{
	if (!t.active)
		return;
	if (t.depth > 0)
		trace_span_end(t.stack[0]);
	if (t.sink)
		flush_ended();
	t.active = false;
	t.id_hex[0] = '\0';
}

const char *
trace_id_hex(void)
{
	return t.id_hex;
}

int
trace_current(char out[TRACE_PARENT_LEN])
{
	struct trace_ctx c;

	if (!t.active || !t.sink)
		return -1;
	c = current_ctx();
	trace_format(&c, out);
	return 0;
}
