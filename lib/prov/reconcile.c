/*
 * The reconcile pass.  Reads every live instance in one query, observes
 * them with one driver call, then walks the rows: each row's decision
 * depends only on its desired status and its observed state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
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
	return strcmp(r->status, "provisioning") == 0 ||
	    strcmp(r->status, "running") == 0;
}

static const struct reconcile_conf *rconf;	/* the pass's settings */

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

	st->applied++;
	ret = prov_apply(d, &s);
	if (ret == PROV_PORT_TAKEN)
		ret = new_port(db, d, r, running);
	if (ret < 0)
		fleet_backoff(db, r, running ? "could not start; retrying" :
		    "could not stop; retrying");
}

static void
provisioning(struct db *db, struct prov_driver *d, struct fleet_row *r,
	     const struct prov_observation *o, const struct reconcile_conf *rc,
	     struct reconcile_stats *st)
{
	char why[PROV_REASON_LEN + 64];

	if (o->state == PROV_RUNNING) {
		if (fleet_ready(db, r, rc->public_host) == 0)
			st->ready++;
	} else if (o->state == PROV_FAILED || r->overdue) {
		if (o->state == PROV_FAILED || o->reason[0])
			snprintf(why, sizeof(why), "%s", o->reason);
		else
			snprintf(why, sizeof(why), "did not become ready in time");
		if (fleet_error(db, r, why) == 0)
			st->errors++;
	} else if (o->state != PROV_STARTING && r->due) {
		apply(db, d, r, true, st);
	}
}

static void
running(struct db *db, struct prov_driver *d, struct fleet_row *r,
	const struct prov_observation *o, struct reconcile_stats *st)
{
	if (r->restart && r->due) {
		/* stop, then start once the driver sees it stopped: a
		 * cluster needs the pod gone before it makes a new one */
		if (o->state == PROV_RUNNING || o->state == PROV_STARTING) {
			apply(db, d, r, false, st);
		} else {
			apply(db, d, r, true, st);
			fleet_restarted(db, r);
		}
	} else if (o->state == PROV_RUNNING) {
		if (o->drift && r->due)
			apply(db, d, r, true, st);
		fleet_healthy(db, r);
	} else if (o->state == PROV_FAILED) {
		if (fleet_error(db, r, o->reason) == 0)
			st->errors++;
	} else if (o->state != PROV_STARTING && r->due) {
		log_warn("instance '%s' is not running; starting it", r->id);
		apply(db, d, r, true, st);
		fleet_backoff(db, r, "restarted after it stopped unexpectedly");
	}
}

static void
at_rest(struct db *db, struct prov_driver *d, struct fleet_row *r,
	const struct prov_observation *o, struct reconcile_stats *st)
{
	if (o->state == PROV_RUNNING || o->state == PROV_STARTING) {
		if (r->due)
			apply(db, d, r, false, st);
	} else {
		fleet_scaled_down(db, r);
	}
}

static void
deleting(struct db *db, struct prov_driver *d, struct fleet_row *r,
	 struct reconcile_stats *st)
{
	if (!r->due)
		return;
	if (prov_destroy(d, r->id) < 0) {
		fleet_backoff(db, r, "could not remove; retrying");
		return;
	}
	if (fleet_destroyed(db, r) == 0)
		st->destroyed++;
}

static void
one(struct db *db, struct prov_driver *d, struct fleet_row *r,
    const struct prov_observation *o, const struct reconcile_conf *rc,
    struct reconcile_stats *st)
{
	if (strcmp(r->status, "deleting") == 0)
		deleting(db, d, r, st);
	else if (strcmp(r->status, "provisioning") == 0)
		provisioning(db, d, r, o, rc, st);
	else if (strcmp(r->status, "running") == 0)
		running(db, d, r, o, st);
	else
		at_rest(db, d, r, o, st);
}

/* What the driver has that no live row owns: leftovers of deleted rows go;
 * anything no row knows is reported and left alone. */
static void
orphans(struct db *db, struct prov_driver *d, struct reconcile_stats *st)
{
	char **ids = NULL;
	size_t n = 0;

	if (prov_list(d, &ids, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		int owner = fleet_owner(db, ids[i]);

		if (owner == 1 && prov_destroy(d, ids[i]) == 0)
			st->destroyed++;
		else if (owner == 2) {
			st->orphans++;
			log_warn("instance '%s' exists but no row owns it;"
			    " leaving it alone", ids[i]);
		}
		free(ids[i]);
	}
	free(ids);
}

int
reconcile_run(struct db *db, struct prov_driver *d,
	      const struct reconcile_conf *rc, struct reconcile_stats *st)
{
	struct fleet_row *rows = NULL;
	struct prov_observation *obs;
	struct prov_spec *specs;
	size_t n = 0;

	memset(st, 0, sizeof(*st));
	rconf = rc;
	if (fleet_load(db, rc->provision_timeout_s, &rows, &n) < 0)
		return -1;
	st->rows = (int64_t)n;
	specs = xcalloc(n ? n : 1, sizeof(*specs));
	obs = xcalloc(n ? n : 1, sizeof(*obs));
	for (size_t i = 0; i < n; i++)
		specs[i] = spec_of(&rows[i], wants_running(&rows[i]));
	if (n && prov_observe(d, specs, n, false, obs) < 0)
		n = 0;	/* nothing known: act on nothing this pass */
	for (size_t i = 0; i < n && clock_mono_ms() < rc->deadline_ms; i++)
		one(db, d, &rows[i], &obs[i], rc, st);
	orphans(db, d, st);
	fleet_release_ports(db);
	free(specs);
	free(obs);
	free(rows);
	return 0;
}
