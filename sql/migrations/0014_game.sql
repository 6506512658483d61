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

-- A person's game counters and streak, on the user row the harvest
-- already updates (no row of its own to write: the harvest is the hot path),
-- and the categories the answer keeps.  categories: bit i set = a right
-- answer in quiz_category number i.
ALTER TABLE users ADD COLUMN harvests integer NOT NULL DEFAULT 0,
	ADD COLUMN goldens integer NOT NULL DEFAULT 0,
	ADD COLUMN categories integer NOT NULL DEFAULT 0,
	ADD COLUMN streak integer NOT NULL DEFAULT 0,
	ADD COLUMN streak_best integer NOT NULL DEFAULT 0,
	ADD COLUMN streak_start date,	-- the first day of the current streak
	ADD COLUMN streak_day date;	-- the last day with a harvest

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

-- Counters of the people who played before this migration, and what they
-- have already earned by them (an achievement is awarded when its count
-- reaches the goal; these are not paid).
UPDATE users u SET harvests = h.n FROM (SELECT user_id, count(*) AS n
	FROM user_lemon_transactions WHERE action_type = 'harvest'
	AND status = 'successful' GROUP BY user_id) h WHERE u.id = h.user_id;
UPDATE users u SET categories = c.bits FROM (SELECT a.user_id,
	bit_or(1 << (array_position(enum_range(NULL::quiz_category),
	q.category) - 1)) AS bits
	FROM user_quiz_attempts a JOIN quizzes q ON q.id = a.quiz_id
	WHERE a.is_correct AND a.status = 'done' GROUP BY a.user_id) c
	WHERE u.id = c.user_id;
INSERT INTO user_achievements (user_id, key)
	SELECT u.id, k.key FROM users u JOIN achievements k
	ON (k.metric = 'harvests' AND u.harvests >= k.goal)
	OR (k.metric = 'categories' AND bit_count(u.categories::bit(32)) >= k.goal);
