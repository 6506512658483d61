# Part of `make bench`, sourced by tests/bench/run after the harvest rounds
# (it uses their stack, users, answers and medians): for each count in
# LIVE_SUBSCRIBERS ("1000 10000"), that many pages subscribed to the live
# tree (tests/bench/subscribers.c) while the harvest cycle runs at 64
# connections.  Reported: the time from
# a harvest's commit to its event at a subscriber (p50, p99; target p99 <=
# 100 ms), subscribers dropped (target 0), every subscriber's count of
# messages, the pools' worker count before and after (unchanged: nginx
# holds the pages, not the pools), nginx's memory per subscriber, and the
# cycle rate against the median of the rounds without subscribers.

# RSS of the stack's nginx (master and workers), in KiB
nginx_kb() {
	local master p t=0
	master=$(cat "$dir/nginx/nginx.pid")
	for p in "$master" $(pgrep -P "$master"); do
		t=$((t + $(awk '/^VmRSS/ { print $2 }' "/proc/$p/status")))
	done
	echo "$t"
}

pool_workers() {
	curl -sf "$DBTREE_URL/metrics" |
		awk '/^dbtree_pool_workers\{/ { n += $2 } END { print n + 0 }'
}

live_bench() {	# live_bench N
	local n=$1 kb0 kb1 w0 w1 spid line summary i
	local base with
	kb0=$(nginx_kb)
	w0=$(pool_workers)
	"$build/bench/subscribers" 127.0.0.1 "$DBTREE_HTTP_PORT" "$n" \
		$((CYCLE_SECONDS + 120)) >"$dir/subscribers.out" 2>&1 &
	spid=$!
	for i in $(seq 600); do
		grep -q '^ready' "$dir/subscribers.out" && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^ready' "$dir/subscribers.out"; then
		printf '%-28s FAILED (%s)\n' "live $n: subscribers" "$(tail -n 1 "$dir/subscribers.out")"
		kill "$spid" 2>/dev/null || true
		return
	fi
	kb1=$(nginx_kb)
	bench_reset
	line=$(svc "$build/bench/cycle" "$DBTREE_URL" "$dir/tokens" "$answers" \
		"$CYCLE_SECONDS" 64 | grep '^cycle ' || true)
	sleep 1	# the last window's message
	kill -TERM "$spid"
	wait "$spid" || true
	summary=$(grep '^subscribers ' "$dir/subscribers.out" || true)
	w1=$(pool_workers)
	base=$(kv "$(run_median full 64)" cycles_per_s)
	with=$(kv "$line" cycles_per_s)
	awk -v n="$n" -v d="$(kv "$summary" dropped)" -v p50="$(kv "$summary" p50_ms)" \
		-v p99="$(kv "$summary" p99_ms)" -v mx="$(kv "$summary" max_ms)" \
		-v lo="$(kv "$summary" min_per_sub)" -v hi="$(kv "$summary" max_per_sub)" \
		-v w0="$w0" -v w1="$w1" -v kb="$(( kb1 - kb0 ))" \
		-v base="${base:-0}" -v with="${with:-0}" -v hp="$(kv "$line" harvest_p99_ms)" 'BEGIN {
		l = "live " n ": "
		printf "%-28s %d dropped (target 0) %s; %d to %d messages each\n",
			l "subscribers", d, d == 0 ? "ok" : "DROPPED", lo, hi
		printf "%-28s p50 %d ms, p99 %d ms, max %d ms (target: p99 <= 100 ms) %s\n",
			l "commit->page", p50, p99, mx, p99 <= 100 ? "ok" : "ABOVE TARGET"
		printf "%-28s %d before, %d after the subscribers %s\n", l "pool workers",
			w0, w1, w0 == w1 ? "ok (unchanged)" : "CHANGED"
		printf "%-28s %.1f KiB per subscriber (%.0f MiB in all)\n", l "nginx memory",
			kb / n, kb / 1024
		printf "%-28s %.0f cycles/s with them vs %.0f without → ratio %.2f; harvest p99 %.2f ms\n",
			l "cycle @64", with, base, base ? with / base : 0, hp }'
}
