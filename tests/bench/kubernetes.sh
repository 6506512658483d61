#!/usr/bin/env bash
# Part of `make bench`: a steady-state reconcile pass with the kubernetes
# driver against the API stand-in (tests/k8s/server.mjs), at 250, 500 and
# 1,000 instances: how many API requests one pass makes (target <= 6,
# whatever the number of instances) and how long it takes (target <= 2 s).
# Instances are created through the HTTP API (two per bench user), made
# ready by the stand-in, then measured once nothing is left to change.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
build=${DBTREE_BUILD:-$root/build}
dir=$(mktemp -d /tmp/dbtree-k8sbench-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token="bench-token-$port"
echo "$token" > "$dir/k8s-token"
mkdir -p "$dir/log"
node tests/k8s/server.mjs --port "$port" --token "$token" --quiet >"$dir/log/k8s.log" 2>&1 &
standin=$!
cleanup() {
	bin/dbtree-local stop "$dir" >/dev/null 2>&1 || true
	kill "$standin" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
k8s="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$k8s/_control/stats" >/dev/null && break; sleep 0.1; done
curl -sf -X POST -H 'Content-Type: application/json' -d '{"on":true}' \
	"$k8s/_control/autoready" >/dev/null

# a stack of its own: forget the settings of any stack that called us
unset DBTREE_HTTP_PORT DBTREE_URL DBTREE_STATE_DIR DBTREE_RUN_DIR DBTREE_DB \
	DBTREE_REDIS DBTREE_MAIL_DIR DBTREE_INSTANCE_DIR DBTREE_SITE_URL
# exported: the pools and every dbtreectl below need the same settings
export DBTREE_BUILD=$build DBTREE_FAST=1 DBTREE_PROVISIONER=kubernetes \
	DBTREE_K8S_API="$k8s" DBTREE_K8S_TOKEN_FILE="$dir/k8s-token" \
	DBTREE_K8S_CA_FILE= DBTREE_CAPACITY_CPU_MILLI=1000000 \
	DBTREE_CAPACITY_MEMORY_MB=10000000 DBTREE_JOB_BUDGET=300 \
	DBTREE_PROVISION_TIMEOUT=3600 DBTREE_LOGIN_EXEMPT=127.0.0.1 \
	DBTREE_ROUTE_LIMITS=false
bin/dbtree-local start "$dir" 2>/dev/null
# shellcheck disable=SC1091
. "$dir/env"
# as the stack's service user: its PostgreSQL lets no one else in
svc() { bin/dbtree-local exec "$dir" "$@"; }
sql() { svc psql -h "$dir/run" -U dbtree -d dbtree -v ON_ERROR_STOP=1 -qtA "$@"; }
now_ms() { date +%s%3N; }

# shellcheck source=tests/bench/accounts.sh
. tests/bench/accounts.sh
accounts_sql kb kb a000 500 1000 | sql >/dev/null

create_upto() {	# create_upto N: instances 1..N exist (two per user)
	local have i u
	have=$(sql -c "SELECT count(*) FROM db_instances WHERE deleted_at IS NULL")
	for i in $(seq $((have + 1)) "$1"); do
		u=$(( (i + 1) / 2 ))
		curl -sf -o /dev/null -H "Authorization: Bearer $(printf 'kb%041d' "$u")" \
			-H 'Content-Type: application/json' \
			-d "{\"name\":\"kb-$i\",\"presetId\":\"redis-standalone-tiny\"}" \
			"$DBTREE_URL/api/db/instances"
	done
}

settle() {	# reconcile until every instance runs
	for _ in $(seq 30); do
		svc "$DBTREE_BUILD/bin/dbtreectl" jobs --only reconcile >/dev/null 2>&1 || true
		[ "$(sql -c "SELECT count(*) FROM db_instances
			WHERE deleted_at IS NULL AND status <> 'running'")" -eq 0 ] && return 0
	done
	return 1
}

for n in 250 500 1000; do
	create_upto "$n"
	settle || echo "kubernetes: not every instance became running at $n"
	svc "$DBTREE_BUILD/bin/dbtreectl" jobs --only reconcile >/dev/null 2>&1
	curl -sf -X POST "$k8s/_control/reset-stats" >/dev/null
	t0=$(now_ms)
	svc "$DBTREE_BUILD/bin/dbtreectl" jobs --only reconcile >/dev/null 2>&1
	ms=$(( $(now_ms) - t0 ))
	requests=$(curl -sf "$k8s/_control/stats" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"])')
	awk -v n="$n" -v r="$requests" -v ms="$ms" 'BEGIN {
		printf "%-28s %4d instances: %d API requests (target <= 6) %s, %d ms (target <= 2000 ms) %s\n",
			"kubernetes steady pass", n, r, r <= 6 ? "ok" : "ABOVE TARGET", ms,
			ms <= 2000 ? "ok" : "ABOVE TARGET" }'
done
