/*
 * The job runner.  The lock is a session-level advisory lock keyed by
 * hashtext('dbtree:job:' || name), released right after the run, so the
 * jobs may themselves open and commit transactions freely.
 *
 * The pass claim comes before the lock and is its own statement (no
 * transaction is held across the job): two hosts claiming one pass at once
 * meet on the job's job_runs row, where the second re-reads last_pass
 * after the first commits and finds it taken.  A claimed pass whose lock
 * is held elsewhere (an operator's direct run, or a host still in its
 * previous pass) is skipped: the job is running, which is what a pass
 * asks for.
 */
#include <stdio.h>

#include "base/changes.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/trace.h"
#include "store/db.h"
#include "store/jobs.h"

bool
jobs_past_deadline(const struct job_ctx *ctx)
{
	return clock_mono_ms() >= ctx->deadline_ms;
}

static int
job_lock(struct db *db, const char *name)
{
	const char *params[] = { name };
	PGresult *res = db_exec(db, "SELECT pg_try_advisory_lock("
	    "hashtext('dbtree:job:' || $1))", 1, params);
	int ret;

	if (!res)
		return -1;
	ret = PQgetvalue(res, 0, 0)[0] == 't' ? JOB_DONE : JOB_SKIPPED;
	PQclear(res);
	return ret;
}

/* Moves the job's last pass forward to pass (and its start: a claimed
 * pass is running until its run ends); JOB_DONE when this call moved it,
 * JOB_TAKEN when it was already there (or past), or -1. */
static int
job_claim(struct db *db, const char *name, int64_t pass)
{
	char pass_s[24];
	const char *params[] = { name, pass_s };
	PGresult *res;
	int ret;

	snprintf(pass_s, sizeof(pass_s), "%lld", (long long)pass);
	res = db_exec(db, "INSERT INTO job_runs AS r (name, last_pass,"
	    " started_at) VALUES ($1, $2, now()) ON CONFLICT (name) DO UPDATE"
	    " SET last_pass = EXCLUDED.last_pass, started_at = now()"
	    " WHERE r.last_pass IS NULL OR r.last_pass < EXCLUDED.last_pass"
	    " RETURNING r.name", 2, params);
	if (!res)
		return -1;
	ret = PQntuples(res) == 1 ? JOB_DONE : JOB_TAKEN;
	PQclear(res);
	return ret;
}

static void
job_unlock(struct db *db, const char *name)
{
	const char *params[] = { name };

	PQclear(db_exec(db, "SELECT pg_advisory_unlock("
	    "hashtext('dbtree:job:' || $1))", 1, params));
}

static void
job_record(struct db *db, const char *name, bool started, bool ok)
{
	const char *params[] = { name, ok ? "t" : "f" };

	if (started)
		PQclear(db_exec(db, "INSERT INTO job_runs (name, started_at)"
		    " VALUES ($1, now()) ON CONFLICT (name) DO UPDATE"
		    " SET started_at = now()", 1, params));
	else
		PQclear(db_exec(db, "UPDATE job_runs SET finished_at = now(),"
		    " ok = $2, runs = runs + 1 WHERE name = $1", 2, params));
}

int
jobs_run_one(struct job_ctx *ctx, const struct job *job, int64_t budget_ms)
{
	int64_t t0 = clock_mono_ms();
	char name[64];
	int span, ret;

	snprintf(name, sizeof(name), "job %s", job->name);
	span = trace_span(name, TRACE_INTERNAL);
	trace_str(span, "dbtree.job", job->name);
	if (ctx->pass > 0 &&
	    (ret = job_claim(ctx->db, job->name, ctx->pass)) != JOB_DONE) {
		if (ret == JOB_TAKEN)
			log_debug("job '%s' pass %lld taken", job->name,
			    (long long)ctx->pass);
		trace_str(span, "dbtree.job.outcome", ret == JOB_TAKEN ?
		    "taken" : "no claim");
		trace_span_end(span);
		return ret;
	}
	if ((ret = job_lock(ctx->db, job->name)) != JOB_DONE) {
		if (ret == JOB_SKIPPED && ctx->pass > 0)
			log_info("job '%s' skipped in pass %lld: running"
			    " elsewhere", job->name, (long long)ctx->pass);
		else if (ret == JOB_SKIPPED)
			log_info("job '%s' skipped: running elsewhere",
			    job->name);
		trace_str(span, "dbtree.job.outcome", ret == JOB_SKIPPED ?
		    "skipped" : "no lock");
		trace_span_end(span);
		return ret;
	}
	ctx->deadline_ms = t0 + budget_ms;
	job_record(ctx->db, job->name, true, false);
	ret = job->run(ctx);
	db_rollback(ctx->db);	/* a job must not leave a transaction */
	changes_note_all();	/* it may have moved anyone's lemons */
	job_record(ctx->db, job->name, false, ret == 0);
	job_unlock(ctx->db, job->name);
	log_debug("job '%s' %s in %lld ms", job->name, ret == 0 ? "done" :
	    "failed", (long long)(clock_mono_ms() - t0));
	trace_str(span, "dbtree.job.outcome", ret == 0 ? "done" : "failed");
	if (ret != 0)
		trace_fail(span, "job failed");
	trace_span_end(span);
	return ret == 0 ? JOB_DONE : -1;
}
