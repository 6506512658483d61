"""Test helpers for dbtree's integration, fault and browser-side suites.

The runner (tests/lib/runner.py) starts one throwaway stack and sets
`dbt.stack` before importing test modules.  A test is a function named
test_* taking no arguments; it fails by raising (use `check`).

    from dbt import stack, check
    def test_health():
        r = stack.get("/api/health")
        check(r.status == 200, "health answers", r)
"""
import contextlib
import email
import email.policy
import glob
import http.client
import json
import mmap
import os
import pwd
import re
import socket
import struct
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

stack = None  # set by the runner


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        self.text = body.decode("utf-8", "replace")
        try:
            self.json = json.loads(self.text) if body else None
        except ValueError:
            self.json = None

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "<%d %s>" % (self.status, self.text[:300])


def check(cond, what, detail=None):
    """Fail the test with `what` (and `detail`, e.g. a response) unless cond."""
    if not cond:
        raise AssertionError(what + ("" if detail is None else ": %r" % (detail,)))


def check_error(r, status, code, what=""):
    """The response is the product's error shape with this status and code."""
    body = r.json
    check(r.status == status, "%s: status %d" % (what, status), r)
    check(isinstance(body, dict) and body.get("code") == code,
          "%s: code %d" % (what, code), r)
    check(isinstance(body.get("message"), str) and body["message"].startswith("["),
          "%s: message is '[name] text'" % what, r)
    check(isinstance(body.get("data"), dict), "%s: data is an object" % what, r)


def wait_until(cond, timeout=10.0, what="condition", interval=0.02):
    """Polls cond() until it is truthy; returns its value or fails."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


class Child:
    """A helper process a test stack runs (self.proc, a Popen); stop() ends
    it, once."""
    proc = None

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


class Pause:
    """An armed pause point: processes reaching it wait until release()."""

    def __init__(self, path):
        self.path = path
        with open(path, "w"):
            pass

    def wait_reached(self, timeout=30):
        """Waits until a process is held here; returns its pid."""
        reached = self.path + ".reached"
        wait_until(lambda: os.path.exists(reached) and open(reached).read().strip(),
                   timeout=timeout, what="pause point %s" % os.path.basename(self.path))
        return int(open(reached).read())

    def release(self):
        if os.path.exists(self.path):
            os.remove(self.path)


class Stack:
    """A running throwaway stack started with bin/dbtree-local."""

    def __init__(self, directory, env, smtp=None):
        self.dir = directory
        self.env = env
        self.port = int(env["DBTREE_HTTP_PORT"])
        self.build = env["DBTREE_BUILD"]
        self.smtp = smtp  # SmtpSink or None
        self.service_user = env.get("DBTREE_SERVICE_USER", "")

    def as_service(self):
        """subprocess keyword arguments that run a program as the user the
        stack's programs run as (dbtree when root started it): PostgreSQL
        lets no one else in."""
        if os.getuid() != 0 or self.service_user in ("", "root"):
            return {}
        pw = pwd.getpwnam(self.service_user)
        return {"user": pw.pw_uid, "group": pw.pw_gid,
                "extra_groups": os.getgrouplist(self.service_user, pw.pw_gid)}

    # -- mail ---------------------------------------------------------------
    def mails(self, to=None):
        """Messages the SMTP sink received (oldest first), optionally only
        those addressed to `to`."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.smtp.dir, "*.eml")),
                           key=lambda p: (os.path.getmtime(p), p)):
            with open(path, "rb") as f:
                msg = email.message_from_bytes(f.read(), policy=email.policy.default)
            if to is None or msg["X-Envelope-To"] == to:
                out.append(msg)
        return out

    def wait_mails(self, to, count, timeout=10):
        return wait_until(lambda: (lambda m: m if len(m) >= count else None)(self.mails(to)),
                          timeout=timeout, what="%d mail(s) to %s" % (count, to))

    def code_for(self, to, nth=None):
        """The login code in the latest (or nth) mail to `to`."""
        msgs = self.wait_mails(to, nth or 1)
        msg = msgs[(nth or len(msgs)) - 1]
        text = msg.get_body(preferencelist=("plain",)).get_content()
        m = re.search(r"login code: (\d{6})", text)
        check(m is not None, "a code in the mail", text)
        return m.group(1)

    def login(self, address):
        """Logs address in through the API; returns (token, profile)."""
        before = len(self.mails(address))
        r = self.post("/api/send-otp?type=authentication", {"email": address})
        check(r.status == 200, "send-otp", r)
        code = self.code_for(address, before + 1)
        r = self.post("/api/verify-otp?type=authentication", {"email": address, "otp": code})
        check(r.status == 200, "verify-otp", r)
        return r.json["token"], r.json["profile"]

    def auth(self, token):
        return {"Authorization": "Bearer " + token}

    def make_users(self, n, prefix="u", balance=0):
        """n users with a session each, made straight in the database (fast;
        no bonus, so balance 0 unless `balance` is granted through a ledger
        row).  Returns [(user_id, token)]."""
        import base64
        import hashlib
        import secrets
        tag = secrets.token_hex(4)
        tokens = [base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
                  for _ in range(n)]
        values = ",".join("('%s%s-%d@example.com', '%s')" % (
            prefix, tag, i, hashlib.sha256(t.encode()).hexdigest()) for i, t in enumerate(tokens))
        rows = self.psql(
            "WITH v(email, h) AS (VALUES %s),"
            " u AS (INSERT INTO users (email) SELECT email FROM v RETURNING id, email),"
            " s AS (INSERT INTO sessions (token_hash, user_id, expires_at)"
            "  SELECT decode(v.h, 'hex'), u.id, now() + interval '1 day'"
            "  FROM v JOIN u USING (email) RETURNING user_id)"
            " SELECT u.id, v.email FROM v JOIN u USING (email)" % values)
        by_email = {e: uid for uid, e in rows}
        users = [(by_email["%s%s-%d@example.com" % (prefix, tag, i)], t)
                 for i, t in enumerate(tokens)]
        if balance:
            for uid, _ in users:
                self.grant(uid, balance)
        return users

    def grant(self, user_id, amount):
        """Adds lemons through a ledger row (keeps the invariant)."""
        self.psql("WITH u AS (UPDATE users SET lemon_balance = lemon_balance + :p2,"
                  " total_earned_lemons = total_earned_lemons + :p2 WHERE id = :'p1'"
                  " RETURNING lemon_balance)"
                  " INSERT INTO user_lemon_transactions (user_id, action_type, amount, balance, note)"
                  " SELECT :'p1', 'grant', :p2, lemon_balance, 'test grant' FROM u",
                  user_id, amount)

    def ledger_violations(self):
        """Users whose balance is not the sum of their ledger, or negative;
        ledger rows whose balance went below 0, or above the cap through a
        harvest or bonus (refunds and grants may pass the cap)."""
        return self.psql("SELECT u.id::text FROM users u WHERE u.lemon_balance < 0"
                         " OR u.lemon_balance <> coalesce((SELECT sum(amount)"
                         " FROM user_lemon_transactions t WHERE t.user_id = u.id"
                         " AND t.status = 'successful'), 0)"
                         " UNION ALL SELECT id::text FROM user_lemon_transactions"
                         " WHERE balance < 0 OR (balance > :p1"
                         " AND action_type IN ('harvest', 'welcome_bonus',"
                         " 'streak_bonus', 'achievement_bonus'))",
                         self.env.get("DBTREE_LEMON_CAP", "500"))

    # -- HTTP -------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, timeout=15):
        """One request on a fresh connection; body: dict/list (sent as JSON),
        str or bytes (sent as is)."""
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return Response(resp.status, resp.getheaders(), resp.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def raw(self, data, timeout=10):
        """Sends raw bytes; returns (status, body bytes) of the answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(data)
            chunks = []
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
        out = b"".join(chunks)
        head, _, body = out.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
        return status, body

    # -- processes ----------------------------------------------------------
    def local(self, *args):
        """Runs a bin/dbtree-local command against this stack."""
        subprocess.run([os.path.join(ROOT, "bin", "dbtree-local")] + list(args) + [self.dir],
                       env=self.env, check=True, stdout=subprocess.DEVNULL)

    def ctl(self, *args, check_rc=True, extra_env=None):
        """Runs dbtreectl with the stack's environment; returns CompletedProcess."""
        env = dict(self.env)
        env.update(extra_env or {})
        p = subprocess.run([os.path.join(self.build, "bin", "dbtreectl")] + list(args),
                           env=env, capture_output=True, text=True, timeout=120,
                           **self.as_service())
        if check_rc and p.returncode != 0:
            raise AssertionError("dbtreectl %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr[-2000:]))
        return p

    def jobs(self):
        """One pass of every job: the main pass, then the backups job (a
        timer of its own in production).  True, for wait_until lambdas."""
        self.ctl("jobs")
        self.ctl("jobs", "--only", "backups")
        return True

    def ctl_bg(self, *args):
        """Starts dbtreectl in the background; returns the Popen (wait() it)."""
        return subprocess.Popen([os.path.join(self.build, "bin", "dbtreectl")] + list(args),
                                env=self.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, **self.as_service())

    @contextlib.contextmanager
    def pause(self, name):
        """Arms the pause point `name` (lib/base/pause.h) for the block: a
        pool worker or dbtreectl reaching it is held until release() or the
        end of the block.  Yields the Pause."""
        p = Pause(os.path.join(self.env["DBTREE_TEST_PAUSE_DIR"], name))
        try:
            yield p
        finally:
            p.release()

    def lock_waiters(self):
        """How many sessions of the service database wait for a lock."""
        return int(self.psql("SELECT count(*) FROM pg_stat_activity"
                             " WHERE wait_event_type = 'Lock'")[0][0])

    def ca_file(self):
        """The installation's CA certificate (GET /api/db/ca.pem, public),
        saved once as dbtree-ca.pem in the stack's directory (0600: nothing
        there is for other users): its path, for psql's sslrootcert and
        redis-cli's --cacert."""
        path = os.path.join(self.dir, "dbtree-ca.pem")
        if not os.path.exists(path):
            r = self.get("/api/db/ca.pem")
            check(r.status == 200 and r.text.startswith("-----BEGIN CERTIFICATE-----"),
                  "the CA certificate", r)
            fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(r.body)
            os.replace(path + ".tmp", path)
        return path

    def redis_cli(self, uri, *args):
        """redis-cli on a rediss:// connection string, checking the server's
        certificate against the CA; returns the CompletedProcess."""
        return subprocess.run(["redis-cli", "-u", uri, "--cacert", self.ca_file(),
                               "--no-auth-warning"] + list(args),
                              capture_output=True, text=True, timeout=20)

    def psql_argv(self, db="dbtree"):
        """psql connecting to the service's database (run it with
        as_service())."""
        return ["psql", "-h", os.path.join(self.dir, "run"), "-U", "dbtree", "-d", db, "-X"]

    def psql(self, sql, *params, db="dbtree"):
        """Runs one SQL statement as the service's database user; returns rows
        as lists of strings.  Values are passed as psql variables."""
        cmd = self.psql_argv(db) + ["-q", "-t", "-A", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
        for i, p in enumerate(params, 1):
            cmd += ["-v", "p%d=%s" % (i, p)]
        p = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=60,
                           **self.as_service())
        if p.returncode != 0:
            raise AssertionError("psql failed: %s" % p.stderr)
        self.note_changes()
        return [line.split("\t") for line in p.stdout.splitlines() if line]

    def note_changes(self):
        """Tells the stack's caches that anything may have changed, as the
        jobs do after each job (lib/base/changes.h): a test that writes SQL
        behind the service's back sees its change at once, as a person's
        own requests do."""
        path = os.path.join(self.dir, "run", "shared", "changes")
        try:
            with open(path, "r+b") as f, mmap.mmap(f.fileno(), 4) as m:
                m[0:4] = struct.pack("<I", (struct.unpack("<I", m[0:4])[0] + 1) % 2**32)
        except (FileNotFoundError, ValueError):
            pass  # no pool has started yet: nothing cached

    @contextlib.contextmanager
    def rows_per_statement(self, table, event):
        """While the block runs, records how many rows each `event` (UPDATE
        or DELETE) statement on `table` touches, with a statement-level
        trigger; yields a function returning those counts, in order."""
        name = "test_rows_%s_%s" % (table, event.lower())
        self.psql("CREATE TABLE %(n)s (id serial, n bigint);"
                  " CREATE FUNCTION %(n)s() RETURNS trigger LANGUAGE plpgsql AS $$"
                  " BEGIN INSERT INTO %(n)s (n) SELECT count(*) FROM changed;"
                  " RETURN NULL; END $$;"
                  " CREATE TRIGGER %(n)s AFTER %(e)s ON %(t)s"
                  " REFERENCING %(side)s TABLE AS changed FOR EACH STATEMENT"
                  " EXECUTE FUNCTION %(n)s();"
                  % {"n": name, "e": event, "t": table,
                     "side": "OLD" if event == "DELETE" else "NEW"})
        try:
            yield lambda: [int(r[0]) for r in self.psql(
                "SELECT n FROM %s WHERE n > 0 ORDER BY id" % name)]
        finally:
            self.psql("DROP TRIGGER %(n)s ON %(t)s; DROP FUNCTION %(n)s();"
                      " DROP TABLE %(n)s" % {"n": name, "t": table})

    def pids(self, group):
        """(master pid, [worker pids]) of a pool (its span exporter,
        process name dbtree-exporter, left out)."""
        with open(os.path.join(self.dir, "pid", "pool-%s.pid" % group)) as f:
            master = int(f.read())
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
        return master, sorted(int(x) for x in out.split() if not self.is_exporter(int(x)))

    @staticmethod
    def is_exporter(pid):
        try:
            with open("/proc/%d/comm" % pid) as f:
                return f.read().strip() == "dbtree-exporter"
        except OSError:
            return False

    def log(self, name):
        with open(os.path.join(self.dir, "log", name), errors="replace") as f:
            return f.read()

    def metric(self, name, **labels):
        """Sum of a Prometheus series from /metrics matching labels."""
        text = self.get("/metrics").text
        total = 0.0
        for line in text.splitlines():
            if line.startswith("#") or not line.startswith(name):
                continue
            series, _, value = line.rpartition(" ")
            if series.split("{")[0] != name:
                continue
            if all('%s="%s"' % (k, v) in series for k, v in labels.items()):
                total += float(value)
        return total
