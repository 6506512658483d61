/*
 * Shared-memory metrics.  The layout is fixed-size so readers can map a
 * file without knowing the writer's route table: labels are stored in the
 * file.  Counters are updated with relaxed atomic adds; a reader may see a
 * request counted in one series and not yet in another, which Prometheus
 * tolerates.  A file whose master pid is gone is skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/meter.h"
#include "base/shfile.h"
#include "web/metrics.h"
#include "web/route.h"

#define METRICS_MAGIC 0x64627472656d3032ULL	/* "dbtrem02" */
#define METRICS_ROUTES 48
#define METRICS_LABEL 96

static const int statuses[] = { 200, 201, 202, 204, 301, 302, 304, 400, 401,
	403, 404, 405, 409, 413, 415, 422, 429, 500, 502, 503, 504, 507 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)	/* + other */

static const double buckets_s[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKET (sizeof(buckets_s) / sizeof(buckets_s[0]))

struct metrics_shm {
	uint64_t magic;
	int64_t pid;
	char group[32];
	uint64_t nroutes;		/* rows in use, unmatched included */
	char label[METRICS_ROUTES][METRICS_LABEL];
	uint64_t count[METRICS_ROUTES][NSTATUS];
	uint64_t bucket[NBUCKET + 1];	/* last one is +Inf */
	uint64_t sum_us;
	uint64_t restarts;
	int64_t workers;
	uint64_t live_events[2];	/* [0] published, [1] lost */
};

static void
add(uint64_t *p, uint64_t v)
{
	__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

static uint64_t
get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static int
metrics_path(char *out, size_t size, const char *run_dir, const char *name)
{
	int n = snprintf(out, size, "%s/metrics/%s", run_dir, name);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static void
metrics_fill(struct metrics_shm *m, const char *group,
	     const struct route *routes, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->pid = getpid();
	snprintf(m->group, sizeof(m->group), "%s", group);
	if (n > METRICS_ROUTES - 1)
		n = METRICS_ROUTES - 1;
	for (size_t i = 0; i < n; i++)
		snprintf(m->label[i], METRICS_LABEL, "%s %s",
		    routes[i].method, routes[i].pattern);
	snprintf(m->label[n], METRICS_LABEL, "unmatched");
	m->nroutes = n + 1;
	__atomic_store_n(&m->magic, METRICS_MAGIC, __ATOMIC_RELEASE);
}

struct metrics_shm *
metrics_create(const char *run_dir, const char *group,
	       const struct route *routes, size_t n)
{
	char dir[4096], path[4096];
	struct metrics_shm *m;
	int fd;

	if (metrics_path(dir, sizeof(dir), run_dir, "") < 0 ||
	    metrics_path(path, sizeof(path), run_dir, group) < 0)
		return NULL;
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return log_err("create '%s': %m", dir), NULL;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || ftruncate(fd, sizeof(*m)) < 0) {
		log_err("create '%s': %m", path);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return log_err("map '%s': %m", path), NULL;
	metrics_fill(m, group, routes, n);
	return m;
}

static size_t
status_index(int status)
{
	for (size_t i = 0; i < NSTATUS - 1; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUS - 1;
}

void
metrics_request(struct metrics_shm *m, size_t route, int status,
		int64_t latency_us)
{
	size_t b = 0;

	if (!m)
		return;
	if (route >= m->nroutes)
		route = m->nroutes - 1;
	add(&m->count[route][status_index(status)], 1);
	while (b < NBUCKET && latency_us > buckets_s[b] * 1e6)
		b++;
	add(&m->bucket[b], 1);
	add(&m->sum_us, (uint64_t)(latency_us > 0 ? latency_us : 0));
}

void
metrics_worker_restart(struct metrics_shm *m)
{
	if (m)
		add(&m->restarts, 1);
}

void
metrics_live_event(struct metrics_shm *m, bool ok)
{
	if (m)
		add(&m->live_events[!ok], 1);
}

void
metrics_set_workers(struct metrics_shm *m, int64_t n)
{
	if (m)
		__atomic_store_n(&m->workers, n, __ATOMIC_RELAXED);
}

void
metrics_destroy(struct metrics_shm *m)
{
	if (m)
		munmap(m, sizeof(*m));
}

static int
render_requests(const struct metrics_shm *m, struct buf *out)
{
	int ret = 0;

	for (size_t r = 0; r < m->nroutes && r < METRICS_ROUTES; r++) {
		for (size_t s = 0; s < NSTATUS; s++) {
			uint64_t v = get(&m->count[r][s]);
			char st[8];

			if (!v)
				continue;
			snprintf(st, sizeof(st), "%d", s < NSTATUS - 1 ?
			    statuses[s] : 0);
			ret |= buf_addf(out, "dbtree_http_requests_total{group="
			    "\"%s\",route=\"%.*s\",status=\"%s\"} %llu\n",
			    m->group, METRICS_LABEL, m->label[r],
			    s < NSTATUS - 1 ? st : "other",
			    (unsigned long long)v);
		}
	}
	return ret;
}

static int
render_latency(const struct metrics_shm *m, struct buf *out)
{
	uint64_t cum = 0;
	int ret = 0;

	for (size_t b = 0; b <= NBUCKET; b++) {
		char le[24];

		cum += get(&m->bucket[b]);
		if (b < NBUCKET)
			snprintf(le, sizeof(le), "%g", buckets_s[b]);
		ret |= buf_addf(out, "dbtree_http_request_duration_seconds_"
		    "bucket{group=\"%s\",le=\"%s\"} %llu\n", m->group,
		    b < NBUCKET ? le : "+Inf", (unsigned long long)cum);
	}
	ret |= buf_addf(out, "dbtree_http_request_duration_seconds_sum"
	    "{group=\"%s\"} %.6f\n", m->group, get(&m->sum_us) / 1e6);
	ret |= buf_addf(out, "dbtree_http_request_duration_seconds_count"
	    "{group=\"%s\"} %llu\n", m->group, (unsigned long long)cum);
	return ret;
}

static int
render_pool(const struct metrics_shm *m, struct buf *out)
{
	int ret = render_requests(m, out) | render_latency(m, out);

	ret |= buf_addf(out, "dbtree_pool_worker_restarts_total{group=\"%s\"}"
	    " %llu\n", m->group, (unsigned long long)get(&m->restarts));
	ret |= buf_addf(out, "dbtree_pool_workers{group=\"%s\"} %lld\n",
	    m->group, (long long)__atomic_load_n(&m->workers,
	    __ATOMIC_RELAXED));
	ret |= buf_addf(out, "dbtree_live_events_total{group=\"%s\","
	    "outcome=\"published\"} %llu\n", m->group,
	    (unsigned long long)get(&m->live_events[0]));
	ret |= buf_addf(out, "dbtree_live_events_total{group=\"%s\","
	    "outcome=\"lost\"} %llu\n", m->group,
	    (unsigned long long)get(&m->live_events[1]));
	return ret;
}

/* Maps one metrics file read-only; NULL if it is not a live pool's. */
static const struct metrics_shm *
map_file(const char *path)
{
	const struct metrics_shm *m = shfile_map_ro(path, sizeof(*m));

	if (m && (m->magic != METRICS_MAGIC || m->nroutes > METRICS_ROUTES ||
	    shfile_writer_gone(m->pid))) {
		munmap((void *)(uintptr_t)m, sizeof(*m));
		return NULL;
	}
	return m;
}

static const char header[] =
	"# HELP dbtree_http_requests_total Requests answered, by pool, route"
	" and status.\n# TYPE dbtree_http_requests_total counter\n"
	"# HELP dbtree_http_request_duration_seconds Time from accept to"
	" answer.\n# TYPE dbtree_http_request_duration_seconds histogram\n"
	"# HELP dbtree_pool_worker_restarts_total Workers that died and were"
	" replaced.\n# TYPE dbtree_pool_worker_restarts_total counter\n"
	"# HELP dbtree_pool_workers Live workers.\n"
	"# TYPE dbtree_pool_workers gauge\n"
	"# HELP dbtree_live_events_total Live events sent to nginx's"
	" publisher, by outcome.\n# TYPE dbtree_live_events_total counter\n";

int
metrics_meter_attach(const char *run_dir, const char *group, bool keep)
{
	char dir[4096];

	if (metrics_path(dir, sizeof(dir), run_dir, "") < 0)
		return fail("metrics dir '%s/metrics' too long", run_dir);
	return meter_attach(dir, group, keep);
}

int
metrics_render(const char *run_dir, struct buf *out)
{
	char dir[4096], path[4096];
	struct dirent *e;
	DIR *d;
	int ret = buf_adds(out, header);

	if (metrics_path(dir, sizeof(dir), run_dir, "") < 0 ||
	    !(d = opendir(dir)))
		return ret;
	while (ret == 0 && (e = readdir(d))) {
		const struct metrics_shm *m;

		if (e->d_name[0] == '.' || metrics_path(path, sizeof(path),
		    run_dir, e->d_name) < 0 || !(m = map_file(path)))
			continue;
		ret = render_pool(m, out);
		munmap((void *)(uintptr_t)m, sizeof(*m));
	}
	closedir(d);
	return ret ? ret : meter_render(dir, out);
}
