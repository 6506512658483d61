/* The live events relay in a pool's master (see relay.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/conf.h"
#include "base/log.h"
#include "base/pause.h"
#include "web/metrics.h"
#include "web/relay.h"

void
relay_open(struct relay *r, const struct conf *conf,
	   struct metrics_shm *metrics)
{
	int fds[2];

	memset(r, 0, sizeof(*r));
	r->rfd = r->wfd = -1;
	r->metrics = metrics;
	r->window_ms = r->min_window_ms = conf->events_window_ms;
	r->us_per_page = conf->events_us_per_page;
	if (events_open(&r->ev, conf->events_publish,
	    conf->events_timeout_ms) < 0 || r->ev.ntargets == 0)
		return;
	if (pipe(fds) < 0) {
		log_err("live events: pipe: %m");
		return;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
		fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	}
	r->rfd = fds[0];
	r->wfd = fds[1];
}

void
relay_close(struct relay *r)
{
	if (r->rfd >= 0)
		close(r->rfd);
	if (r->wfd >= 0)
		close(r->wfd);
	r->rfd = r->wfd = -1;
	events_close(&r->ev);
}

int
relay_send(int wfd, int position, int64_t at_ms, const char *json)
{
	char line[RELAY_ITEM_MAX + 48];
	int n = snprintf(line, sizeof(line), "%d %" PRId64 " %s\n", position,
	    at_ms, json);

	/* one write of less than PIPE_BUF: whole or not at all */
	if (wfd < 0 || n < 0 || n >= (int)sizeof(line))
		return -1;
	return write(wfd, line, (size_t)n) == n ? 0 : -1;
}

/* One "position at json" line. */
static void
take_line(struct relay *r, char *line)
{
	char *end;
	long pos = strtol(line, &end, 10);
	int64_t at;

	if (end == line || *end != ' ' || pos < 0 || pos >= RELAY_LEMONS)
		return;
	at = strtoll(end + 1, &end, 10);
	if (*end != ' ' || strlen(end + 1) >= RELAY_ITEM_MAX)
		return;
	snprintf(r->item[pos], RELAY_ITEM_MAX, "%s", end + 1);
	if (!r->first_at || at < r->first_at)
		r->first_at = at;
}

/* Splits buf[0..n) into lines, keeping an unfinished one for next time. */
static void
take_lines(struct relay *r, char *buf, size_t n)
{
	char *p = buf, *nl;

	while ((nl = memchr(p, '\n', n - (size_t)(p - buf)))) {
		*nl = '\0';
		if (r->ncarry) {
			if (r->ncarry + (size_t)(nl - p) < sizeof(r->carry)) {
				memcpy(r->carry + r->ncarry, p, (size_t)(nl - p) + 1);
				take_line(r, r->carry);
			}
			r->ncarry = 0;
		} else
			take_line(r, p);
		p = nl + 1;
	}
	n -= (size_t)(p - buf);
	if (n && r->ncarry + n < sizeof(r->carry)) {
		memcpy(r->carry + r->ncarry, p, n);
		r->ncarry += n;
	} else
		r->ncarry = 0;	/* longer than any line we write: dropped */
}

void
relay_drain(struct relay *r)
{
	char buf[16384];
	ssize_t n;

	while ((n = read(r->rfd, buf, sizeof(buf))) > 0)
		take_lines(r, buf, (size_t)n);
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		log_warn("live events: read: %m");
}

int
relay_due_ms(const struct relay *r)
{
	int64_t since;

	if (!r->first_at)
		return -1;
	since = clock_mono_ms() - r->last_pub_ms;
	return since >= r->window_ms ? 0 : (int)(r->window_ms - since);
}

void
relay_flush(struct relay *r)
{
	struct buf msg;
	int ok, sep = 0;

	if (relay_due_ms(r) != 0)
		return;
	pause_point("relay.flush");
	relay_drain(r);		/* whatever came meanwhile goes along */
	buf_init(&msg, 4096);
	buf_adds(&msg, "{\"type\":\"harvest\",\"lemons\":[");
	for (int i = 0; i < RELAY_LEMONS; i++) {
		if (!r->item[i][0])
			continue;
		buf_addf(&msg, "%s%s", sep++ ? "," : "", r->item[i]);
		r->item[i][0] = '\0';
	}
	buf_addf(&msg, "],\"at\":%" PRId64 "}", r->first_at);
	ok = events_publish(&r->ev, "tree", msg.data) >= 0;
	metrics_live_event(r->metrics, ok);
	buf_release(&msg);
	r->first_at = 0;
	r->last_pub_ms = clock_mono_ms();
	r->window_ms = r->min_window_ms + r->ev.subscribers * r->us_per_page / 1000;
}
