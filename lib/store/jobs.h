/*
 * Running maintenance jobs safely on many hosts: each run of a job takes a
 * PostgreSQL advisory lock named after the job (a host that cannot get it
 * skips the job), gets a deadline it must respect, and is recorded in
 * job_runs (last start, last finish, outcome, count).
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
};

/* Runs job once under its lock with budget_ms to spare; JOB_DONE,
 * JOB_SKIPPED, or -1 when the job (or the lock) failed. */
int jobs_run_one(struct job_ctx *ctx, const struct job *job,
		 int64_t budget_ms);
/* True once the job's deadline has passed: stop between items. */
bool jobs_past_deadline(const struct job_ctx *ctx);

#include "base/banned.h"
#endif
