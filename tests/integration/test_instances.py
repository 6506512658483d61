"""Database instances through nginx, with the local driver running real
PostgreSQL and Redis processes.  The test stack bills every 3 s and deletes
after 4 s paused, so billing is tested in seconds."""
import concurrent.futures
import os
import shutil
import signal
import subprocess
import time

from dbt import stack, check, check_error, wait_until

API = "/api/db/instances"
BILLING_PERIOD = 3          # DBTREE_BILLING_PERIOD of the test stack


def user(lemons=100):
    (uid, token), = stack.make_users(1, prefix="db")
    if lemons:
        stack.grant(uid, lemons)
    return uid, token


def create(token, body):
    return stack.post(API, body, headers=stack.auth(token))


def get(token, iid):
    return stack.get("%s/%s" % (API, iid), headers=stack.auth(token))


def act(token, iid, action):
    return stack.post("%s/%s/%s" % (API, iid, action), headers=stack.auth(token))


def wait_status(token, iid, status, timeout=60):
    def step():
        stack.jobs()
        r = get(token, iid)
        return r if r.status == 200 and r.json["status"] == status else None
    return wait_until(step, timeout=timeout, interval=0.3, what="status %s" % status)


def balance(uid):
    return int(stack.psql("SELECT lemon_balance FROM users WHERE id = :'p1'", uid)[0][0])


def psql_uri(uri, sql):
    return subprocess.run(["psql", uri, "-X", "-q", "-t", "-A", "-c", sql],
                          capture_output=True, text=True, timeout=20)


def redis_uri(uri, *args):
    return stack.redis_cli(uri, *args)


def instance_dir(iid):
    return os.path.join(stack.env["DBTREE_INSTANCE_DIR"], iid)


def port_taken(port):
    return stack.psql("SELECT count(*) FROM port_allocations WHERE port = :p1", port) == [["1"]]


def test_presets_list_what_the_local_driver_runs():
    r = stack.get("/api/db/presets")
    check(r.status == 200 and isinstance(r.json, list), "presets", r)
    types = sorted({p["type"] for p in r.json})
    check(types == ["postgres", "redis"], "postgres and redis, no mongodb", types)
    tiny = [p for p in r.json if p["id"] == "postgres-standalone-tiny"][0]
    check(tiny["resources"] == {"cpu": 0.1, "memory": 256, "disk": 1}, "tiny spec", tiny)
    check(tiny["cost"] == {"creationCost": 5, "hourlyLemons": 1, "dailyLemons": 24,
                           "monthlyLemons": 720}, "tiny cost", tiny)
    check(tiny["available"] is True, "available", tiny)
    r = stack.get("/api/system/resources")
    check(r.status == 200 and set(r.json) >= {"system", "activeCount", "canCreateTiny"},
          "resources", r)


def test_postgres_lifecycle_with_psql():
    uid, token = user()
    r = create(token, {"name": "shop-db", "presetId": "postgres-standalone-tiny"})
    check(r.status == 202 and r.json["status"] == "provisioning", "202", r)
    iid, cred = r.json["id"], r.json["credentials"]
    uri = cred["externalUri"]
    check(uri == "postgresql://admin:%s@127.0.0.1:%d/shop-db?sslmode=require" % (
        cred["password"], cred["externalPort"]), "ready connection string", uri)
    check(30000 <= cred["externalPort"] <= 31999, "port in range", cred)
    check(r.json["cost"] == {"creationCost": 5, "hourlyLemons": 1}, "camelCase cost", r)
    check(balance(uid) == 95, "creation debited", balance(uid))
    check(stack.psql("SELECT count(*) FROM db_instances WHERE external_id = :'p1'"
                     " AND config::text LIKE :'p2'", iid, "%" + cred["password"] + "%") ==
          [["0"]], "password not in PostgreSQL")
    wait_status(token, iid, "running")
    check(any("ready" in m["Subject"] for m in stack.wait_mails(
        stack.psql("SELECT email FROM users WHERE id = :'p1'", uid)[0][0], 1)), "ready mail")
    p = psql_uri(uri, "CREATE TABLE t (x int); INSERT INTO t VALUES (42); SELECT x FROM t")
    check(p.returncode == 0 and p.stdout.strip() == "42", "psql works", p.stderr)
    p = psql_uri(uri, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    check(p.stdout.strip() == "f", "admin is not a superuser", p.stdout)
    d = get(token, iid).json
    check(d["metrics"]["connections"] >= 0 and d["metrics"]["storageBytes"] > 0 and
          d["metrics"]["uptimeSeconds"] >= 0, "live figures", d)
    check(act(token, iid, "stop").status == 204, "stop")
    wait_until(lambda: stack.jobs() and psql_uri(uri, "SELECT 1").returncode != 0,
               timeout=30, what="the server to stop")
    check(act(token, iid, "start").status == 204, "start")
    wait_status(token, iid, "running")
    wait_until(lambda: psql_uri(uri, "SELECT x FROM t").stdout.strip() == "42", timeout=30,
               what="the row after a restart")
    r = stack.post("%s/%s/credentials" % (API, iid), headers=stack.auth(token))
    check(r.status == 200 and r.json["password"] != cred["password"], "new password", r)
    check(psql_uri(uri, "SELECT 1").returncode != 0, "old password refused")
    p = psql_uri(r.json["externalUri"], "SELECT x FROM t")
    check(p.returncode == 0 and p.stdout.strip() == "42", "new password works", p.stderr)
    port = cred["externalPort"]
    check(stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token)).status == 204,
          "delete")
    check_error(get(token, iid), 404, 1400, "gone from the API at once")
    wait_until(lambda: stack.jobs() and not port_taken(port), timeout=30,
               what="the port to be free")
    check(not os.path.exists(instance_dir(iid)), "data and secret removed")
    check(psql_uri(r.json["externalUri"], "SELECT 1").returncode != 0, "nothing answers")


def test_redis_lifecycle_with_redis_cli():
    uid, token = user()
    r = create(token, {"name": "cache", "type": "redis",
                       "resources": {"cpu": 0.1, "memory": 128, "disk": 1}})
    check(r.status == 202, "custom redis", r)
    iid, uri = r.json["id"], r.json["credentials"]["externalUri"]
    check(uri.startswith("rediss://admin:"), "redis uri (TLS)", uri)
    wait_status(token, iid, "running")
    check(redis_uri(uri, "SET", "k", "lemon").stdout.strip() == "OK", "SET")
    out = redis_uri(uri, "CONFIG", "SET", "dir", "/tmp")
    check("NOPERM" in out.stdout + out.stderr, "CONFIG SET refused", out.stdout)
    out = redis_uri(uri, "SHUTDOWN")
    check("NOPERM" in out.stdout + out.stderr, "SHUTDOWN refused", out.stdout)
    check(act(token, iid, "restart").status == 204, "restart")
    wait_until(lambda: stack.jobs() and
               redis_uri(uri, "GET", "k").stdout.strip() == "lemon",
               timeout=30, what="data after a restart")
    r = stack.post("%s/%s/credentials" % (API, iid), headers=stack.auth(token))
    check("WRONGPASS" in (lambda o: o.stdout + o.stderr)(redis_uri(uri, "PING")),
          "old password refused")
    check(redis_uri(r.json["externalUri"], "GET", "k").stdout.strip() == "lemon",
          "new password works")
    stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token))
    stack.jobs()


def test_a_killed_instance_comes_back_and_a_lost_data_dir_is_an_error():
    uid, token = user()
    r = create(token, {"name": "crashy", "presetId": "redis-standalone-tiny"})
    iid, uri = r.json["id"], r.json["credentials"]["externalUri"]
    wait_status(token, iid, "running")
    pidfile = [os.path.join(instance_dir(iid), f) for f in os.listdir(instance_dir(iid))
               if f.endswith(".pid")]
    check(pidfile, "a pid file", os.listdir(instance_dir(iid)))
    os.kill(int(open(pidfile[0]).read().split()[0]), signal.SIGKILL)
    wait_until(lambda: stack.jobs() and
               redis_uri(uri, "PING").stdout.strip() == "PONG",
               timeout=30, what="the reconciler to bring it back")
    data = [os.path.join(instance_dir(iid), d) for d in os.listdir(instance_dir(iid))
            if os.path.isdir(os.path.join(instance_dir(iid), d))]
    os.kill(int(open(pidfile[0]).read().split()[0]), signal.SIGKILL)
    for d in data:
        shutil.rmtree(d)
    r = wait_status(token, iid, "error", timeout=30)
    check("missing" in r.json.get("statusReason", ""), "says the data is missing", r.json)
    stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token))
    stack.jobs()


def test_every_validation_error():
    uid, token = user(1000)
    for body, status, code in (
            ({}, 400, 1101),
            ({"name": "ab", "presetId": "postgres-standalone-tiny"}, 400, 1702),
            ({"name": "Upper", "presetId": "postgres-standalone-tiny"}, 400, 1702),
            ({"name": "-dash", "presetId": "postgres-standalone-tiny"}, 400, 1702),
            ({"name": "x" * 64, "presetId": "postgres-standalone-tiny"}, 400, 1702),
            ({"name": "okname"}, 400, 1101),
            ({"name": "okname", "presetId": "postgres-standalone-tiny", "type": "redis"}, 400, 1100),
            ({"name": "okname", "presetId": "nope"}, 404, 1400),
            ({"name": "okname", "type": "mysql", "resources": {"cpu": 1, "memory": 512, "disk": 1}}, 400, 1100),
            ({"name": "okname", "type": "mongodb", "resources": {"cpu": 1, "memory": 512, "disk": 1}}, 400, 1100),
            ({"name": "okname", "type": "redis", "mode": "cluster", "resources": {"cpu": 1, "memory": 512, "disk": 1}}, 400, 1100),
            ({"name": "okname", "type": "redis", "resources": {"cpu": 0.05, "memory": 512, "disk": 1}}, 400, 1703),
            ({"name": "okname", "type": "redis", "resources": {"cpu": 1, "memory": 100, "disk": 1}}, 400, 1703),
            ({"name": "okname", "type": "redis", "resources": {"cpu": 1, "memory": 512, "disk": 0}}, 400, 1703),
            ({"name": "okname", "type": "redis", "resources": {"cpu": 1, "memory": "512", "disk": 1}}, 400, 1703),
            ({"name": "okname", "type": "redis"}, 400, 1101),
            ({"name": "okname", "presetId": "redis-standalone-tiny", "backupEnabled": "yes"}, 400, 1100),
            ({"name": "okname", "presetId": "redis-standalone-tiny", "fromBackup": 5}, 400, 1100),
            ({"name": "okname", "presetId": "redis-standalone-tiny",
              "fromBackup": "00000000-0000-0000-0000-000000000000"}, 404, 1400)):
        check_error(create(token, body), status, code, repr(body)[:80])
    check(balance(uid) == 1000, "nothing was charged")
    check(stack.psql("SELECT count(*) FROM db_instances WHERE user_id = :'p1'", uid) == [["0"]],
          "nothing was made")
    check_error(stack.post(API, {"name": "x", "presetId": "redis-standalone-tiny"}), 401, 1206,
                "create needs a login")


def test_quota_duplicate_name_capacity_and_balance():
    uid, token = user(1000)
    a = create(token, {"name": "one", "presetId": "redis-standalone-tiny"})
    check(a.status == 202, "first", a)
    check_error(create(token, {"name": "one", "presetId": "redis-standalone-tiny"}), 409, 1401,
                "duplicate name")
    b = create(token, {"name": "two", "presetId": "redis-standalone-tiny"})
    check(b.status == 202, "second", b)
    check_error(create(token, {"name": "three", "presetId": "redis-standalone-tiny"}), 409, 1805,
                "quota of 2")
    for i in (a, b):
        stack.request("DELETE", "%s/%s" % (API, i.json["id"]), headers=stack.auth(token))
    big = {"type": "redis", "resources": {"cpu": 16, "memory": 128, "disk": 1}}
    r1 = create(token, dict(big, name="big-one"))
    check(r1.status == 202, "16 vCPU fits once", r1)
    check_error(create(token, dict(big, name="big-two")), 507, 1901, "capacity")
    stack.request("DELETE", "%s/%s" % (API, r1.json["id"]), headers=stack.auth(token))
    poor_uid, poor = user(3)
    r = create(poor, {"name": "cheap", "presetId": "redis-standalone-tiny"})
    check_error(r, 409, 1502, "insufficient lemons")
    check(r.json["data"] == {"required": 5, "missing": 2}, "required and missing", r.json)
    check(balance(poor_uid) == 3, "nothing charged")
    stack.jobs()


def test_driver_failure_after_the_debit_leaves_nothing():
    uid, token = user(50)
    idir = stack.env["DBTREE_INSTANCE_DIR"]
    os.rename(idir, idir + ".away")
    with open(idir, "w") as f:      # the driver cannot store the secret now
        f.write("not a directory")
    try:
        r = create(token, {"name": "doomed", "presetId": "redis-standalone-tiny"})
        check_error(r, 503, 1002, "the driver failed")
    finally:
        os.remove(idir)
        os.rename(idir + ".away", idir)
    check(balance(uid) == 50, "refunded", balance(uid))
    rows = stack.psql("SELECT action_type, amount FROM user_lemon_transactions"
                      " WHERE user_id = :'p1' ORDER BY created_at, amount", uid)
    check(rows == [["grant", "50"], ["instance_create", "-5"], ["instance_create_refund", "5"]],
          "debit and refund in the ledger", rows)
    check(stack.psql("SELECT count(*) FROM port_allocations a JOIN db_instances i"
                     " ON i.id = a.instance_id WHERE i.user_id = :'p1'", uid) == [["0"]],
          "port released")
    check(stack.get(API, headers=stack.auth(token)).json == [], "no instance")


def test_actions_unknown_and_foreign():
    uid, token = user()
    _, other = user()
    r = create(token, {"name": "mine", "presetId": "redis-standalone-tiny"})
    iid = r.json["id"]
    check_error(act(token, iid, "explode"), 400, 1100, "unknown action")
    check_error(get(other, iid), 404, 1400, "someone else's")
    check_error(act(other, iid, "stop"), 404, 1400, "someone else's action")
    check_error(get(token, "00000000-0000-0000-0000-000000000000"), 404, 1400, "unknown id")
    check_error(get(token, "not-a-uuid"), 404, 1400, "malformed id")
    check_error(act(token, iid, "start"), 409, 1700, "start while provisioning")
    check_error(stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(other)),
                404, 1400, "deleting someone else's")
    r = stack.get("/api/stats/summary/instances", headers=stack.auth(token))
    check(r.status == 200 and r.json == [{"id": iid, "name": "mine"}], "summary", r)
    r = stack.get("/api/stats/transactions?instanceName=mine", headers=stack.auth(token))
    check(r.status == 200 and [(t["actionType"], t["amount"], t["instanceName"])
                               for t in r.json["data"]] == [("instance_create", -5, "mine")],
          "the ledger filtered by instance", r)
    stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token))
    stack.jobs()


def test_billing_charges_once_per_period_pauses_resumes_and_deletes():
    uid, token = user(9)    # 5 to create, then 1 per period
    email = stack.psql("SELECT email FROM users WHERE id = :'p1'", uid)[0][0]
    r = create(token, {"name": "billed", "presetId": "redis-standalone-tiny"})
    iid, uri = r.json["id"], r.json["credentials"]["externalUri"]
    wait_status(token, iid, "running")      # its jobs runs may have billed already
    # Periods are aligned to the epoch: start two runs early in a fresh one,
    # so both fall inside it whatever the time the instance took to start.
    wait_until(lambda: time.time() % BILLING_PERIOD < 0.5, timeout=BILLING_PERIOD + 1,
               what="the start of a billing period")
    period, before = int(time.time() // BILLING_PERIOD), balance(uid)
    stack.ctl("jobs")       # the main pass only: billing is in it
    stack.ctl("jobs")
    check(int(time.time() // BILLING_PERIOD) == period, "both runs in one period")
    rows = stack.psql("SELECT count(*) FROM db_instance_billing b JOIN db_instances i"
                      " ON i.id = b.instance_id WHERE i.external_id = :'p1'"
                      " AND b.period_start = to_timestamp(:'p2'::bigint)",
                      iid, str(period * BILLING_PERIOD))
    check(rows == [["1"]], "one charge however often the job runs in a period", rows)
    check(balance(uid) == before - 1, "charged one lemon", (before, balance(uid)))
    r = wait_status(token, iid, "paused", timeout=20)
    check("lemons" in r.json["statusReason"], "paused for lemons", r.json)
    wait_until(lambda: stack.jobs() and redis_uri(uri, "PING").returncode != 0 or
               "PONG" not in redis_uri(uri, "PING").stdout, timeout=20, what="stopped")
    check_error(act(token, iid, "start"), 409, 1502, "start without lemons")
    stack.ctl("user", "grant", email, "10")
    wait_status(token, iid, "running", timeout=20)
    wait_until(lambda: stack.jobs() and "PONG" in redis_uri(uri, "PING").stdout,
               timeout=20, what="running again")
    # run dry again: paused, warned, then deleted after the 4 s grace
    stack.psql("UPDATE users SET lemon_balance = 0 WHERE id = :'p1';"
               " INSERT INTO user_lemon_transactions (user_id, action_type, amount, balance, note)"
               " SELECT :'p1', 'instance_maintain', -sum(amount)::int, 0, 'test: spend all'"
               " FROM user_lemon_transactions WHERE user_id = :'p1' HAVING sum(amount) > 0", uid)
    wait_status(token, iid, "paused", timeout=20)
    wait_until(lambda: stack.jobs() and get(token, iid).status == 404, timeout=30,
               what="deletion after the grace")
    subjects = [m["Subject"] for m in stack.wait_mails(email, 4, timeout=20)]
    for word in ("ready", "paused", "deleted soon", "was deleted"):
        check(any(word in s for s in subjects), "mail: %s" % word, subjects)
    wait_until(lambda: stack.jobs() and not os.path.exists(instance_dir(iid)),
               timeout=20, what="removal")


def test_fifty_parallel_creates_never_share_a_port():
    users = stack.make_users(50, prefix="port")
    for uid, _ in users:
        stack.grant(uid, 10)
    with concurrent.futures.ThreadPoolExecutor(25) as ex:
        rs = list(ex.map(lambda u: create(u[1], {"name": "port-db", "presetId": "redis-standalone-tiny"}),
                         users))
    check(all(r.status == 202 for r in rs), "all created", [r for r in rs if r.status != 202][:2])
    ports = [r.json["credentials"]["externalPort"] for r in rs]
    check(len(set(ports)) == 50, "50 different ports", len(set(ports)))
    for (uid, token), r in zip(users, rs):
        stack.request("DELETE", "%s/%s" % (API, r.json["id"]), headers=stack.auth(token))
    stack.jobs()
    check(not any(port_taken(p) for p in ports[:5]), "ports released")


def test_deleting_the_account_deletes_its_instances():
    uid, token = user()
    r = create(token, {"name": "leftover", "presetId": "redis-standalone-tiny"})
    iid = r.json["id"]
    port = r.json["credentials"]["externalPort"]
    wait_status(token, iid, "running")
    check(stack.request("DELETE", "/api/user", headers=stack.auth(token)).status == 204, "deleted")
    wait_until(lambda: stack.jobs() and not port_taken(port), timeout=30,
               what="the instance removed")
    check(not os.path.exists(instance_dir(iid)), "its files are gone")
