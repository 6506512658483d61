-- Instance lifecycle (lib/domain/lifecycle.c owns both columns below).
--
-- `desired` is what the person (or billing) asked for; `status` is what the
-- driver last observed, within the reference enum.  They differ while the
-- reconciler works: desired 'running' with status 'stopped' is "Starting…".
-- `intent_seq` counts changes of `desired`, so an observation made before a
-- change of intent is never recorded after it.  `reset_until` is the lease of
-- a credentials reset in flight (one at a time per instance).
CREATE TYPE db_desired AS ENUM ('running', 'stopped', 'paused', 'deleted');

ALTER TABLE db_instances
	ADD COLUMN desired db_desired NOT NULL DEFAULT 'running',
	ADD COLUMN intent_seq bigint NOT NULL DEFAULT 0,
	ADD COLUMN reset_until timestamptz;

UPDATE db_instances SET desired = CASE
	WHEN deleted_at IS NOT NULL OR status = 'deleting' THEN 'deleted'
	WHEN status = 'paused' THEN 'paused'
	WHEN status IN ('stopped', 'error') THEN 'stopped'
	ELSE 'running' END::db_desired,
	deleted_at = CASE WHEN status = 'deleting'
	THEN coalesce(deleted_at, updated_at) ELSE deleted_at END,
	status = CASE WHEN deleted_at IS NOT NULL THEN 'deleting'
	ELSE status END::db_status;

-- Deleted means desired 'deleted', and the other way round.
ALTER TABLE db_instances ADD CONSTRAINT db_instances_deleted_desired
	CHECK ((deleted_at IS NOT NULL) = (desired = 'deleted'));
