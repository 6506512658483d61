/*
 * Live events: a message published to a channel of nginx's pub/sub module
 * (nchan), which pushes it to every open page subscribed to that channel.
 * The publisher is an internal-only nginx server on each host, reached over
 * a unix socket; several hosts are several targets.
 *
 *	struct events ev;
 *	events_open(&ev, "/run/dbtree/events.sock", 250);
 *	if (events_publish(&ev, "tree", json) < 0)
 *		... logged; the caller counts it and goes on ...
 *	events_close(&ev);
 *
 * A publish never waits longer than timeout_ms per target and never fails
 * what caused it: the page also polls, so a lost event costs a delay only.
 */
#ifndef NET_EVENTS_H
#define NET_EVENTS_H

#include <stdint.h>

#define EVENTS_MAX_TARGETS 8

struct events {
	void *curl;		/* CURL *, kept: one connection per target */
	char list[1024];	/* the targets, NUL-separated in place */
	const char *target[EVENTS_MAX_TARGETS];	/* into list */
	int ntargets;		/* 0: live events are off */
	int64_t timeout_ms;
	int64_t subscribers;	/* the most any target reported last time */
};

/* targets: space-separated; each a unix socket path ("/run/dbtree/
 * events.sock") or an http:// base URL of another host's publisher.  ""
 * turns publishing off.  0, or -1 (logged) when the list is malformed. */
int events_open(struct events *ev, const char *targets, int64_t timeout_ms);
void events_close(struct events *ev);

/* Publishes json (a JSON object's text) to channel on every target.
 * Returns how many targets took it (all of them is ev->ntargets), or -1
 * when none did; failures are logged without the message.  Sets
 * ev->subscribers to the largest count of open pages a target reported. */
int events_publish(struct events *ev, const char *channel, const char *json);

#include "base/banned.h"
#endif
