/*
 * make bench: N pages subscribed to the live tree at once.  Opens N
 * connections to GET /api/lemon/events (Server-Sent Events, served by
 * nginx), reads every event and measures, for each, the time from the
 * "at" it carries (the commit of the earliest harvest it reports, ms since
 * the epoch) to its arrival here.  Prints "ready N" once all N are
 * subscribed, and on SIGTERM or after SECONDS one summary line:
 *
 *	subscribers n=10000 dropped=0 events=123456 min_per_sub=12
 *	    max_per_sub=12 p50_ms=8 p99_ms=41 max_ms=77
 *
 * usage: subscribers HOST PORT N SECONDS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_MS 10000		/* latency histogram, 1 ms buckets */
#define BATCH 256		/* connections opened at a time */
#define LINE 4096

struct sub {
	int fd;
	int subscribed;		/* the 200 and its headers were read */
	long events;
	size_t len;
	char buf[LINE];
};

static volatile sig_atomic_t stop;
static long hist[MAX_MS + 1];
static long dropped;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
open_one(const struct sockaddr_in *sa, int ep, struct sub *s)
{
	static const char req[] = "GET /api/lemon/events HTTP/1.1\r\n"
	    "Host: bench\r\nAccept: text/event-stream\r\n\r\n";
	struct epoll_event ev = { .events = EPOLLIN };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1)) {
		perror("subscribe");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	s->fd = fd;
	ev.data.ptr = s;
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* One complete line of the stream. */
static void
on_line(struct sub *s, char *line)
{
	char *at;

	if (!s->subscribed) {
		if (line[0] == '\r' || line[0] == '\0')
			s->subscribed = 1;
		return;
	}
	if (strncmp(line, "data:", 5) != 0 || !(at = strstr(line, "\"at\":")))
		return;
	long long ms = now_ms() - atoll(at + 5);

	hist[ms < 0 ? 0 : ms > MAX_MS ? MAX_MS : ms]++;
	s->events++;
}

/* One read a wakeup (epoll is level-triggered: more data wakes us again),
 * so a message costs one system call per page, as in a browser. */
static void
on_readable(struct sub *s)
{
	ssize_t n = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len - 1);
	char *p, *nl;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		dropped++;
		close(s->fd);
		s->fd = -1;
		return;
	}
	if (n < 0)
		return;
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
	for (p = s->buf; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		on_line(s, p);
	}
	s->len -= (size_t)(p - s->buf);
	memmove(s->buf, p, s->len);
	if (s->len == sizeof(s->buf) - 1)
		s->len = 0;	/* a line longer than any event: skip */
}

static void
pump(int ep, int timeout_ms)
{
	struct epoll_event evs[512];
	int n = epoll_wait(ep, evs, 512, timeout_ms);

	for (int i = 0; i < n; i++)
		on_readable(evs[i].data.ptr);
}

static long
percentile(long total, double q)
{
	long want = (long)(total * q), seen = 0;

	for (int i = 0; i <= MAX_MS; i++)
		if ((seen += hist[i]) > want)
			return i;
	return MAX_MS;
}

static void
report(const struct sub *subs, int n)
{
	long total = 0, lo = -1, hi = 0, max = 0;

	for (int i = 0; i <= MAX_MS; i++)
		if (hist[i]) {
			total += hist[i];
			max = i;
		}
	for (int i = 0; i < n; i++) {
		if (lo < 0 || subs[i].events < lo)
			lo = subs[i].events;
		if (subs[i].events > hi)
			hi = subs[i].events;
	}
	printf("subscribers n=%d dropped=%ld events=%ld min_per_sub=%ld "
	    "max_per_sub=%ld p50_ms=%ld p99_ms=%ld max_ms=%ld\n", n, dropped,
	    total, lo, hi, percentile(total, 0.5), percentile(total, 0.99), max);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct rlimit rl;
	struct sub *subs;
	int n, ep, ready = 0;
	long long end;

	if (argc != 5) {
		fprintf(stderr, "usage: subscribers HOST PORT N SECONDS\n");
		return 2;
	}
	n = atoi(argv[3]);
	end = now_ms() + atoll(argv[4]) * 1000;
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 || n <= 0)
		return 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	subs = calloc((size_t)n, sizeof(*subs));
	ep = epoll_create1(0);
	if (!subs || ep < 0)
		return 1;
	for (int i = 0; i < n && !stop; i++) {
		if (open_one(&sa, ep, &subs[i]) < 0)
			return 1;
		if (i % BATCH == BATCH - 1)
			pump(ep, 0);
	}
	while (!stop && now_ms() < end) {
		pump(ep, 100);
		if (!ready) {
			int k = 0;

			for (int i = 0; i < n; i++)
				k += subs[i].subscribed;
			if (k == n) {
				printf("ready %d\n", n);
				fflush(stdout);
				ready = 1;
			}
		}
	}
	report(subs, n);
	return 0;
}
