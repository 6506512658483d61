/*
 * The .meter file: a fixed table of series found by hashing (family,
 * label).  A writer claims a free slot with a compare-and-swap on its
 * state (free -> claiming), writes the key, and publishes it (ready).
 * Another writer that meets a slot being claimed waits the few
 * instructions until it is ready and compares it like any other, so one
 * key never gets two slots (which would be two series with the same
 * labels).  Counts are relaxed atomic adds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/meter.h"
#include "base/shfile.h"

#define METER_MAGIC 0x64627472656d7431ULL	/* "dbtremt1" */
#define METER_SLOTS 1024
#define METER_LABEL 64

enum { SLOT_FREE, SLOT_CLAIMING, SLOT_READY };

static const double buckets_s[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKET (sizeof(buckets_s) / sizeof(buckets_s[0]))

struct slot {
	uint32_t state;
	uint32_t family;
	char label[METER_LABEL];
	uint64_t n[2];			/* ok, error (counters: n[0]) */
	uint64_t sum_us;
	uint64_t bucket[NBUCKET + 1];	/* the last one is +Inf */
};

struct meter_file {
	uint64_t magic;
	int64_t pid;			/* 0: shown after its writers left */
	char group[32];
	struct slot slot[METER_SLOTS];
};

struct family {
	const char *name;		/* without _total */
	const char *label;
	const char *help;
};

static const struct family families[METER_FAMILIES] = {
	[METER_DB] = { "dbtree_db_operation", "statement",
		"PostgreSQL statements run, by statement name" },
	[METER_REDIS] = { "dbtree_redis_operation", "command",
		"Redis commands run, by command" },
	[METER_OUTBOUND] = { "dbtree_outbound_request", "target",
		"Calls to other services, by target" },
	[METER_CACHE_HIT] = { "dbtree_cache_hits", "cache",
		"Reads answered from a cache" },
	[METER_CACHE_MISS] = { "dbtree_cache_misses", "cache",
		"Reads a cache could not answer" },
	[METER_LOGIN] = { "dbtree_logins", "outcome",
		"Login codes entered, by outcome" },
	[METER_HARVEST] = { "dbtree_harvests", "outcome",
		"Harvest clicks, by outcome" },
	[METER_SPANS] = { "dbtree_trace_spans", "outcome",
		"Trace spans, by what became of them" },
};

static struct meter_file *mine;

int
meter_attach(const char *dir, const char *group, bool keep)
{
	char path[4096];
	struct stat st;
	int fd, n = snprintf(path, sizeof(path), "%s/%s.meter", dir, group);

	if (n < 0 || (size_t)n >= sizeof(path))
		return fail("meter path '%s/%s.meter' too long", dir, group);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return fail("create '%s': %m", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (keep ? 0 : O_TRUNC),
	    0640);
	if (fd < 0 || fstat(fd, &st) < 0 || (st.st_size !=
	    sizeof(*mine) && ftruncate(fd, 0) < 0) ||
	    ftruncate(fd, sizeof(*mine)) < 0) {
		log_err("create '%s': %m", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	mine = mmap(NULL, sizeof(*mine), PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	close(fd);
	if (mine == MAP_FAILED) {
		mine = NULL;
		return fail("map '%s': %m", path);
	}
	if (mine->magic != METER_MAGIC) {
		memset(mine, 0, sizeof(*mine));
		snprintf(mine->group, sizeof(mine->group), "%s", group);
		__atomic_store_n(&mine->magic, METER_MAGIC, __ATOMIC_RELEASE);
	}
	mine->pid = keep ? 0 : getpid();
	return 0;
}

void
meter_detach(void)
{
	if (mine)
		munmap(mine, sizeof(*mine));
	mine = NULL;
}

static uint32_t
hash(uint32_t family, const char *label)
{
	uint32_t h = 2166136261u ^ family;

	for (; *label; label++)
		h = (h ^ (uint8_t)*label) * 16777619u;
	return h;
}

static bool
slot_is(const struct slot *s, uint32_t family, const char *label)
{
	return s->family == family && strncmp(s->label, label,
	    METER_LABEL - 1) == 0;
}

/* s's state once no claim is in progress (a claimer killed in those few
 * instructions leaves it claiming: given up on after a while). */
static uint32_t
settled_state(struct slot *s)
{
	uint32_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);

	for (int spins = 0; st == SLOT_CLAIMING && spins < 100000; spins++) {
		sched_yield();
		st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
	}
	return st;
}

/* The slot of (family, label), claimed when new; NULL when the table is
 * full. */
static struct slot *
find(uint32_t family, const char *label)
{
	uint32_t h = hash(family, label);

	for (uint32_t i = 0; i < METER_SLOTS; i++) {
		struct slot *s = &mine->slot[(h + i) % METER_SLOTS];
		uint32_t st = settled_state(s);
		uint32_t free_state = SLOT_FREE;

		/* a slot claimed by someone else under our nose is looked
		 * at again: it may be this very key */
		while (st == SLOT_FREE && !__atomic_compare_exchange_n(
		    &s->state, &free_state, SLOT_CLAIMING, false,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			st = settled_state(s);
			free_state = SLOT_FREE;
		}
		if (st == SLOT_READY) {
			if (slot_is(s, family, label))
				return s;
			continue;
		}
		if (st != SLOT_FREE)
			continue;	/* a claimer that never finished */
		s->family = family;
		snprintf(s->label, sizeof(s->label), "%s", label);
		__atomic_store_n(&s->state, SLOT_READY, __ATOMIC_RELEASE);
		return s;
	}
	return NULL;
}

static void
add(uint64_t *p, uint64_t v)
{
	__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

void
meter_op(enum meter_op op, const char *name, bool ok, int64_t us)
{
	struct slot *s;
	size_t b = 0;

	if (!mine || !(s = find((uint32_t)op, name)))
		return;
	if (us < 0)
		us = 0;
	add(&s->n[!ok], 1);
	while (b < NBUCKET && us > buckets_s[b] * 1e6)
		b++;
	add(&s->bucket[b], 1);
	add(&s->sum_us, (uint64_t)us);
}

void
meter_add(enum meter_counter c, const char *label, uint64_t n)
{
	struct slot *s;

	if (mine && n && (s = find((uint32_t)c, label)))
		add(&s->n[0], n);
}

void
meter_count(enum meter_counter c, const char *label)
{
	meter_add(c, label, 1);
}

/* --- rendering ---------------------------------------------------------- */

static uint64_t
get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static int
render_op(const struct family *f, const char *group, const struct slot *s,
	  struct buf *out)
{
	static const char *outcome[2] = { "ok", "error" };
	uint64_t cum = 0;
	int ret = 0;

	for (int o = 0; o < 2; o++)
		ret |= buf_addf(out, "%ss_total{group=\"%s\",%s=\"%s\","
		    "outcome=\"%s\"} %llu\n", f->name, group, f->label,
		    s->label, outcome[o], (unsigned long long)get(&s->n[o]));
	for (size_t b = 0; b <= NBUCKET; b++) {
		char le[24] = "+Inf";

		cum += get(&s->bucket[b]);
		if (b < NBUCKET)
			snprintf(le, sizeof(le), "%g", buckets_s[b]);
		ret |= buf_addf(out, "%s_duration_seconds_bucket{group=\"%s\","
		    "%s=\"%s\",le=\"%s\"} %llu\n", f->name, group, f->label,
		    s->label, le, (unsigned long long)cum);
	}
	ret |= buf_addf(out, "%s_duration_seconds_sum{group=\"%s\",%s=\"%s\"}"
	    " %.6f\n", f->name, group, f->label, s->label,
	    get(&s->sum_us) / 1e6);
	ret |= buf_addf(out, "%s_duration_seconds_count{group=\"%s\","
	    "%s=\"%s\"} %llu\n", f->name, group, f->label, s->label,
	    (unsigned long long)cum);
	return ret;
}

static int
render_family(uint32_t fam, struct meter_file *const *files, size_t n,
	      struct buf *out)
{
	const struct family *f = &families[fam];
	bool op = fam < METER_OPS;
	int ret = buf_addf(out, "# HELP %s%s %s.\n# TYPE %s%s %s\n", f->name,
	    op ? "s_total" : "_total", f->help, f->name,
	    op ? "s_total" : "_total", "counter");

	if (op)
		ret |= buf_addf(out, "# HELP %s_duration_seconds Time taken."
		    "\n# TYPE %s_duration_seconds histogram\n", f->name,
		    f->name);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < METER_SLOTS; k++) {
			const struct slot *s = &files[i]->slot[k];

			if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) !=
			    SLOT_READY || s->family != fam)
				continue;
			if (op)
				ret |= render_op(f, files[i]->group, s, out);
			else
				ret |= buf_addf(out, "%s_total{group=\"%s\","
				    "%s=\"%s\"} %llu\n", f->name,
				    files[i]->group, f->label, s->label,
				    (unsigned long long)get(&s->n[0]));
		}
	}
	return ret;
}

/* Maps a .meter file read-only; NULL if it is not one, or its pool is
 * gone. */
static struct meter_file *
map_meter(const char *dir, const char *name)
{
	char path[4096];
	const struct meter_file *m;
	size_t len = strlen(name);

	if (len < 7 || strcmp(name + len - 6, ".meter") != 0 ||
	    snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path) || !(m = shfile_map_ro(path, sizeof(*m))))
		return NULL;
	if (m->magic != METER_MAGIC || (m->pid &&
	    shfile_writer_gone(m->pid))) {
		munmap((void *)(uintptr_t)m, sizeof(*m));
		return NULL;
	}
	return (struct meter_file *)(uintptr_t)m;
}

int
meter_render(const char *dir, struct buf *out)
{
	struct meter_file *files[64];
	struct dirent *e;
	size_t n = 0;
	int ret = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < sizeof(files) / sizeof(files[0]))
		if ((files[n] = map_meter(dir, e->d_name)) != NULL)
			n++;
	closedir(d);
	for (uint32_t f = 0; f < METER_FAMILIES && ret == 0; f++)
		ret = render_family(f, files, n, out);
	for (size_t i = 0; i < n; i++)
		munmap(files[i], sizeof(*files[i]));
	return ret;
}
