-- The answer statement (lib/domain/game.c, record_answer) now counts a right
-- answer in quiz_daily_correct itself, in the same statement: a trigger call
-- per answer cost more than the upsert it ran.  The insert and delete
-- triggers stay for rows written already answered or removed.
DROP TRIGGER attempts_count_answer ON user_quiz_attempts;
