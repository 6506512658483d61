-- attempts_correct_day served the quiz-masters query before
-- quiz_daily_correct (0006) took its place; nothing reads it now, and every
-- right answer paid for an entry in it.
DROP INDEX attempts_correct_day;
