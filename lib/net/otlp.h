/*
 * Sending spans to an OpenTelemetry collector: OTLP over HTTP, protobuf
 * encoding, POST to DBTREE_OTLP_ENDPOINT (e.g.
 * http://collector:4318/v1/traces).  A batch is the span records of
 * base/trace.h under one resource (service.name "dbtree", the process
 * group, the host) and one scope.  A batch the collector does not take
 * (no answer within the timeout, or not 2xx) is dropped and counted: the
 * service never waits for its traces.
 *
 * Pools: the workers write span records to a pipe (otlp_pipe_sink: a
 * request's records in one non-blocking write of at most PIPE_BUF bytes; a
 * full pipe drops them, counted) and the pool's exporter process
 * (otlp_export_loop) batches and sends them.  The jobs: spans go into the
 * process's batch (otlp_batch_sink; a full batch drops) and are sent after
 * each job.
 */
#ifndef NET_OTLP_H
#define NET_OTLP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define OTLP_BATCH_SPANS 512

struct otlp {
	void *curl;
	const char *endpoint;
	int64_t timeout_ms;
	uint8_t resource[1024];	/* the Resource message, as protobuf */
	size_t resource_len;
	struct buf spans;	/* span records (base/trace.h), one after another */
	int nspans;
};

/* 0, or -1 (logged). */
int otlp_open(struct otlp *o, const char *endpoint, int64_t timeout_ms,
	      const char *group);
void otlp_close(struct otlp *o);
/* Adds one span record; false when the batch is full. */
bool otlp_add(struct otlp *o, const uint8_t *rec, size_t len);
/* Sends the batch (if any) and empties it; 0, or -1 (logged, counted). */
int otlp_flush(struct otlp *o);

/* trace_sink_fn for a process that sends its own batch (arg: the otlp). */
bool otlp_batch_sink(const uint8_t *rec, size_t len, void *arg);
/* trace_sink_fn writing to a pool's span pipe (arg: an int *fd). */
bool otlp_pipe_sink(const uint8_t *rec, size_t len, void *arg);

/* The pool exporter: reads span records from fd and sends them in batches
 * of up to OTLP_BATCH_SPANS, at least once a second, until *stop (what is
 * in the pipe then is sent first).  Returns the process exit status. */
int otlp_export_loop(struct otlp *o, int fd, volatile sig_atomic_t *stop);

#include "base/banned.h"
#endif
