#!/usr/bin/env bash
# reconcile_rows.sh STACK_DIR: the database side of a local reconcile pass
# over RECONCILE_ROWS (20,000) instance rows at rest (stopped as meant; rows
# only, nothing runs, so the driver's part is small).
#
# Two passes, each `dbtreectl jobs --only reconcile`: the first finds every
# row down as meant but not yet marked scaled down (the bookkeeping a pass
# writes after a mass stop or pause), the second is steady.  For each: its
# time and the transactions it committed in the database
# (pg_stat_database, read once the pass's backend has gone).  The
# bookkeeping is set-based (fleet_marks_flush: one statement per kind), so
# a pass commits about as many transactions at 20,000 rows as at 20; one
# per row would be 20,000 more.  Target: <= 100 transactions a pass.
#
# STACK_DIR is a running throwaway stack (bin/dbtree-local start DIR,
# DBTREE_FAST=1); runnable alone.  The rows are marked destroyed at the
# end, out of the way of later sections.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:?usage: reconcile_rows.sh STACK_DIR}
# shellcheck disable=SC1091
. "$dir/env"
ctl=$DBTREE_BUILD/bin/dbtreectl
R=${RECONCILE_ROWS:-20000}
TARGET_TX=100
psql_bin=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | sort -V | tail -n 1)

svc() { bin/dbtree-local exec "$dir" "$@"; }
sql() { svc "$psql_bin" -h "$dir/run" -U dbtree -d dbtree -v ON_ERROR_STOP=1 -qtA "$@"; }
now_ms() { date +%s%3N; }
tag=rrow$(date +%s)

owner=$(sql -c "INSERT INTO users (email) VALUES ('$tag@bench.invalid') RETURNING id" | head -n 1)
sql -v tag="$tag" -v owner="$owner" -v n="$R" >/dev/null <<'SQL'
INSERT INTO db_instances (user_id, name, type, size, mode, cpu, memory,
	disk, creation_cost, hourly_cost, status, desired, scaled_down)
SELECT :'owner', :'tag' || '-' || g, 'redis', 'tiny', 'standalone', 0.1, 256,
       1, 5, 1, 'stopped', 'stopped', false
FROM generate_series(1, :n) g;
ANALYZE db_instances;
SQL

xacts() {
	sql -c "SELECT xact_commit + xact_rollback FROM pg_stat_database
		WHERE datname = current_database()"
}
# pass: one reconcile pass; prints "ms transactions".  Each xacts is a
# transaction too, counted once its psql has gone: k reads after the first
# add k - 1 and the first itself 1.  The pass's backend reports its counts
# as it exits: read until they stop moving (by more than the last read).
pass() {
	local before t0 ms now last k=1
	before=$(xacts)
	t0=$(now_ms)
	svc "$ctl" jobs --only reconcile >>"$dir/log/jobs.log" 2>&1
	ms=$(( $(now_ms) - t0 ))
	last=$(xacts)
	for _ in $(seq 50); do
		now=$(xacts)
		k=$((k + 1))
		[ "$(( now - last ))" -gt 1 ] || break
		last=$now
	done
	echo "$ms $(( now - before - k ))"
}
read -r first_ms first_tx <<<"$(pass)"
read -r steady_ms steady_tx <<<"$(pass)"
marked=$(sql -v tag="$tag" -c "SELECT count(*) FROM db_instances
	WHERE name LIKE '$tag-%' AND scaled_down")

verdict() { [ "$1" -le "$TARGET_TX" ] && echo ok || echo OVER; }
printf '%-28s %d rows: %d ms, %d transactions (target <= %d) %s; %s of %s marked scaled down\n' \
	"reconcile rows found down" "$R" "$first_ms" "$first_tx" "$TARGET_TX" \
	"$(verdict "$first_tx")" "$marked" "$R"
printf '%-28s %d rows: %d ms, %d transactions (target <= %d) %s\n' \
	"reconcile rows, steady" "$R" "$steady_ms" "$steady_tx" "$TARGET_TX" \
	"$(verdict "$steady_tx")"

sql -c "UPDATE db_instances SET status = 'deleting', desired = 'deleted',
	deleted_at = now(), destroyed_at = now(), scaled_down = true
	WHERE name LIKE '$tag-%'" >/dev/null
[ "$marked" -eq "$R" ] && [ "$first_tx" -le "$TARGET_TX" ] &&
	[ "$steady_tx" -le "$TARGET_TX" ]
