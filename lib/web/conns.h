/*
 * A FastCGI worker's connections: accepts from the pool's listening socket,
 * keeps the connections nginx asks to keep, waits on all of them at once
 * and serves each request whole, one at a time.  Internal to lib/web and
 * the bench's control responder.
 */
#ifndef WEB_CONNS_H
#define WEB_CONNS_H

#include <fcgiapp.h>
#include <signal.h>
#include <stdint.h>

/* Answers one request; the connection is finished by the caller. */
typedef void conns_serve_fn(FCGX_Request *fr, void *arg);

/*
 * Serves requests from listen_fd's connections with serve until *stopping
 * is set, then what still arrives on the kept connections until nginx has
 * closed them or drain_ms has passed.  FCGX_Init() must have run.  The
 * caller blocks SIGTERM and SIGINT and sets *stopping from their handler:
 * they are let through only while waiting, never inside a request.
 */
void conns_loop(int listen_fd, volatile sig_atomic_t *stopping,
		int64_t drain_ms, conns_serve_fn *serve, void *arg);

#include "base/banned.h"
#endif
