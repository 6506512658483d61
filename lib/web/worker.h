/*
 * A pool worker: accepts FastCGI requests on the shared socket one at a
 * time until told to stop, answering each through the route table.
 * Internal to lib/web (pool.c forks, worker.c serves).
 */
#ifndef WEB_WORKER_H
#define WEB_WORKER_H

#include <stddef.h>

struct conf;
struct metrics_shm;
struct route;

struct worker_ctx {
	const struct conf *conf;
	const char *group;
	const struct route *routes;
	size_t nroutes;
	struct metrics_shm *metrics;
	int listen_fd;
	int live_fd;		/* the relay's pipe (web/relay.h), or -1 */
	int span_fd;		/* the exporter's pipe (net/otlp.h), or -1 */
};

/* Serves until SIGTERM; returns the exit status for the process. */
int worker_serve(const struct worker_ctx *ctx);

#include "base/banned.h"
#endif
