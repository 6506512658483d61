-- Backups and restores (lib/domain/backup.c owns these tables; the runner
-- is prov/backup_run.c, driven by the "backups" job).
--
-- A backup row is one dump file, <backup_dir>/<instance external id>/
-- <backup external id>.<ext>: taken on demand (manual, 1 lemon), every day
-- (daily, the last 3 kept), before a restore overwrites the data
-- (pre_restore), or when the instance is deleted (final, kept for a
-- while, then removed).  At most one non-final backup per instance is
-- queued or running; an instance has at most one final backup.
ALTER TYPE lemon_action ADD VALUE 'backup';
ALTER TYPE lemon_action ADD VALUE 'backup_refund';

CREATE TYPE backup_kind AS ENUM ('manual', 'daily', 'pre_restore', 'final');
CREATE TYPE backup_state AS ENUM ('queued', 'running', 'done', 'failed');

CREATE TABLE db_backups (
	id           bigserial PRIMARY KEY,
	external_id  uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
	instance_id  bigint NOT NULL REFERENCES db_instances (id),
	user_id      uuid NOT NULL REFERENCES users (id),
	kind         backup_kind NOT NULL,
	state        backup_state NOT NULL DEFAULT 'queued',
	reason       text NOT NULL DEFAULT '',
	size_bytes   bigint NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
	cost         integer NOT NULL DEFAULT 0 CHECK (cost >= 0),
	created_at   timestamptz NOT NULL DEFAULT now(),
	started_at   timestamptz,
	finished_at  timestamptz,
	-- final backups: when the file goes; the others live with the instance
	expires_at   timestamptz,
	-- the file is gone (rotated, expired, or the instance destroyed)
	removed_at   timestamptz
);
CREATE UNIQUE INDEX db_backups_one_at_a_time ON db_backups (instance_id)
	WHERE state IN ('queued', 'running') AND kind <> 'final';
CREATE UNIQUE INDEX db_backups_one_final ON db_backups (instance_id)
	WHERE kind = 'final';
CREATE INDEX db_backups_instance ON db_backups (instance_id, created_at DESC)
	WHERE removed_at IS NULL;
CREATE INDEX db_backups_pending ON db_backups (id)
	WHERE state IN ('queued', 'running');
CREATE INDEX db_backups_user_final ON db_backups (user_id)
	WHERE kind = 'final' AND removed_at IS NULL;

-- A restore of a backup into an instance: the same one (the data it has
-- is backed up first: pre_restore) or a new one created from it.
CREATE TABLE db_restores (
	id           bigserial PRIMARY KEY,
	instance_id  bigint NOT NULL REFERENCES db_instances (id),
	backup_id    bigint NOT NULL REFERENCES db_backups (id),
	into_new     boolean NOT NULL DEFAULT false,
	state        backup_state NOT NULL DEFAULT 'queued',
	reason       text NOT NULL DEFAULT '',
	created_at   timestamptz NOT NULL DEFAULT now(),
	started_at   timestamptz,
	finished_at  timestamptz
);
CREATE UNIQUE INDEX db_restores_one_at_a_time ON db_restores (instance_id)
	WHERE state IN ('queued', 'running');

-- Download links: only the SHA-256 of the token is kept; a link works once
-- (used_at), until expires_at.
CREATE TABLE backup_links (
	token_hash   bytea PRIMARY KEY,
	backup_id    bigint NOT NULL REFERENCES db_backups (id),
	created_at   timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz NOT NULL,
	used_at      timestamptz
);
CREATE INDEX backup_links_expiry ON backup_links (expires_at);
