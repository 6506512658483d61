#!/usr/bin/env bash
# billing.sh STACK_DIR: one billing pass (`dbtreectl jobs --only bill`)
# over BILLING_INSTANCES (100,000) running instances, timed against a
# 10 s target, then the rules checked on what it left:
#
#   - owners: one per 4 instances; 1 in 100 holds 2 lemons (2 of its 4
#     instances charged, 2 paused), 1 in 100 holds none (4 paused), the
#     rest 100 (all charged); every balance is one grant ledger row;
#   - besides, 5% more instances stopped and 5% deleted: never charged;
#   - after the pass: charged and paused as expected, one ledger row per
#     billed period and none for a stopped or deleted instance, one pause
#     mail per paused instance, balance = sum(ledger) for every owner; a
#     second pass in the same period charges nothing more (timed too).
#
# The instances are rows only (inserted in SQL; the driver plays no part
# in billing).  At the end they are marked deleted and destroyed and the
# pause mails dropped, so that later sections of `make bench` (and its
# jobs) do not see them.  STACK_DIR is a running throwaway stack
# (bin/dbtree-local start DIR, DBTREE_FAST=1); runnable alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:?usage: billing.sh STACK_DIR}
# shellcheck disable=SC1091
. "$dir/env"
ctl=$DBTREE_BUILD/bin/dbtreectl
N=${BILLING_INSTANCES:-100000}
TARGET_S=10
psql_bin=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | sort -V | tail -n 1)

svc() { bin/dbtree-local exec "$dir" "$@"; }
sql() { svc "$psql_bin" -h "$dir/run" -U dbtree -d dbtree -v ON_ERROR_STOP=1 -qtA "$@"; }
now_ms() { date +%s%3N; }

tag=bill$(date +%s)	# this run's owners: <tag>-<n>@bench.invalid
owners=$(( N / 4 ))
echo "billing: loading $N running instances of $owners owners ($tag)..." >&2
sql -v tag="$tag" -v owners="$owners" -v n="$N" >/dev/null <<'SQL'
BEGIN;
-- bulk rows without the per-row counters and foreign-key triggers; the
-- counters are brought up to date below
SET LOCAL session_replication_role = replica;
CREATE TEMP TABLE bill_owners ON COMMIT DROP AS
SELECT g AS n, gen_random_uuid() AS id,
       CASE WHEN g % 100 = 0 THEN 2 WHEN g % 100 = 1 THEN 0 ELSE 100 END
	AS balance
FROM generate_series(1, :owners) g;
INSERT INTO users (id, email, lemon_balance, total_earned_lemons)
SELECT id, :'tag' || '-' || n || '@bench.invalid', balance, balance
FROM bill_owners;
INSERT INTO user_lemon_transactions (user_id, action_type, amount, balance,
	note)
SELECT id, 'grant', balance, balance, 'bench: billing' FROM bill_owners
WHERE balance > 0;
-- instance g belongs to owner (g - 1) / 4 + 1; past n: stopped, deleted
INSERT INTO db_instances (user_id, name, type, size, mode, cpu, memory,
	disk, creation_cost, hourly_cost, status, desired, ready_at,
	deleted_at, destroyed_at, scaled_down)
SELECT o.id, :'tag' || '-' || g, 'redis', 'tiny', 'standalone', 0.1, 256, 1,
       5, 1, k.status::db_status, k.desired::db_desired, now(),
       k.deleted, k.deleted, k.desired <> 'running'
FROM generate_series(1, :n + :n / 10) g
JOIN bill_owners o ON o.n = ((g - 1) % :n) / 4 + 1
CROSS JOIN LATERAL (SELECT CASE WHEN g <= :n THEN 'running'
	WHEN g <= :n + :n / 20 THEN 'stopped' ELSE 'deleting' END AS status,
	CASE WHEN g <= :n THEN 'running'
	WHEN g <= :n + :n / 20 THEN 'stopped' ELSE 'deleted' END AS desired,
	CASE WHEN g > :n + :n / 20 THEN now() END AS deleted) k;
UPDATE stats_counters SET live_users = live_users + :owners,
	created_instances = created_instances + :n + :n / 10;
COMMIT;
ANALYZE users;
ANALYZE db_instances;
ANALYZE user_lemon_transactions;
ANALYZE db_instance_billing;
SQL

pass() {	# pass: one billing pass; prints its milliseconds
	local t0
	t0=$(now_ms)
	svc "$ctl" jobs --only bill >>"$dir/log/jobs.log" 2>&1
	echo $(( $(now_ms) - t0 ))
}
first=$(pass)
second=$(pass)

# what the pass did to this run's instances, and what it should have done
read -r charged paused ledger stopped_charged double mails broken <<<"$(sql \
	-F ' ' -v tag="$tag" <<'SQL'
WITH i AS (SELECT i.id, i.desired, i.user_id FROM db_instances i
	WHERE i.name LIKE :'tag' || '-%'),
o AS (SELECT u.id, u.email, u.lemon_balance FROM users u
	WHERE u.email LIKE :'tag' || '-%')
SELECT (SELECT count(*) FROM db_instance_billing b JOIN i ON i.id = b.instance_id),
	(SELECT count(*) FROM i WHERE desired = 'paused'),
	(SELECT count(*) FROM user_lemon_transactions t JOIN i
		ON i.id = t.db_instance_id WHERE t.action_type = 'instance_maintain'),
	(SELECT count(*) FROM db_instance_billing b JOIN i ON i.id = b.instance_id
		WHERE i.desired IN ('stopped', 'deleted')),
	(SELECT count(*) FROM (SELECT t.db_instance_id FROM user_lemon_transactions t
		JOIN i ON i.id = t.db_instance_id
		WHERE t.action_type = 'instance_maintain'
		GROUP BY 1 HAVING count(*) > 1) d),
	(SELECT count(*) FROM mail_outbox m JOIN o ON o.email = m.recipient
		WHERE m.kind = 'instance_paused'),
	(SELECT count(*) FROM o WHERE o.lemon_balance <> (SELECT
		coalesce(sum(t.amount), 0) FROM user_lemon_transactions t
		WHERE t.user_id = o.id));
SQL
)"
broke=$(( (owners + 99) / 100 ))	# owners n % 100 = 1: 4 paused
short=$(( owners / 100 ))		# n % 100 = 0: 2 of 4 paused
want_paused=$(( broke * 4 + short * 2 ))
want_charged=$(( N - want_paused ))

awk -v n="$N" -v ms="$first" -v t="$TARGET_S" 'BEGIN {
	printf "%-28s %.2f s (target <= %d s) %s\n", "billing " n " instances",
		ms / 1000, t, ms <= t * 1000 ? "ok" : "OVER" }'
awk -v ms="$second" 'BEGIN {
	printf "%-28s %.2f s (nothing left to charge; reported)\n",
		"billing again, same period", ms / 1000 }'
ok=yes
[ "$charged" -eq "$want_charged" ] && [ "$ledger" -eq "$want_charged" ] || ok=no
[ "$paused" -eq "$want_paused" ] && [ "$mails" -eq "$want_paused" ] || ok=no
[ "$stopped_charged" -eq 0 ] && [ "$double" -eq 0 ] && [ "$broken" -eq 0 ] || ok=no
printf '%-28s %s charged (expected %s, %s ledger rows), %s paused (expected %s, %s mails), %s stopped/deleted charged, %s charged twice, %s balances off the ledger: %s\n' \
	"billing rules" "$charged" "$want_charged" "$ledger" "$paused" \
	"$want_paused" "$mails" "$stopped_charged" "$double" "$broken" \
	"$([ "$ok" = yes ] && echo ok || echo BROKEN)"

# out of the way of the sections after this one
sql -v tag="$tag" >/dev/null <<'SQL'
BEGIN;
DELETE FROM mail_outbox m USING users u WHERE u.email LIKE :'tag' || '-%'
	AND m.recipient = u.email;
UPDATE db_instances SET status = 'deleting', desired = 'deleted',
	deleted_at = coalesce(deleted_at, now()),
	destroyed_at = coalesce(destroyed_at, now()), scaled_down = true
WHERE name LIKE :'tag' || '-%';
COMMIT;
SQL
[ "$ok" = yes ]
