# Part of `make bench`, sourced by tests/bench/run after the harvest rounds
# (it uses their stack, users, token and driver): what tracing costs.  The
# account pool (GET /api/user) and the tree pool (the harvest) are
# restarted in each of three modes, alternating, TRACE_ROUNDS times: traces
# off, on at sampling 1.0, and on at the default sampling
# (DBTREE_TRACE_SAMPLING unset), exporting to a location of the same nginx
# that takes every batch (tests/bench/control.nginx.conf), so the figure is
# the service's own cost.  Reported: the median of each mode as a ratio
# against the median with traces off (targets: >= 0.95 at 1.0, >= 0.99 at
# the default), and, free of the stack's noise, what recording and
# encoding a request's spans costs a worker (tests/bench/spans.c) as a
# share of the machine time one GET /api/user takes with traces off.

TRACE_ROUNDS=${TRACE_ROUNDS:-5}
TRACE_SECONDS=${TRACE_SECONDS:-5}	# each harvest run

# tracing_mode off|all|default: the two pools restarted in that mode, with
# the bench stack's settings (stack_env, tests/bench/run: the harvest needs
# its cooldown of 0)
tracing_mode() {
	local g e d
	read -r e d <<<"$(span_counts)"	# before a restart clears them
	exported=$((exported + e))
	dropped=$((dropped + d))
	for g in account tree; do
		bin/dbtree-local pool-stop "$g" "$dir"
		case $1 in
		off) env -u DBTREE_OTLP_ENDPOINT "${stack_env[@]}" \
			bin/dbtree-local pool-start "$g" "$dir" ;;
		all) env "${stack_env[@]}" DBTREE_TRACE_SAMPLING=1 \
			DBTREE_OTLP_ENDPOINT="$DBTREE_URL/bench/otlp/v1/traces" \
			bin/dbtree-local pool-start "$g" "$dir" ;;
		default) env -u DBTREE_TRACE_SAMPLING "${stack_env[@]}" \
			DBTREE_OTLP_ENDPOINT="$DBTREE_URL/bench/otlp/v1/traces" \
			bin/dbtree-local pool-start "$g" "$dir" ;;
		esac
	done
	# warm: the workers' connections and prepared statements
	wrk -t2 -c"$CONNS" -d1s -H "Authorization: Bearer $token" \
		"$DBTREE_URL/api/user" >/dev/null
}

# span_counts: "exported dropped" by the pools since each started
span_counts() {
	curl -sf "$DBTREE_URL/metrics" | awk '/^dbtree_trace_spans_total\{/ &&
		!/group="jobs"/ { if (/outcome="exported"/) e += $2
		if (/outcome="dropped"/) d += $2 } END { printf "%d %d", e, d }'
}

declare -A traced
tracing_round() {	# tracing_round MODE: appends "user_rps harvest_rps"
	local r l
	tracing_mode "$1"
	read -r r _ <<<"$(wrk_once /api/user "Authorization: Bearer $token")"
	runs[setup:16]=""
	CYCLE_SECONDS=$TRACE_SECONDS drive setup 16
	l=$(run_median setup 16)
	traced[$1]+="$r $(kv "$l" harvest_per_s)"$'\n'
}

tracing_median() {	# tracing_median MODE FIELD(1|2)
	awk -v f="$2" 'NF { print $f }' <<<"${traced[$1]}" | median
}

tracing_report() {	# tracing_report MODE LABEL TARGET
	awk -v n="$2" -v u="$(tracing_median "$1" 1)" -v h="$(tracing_median "$1" 2)" \
		-v u0="$(tracing_median off 1)" -v h0="$(tracing_median off 2)" \
		-v t="$3" 'BEGIN {
		ru = u / u0; rh = h / h0
		printf "%-28s GET /api/user %.0f vs %.0f req/s → ratio %.3f; harvest %.0f vs %.0f req/s → ratio %.3f (target >= %.2f) %s\n",
			n, u, u0, ru, h, h0, rh, t, (ru >= t && rh >= t) ? "ok" : "BELOW TARGET" }'
}

tracing_bench() {
	local mode i order
	exported=0 dropped=0
	echo "tracing: medians of $TRACE_ROUNDS alternating rounds (off, 1.0, default); GET /api/user ${DURATION}s, harvest alone @16 ${TRACE_SECONDS}s"
	# the order turns each round, so no mode always follows another
	for i in $(seq "$TRACE_ROUNDS"); do
		case $((i % 3)) in
		1) order="off all default" ;;
		2) order="all default off" ;;
		0) order="default off all" ;;
		esac
		for mode in $order; do tracing_round "$mode"; done
	done
	tracing_mode off
	tracing_report all "tracing at sampling 1.0" 0.95
	tracing_report default "tracing at the default" 0.99
	printf '%-28s %d spans exported to the collector, %d dropped\n' \
		"tracing export" "$exported" "$dropped"
	spans_report
}

# spans_report: the worker's own cost per request, against the machine
# time a request takes (cores / requests a second, traces off)
spans_report() {
	local l
	l=$("$build/bench/spans")
	awk -v a="$(kv "$l" us_all)" -v z="$(kv "$l" us_none)" \
		-v b="$(kv "$l" bytes)" -v rps="$(tracing_median off 1)" \
		-v cores="$(nproc)" 'BEGIN { per = cores * 1e6 / rps
		printf "%-28s %.2f us a request of 3 spans at 1.0, %.2f us at 0 (recorded, not sent), %d bytes a span: %.1f%% and %.1f%% of the %.0f us of machine time a GET /api/user takes\n",
			"tracing in the worker", a, z, b, 100 * a / per, 100 * z / per, per }'
}
