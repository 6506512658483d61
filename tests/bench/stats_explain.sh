#!/usr/bin/env bash
# stats_explain.sh STACK_DIR: database time of every query behind the stats
# routes (GET /api/stats/global, /api/leaderboard/mini,
# /api/stats/daily-harvest, /api/stats/transactions) on a big data set:
# 1,000,000 users and 10,000,000 ledger rows over 90 days (~30% harvests,
# every balance the sum of its user's ledger), 2,000,000 quiz attempts
# (30,000 today), as STATS_USERS and STATS_LEDGER_ROWS say.
#
# The data set lives in a PostgreSQL cluster of its own, built once and
# kept: DBTREE_BENCH_DATA (default /var/tmp/dbtree-bench-data)/stats-<key>,
# a data directory, where <key> hashes sql/migrations/*.sql, the load SQL
# below and the sizes, so that a new migration or another data set builds
# it again (and older ones are removed).  Building: initdb, `dbtreectl
# migrate`, the bulk load, VACUUM ANALYZE: minutes, the first time only.
# Each later run starts PostgreSQL on that directory as it is (with the
# stack's settings: shared_buffers 128MB, fsync off), measures, stops it:
# seconds.  A lock file keeps two runs from using it at once.  The stack
# of STACK_DIR gives the service user, the build and PostgreSQL's
# binaries; its own database is not touched.
#
# Each query runs as a prepared statement, as the pools run it (db_exec
# prepares every statement once per connection), for the user with the most
# ledger rows.  It is executed 8 times under EXPLAIN (ANALYZE, BUFFERS), so
# that PostgreSQL has chosen between its custom and generic plan; the
# median execution time of the last three (this machine is shared: one run
# can lose milliseconds to another process) is reported as
#	stats <name>: <execution time> ms (target < 5 ms) ok|OVER
# and the last run's plan goes to STACK_DIR/log/stats-explain.log.  Exit
# status 1 if any query is over.
#
# The SQL below is a COPY of the literals in lib/domain/stats.c (and of
# session_user() in lib/domain/session.c, which authenticates the two
# private routes); stats.c is the source of truth: change both together.
set -euo pipefail
dir=$(cd "${1:?usage: stats_explain.sh STACK_DIR}" && pwd)
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../.."
# shellcheck disable=SC1091
. "$dir/env"
TARGET_MS=5
USERS=${STATS_USERS:-1000000}
LEDGER=${STATS_LEDGER_ROWS:-10000000}
plans=$dir/log/stats-explain.log
cache=${DBTREE_BENCH_DATA:-/var/tmp/dbtree-bench-data}
pg=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

# as the stack's service user, who owns the cluster
svc() { bin/dbtree-local exec "$dir" "$@"; }
svc mkdir -p "$cache"
key=$( { cat sql/migrations/*.sql; sed -n '/^load() {/,/^}/p' "$self"
	echo "$USERS $LEDGER"; } | sha256sum | cut -c1-16)
data=$cache/stats-$key
sock=$(svc mktemp -d /tmp/dbtree-stats-XXXXXX)
db="host=$sock user=dbtree dbname=dbtree"
exec 9>"$cache/stats.lock"
flock 9

sql() { svc "$pg/psql" -h "$sock" -U dbtree -d dbtree -X -q -v ON_ERROR_STOP=1 "$@"; }
value() { sql -tA "$@"; }

pg_start() {	# pg_start DATADIR [OPTIONS]
	svc "$pg/pg_ctl" -D "$1" -l "$cache/stats-postgresql.log" -w -t 60 \
		-o "-c listen_addresses= -c unix_socket_directories=$sock $(
		)-c unix_socket_permissions=0700 -c shared_buffers=128MB $(
		)-c fsync=off -c synchronous_commit=off -c full_page_writes=off ${2:-}" \
		start >/dev/null
	running=$1
}
running=
stop() {
	[ -z "$running" ] || svc "$pg/pg_ctl" -D "$running" -m fast -w stop \
		>/dev/null 2>&1 || true
	svc rm -rf "$sock"
}
trap stop EXIT

load() {
	echo "stats: loading $USERS users and $LEDGER ledger rows..." >&2
	sql -v users="$USERS" -v ledger="$LEDGER" <<'SQL'
-- Bulk load without row triggers and foreign-key checks; the counters the
-- triggers keep are recomputed at the end.  The ledger's secondary
-- indexes are dropped for the load and made again after it (the same
-- definitions), and its rows go in in primary key order.
SET session_replication_role = replica;
SET work_mem = '512MB';
SET maintenance_work_mem = '1GB';
BEGIN;
CREATE TEMP TABLE ult_indexes AS SELECT indexname, indexdef FROM pg_indexes
WHERE tablename = 'user_lemon_transactions'
	AND indexname <> 'user_lemon_transactions_pkey';
DO $$ DECLARE r record; BEGIN
	FOR r IN SELECT indexname FROM ult_indexes LOOP
		EXECUTE format('DROP INDEX %I', r.indexname);
	END LOOP;
END $$;
INSERT INTO users (email, created_at)
SELECT 'bench' || g || '@bench.invalid',
       now() - interval '91 days' - random() * interval '270 days'
FROM generate_series(1, :users) g;

-- Ledger moves before the welcome bonus: n = 1 is the heaviest user (a
-- harvest every hour for 90 days and two instances billed hourly); the
-- rest are spread over users 2.. with a long tail (random()^2).
-- User 1's two instances are rows (deleted since: a page of one
-- instance's ledger shows deleted ones too).
CREATE TEMP TABLE moves (seq bigserial, n int, action lemon_action,
	amount int, created_at timestamptz, inst bigint);
CREATE TEMP TABLE bench_instances AS
WITH i AS (INSERT INTO db_instances (user_id, name, type, size, mode, cpu,
	memory, disk, creation_cost, hourly_cost, status, desired, deleted_at,
	destroyed_at, scaled_down)
	SELECT u.id, 'bench-' || k, 'redis', 'tiny', 'standalone', 0.1, 256, 1,
	5, k, 'deleting', 'deleted', now(), now(), true
	FROM users u, generate_series(1, 2) k
	WHERE u.email = 'bench1@bench.invalid' RETURNING id, hourly_cost)
SELECT id, hourly_cost AS k FROM i;
INSERT INTO moves (n, action, amount, created_at, inst)
SELECT 1, a.action, a.amount, now() - make_interval(hours => h) + a.off,
       (SELECT id FROM bench_instances WHERE k = -a.amount)
FROM generate_series(1, 2160) h,
     (VALUES ('harvest'::lemon_action, 3, interval '0'),
             ('instance_maintain', -1, interval '1 minute'),
             ('instance_maintain', -2, interval '2 minutes')) a(action, amount, off);
INSERT INTO moves (n, action, amount, created_at)
SELECT 2 + floor(random() ^ 2 * (:users - 1))::int, k.action, k.amount,
       now() - random() * interval '90 days'
FROM (SELECT random() AS r FROM generate_series(1, :ledger - :users - 6480)) g
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

INSERT INTO user_lemon_transactions (id, user_id, action_type, amount,
	balance, note, created_at, db_instance_id)
SELECT gen_random_uuid() AS id, b.id, m.action, m.amount,
       sum(m.amount) OVER (PARTITION BY m.n ORDER BY m.created_at, m.seq),
       m.action::text, m.created_at, m.inst
FROM moves m JOIN bench_users b ON b.n = m.n ORDER BY 1;
DO $$ DECLARE r record; BEGIN
	FOR r IN SELECT indexdef FROM ult_indexes LOOP
		EXECUTE r.indexdef;
	END LOOP;
END $$;

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

-- Quizzes (only if none ship yet) and attempts: 2 per user over 90 days,
-- 3 in 100 of them today.
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
FROM (SELECT g, 1 + floor(random() ^ 2 * (:users - 1))::int AS n,
	random() < 0.6 AS ok,
	CASE WHEN g <= :users * 3 / 100 THEN date_trunc('day', now(), 'UTC')
	     + random() * (now() - date_trunc('day', now(), 'UTC'))
	ELSE now() - random() * interval '90 days' END AS t
	FROM generate_series(1, :users * 2) g) s
JOIN bench_users b ON b.n = s.n
CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM quizzes) qs;

-- what the attempts' triggers keep (they were off for the load)
INSERT INTO quiz_daily_correct (day, user_id, n, reached)
SELECT (start_time AT TIME ZONE 'UTC')::date, user_id, count(*), max(start_time)
FROM user_quiz_attempts WHERE is_correct AND status = 'done' GROUP BY 1, 2
ON CONFLICT (day, user_id) DO UPDATE SET n = EXCLUDED.n,
	reached = EXCLUDED.reached;

UPDATE stats_counters SET
	live_users = (SELECT count(*) FROM users WHERE NOT is_deleted),
	harvests = (SELECT count(*) FROM user_lemon_transactions
		WHERE action_type = 'harvest' AND status = 'successful'),
	harvested_lemons = (SELECT coalesce(sum(amount), 0)
		FROM user_lemon_transactions
		WHERE action_type = 'harvest' AND status = 'successful');
COMMIT;
SQL
	# in a session of its own: the load's would leave the ledger's pages
	# not all-visible (no index-only scans)
	sql <<'SQL'
VACUUM ANALYZE users;
VACUUM ANALYZE user_lemon_transactions;
VACUUM ANALYZE user_quiz_attempts;
VACUUM ANALYZE stats_counters;
VACUUM ANALYZE quiz_daily_correct;
CHECKPOINT;
SQL
}

# build DATADIR: a new cluster there, migrated and loaded (left running)
build() {
	local t0=$SECONDS
	svc rm -rf "$1"
	svc "$pg/initdb" -D "$1" -U dbtree --auth-local=trust --auth-host=reject \
		-E UTF8 --locale=C.UTF-8 >/dev/null
	# no autovacuum while loading: its snapshots would keep the load's
	# VACUUM from marking the pages all-visible (index-only scans)
	pg_start "$1" "-c autovacuum=off"
	svc "$pg/createdb" -h "$sock" -U dbtree dbtree
	svc env DBTREE_DB="$db" "$DBTREE_BUILD/bin/dbtreectl" migrate \
		>>"$cache/stats-build.log" 2>&1
	load
	echo "stats: data set built in $(( SECONDS - t0 )) s, kept in $data" >&2
}

if [ -f "$data/PG_VERSION" ]; then
	pg_start "$data"
	echo "stats: data set reused from $data" >&2
else
	build "$data.new"
	svc "$pg/pg_ctl" -D "$data.new" -m fast -w stop >/dev/null
	running=
	svc mv "$data.new" "$data"
	svc find "$cache" -maxdepth 1 -name 'stats-*' -type d ! -name "stats-$key" \
		-exec rm -rf {} +
	pg_start "$data"
	# measured here: a VACUUM in the server that made the load leaves
	# the ledger's pages not all-visible (no index-only scans), one after
	# a restart marks them
	sql -c "VACUUM user_lemon_transactions" -c "VACUUM user_quiz_attempts" \
		-c "VACUUM quiz_daily_correct" -c "CHECKPOINT"
fi
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
	local name=$1 query=$2 args="" out ms verdict
	shift 2
	[ $# -eq 0 ] || args="($(IFS=,; echo "$*"))"
	out=$({
		printf 'PREPARE q AS %s;\n' "$query"
		for _ in 1 2 3 4 5 6 7 8; do
			printf 'EXPLAIN (ANALYZE, BUFFERS) EXECUTE q%s;\n' "$args"
		done
	} | sql -tA)
	# the plan of the last run; the time: the median of the last three
	printf '== %s\n%s\n\n' "$name" \
		"$(awk '/^Execution Time/ { if (++n == 8) print; next } n == 7' <<<"$out")" \
		>> "$plans"
	ms=$(sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p' <<<"$out" |
		tail -n 3 | sort -g | sed -n 2p)
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

tx="WITH c AS MATERIALIZED (SELECT count(*)
 AS total FROM user_lemon_transactions WHERE user_id = \$1)
 SELECT c.total, t.id, t.action_type,
 t.status, t.amount, t.balance,
 floor(extract(epoch FROM t.created_at))::bigint, t.note,
 i.name
 FROM c LEFT JOIN LATERAL (SELECT l.* FROM (
(SELECT id FROM user_lemon_transactions WHERE user_id = \$1
 AND \$3::bigint * 2 < c.total
 ORDER BY created_at DESC, id DESC
 LIMIT \$2::int OFFSET \$3::bigint)
 UNION ALL 
(SELECT id FROM user_lemon_transactions WHERE user_id = \$1
 AND \$3::bigint * 2 >= c.total AND \$3::bigint < c.total
 ORDER BY created_at, id
 LIMIT greatest(least(\$2::int, c.total - \$3::bigint), 0)
 OFFSET greatest(c.total - \$3::bigint - \$2::int, 0))) p
 JOIN user_lemon_transactions l ON l.id = p.id) t ON true
 LEFT JOIN db_instances i ON i.id = t.db_instance_id
 ORDER BY t.created_at DESC, t.id DESC"
explain "transactions first page (limit 20)" "$tx" "$u" "'20'" "'0'"
explain "transactions middle page (limit 100)" "$tx" "$u" "'100'" \
	"'$(( rows / 200 * 100 ))'"
explain "transactions last page (limit 100)" "$tx" "$u" "'100'" \
	"'$(( (rows - 1) / 100 * 100 ))'"

inst="WITH n AS (SELECT id FROM db_instances
 WHERE user_id = \$1 AND name = \$4)
 SELECT c.total, t.id, t.action_type,
 t.status, t.amount, t.balance,
 floor(extract(epoch FROM t.created_at))::bigint, t.note,
 i.name
 FROM (SELECT count(*) AS total FROM user_lemon_transactions
 WHERE db_instance_id IN (SELECT id FROM n)) c
 LEFT JOIN LATERAL (SELECT l.* FROM (SELECT id
 FROM user_lemon_transactions
 WHERE db_instance_id IN (SELECT id FROM n)
 ORDER BY created_at DESC, id DESC
 LIMIT \$2::int OFFSET \$3::bigint) p
 JOIN user_lemon_transactions l ON l.id = p.id) t ON true
 LEFT JOIN db_instances i ON i.id = t.db_instance_id
 ORDER BY t.created_at DESC, t.id DESC"
# one instance's page: user 1's instance "bench-1", billed every hour
# for 90 days
read -r iuid irows <<<"$(value -F ' ' -c "SELECT i.user_id, count(*)
	FROM user_lemon_transactions t JOIN db_instances i
	ON i.id = t.db_instance_id WHERE i.name = 'bench-1' GROUP BY 1")"
explain "one instance, first page (limit 20)" "$inst" "'$iuid'" "'20'" "'0'" \
	"'bench-1'"
explain "one instance, last page (limit 100)" "$inst" "'$iuid'" "'100'" \
	"'$(( (irows - 1) / 100 * 100 ))'" "'bench-1'"

value -c "DELETE FROM sessions WHERE token_hash = decode('$hash', 'hex')" >/dev/null
echo "stats: plans in $plans" >&2
exit $over
