"""The platform through nginx: routing, the error shape, request ids,
bodies, strange paths, metrics, static files."""
import os
import re
import concurrent.futures

from dbt import stack, check, check_error

ECHO = "/api/_probe/echo"


def test_health_needs_nothing_and_says_ok():
    r = stack.get("/api/health")
    check(r.status == 200 and r.json == {"status": "ok"}, "health body", r)
    check(r.header("content-type") == "application/json", "json content type", r.headers)
    check(r.header("cache-control") == "no-store", "API answers are not cached", r.headers)


def test_ready_reports_both_dependencies():
    r = stack.get("/api/ready")
    check(r.status == 200, "ready", r)
    check(r.json["checks"] == {"postgresql": "ok", "redis": "ok"}, "both checks ok", r)


def test_every_answer_carries_one_request_id():
    for path in ("/api/health", "/api/nope", "/", "/api/_probe/echo"):
        r = stack.get(path)
        ids = [v for k, v in r.headers.items() if k == "x-request-id"]
        check(len(ids) == 1 and re.fullmatch(r"[0-9a-f]{32}", ids[0]),
              "one 32-hex X-Request-Id on %s" % path, r.headers)
    a, b = stack.get("/api/health"), stack.get("/api/health")
    check(a.header("x-request-id") != b.header("x-request-id"), "ids differ per request")


def test_unknown_path_is_404_in_the_error_shape():
    r = stack.get("/api/no/such/thing")
    check_error(r, 404, 1103, "unknown path")
    check(r.json["data"]["path"] == "/api/no/such/thing", "path echoed in data", r)


def test_wrong_method_is_405_with_allow():
    r = stack.request("DELETE", "/api/health")
    check_error(r, 405, 1102, "DELETE /api/health")
    check(r.header("allow") == "GET", "Allow header", r.headers)
    check(r.json["data"]["allowed"] == "GET", "allowed in data", r)
    r = stack.get(ECHO)
    check_error(r, 405, 1102, "GET on a POST route")
    check(r.header("allow") == "POST", "Allow: POST", r.headers)


def test_trailing_slash_is_not_the_same_route():
    check_error(stack.get("/api/health/"), 404, 1103, "trailing slash")


def test_json_route_accepts_a_good_body():
    r = stack.post(ECHO, {"name": "lemon", "n": 3})
    check(r.status == 200 and r.json == {"name": "lemon", "n": 3}, "echo", r)


def test_malformed_json_is_400():
    for body in ('{"name": "x",', '{"name": "x"} trailing', "{'name': 'x'}",
                 '{"name": "x", "n": 1,}', ""):
        r = stack.post(ECHO, body, headers={"Content-Type": "application/json"})
        check_error(r, 400, 1100, "malformed %r" % body)


def test_non_object_bodies_are_400():
    for body in ("[1,2]", '"text"', "42", "null", "true"):
        r = stack.post(ECHO, body, headers={"Content-Type": "application/json"})
        check_error(r, 400, 1100, "non-object %r" % body)
        check("object" in r.json["message"], "says it wants an object", r)


def test_invalid_utf8_is_400():
    r = stack.post(ECHO, b'{"name": "\xff\xfe", "n": 1}',
                   headers={"Content-Type": "application/json"})
    check_error(r, 400, 1100, "invalid UTF-8")


def test_wrong_content_type_is_415():
    for ctype in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": ctype} if ctype else {}
        r = stack.post(ECHO, '{"name": "x", "n": 1}', headers=headers)
        check_error(r, 415, 1004, "content type %r" % ctype)
    r = stack.post(ECHO, '{"name": "x", "n": 1}',
                   headers={"Content-Type": "application/json; charset=utf-8"})
    check(r.status == 200, "charset parameter is fine", r)


def test_unread_bodies_still_get_their_own_answer():
    """Workers close without waiting for nginx; a big body the handler never
    read must not turn the answer into a reset (502) or log one."""
    log = os.path.join(stack.dir, "log", "nginx-error.log")
    before = os.path.getsize(log)
    body = "x" * 60000
    for _ in range(5):
        check_error(stack.post(ECHO, body, headers={"Content-Type": "text/plain"}),
                    415, 1004, "unread body of a JSON route")
        check_error(stack.post("/api/nowhere", body, headers={"Content-Type": "text/plain"}),
                    404, 1103, "unread body, no route")
    with open(log) as f:
        f.seek(before)
        errors = [line for line in f if "[warn]" not in line]
    check(errors == [], "nginx logged no upstream error", errors)


def test_missing_and_mistyped_fields():
    check_error(stack.post(ECHO, {"n": 1}), 400, 1101, "missing name")
    r = stack.post(ECHO, {"name": "x"})
    check_error(r, 400, 1101, "missing n")
    check(r.json["data"]["parameter"] == "n", "names the parameter", r)
    for bad in ({"name": 5, "n": 1}, {"name": "", "n": 1}, {"name": "x" * 33, "n": 1},
                {"name": "x", "n": "5"}, {"name": "x", "n": 5.0}, {"name": "x", "n": 101},
                {"name": "x", "n": -1}, {"name": "x", "n": True}, {"name": None, "n": 1}):
        r = stack.post(ECHO, bad)
        check(r.status == 400 and r.json["code"] in (1100, 1101), "refused %r" % bad, r)


def test_oversize_body_is_413_from_nginx_in_json():
    r = stack.post(ECHO, "{" + '"a":"' + "x" * 70000 + '"}',
                   headers={"Content-Type": "application/json"})
    check_error(r, 413, 1003, "oversize body")


def test_huge_query_string_gets_a_json_error():
    r = stack.get("/api/health?x=" + "a" * 100000)
    check(r.status in (400, 414), "refused", r)
    check(r.json and r.json["code"] == 1100, "in the error shape", r)
    check(stack.get("/api/health").status == 200, "service still up")


def test_dot_segments_are_refused_in_json():
    for path in (b"/api/../etc/passwd", b"/api/health/..", b"/api/%2e%2e/health",
                 b"/../../api/health", b"/api/./health"):
        status, body = stack.raw(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n"
                                 b"Connection: close\r\n\r\n")
        check(status == 400 and b'"code":1100' in body, "refused %r" % path, body)


def test_nul_bytes_are_refused_in_json():
    for path in (b"/api/health%00", b"/api/%00/x"):
        status, body = stack.raw(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n"
                                 b"Connection: close\r\n\r\n")
        check(status == 400 and b'"code":1100' in body, "refused %r" % path, body)
    status, body = stack.raw(b"GET /api/hea\x00lth HTTP/1.1\r\nHost: x\r\n"
                             b"Connection: close\r\n\r\n")
    check(status == 400 and b'"code":1100' in body, "raw NUL refused", body)
    check(stack.get("/api/health").status == 200, "service still up")


def test_query_parameters_are_decoded():
    r = stack.get("/api/_probe/sleep?ms=1%30")   # "10"
    check(r.status == 200 and r.json["slept"] == 10, "decoded query", r)
    check_error(stack.get("/api/_probe/sleep?ms=99999"), 400, 1100, "out of range")


def test_placeholder_page_is_served():
    r = stack.get("/")
    check(r.status == 200 and b"dbtree" in r.body.lower(), "index page", r)
    check("text/html" in r.header("content-type"), "html", r.headers)


def test_metrics_count_requests_by_route_and_status():
    before = stack.metric("dbtree_http_requests_total", group="public",
                          route="GET /api/health", status="200")
    for _ in range(5):
        stack.get("/api/health")
    after = stack.metric("dbtree_http_requests_total", group="public",
                         route="GET /api/health", status="200")
    check(after - before == 5, "five more health requests counted", (before, after))
    text = stack.get("/metrics").text
    check('dbtree_http_request_duration_seconds_bucket{group="public",le="+Inf"}' in text,
          "latency histogram", text[:500])
    check('dbtree_pool_workers{group="probe"}' in text, "every pool's metrics", text[:500])
    check(stack.metric("dbtree_pool_workers", group="public") == 4, "4 workers by default")
    check(stack.metric("dbtree_pool_workers", group="tree") == 4,
          "the tree pool: 4 by default (DBTREE_TREE_WORKERS)")
    check(len(stack.pids("tree")[1]) == 4, "4 tree workers running", stack.pids("tree"))


def test_concurrent_requests_all_answer():
    with concurrent.futures.ThreadPoolExecutor(32) as ex:
        statuses = list(ex.map(lambda _: stack.get("/api/health").status, range(400)))
    check(statuses.count(200) == 400, "400 concurrent requests answered", set(statuses))
