-- Accounts: users, e-mail login codes, sessions, the lemon ledger, the
-- welcome-bonus memory and the mail outbox.

CREATE TABLE users (
	id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	email               text NOT NULL,
	is_deleted          boolean NOT NULL DEFAULT false,
	deleted_at          timestamptz,
	lemon_balance       integer NOT NULL DEFAULT 0 CHECK (lemon_balance >= 0),
	total_earned_lemons bigint NOT NULL DEFAULT 0,
	total_spent_lemons  bigint NOT NULL DEFAULT 0,
	last_harvest_at     timestamptz,
	created_at          timestamptz NOT NULL DEFAULT now()
);
-- one live account per address; deleted accounts keep their row (the
-- ledger refers to it) but not the address
CREATE UNIQUE INDEX users_email_live ON users (email) WHERE NOT is_deleted;

-- The pending one-time code of an e-mail address (hash only).
CREATE TABLE login_codes (
	email       text PRIMARY KEY,
	code_hash   bytea,
	expires_at  timestamptz,
	wrong_tries integer NOT NULL DEFAULT 0,
	used_at     timestamptz,
	created_at  timestamptz NOT NULL DEFAULT now()
);

-- Every code sent, for the per-address send limits.
CREATE TABLE login_code_sends (
	email   text NOT NULL,
	sent_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_code_sends_email ON login_code_sends (email, sent_at);

-- One row per logged-in device; the token itself is never stored.
CREATE TABLE sessions (
	token_hash bytea PRIMARY KEY,
	user_id    uuid NOT NULL REFERENCES users (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Addresses (as SHA-256 of the normalised address) that were ever paid the
-- welcome bonus: survives account deletion, holds no address.
CREATE TABLE welcome_bonuses (
	email_hash bytea PRIMARY KEY,
	user_id    uuid NOT NULL REFERENCES users (id),
	paid_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE lemon_action AS ENUM ('welcome_bonus', 'harvest',
	'instance_create', 'instance_maintain', 'instance_create_refund',
	'bonus', 'grant');
CREATE TYPE transaction_status AS ENUM ('successful', 'failed');

-- The lemon ledger: every balance change, with the balance after it.
CREATE TABLE user_lemon_transactions (
	id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id        uuid NOT NULL REFERENCES users (id),
	action_type    lemon_action NOT NULL,
	status         transaction_status NOT NULL DEFAULT 'successful',
	amount         integer NOT NULL CHECK (amount <> 0),
	balance        integer NOT NULL CHECK (balance >= 0),
	note           text NOT NULL DEFAULT '',
	db_instance_id bigint,
	created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ult_user_created ON user_lemon_transactions (user_id, created_at DESC);

-- Mail waiting to be sent.  Rendered at send time from kind + params; a
-- login code is never stored (a retry issues a fresh code).
CREATE TABLE mail_outbox (
	id              bigserial PRIMARY KEY,
	kind            text NOT NULL,
	recipient       text NOT NULL,
	params          jsonb NOT NULL DEFAULT '{}',
	status          text NOT NULL DEFAULT 'pending'
	                CHECK (status IN ('pending', 'sent', 'failed', 'dropped')),
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	last_error      text,
	created_at      timestamptz NOT NULL DEFAULT now(),
	sent_at         timestamptz
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status = 'pending';
