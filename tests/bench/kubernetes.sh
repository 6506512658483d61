#!/usr/bin/env bash
# Part of `make bench`: a steady-state reconcile pass with the kubernetes
# driver against the API stand-in (tests/k8s/server.mjs), at 1,000, 5,000
# and 10,000 instances: how many API requests one pass makes (the pages of
# its lists, DBTREE_K8S_PAGE_SIZE objects each, and nothing else: nothing
# changes), how long it takes (target <= 5 s at 10,000) and the largest
# resident set of `dbtreectl jobs` (target <= 64 MB: it keeps a small
# struct per listed object, not the lists' JSON).  Ten thousand instances
# through the API and the stand-in's checks would take hours here, so the
# rows are inserted in SQL as the API writes them (two per bench user,
# already running) and their objects, built by the driver's own manifest
# code (tests/bench/k8s_objects.c), are loaded into the stand-in at once
# (/_control/load); a pass settles them, and the measured pass must
# change nothing (0 other requests), which holds only if the objects are
# the ones the driver would have applied.
# 10,000 NodePort Services need more than the 2,768 ports of the API
# server's default range: the stand-in and dbtree get 20000-39999.
set -euo pipefail
cd "$(dirname "$0")/../.."
section_t0=$(date +%s)
root=$PWD
build=${DBTREE_BUILD:-$root/build}
dir=$(mktemp -d /tmp/dbtree-k8sbench-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token="bench-token-$port"
echo "$token" > "$dir/k8s-token"
mkdir -p "$dir/log"
node --max-old-space-size=4096 tests/k8s/server.mjs --port "$port" --token "$token" \
	--service-node-port-range 20000-39999 --quiet >"$dir/log/k8s.log" 2>&1 &
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
	DBTREE_K8S_CA_FILE= DBTREE_CAPACITY_CPU_MILLI=1000000 DBTREE_RESERVED_CPU_MILLI=0 \
	DBTREE_CAPACITY_MEMORY_MB=10000000 DBTREE_JOB_BUDGET=300 \
	DBTREE_PROVISION_TIMEOUT=3600 DBTREE_LOGIN_EXEMPT=127.0.0.1 \
	DBTREE_ROUTE_LIMITS=false DBTREE_PORT_MIN=20000 DBTREE_PORT_MAX=39999
bin/dbtree-local start "$dir" 2>/dev/null
# shellcheck disable=SC1091
. "$dir/env"
# as the stack's service user: its PostgreSQL lets no one else in
svc() { bin/dbtree-local exec "$dir" "$@"; }
sql() { svc psql -h "$dir/run" -U dbtree -d dbtree -v ON_ERROR_STOP=1 -qtA "$@"; }
now_ms() { date +%s%3N; }
# CPU time of the stand-in in clock ticks (utime + stime)
standin_ticks() { awk '{ print $14 + $15 }' "/proc/$standin/stat"; }

# shellcheck source=tests/bench/accounts.sh
. tests/bench/accounts.sh
accounts_sql kb kb a000 5000 1000 | sql >/dev/null

load_upto() {	# load_upto N: instances 1..N exist and run (two per user)
	local have
	have=$(sql -c "SELECT count(*) FROM db_instances WHERE deleted_at IS NULL")
	# the rows as POST /api/db/instances writes them (the preset's columns,
	# a port of the range), already running
	sql >/dev/null <<SQL
INSERT INTO db_instances (user_id, name, type, size, mode, created_from_preset,
	cpu, memory, disk, creation_cost, hourly_cost, status, ready_at, port)
SELECT ('00000000-0000-4000-a000-' || lpad(((i + 1) / 2)::text, 12, '0'))::uuid,
	'kb-' || i, p.type, p.size, p.mode, p.id, p.cpu, p.memory, p.disk,
	p.creation_cost, p.hourly_cost, 'running', now(), 20000 + i
FROM generate_series($((have + 1)), $1) i, db_presets p
WHERE p.id = 'redis-standalone-tiny';
INSERT INTO port_allocations (port, instance_id)
	SELECT port, id FROM db_instances WHERE port > 20000 + $have AND port <= 20000 + $1;
SQL
	# their objects, from the driver's own manifest code, into the stand-in
	sql -c "SELECT external_id, type, name, cpu, memory, disk, port
		FROM db_instances WHERE port > 20000 + $have AND port <= 20000 + $1" |
		"$build/bench/k8s_objects" | python3 -c '
import json, sys, urllib.request

def load(batch):
    req = urllib.request.Request(sys.argv[1] + "/_control/load", method="POST",
        data=json.dumps({"items": batch}).encode(),
        headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=600).read()

batch = []
for line in sys.stdin:
    batch.append(json.loads(line))
    if len(batch) == 20000:
        load(batch)
        batch = []
if batch:
    load(batch)
' "$k8s"
}

settle() {	# reconcile until every instance runs
	for _ in $(seq 30); do
		svc "$DBTREE_BUILD/bin/dbtreectl" jobs --only reconcile >/dev/null 2>&1 || true
		[ "$(sql -c "SELECT count(*) FROM db_instances
			WHERE deleted_at IS NULL AND status <> 'running'")" -eq 0 ] && return 0
	done
	return 1
}

# K8S_BENCH_INSTANCES: the sizes measured (e.g. "1000" for a short run)
for n in ${K8S_BENCH_INSTANCES:-1000 5000 10000}; do
	t0=$(now_ms)
	load_upto "$n"
	settle || echo "kubernetes: not every instance is running at $n"
	made_s=$(( ($(now_ms) - t0) / 1000 ))
	svc "$DBTREE_BUILD/bin/dbtreectl" jobs --only reconcile >/dev/null 2>&1
	curl -sf -X POST "$k8s/_control/reset-stats" >/dev/null
	t0=$(now_ms)
	k0=$(standin_ticks)
	/usr/bin/time -f '%M %U %S' -o "$dir/rss" \
		"$root/bin/dbtree-local" exec "$dir" "$DBTREE_BUILD/bin/dbtreectl" jobs --only reconcile >/dev/null 2>&1
	ms=$(( $(now_ms) - t0 ))
	api_s=$(awk -v t="$(( $(standin_ticks) - k0 ))" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }')
	read -r rss_kb cpu_u cpu_s < <(tail -n 1 "$dir/rss")
	curl -sf "$k8s/_control/stats" | python3 -c '
import json, sys
st = json.load(sys.stdin)
n, ms, kb, made = (int(a) for a in sys.argv[1:5])
cpu = float(sys.argv[5]) + float(sys.argv[6])
api = float(sys.argv[7])
lists = st["byVerb"].get("LIST", 0)
other = st["requests"] - lists
paths = {}
for e in st["recent"]:
    if e["verb"] == "LIST":
        k = e["path"].rsplit("/", 1)[-1]
        paths[k] = paths.get(k, 0) + 1
ok = lambda b: "ok" if b else "ABOVE TARGET"
print("%-28s %5d instances: %d list pages (%s), %d other requests %s, %d ms"
      " (target <= 5000 ms) %s, (CPU: dbtreectl %.1f s, the stand-in %.1f s), dbtreectl max RSS %.1f MB (target <= 64 MB) %s;"
      " loaded and settled in %d s" % ("kubernetes steady pass", n, lists,
      " ".join("%s %d" % kv for kv in sorted(paths.items())), other,
      ok(other == 0), ms, ok(ms <= 5000), cpu, api, kb / 1024, ok(kb <= 65536), made))
' "$n" "$ms" "$rss_kb" "$made_s" "$cpu_u" "$cpu_s" "$api_s"
done
echo "kubernetes section: $(( $(date +%s) - section_t0 )) s (sizes ${K8S_BENCH_INSTANCES:-1000 5000 10000})"
