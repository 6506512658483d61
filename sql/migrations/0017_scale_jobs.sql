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

-- The billing pass looks up the current period's rows only: without this
-- it hashed every period ever billed (100,000 instances: 2,400,000 rows a
-- day).
CREATE INDEX db_instance_billing_period ON db_instance_billing (period_start);
