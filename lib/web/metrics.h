/*
 * Pool metrics shared by a pool's master and workers: one file-backed
 * shared mapping per pool (<run_dir>/metrics/<group>.metrics), written with
 * atomic adds, read by the public pool's /metrics handler, which renders
 * every live pool's file as Prometheus text.
 *
 * Counted: requests by route and status, a latency histogram, worker
 * restarts, the number of live workers, and live events published or
 * lost.
 */
#ifndef WEB_METRICS_H
#define WEB_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct route;
struct metrics_shm;

/* Master: creates the file for group with one row per route (plus one for
 * unmatched paths) and maps it; NULL on failure (logged). */
struct metrics_shm *metrics_create(const char *run_dir, const char *group,
				   const struct route *routes, size_t n);
/* Records one request: route index (n = unmatched), status, latency. */
void metrics_request(struct metrics_shm *m, size_t route, int status,
		     int64_t latency_us);
void metrics_worker_restart(struct metrics_shm *m);
/* One live event published (ok) or lost; m may be NULL. */
void metrics_live_event(struct metrics_shm *m, bool ok);
void metrics_set_workers(struct metrics_shm *m, int64_t n);
void metrics_destroy(struct metrics_shm *m);

/* Attaches this process to its group's operation metrics (base/meter.h)
 * beside the pools' files; keep for the jobs.  0 or -1 (logged). */
int metrics_meter_attach(const char *run_dir, const char *group, bool keep);

/* Appends every live pool's metrics under run_dir to out as Prometheus
 * text, then the operation metrics of every pool and the jobs.  Returns 0
 * or -1 (out too small). */
int metrics_render(const char *run_dir, struct buf *out);

#include "base/banned.h"
#endif
