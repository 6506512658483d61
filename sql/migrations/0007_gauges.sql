-- Figures the jobs report for /metrics (e.g. cluster objects no instance
-- owns), one row per gauge.
CREATE TABLE gauges (
	name       text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$'),
	value      double precision NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);
