"""Login hardening: wrong codes survive a mail retry, and the welcome bonus
is paid once per mailbox (plus-tags, and Gmail's dots, make no new one)
while the account keeps the address as typed."""
import hashlib
import itertools
import os

from dbt import stack, check, check_error, ROOT

SEND = "/api/send-otp?type=authentication"
VERIFY = "/api/verify-otp?type=authentication"
_seq = itertools.count(1)


def tag():
    return "h%d%s" % (next(_seq), os.urandom(3).hex())


def wrong_code(address):
    """A code that is not the live one (only its hash is stored)."""
    live = stack.psql("SELECT encode(code_hash, 'hex') FROM login_codes WHERE email = :'p1'",
                      address)[0][0]
    return next(c for c in ("000000", "111111") if hashlib.sha256(c.encode()).hexdigest() != live)


def verify(address, code):
    return stack.post(VERIFY, {"email": address, "otp": code})


def test_wrong_codes_survive_a_mail_retry():
    address = "retry-%s@example.com" % tag()
    stack.smtp.stop()
    try:
        r = stack.post(SEND, {"email": address})
        check(r.status == 200, "the send is accepted while SMTP is down", r)
        for left in (4, 3, 2):
            r = verify(address, wrong_code(address))
            check_error(r, 401, 1200, "wrong code")
            check(r.json["data"]["triesLeft"] == left, "%d tries left" % left, r)
    finally:
        stack.smtp.start()
    stack.psql("UPDATE mail_outbox SET next_attempt_at = now() WHERE recipient = :'p1'", address)
    stack.jobs()
    code = stack.code_for(address)     # the retry's fresh code
    rows = stack.psql("SELECT wrong_tries FROM login_codes WHERE email = :'p1'", address)
    check(rows == [["3"]], "the retry kept the wrong tries", rows)
    r = verify(address, wrong_code(address))
    check_error(r, 401, 1200, "4th wrong code")
    check(r.json["data"].get("triesLeft") == 1, "one try left after four", r)
    r = verify(address, wrong_code(address))
    check_error(r, 401, 1200, "5th wrong code")
    check("too many" in r.json["message"], "the code is void after five", r)
    r = verify(address, "000000" if code != "000000" else "111111")
    check_error(r, 401, 1200, "6th wrong code")
    r = verify(address, code)
    check_error(r, 401, 1200, "the mailed code after six wrong ones")
    check("too many" in r.json["message"], "void, not merely wrong", r)


def log_in(address):
    """Logs a new address in; returns (lemon balance, token)."""
    r = stack.post(SEND, {"email": address})
    check(r.status == 200, "send-otp %s" % address, r)
    r = verify(address, stack.code_for(address))
    check(r.status == 200, "verify %s" % address, r)
    check(r.json["profile"]["email"] == address, "the address stays as typed", r)
    return r.json["profile"]["lemonBalance"], r.json["token"]


def balance_of(address):
    return log_in(address)[0]


def test_plus_tags_get_one_bonus_between_them():
    local = tag()
    first = balance_of("%s+1@example.com" % local)
    second = balance_of("%s+2@example.com" % local)
    third = balance_of("%s@example.com" % local)
    check((first, second, third) == (15, 0, 0), "one bonus for the mailbox",
          (first, second, third))
    rows = stack.psql("SELECT count(*) FROM user_lemon_transactions t JOIN users u"
                      " ON u.id = t.user_id WHERE t.action_type = 'welcome_bonus'"
                      " AND u.email LIKE :'p1'", local + "%@example.com")
    check(rows == [["1"]], "one bonus in the ledger", rows)


def test_gmail_dots_and_googlemail_get_one_bonus_between_them():
    local = tag()
    dotted = "%s.%s@gmail.com" % (local[:3], local[3:])
    first, token = log_in(dotted)
    paid = [first, balance_of("%s@googlemail.com" % local),
            balance_of("%s.%s+x@googlemail.com" % (local[:2], local[2:])),
            balance_of("%s@gmail.com" % local)]
    check(paid == [15, 0, 0, 0], "one bonus for the Gmail mailbox", paid)
    r = stack.get("/api/user", headers=stack.auth(token))
    check(r.status == 200 and r.json["email"] == dotted, "the profile keeps the dots", r)
    # dots count everywhere else
    paid = [balance_of("%s.%s@example.com" % (local[:3], local[3:])),
            balance_of("%s@example.com" % local)]
    check(paid == [15, 15], "dots count outside Gmail", paid)


def test_accounts_paid_before_mailbox_keys_are_not_paid_again():
    """Migration 0011 gives live accounts paid under the old per-address
    key a row under their mailbox key, computed as email_mailbox() does."""
    a, b, c = tag(), tag(), tag()
    old_and_new = [("%s+old@example.com" % a, "%s+new@example.com" % a),
                   ("x.%s@googlemail.com" % b, "x%s+y@gmail.com" % b),
                   ("%s@example.com" % c, "%s+z@example.com" % c)]
    for old, _ in old_and_new:
        stack.psql("WITH u AS (INSERT INTO users (email) VALUES (:'p1') RETURNING id)"
                   " INSERT INTO welcome_bonuses (email_hash, user_id)"
                   " SELECT sha256(convert_to(:'p1', 'UTF8')), id FROM u", old)
    with open(os.path.join(ROOT, "sql", "migrations", "0011_welcome_mailbox.sql")) as f:
        stack.psql(f.read())
    paid = [balance_of(new) for _, new in old_and_new]
    check(paid == [0, 0, 0], "mailbox variants of old accounts are not paid again", paid)
    check(balance_of("%s+new@example.com" % tag()) == 15, "a new mailbox still is")
