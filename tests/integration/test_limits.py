"""Who may call what, and how often: every route's access rule comes from its
row in the route table (fcgi-bin/*.c), and the costly routes are limited per
person (lib/web/limit.c) and per client address (nginx)."""
import glob
import http.client
import json
import os
import re

from dbt import stack, check, check_error, ROOT

ROUTE_ROW = re.compile(r'\{ "(GET|POST|DELETE)", "(/[^"]*)", \w+,\s*(ROUTE_\w+),', re.S)


def routes():
    """(method, path, access) of every row of every pool's route table."""
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "fcgi-bin", "*.c"))):
        out += ROUTE_ROW.findall(open(path).read())
    return out


def test_every_route_declares_its_access_and_the_dispatcher_enforces_it():
    table = routes()
    check(len(table) >= 25, "every pool's routes were read", len(table))
    public = sorted(p for _, p, a in table if a == "ROUTE_PUBLIC")
    check(public == sorted(["/api/health", "/api/ready", "/metrics", "/api/send-otp",
                            "/api/verify-otp", "/api/db/presets", "/api/system/resources",
                            "/api/stats/global", "/api/leaderboard/mini",
                            "/api/lemon/global-status",
                            "/api/db/ca.pem",   # TLS: the CA clients verify with
                            # a one-use download link: its token is the right
                            "/api/db/backups/download/:token"]),
          "exactly the public routes of the reference, the operator's and the"
          " download links", public)
    for method, pattern, access in table:
        path = re.sub(r":\w+", "1", pattern)
        body = {} if method == "POST" else None
        for headers in ({}, {"Authorization": "Bearer not-a-session"}):
            r = stack.request(method, path, body=body, headers=headers)
            what = "%s %s %s" % (method, pattern, "bad token" if headers else "no token")
            if access == "ROUTE_PUBLIC":
                check(r.status != 401, what + ": public", r)
            elif access == "ROUTE_USER" or not headers:
                check_error(r, 401, 1206, what)


def _support(token):
    return stack.post("/api/support/inquiry", {"category": "bug", "subject": "s", "message": "m"},
                      headers=stack.auth(token))


def _limited(r, window):
    check_error(r, 429, 1005, "limited")
    wait = int(r.header("Retry-After"))
    check(1 <= wait <= window and r.json["data"]["retryAfter"] == wait,
          "Retry-After is the real rest of the window, in seconds", r)


def test_support_inquiries_five_an_hour_per_person():
    (uid, token), = stack.make_users(1, prefix="lim")
    email = stack.psql("SELECT email FROM users WHERE id = :'p1'", uid)[0][0]
    for i in range(5):
        check(_support(token).status == 204, "inquiry %d" % (i + 1))
    _limited(_support(token), 3600)
    stack.wait_mails(email, 5)
    check(len(stack.mails(email)) == 5, "five confirmations, no more", len(stack.mails(email)))
    (_, other), = stack.make_users(1, prefix="lim")
    check(_support(other).status == 204, "someone else is not limited by it")


def test_credentials_resets_ten_an_hour_per_person():
    (uid, token), = stack.make_users(1, prefix="lim", balance=50)
    r = stack.post("/api/db/instances", {"name": "lim", "presetId": "redis-standalone-tiny"},
                   headers=stack.auth(token))
    check(r.status == 202, "created", r)
    path = "/api/db/instances/%s/credentials" % r.json["id"]
    codes = [stack.post(path, headers=stack.auth(token)).status for _ in range(10)]
    check(codes == [200] * 10, "ten resets", codes)
    _limited(stack.post(path, headers=stack.auth(token)), 3600)
    stack.request("DELETE", "/api/db/instances/%s" % r.json["id"], headers=stack.auth(token))


def test_instance_churn_twenty_an_hour_per_person():
    (uid, token), = stack.make_users(1, prefix="lim", balance=500)
    h = stack.auth(token)
    for i in range(10):
        r = stack.post("/api/db/instances", {"name": "churn", "presetId": "redis-standalone-tiny"},
                       headers=h)
        check(r.status == 202, "create %d" % i, r)
        check(stack.request("DELETE", "/api/db/instances/" + r.json["id"], headers=h).status == 204,
              "delete %d" % i)
    r = stack.post("/api/db/instances", {"name": "churn", "presetId": "redis-standalone-tiny"},
                   headers=h)
    _limited(r, 3600)
    check(int(stack.psql("SELECT count(*) FROM db_instances WHERE user_id = :'p1'", uid)[0][0])
          == 10, "the refused create made nothing")
    stack.ctl("jobs", "--only", "reconcile")


def test_quiz_starts_thirty_a_minute_per_session():
    (uid, token), = stack.make_users(1, prefix="lim")
    codes = [stack.get("/api/quiz/%d" % (i % 10), headers=stack.auth(token)).status
             for i in range(30)]
    check(429 not in codes, "thirty starts (most refused: one quiz at a time)", codes)
    _limited(stack.get("/api/quiz/1", headers=stack.auth(token)), 60)


def _post_from(source, path):
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10,
                                      source_address=(source, 0))
    try:
        conn.request("POST", path, body=json.dumps({}),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, r.getheader("Retry-After"), r.read()
    finally:
        conn.close()


def test_nginx_limits_costly_routes_per_address():
    results = [_post_from("127.0.0.3", "/api/support/inquiry") for _ in range(45)]
    codes = [r[0] for r in results]
    check(codes[0] == 401, "the first ones reach the application", codes[:3])
    limited = [r for r in results if r[0] == 429]
    check(limited and all(b'"code":1005' in r[2] and r[1] for r in limited),
          "then 429 in the error shape with Retry-After", codes)
    status, _, _ = _post_from("127.0.0.4", "/api/support/inquiry")
    check(status == 401, "another address is not limited", status)
