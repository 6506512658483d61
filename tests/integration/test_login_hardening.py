"""Login hardening: wrong codes survive a mail retry."""
import hashlib
import itertools
import os

from dbt import stack, check, check_error

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
    stack.ctl("jobs")
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
