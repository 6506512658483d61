#!/usr/bin/env bash
# stats_explain.sh STACK_DIR: database time of every query behind the stats
# routes (GET /api/stats/global, /api/leaderboard/mini,
# /api/stats/daily-harvest, /api/stats/transactions) on a big data set.
#
# STACK_DIR is a running throwaway stack (bin/dbtree-local start DIR).  The
# first run bulk-loads 100,000 users and 1,000,000 ledger rows over 90 days
# (~30% harvests, every balance the sum of its user's ledger), quiz
# attempts (some today), then VACUUM ANALYZE; later runs reuse the data.
# Do not point it at a stack whose data you care about.
#
# Each query runs as a prepared statement, as the pools run it (db_exec
# prepares every statement once per connection), for the user with the most
# ledger rows.  It is executed 8 times so that PostgreSQL has chosen between
# its custom and generic plan; the last EXPLAIN (ANALYZE, BUFFERS) is
# reported as
#	stats <name>: <execution time> ms (target < 5 ms) ok|OVER
# and every plan goes to STACK_DIR/log/stats-explain.log.  Exit status 1 if
# any query is over.
#
# The SQL below is a COPY of the literals in lib/domain/stats.c (and of
# session_user() in lib/domain/session.c, which authenticates the two
# private routes); stats.c is the source of truth: change both together.
set -euo pipefail

dir=${1:?usage: stats_explain.sh STACK_DIR}
# shellcheck disable=SC1091
. "$dir/env"
TARGET_MS=5
plans=$dir/log/stats-explain.log

# as the stack's service user: its PostgreSQL lets no one else in
sql() { bin/dbtree-local exec "$dir" psql "$DBTREE_DB" -X -q -v ON_ERROR_STOP=1 "$@"; }
value() { sql -tA "$@"; }

load() {
	echo "stats: loading 100,000 users and 1,000,000 ledger rows..." >&2
	sql <<'SQL'
-- Bulk load without row triggers and foreign-key checks; the counters the
-- triggers keep are recomputed at the end.
SET session_replication_role = replica;
BEGIN;
INSERT INTO users (email, created_at)
SELECT 'bench' || g || '@bench.invalid',
       now() - interval '91 days' - random() * interval '270 days'
FROM generate_series(1, 100000) g;

-- Ledger moves before the welcome bonus: n = 1 is the heaviest user (a
-- harvest every hour for 90 days and two instances billed hourly); the
-- rest are spread over users 2.. with a long tail (random()^2).
CREATE TEMP TABLE moves (seq bigserial, n int, action lemon_action,
	amount int, created_at timestamptz);
INSERT INTO moves (n, action, amount, created_at)
SELECT 1, a.action, a.amount, now() - make_interval(hours => h) + a.off
FROM generate_series(1, 2160) h,
     (VALUES ('harvest'::lemon_action, 3, interval '0'),
             ('instance_maintain', -1, interval '1 minute'),
             ('instance_maintain', -2, interval '2 minutes')) a(action, amount, off);
INSERT INTO moves (n, action, amount, created_at)
SELECT 2 + floor(random() ^ 2 * 99999)::int, k.action, k.amount,
       now() - random() * interval '90 days'
FROM (SELECT random() AS r FROM generate_series(1, 1000000 - 100000 - 6480)) g
CROSS JOIN LATERAL (SELECT CASE
	WHEN g.r < 0.335 THEN 'harvest'::lemon_action
	WHEN g.r < 0.835 THEN 'instance_maintain'
	WHEN g.r < 0.935 THEN 'instance_create'
	WHEN g.r < 0.965 THEN 'instance_create_refund'
	ELSE 'grant' END AS action,
	CASE WHEN g.r < 0.335 THEN 3 WHEN g.r < 0.835 THEN -1
	WHEN g.r < 0.935 THEN -5 WHEN g.r < 0.965 THEN 5 ELSE 2 END AS amount) k;

-- The welcome bonus comes first and is 15, or what keeps the running
-- balance from going below 0.
CREATE TEMP TABLE bench_users AS
SELECT substring(email FROM '^bench([0-9]+)@')::int AS n, id, created_at
FROM users WHERE email LIKE 'bench%@bench.invalid';
ANALYZE bench_users;
ANALYZE moves;
INSERT INTO moves (n, action, amount, created_at)
SELECT b.n, 'welcome_bonus', 15 + greatest(0, -coalesce(m.low, 0)), b.created_at
FROM bench_users b LEFT JOIN (
	SELECT n, min(run) AS low FROM (SELECT n, sum(amount) OVER
		(PARTITION BY n ORDER BY created_at, seq) AS run FROM moves) r
	GROUP BY n) m ON m.n = b.n;

INSERT INTO user_lemon_transactions (user_id, action_type, amount, balance,
	note, created_at)
SELECT b.id, m.action, m.amount,
       sum(m.amount) OVER (PARTITION BY m.n ORDER BY m.created_at, m.seq),
       m.action::text, m.created_at
FROM moves m JOIN bench_users b ON b.n = m.n;

UPDATE users u SET lemon_balance = t.balance, total_earned_lemons = t.earned,
	total_spent_lemons = t.spent,
	last_harvest_at = t.last_harvest
FROM (SELECT b.id, sum(m.amount) AS balance,
	sum(greatest(m.amount, 0)) AS earned, sum(greatest(-m.amount, 0)) AS spent,
	max(m.created_at) FILTER (WHERE m.action = 'harvest') AS last_harvest
	FROM moves m JOIN bench_users b ON b.n = m.n GROUP BY b.id) t
WHERE u.id = t.id;
-- 2% of the accounts were deleted
UPDATE users SET is_deleted = true, deleted_at = now(),
	email = 'deleted:' || id::text
WHERE email LIKE 'bench%@bench.invalid' AND email <> 'bench1@bench.invalid'
	AND random() < 0.02;

-- Quizzes (only if none ship yet) and attempts: 200,000 over 90 days,
-- 3,000 of them today.
INSERT INTO quizzes (key, category, difficulty, question, options,
	correct_option_idx, explanation, time_limit)
SELECT 'bench-' || g, 'sql', 'easy', 'bench question ' || g,
	'["a", "b", "c"]', 0, 'bench', 30
FROM generate_series(1, 10) g WHERE NOT EXISTS (SELECT 1 FROM quizzes);
INSERT INTO user_quiz_attempts (user_id, quiz_id, lemon_position_id,
	lemon_generation, is_correct, selected_option, start_time, deadline,
	submit_time, status, harvest_status)
SELECT b.id, qs.ids[1 + s.g % cardinality(qs.ids)], s.g % 10, 1, s.ok,
       CASE WHEN s.ok THEN 0 ELSE 1 END,
       s.t, s.t + interval '30 seconds', s.t + interval '10 seconds',
       CASE WHEN random() < 0.95 THEN 'done' ELSE 'timeout' END::quiz_status,
       CASE WHEN s.ok THEN 'success' ELSE 'none' END::harvest_status
FROM (SELECT g, 1 + floor(random() ^ 2 * 99999)::int AS n,
	random() < 0.6 AS ok,
	CASE WHEN g <= 3000 THEN date_trunc('day', now(), 'UTC')
	     + random() * (now() - date_trunc('day', now(), 'UTC'))
	ELSE now() - random() * interval '90 days' END AS t
	FROM generate_series(1, 200000) g) s
JOIN bench_users b ON b.n = s.n
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM quizzes) qs;

UPDATE stats_counters SET
	live_users = (SELECT count(*) FROM users WHERE NOT is_deleted),
	harvests = (SELECT count(*) FROM user_lemon_transactions
		WHERE action_type = 'harvest' AND status = 'successful'),
	harvested_lemons = (SELECT coalesce(sum(amount), 0)
		FROM user_lemon_transactions
		WHERE action_type = 'harvest' AND status = 'successful');
COMMIT;
RESET session_replication_role;
VACUUM ANALYZE users;
VACUUM ANALYZE user_lemon_transactions;
VACUUM ANALYZE user_quiz_attempts;
VACUUM ANALYZE stats_counters;
SQL
}

loaded=$(value -c "SELECT count(*) FROM users WHERE email = 'bench1@bench.invalid'")
[ "$loaded" = 1 ] || load
echo "stats: $(value -c "SELECT count(*) FROM users") users," \
	"$(value -c "SELECT count(*) FROM user_lemon_transactions") ledger rows," \
	"$(value -c "SELECT count(*) FROM user_quiz_attempts") quiz attempts" >&2

# The user with the most ledger rows, and a session for it.
uid=$(value -c "SELECT user_id FROM user_lemon_transactions GROUP BY user_id
	ORDER BY count(*) DESC LIMIT 1")
rows=$(value -c "SELECT count(*) FROM user_lemon_transactions WHERE user_id = '$uid'")
hash=$(value -c "INSERT INTO sessions (token_hash, user_id, expires_at)
	VALUES (sha256(gen_random_uuid()::text::bytea), '$uid',
	now() + interval '1 day') RETURNING encode(token_hash, 'hex')")
echo "stats: measured for user $uid ($rows ledger rows)" >&2
: > "$plans"
over=0

# explain NAME SQL [ARG...]: prepares SQL, runs it 8 times with the args
# (SQL literals), reports the last run.
explain() {
	local name=$1 query=$2 args="" out ms verdict i
	shift 2
	[ $# -eq 0 ] || args="($(IFS=,; echo "$*"))"
	out=$({
		printf 'PREPARE q AS %s;\n\\o /dev/null\n' "$query"
		for i in 1 2 3 4 5 6 7; do
			printf 'EXPLAIN (ANALYZE, BUFFERS) EXECUTE q%s;\n' "$args"
		done
		printf '\\o\nEXPLAIN (ANALYZE, BUFFERS) EXECUTE q%s;\n' "$args"
	} | sql -tA)
	printf '== %s\n%s\n\n' "$name" "$out" >> "$plans"
	ms=$(sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p' <<<"$out")
	[ -n "$ms" ] || { echo "stats $name: no timing (see $plans)"; over=1; return; }
	if awk -v ms="$ms" -v t="$TARGET_MS" 'BEGIN { exit !(ms < t) }'; then
		verdict=ok
	else
		verdict=OVER
		over=1
	fi
	echo "stats $name: $ms ms (target < $TARGET_MS ms) $verdict"
}

u="'$uid'"

explain "auth session" "SELECT s.user_id FROM sessions s
 JOIN users u ON u.id = s.user_id
 WHERE s.token_hash = decode(\$1, 'hex')
 AND s.expires_at > now() AND NOT u.is_deleted" "'$hash'"

explain "global" "SELECT harvested_lemons,
 created_instances, live_users FROM stats_counters"

explain "leaderboard rich" "SELECT email, lemon_balance FROM users
 WHERE NOT is_deleted AND lemon_balance > 0
 ORDER BY lemon_balance DESC, created_at, id LIMIT 3"

explain "leaderboard quiz" "SELECT u.email, q.n
 FROM quiz_daily_correct q CROSS JOIN LATERAL (SELECT email
 FROM users WHERE id = q.user_id AND NOT is_deleted LIMIT 1) u
 WHERE q.day = (now() AT TIME ZONE 'UTC')::date
 ORDER BY q.n DESC, q.reached, q.user_id LIMIT 3"

daily="WITH h AS (
SELECT (created_at AT TIME ZONE 'UTC')::date AS day,
 sum(amount) AS amount FROM user_lemon_transactions
 WHERE user_id = \$1 AND action_type = 'harvest'
 AND status = 'successful'
 AND created_at >= ((now() AT TIME ZONE 'UTC')::date
  - (\$2::int - 1))::timestamp AT TIME ZONE 'UTC'
 GROUP BY 1)
 SELECT to_char((now() AT TIME ZONE 'UTC')::date - g.i,
  'YYYY-MM-DD\"T00:00:00Z\"'), coalesce(h.amount, 0)
 FROM generate_series(0, \$2::int - 1) AS g(i)
 LEFT JOIN h ON h.day = (now() AT TIME ZONE 'UTC')::date - g.i
 ORDER BY g.i"
explain "daily-harvest days=7" "$daily" "$u" "'7'"
explain "daily-harvest days=90" "$daily" "$u" "'90'"

tx="SELECT c.total, t.id, t.action_type, t.status,
 t.amount, t.balance,
 floor(extract(epoch FROM t.created_at))::bigint, t.note
 FROM (SELECT count(*) AS total FROM user_lemon_transactions
 WHERE user_id = \$1) c
 LEFT JOIN LATERAL (SELECT id, action_type, status, amount,
 balance, created_at, note FROM user_lemon_transactions
 WHERE user_id = \$1 ORDER BY created_at DESC, id DESC
 LIMIT \$2::int OFFSET \$3::bigint) t ON true
 ORDER BY t.created_at DESC, t.id DESC"
explain "transactions first page (limit 20)" "$tx" "$u" "'20'" "'0'"
explain "transactions last page (limit 100)" "$tx" "$u" "'100'" \
	"'$(( (rows - 1) / 100 * 100 ))'"

value -c "DELETE FROM sessions WHERE token_hash = decode('$hash', 'hex')" >/dev/null
echo "stats: plans in $plans" >&2
exit $over
