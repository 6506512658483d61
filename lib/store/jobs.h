/*
 * Running maintenance jobs safely on many hosts: each run of a job takes a
 * PostgreSQL advisory lock named after the job (a host that cannot get it
 * skips the job), gets a deadline it must respect, and is recorded in
 * job_runs (last start, last finish, outcome, count).
 *
 * The lock alone gives mutual exclusion, not one run per pass: two hosts
 * looping every second would run each job one after the other, twice a
 * second.  So a run may carry a pass number (ctx->pass, numbered by the
 * wall clock by the loop: see dbtreectl jobs) and first claims that pass
 * in job_runs.last_pass with a guarded upsert that only moves it forward;
 * the run that does not move it skips the job (JOB_TAKEN).  Of the hosts
 * looping, exactly one runs each job once per pass.  A run without a pass
 * (pass 0: an operator's or a test's direct call) claims nothing.
 */
#ifndef STORE_JOBS_H
#define STORE_JOBS_H

#include <stdbool.h>
#include <stdint.h>

struct conf;
struct db;
struct kv;

struct job_ctx {
	const struct conf *conf;
	struct db *db;
	struct kv *kv;
	int64_t deadline_ms;	/* on the monotonic clock */
	int64_t pass;		/* the pass this run claims; 0: none */
};

struct job {
	const char *name;
	/* Does one pass; 0 or -1 (logged).  Stops early past the deadline. */
	int (*run)(struct job_ctx *ctx);
	/* runs only when named (dbtreectl jobs --only NAME, its own timer):
	 * its items are long (a dump), and the other jobs must not wait */
	bool alone;
};

enum job_outcome {
	JOB_DONE = 0,
	JOB_SKIPPED = 1,	/* another host holds the lock */
	JOB_TAKEN = 2,		/* another run has claimed ctx->pass */
};

/* Claims ctx->pass for job (when not 0), then runs job once under its
 * lock with budget_ms to spare; JOB_DONE, JOB_TAKEN, JOB_SKIPPED, or -1
 * when the job (or the claim, or the lock) failed. */
int jobs_run_one(struct job_ctx *ctx, const struct job *job,
		 int64_t budget_ms);
/* True once the job's deadline has passed: stop between items. */
bool jobs_past_deadline(const struct job_ctx *ctx);

#include "base/banned.h"
#endif
