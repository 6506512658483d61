"""Local users of the host: what the stack's files, sockets and processes
let them see.  The suites run as root; "a local user" is `nobody` (through
runuser)."""
import os
import re
import secrets
import stat
import subprocess

from dbt import stack, check


def fresh():
    return "local-%s@example.com" % secrets.token_hex(4)


def as_nobody(*argv):
    """Runs argv as the unprivileged user nobody; CompletedProcess."""
    return subprocess.run(["runuser", "-u", "nobody", "--"] + list(argv),
                          capture_output=True, text=True, timeout=30)


def files_under(*parts):
    """Every file below a directory of the stack (as root sees it)."""
    out = []
    for top, dirs, files in os.walk(os.path.join(stack.dir, *parts)):
        out += [os.path.join(top, f) for f in files]
    return out


def test_a_login_code_is_kept_only_in_a_0600_file_of_the_file_transport():
    address = fresh()
    r = stack.post("/api/send-otp?type=authentication", {"email": address})
    check(r.status == 200, "send-otp", r)
    # a retry of the code mail, sent by the jobs through the file transport
    stack.psql("INSERT INTO mail_outbox (kind, recipient) VALUES ('login_code', :'p1')",
               address)
    maildir = os.path.join(stack.dir, "mail", "file-codes")
    p = stack.ctl("jobs", extra_env={"DBTREE_MAIL_TRANSPORT": "file",
                                     "DBTREE_MAIL_DIR": maildir})
    path = os.path.join(maildir, "login-codes.log")
    with open(path) as f:
        m = re.search(r" %s (\d{6})$" % re.escape(address), f.read(), re.M)
    check(m is not None, "the code is in the code file", open(path).read())
    code = m.group(1)
    check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, "the code file is 0600",
          oct(os.stat(path).st_mode))
    check(stat.S_IMODE(os.stat(maildir).st_mode) == 0o700, "the mail folder is 0700",
          oct(os.stat(maildir).st_mode))
    emls = [f for f in os.listdir(maildir) if f.endswith(".eml")]
    check(emls and all(stat.S_IMODE(os.stat(os.path.join(maildir, f)).st_mode) == 0o600
                       for f in emls), "mails are 0600", emls)
    check(code not in p.stderr and code not in p.stdout, "not in the jobs' output", p.stderr)
    leaked = [f for f in files_under("log") if code in open(f, errors="replace").read()]
    check(not leaked, "in no log of the stack", leaked)
    r = stack.post("/api/verify-otp?type=authentication", {"email": address, "otp": code})
    check(r.status == 200, "it is the live code", r)
