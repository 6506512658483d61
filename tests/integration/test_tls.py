"""TLS on every instance connection, with the local driver's real servers:
the CA is public at /api/db/ca.pem, psql verify-full and redis-cli --tls
--cacert connect with it, plaintext is refused, and a certificate near its
expiry is renewed by the jobs while the server keeps running (same pid, an
open session survives, a new serial on the wire)."""
import glob
import os
import select
import subprocess
import tempfile

from dbt import stack, check, check_error, wait_until

API = "/api/db/instances"
DAY = 86400


def user(lemons=100):
    (uid, token), = stack.make_users(1, prefix="tls")
    stack.grant(uid, lemons)
    return uid, token


def running(token, body):
    """Creates an instance and waits until it runs; returns the 202's JSON."""
    r = stack.post(API, body, headers=stack.auth(token))
    check(r.status == 202, "created", r)

    def up():
        stack.ctl("jobs")
        g = stack.get("%s/%s" % (API, r.json["id"]), headers=stack.auth(token))
        return g.status == 200 and g.json["status"] == "running"
    wait_until(up, timeout=60, interval=0.3, what="the instance to run")
    return r.json


def delete(token, iid):
    stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token))
    stack.ctl("jobs")


def instance_file(iid, *parts):
    return os.path.join(stack.env["DBTREE_INSTANCE_DIR"], iid, *parts)


def conninfo(cred, name, **extra):
    kv = {"host": "127.0.0.1", "port": cred["externalPort"], "user": "admin",
          "password": cred["password"], "dbname": name, "connect_timeout": 5}
    kv.update(extra)
    return " ".join("%s=%s" % (k, v) for k, v in kv.items())


def psql(target, sql, cwd=None):
    return subprocess.run(["psql", target, "-X", "-q", "-t", "-A", "-c", sql], cwd=cwd,
                          capture_output=True, text=True, timeout=20)


def served_cert(port, postgres):
    """The certificate the server on port presents, checked by openssl
    against the CA and 127.0.0.1: (serial, PEM)."""
    argv = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile",
            stack.ca_file(), "-verify_ip", "127.0.0.1", "-verify_return_error"]
    if postgres:
        argv += ["-starttls", "postgres"]
    p = subprocess.run(argv, input="", capture_output=True, text=True, timeout=20)
    check(p.returncode == 0 and "Verify return code: 0 (ok)" in p.stdout,
          "openssl verifies the served certificate", p.stdout[-800:] + p.stderr[-800:])
    begin = p.stdout.index("-----BEGIN CERTIFICATE-----")
    end = p.stdout.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    pem = p.stdout[begin:end] + "\n"
    serial = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem,
                            capture_output=True, text=True, check=True).stdout.strip()
    return serial, pem


def expires_within(pem, seconds):
    """openssl x509 -checkend: True when pem expires within seconds."""
    return subprocess.run(["openssl", "x509", "-noout", "-checkend", str(seconds)],
                          input=pem, capture_output=True, text=True).returncode != 0


def certs_job(**env):
    stack.ctl("jobs", "--only", "certs", extra_env=env)


def served_until_renewed(port, postgres, old_serial):
    """Waits until the server presents another certificate (a reload is
    asynchronous in PostgreSQL: the postmaster handles its SIGHUP); returns
    (serial, PEM)."""
    return wait_until(lambda: (lambda s: s if s[0] != old_serial else None)(
        served_cert(port, postgres)), timeout=20, what="a new certificate on the wire")


class Session:
    """A psql process kept open, to show that a renewal ends no session."""

    def __init__(self, target):
        self.p = subprocess.Popen(["psql", target, "-X", "-q", "-t", "-A"], text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, bufsize=1)

    def ask(self, sql):
        self.p.stdin.write(sql + "\n")
        self.p.stdin.flush()
        ready, _, _ = select.select([self.p.stdout], [], [], 15)
        check(ready, "the session answers", sql)
        return self.p.stdout.readline().strip()

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


def test_the_ca_is_public_and_a_ca():
    r = stack.get("/api/db/ca.pem")
    check(r.status == 200, "no login needed", r)
    check(r.header("content-type") == "application/x-pem-file", "PEM content type",
          r.headers)
    check("dbtree-ca.pem" in (r.header("content-disposition") or ""), "saved as"
          " dbtree-ca.pem", r.headers)
    p = subprocess.run(["openssl", "x509", "-noout", "-text"], input=r.text,
                       capture_output=True, text=True)
    check(p.returncode == 0 and "CA:TRUE" in p.stdout and "Certificate Sign" in p.stdout,
          "a CA certificate", p.stdout + p.stderr)
    tls = stack.env.get("DBTREE_TLS_DIR") or os.path.join(stack.dir, "tls")
    check(os.stat(os.path.join(tls, "ca.key")).st_mode & 0o777 == 0o600, "ca.key 0600")
    check(open(os.path.join(tls, "ca.pem")).read() == r.text, "the file served")
    check_error(stack.request("POST", "/api/db/ca.pem"), 405, 1102, "GET only")


def test_postgres_verify_full_connects_and_plaintext_is_refused():
    uid, token = user()
    body = running(token, {"name": "tls-pg", "presetId": "postgres-standalone-tiny"})
    iid, cred = body["id"], body["credentials"]
    check(cred["tls"] is True, "tls flag", cred)
    check(cred["externalUri"].endswith("/tls-pg?sslmode=require"), "sslmode=require",
          cred)
    check(cred["externalUriVerifyFull"].endswith(
        "/tls-pg?sslmode=verify-full&sslrootcert=dbtree-ca.pem"), "verify-full variant", cred)
    g = stack.get("%s/%s" % (API, iid), headers=stack.auth(token)).json
    check(g["tls"] is True and "{PASSWORD}" in g["externalUriTemplateVerifyFull"] and
          "sslmode=verify-full" in g["externalUriTemplateVerifyFull"] and
          g["externalUriTemplate"].endswith("?sslmode=require"), "templates", g)
    p = psql(conninfo(cred, "tls-pg", sslmode="verify-full", sslrootcert=stack.ca_file()),
             "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    check(p.returncode == 0 and p.stdout.strip() == "t", "verify-full over TLS", p.stderr)
    with tempfile.TemporaryDirectory() as d:    # the string as the dashboard shows it
        with open(os.path.join(d, "dbtree-ca.pem"), "w") as f:
            f.write(open(stack.ca_file()).read())
        p = psql(cred["externalUriVerifyFull"], "SELECT 42", cwd=d)
    check(p.returncode == 0 and p.stdout.strip() == "42", "the verify-full string works",
          p.stderr)
    p = psql(conninfo(cred, "tls-pg", sslmode="disable"), "SELECT 1")
    check(p.returncode != 0 and "no encryption" in p.stderr, "plaintext refused", p.stderr)
    pem = instance_file(iid, "server.pem")
    check(os.stat(pem).st_mode & 0o077 == 0, "the key is its server's alone",
          oct(os.stat(pem).st_mode))
    delete(token, iid)


def test_redis_tls_connects_and_plaintext_is_refused():
    uid, token = user()
    body = running(token, {"name": "tls-cache", "presetId": "redis-standalone-tiny"})
    iid, cred = body["id"], body["credentials"]
    check(cred["externalUri"].startswith("rediss://admin:") and cred["tls"] is True,
          "rediss://", cred)
    out = stack.redis_cli(cred["externalUri"], "PING")
    check(out.stdout.strip() == "PONG", "redis-cli --tls --cacert", out.stdout + out.stderr)
    out = subprocess.run(["redis-cli", "--tls", "--cacert", stack.ca_file(), "-h",
                          "127.0.0.1", "-p", str(cred["externalPort"]), "--user", "admin",
                          "--pass", cred["password"], "--no-auth-warning", "PING"],
                         capture_output=True, text=True, timeout=20)
    check(out.stdout.strip() == "PONG", "--tls with host and port", out.stdout + out.stderr)
    out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(cred["externalPort"]),
                          "--user", "admin", "--pass", cred["password"],
                          "--no-auth-warning", "PING"],
                         capture_output=True, text=True, timeout=20)
    check("PONG" not in out.stdout, "plaintext refused", out.stdout + out.stderr)
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as other:
        other.write(open(instance_file(iid, "server.crt")).read())  # not a CA
        other.flush()
        out = subprocess.run(["redis-cli", "-u", cred["externalUri"], "--cacert", other.name,
                              "--no-auth-warning", "PING"],
                             capture_output=True, text=True, timeout=20)
    check("PONG" not in out.stdout, "a client that cannot verify is refused",
          out.stdout + out.stderr)
    delete(token, iid)


def test_a_certificate_near_expiry_is_renewed_without_a_restart():
    uid, token = user()
    pg = running(token, {"name": "tls-renew", "presetId": "postgres-standalone-tiny"})
    rd = running(token, {"name": "tls-renew-r", "presetId": "redis-standalone-tiny"})
    pg_port, rd_port = pg["credentials"]["externalPort"], rd["credentials"]["externalPort"]
    pg_pid = open(instance_file(pg["id"], "data", "postmaster.pid")).readline().strip()
    rd_pid = open(instance_file(rd["id"], "redis.pid")).readline().strip()
    target = conninfo(pg["credentials"], "tls-renew", sslmode="verify-full",
                      sslrootcert=stack.ca_file())
    session = Session(target)
    backend = session.ask("SELECT pg_backend_pid();")
    first = {p: served_cert(p, p == pg_port) for p in (pg_port, rd_port)}
    for port in first:
        check(not expires_within(first[port][1], 80 * DAY), "issued for 90 days", port)
    # certificates of one day, as if 89 days had passed
    certs_job(DBTREE_TLS_CERT_DAYS="1", DBTREE_TLS_RENEW_DAYS="3650")
    near = {p: served_until_renewed(p, p == pg_port, first[p][0]) for p in first}
    for port in near:
        check(expires_within(near[port][1], 2 * DAY), "near its expiry", port)
    # an ordinary pass of the jobs renews them (30 days' margin)
    stack.ctl("jobs")
    for port in near:
        serial, pem = served_until_renewed(port, port == pg_port, near[port][0])
        check(serial != first[port][0], "a new serial", port)
        check(not expires_within(pem, 80 * DAY), "valid for 90 days again", port)
    check(open(instance_file(pg["id"], "data", "postmaster.pid")).readline().strip() ==
          pg_pid, "the same postmaster")
    check(open(instance_file(rd["id"], "redis.pid")).readline().strip() == rd_pid,
          "the same redis-server")
    check(session.ask("SELECT pg_backend_pid();") == backend, "the open session goes on")
    session.close()
    p = psql(target, "SELECT 1")
    check(p.returncode == 0, "new sessions verify the new certificate", p.stderr)
    out = stack.redis_cli(rd["credentials"]["externalUri"], "PING")
    check(out.stdout.strip() == "PONG", "redis verifies the new certificate", out.stderr)
    # nothing is due now: a pass changes nothing
    again = served_cert(rd_port, False)[0]
    stack.ctl("jobs")
    check(served_cert(rd_port, False)[0] == again, "no renewal when none is due")
    delete(token, pg["id"])
    delete(token, rd["id"])


def test_a_new_public_host_gets_a_new_certificate():
    uid, token = user()
    rd = running(token, {"name": "tls-host", "presetId": "redis-standalone-tiny"})
    port = rd["credentials"]["externalPort"]
    before = served_cert(port, False)[0]
    certs_job(DBTREE_PUBLIC_DB_HOST="db.example.test")
    serial, pem = served_until_renewed(port, False, before)
    p = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=pem,
                       capture_output=True, text=True)
    check("DNS:db.example.test" in p.stdout, "names the new host", p.stdout)
    certs_job()     # the configured host again
    served_until_renewed(port, False, serial)
    delete(token, rd["id"])


def as_instance_user(*argv):
    """argv as the user instances run as (root's test stacks: dbtree-db)."""
    user = stack.env.get("DBTREE_INSTANCE_USER", "")
    prefix = ["runuser", "-u", user, "--"] if os.getuid() == 0 and user else []
    return subprocess.run(prefix + list(argv), capture_output=True, text=True, timeout=60)


def before_tls(path, drop, replace=()):
    """Rewrites an instance's file as an older version wrote it: lines
    starting with one of drop removed, (old, new) replacements made;
    owner and mode stay."""
    text = open(path).read()
    for old, new in replace:
        text = text.replace(old, new)
    text = "".join(l for l in text.splitlines(True) if not l.startswith(drop))
    with open(path, "w") as f:
        f.write(text)


def test_instances_from_before_tls_are_brought_in_line():
    uid, token = user()
    pg = running(token, {"name": "tls-old-pg", "presetId": "postgres-standalone-tiny"})
    rd = running(token, {"name": "tls-old-r", "presetId": "redis-standalone-tiny"})
    pg_cred, rd_cred = pg["credentials"], rd["credentials"]
    # PostgreSQL as an older version ran it: no ssl, host lines, restarted
    data = instance_file(pg["id"], "data")
    before_tls(os.path.join(data, "dbtree.conf"), ("ssl",))
    before_tls(os.path.join(data, "pg_hba.conf"), ("hostnossl",),
               [("hostssl   all all all", "host      all all all")])
    pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                    key=lambda p: float(p.split("/")[4]))[-1]
    p = as_instance_user(pg_ctl, "-D", data, "-l", instance_file(pg["id"], "postgres.log"),
                         "-m", "fast", "-w", "restart")
    check(p.returncode == 0, "restarted as before", p.stderr)
    p = psql(conninfo(pg_cred, "tls-old-pg", sslmode="disable"), "SELECT 42")
    check(p.stdout.strip() == "42", "plaintext worked before", p.stderr)
    # Redis as an older version ran it: a plain port, no socket
    conf = instance_file(rd["id"], "redis.conf")
    port = rd_cred["externalPort"]
    before_tls(conf, ("tls-", "unixsocket"), [("port 0\ntls-port %d" % port, "port %d" % port)])
    pid = int(open(instance_file(rd["id"], "redis.pid")).read())
    os.kill(pid, 15)
    wait_until(lambda: not os.path.exists("/proc/%d" % pid), what="redis-server to stop")
    p = as_instance_user("redis-server", conf)
    plain = ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "--user", "admin", "--pass",
             rd_cred["password"], "--no-auth-warning", "PING"]
    wait_until(lambda: "PONG" in subprocess.run(plain, capture_output=True, text=True).stdout,
               what="plaintext Redis as before")
    # the next passes see both differ from what apply writes, and apply it
    wait_until(lambda: stack.ctl("jobs") and
               psql(conninfo(pg_cred, "tls-old-pg", sslmode="disable"), "SELECT 1")
               .returncode != 0, timeout=30, what="PostgreSQL to refuse plaintext")
    p = psql(conninfo(pg_cred, "tls-old-pg", sslmode="verify-full",
                      sslrootcert=stack.ca_file()), "SELECT 1")
    check(p.returncode == 0, "and take TLS", p.stderr)
    wait_until(lambda: stack.redis_cli(rd_cred["externalUri"], "PING").stdout.strip() ==
               "PONG", timeout=30, what="Redis on its TLS port")
    check("PONG" not in subprocess.run(plain, capture_output=True, text=True).stdout,
          "Redis refuses plaintext")
    delete(token, pg["id"])
    delete(token, rd["id"])
