-- Today's quiz masters without counting attempts: right answers per user
-- and UTC day, kept by triggers (the leaderboard reads the top three).
CREATE TABLE quiz_daily_correct (
	day     date NOT NULL,
	user_id uuid NOT NULL REFERENCES users (id),
	n       integer NOT NULL,
	reached timestamptz NOT NULL,	-- when the count was last reached
	PRIMARY KEY (day, user_id)
);
CREATE INDEX quiz_daily_top ON quiz_daily_correct (day, n DESC, reached, user_id);

CREATE FUNCTION count_right_answer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO quiz_daily_correct (day, user_id, n, reached)
	VALUES ((NEW.start_time AT TIME ZONE 'UTC')::date, NEW.user_id, 1,
		NEW.start_time)
	ON CONFLICT (day, user_id) DO UPDATE
	SET n = quiz_daily_correct.n + 1,
		reached = greatest(quiz_daily_correct.reached, EXCLUDED.reached);
	RETURN NULL;
END $$;
CREATE TRIGGER attempts_count_insert AFTER INSERT ON user_quiz_attempts
	FOR EACH ROW WHEN (NEW.is_correct AND NEW.status = 'done')
	EXECUTE FUNCTION count_right_answer();
CREATE TRIGGER attempts_count_answer AFTER UPDATE OF status ON user_quiz_attempts
	FOR EACH ROW WHEN (NEW.is_correct AND NEW.status = 'done'
		AND OLD.status IS DISTINCT FROM 'done')
	EXECUTE FUNCTION count_right_answer();

CREATE FUNCTION uncount_right_answer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE quiz_daily_correct SET n = n - 1
	WHERE day = (OLD.start_time AT TIME ZONE 'UTC')::date
	AND user_id = OLD.user_id;
	DELETE FROM quiz_daily_correct
	WHERE day = (OLD.start_time AT TIME ZONE 'UTC')::date
	AND user_id = OLD.user_id AND n <= 0;
	RETURN NULL;
END $$;
CREATE TRIGGER attempts_count_delete AFTER DELETE ON user_quiz_attempts
	FOR EACH ROW WHEN (OLD.is_correct AND OLD.status = 'done')
	EXECUTE FUNCTION uncount_right_answer();

INSERT INTO quiz_daily_correct (day, user_id, n, reached)
	SELECT (start_time AT TIME ZONE 'UTC')::date, user_id, count(*), max(start_time)
	FROM user_quiz_attempts WHERE is_correct AND status = 'done' GROUP BY 1, 2;
