/*
 * make bench: what recording and encoding a request's spans costs the
 * worker, without the noise of a whole stack: N requests of three spans
 * each (the request, two statements, with the attributes the pools set),
 * at sampling 1.0 (every span encoded) and 0 (recorded, then forgotten),
 * into a sink that only counts.  Prints one line:
 *
 *	spans us_all=0.97 us_none=0.40 bytes=159
 *
 * (microseconds per request, bytes per span record).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/trace.h"

static size_t bytes, records;

static bool
count(const uint8_t *rec, size_t len, void *arg)
{
	(void)arg;
	if (rec) {
		bytes += len;
		records++;
	}
	return true;
}

static void
one_request(void)
{
	int r = trace_begin(NULL, "0123456789abcdef0123456789abcdef",
	    "request", TRACE_SERVER);
	int s = trace_span("session_lookup.select.sessions", TRACE_CLIENT);

	trace_str(s, "db.system", "postgresql");
	trace_span_end(s);
	s = trace_span("account_profile.select.users", TRACE_CLIENT);
	trace_str(s, "db.system", "postgresql");
	trace_span_end(s);
	trace_name(r, "GET /api/user");
	trace_str(r, "http.request.method", "GET");
	trace_str(r, "http.route", "/api/user");
	trace_int(r, "http.response.status_code", 200);
	trace_str(r, "dbtree.group", "account");
	trace_str(r, "dbtree.request_id", "0123456789abcdef0123456789abcdef");
	trace_finish();
}

/* Microseconds per request at ratio. */
static double
run(double ratio, long n)
{
	int64_t t0;

	trace_setup(ratio, count, NULL);
	for (long i = 0; i < n / 10; i++)	/* warm */
		one_request();
	t0 = clock_mono_us();
	for (long i = 0; i < n; i++)
		one_request();
	return (double)(clock_mono_us() - t0) / (double)n;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	double all, none;

	if (n <= 0)
		return fprintf(stderr, "usage: spans [REQUESTS]\n"), 2;
	all = run(1, n);
	none = run(0, n);
	printf("spans us_all=%.2f us_none=%.2f bytes=%zu\n", all, none,
	    records ? bytes / records : 0);
	return 0;
}
