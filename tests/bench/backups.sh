#!/usr/bin/env bash
# Part of `make bench` (tests/bench/run calls it with its stack directory):
# a backup and a restore of a PostgreSQL instance holding about 1 GB, by
# the backups job, against pg_dump -Fc and pg_restore run by hand on the
# same database in the same run (the same programs, the same socket).
# Throughput is the database's size over the time taken; each figure is the
# median of BACKUP_ROUNDS (2) alternating runs.  BACKUP_MB (1024) sets the
# size.  The job's restore first keeps the current data (a pre_restore
# dump): its load phase alone is what compares with pg_restore.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:?usage: backups.sh STACK_DIR}
# shellcheck disable=SC1091
. "$dir/env"
ctl=$DBTREE_BUILD/bin/dbtreectl
rounds=${BACKUP_ROUNDS:-2}
mb=${BACKUP_MB:-1024}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

now_ms() { date +%s%3N; }
# shellcheck source=tests/bench/median.sh
. tests/bench/median.sh
svc() { bin/dbtree-local exec "$dir" "$@"; }
sql() { svc "$pg_bin/psql" -h "$dir/run" -U dbtree -d dbtree -v ON_ERROR_STOP=1 -qtA "$@"; }
# shellcheck source=tests/bench/accounts.sh
. tests/bench/accounts.sh
accounts_sql bak bak 9100 1 1000 | sql >/dev/null
token=$(printf 'bak%040d' 1)
api() {	# api METHOD PATH [BODY]
	curl -sf -X "$1" -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/json' ${3:+-d "$3"} "$DBTREE_URL$2"
}
json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }

id=$(api POST /api/db/instances '{"name":"bench-backup","type":"postgres","resources":{"cpu":1,"memory":1024,"disk":8}}' | json '["id"]')
for _ in $(seq 600); do
	svc "$ctl" jobs --only reconcile >/dev/null 2>&1
	# each turn waits for a whole reconcile pass: no pause needed
	[ "$(api GET "/api/db/instances/$id" | json '["status"]')" = running ] && break
done
# the driver's own superuser over the instance's socket, as the job does
secret=$(sed -n 's/^root=//p' "$DBTREE_INSTANCE_DIR/$id/secret" 2>/dev/null || true)
port=$(api GET "/api/db/instances/$id" | json '["port"]')
as_root() {	# as_root PROGRAM ARGS...: a client of the instance as dbtree_root
	svc env PGPASSWORD="$secret" PGHOST="$DBTREE_INSTANCE_DIR/$id" PGPORT="$port" \
		PGUSER=dbtree_root "$@"
}
rows=$(( mb * 1024 * 1024 / 140 ))
as_root "$pg_bin/psql" -d bench-backup -qtAc "CREATE TABLE big AS SELECT i,
	md5(i::text) || md5((i * 7)::text) || md5((i * 13)::text) AS filler
	FROM generate_series(1, $rows) i; CHECKPOINT" >/dev/null
bytes=$(as_root "$pg_bin/psql" -d bench-backup -qtAc "SELECT pg_database_size('bench-backup')")
size_mb=$(( bytes / 1048576 ))
work=$(svc mktemp -d /tmp/dbtree-bench-dump-XXXXXX)

by_hand_dump() {	# prints ms
	local t0
	t0=$(now_ms)
	as_root "$pg_bin/pg_dump" -Fc -d bench-backup -f "$work/hand.dump"
	echo $(( $(now_ms) - t0 ))
}

job_dump() {	# prints ms, from the request to the backup done
	local t0 bid
	t0=$(now_ms)
	bid=$(api POST "/api/db/instances/$id/backups" | json '["id"]')
	svc "$ctl" jobs --only backups >/dev/null 2>&1
	[ "$(sql -c "SELECT state FROM db_backups WHERE external_id = '$bid'")" = done ] ||
		{ echo "bench: the backup failed" >&2; exit 1; }
	echo $(( $(now_ms) - t0 ))
	echo "$bid" > "$work/last"
}

by_hand_restore() {	# prints ms: the old copy dropped, a fresh one loaded
	local t0
	t0=$(now_ms)
	as_root "$pg_bin/dropdb" --if-exists hand-copy 2>/dev/null
	as_root "$pg_bin/createdb" -O admin hand-copy
	as_root "$pg_bin/pg_restore" --no-owner --role=admin -d hand-copy "$work/hand.dump"
	echo $(( $(now_ms) - t0 ))
}

job_restore() {	# prints "ms of the load phase, ms in all"
	local t0 bid all pre
	bid=$(cat "$work/last")
	t0=$(now_ms)
	api POST "/api/db/instances/$id/backups/$bid/restore" >/dev/null
	svc "$ctl" jobs --only backups >/dev/null 2>&1
	all=$(( $(now_ms) - t0 ))
	[ "$(sql -c "SELECT state FROM db_restores ORDER BY id DESC LIMIT 1")" = done ] ||
		{ echo "bench: the restore failed" >&2; exit 1; }
	pre=$(sql -c "SELECT (extract(epoch FROM finished_at - started_at) * 1000)::bigint
		FROM db_backups WHERE kind = 'pre_restore' ORDER BY id DESC LIMIT 1")
	sql -c "DELETE FROM db_backups WHERE kind = 'pre_restore'" >/dev/null
	echo "$(( all - pre )) $all"
}

declare -a hd=() jd=() hr=() jr=() ja=()
for _ in $(seq "$rounds"); do
	hd+=("$(by_hand_dump)")
	jd+=("$(job_dump)")
	hr+=("$(by_hand_restore)")
	read -r load all <<<"$(job_restore)"
	jr+=("$load"); ja+=("$all")
	# the job keeps what it took: make room for the next round's dump
	sql -c "UPDATE db_backups SET expires_at = now() WHERE kind = 'manual'" >/dev/null
	svc "$ctl" jobs --only backups >/dev/null 2>&1
done
svc rm -rf "$work"
api DELETE "/api/db/instances/$id" >/dev/null || true

rate() { awk -v mb="$size_mb" -v ms="$1" 'BEGIN { printf "%.1f", mb / (ms / 1000) }'; }
line() {	# line NAME JOB_MS HAND_MS
	awk -v n="$1" -v j="$(rate "$2")" -v h="$(rate "$3")" 'BEGIN {
		printf "%-28s %7.1f MB/s | by hand %7.1f MB/s | ratio %.2f (target >= 0.9) %s\n",
			n, j, h, j / h, (j / h >= 0.9) ? "ok" : "BELOW TARGET" }'
}
echo "backups: a PostgreSQL database of $size_mb MB, median of $rounds rounds"
line "backup (pg_dump -Fc)" "$(printf '%s\n' "${jd[@]}" | median)" \
	"$(printf '%s\n' "${hd[@]}" | median)"
line "restore (load phase)" "$(printf '%s\n' "${jr[@]}" | median)" \
	"$(printf '%s\n' "${hr[@]}" | median)"
awk -v a="$(printf '%s\n' "${ja[@]}" | median)" -v mb="$size_mb" 'BEGIN {
	printf "%-28s %7.1f MB/s (the current data kept first, then loaded)\n",
		"restore, all of it", mb / (a / 1000) }'
