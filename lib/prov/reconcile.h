/*
 * The reconciler: one level-based pass comparing what PostgreSQL wants
 * (db_instances) with what the driver observes, in bulk, and acting on the
 * difference: create and start what should run, stop what should not,
 * restart what crashed (with per-instance backoff), move provisioning to
 * running or to error after a deadline, destroy what was deleted and free
 * its port.  One failing instance never stops the pass.
 */
#ifndef PROV_RECONCILE_H
#define PROV_RECONCILE_H

#include <stdint.h>

struct db;
struct prov_driver;

struct reconcile_conf {
	int64_t provision_timeout_s;
	const char *public_host;	/* in the "ready" mail */
	int64_t deadline_ms;		/* monotonic; stop acting after it */
	int64_t port_min, port_max;	/* for a port the cluster refused */
	const char *reserved_ports;
};

struct reconcile_stats {
	int64_t rows, applied, destroyed, ready, errors, orphans;
};

/* One pass.  0 or -1 (the pass could not even start). */
int reconcile_run(struct db *db, struct prov_driver *d,
		  const struct reconcile_conf *rc, struct reconcile_stats *st);

#include "base/banned.h"
#endif
