/*
 * The reconcile pass.  Reads every live instance in one query, observes
 * them with one driver call, then walks the rows: each row's decision
 * depends only on its desired state (what the person or billing asked
 * for), its recorded status and what the driver observed.  What it learns
 * goes back through the lifecycle (domain/lifecycle.h) under the intent
 * it read, so nothing it saw overwrites a newer start, stop or delete;
 * right before it starts anything it checks that intent again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/pause.h"
#include "base/trace.h"
#include "base/xalloc.h"
#include "domain/fleet.h"
#include "domain/instance.h"
#include "prov/prov.h"
#include "prov/reconcile.h"

static struct prov_spec
spec_of(const struct fleet_row *r, bool running)
{
	return (struct prov_spec){ .id = r->id, .type = r->type,
		.name = r->name, .cpu = r->cpu, .memory_mb = r->memory_mb,
		.disk_gb = r->disk_gb, .port = r->port, .running = running };
}

static bool
wants_running(const struct fleet_row *r)
{
	return r->desired == LC_WANT_RUNNING && r->status != LC_ERROR;
}

static bool
is_up(const struct prov_observation *o)
{
	return o->state == PROV_RUNNING || o->state == PROV_STARTING;
}

static const struct reconcile_conf *rconf;	/* the pass's settings */
static struct fleet_marks *marks;	/* its bookkeeping, written at the end */

/* The port is taken where the instance runs: another port, then apply
 * again (once per pass). */
static int
new_port(struct db *db, struct prov_driver *d, struct fleet_row *r,
	 bool running)
{
	struct instance_create range = { .port_min = rconf->port_min,
		.port_max = rconf->port_max,
		.reserved_ports = rconf->reserved_ports };
	struct prov_spec s;
	int port;

	if (instance_new_port(db, r->row_id, r->port, &range, &port) != 0)
		return -1;
	log_warn("instance '%s': port %d taken; moved to %d", r->id, r->port,
	    port);
	r->port = port;
	s = spec_of(r, running);
	return prov_apply(d, &s) == 0 ? 0 : -1;
}

/* Apply; a failure goes into the row's backoff. */
static void
apply(struct db *db, struct prov_driver *d, struct fleet_row *r,
      bool running, struct reconcile_stats *st)
{
	struct prov_spec s = spec_of(r, running);
	int ret;

	pause_point(running ? "reconcile.start" : "reconcile.stop");
	if (running && !fleet_intent_holds(db, r))
		return;		/* stopped or deleted meanwhile: next pass */
	st->applied++;
	ret = prov_apply(d, &s);
	if (ret == PROV_PORT_TAKEN)
		ret = new_port(db, d, r, running);
	if (ret < 0)
		fleet_backoff(db, r, running ? "could not start; retrying" :
		    "could not stop; retrying");
}

/* Down and meant to be: stopped or paused as the intent says. */
static void
record_down(struct db *db, const struct fleet_row *r)
{
	enum lc_status want = r->desired == LC_WANT_PAUSED ? LC_PAUSED :
	    LC_STOPPED;

	if (r->status == want || r->status == LC_ERROR)
		fleet_mark_scaled_down(marks, r);
	else
		fleet_seen(db, r, want == LC_PAUSED ? LC_SEEN_PAUSED :
		    LC_SEEN_STOPPED, NULL);
}

/* Stops the instance, then looks again: a stop is usually done by the
 * time apply returns, and the status should say so at once. */
static void
stop_and_look(struct db *db, struct prov_driver *d, struct fleet_row *r,
	      struct reconcile_stats *st)
{
	struct prov_spec s = spec_of(r, false);
	struct prov_observation o;

	apply(db, d, r, false, st);
	if (prov_observe(d, &s, 1, false, &o) == 0 && !is_up(&o))
		record_down(db, r);
}

static void
record_error(struct db *db, const struct fleet_row *r, const char *why,
	     struct reconcile_stats *st)
{
	if (fleet_error(db, r, why) == LC_MOVED)
		st->errors++;
}

/* The port is taken by something else: another one, and start again. */
static bool
port_taken(struct db *db, struct prov_driver *d, struct fleet_row *r,
	   const struct prov_observation *o)
{
	if (o->state != PROV_FAILED || !o->port_taken)
		return false;
	if (new_port(db, d, r, true) < 0)
		fleet_backoff(db, r, "port taken; retrying");
	return true;
}

static void
provisioning(struct db *db, struct prov_driver *d, struct fleet_row *r,
	     const struct prov_observation *o, struct reconcile_stats *st)
{
	if (o->state == PROV_RUNNING) {
		if (fleet_ready(db, r, rconf->public_host) == LC_MOVED)
			st->ready++;
	} else if (port_taken(db, d, r, o)) {
		return;
	} else if (o->state == PROV_FAILED) {
		record_error(db, r, o->reason, st);
	} else if (r->overdue) {
		record_error(db, r, o->reason[0] ? o->reason :
		    "did not become ready in time", st);
	} else if (o->state != PROV_STARTING && r->due) {
		apply(db, d, r, true, st);
	}
}

/* Wanted running, observed stopped or paused: start it, and say running
 * once the driver sees it answer. */
static void
starting(struct db *db, struct prov_driver *d, struct fleet_row *r,
	 const struct prov_observation *o, struct reconcile_stats *st)
{
	if (r->restart)		/* the stop half of a restart is done */
		fleet_restarted(db, r);
	if (o->state == PROV_RUNNING) {
		fleet_seen(db, r, LC_SEEN_UP, NULL);
		fleet_mark_healthy(marks, r);
	} else if (port_taken(db, d, r, o)) {
		return;
	} else if (o->state == PROV_FAILED) {
		record_error(db, r, o->reason, st);
	} else if (o->state != PROV_STARTING && r->due) {
		apply(db, d, r, true, st);
	}
}

static void
running(struct db *db, struct prov_driver *d, struct fleet_row *r,
	const struct prov_observation *o, struct reconcile_stats *st)
{
	if (r->restart && r->due && is_up(o)) {
		/* stop, then start in a later pass: a cluster needs the pod
		 * gone before it makes a new one */
		stop_and_look(db, d, r, st);
	} else if (o->state == PROV_RUNNING) {
		if (o->drift && r->due)
			apply(db, d, r, true, st);
		fleet_mark_healthy(marks, r);
	} else if (o->state == PROV_FAILED) {
		record_error(db, r, o->reason, st);
	} else if (o->state != PROV_STARTING) {
		/* crashed (or a restart's stop is done): the next pass starts
		 * it, from the stopped status */
		if (!r->restart)
			log_warn("instance '%s' is not running; starting it",
			    r->id);
		if (fleet_seen(db, r, LC_SEEN_STOPPED, NULL) == LC_MOVED &&
		    !r->restart)
			fleet_backoff(db, r, "stopped unexpectedly; restarting");
	}
}

/* Wanted stopped or paused, or failed: nothing may run. */
static void
at_rest(struct db *db, struct prov_driver *d, struct fleet_row *r,
	const struct prov_observation *o, struct reconcile_stats *st)
{
	if (!is_up(o))
		record_down(db, r);
	else if (r->due)
		stop_and_look(db, d, r, st);
}

static void
deleting(struct db *db, struct prov_driver *d, struct fleet_row *r,
	 struct reconcile_stats *st)
{
	if (!r->due || r->final_pending)
		return;	/* the backups job takes the last copy first */
	pause_point("reconcile.destroy");
	if (prov_destroy(d, r->id) < 0) {
		fleet_backoff(db, r, "could not remove; retrying");
		return;
	}
	if (fleet_destroyed(db, r) == LC_MOVED)
		st->destroyed++;
}

static void
wanted_running(struct db *db, struct prov_driver *d, struct fleet_row *r,
	       const struct prov_observation *o, struct reconcile_stats *st)
{
	switch (r->status) {
	case LC_PROVISIONING:
		provisioning(db, d, r, o, st);
		return;
	case LC_RUNNING:
		running(db, d, r, o, st);
		return;
	case LC_STOPPED:
	case LC_PAUSED:
		starting(db, d, r, o, st);
		return;
	case LC_ERROR:
		at_rest(db, d, r, o, st);
		return;
	case LC_DELETING:
	case LC_MAINTENANCE:
	case LC_BACKING_UP:
	case LC_RESTORING:
	case LC_UPGRADING:
		return;		/* never with this intent */
	}
}

static void
one(struct db *db, struct prov_driver *d, struct fleet_row *r,
    const struct prov_observation *o, struct reconcile_stats *st)
{
	switch (r->desired) {
	case LC_WANT_DELETED:
		deleting(db, d, r, st);
		return;
	case LC_WANT_RUNNING:
		wanted_running(db, d, r, o, st);
		return;
	case LC_WANT_STOPPED:
	case LC_WANT_PAUSED:
		at_rest(db, d, r, o, st);
		return;
	}
}

/* one() in the trace of the work that last changed the instance's intent
 * (its create, start, stop or delete), linked to this pass; a look that
 * changed nothing leaves no span. */
static void
traced_one(struct db *db, struct prov_driver *d, struct fleet_row *r,
	   const struct prov_observation *o, struct reconcile_stats *st)
{
	char name[64];
	int span;

	snprintf(name, sizeof(name), "reconcile %s", r->id);
	span = trace_span_from(r->trace_parent, name, TRACE_INTERNAL);
	trace_str(span, "dbtree.instance", r->id);
	trace_str(span, "dbtree.desired", lc_desired_name(r->desired));
	trace_str(span, "dbtree.status", lc_status_name(r->status));
	one(db, d, r, o, st);
	trace_span_end_busy(span);
}

static int
by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The ids of the rows not deleted, sorted (to free; the strings are the
 * rows'): what the driver has under these ids has an owner without asking
 * the database one id at a time. */
static const char **
live_ids(const struct fleet_row *rows, size_t n, size_t *live)
{
	const char **ids = xcalloc(n ? n : 1, sizeof(*ids));

	*live = 0;
	for (size_t i = 0; i < n; i++)
		if (rows[i].desired != LC_WANT_DELETED)
			ids[(*live)++] = rows[i].id;
	qsort(ids, *live, sizeof(*ids), by_str);
	return ids;
}

/* What the driver has that no live row owns: leftovers of deleted rows go;
 * anything no row knows is reported and left alone. */
static void
orphans(struct db *db, struct prov_driver *d, const struct fleet_row *rows,
	size_t n_rows, struct reconcile_stats *st)
{
	char **ids = NULL;
	size_t n = 0, n_live;
	const char **live;

	if (prov_list(d, &ids, &n) < 0)
		return;
	live = live_ids(rows, n_rows, &n_live);
	for (size_t i = 0; i < n; i++) {
		int owner = bsearch(&ids[i], live, n_live, sizeof(*live),
		    by_str) ? 0 : fleet_owner(db, ids[i]);

		if (owner == 1 && prov_destroy(d, ids[i]) == 0)
			st->destroyed++;
		else if (owner == 2) {
			st->orphans++;
			log_warn("instance '%s' exists but no row owns it;"
			    " leaving it alone", ids[i]);
		}
		free(ids[i]);
	}
	free(live);
	free(ids);
}

int
reconcile_run(struct db *db, struct prov_driver *d,
	      const struct reconcile_conf *rc, struct reconcile_stats *st)
{
	struct fleet_row *rows = NULL;
	struct fleet_marks m;
	struct prov_observation *obs;
	struct prov_spec *specs;
	size_t n = 0, n_rows;

	memset(st, 0, sizeof(*st));
	rconf = rc;
	if (fleet_load(db, rc->provision_timeout_s, &rows, &n) < 0)
		return -1;
	st->rows = (int64_t)n;
	n_rows = n;
	specs = xcalloc(n ? n : 1, sizeof(*specs));
	obs = xcalloc(n ? n : 1, sizeof(*obs));
	for (size_t i = 0; i < n; i++)
		specs[i] = spec_of(&rows[i], wants_running(&rows[i]));
	if (n && prov_observe(d, specs, n, false, obs) < 0)
		n = 0;	/* nothing known: act on nothing this pass */
	fleet_marks_init(&m);
	marks = &m;
	for (size_t i = 0; i < n && clock_mono_ms() < rc->deadline_ms; i++)
		traced_one(db, d, &rows[i], &obs[i], st);
	fleet_marks_flush(db, &m);
	fleet_marks_release(&m);
	marks = NULL;
	orphans(db, d, rows, n_rows, st);
	fleet_release_ports(db);
	free(specs);
	free(obs);
	free(rows);
	return 0;
}
