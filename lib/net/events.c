/* Live events over nchan's HTTP publisher (see events.h). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/meter.h"
#include "base/trace.h"
#include "net/events.h"

struct answer {
	char text[512];		/* nchan's channel info, as JSON */
	size_t len;
};

static size_t
keep(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct answer *a = userdata;
	size_t n = size * nmemb, room = sizeof(a->text) - 1 - a->len;

	memcpy(a->text + a->len, ptr, n < room ? n : room);
	a->len += n < room ? n : room;
	a->text[a->len] = '\0';
	return n;
}

/* "subscribers": N from nchan's answer, or 0. */
static int64_t
subscribers(const struct answer *a)
{
	const char *p = strstr(a->text, "\"subscribers\":");

	return p ? strtoll(p + 14, NULL, 10) : 0;
}

static int
split_targets(struct events *ev, const char *targets)
{
	char *save = NULL, *t;

	if (snprintf(ev->list, sizeof(ev->list), "%s", targets) >=
	    (int)sizeof(ev->list))
		return -1;
	for (t = strtok_r(ev->list, " \t", &save); t;
	    t = strtok_r(NULL, " \t", &save)) {
		if (ev->ntargets == EVENTS_MAX_TARGETS ||
		    (t[0] != '/' && strncmp(t, "http://", 7) != 0))
			return -1;
		ev->target[ev->ntargets++] = t;
	}
	return 0;
}

int
events_open(struct events *ev, const char *targets, int64_t timeout_ms)
{
	memset(ev, 0, sizeof(*ev));
	ev->timeout_ms = timeout_ms;
	if (split_targets(ev, targets) < 0) {
		log_err("DBTREE_EVENTS_PUBLISH: each target is a socket path"
		    " or an http:// URL, at most %d", EVENTS_MAX_TARGETS);
		ev->ntargets = 0;
		return -1;
	}
	if (ev->ntargets && !(ev->curl = curl_easy_init())) {
		log_err("live events: curl_easy_init failed");
		ev->ntargets = 0;
		return -1;
	}
	return 0;
}

void
events_close(struct events *ev)
{
	curl_easy_cleanup(ev->curl);
	ev->curl = NULL;
	ev->ntargets = 0;
}

/* One POST; 0 when the publisher took the message (nchan answers 201 for
 * a channel without subscribers, 202 when it queued it for some). */
static int
post(struct events *ev, const char *target, const char *channel,
     const char *json)
{
	CURL *e = ev->curl;
	struct curl_slist *accept = curl_slist_append(NULL, "Accept: text/json");
	struct answer a = { .len = 0 };
	char url[1200];
	long status = 0;
	int unix_socket = target[0] == '/';
	CURLcode rc;

	snprintf(url, sizeof(url), "%s/pub/%s",
	    unix_socket ? "http://localhost" : target, channel);
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
	if (unix_socket)
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, target);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ev->timeout_ms);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, accept);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &a);
	rc = curl_easy_perform(e);
	curl_slist_free_all(accept);
	if (rc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK && status >= 200 && status < 300) {
		if (subscribers(&a) > ev->subscribers)
			ev->subscribers = subscribers(&a);
		return 0;
	}
	log_warn("live event to %s (channel %s) not published: %s (HTTP %ld)",
	    target, channel, rc != CURLE_OK ? curl_easy_strerror(rc) :
	    "refused", status);
	return -1;
}

int
events_publish(struct events *ev, const char *channel, const char *json)
{
	int ok = 0;

	if (!ev->ntargets)
		return 0;
	ev->subscribers = 0;
	for (int i = 0; i < ev->ntargets; i++) {
		int span = trace_span("events publish", TRACE_CLIENT);
		int64_t t0 = clock_mono_us();
		bool done = post(ev, ev->target[i], channel, json) == 0;

		meter_op(METER_OUTBOUND, "events", done, clock_mono_us() - t0);
		if (!done)
			trace_fail(span, "not published");
		trace_span_end(span);
		ok += done;
	}
	return ok ? ok : -1;
}
