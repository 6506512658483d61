#!/usr/bin/env bash
# Part of `make bench` (tests/bench/instances.sh calls it with its stack
# directory): what TLS costs a PostgreSQL client.  Instances take TLS only,
# so the plaintext baseline is a throwaway cluster started here with
# ssl = on and pg_hba taking both (scram-sha-256, as instances do); both
# sides are measured on that one server, alternating, in the same run:
#   - connection set-up: pgbench -C (a new connection per transaction)
#     -S, one client, its "average connection time" (a backend's fork
#     included), with scram-sha-256 as instances do, and with trust (a
#     role of its own), where the difference is the handshake alone;
#   - pgbench -S -T 10 with 4 clients on kept connections.
# The key is EC P-256 like the instances' (prov/tls.c).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:?usage: tls.sh STACK_DIR}
# shellcheck disable=SC1091
. "$dir/env"
# shellcheck source=tests/bench/median.sh
. tests/bench/median.sh
ROUNDS=${ROUNDS:-3}

svc() { bin/dbtree-local exec "$dir" "$@"; }
pg=$(find /usr/lib/postgresql -maxdepth 2 -name bin | sort -V | tail -n 1)
tb=$(mktemp -d /tmp/dbtree-tlsbench-XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
[ "$(id -u)" -ne 0 ] || chown "$DBTREE_SERVICE_USER" "$tb"
# libpq looks for client certificates under $HOME; root's is closed to the
# service's user, and an unreadable one fails a TLS connection
export HOME=$tb
stop() { svc "$pg/pg_ctl" -D "$tb/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$tb"; }
trap stop EXIT

printf '%s\n' "$password" >"$tb/pw"
[ "$(id -u)" -ne 0 ] || chown "$DBTREE_SERVICE_USER" "$tb/pw"
svc "$pg/initdb" -D "$tb/data" -U bench --pwfile="$tb/pw" \
	--auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
svc openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj /CN=127.0.0.1 -days 1 -keyout "$tb/data/server.key" \
	-out "$tb/data/server.crt" 2>/dev/null
printf '%s\n' "local all all scram-sha-256" \
	"host all trusted 127.0.0.1/32 trust" \
	"host all all 127.0.0.1/32 scram-sha-256" | svc tee "$tb/data/pg_hba.conf" >/dev/null
svc "$pg/pg_ctl" -D "$tb/data" -l "$tb/log" -w -o "-c port=$port \
	-c listen_addresses=127.0.0.1 -c unix_socket_directories=$tb -c ssl=on \
	-c fsync=off -c max_connections=50" start >/dev/null
svc env PGPASSWORD="$password" "$pg/pgbench" -h "$tb" -p "$port" -U bench -i -s 1 \
	postgres >/dev/null 2>&1
svc env PGPASSWORD="$password" psql -h "$tb" -p "$port" -U bench -d postgres -qc \
	'CREATE ROLE trusted LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO trusted' >/dev/null

bench() {	# bench SSLMODE USER ARGS...: pgbench's output over TCP
	svc env PGPASSWORD="$password" PGSSLMODE="$1" "$pg/pgbench" -h 127.0.0.1 \
		-p "$port" -U "$2" -n "${@:3}" postgres 2>&1
}
connect_ms() { bench "$1" "$2" -C -S -c 1 -j 1 -T 3 |
	awk -F'= ' '/average connection time/ { print $2 + 0 }'; }
tps() { bench "$1" bench -S -c 4 -j 2 -T 10 |
	awk -F'= ' '/^tps/ { print $2 + 0 }'; }

# proof that both sides are what they say: ssl in pg_stat_ssl
for mode in disable require; do
	svc env PGPASSWORD="$password" PGSSLMODE=$mode psql -h 127.0.0.1 -p "$port" -U bench \
		-d postgres -qtAc 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'
done | paste -sd' ' | grep -qx 'f t' || { echo "tls bench: plaintext/TLS check failed"; exit 1; }

declare -a cp=() ct=() kp=() kt=() tp=() tt=()
for _ in $(seq "$ROUNDS"); do
	cp+=("$(connect_ms disable bench)"); ct+=("$(connect_ms require bench)")
	kp+=("$(connect_ms disable trusted)"); kt+=("$(connect_ms require trusted)")
done
for _ in $(seq "$ROUNDS"); do
	tp+=("$(tps disable)"); tt+=("$(tps require)")
done
c_plain=$(printf '%s\n' "${cp[@]}" | median)
c_tls=$(printf '%s\n' "${ct[@]}" | median)
k_plain=$(printf '%s\n' "${kp[@]}" | median)
k_tls=$(printf '%s\n' "${kt[@]}" | median)
t_plain=$(printf '%s\n' "${tp[@]}" | median)
t_tls=$(printf '%s\n' "${tt[@]}" | median)
awk -v p="$c_plain" -v t="$c_tls" 'BEGIN {
	printf "%-28s TLS %.2f ms vs plaintext %.2f ms -> ratio %.2f (target <= 1.5) %s\n",
		"pg connect, scram (-C)", t, p, t / p, (t / p <= 1.5) ? "ok" : "ABOVE TARGET" }'
awk -v p="$k_plain" -v t="$k_tls" 'BEGIN {
	printf "%-28s TLS %.2f ms vs plaintext %.2f ms -> ratio %.2f, the handshake %.2f ms\n",
		"pg connect, trust (-C)", t, p, t / p, t - p }'
# the clients share the two cores with the server: encryption on both
# ends comes out of the same CPU
awk -v p="$t_plain" -v t="$t_tls" 'BEGIN {
	printf "%-28s TLS %.0f tps vs plaintext %.0f tps -> ratio %.2f (target >= 0.6) %s\n",
		"pgbench -S -T 10 (4 clients)", t, p, t / p, (t / p >= 0.6) ? "ok" : "BELOW TARGET" }'
