/*
 * Gauges the jobs set and /metrics shows (Prometheus text), for figures
 * that live in no pool's memory: e.g. reconcile_orphans, the cluster
 * objects no instance owns.
 */
#ifndef DOMAIN_GAUGES_H
#define DOMAIN_GAUGES_H

struct buf;
struct db;

/* Sets gauge name ([a-z][a-z0-9_]*) to value.  0 or -1. */
int gauges_set(struct db *db, const char *name, double value);
/* Appends every gauge as "dbtree_<name> <value>" with its TYPE line.
 * 0, or -1 (the database did not answer, or out is full). */
int gauges_render(struct db *db, struct buf *out);

#include "base/banned.h"
#endif
