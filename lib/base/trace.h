/*
 * Traces: W3C Trace Context ids and OpenTelemetry spans.
 *
 * One unit of work (a request in a pool worker, a pass of the jobs) is
 * begun with trace_begin(), which continues the caller's traceparent or
 * starts a trace, and opens the root span.  Code below opens child spans
 * of whatever span is current (a stack: a span begun inside another is its
 * child) and ends them; trace_finish() ends the root and hands every span
 * worth keeping to the sink, encoded as OTLP protobuf.
 *
 * Kept: every span of a trace whose sampled flag is set (the caller's
 * flag, or the ratio applied to the trace id, so every process decides the
 * same for one trace), and every span of a trace in which a span failed.
 * Spans live in a fixed table; one that finds it full is dropped and
 * counted (meter), never waited for.  With no sink set, nothing is
 * recorded and every call is cheap: ids are still made, for X-Trace-Id and
 * the logs.
 *
 * Spans carry names and short attributes chosen by the code: never SQL
 * text, parameters, tokens, codes or personal data.
 */
#ifndef BASE_TRACE_H
#define BASE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACE_PARENT_LEN 56	/* "00-<32>-<16>-<2>" and its NUL */
#define TRACE_ID_HEX 33

enum trace_kind {
	TRACE_INTERNAL = 1,
	TRACE_SERVER = 2,
	TRACE_CLIENT = 3,
};

struct trace_ctx {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	bool sampled;
};

/* Receives one span as a record of OTLP's protobuf encoding: the "spans"
 * field of a ScopeSpans message (tag, length, Span), at most
 * TRACE_RECORD_MAX bytes; returns false when it could not take it
 * (counted as dropped).  Called with rec NULL after each group of spans
 * sent together: the sink may pass on what it kept (a request's spans in
 * one write). */
#define TRACE_RECORD_MAX 2048
typedef bool (*trace_sink_fn)(const uint8_t *rec, size_t len, void *arg);

/* Parses a version-00 traceparent; 0, or -1 when it is not one (all-zero
 * ids included). */
int trace_parse(const char *traceparent, struct trace_ctx *out);
void trace_format(const struct trace_ctx *ctx, char out[TRACE_PARENT_LEN]);

/* Records spans from now on, keeping ratio (0..1) of the traces, and gives
 * them to sink.  sink NULL: recording off. */
void trace_setup(double ratio, trace_sink_fn sink, void *arg);
bool trace_recording(void);

/* Begins the process's unit of work: continues traceparent (NULL or
 * invalid: a new trace, whose id is seed_hex when that is 32 hex digits,
 * e.g. the request id) and opens its root span, whose handle it returns
 * (-1 when not recording). */
int trace_begin(const char *traceparent, const char *seed_hex,
		const char *name, enum trace_kind kind);
/* Ends every open span and the work, and sends what is kept. */
void trace_finish(void);

/* Opens a child of the current span and makes it current; returns its
 * handle, or -1 when not recording (every call below accepts -1). */
int trace_span(const char *name, enum trace_kind kind);
/* Opens a span continuing another trace (a traceparent stored with the
 * work, NULL or invalid: a child of the current span instead), linked to
 * the current span, and makes it current. */
int trace_span_from(const char *traceparent, const char *name,
		    enum trace_kind kind);
/* Renames a span (a request's, once its route is known). */
void trace_name(int span, const char *name);
/* Attributes; key must be a literal, at most 8 a span. */
void trace_str(int span, const char *key, const char *value);
void trace_int(int span, const char *key, int64_t value);
/* Marks the span failed (its trace is then kept whatever the ratio). */
void trace_fail(int span, const char *message);
/* Ends span and every span opened inside it still open. */
void trace_span_end(int span);
/* The same, but a span inside which nothing happened (no child span, no
 * failure) is forgotten: a look at an instance that needed nothing. */
void trace_span_end_busy(int span);

/* The current trace id as hex ("" outside a unit of work). */
const char *trace_id_hex(void);
/* The current span as a traceparent (outbound headers, stored desired
 * state); -1 outside a unit of work or when not recording. */
int trace_current(char out[TRACE_PARENT_LEN]);

#include "base/banned.h"
#endif
