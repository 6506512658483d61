/*
 * The reconciler's view of instances: every instance that still has (or
 * may have) something running somewhere, read in one query, and what a
 * reconcile pass records.  State changes go through the lifecycle module
 * (domain/lifecycle.h), guarded by the intent the pass read, so an
 * observation never overwrites a newer intent; the rest here is the
 * reconciler's own bookkeeping (backoff, restart flag, scaled down).
 * SQL lives here; prov/reconcile.c decides.
 */
#ifndef DOMAIN_FLEET_H
#define DOMAIN_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#include "base/trace.h"
#include "domain/instance.h"

struct db;

struct fleet_row {
	int64_t row_id;
	char id[INSTANCE_ID_LEN + 1];
	char user_id[INSTANCE_ID_LEN + 1];
	char name[INSTANCE_NAME_MAX + 1];
	char type[16];
	enum lc_status status;		/* observed, as last recorded */
	enum lc_desired desired;
	int64_t intent_seq;
	double cpu;
	int64_t memory_mb, disk_gb, creation_cost;
	int port;
	bool restart;		/* a restart was asked for */
	bool due;		/* not in backoff */
	bool overdue;		/* provisioning past the deadline */
	bool scaled_down;
	int64_t failures;
	bool final_pending;	/* deleted, its final backup not taken yet */
	/* the work that last changed its intent, continued by the pass */
	char trace_parent[TRACE_PARENT_LEN];
};

/* Every instance not yet destroyed; *rows malloc'd.  0 or -1. */
int fleet_load(struct db *db, int64_t provision_timeout_s,
	       struct fleet_row **rows, size_t *n);
/* Records what the driver observed (LC_SEEN_UP, LC_SEEN_STOPPED,
 * LC_SEEN_PAUSED) with reason (NULL: keep), guarded by the intent the pass
 * read.  A lifecycle result (LC_MOVED, LC_LOST_RACE...) or -1. */
int fleet_seen(struct db *db, const struct fleet_row *r, enum lc_event ev,
	       const char *reason);
/* provisioning -> running, and the "ready" mail (one transaction).  A
 * lifecycle result or -1. */
int fleet_ready(struct db *db, const struct fleet_row *r, const char *host);
/* -> error with reason; a provisioning instance gets its creation cost
 * back through the ledger (one transaction).  A lifecycle result or -1. */
int fleet_error(struct db *db, const struct fleet_row *r, const char *reason);
/* True when r's intent is still the one the pass read (nobody started,
 * stopped or deleted it since); false also on errors.  Asked right before
 * the driver starts something, so a delete that came in meanwhile wins. */
bool fleet_intent_holds(struct db *db, const struct fleet_row *r);
/* Records a failed repair: failures + 1, retry after a growing delay. */
int fleet_backoff(struct db *db, const struct fleet_row *r, const char *why);
int fleet_restarted(struct db *db, const struct fleet_row *r);

/* Rows (with the intent_seq the pass read) for one statement. */
struct fleet_ids {
	int64_t *id, *seq;
	size_t n, cap;
};

/* The bookkeeping a pass gathers while it walks the rows and writes with
 * one statement per kind (fleet_marks_flush), not one per row: in a steady
 * pass over many rows this is all it writes.  Each mark applies only if
 * the row's intent is still the one the pass read. */
struct fleet_marks {
	struct fleet_ids healthy;	/* failures and reason cleared */
	struct fleet_ids scaled_down;	/* holds no resources any more
					 * (stopped, paused, error) */
};

void fleet_marks_init(struct fleet_marks *m);
/* A healthy observation (nothing to write if r has no failures). */
void fleet_mark_healthy(struct fleet_marks *m, const struct fleet_row *r);
/* Found down as meant (nothing to write if r is scaled down already). */
void fleet_mark_scaled_down(struct fleet_marks *m, const struct fleet_row *r);
/* Writes the marks, one statement per kind that has any, and empties
 * them.  0 or -1 (logged; the marks are dropped: the next pass sees the
 * same and marks again). */
int fleet_marks_flush(struct db *db, struct fleet_marks *m);
void fleet_marks_release(struct fleet_marks *m);
/* Everything is gone where it ran: destroyed, port released (one
 * transaction).  A lifecycle result or -1. */
int fleet_destroyed(struct db *db, const struct fleet_row *r);
/* Ports whose instance is destroyed or gone; returns how many, or -1. */
int64_t fleet_release_ports(struct db *db);
/* 1 when external id belongs to an instance that is deleted (its leftovers
 * may go), 0 when it is live or waits for its final backup, 2 when no row
 * knows it, -1. */
int fleet_owner(struct db *db, const char *id);

#include "base/banned.h"
#endif
