#!/usr/bin/env bash
# Part of `make bench` (tests/bench/run calls it with its stack directory):
# create -> first successful connection with the jobs looping every second
# (Redis, then PostgreSQL), create -> the API saying "running" (checked to
# answer at that moment), and the time of one reconcile pass over 500,
# 1,000 and 2,000 instance rows of which 20 run for real (the rest stopped
# or deleted).  Bench users inst1..inst10 get sessions and lemons in SQL.
# Last, tests/bench/tls.sh: what TLS costs (set-up, pgbench -S) against
# plaintext on one server.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:?usage: instances.sh STACK_DIR}
# shellcheck disable=SC1091
. "$dir/env"
ctl=$DBTREE_BUILD/bin/dbtreectl
psql_bin=$(command -v psql)

now_ms() { date +%s%3N; }
# shellcheck source=tests/bench/median.sh
. tests/bench/median.sh
# as the stack's service user: its PostgreSQL lets no one else in
svc() { bin/dbtree-local exec "$dir" "$@"; }
sql() { svc "$psql_bin" -h "$dir/run" -U dbtree -d dbtree -v ON_ERROR_STOP=1 -qtA "$@"; }

# shellcheck source=tests/bench/accounts.sh
. tests/bench/accounts.sh
accounts_sql inst inst 9000 10 1000 | sql >/dev/null

token() { printf 'inst%039d' "$1"; }

create() {	# create USER NAME PRESET: prints "id connection-string"
	curl -sf -H "Authorization: Bearer $(token "$1")" \
		-H 'Content-Type: application/json' \
		-d "{\"name\":\"$2\",\"presetId\":\"$3\"}" "$DBTREE_URL/api/db/instances" |
		python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["id"], d["credentials"]["externalUri"])'
}

says_running() {	# says_running ID: the API (user 1) says status running
	curl -sf -H "Authorization: Bearer $(token 1)" "$DBTREE_URL/api/db/instances/$1" |
		grep -q '"status":"running"'
}

# instances take TLS only: clients check them against the installation's CA
ca=$(mktemp /tmp/dbtree-bench-ca-XXXXXX)
trap 'rm -f "$ca"' EXIT
curl -sf "$DBTREE_URL/api/db/ca.pem" >"$ca"

answers() {	# answers KIND URI: true once the instance answers a query
	if [ "$1" = redis ]; then
		redis-cli -u "$2" --cacert "$ca" --no-auth-warning PING 2>/dev/null |
			grep -q PONG
	else
		"$psql_bin" "$2" -qtAc 'SELECT 1' >/dev/null 2>&1
	fi
}

# first_connection KIND PRESET: "ms from create to a query, ms from create
# to the API saying running, whether it answered at that moment (1/0)"
first_connection() {
	local t0 id uri first=0 said=0 ok=0
	t0=$(now_ms)
	read -r id uri < <(create 1 "first-$1" "$2")
	for _ in $(seq 1200); do
		if [ "$first" = 0 ] && answers "$1" "$uri"; then
			first=$(( $(now_ms) - t0 ))
		fi
		if [ "$said" = 0 ] && says_running "$id"; then
			said=$(( $(now_ms) - t0 ))
			answers "$1" "$uri" && ok=1
		fi
		[ "$first" != 0 ] && [ "$said" != 0 ] && break
		sleep 0.05
	done
	echo "$first $said $ok"
}

# not through svc(): $! must be the jobs loop itself (exec), not a subshell
bin/dbtree-local exec "$dir" "$ctl" jobs --loop 1 >>"$dir/log/jobs.log" 2>&1 &
loop=$!
read -r redis_ms redis_said redis_ok < <(first_connection redis redis-standalone-tiny)
read -r pg_ms pg_said pg_ok < <(first_connection postgres postgres-standalone-tiny)
kill "$loop"
wait "$loop" 2>/dev/null || true
awk -v r="$redis_ms" -v p="$pg_ms" 'BEGIN {
	printf "%-28s Redis %.2f s (target <= 3 s) %s; PostgreSQL %.2f s (target <= 10 s) %s\n",
		"create -> first connection", r / 1000, r <= 3000 ? "ok" : "ABOVE TARGET",
		p / 1000, p <= 10000 ? "ok" : "ABOVE TARGET" }'
# the status a polling client sees: "running" must mean "connect now"
awk -v r="$redis_said" -v p="$pg_said" -v ro="$redis_ok" -v po="$pg_ok" 'BEGIN {
	printf "%-28s Redis %.2f s, PostgreSQL %.2f s; answered when it said so: %s\n",
		"create -> API says running", r / 1000, p / 1000,
		ro == 1 && po == 1 ? "yes ok" : "NO (the status lied)" }'

# 20 running for real: users 2..10 two each, user 1 has its two already
for u in $(seq 2 10); do
	for n in a b; do create "$u" "run-$n" redis-standalone-tiny >/dev/null; done
done
for _ in $(seq 60); do
	svc "$ctl" jobs --only reconcile >/dev/null 2>&1
	[ "$(sql -c "SELECT count(*) FROM db_instances WHERE status = 'running'")" -ge 20 ] && break
done

pass_ms() {	# median of three reconcile passes, in ms
	for _ in 1 2 3; do
		local t0
		t0=$(now_ms)
		svc "$ctl" jobs --only reconcile >/dev/null 2>&1
		echo $(( $(now_ms) - t0 ))
	done | median
}

for rows in 500 1000 2000; do
	sql -c "INSERT INTO db_instances (user_id, name, type, size, mode, cpu,
		memory, disk, creation_cost, hourly_cost, status, desired,
		scaled_down, deleted_at, destroyed_at)
		SELECT '00000000-0000-4000-9000-000000000001', 'filler-' || g,
		'redis', 'tiny', 'standalone', 0.1, 256, 1, 5, 1,
		CASE WHEN g % 2 = 0 THEN 'stopped' ELSE 'deleting' END::db_status,
		CASE WHEN g % 2 = 0 THEN 'stopped' ELSE 'deleted' END::db_desired,
		true, CASE WHEN g % 2 = 1 THEN now() END,
		CASE WHEN g % 2 = 1 THEN now() END
		FROM generate_series((SELECT count(*) FROM db_instances) + 1, $rows) g" \
		>/dev/null
	ms=$(pass_ms)
	awk -v n="$rows" -v ms="$ms" 'BEGIN {
		printf "%-28s %4d rows (20 running): %4d ms per pass%s\n", "reconcile pass", n, ms,
			n == 2000 ? (ms <= 1000 ? " (target <= 1000 ms) ok" : " (target <= 1000 ms) ABOVE TARGET") : "" }'
done
running=$(sql -c "SELECT count(*) FROM db_instances WHERE status = 'running'")
printf '%-28s %s instances running after the passes (expected 20)\n' "reconcile sanity" "$running"

tests/bench/tls.sh "$dir"
