"""Traces through the real stack: the test runner points every pool and
the jobs at an OTLP receiver (tests/otlp) that refuses anything that is not
valid OpenTelemetry protocol, with sampling 1.  A request continues the
caller's traceparent (or starts a trace whose id is its request id), names
itself in X-Trace-Id and in its log lines, and its statements, Redis
commands and outbound calls are its children; the reconciler and the mail
job continue the trace of the request that created an instance."""
import os
import signal
import subprocess
import sys
import threading
import time

from dbt import stack, check, wait_until

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from play import answer, correct_option, harvest, play  # noqa: E402
from test_tree import available, regrow_all  # noqa: E402
from test_instances import create, user, wait_status  # noqa: E402

TRACE = "4bf92f3577b34da6a3ce929d0e0e47%02x"
CALLER = "00f067aa0ba902b7"


def traceparent(n, sampled=True):
    return "00-%s-%s-%s" % (TRACE % n, CALLER, "01" if sampled else "00")


def spans_of(trace_id, until, timeout=10):
    """The spans of one trace once until(spans) holds."""
    found = []

    def ready():
        found[:] = stack.otlp.trace(trace_id)
        return until(found)
    wait_until(ready, timeout=timeout, interval=0.1, what="spans of %s" % trace_id)
    return list(found)


def named(spans, name):
    return [s for s in spans if s["name"] == name]


def test_a_harvest_is_one_trace_with_its_statements_and_redis_calls():
    (uid, token), = stack.make_users(1, prefix="tr")
    regrow_all()
    pos = available()[0]
    r = stack.get("/api/quiz/%d" % pos, headers=dict(stack.auth(token),
                                                    traceparent=traceparent(11)))
    check(r.status == 200, "quiz", r)
    attempt_trace = TRACE % 11
    attempt = r.json["attemptID"]
    r = answer(token, attempt, correct_option(attempt))
    check(r.status == 200 and r.json["harvestEnabled"], "right", r)
    tp = traceparent(1)
    r = stack.post("/api/lemon/harvest", {"positionId": pos, "attemptId": attempt},
                   headers=dict(stack.auth(token), traceparent=tp))
    check(r.status == 200, "harvested", r)
    check(r.header("X-Trace-Id") == TRACE % 1, "X-Trace-Id is the caller's trace",
          r.header("X-Trace-Id"))
    spans = spans_of(TRACE % 1, lambda ss: named(ss, "POST /api/lemon/harvest"))
    root, = named(spans, "POST /api/lemon/harvest")
    check(root["parentSpanId"] == CALLER and root["kind"] == 2, "the server span continues"
          " the caller's", root)
    check(root["attributes"].get("http.route") == "/api/lemon/harvest" and
          root["attributes"].get("http.response.status_code") == 200 and
          root["attributes"].get("dbtree.group") == "tree", "route, status, pool", root)
    check(root["resource"].get("service.name") == "dbtree", "the resource", root["resource"])
    sql = client_spans(spans, root, "postgresql")
    check(len(sql) >= 3, "its statements", [s["name"] for s in spans])
    check(any(s["name"].startswith("take_lemon.") for s in sql), "statements named by"
          " function and table, not text", sorted({s["name"] for s in sql}))
    # the quiz that led to it: the lock and the attempt live in Redis
    quiz = spans_of(attempt_trace, lambda ss: named(ss, "GET /api/quiz/:positionID"))
    qroot, = named(quiz, "GET /api/quiz/:positionID")
    check(client_spans(quiz, qroot, "redis") and client_spans(quiz, qroot, "postgresql"),
          "the quiz start's Redis commands and statements", [s["name"] for s in quiz])
    check(not stack.otlp.find_text([token, uid]), "no span carries the token or the user id")


def client_spans(spans, root, system):
    """root's child client spans of one database system, checked to lie
    within its time."""
    found = [s for s in spans if s["attributes"].get("db.system") == system]
    check(all(s["parentSpanId"] == root["spanId"] and s["kind"] == 3 for s in found),
          "each a client span, child of the request", [(s["name"], s["parentSpanId"])
                                                       for s in found])
    check(all(int(root["start"]) <= int(s["start"]) <= int(s["end"]) <= int(root["end"])
              for s in found), "within the request's time")
    return found


def test_without_a_traceparent_the_trace_id_is_the_request_id():
    for extra in ({}, {"traceparent": "garbage"},
                  {"traceparent": "00-%s-0000000000000000-01" % (TRACE % 2)}):
        r = stack.get("/api/health", headers=extra)
        check(r.status == 200, "health", r)
        rid = r.header("X-Request-Id")
        check(rid and r.header("X-Trace-Id") == rid, "trace id = request id", (extra, r.headers))
        spans_of(rid, lambda ss: named(ss, "GET /api/health"))


def test_an_unsampled_caller_gets_no_spans_unless_the_request_fails():
    # a healthy request with a statement, then a failing one, both in the
    # probe pool: one pipe and one exporter, so once the failing one's
    # spans are in, the healthy one's would have been too
    r = stack.get("/api/_probe/db", headers={"traceparent": traceparent(3, sampled=False)})
    check(r.status == 200 and r.header("X-Trace-Id") == TRACE % 3, "answered", r)
    r = stack.get("/api/_probe/fail", headers={"traceparent": traceparent(4, sampled=False)})
    check(r.status == 500, "the probe fails", r)
    spans = spans_of(TRACE % 4, lambda ss: named(ss, "GET /api/_probe/fail"))
    root, = named(spans, "GET /api/_probe/fail")
    check(root["status"]["code"] == 2, "marked failed", root)
    check(any(s["parentSpanId"] == root["spanId"] for s in spans), "with its statement", spans)
    check(stack.otlp.trace(TRACE % 3) == [], "the unsampled healthy request sent nothing")


def test_log_lines_carry_the_trace_id():
    r = stack.get("/api/_probe/fail", headers={"traceparent": traceparent(5)})
    check(r.status == 500, "fails", r)
    line = wait_until(lambda: [ln for ln in stack.log("pool-probe.log").splitlines()
                               if "failing on purpose" in ln and "trace=" + TRACE % 5 in ln],
                      what="the log line")
    check("req=" + r.header("X-Request-Id") in line[0], "with the request id too", line)


def test_create_to_ready_mail_is_one_trace():
    uid, token = user()
    tp = traceparent(6)
    r = stack.post("/api/db/instances", {"name": "traced", "presetId": "redis-standalone-tiny"},
                   headers=dict(stack.auth(token), traceparent=tp))
    check(r.status == 202, "created", r)
    iid, password = r.json["id"], r.json["credentials"]["password"]
    wait_status(token, iid, "running")
    stack.jobs()    # the ready mail, if the pass that saw it ready did not send it
    spans = spans_of(TRACE % 6, lambda ss: named(ss, "mail instance_ready"), timeout=30)
    root, = named(spans, "POST /api/db/instances")
    by_id = {s["spanId"]: s for s in spans}
    recon = [s for s in spans if s["name"] == "reconcile " + iid]
    check(recon, "the reconciler's spans for the instance are in the request's trace",
          sorted({s["name"] for s in spans}))
    check(recon[0]["parentSpanId"] == root["spanId"], "the first continues the request", recon[0])
    check(all(s["links"] and s["links"][0]["traceId"] != TRACE % 6 for s in recon),
          "each linked to its jobs pass", recon)
    mail, = named(spans, "mail instance_ready")
    check(mail["parentSpanId"] in by_id and
          by_id[mail["parentSpanId"]]["name"] == "reconcile " + iid,
          "the mail continues the pass that saw it ready", mail)
    check(any(s["parentSpanId"] == mail["spanId"] and s["name"] == "smtp send" for s in spans),
          "the SMTP call inside the mail's span", sorted({s["name"] for s in spans}))
    email = stack.psql("SELECT email FROM users WHERE id = :'p1'", uid)[0][0]
    check(not stack.otlp.find_text([password, email]), "no span carries the password"
          " or the address")


def test_a_jobs_pass_has_one_span_per_job():
    stack.jobs()
    spans = stack.otlp.wait_for(lambda ss: [s for s in ss if s["name"] == "jobs pass"],
                                what="a jobs pass")
    root = [s for s in spans if s["name"] == "jobs pass"][-1]
    jobs = spans_of(root["traceId"], lambda ss: len(named(ss, "job mail")) == 1)
    kids = {s["name"] for s in jobs if s["parentSpanId"] == root["spanId"]}
    check({"job regrow", "job sweep", "job bill", "job reconcile", "job certs",
           "job mail", "job sessions"} <= kids, "every job under the pass", kids)
    check(root["resource"].get("dbtree.group") == "jobs", "the jobs' resource", root)


def test_login_codes_and_tokens_never_reach_a_span():
    address = "traced-login@example.com"
    r = stack.post("/api/send-otp?type=authentication", {"email": address},
                   headers={"traceparent": traceparent(7)})
    check(r.status == 200, "code sent", r)
    code = stack.code_for(address)
    r = stack.post("/api/verify-otp?type=authentication", {"email": address, "otp": code},
                   headers={"traceparent": traceparent(8)})
    check(r.status == 200, "logged in", r)
    spans_of(TRACE % 8, lambda ss: named(ss, "POST /api/verify-otp"))
    spans_of(TRACE % 7, lambda ss: named(ss, "POST /api/send-otp"))
    check(not stack.otlp.find_text([code, r.json["token"], address]),
          "no code, token or address in any span")


def exporter_of(group):
    master, _ = stack.pids(group)     # the workers, the exporter left out
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    found = [int(p) for p in out.split() if stack.is_exporter(int(p))]
    check(len(found) == 1, "one exporter under the %s pool (%d)" % (group, master), found)
    return found[0]


def test_a_stalled_exporter_drops_spans_and_counts_them_never_waits():
    pid = exporter_of("stats")
    dropped = stack.metric("dbtree_trace_spans_total", group="stats", outcome="dropped")
    os.kill(pid, signal.SIGSTOP)
    slowest = [0.0]
    try:
        def load():
            for i in range(2000):
                t0 = time.monotonic()
                r = stack.get("/api/stats/global")
                slowest[0] = max(slowest[0], time.monotonic() - t0)
                check(r.status == 200, "answered", r)
                if i % 100 == 99 and stack.metric("dbtree_trace_spans_total", group="stats",
                                                  outcome="dropped") > dropped:
                    return
        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        now = stack.metric("dbtree_trace_spans_total", group="stats", outcome="dropped")
        check(now > dropped, "spans dropped and counted once the pipe was full", (dropped, now))
        check(slowest[0] < 2, "no request waited for the exporter", slowest[0])
    finally:
        os.kill(pid, signal.SIGCONT)
    r = stack.get("/api/stats/global", headers={"traceparent": traceparent(9)})
    spans_of(TRACE % 9, lambda ss: named(ss, "GET /api/stats/global"), timeout=20)


def test_a_slow_collector_fails_batches_and_counts_them():
    failed = stack.metric("dbtree_trace_spans_total", group="public", outcome="failed")
    stack.otlp.control(delay_ms=1500)     # past DBTREE_OTLP_TIMEOUT_MS (1000)
    try:
        t0 = time.monotonic()
        r = stack.get("/api/health", headers={"traceparent": traceparent(10)})
        check(r.status == 200 and time.monotonic() - t0 < 1, "answered at once", r)
        wait_until(lambda: stack.metric("dbtree_trace_spans_total", group="public",
                                        outcome="failed") > failed,
                   timeout=10, what="a failed batch counted")
        check(stack.metric("dbtree_outbound_requests_total", group="public", target="otlp",
                           outcome="error") >= 1, "the export counted as an outbound error")
    finally:
        stack.otlp.control(delay_ms=0)


def test_operation_metrics_by_statement_command_cache_and_outcome():
    (uid, token), = stack.make_users(1, prefix="om")
    stack.login("metrics-login@example.com")    # a login code entered
    regrow_all()
    pos = available()[0]
    r = harvest(token, pos, play(token, pos))
    check(r.status == 200, "harvested", r)
    for _ in range(2):
        stack.get("/api/stats/global")
        stack.get("/api/leaderboard/mini")
        stack.get("/api/lemon/global-status")
    m = stack.metric
    check(m("dbtree_db_operations_total", group="tree", outcome="ok") > 0, "statements")
    check(m("dbtree_db_operation_duration_seconds_count", group="tree") > 0, "their latency")
    check(m("dbtree_redis_operations_total", group="tree", outcome="ok") > 0, "Redis")
    check(m("dbtree_harvests_total", group="tree", outcome="won") >= 1, "harvests")
    check(m("dbtree_logins_total", group="auth", outcome="ok") >= 1, "logins")
    for cache in ("stats", "leaderboard", "tree_status"):
        check(m("dbtree_cache_hits_total", cache=cache) + m("dbtree_cache_misses_total",
                                                             cache=cache) >= 2, cache)
    check(m("dbtree_cache_hits_total", cache="stats") >= 1, "the second read is a hit")
    check(m("dbtree_outbound_requests_total", target="smtp", outcome="ok") >= 1, "mail sent")
    check(m("dbtree_db_operations_total", group="jobs") > 0, "the jobs' statements")
    check(m("dbtree_trace_spans_total", outcome="exported") > 0, "spans exported")
    text = stack.get("/metrics").text
    check(text.count("# TYPE dbtree_db_operations_total counter") == 1, "one TYPE per family")
    check("INSERT" not in text and "SELECT" not in text, "no SQL text in a label")


def test_the_access_log_names_the_trace_of_each_request():
    with_tp = stack.get("/api/health?from=caller", headers={"traceparent": traceparent(13)})
    zeros = stack.get("/api/health?from=zeros",
                      headers={"traceparent": "00-%s-%s-01" % ("0" * 32, CALLER)})
    plain = stack.get("/api/health?from=nobody")
    for r, query in ((with_tp, "caller"), (zeros, "zeros"), (plain, "nobody")):
        line = wait_until(lambda: [ln for ln in stack.log("nginx-access.log").splitlines()
                                   if "from=%s " % query in ln], what="the access log line")
        check(("trace=%s " % r.header("X-Trace-Id")) in line[-1],
              "the line names the trace the answer named", (line[-1], r.headers))


def test_a_stop_is_traced_through_the_reconciler_too():
    uid, token = user()
    r = create(token, {"name": "traced-stop", "presetId": "redis-standalone-tiny"})
    check(r.status == 202, "created", r)
    iid = r.json["id"]
    wait_status(token, iid, "running")
    r = stack.post("/api/db/instances/%s/stop" % iid,
                   headers=dict(stack.auth(token), traceparent=traceparent(12)))
    check(r.status == 204, "stop", r)
    wait_status(token, iid, "stopped")
    spans = spans_of(TRACE % 12, lambda ss: named(ss, "reconcile " + iid) and
                     named(ss, "POST /api/db/instances/:id/:status"))
    stop, = named(spans, "POST /api/db/instances/:id/:status")
    check(named(spans, "reconcile " + iid)[0]["parentSpanId"] == stop["spanId"],
          "the pass that stopped it continues the stop request", spans)
