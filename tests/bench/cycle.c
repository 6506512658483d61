/*
 * cycle: load driver for the harvest game, end to end through nginx.
 *
 *	cycle [-s CONNINFO] URL TOKENS_FILE ANSWERS SECONDS CONNECTIONS
 *
 * URL is the stack's http://127.0.0.1:PORT, TOKENS_FILE holds one bearer
 * token per line (at least CONNECTIONS), ANSWERS the ten correct option
 * indexes by lemon position ("2,0,1,...").  Each of CONNECTIONS threads
 * keeps one HTTP/1.1 keep-alive connection and plays as its own user:
 * GET /api/quiz/<pos>, POST /api/quiz/answer with the right option, POST
 * /api/lemon/harvest, then the next position.  A harvest answered 200 (won)
 * or 1606 (someone else won this generation) completes a cycle.  1607,
 * 1600, 1500 and 1400 (HTTP 404) on the quiz skip to the next position.  A
 * 1501 (storage full) moves the thread on to its next token (tokens i,
 * i + C, i + 2C...).
 * After an error the thread pauses 1 ms, so a broken stack is not hammered.
 *
 * With -s ("setup"), each thread plays the harvest alone: instead of the
 * quiz and answer requests it inserts the answered attempt itself, on its
 * own PostgreSQL connection (CONNINFO), with the very INSERT that
 * tests/bench/harvest.pgbench runs as its setup, then sends POST
 * /api/lemon/harvest for it.  pgbench pays for that INSERT the same way,
 * so the two rates compare the harvest transaction bare and through the
 * stack, with the same setup in front and the same mix of wins and losses.
 * Token line i (from 0) must belong to bench user i + 1, as
 * tests/bench/run writes them.
 *
 * Latencies are kept for the requests of the normal path only (quiz 200,
 * answer 200, harvest 200/1606), so refusals do not flatter the figures.
 * Output: one line "cycle key=value ..." for scripts, one line for people.
 * Exit status 0 when at least one cycle completed, 1 otherwise, 2 on usage.
 *
 * HTTP is the minimum nginx needs: Content-Length bodies only (the pools
 * always send it); chunked answers count as errors.  A keep-alive
 * connection nginx closed while idle is reopened and the request sent
 * again; nothing else is retried.
 */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define NPOS		10
#define TOKEN_MAX	128
#define RESP_MAX	65536
#define REQ_MAX		1024
#define MAX_CONNS	1024
#define LOG_MAX		10	/* unexpected answers printed, in all */

enum step { STEP_QUIZ, STEP_ANSWER, STEP_HARVEST, STEP_SETUP, NSTEPS };

static const char *const step_names[NSTEPS] = { "quiz", "answer", "harvest",
	"setup" };

/* harvest.pgbench's setup, word for word but for its parameters: $1 the
 * bench user's number, $2 the lemon position */
static const char setup_sql[] =
	"INSERT INTO user_quiz_attempts (user_id, quiz_id, lemon_position_id,"
	" lemon_generation, deadline, is_correct, selected_option, submit_time,"
	" status, harvest_status, harvest_deadline)"
	" SELECT ('00000000-0000-4000-8000-' || lpad($1::text, 12, '0'))::uuid,"
	" l.quiz_id, l.position_id, l.generation, now() + interval '30 seconds',"
	" true, q.correct_option_idx, now(), 'done', 'in_progress',"
	" now() + interval '5 seconds'"
	" FROM lemons l JOIN quizzes q ON q.id = l.quiz_id"
	" WHERE l.position_id = $2::int"
	" RETURNING id AS attempt, user_id AS uid,"
	" encode(sha256(convert_to('bench' || lpad($1::text, 38, '0'), 'UTF8')),"
	" 'hex') AS token_hash";

struct opts {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char host[300];			/* Host header */
	char (*tokens)[TOKEN_MAX];
	int ntokens;
	int answers[NPOS];
	double seconds;
	int conns;
	const char *setup;		/* -s CONNINFO, or NULL */
	double deadline;		/* CLOCK_MONOTONIC seconds */
};

struct samples {
	double *v;
	size_t n, cap;
};

struct conn {
	int fd;
	size_t len;			/* bytes in buf */
	size_t used;			/* of which the last response */
	char buf[RESP_MAX + 1];
};

struct resp {
	int status;
	bool close;
	const char *body;
	size_t body_len;
};

struct worker {
	pthread_t thread;
	const struct opts *o;
	int id, pos, token;
	long cycles, wins, losses, skips, full, errors;
	struct samples lat[NSTEPS];
	struct conn c;
	PGconn *pg;			/* -s only */
};

static atomic_int logged;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
samples_add(struct samples *s, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4096;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			abort();
	}
	s->v[s->n++] = v;
}

/* ---- minimal HTTP/1.1 client ---- */

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = c->used = 0;
}

static int
conn_open(struct conn *c, const struct opts *o)
{
	struct timeval tv = { .tv_sec = 10 };
	int one = 1;

	c->fd = socket(o->addr.ss_family, SOCK_STREAM, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (const struct sockaddr *)&o->addr, o->addrlen) < 0) {
		conn_close(c);
		return -1;
	}
	return 0;
}

static int
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads more into c->buf: bytes read, 0 at end of stream, -1 on error. */
static ssize_t
conn_fill(struct conn *c)
{
	ssize_t r;

	if (c->len >= RESP_MAX)
		return -1;
	do
		r = recv(c->fd, c->buf + c->len, RESP_MAX - c->len, 0);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		c->len += (size_t)r;
	c->buf[c->len] = '\0';
	return r;
}

/* Value of header name in the head (NUL-terminated), or NULL. */
static const char *
header(const char *head, const char *name)
{
	size_t n = strlen(name);
	const char *p = strstr(head, "\r\n");

	while (p && p[2] != '\r') {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return p + n + 1 + strspn(p + n + 1, " \t");
		p = strstr(p, "\r\n");
	}
	return NULL;
}

/* Status line and headers of a complete head; 0 or -1. */
static int
parse_head(const char *head, struct resp *r, size_t *clen)
{
	const char *v;

	if (strncmp(head, "HTTP/1.", 7) != 0 || head[8] != ' ')
		return -1;
	r->status = (int)strtol(head + 9, NULL, 10);
	v = header(head, "Transfer-Encoding");
	if (v && strncasecmp(v, "chunked", 7) == 0)
		return -1;
	v = header(head, "Connection");
	r->close = v && strncasecmp(v, "close", 5) == 0;
	v = header(head, "Content-Length");
	*clen = v ? strtoul(v, NULL, 10) : 0;
	return 0;
}

/* One response into r (pointing into c->buf): 0, 1 when the peer closed
 * before sending a byte, -1 on error. */
static int
read_resp(struct conn *c, struct resp *r)
{
	char *end, save;
	size_t head_len, clen;
	ssize_t got;

	while (!(end = strstr(c->buf, "\r\n\r\n")))
		if ((got = conn_fill(c)) <= 0)
			return got == 0 && c->len == 0 ? 1 : -1;
	head_len = (size_t)(end - c->buf) + 4;
	save = c->buf[head_len];
	c->buf[head_len] = '\0';
	if (parse_head(c->buf, r, &clen) < 0 || clen > RESP_MAX - head_len)
		return -1;
	c->buf[head_len] = save;
	while (c->len < head_len + clen)
		if (conn_fill(c) <= 0)
			return -1;
	r->body = c->buf + head_len;
	r->body_len = clen;
	c->used = head_len + clen;
	return 0;
}

/* Drops the last response from the buffer, keeping any bytes after it. */
static void
conn_consume(struct conn *c)
{
	memmove(c->buf, c->buf + c->used, c->len - c->used);
	c->len -= c->used;
	c->used = 0;
	c->buf[c->len] = '\0';
}

/* Sends req and reads the response; 0 or -1.  A reused connection that
 * turns out closed is reopened once. */
static int
http_call(struct conn *c, const struct opts *o, const char *req, size_t n,
	  struct resp *r)
{
	for (int tries = 0; tries < 2; tries++) {
		bool reused = c->fd >= 0;
		int ret;

		conn_consume(c);
		if (!reused && conn_open(c, o) < 0)
			return -1;
		if (send_all(c->fd, req, n) < 0)
			ret = 1;
		else
			ret = read_resp(c, r);
		if (ret == 0)
			return 0;
		conn_close(c);
		if (ret < 0 || !reused)
			return -1;
	}
	return -1;
}

/* ---- JSON scan (the pools print compact JSON) ---- */

/* Where the value of "key" starts in the body, or NULL. */
static const char *
json_find(const struct resp *r, const char *key)
{
	char needle[64];
	int n = snprintf(needle, sizeof(needle), "\"%s\":", key);
	const char *p = r->body, *end = r->body + r->body_len;

	for (; p + n <= end; p++)
		if (memcmp(p, needle, (size_t)n) == 0)
			return p + n;
	return NULL;
}

/* The integer value of "key", or -1 when there is none. */
static long long
json_int(const struct resp *r, const char *key)
{
	const char *p = json_find(r, key);

	if (!p || p >= r->body + r->body_len || p[0] < '0' || p[0] > '9')
		return -1;
	return strtoll(p, NULL, 10);
}

static bool
json_true(const struct resp *r, const char *key)
{
	const char *p = json_find(r, key);

	return p && r->body + r->body_len - p >= 4 && memcmp(p, "true", 4) == 0;
}

/* ---- the cycle ---- */

/* Counts an error and prints the first few; r is NULL when no answer came
 * back at all.  Returns -1. */
static int
unexpected(struct worker *w, enum step s, const struct resp *r)
{
	int n = r ? (int)(r->body_len > 200 ? 200 : r->body_len) : 0;

	w->errors++;
	if (atomic_fetch_add(&logged, 1) >= LOG_MAX)
		return -1;
	if (r)
		fprintf(stderr, "cycle: %s: unexpected answer %d '%.*s'\n",
		    step_names[s], r->status, n, r->body);
	else
		fprintf(stderr, "cycle: %s: no answer from the server\n",
		    step_names[s]);
	return -1;
}

/* One request of step s; its latency in ms in *ms.  0 or -1 (counted). */
static int
timed_call(struct worker *w, enum step s, const char *req, int n,
	   struct resp *r, double *ms)
{
	double t0 = now_s();

	if (n <= 0 || n >= REQ_MAX ||
	    http_call(&w->c, w->o, req, (size_t)n, r) < 0)
		return unexpected(w, s, NULL);
	*ms = (now_s() - t0) * 1000.0;
	/* the body stays readable in the buffer until the next call */
	if (r->close)
		conn_close(&w->c);
	return 0;
}

static const char *
token(const struct worker *w)
{
	return w->o->tokens[w->token];
}

/* A POST of a JSON body; the request's length, as snprintf returns it. */
static int
post(char req[REQ_MAX], const struct worker *w, const char *path,
     const char *body)
{
	return snprintf(req, REQ_MAX, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n%s", path, w->o->host, token(w),
	    strlen(body), body);
}

/* 0 with *attempt, 1 when this position is to be skipped, -1. */
static int
quiz_step(struct worker *w, long long *attempt)
{
	char req[REQ_MAX];
	struct resp r;
	double ms;
	long long code;
	int n = snprintf(req, sizeof(req), "GET /api/quiz/%d HTTP/1.1\r\n"
	    "Host: %s\r\nAuthorization: Bearer %s\r\n\r\n", w->pos,
	    w->o->host, token(w));

	if (timed_call(w, STEP_QUIZ, req, n, &r, &ms) < 0)
		return -1;
	if (r.status == 200 && (*attempt = json_int(&r, "attemptID")) > 0) {
		samples_add(&w->lat[STEP_QUIZ], ms);
		return 0;
	}
	code = json_int(&r, "code");
	if (code == 1607 || code == 1600 || code == 1500 || code == 1400) {
		w->skips++;
		return 1;
	}
	return unexpected(w, STEP_QUIZ, &r);
}

static int
answer_step(struct worker *w, long long attempt)
{
	char req[REQ_MAX], body[128];
	struct resp r;
	double ms;
	int n;

	snprintf(body, sizeof(body), "{\"attemptID\":%lld,\"optionIdx\":%d}",
	    attempt, w->o->answers[w->pos]);
	n = post(req, w, "/api/quiz/answer", body);
	if (timed_call(w, STEP_ANSWER, req, n, &r, &ms) < 0)
		return -1;
	if (r.status != 200 || !json_true(&r, "isCorrect") ||
	    !json_true(&r, "harvestEnabled"))
		return unexpected(w, STEP_ANSWER, &r);
	samples_add(&w->lat[STEP_ANSWER], ms);
	return 0;
}

static int
harvest_step(struct worker *w, long long attempt)
{
	char req[REQ_MAX], body[128];
	struct resp r;
	double ms;
	long long code;
	int n;

	snprintf(body, sizeof(body), "{\"positionId\":%d,\"attemptId\":%lld}",
	    w->pos, attempt);
	n = post(req, w, "/api/lemon/harvest", body);
	if (timed_call(w, STEP_HARVEST, req, n, &r, &ms) < 0)
		return -1;
	code = r.status == 200 ? 0 : json_int(&r, "code");
	if (code == 1501) {
		w->full++;
		w->token += w->o->conns;
		if (w->token >= w->o->ntokens)
			w->token = w->id;
		return 1;
	}
	if (code != 0 && (r.status != 409 || code != 1606))
		return unexpected(w, STEP_HARVEST, &r);
	if (code == 0)
		w->wins++;
	else
		w->losses++;
	w->cycles++;
	samples_add(&w->lat[STEP_HARVEST], ms);
	return 0;
}

/* The answered attempt at w->pos, inserted as harvest.pgbench's setup
 * inserts it (-s): 0 with *attempt, or -1 (counted). */
static int
setup_step(struct worker *w, long long *attempt)
{
	char user[16], pos[8];
	const char *params[] = { user, pos };
	double t0 = now_s();
	PGresult *res;
	int ret = 0;

	snprintf(user, sizeof(user), "%d", w->token + 1);
	snprintf(pos, sizeof(pos), "%d", w->pos);
	res = PQexecPrepared(w->pg, "setup", 2, params, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		*attempt = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		samples_add(&w->lat[STEP_SETUP], (now_s() - t0) * 1000.0);
	} else {
		w->errors++;
		if (atomic_fetch_add(&logged, 1) < LOG_MAX)
			fprintf(stderr, "cycle: setup: %s",
			    PQerrorMessage(w->pg));
		ret = -1;
	}
	PQclear(res);
	return ret;
}

/* quiz -> answer -> harvest at w->pos (with -s: setup -> harvest): 0, 1
 * when cut short by an expected refusal, -1 on an error (counted). */
static int
play(struct worker *w)
{
	long long attempt;
	int r;

	if (w->o->setup)
		r = setup_step(w, &attempt);
	else if ((r = quiz_step(w, &attempt)) == 0)
		r = answer_step(w, attempt);
	if (r == 0)
		r = harvest_step(w, attempt);
	return r;
}

static void *
worker_main(void *arg)
{
	const struct timespec pause = { .tv_nsec = 1000000 };
	struct worker *w = arg;

	while (now_s() < w->o->deadline) {
		/* a broken stack is reported, not hammered */
		if (play(w) < 0)
			nanosleep(&pause, NULL);
		w->pos = (w->pos + 1) % NPOS;
	}
	conn_close(&w->c);
	return NULL;
}

/* ---- arguments ---- */

/* http://HOST:PORT[/...] into o->addr and o->host; 0 or -1. */
static int
parse_url(struct opts *o, const char *url)
{
	char host[256], port[16] = "80";
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	const char *p = url + 7, *colon, *end;

	if (strncmp(url, "http://", 7) != 0)
		return -1;
	end = p + strcspn(p, "/");
	colon = memchr(p, ':', (size_t)(end - p));
	if ((colon ? colon : end) - p >= (long)sizeof(host) ||
	    (colon && end - colon > (long)sizeof(port)))
		return -1;
	snprintf(host, sizeof(host), "%.*s", (int)((colon ? colon : end) - p),
	    p);
	if (colon)
		snprintf(port, sizeof(port), "%.*s", (int)(end - colon - 1),
		    colon + 1);
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	memcpy(&o->addr, ai->ai_addr, ai->ai_addrlen);
	o->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	snprintf(o->host, sizeof(o->host), "%.*s", (int)(end - p), p);
	return 0;
}

static int
load_tokens(struct opts *o, const char *path)
{
	char line[TOKEN_MAX + 2];
	FILE *f = fopen(path, "r");
	int cap = 0, ret;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\r\n");

		if (n >= TOKEN_MAX)
			break;
		if (n == 0)
			continue;
		if (o->ntokens == cap) {
			cap = cap ? 2 * cap : 256;
			o->tokens = realloc(o->tokens, (size_t)cap * TOKEN_MAX);
			if (!o->tokens)
				abort();
		}
		memcpy(o->tokens[o->ntokens], line, n);
		o->tokens[o->ntokens++][n] = '\0';
	}
	ret = feof(f) ? 0 : -1;	/* stopped early: a line too long */
	fclose(f);
	return ret;
}

static int
parse_answers(struct opts *o, const char *s)
{
	char *end;

	for (int i = 0; i < NPOS; i++) {
		long v = strtol(s, &end, 10);

		if (end == s || v < 0 || v > 100 ||
		    *end != (i == NPOS - 1 ? '\0' : ','))
			return -1;
		o->answers[i] = (int)v;
		s = end + 1;
	}
	return 0;
}

static int
usage(const char *why)
{
	fprintf(stderr, "cycle: %s\nusage: cycle [-s CONNINFO] URL TOKENS_FILE"
	    " ANSWERS SECONDS CONNECTIONS\n", why);
	return -1;
}

/* The worker's PostgreSQL connection for -s, with the setup prepared; 0 or
 * -1 (printed). */
static int
setup_connect(struct worker *w)
{
	PGresult *res;
	int ret = 0;

	w->pg = PQconnectdb(w->o->setup);
	if (PQstatus(w->pg) != CONNECTION_OK) {
		fprintf(stderr, "cycle: -s: %s", PQerrorMessage(w->pg));
		return -1;
	}
	res = PQprepare(w->pg, "setup", setup_sql, 2, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "cycle: -s: %s", PQerrorMessage(w->pg));
		ret = -1;
	}
	PQclear(res);
	return ret;
}

static int
parse_opts(struct opts *o, char **argv)
{
	char *end;

	if (parse_url(o, argv[1]) < 0)
		return usage("URL: want http://HOST:PORT");
	if (load_tokens(o, argv[2]) < 0)
		return usage("TOKENS_FILE: unreadable, or a line too long");
	if (parse_answers(o, argv[3]) < 0)
		return usage("ANSWERS: want ten option indexes, a,b,...");
	o->seconds = strtod(argv[4], &end);
	if (*end || !(o->seconds > 0))
		return usage("SECONDS: want a positive number");
	o->conns = (int)strtol(argv[5], &end, 10);
	if (*end || o->conns < 1 || o->conns > MAX_CONNS)
		return usage("CONNECTIONS: want 1 to 1024");
	if (o->ntokens < o->conns)
		return usage("TOKENS_FILE: fewer tokens than connections");
	return 0;
}

/* ---- report ---- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts s in place; the q-quantile (nearest rank), 0 when empty. */
static double
quantile(struct samples *s, double q)
{
	size_t rank;

	if (s->n == 0)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	rank = (size_t)ceil(q * (double)s->n);
	return s->v[rank ? rank - 1 : 0];
}

/* Sums the workers' counters into *t and their samples into all[]. */
static void
merge(struct worker *w, int n, struct worker *t, struct samples all[NSTEPS])
{
	for (int i = 0; i < n; i++) {
		t->cycles += w[i].cycles;
		t->wins += w[i].wins;
		t->losses += w[i].losses;
		t->skips += w[i].skips;
		t->full += w[i].full;
		t->errors += w[i].errors;
		for (int s = 0; s < NSTEPS; s++) {
			for (size_t k = 0; k < w[i].lat[s].n; k++)
				samples_add(&all[s], w[i].lat[s].v[k]);
			free(w[i].lat[s].v);
		}
	}
}

static void
report(const struct opts *o, struct worker *w, double elapsed)
{
	struct worker t = { 0 };
	struct samples all[NSTEPS] = { { 0 } };
	double p50[NSTEPS], p99[NSTEPS];

	merge(w, o->conns, &t, all);
	for (int s = 0; s < NSTEPS; s++) {
		p50[s] = quantile(&all[s], 0.50);
		p99[s] = quantile(&all[s], 0.99);
		free(all[s].v);
	}
	printf("cycle mode=%s conns=%d seconds=%.2f cycles=%ld cycles_per_s=%.1f"
	    " harvest_per_s=%.1f wins=%ld losses=%ld skips=%ld full=%ld"
	    " errors=%ld", o->setup ? "setup" : "full", o->conns, elapsed,
	    t.cycles, t.cycles / elapsed, (t.wins + t.losses) / elapsed, t.wins,
	    t.losses, t.skips, t.full, t.errors);
	for (int s = 0; s < NSTEPS; s++)
		printf(" %s_p50_ms=%.2f %s_p99_ms=%.2f", step_names[s], p50[s],
		    step_names[s], p99[s]);
	printf("\n%d connections, %.1f s: %ld cycles (%.0f/s), %.0f harvest"
	    " answers/s (%ld won, %ld lost), %ld skipped, %ld full, %ld"
	    " errors; p50/p99 ms:", o->conns, elapsed, t.cycles,
	    t.cycles / elapsed, (t.wins + t.losses) / elapsed, t.wins,
	    t.losses, t.skips, t.full, t.errors);
	for (int s = 0; s < NSTEPS; s++)
		if (s != STEP_SETUP || o->setup)
			printf(" %s %.2f/%.2f", step_names[s], p50[s], p99[s]);
	printf("\n");
}

int
main(int argc, char **argv)
{
	static struct opts o;
	struct worker *w;
	double start;
	long cycles = 0;

	if (argc == 8 && strcmp(argv[1], "-s") == 0) {
		o.setup = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 6) {
		usage("wrong number of arguments");
		return 2;
	}
	if (parse_opts(&o, argv) < 0)
		return 2;
	w = calloc((size_t)o.conns, sizeof(*w));
	if (!w)
		abort();
	for (int i = 0; i < o.conns; i++) {
		w[i].o = &o;
		w[i].id = w[i].token = i;
		w[i].pos = i % NPOS;
		w[i].c.fd = -1;
		if (o.setup && setup_connect(&w[i]) < 0)
			return 1;
	}
	start = now_s();
	o.deadline = start + o.seconds;
	for (int i = 0; i < o.conns; i++)
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]))
			abort();
	for (int i = 0; i < o.conns; i++) {
		pthread_join(w[i].thread, NULL);
		cycles += w[i].cycles;
		PQfinish(w[i].pg);
	}
	report(&o, w, now_s() - start);
	free(w);
	free(o.tokens);
	return cycles > 0 ? 0 : 1;
}
