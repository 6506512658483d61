/*
 * libFuzzer target for base/trace's traceparent parser, the one part of
 * tracing that reads a client's header: whatever the input, a parse that
 * succeeds gives back the same ids and flag when formatted, and a request
 * begun with it continues exactly that trace (or, refused, starts the one
 * its request id names), and its spans encode within their record.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static const char seed[] = "0123456789abcdef0123456789abcdef";

static bool
sink(const uint8_t *rec, size_t len, void *arg)
{
	(void)arg;
	MUST(!rec || (len > 0 && len <= TRACE_RECORD_MAX && rec[0] == 0x12));
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), out[TRACE_PARENT_LEN];
	struct trace_ctx c;
	bool ok;

	memcpy(in, data, size);
	in[size] = '\0';
	ok = trace_parse(in, &c) == 0;
	if (ok) {
		trace_format(&c, out);
		MUST(strlen(in) == TRACE_PARENT_LEN - 1);
		MUST(memcmp(out, in, 53) == 0);	/* version, ids */
		MUST(c.sampled == ((strtol(in + 53, NULL, 16) & 1) != 0));
	}
	trace_setup(1, sink, NULL);
	trace_span_end(trace_span("outside", TRACE_INTERNAL));	/* ignored */
	trace_begin(in, seed, in, TRACE_SERVER);
	MUST(strncmp(trace_id_hex(), ok ? in + 3 : seed, 32) == 0);
	trace_str(trace_span("statement", TRACE_CLIENT), "key", in);
	trace_finish();
	free(in);
	return 0;
}
