/*
 * The FastCGI connections of one pool worker (and of the bench's control
 * responder, which must close and keep connections as the pools do).
 */
#define _GNU_SOURCE		/* accept4, ppoll */
#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "web/conns.h"

/*
 * Ends a request nginx did not ask to keep the connection for with a plain
 * close.  libfcgi's own close shuts down the write side and waits (up to
 * 2 s) for nginx to close first, which costs every request one more sleep
 * and wakeup.  Reading the request's input to its end first makes the wait
 * useless: nginx sends a request whole (the end-of-input record comes right
 * after the body, whatever we answer), so once it is read nothing more
 * arrives, and on a unix socket nothing written is lost by closing.  On a
 * kept connection the input must be read to its end anyway: the next
 * request's records follow it.
 */
static void
finish_request(FCGX_Request *fr)
{
	char sink[4096];

	while (FCGX_GetStr(sink, sizeof(sink), fr->in) > 0)
		;
	if (!fr->keepConnection)
		FCGX_Detach(fr);	/* "detached": closed without the wait */
	FCGX_Finish_r(fr);
}

/*
 * The connections a worker holds.  nginx keeps its connections to a pool
 * open between requests (fastcgi_keep_conn and the upstream's keepalive):
 * a connect, an accept and a close per request cost nginx and the pool
 * more than a small request itself (measured: GET /api/lemon/global-status
 * went from 27,000 to 43,000 a second).  libfcgi serves one request at a
 * time on one connection and cannot wait on several, so the worker waits
 * itself: poll() on the listening socket (while a slot is free) and on
 * every connection it holds, then serves whichever has a request, whole.
 *
 * nginx owns a kept connection: it may send the next request on it at any
 * moment, so closing one nginx still holds could lose a request in flight.
 * A worker therefore closes a connection only when nginx has closed it
 * (keepalive_timeout, keepalive_requests in nginx/), or when nginx did not
 * ask to keep it.  Told to stop, a worker stops accepting and serves what
 * arrives on its connections until nginx has closed them all, or the
 * caller's drain time has passed.
 */
#define CONN_SLOTS 64

struct conns {
	FCGX_Request fr[CONN_SLOTS];
	struct pollfd pfd[CONN_SLOTS + 1];
	int slot[CONN_SLOTS + 1];	/* pfd[i] watches fr[slot[i]] */
	int npfd, nopen;
};

/* What a worker serves with, for one loop. */
struct run {
	int listen_fd;
	volatile sig_atomic_t *stopping;
	conns_serve_fn *serve;
	void *arg;
};

static void
conns_init(struct conns *cs)
{
	memset(cs, 0, sizeof(*cs));
	/* no listening socket of libfcgi's own: the worker accepts */
	for (int i = 0; i < CONN_SLOTS; i++)
		FCGX_InitRequest(&cs->fr[i], -1, 0);
}

/* Fills the poll set: every open connection, and the listening socket
 * (slot -1) while there is a free slot and the worker is not stopping. */
static void
conns_watch(struct conns *cs, const struct run *run)
{
	bool room = false;

	cs->npfd = 0;
	for (int i = 0; i < CONN_SLOTS; i++) {
		if (cs->fr[i].ipcFd < 0) {
			room = true;
			continue;
		}
		cs->pfd[cs->npfd] = (struct pollfd){ cs->fr[i].ipcFd, POLLIN,
			0 };
		cs->slot[cs->npfd++] = i;
	}
	if (room && !*run->stopping) {
		cs->pfd[cs->npfd] = (struct pollfd){ run->listen_fd, POLLIN,
			0 };
		cs->slot[cs->npfd++] = -1;
	}
}

/* Takes a waiting connection into a free slot; nothing when another
 * worker was faster. */
static void
conns_accept(struct conns *cs, int listen_fd)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < CONN_SLOTS; i++) {
		if (cs->fr[i].ipcFd >= 0)
			continue;
		cs->fr[i].ipcFd = fd;
		/* libfcgi closes a connection it finds not kept before
		 * reading from it; the first request says what nginx wants */
		cs->fr[i].keepConnection = 1;
		cs->nopen++;
		return;
	}
	close(fd);	/* not reached: polled only with a free slot */
}

/* Serves the request waiting on slot i.  libfcgi closes the connection
 * (ipcFd -1) when nginx closed it, sent something broken, or did not ask
 * to keep it. */
static void
conns_serve(struct conns *cs, int i, const struct run *run)
{
	FCGX_Request *fr = &cs->fr[i];

	if (FCGX_Accept_r(fr) == 0) {
		run->serve(fr, run->arg);
		finish_request(fr);
	}
	if (fr->ipcFd < 0)
		cs->nopen--;
}

static void
conns_close(struct conns *cs)
{
	for (int i = 0; i < CONN_SLOTS; i++) {
		if (cs->fr[i].ipcFd < 0)
			continue;
		FCGX_Detach(&cs->fr[i]);	/* a plain close, no wait */
		FCGX_Free(&cs->fr[i], 1);
	}
	cs->nopen = 0;
}

/* One round: wait for requests and new connections, serve them.  SIGTERM
 * is blocked except while waiting, so it interrupts the wait and never a
 * request; once stopping, the wait ends at deadline_ms. */
static void
conns_round(struct conns *cs, const struct run *run, int64_t deadline_ms)
{
	struct timespec ts, *tsp = NULL;
	sigset_t none;

	sigemptyset(&none);
	if (*run->stopping) {
		int64_t left = deadline_ms - clock_mono_ms();

		left = left > 0 ? left : 0;
		ts = (struct timespec){ left / 1000, left % 1000 * 1000000 };
		tsp = &ts;
	}
	conns_watch(cs, run);
	if (ppoll(cs->pfd, (nfds_t)cs->npfd, tsp, &none) <= 0)
		return;	/* EINTR: the caller checks stopping */
	for (int k = 0; k < cs->npfd; k++) {
		if (!cs->pfd[k].revents)
			continue;
		if (cs->slot[k] < 0)
			conns_accept(cs, run->listen_fd);
		else
			conns_serve(cs, cs->slot[k], run);
	}
}

void
conns_loop(int listen_fd, volatile sig_atomic_t *stopping, int64_t drain_ms,
	   conns_serve_fn *serve, void *arg)
{
	static struct conns cs;
	struct run run = { listen_fd, stopping, serve, arg };
	int64_t deadline_ms = 0;

	/* several workers wait on it: the losers must not block in accept */
	fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
	conns_init(&cs);
	for (;;) {
		if (*stopping && !deadline_ms)
			deadline_ms = clock_mono_ms() + drain_ms;
		if (*stopping && (cs.nopen == 0 ||
		    clock_mono_ms() >= deadline_ms))
			break;
		conns_round(&cs, &run, deadline_ms);
	}
	conns_close(&cs);
}
