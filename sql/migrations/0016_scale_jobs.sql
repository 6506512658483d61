-- Ledger pages at 10,000,000 rows (tests/bench/stats_explain.sh): a page
-- of a user's ledger, or of one instance's, walks the rows newest first in
-- the index alone -- the count and the OFFSET are index-only scans -- and
-- reads only the page's rows from the table.  The new indexes lead with
-- the same columns as the ones they replace, so every other lookup keeps
-- working.
CREATE INDEX ult_user_page ON user_lemon_transactions
	(user_id, created_at DESC, id DESC);
DROP INDEX ult_user_created;
CREATE INDEX ult_instance_page ON user_lemon_transactions
	(db_instance_id, created_at DESC, id DESC)
	WHERE db_instance_id IS NOT NULL;
DROP INDEX ult_instance;

-- A user's harvests per day read from the index alone.
CREATE INDEX ult_harvest_user_day_amount ON user_lemon_transactions
	(user_id, created_at) INCLUDE (status, amount)
	WHERE action_type = 'harvest';
DROP INDEX ult_harvest_user_day;

-- How many ledger rows each user has, kept by the statement that writes
-- them (a trigger over the statement's rows: one upsert per user and
-- statement, in user order), so that a ledger page knows its total
-- without counting, and reads a page in the older half from the oldest
-- end.  Every ledger writer locks the user's row first (domain/ledger.c,
-- billing's batch), so this row's lock adds no new order between writers.
CREATE TABLE user_ledger_counts (
	user_id uuid PRIMARY KEY,
	n       bigint NOT NULL CHECK (n >= 0)
);
INSERT INTO user_ledger_counts (user_id, n)
	SELECT user_id, count(*) FROM user_lemon_transactions GROUP BY 1;

CREATE FUNCTION ledger_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO user_ledger_counts (user_id, n)
	SELECT user_id, count(*) FROM new_rows GROUP BY 1 ORDER BY 1
	ON CONFLICT (user_id) DO UPDATE SET n = user_ledger_counts.n + EXCLUDED.n;
	RETURN NULL;
END $$;
CREATE TRIGGER ult_count_rows AFTER INSERT ON user_lemon_transactions
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_count_rows();

CREATE FUNCTION ledger_uncount_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE user_ledger_counts c SET n = c.n - d.n
	FROM (SELECT user_id, count(*) AS n FROM old_rows GROUP BY 1) d
	WHERE c.user_id = d.user_id;
	RETURN NULL;
END $$;
CREATE TRIGGER ult_uncount_rows AFTER DELETE ON user_lemon_transactions
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION ledger_uncount_rows();
