/*
 * Figures /metrics computes at scrape time (Prometheus text), beside the
 * pools' counters (web/metrics.h) and the jobs' gauges (domain/gauges.h):
 * whether PostgreSQL and Redis answer, the mail outbox, the instances
 * (by status, reconcile lag, provisioning, capacity), the lemons in
 * circulation and the jobs' last passes.  Each is one cheap statement run
 * when Prometheus asks, so nothing has to keep them up to date.
 */
#ifndef DOMAIN_HEALTH_H
#define DOMAIN_HEALTH_H

#include <stdint.h>

struct buf;
struct capacity;
struct db;
struct kv;

struct health_conf {
	const char *driver;		/* DBTREE_PROVISIONER, the label */
	double usable_cpu;		/* capacity less what is reserved */
	int64_t usable_mb;
	int64_t ping_timeout_ms;	/* how long PostgreSQL may take */
};

/* Appends dbtree_dependency_up for postgresql and redis (pinged now),
 * then, when PostgreSQL answered, the figures read from it.  Every family
 * comes with its HELP and TYPE lines.  0, or -1 when a statement failed
 * or out is full (what was appended stays; the other families are still
 * tried). */
int health_render(struct db *db, struct kv *kv, const struct health_conf *hc,
		  struct buf *out);

/* The share of the usable CPU and memory the instances hold (c's used_*
 * over hc's usable_*), into *cpu and *mem; 0 when nothing is usable. */
void health_capacity_ratio(const struct capacity *c,
			   const struct health_conf *hc, double *cpu,
			   double *mem);

#include "base/banned.h"
#endif
