-- Platform tables: when each maintenance job last ran.
CREATE TABLE job_runs (
	name        text PRIMARY KEY,
	started_at  timestamptz,
	finished_at timestamptz,
	ok          boolean NOT NULL DEFAULT false,
	runs        bigint NOT NULL DEFAULT 0
);
