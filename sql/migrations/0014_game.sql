-- The game around the harvest: daily streaks, the golden lemon and
-- achievements (lib/domain/game.c and lib/domain/golden.c own these
-- tables; lib/domain/achieve.c reads them for the achievements page).
--
-- Days are the game's days: the date in DBTREE_TIME_ZONE of the moment the
-- C code passes (never now() on its own, so tests can move the clock).
ALTER TYPE lemon_action ADD VALUE 'streak_bonus';
ALTER TYPE lemon_action ADD VALUE 'achievement_bonus';

-- What an achievement counts, and which action awards it.
CREATE TYPE achievement_metric AS ENUM (
	'harvests',		-- harvests ever (the harvest)
	'streak',		-- days in a row with a harvest (the harvest)
	'categories',		-- quiz categories answered right (the answer)
	'goldens',		-- golden lemons harvested (the harvest)
	'databases',		-- instances created (instance create)
	'database_days'		-- days one instance was billed running (billing)
);
CREATE TYPE achievement_key AS ENUM ('first_harvest', 'harvests_10',
	'harvests_100', 'streak_3', 'streak_7', 'all_categories',
	'golden_lemon', 'first_database', 'database_week');

CREATE TABLE achievements (
	key    achievement_key PRIMARY KEY,
	metric achievement_metric NOT NULL,
	goal   integer NOT NULL CHECK (goal > 0),
	reward integer NOT NULL DEFAULT 0 CHECK (reward >= 0),
	sort   integer NOT NULL UNIQUE
);
INSERT INTO achievements (key, metric, goal, reward, sort) VALUES
	('first_harvest', 'harvests', 1, 0, 1),
	('harvests_10', 'harvests', 10, 2, 2),
	('harvests_100', 'harvests', 100, 10, 3),
	('streak_3', 'streak', 3, 0, 4),
	('streak_7', 'streak', 7, 0, 5),
	('all_categories', 'categories', 5, 0, 6),
	('golden_lemon', 'goldens', 1, 3, 7),
	('first_database', 'databases', 1, 0, 8),
	('database_week', 'database_days', 7, 10, 9);

-- Earned achievements: once per person, whatever races.
CREATE TABLE user_achievements (
	user_id   uuid NOT NULL REFERENCES users (id),
	key       achievement_key NOT NULL REFERENCES achievements (key),
	earned_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, key)
);

-- A person's game counters and streak, one row, written by the harvest
-- (and the answer, for categories) in the statements they already run.
-- categories: bit i set = a right answer in quiz_category number i.
CREATE TABLE user_game (
	user_id      uuid PRIMARY KEY REFERENCES users (id),
	harvests     integer NOT NULL DEFAULT 0,
	goldens      integer NOT NULL DEFAULT 0,
	categories   integer NOT NULL DEFAULT 0,
	streak       integer NOT NULL DEFAULT 0,
	streak_best  integer NOT NULL DEFAULT 0,
	streak_start date,		-- the first day of the current streak
	streak_day   date		-- the last day with a harvest
);

-- Streak milestones reached: a streak (user, first day) pays each
-- milestone once; a new streak reaching it again pays again.
CREATE TABLE streak_milestones (
	user_id      uuid NOT NULL REFERENCES users (id),
	streak_start date NOT NULL,
	days         integer NOT NULL,
	reached_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, streak_start, days)
);

-- The golden lemon: the lemon whose golden_generation is its generation
-- (and which hangs).  A harvest or a regrowth moves the generation on, so
-- the mark goes stale by itself; the jobs clear stale marks and the day's
-- mark at the day's end.  At most one lemon carries a mark.
ALTER TABLE lemons ADD COLUMN golden_generation bigint,
	ADD COLUMN golden_day date;
CREATE UNIQUE INDEX lemons_one_golden ON lemons ((true))
	WHERE golden_generation IS NOT NULL;

CREATE TYPE golden_end AS ENUM ('harvested', 'expired');
-- Every golden lemon made: how many a day, and how each ended.
CREATE TABLE golden_lemons (
	id           bigserial PRIMARY KEY,
	day          date NOT NULL,
	position_id  integer NOT NULL,
	generation   bigint NOT NULL,
	made_at      timestamptz NOT NULL DEFAULT now(),
	ended        golden_end,
	ended_at     timestamptz,
	harvested_by uuid REFERENCES users (id),
	UNIQUE (position_id, generation)
);
CREATE INDEX golden_lemons_day ON golden_lemons (day);
CREATE UNIQUE INDEX golden_lemons_open ON golden_lemons ((true))
	WHERE ended IS NULL;

-- Counters of the people who played before this migration.
INSERT INTO user_game (user_id, harvests)
	SELECT user_id, count(*) FROM user_lemon_transactions
	WHERE action_type = 'harvest' AND status = 'successful' GROUP BY user_id;
INSERT INTO user_game AS g (user_id, categories)
	SELECT a.user_id, bit_or(1 << (array_position(
		enum_range(NULL::quiz_category), q.category) - 1))
	FROM user_quiz_attempts a JOIN quizzes q ON q.id = a.quiz_id
	WHERE a.is_correct AND a.status = 'done' GROUP BY a.user_id
	ON CONFLICT (user_id) DO UPDATE SET categories = EXCLUDED.categories;
