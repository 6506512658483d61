-- Two hosts, one service (issue 18): exactly one run of each job per pass.
--
-- A looping `dbtreectl jobs --loop S` numbers its passes by the wall clock
-- (pass = seconds since the epoch / S, taken when the pass starts) and,
-- before a job's advisory lock, claims the job's pass here with a guarded
-- upsert that only moves last_pass forward (lib/store/jobs.c).  Of the
-- hosts looping, the first to claim a pass runs it; the others skip it.
-- A run with no pass (`dbtreectl jobs`, an operator or a test) claims
-- nothing and leaves last_pass alone.
ALTER TABLE job_runs ADD COLUMN last_pass bigint;
