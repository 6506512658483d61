-- Database instances: presets, instances, ports, billing periods.

CREATE TABLE db_presets (
	id                   text PRIMARY KEY,
	type                 text NOT NULL CHECK (type IN ('postgres', 'redis', 'mongodb')),
	size                 text NOT NULL CHECK (size IN ('tiny', 'small', 'medium', 'large')),
	mode                 text NOT NULL,
	name                 text NOT NULL,
	icon                 text NOT NULL,
	description          text NOT NULL,
	friendly_description text NOT NULL,
	technical_terms      jsonb NOT NULL DEFAULT '{}',
	use_cases            jsonb NOT NULL DEFAULT '[]',
	cpu                  numeric(4, 2) NOT NULL,
	memory               integer NOT NULL,
	disk                 integer NOT NULL,
	creation_cost        integer NOT NULL,
	hourly_cost          integer NOT NULL,
	default_config       jsonb NOT NULL DEFAULT '{}',
	sort_order           integer NOT NULL
);

INSERT INTO db_presets (id, type, size, mode, name, icon, description,
	friendly_description, technical_terms, use_cases, cpu, memory, disk,
	creation_cost, hourly_cost, default_config, sort_order)
SELECT t.type || '-' || s.mode || '-' || s.size, t.type, s.size, s.mode,
	t.label || ' ' || initcap(s.size), s.icon,
	format('%s %s: %s vCPU, %s MB memory, %s GB storage', t.label, initcap(s.size),
		s.cpu, CASE WHEN t.type = 'mongodb' AND s.size = 'tiny' THEN 512 ELSE s.memory END, s.disk),
	s.friendly, t.terms, s.uses, s.cpu,
	CASE WHEN t.type = 'mongodb' AND s.size = 'tiny' THEN 512 ELSE s.memory END,
	s.disk, s.creation, s.hourly, t.config, t.sort * 10 + s.sort
FROM (VALUES
	('postgres', 'PostgreSQL', 1, '{"version": "16"}'::jsonb,
	 '{"PostgreSQL": "an open-source relational database speaking SQL", "Role": "a database user; yours owns its database but is not a superuser", "Connection string": "one URL with host, port, user, password and database"}'::jsonb),
	('redis', 'Redis', 2, '{"version": "7.2"}'::jsonb,
	 '{"Redis": "an in-memory key-value store", "ACL user": "a Redis user with its own password and allowed commands", "AOF": "the append-only file that makes writes survive a restart"}'::jsonb),
	('mongodb', 'MongoDB', 3, '{"version": "7.0"}'::jsonb,
	 '{"MongoDB": "a document database storing JSON-like documents", "authSource": "the database your user is defined in (admin)"}'::jsonb)
) AS t (type, label, sort, config, terms)
CROSS JOIN (VALUES
	('tiny', 'standalone', 0.10, 256, 1, 5, 1, 1, '🌱',
	 'A tiny database to learn and try things.', '["learning", "prototypes", "CI tests"]'::jsonb),
	('small', 'standalone', 0.25, 512, 5, 10, 2, 2, '🍋',
	 'Room for a side project or a small app.', '["side projects", "small apps", "demos"]'::jsonb),
	('medium', 'standalone', 0.50, 1024, 10, 20, 3, 3, '🌳',
	 'A comfortable database for a real app.', '["web apps", "APIs", "team projects"]'::jsonb),
	('large', 'standalone', 1.00, 2048, 20, 30, 5, 4, '🚀',
	 'Our biggest: more memory, more CPU, more room.', '["bigger datasets", "analytics", "load tests"]'::jsonb)
) AS s (size, mode, cpu, memory, disk, creation, hourly, sort, icon, friendly, uses);

CREATE TYPE db_status AS ENUM ('provisioning', 'running', 'paused', 'stopped',
	'error', 'deleting', 'maintenance', 'backing_up', 'restoring', 'upgrading');

CREATE TABLE db_instances (
	id                  bigserial PRIMARY KEY,
	external_id         uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
	user_id             uuid NOT NULL REFERENCES users (id),
	name                text NOT NULL,
	type                text NOT NULL CHECK (type IN ('postgres', 'redis', 'mongodb')),
	size                text NOT NULL,
	mode                text NOT NULL,
	created_from_preset text REFERENCES db_presets (id),
	cpu                 numeric(4, 2) NOT NULL CHECK (cpu > 0),
	memory              integer NOT NULL CHECK (memory > 0),
	disk                integer NOT NULL CHECK (disk > 0),
	creation_cost       integer NOT NULL CHECK (creation_cost >= 0),
	hourly_cost         integer NOT NULL CHECK (hourly_cost >= 0),
	config              jsonb NOT NULL DEFAULT '{}',
	status              db_status NOT NULL DEFAULT 'provisioning',
	status_reason       text NOT NULL DEFAULT '',
	port                integer,
	created_at          timestamptz NOT NULL DEFAULT now(),
	updated_at          timestamptz NOT NULL DEFAULT now(),
	ready_at            timestamptz,
	paused_at           timestamptz,
	deleted_at          timestamptz,
	-- reconciler bookkeeping
	destroyed_at        timestamptz,
	restart_requested   boolean NOT NULL DEFAULT false,
	scaled_down         boolean NOT NULL DEFAULT false,
	failures            integer NOT NULL DEFAULT 0,
	retry_at            timestamptz NOT NULL DEFAULT now(),
	delete_warned       boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX db_instances_name_live ON db_instances (user_id, name)
	WHERE deleted_at IS NULL;
CREATE INDEX db_instances_user ON db_instances (user_id) WHERE deleted_at IS NULL;
CREATE INDEX db_instances_pending ON db_instances (status) WHERE destroyed_at IS NULL;

-- Ports handed to instances; the primary key is what makes two instances
-- never share one.
CREATE TABLE port_allocations (
	port         integer PRIMARY KEY CHECK (port BETWEEN 1024 AND 65535),
	instance_id  bigint NOT NULL UNIQUE REFERENCES db_instances (id),
	allocated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per instance and billing period: a second run charges nothing.
CREATE TABLE db_instance_billing (
	instance_id  bigint NOT NULL REFERENCES db_instances (id),
	period_start timestamptz NOT NULL,
	amount       integer NOT NULL,
	ledger_id    uuid REFERENCES user_lemon_transactions (id),
	created_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (instance_id, period_start)
);

CREATE INDEX ult_instance ON user_lemon_transactions (db_instance_id)
	WHERE db_instance_id IS NOT NULL;

CREATE FUNCTION stats_count_instances() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE stats_counters SET created_instances = created_instances + 1;
	RETURN NULL;
END $$;
CREATE TRIGGER db_instances_count AFTER INSERT ON db_instances
	FOR EACH ROW EXECUTE FUNCTION stats_count_instances();
