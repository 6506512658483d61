-- The lemon tree: quizzes, the ten lemons, quiz attempts, and counters the
-- public statistics read instead of counting big tables.

CREATE TYPE quiz_difficulty AS ENUM ('easy', 'normal', 'hard');
CREATE TYPE quiz_category AS ENUM ('basics', 'sql', 'design', 'performance', 'cloud');

CREATE TABLE quizzes (
	id                 serial PRIMARY KEY,
	key                text NOT NULL UNIQUE,
	category           quiz_category NOT NULL,
	difficulty         quiz_difficulty NOT NULL,
	question           text NOT NULL,
	options            jsonb NOT NULL CHECK (jsonb_typeof(options) = 'array'
	                   AND jsonb_array_length(options) BETWEEN 3 AND 5),
	correct_option_idx integer NOT NULL CHECK (correct_option_idx >= 0
	                   AND correct_option_idx < jsonb_array_length(options)),
	explanation        text NOT NULL,
	time_limit         integer NOT NULL CHECK (time_limit BETWEEN 5 AND 300),
	usage_count        integer NOT NULL DEFAULT 0,
	created_at         timestamptz NOT NULL DEFAULT now(),
	updated_at         timestamptz NOT NULL DEFAULT now()
);

-- The ten positions.  generation grows each time a lemon regrows or gets
-- another quiz: a wrong answer locks a user out of one generation.
CREATE TABLE lemons (
	position_id       integer PRIMARY KEY CHECK (position_id BETWEEN 0 AND 9),
	is_available      boolean NOT NULL DEFAULT true,
	quiz_id           integer REFERENCES quizzes (id),
	generation        bigint NOT NULL DEFAULT 1,
	last_harvested_at timestamptz,
	next_available_at timestamptz
);
INSERT INTO lemons (position_id) SELECT g FROM generate_series(0, 9) g;

CREATE TYPE quiz_status AS ENUM ('started', 'done', 'timeout');
CREATE TYPE harvest_status AS ENUM ('none', 'in_progress', 'success',
	'failure', 'harvest_timeout');

CREATE TABLE user_quiz_attempts (
	id                bigserial PRIMARY KEY,
	user_id           uuid NOT NULL REFERENCES users (id),
	quiz_id           integer NOT NULL REFERENCES quizzes (id),
	lemon_position_id integer NOT NULL CHECK (lemon_position_id BETWEEN 0 AND 9),
	lemon_generation  bigint NOT NULL,
	is_correct        boolean,
	selected_option   integer,
	start_time        timestamptz NOT NULL DEFAULT now(),
	deadline          timestamptz NOT NULL,
	submit_time       timestamptz,
	harvest_deadline  timestamptz,
	time_taken_ms     integer,
	click_taken_ms    integer,
	status            quiz_status NOT NULL DEFAULT 'started',
	harvest_status    harvest_status NOT NULL DEFAULT 'none'
);
CREATE INDEX attempts_user_lemon ON user_quiz_attempts (user_id, lemon_position_id, lemon_generation);
CREATE INDEX attempts_open ON user_quiz_attempts (deadline)
	WHERE status = 'started';
CREATE INDEX attempts_unclicked ON user_quiz_attempts (harvest_deadline)
	WHERE harvest_status = 'in_progress';
CREATE INDEX attempts_correct_day ON user_quiz_attempts (start_time, user_id)
	WHERE is_correct AND status = 'done';

-- Statistics counters, kept by triggers so the public numbers never count
-- big tables.  One row.
CREATE TABLE stats_counters (
	id                 boolean PRIMARY KEY DEFAULT true CHECK (id),
	harvested_lemons   bigint NOT NULL DEFAULT 0,
	harvests           bigint NOT NULL DEFAULT 0,
	live_users         bigint NOT NULL DEFAULT 0,
	created_instances  bigint NOT NULL DEFAULT 0
);
INSERT INTO stats_counters (live_users)
	SELECT count(*) FROM users WHERE NOT is_deleted;

CREATE FUNCTION stats_count_harvest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE stats_counters SET harvested_lemons = harvested_lemons + NEW.amount,
		harvests = harvests + 1;
	RETURN NULL;
END $$;
CREATE TRIGGER ult_count_harvest AFTER INSERT ON user_lemon_transactions
	FOR EACH ROW WHEN (NEW.action_type = 'harvest' AND NEW.status = 'successful')
	EXECUTE FUNCTION stats_count_harvest();

CREATE FUNCTION stats_count_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		UPDATE stats_counters SET live_users = live_users + 1;
	ELSIF NEW.is_deleted AND NOT OLD.is_deleted THEN
		UPDATE stats_counters SET live_users = live_users - 1;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER users_count_insert AFTER INSERT ON users
	FOR EACH ROW WHEN (NOT NEW.is_deleted) EXECUTE FUNCTION stats_count_users();
CREATE TRIGGER users_count_delete AFTER UPDATE OF is_deleted ON users
	FOR EACH ROW EXECUTE FUNCTION stats_count_users();

-- Statistics over big tables.
CREATE INDEX ult_harvest_user_day ON user_lemon_transactions (user_id, created_at)
	WHERE action_type = 'harvest';
CREATE INDEX users_rich ON users (lemon_balance DESC) WHERE NOT is_deleted;
