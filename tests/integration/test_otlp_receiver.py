"""The OTLP receiver the suites export their traces to (tests/otlp,
stack.otlp): its self-test, and requests sent straight to it.  Each test
uses trace ids of its own and resets nothing, so spans the service
exports meanwhile stay for the tests that look for them."""
import base64
import os
import subprocess

from dbt import stack, check, ROOT


def _span(trace_id, span_id, name, parent="", **extra):
    span = {"traceId": trace_id, "spanId": span_id, "parentSpanId": parent, "name": name,
            "kind": 2, "startTimeUnixNano": "1700000000000000000",
            "endTimeUnixNano": "1700000000250000000"}
    span.update(extra)
    return span


def _request(*spans):
    return {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "dbtree"}}]},
        "scopeSpans": [{"scope": {"name": "dbtree"}, "spans": list(spans)}]}]}


def _ids():
    return os.urandom(16).hex(), os.urandom(8).hex(), os.urandom(8).hex()


def test_receiver_selftest():
    p = subprocess.run(["node", os.path.join(ROOT, "tests", "otlp", "selftest.mjs")],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and " 0 failed" in p.stdout, "the receiver's self-test passes",
          p.stdout[-2000:] + p.stderr[-2000:])


def test_valid_export_is_stored_flattened():
    trace, root, child = _ids()
    status, body = stack.otlp.post(_request(
        _span(trace, root, "GET /api/tree", attributes=[
            {"key": "http.response.status_code", "value": {"intValue": "200"}},
            {"key": "cached", "value": {"boolValue": False}},
            {"key": "user.note", "value": {"stringValue": "secret-word-%s" % trace[:6]}}],
            status={"code": 2, "message": "upstream failed"}),
        _span(trace, child, "db.query", parent=root, kind=3,
              links=[{"traceId": os.urandom(16).hex(), "spanId": os.urandom(8).hex()}])))
    check(status == 200 and body == {}, "a valid export gets 200 {}", (status, body))
    spans = {s["spanId"]: s for s in stack.otlp.trace(trace)}
    check(set(spans) == {root, child}, "both spans stored under their trace", spans)
    r, c = spans[root], spans[child]
    check(r["parentSpanId"] == "" and c["parentSpanId"] == root, "parent ids", spans)
    check(r["start"] == "1700000000000000000" and r["end"] == "1700000000250000000",
          "times as decimal strings", r)
    check(r["attributes"]["http.response.status_code"] == 200
          and r["attributes"]["cached"] is False, "attributes as plain values", r)
    check(r["status"] == {"code": 2, "message": "upstream failed"}, "status", r)
    check(r["resource"] == {"service.name": "dbtree"} and r["scope"]["name"] == "dbtree",
          "resource and scope", r)
    check(len(c["links"]) == 1 and c["kind"] == 3, "links and kind", c)
    found = stack.otlp.find_text(["secret-word-%s" % trace[:6]])
    check([s["spanId"] for s in found] == [root], "find_text finds the attribute's text", found)
    check(stack.otlp.wait_for(lambda ss: any(s["spanId"] == child for s in ss), timeout=2),
          "wait_for sees the stored span")


def test_invalid_exports_are_refused_and_recorded():
    trace, root, _ = _ids()
    cases = [
        ("unknown field", _span(trace, root, "x", colour="red"), "unknown field"),
        ("base64 trace id", _span(base64.b64encode(bytes.fromhex(trace)).decode(), root, "x"), "lowercase hex"),
        ("enum as a name", _span(trace, root, "x", kind="SPAN_KIND_SERVER"), "must be an integer"),
        ("AnyValue without a value",
         _span(trace, root, "x", attributes=[{"key": "k", "value": {}}]), "exactly one of"),
    ]
    before = len(stack.otlp.rejects())
    for what, span, reason in cases:
        status, body = stack.otlp.post(_request(span), expect_invalid=True)
        check(status == 400 and reason in body["message"], "%s: 400 with the reason" % what,
              (status, body))
    new = stack.otlp.rejects()[before:]
    check([any(c[2] in r["reason"] for r in new) for c in cases] == [True] * len(cases)
          and all(r["expected"] for r in new), "each refusal recorded, marked expected", new)
    check(not stack.otlp.trace(trace), "nothing of a refused export stored")


def test_control_makes_a_failing_collector():
    trace, root, _ = _ids()
    try:
        check(stack.otlp.control(status=503) == {"delayMs": 0, "status": 503}, "control set")
        status, _ = stack.otlp.post(_request(_span(trace, root, "x")))
        check(status == 503, "the failing collector answers 503", status)
        check(not stack.otlp.trace(trace), "a failed export is not stored")
    finally:
        stack.otlp.control(status=200, delay_ms=0)
    status, _ = stack.otlp.post(_request(_span(trace, root, "x")))
    check(status == 200 and len(stack.otlp.trace(trace)) == 1, "restored by status 200", status)
