/*
 * Operation metrics of one process group (a pool, or the jobs): calls to
 * PostgreSQL, Redis and outbound services by name and outcome with a
 * duration histogram, and named counters (cache hits, logins, harvests,
 * spans).  Kept in a file-backed shared mapping, <dir>/<group>.meter,
 * which a pool's master creates before forking (its workers add to it) and
 * the jobs reuse run after run, so their counters keep counting.  Series
 * are claimed on first use in a fixed table; a name that finds it full is
 * not counted (the table holds every statement the code has, with room).
 *
 * Every call is a no-op until meter_attach().  Names must come from the
 * code (statement names, command names, fixed labels), never from input:
 * they become label values.
 */
#ifndef BASE_METER_H
#define BASE_METER_H

#include <stdbool.h>
#include <stdint.h>

struct buf;

/* Timed operations: one counter by outcome and one histogram each. */
enum meter_op {
	METER_DB,		/* dbtree_db_operation...{statement} */
	METER_REDIS,		/* dbtree_redis_operation...{command} */
	METER_OUTBOUND,		/* dbtree_outbound_request...{target} */
	METER_OPS
};

/* Counters with one label. */
enum meter_counter {
	METER_CACHE_HIT = METER_OPS,	/* dbtree_cache_hits_total{cache} */
	METER_CACHE_MISS,		/* dbtree_cache_misses_total{cache} */
	METER_LOGIN,			/* dbtree_logins_total{outcome} */
	METER_HARVEST,			/* dbtree_harvests_total{outcome} */
	METER_SPANS,			/* dbtree_trace_spans_total{outcome} */
	METER_FAMILIES
};

/* Maps (creating when missing) <dir>/<group>.meter.  With keep, the file
 * is shown after the process is gone (the jobs); without, only while this
 * process (a pool's master) lives.  0, or -1 (logged; nothing is
 * counted). */
int meter_attach(const char *dir, const char *group, bool keep);
void meter_detach(void);

void meter_op(enum meter_op op, const char *name, bool ok, int64_t us);
void meter_count(enum meter_counter c, const char *label);
void meter_add(enum meter_counter c, const char *label, uint64_t n);

/* Appends every shown .meter file under dir as Prometheus text, grouped
 * by family.  0, or -1 when out is full. */
int meter_render(const char *dir, struct buf *out);

#include "base/banned.h"
#endif
