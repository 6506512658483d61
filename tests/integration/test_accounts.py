"""Accounts through nginx: e-mail code login, sessions, profile, deletion,
support, the outbox with a real SMTP server."""
import concurrent.futures
import hashlib
import http.client
import itertools
import json
import os

from dbt import stack, check, check_error, wait_until

SEND = "/api/send-otp?type=authentication"
VERIFY = "/api/verify-otp?type=authentication"
_seq = itertools.count(1)


def fresh(prefix="user"):
    return "%s%d@example.com" % (prefix, next(_seq))


def backdate_sends(address, seconds):
    """Pretends the address's earlier sends happened `seconds` ago."""
    stack.psql("UPDATE login_code_sends SET sent_at = sent_at - make_interval(secs => :p2)"
               " WHERE email = :'p1'", address, seconds)


def test_new_user_gets_the_welcome_bonus_once_and_a_profile():
    address = fresh()
    r = stack.post(SEND, {"email": address})
    check(r.status == 200 and r.json == {"isNewUser": True}, "new user", r)
    code = stack.code_for(address)
    r = stack.post(VERIFY, {"email": address, "otp": code})
    check(r.status == 200, "verified", r)
    check(r.json["expiresIn"] == 86400 and len(r.json["token"]) == 43, "token", r)
    p = r.json["profile"]
    check(p["email"] == address and p["lemonBalance"] == 15, "15 lemons at once", p)
    check(p["totalEarnedLemons"] == 15 and p["totalSpentLemons"] == 0, "totals", p)
    check(p["lastHarvestAt"] is None and p["joinedAt"].endswith("Z"), "times", p)
    r = stack.get("/api/user", headers=stack.auth(r.json["token"]))
    check(r.status == 200 and r.json["lemonBalance"] == 15, "GET /api/user", r)
    welcome = wait_until(lambda: [m for m in stack.mails(address) if "Welcome" in m["Subject"]],
                         what="the welcome mail")
    check(len(welcome) == 1, "one welcome mail", len(welcome))
    rows = stack.psql("SELECT action_type, amount, balance FROM user_lemon_transactions t"
                      " JOIN users u ON u.id = t.user_id WHERE u.email = :'p1'", address)
    check(rows == [["welcome_bonus", "15", "15"]], "one ledger row", rows)


def test_returning_user_is_not_new_and_not_paid_again():
    address = fresh()
    token1, _ = stack.login(address)
    backdate_sends(address, 61)
    r = stack.post(SEND, {"email": address})
    check(r.status == 200 and r.json == {"isNewUser": False}, "returning", r)
    code = stack.code_for(address)
    r = stack.post(VERIFY, {"email": address, "otp": code})
    check(r.status == 200 and r.json["profile"]["lemonBalance"] == 15, "still 15", r)
    token2 = r.json["token"]
    check(token1 != token2, "a new session for the second device")
    for t in (token1, token2):
        check(stack.get("/api/user", headers=stack.auth(t)).status == 200,
              "both devices stay logged in")


def test_email_is_trimmed_and_lower_cased():
    address = fresh("MiXeD")
    r = stack.post(SEND, {"email": "  " + address.upper() + " "})
    check(r.status == 200, "accepted", r)
    code = stack.code_for(address.lower())
    r = stack.post(VERIFY, {"email": address.capitalize(), "otp": code})
    check(r.status == 200 and r.json["profile"]["email"] == address.lower(), "normalised", r)


def test_logout_ends_only_this_session():
    address = fresh()
    t1, _ = stack.login(address)
    backdate_sends(address, 61)
    t2, _ = stack.login(address)
    r = stack.post("/api/logout", headers=stack.auth(t1))
    check(r.status == 200 and r.text == "null", "logout answers null", r)
    check_error(stack.get("/api/user", headers=stack.auth(t1)), 401, 1206, "logged-out token")
    check(stack.get("/api/user", headers=stack.auth(t2)).status == 200, "other device still in")
    check_error(stack.post("/api/logout"), 401, 1206, "logout without a token")


def test_bad_authorization_headers_are_401():
    for h in ("", "Bearer", "Bearer ", "bearer abc", "Token abc", "Bearer a b",
              "Bearer " + "x" * 43, "Basic dXNlcjpwYXNz"):
        r = stack.get("/api/user", headers={"Authorization": h} if h else {})
        check_error(r, 401, 1206, "Authorization %r" % h)


def test_wrong_codes_void_the_code_after_five():
    address = fresh()
    stack.post(SEND, {"email": address})
    code = stack.code_for(address)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    for left in (4, 3, 2, 1):
        r = stack.post(VERIFY, {"email": address, "otp": wrong})
        check_error(r, 401, 1200, "wrong code")
        check(r.json["data"]["triesLeft"] == left, "tries left %d" % left, r)
    r = stack.post(VERIFY, {"email": address, "otp": wrong})
    check_error(r, 401, 1200, "fifth wrong code")
    check("new code" in r.json["message"], "says to ask for a new code", r)
    r = stack.post(VERIFY, {"email": address, "otp": code})
    check_error(r, 401, 1200, "the right code is void now")


def test_expired_code_is_refused():
    address = fresh()
    stack.post(SEND, {"email": address})
    code = stack.code_for(address)
    stack.psql("UPDATE login_codes SET expires_at = now() - interval '1 second'"
               " WHERE email = :'p1'", address)
    check_error(stack.post(VERIFY, {"email": address, "otp": code}), 401, 1201, "expired")


def test_a_used_code_cannot_log_in_twice():
    address = fresh()
    stack.post(SEND, {"email": address})
    code = stack.code_for(address)
    check(stack.post(VERIFY, {"email": address, "otp": code}).status == 200, "first use")
    check_error(stack.post(VERIFY, {"email": address, "otp": code}), 409, 1208, "second use")


def test_verify_without_a_code_sent():
    check_error(stack.post(VERIFY, {"email": fresh(), "otp": "123456"}), 401, 1202, "no code sent")


def test_codes_are_stored_only_as_hashes():
    address = fresh()
    stack.post(SEND, {"email": address})
    code = stack.code_for(address)
    rows = stack.psql("SELECT encode(code_hash, 'hex') FROM login_codes WHERE email = :'p1'",
                      address)
    check(rows == [[hashlib.sha256(code.encode()).hexdigest()]], "sha-256 of the code", rows)
    dump = stack.psql("SELECT count(*) FROM mail_outbox WHERE params::text LIKE :'p1'",
                      "%" + code + "%")
    check(dump == [["0"]], "the code is not in the outbox")
    r = stack.post(VERIFY, {"email": address, "otp": code})
    token = r.json["token"]
    rows = stack.psql("SELECT count(*) FROM sessions WHERE token_hash = decode(:'p1', 'hex')",
                      hashlib.sha256(token.encode()).hexdigest())
    check(rows == [["1"]], "session stored as the token's hash", rows)


def test_resend_too_early_says_the_real_remaining_time():
    address = fresh()
    stack.post(SEND, {"email": address})
    backdate_sends(address, 20)
    r = stack.post(SEND, {"email": address})
    check_error(r, 429, 1204, "too early")
    wait = int(r.header("retry-after"))
    check(39 <= wait <= 40, "Retry-After is the remaining 40 s", wait)
    check(r.json["data"]["retryAfter"] == wait, "data carries it too", r)


def test_five_sends_per_ten_minutes_then_exact_wait():
    address = fresh()
    for i in range(5):
        r = stack.post(SEND, {"email": address})
        check(r.status == 200, "send %d" % (i + 1), r)
        backdate_sends(address, 61)
    # the oldest send is now 5 * 61 s old (and the seconds this loop took
    # on a busy machine): it leaves the window in about 600 - 305 s
    r = stack.post(SEND, {"email": address})
    check_error(r, 429, 1203, "sixth send")
    wait = int(r.header("retry-after"))
    left = float(stack.psql("SELECT 600 - extract(epoch FROM now() - min(sent_at))"
                            " FROM login_code_sends WHERE email = :'p1'", address)[0][0])
    check(left - 2 <= wait <= left + 1 and wait <= 295,
          "Retry-After until the oldest send leaves the window (%.1f s left)" % left, wait)
    check(len(stack.mails(address)) == 5, "five mails, not six")


def test_parallel_sends_respect_the_limits():
    address = fresh()
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        rs = list(ex.map(lambda _: stack.post(SEND, {"email": address}), range(20)))
    ok = [r for r in rs if r.status == 200]
    check(len(ok) == 1, "exactly one send gets through", [r.status for r in rs])
    check(all(r.status == 429 and r.json["code"] == 1204 for r in rs if r.status != 200),
          "the others are told to wait")
    rows = stack.psql("SELECT count(*) FROM login_code_sends WHERE email = :'p1'", address)
    check(rows == [["1"]], "one send recorded", rows)


def test_parallel_verifies_of_one_code_open_one_session():
    address = fresh()
    stack.post(SEND, {"email": address})
    code = stack.code_for(address)
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        rs = list(ex.map(lambda _: stack.post(VERIFY, {"email": address, "otp": code}),
                         range(20)))
    check([r.status for r in rs].count(200) == 1, "one success", [r.status for r in rs])
    rows = stack.psql("SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id"
                      " WHERE u.email = :'p1'", address)
    check(rows == [["1"]], "one session", rows)
    rows = stack.psql("SELECT lemon_balance FROM users WHERE email = :'p1'", address)
    check(rows == [["15"]], "one bonus", rows)


def test_bad_input_on_login_routes():
    check_error(stack.post("/api/send-otp?type=other", {"email": fresh()}), 400, 1100, "type")
    check_error(stack.post("/api/send-otp", {"email": fresh()}), 400, 1100, "no type")
    check_error(stack.post(SEND, {}), 400, 1101, "missing email")
    check_error(stack.post(SEND, {"email": 42}), 400, 1100, "email not a string")
    for bad in ("plain", "a@b", "@example.com", "a@@example.com", "a b@example.com",
                "a@example..com", "a@-example.com", "a@example.c0m", "x" * 300 + "@example.com"):
        check_error(stack.post(SEND, {"email": bad}), 400, 1301, "malformed %r" % bad)
    check_error(stack.post(VERIFY, {"email": fresh()}), 400, 1101, "missing otp")
    for otp in ("12345", "1234567", "abcdef", "12 456"):
        check_error(stack.post(VERIFY, {"email": fresh(), "otp": otp}), 401, 1200,
                    "otp %r" % otp)


def test_disposable_domains_are_refused():
    for address in ("someone@mailinator.com", "x@sub.mailinator.com", "y@YOPMAIL.COM"):
        r = stack.post(SEND, {"email": address})
        check_error(r, 400, 1301, address)
        check("disposable" in r.json["message"], "says why", r)


def test_deleted_account_token_is_401_and_address_can_return_without_bonus():
    address = fresh()
    token, _ = stack.login(address)
    r = stack.request("DELETE", "/api/user", headers=stack.auth(token))
    check(r.status == 204 and r.body == b"", "204 without a body", r)
    check_error(stack.get("/api/user", headers=stack.auth(token)), 401, 1206, "token after deletion")
    goodbye = wait_until(lambda: [m for m in stack.mails(address) if "deleted" in m["Subject"]],
                         what="the goodbye mail")
    check(len(goodbye) == 1, "goodbye mail")
    rows = stack.psql("SELECT count(*) FROM users WHERE email = :'p1'", address)
    check(rows == [["0"]], "the address is gone from the deleted row", rows)
    backdate_sends(address, 61)
    r = stack.post(SEND, {"email": address})
    check(r.status == 200 and r.json["isNewUser"] is True, "new account possible", r)
    r = stack.post(VERIFY, {"email": address, "otp": stack.code_for(address)})
    check(r.status == 200 and r.json["profile"]["lemonBalance"] == 0, "no second bonus", r)


def test_support_inquiry_mails_admin_and_user_with_escaped_text():
    address = fresh()
    token, _ = stack.login(address)
    body = {"category": "bug", "subject": "Broken <b>tree</b>",
            "message": "It says <script>alert(1)</script> & more",
            "context": {"userEmail": "spoof@example.com", "lemonBalance": 9999,
                        "userAgent": "test", "currentPage": "/"}}
    r = stack.post("/api/support/inquiry", body, headers=stack.auth(token))
    check(r.status == 204, "accepted", r)
    admin = stack.wait_mails("admin@example.com", 1)
    mine = [m for m in admin if address in m.get_body(preferencelist=("plain",)).get_content()]
    check(len(mine) == 1, "admin got it", len(admin))
    html = mine[0].get_body(preferencelist=("html",)).get_content()
    check("<script>" not in html and "&lt;script&gt;" in html, "HTML escaped", html[:500])
    text = mine[0].get_body(preferencelist=("plain",)).get_content()
    check("Lemon balance: 15" in text and "spoof@" not in text, "balance and address from the database", text)
    check(any("received" in m["Subject"] for m in stack.mails(address)), "user got a confirmation")


def test_support_inquiry_validation():
    token, _ = stack.login(fresh())
    h = stack.auth(token)
    good = {"category": "bug", "subject": "s", "message": "m"}
    check_error(stack.post("/api/support/inquiry", good), 401, 1206, "needs a login")
    for key, value, code in (("category", "nonsense", 1100), ("subject", "x" * 101, 1100),
                             ("message", "x" * 1001, 1100), ("subject", "", 1100),
                             ("message", None, 1101)):
        body = dict(good)
        body[key] = value
        check_error(stack.post("/api/support/inquiry", body, headers=h), 400, code, key)


def test_mail_waits_in_the_outbox_while_smtp_is_down_then_goes_once():
    address = fresh()
    stack.smtp.stop()
    try:
        r = stack.post(SEND, {"email": address})
        check(r.status == 200, "the send is accepted while SMTP is down", r)
        rows = stack.psql("SELECT status, attempts FROM mail_outbox WHERE recipient = :'p1'",
                          address)
        check(rows == [["pending", "1"]], "queued after one failed attempt", rows)
    finally:
        stack.smtp.start()
    stack.psql("UPDATE mail_outbox SET next_attempt_at = now() WHERE recipient = :'p1'", address)
    stack.jobs()
    stack.jobs()
    mails = stack.wait_mails(address, 1)
    check(len(mails) == 1, "delivered exactly once", len(mails))
    rows = stack.psql("SELECT status FROM mail_outbox WHERE recipient = :'p1'", address)
    check(rows == [["sent"]], "marked sent", rows)
    # the retried mail carries a fresh code, and that code works
    r = stack.post(VERIFY, {"email": address, "otp": stack.code_for(address)})
    check(r.status == 200, "the code from the retried mail logs in", r)


def test_refused_recipient_is_marked_failed_not_retried():
    r = stack.post(SEND, {"email": "reject-me@example.com"})
    check(r.status == 200, "accepted", r)
    rows = stack.psql("SELECT status, last_error FROM mail_outbox WHERE recipient = :'p1'",
                      "reject-me@example.com")
    check(rows == [["failed", "recipient refused"]], "failed for good", rows)


def test_file_transport_writes_one_eml_per_message():
    address = fresh()
    stack.psql("INSERT INTO mail_outbox (kind, recipient) VALUES ('goodbye', :'p1')", address)
    maildir = os.path.join(stack.dir, "mail", "file-mail")   # the service's folder
    stack.ctl("jobs", extra_env={"DBTREE_MAIL_TRANSPORT": "file", "DBTREE_MAIL_DIR": maildir})
    files = os.listdir(maildir)
    check(len(files) == 1 and files[0].endswith(".eml"), "one .eml", files)
    raw = open(os.path.join(maildir, files[0]), "rb").read()
    check(b"multipart/alternative" in raw and b"To: " + address.encode() in raw, "MIME message", raw[:400])
    rows = stack.psql("SELECT status FROM mail_outbox WHERE recipient = :'p1'", address)
    check(rows == [["sent"]], "marked sent", rows)


def test_session_sweep_removes_expired_sessions():
    address = fresh()
    token, _ = stack.login(address)
    stack.psql("UPDATE sessions SET expires_at = now() - interval '1 second'"
               " WHERE user_id = (SELECT id FROM users WHERE email = :'p1')", address)
    check_error(stack.get("/api/user", headers=stack.auth(token)), 401, 1206, "expired session")
    stack.jobs()
    rows = stack.psql("SELECT count(*) FROM sessions WHERE user_id ="
                      " (SELECT id FROM users WHERE email = :'p1')", address)
    check(rows == [["0"]], "swept", rows)


def test_session_sweep_takes_a_backlog_in_batches():
    (uid, token), = stack.make_users(1)
    # 25,000 expired sessions and 25,000 day-old code sends: more than one
    # batch (10,000) of each, as after days without a jobs pass
    stack.psql("INSERT INTO sessions (token_hash, user_id, expires_at)"
               " SELECT sha256(convert_to('backlog' || g, 'UTF8')), :'p1'::uuid,"
               " now() - interval '1 minute' FROM generate_series(1, 25000) g", uid)
    stack.psql("INSERT INTO login_code_sends (email, sent_at)"
               " SELECT 'backlog' || g || '@example.com', now() - interval '2 days'"
               " FROM generate_series(1, 25000) g")

    def left():
        return [int(v) for v in stack.psql(
            "SELECT (SELECT count(*) FROM sessions WHERE user_id = :'p1'"
            " AND expires_at <= now()), (SELECT count(*) FROM login_code_sends"
            " WHERE email LIKE 'backlog%@example.com')", uid)[0]]
    with stack.rows_per_statement("sessions", "DELETE") as deletes:
        passes = 0
        while any(left()) and passes < 10:
            stack.ctl("jobs", "--only", "sessions")
            passes += 1
        check(left() == [0, 0], "the backlog is gone within a few passes", (left(), passes))
        check(max(deletes()) == 10000 and sum(deletes()) >= 25000,
              "sessions deleted 10,000 a statement at most", deletes())
    check(stack.get("/api/user", headers=stack.auth(token)).status == 200,
          "the live session is kept")


def _post_from(source, path, body):
    """A request from another loopback address (the test stack exempts
    127.0.0.1 from the login rate limit, not 127.0.0.2)."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10,
                                      source_address=(source, 0))
    try:
        conn.request("POST", path, body=json.dumps(body),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, r.getheader("Retry-After"), r.read()
    finally:
        conn.close()


def test_nginx_limits_login_requests_per_address():
    results = [_post_from("127.0.0.2", SEND, {"email": "bad"}) for _ in range(12)]
    limited = [r for r in results if r[0] == 429]
    check(limited, "some requests are limited", [r[0] for r in results])
    check(all(b'"code":1005' in r[2] and r[1] for r in limited), "429 in the error shape with Retry-After",
          limited[:1])
    check(results[0][0] == 400, "the first ones reach the application", results[0])
