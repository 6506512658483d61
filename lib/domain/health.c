/*
 * Scrape-time figures for /metrics (health.h).  Ages are computed by
 * PostgreSQL (now() - ...) so the pool's clock does not matter; a figure
 * with nothing to measure is 0, never absent, so alert rules compare a
 * series that is always there.  dbtree_instances has a row for every
 * status of the enum (0 included) for the same reason.
 *
 * A job's last duration is finished_at - started_at; while a pass runs
 * (started_at is past finished_at) it is the time that pass has taken so
 * far, so a pass that hangs shows.  The job's label is `name`, not `job`,
 * which Prometheus gives every series of a target (the scrape job's).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "domain/health.h"
#include "domain/instance.h"
#include "store/db.h"
#include "store/kv.h"

/* The HELP and TYPE lines of family name. */
static int
family(struct buf *out, const char *name, const char *type, const char *help)
{
	return buf_addf(out, "# HELP dbtree_%s %s\n# TYPE dbtree_%s %s\n",
	    name, help, name, type);
}

/* A family of one unlabelled sample. */
static int
single(struct buf *out, const char *name, const char *help, const char *value)
{
	if (family(out, name, "gauge", help) < 0)
		return -1;
	return buf_addf(out, "dbtree_%s %s\n", name, value);
}

static int
render_up(struct buf *out, bool pg, bool redis)
{
	if (family(out, "dependency_up", "gauge", "1 when the dependency"
	    " answered this scrape, else 0.") < 0)
		return -1;
	return buf_addf(out, "dbtree_dependency_up{dependency=\"postgresql\"}"
	    " %d\ndbtree_dependency_up{dependency=\"redis\"} %d\n", pg, redis);
}

static int
render_outbox(struct db *db, struct buf *out)
{
	enum { DEPTH, AGE };
	PGresult *res = db_exec(db, "SELECT count(*), coalesce(extract(epoch"
	    " FROM now() - min(created_at)), 0) FROM mail_outbox"
	    " WHERE status = 'pending'", 0, NULL);
	int ret = -1;

	if (!res)
		return -1;
	if (PQntuples(res) == 1 &&
	    single(out, "outbox_depth", "Mails waiting to be sent.",
	    PQgetvalue(res, 0, DEPTH)) == 0 &&
	    single(out, "outbox_oldest_age_seconds", "Age of the oldest mail"
	    " waiting to be sent (0 when none).", PQgetvalue(res, 0, AGE)) == 0)
		ret = 0;
	PQclear(res);
	return ret;
}

/* Desired and observed state differ: desired running, stopped or paused
 * with another status, or deleted and not destroyed yet.  Not counted:
 * 'error' (it waits for a person, not for the reconciler) and the states
 * the backup runner owns while it works (a dump may take hours). */
static int
render_lag(struct db *db, struct buf *out)
{
	PGresult *res = db_exec(db, "SELECT coalesce(extract(epoch FROM"
	    " now() - min(desired_at)), 0) FROM db_instances"
	    " WHERE destroyed_at IS NULL AND status NOT IN ('error',"
	    " 'backing_up', 'restoring', 'upgrading', 'maintenance')"
	    " AND status::text <> desired::text", 0, NULL);
	int ret = -1;

	if (!res)
		return -1;
	if (PQntuples(res) == 1)
		ret = single(out, "reconcile_lag_seconds", "Since when the"
		    " oldest live instance whose status differs from its"
		    " desired state has wanted it (0 when none differ).",
		    PQgetvalue(res, 0, 0));
	PQclear(res);
	return ret;
}

static int
render_instances(struct db *db, const char *driver, struct buf *out)
{
	enum { STATUS, COUNT };
	PGresult *res = db_exec(db, "SELECT s, count(i.id)"
	    " FROM unnest(enum_range(NULL::db_status)) s"
	    " LEFT JOIN db_instances i ON i.status = s"
	    " AND i.destroyed_at IS NULL GROUP BY s ORDER BY s", 0, NULL);
	int ret;

	if (!res)
		return -1;
	ret = family(out, "instances", "gauge", "Live instances by status.");
	for (int i = 0; i < PQntuples(res) && ret == 0; i++)
		ret = buf_addf(out, "dbtree_instances{status=\"%s\","
		    "driver=\"%s\"} %s\n", PQgetvalue(res, i, STATUS), driver,
		    PQgetvalue(res, i, COUNT));
	PQclear(res);
	return ret;
}

static int
render_provisioning(struct db *db, struct buf *out)
{
	PGresult *res = db_exec(db, "SELECT coalesce(extract(epoch FROM"
	    " now() - min(created_at)), 0) FROM db_instances"
	    " WHERE destroyed_at IS NULL AND status = 'provisioning'", 0,
	    NULL);
	int ret = -1;

	if (!res)
		return -1;
	if (PQntuples(res) == 1)
		ret = single(out, "instances_provisioning_oldest_age_seconds",
		    "Age of the oldest instance still provisioning (0 when"
		    " none).", PQgetvalue(res, 0, 0));
	PQclear(res);
	return ret;
}

void
health_capacity_ratio(const struct capacity *c, const struct health_conf *hc,
		      double *cpu, double *mem)
{
	*cpu = hc->usable_cpu > 0 ? c->used_cpu / hc->usable_cpu : 0;
	*mem = hc->usable_mb > 0 ? (double)c->used_mb / hc->usable_mb : 0;
}

static int
render_capacity(struct db *db, const struct health_conf *hc, struct buf *out)
{
	struct capacity c = { 0 };
	double cpu, mem;

	if (instance_capacity(db, &c) < 0)
		return -1;
	health_capacity_ratio(&c, hc, &cpu, &mem);
	if (family(out, "capacity_used_ratio", "gauge", "Share of the usable"
	    " capacity (DBTREE_CAPACITY_* less DBTREE_RESERVED_*) instances"
	    " hold.") < 0)
		return -1;
	return buf_addf(out, "dbtree_capacity_used_ratio{resource=\"cpu\"}"
	    " %.6g\ndbtree_capacity_used_ratio{resource=\"memory\"} %.6g\n",
	    cpu, mem);
}

static int
render_lemons(struct db *db, struct buf *out)
{
	PGresult *res = db_exec(db, "SELECT coalesce(sum(lemon_balance), 0)"
	    " FROM users WHERE NOT is_deleted", 0, NULL);
	int ret = -1;

	if (!res)
		return -1;
	if (PQntuples(res) == 1)
		ret = single(out, "lemons_in_circulation", "Sum of the live"
		    " accounts' balances.", PQgetvalue(res, 0, 0));
	PQclear(res);
	return ret;
}

static const char job_families[] =
	"# HELP dbtree_job_last_duration_seconds The last pass, or the one"
	" running so far.\n# TYPE dbtree_job_last_duration_seconds gauge\n"
	"# HELP dbtree_job_last_finish_timestamp_seconds When the last pass"
	" ended (0: never).\n"
	"# TYPE dbtree_job_last_finish_timestamp_seconds gauge\n"
	"# HELP dbtree_job_last_ok 1 when the last pass succeeded.\n"
	"# TYPE dbtree_job_last_ok gauge\n"
	"# HELP dbtree_job_runs_total Passes finished.\n"
	"# TYPE dbtree_job_runs_total counter\n";

static int
render_jobs(struct db *db, struct buf *out)
{
	enum { NAME, DURATION, FINISH, OK, RUNS };
	PGresult *res = db_exec(db, "SELECT name, coalesce(extract(epoch FROM"
	    " CASE WHEN finished_at >= started_at THEN finished_at - started_at"
	    " ELSE now() - started_at END), 0), coalesce(extract(epoch FROM"
	    " finished_at), 0), ok::int, runs FROM job_runs ORDER BY name",
	    0, NULL);
	int ret;

	if (!res)
		return -1;
	ret = buf_adds(out, job_families);
	for (int i = 0; i < PQntuples(res) && ret == 0; i++) {
		const char *job = PQgetvalue(res, i, NAME);

		ret = buf_addf(out, "dbtree_job_last_duration_seconds"
		    "{name=\"%s\"} %s\ndbtree_job_last_finish_timestamp_seconds"
		    "{name=\"%s\"} %s\ndbtree_job_last_ok{name=\"%s\"} %s\n"
		    "dbtree_job_runs_total{name=\"%s\"} %s\n", job,
		    PQgetvalue(res, i, DURATION), job,
		    PQgetvalue(res, i, FINISH), job, PQgetvalue(res, i, OK),
		    job, PQgetvalue(res, i, RUNS));
	}
	PQclear(res);
	return ret;
}

int
health_render(struct db *db, struct kv *kv, const struct health_conf *hc,
	      struct buf *out)
{
	bool pg = db_ping(db, hc->ping_timeout_ms);
	int ret = render_up(out, pg, kv_ping(kv));

	if (!pg)
		return -1;	/* each statement would wait for it again */
	ret |= render_outbox(db, out);
	ret |= render_lag(db, out);
	ret |= render_instances(db, hc->driver, out);
	ret |= render_provisioning(db, out);
	ret |= render_capacity(db, hc, out);
	ret |= render_lemons(db, out);
	ret |= render_jobs(db, out);
	return ret ? -1 : 0;
}
