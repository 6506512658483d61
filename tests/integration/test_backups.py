"""Backups, downloads and restores on the real stack: the backups job runs
pg_dump / redis-cli against real local instances, nginx streams the files
(X-Accel-Redirect), and restores put the data back.  The job is run by the
test (`jobs --only backups`), one pass at a time."""
import concurrent.futures
import hashlib
import os
import re
import subprocess

from dbt import stack, check, check_error, wait_until

API = "/api/db/instances"
POOL = concurrent.futures.ThreadPoolExecutor(2)
GIB = 1 << 30


def user(lemons=100, prefix="bk"):
    (uid, token), = stack.make_users(1, prefix=prefix)
    if lemons:
        stack.grant(uid, lemons)
    return uid, token


def create(token, name, preset="postgres-standalone-tiny", **extra):
    body = {"name": name, "presetId": preset}
    body.update(extra)
    return stack.post(API, body, headers=stack.auth(token))


def status(token, iid):
    return stack.get("%s/%s" % (API, iid), headers=stack.auth(token)).json.get("status")


MADE = []   # (token, id) of every instance these tests made: the last one
            # deletes them, so no later test finds them running (billing)


def running(token, name, preset="postgres-standalone-tiny", **extra):
    r = create(token, name, preset, **extra)
    check(r.status == 202, "created", r)
    iid = r.json["id"]
    MADE.append((token, iid))
    wait_until(lambda: stack.jobs() and status(token, iid) == "running", timeout=60,
               interval=0.2, what="running")
    return iid, r.json["credentials"]["externalUri"]


def sql(uri, text):
    p = subprocess.run(["psql", uri, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                        "-c", text], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0, "psql: " + text, p.stderr)
    return p.stdout.strip()


def backups_job():
    stack.ctl("jobs", "--only", "backups")
    return True


def take(token, iid):
    return stack.post("%s/%s/backups" % (API, iid), headers=stack.auth(token))


def listing(token, iid):
    r = stack.get("%s/%s/backups" % (API, iid), headers=stack.auth(token))
    check(r.status == 200, "list", r)
    return r.json


def finished(token, iid, bid):
    def step():
        backups_job()
        b = [x for x in listing(token, iid) if x["id"] == bid]
        return b[0] if b and b[0]["state"] in ("done", "failed") else None
    return wait_until(step, timeout=60, interval=0.2, what="backup %s finished" % bid)


def backed_up(token, iid):
    r = take(token, iid)
    check(r.status == 202 and r.json["state"] == "queued" and r.json["kind"] == "manual",
          "backup queued", r)
    b = finished(token, iid, r.json["id"])
    check(b["state"] == "done" and b["sizeBytes"] > 0, "backup done", b)
    return b


def link(token, iid, bid):
    r = stack.post("%s/%s/backups/%s/link" % (API, iid, bid), headers=stack.auth(token))
    check(r.status == 200 and r.json["singleUse"] is True, "link", r)
    return r.json["path"]


def download(path):
    return stack.request("GET", path, timeout=60)


def backup_file(b):
    ext = {"postgres": "dump", "redis": "rdb"}[b["type"]]
    return os.path.join(stack.env["DBTREE_BACKUP_DIR"], b["instanceId"],
                        "%s.%s" % (b["id"], ext))


def balance(uid):
    return int(stack.psql("SELECT lemon_balance FROM users WHERE id = :'p1'", uid)[0][0])


def ledger(uid, action):
    return int(stack.psql("SELECT count(*) FROM user_lemon_transactions WHERE user_id = :'p1'"
                          " AND action_type = :'p2'", uid, action)[0][0])


def restored(token, iid, bid):
    r = stack.post("%s/%s/backups/%s/restore" % (API, iid, bid), headers=stack.auth(token))
    check(r.status == 202 and r.json["state"] == "queued", "restore queued", r)

    def step():
        backups_job()
        rows = stack.psql("SELECT r.state, r.reason FROM db_restores r JOIN db_instances i"
                          " ON i.id = r.instance_id WHERE i.external_id = :'p1'"
                          " ORDER BY r.id DESC LIMIT 1", iid)
        return rows[0] if rows and rows[0][0] in ("done", "failed") else None
    st = wait_until(step, timeout=90, interval=0.2, what="restore finished")
    check(st[0] == "done", "restore done", st)
    r = stack.get("%s/%s/restores" % (API, iid), headers=stack.auth(token))
    check(r.status == 200 and r.json[0]["backupId"] == bid and r.json[0]["state"] == "done"
          and "finishedAt" in r.json[0], "the API says how it went", r)


def test_backup_break_restore_download_and_restore_into_a_new_instance():
    uid, token = user()
    iid, uri = running(token, "bk-pg")
    sql(uri, "CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 1000)")
    before = balance(uid)
    b = backed_up(token, iid)
    check(balance(uid) == before - 1 and ledger(uid, "backup") == 1, "one lemon, one ledger row")
    check(status(token, iid) == "running", "running again after the backup")
    sql(uri, "DELETE FROM t WHERE x > 10; CREATE TABLE junk (y int)")
    restored(token, iid, b["id"])
    check(status(token, iid) == "running", "running after the restore")
    check(sql(uri, "SELECT count(*) FROM t") == "1000", "the rows are back")
    check(sql(uri, "SELECT to_regclass('junk') IS NULL") == "t", "what came later is gone")
    kinds = [x["kind"] for x in listing(token, iid)]
    check(kinds.count("pre_restore") == 1, "the overwritten data was kept first", kinds)

    # download: byte-identical, once, and only with the link
    path = link(token, iid, b["id"])
    r = download(path)
    check(r.status == 200, "download", r.status)
    with open(backup_file(b), "rb") as f:
        on_disk = f.read()
    check(hashlib.sha256(r.body).digest() == hashlib.sha256(on_disk).digest(),
          "byte-identical", (len(r.body), len(on_disk)))
    check(r.body[:5] == b"PGDMP", "a pg_dump custom-format file", r.body[:5])
    check(re.search(r'attachment; filename="bk-pg-\d{8}-\d{6}\.dump"',
                    r.header("Content-Disposition") or ""), "a file name",
          r.header("Content-Disposition"))
    check_error(download(path), 404, 1400, "a link works once")

    # restore into a fresh instance from the same backup
    iid2, uri2 = running(token, "bk-pg-copy", fromBackup=b["id"])
    wait_until(lambda: backups_job() and stack.psql(
        "SELECT r.state FROM db_restores r JOIN db_instances i ON i.id = r.instance_id"
        " WHERE i.external_id = :'p1'", iid2) == [["done"]], timeout=60, interval=0.2,
        what="restored into the new instance")
    check(sql(uri2, "SELECT count(*) FROM t") == "1000", "the new instance has the rows")


def test_links_are_the_owners_and_expire():
    uid, token = user()
    iid, uri = running(token, "bk-links", "redis-standalone-tiny")
    b = backed_up(token, iid)
    check(b["type"] == "redis", "a redis backup", b)
    _, other = user(prefix="bko")
    r = stack.post("%s/%s/backups/%s/link" % (API, iid, b["id"]), headers=stack.auth(other))
    check_error(r, 404, 1400, "another user's backup")
    r = stack.post("/api/db/backups/%s/link" % b["id"], headers=stack.auth(other))
    check_error(r, 404, 1400, "another user's backup, by id alone")
    path = link(token, iid, b["id"])
    stack.psql("UPDATE backup_links SET expires_at = now() - interval '1 second'"
               " WHERE backup_id = (SELECT id FROM db_backups WHERE external_id = :'p1')",
               b["id"])
    check_error(download(path), 404, 1400, "an expired link")
    r = download(link(token, iid, b["id"]))
    check(r.status == 200 and r.body[:5] == b"REDIS", "an RDB file", r.body[:8])
    check_error(download("/api/db/backups/download/" + "A" * 43), 404, 1400, "unknown token")


def test_two_at_once_and_a_full_disk_are_refused_without_charge():
    uid, token = user()
    iid, uri = running(token, "bk-limits")
    r = take(token, iid)
    check(r.status == 202, "first", r)
    check_error(take(token, iid), 409, 1706, "a second while the first is queued")
    finished(token, iid, r.json["id"])
    # the instance's kept backups fill its disk: refused, nothing charged
    stack.psql("UPDATE db_backups SET size_bytes = :p2 WHERE external_id = :'p1'",
               r.json["id"], GIB)
    before, rows = balance(uid), ledger(uid, "backup")
    check_error(take(token, iid), 409, 1707, "the disk is full of backups")
    check(balance(uid) == before and ledger(uid, "backup") == rows, "no charge")
    # almost full: accepted, and the dump that does not fit fails, refunded
    stack.psql("UPDATE db_backups SET size_bytes = :p2 WHERE external_id = :'p1'",
               r.json["id"], GIB - 2000)
    sql(uri, "CREATE TABLE big AS SELECT md5(i::text) AS h FROM generate_series(1, 20000) i")
    r2 = take(token, iid)
    check(r2.status == 202, "accepted with 2000 bytes left", r2)
    b = finished(token, iid, r2.json["id"])
    check(b["state"] == "failed" and "would not fit" in b["reason"], "too big", b)
    check(balance(uid) == before and ledger(uid, "backup_refund") == 1,
          "refunded", (balance(uid), before))
    check(not os.path.exists(backup_file(b)) and not os.path.exists(backup_file(b) + ".part"),
          "no file left")
    # deleting the big one frees the disk allowance at once; a pass removes its file
    first = [x for x in listing(token, iid) if x["id"] == r.json["id"]][0]
    path = backup_file(first)
    check(os.path.exists(path), "the first backup's file is there")
    gone = stack.request("DELETE", "%s/%s/backups/%s" % (API, iid, first["id"]),
                         headers=stack.auth(token))
    check(gone.status == 204, "deleted", gone)
    check(first["id"] not in [x["id"] for x in listing(token, iid)], "gone from the list")
    check_error(stack.request("DELETE", "%s/%s/backups/%s" % (API, iid, first["id"]),
                              headers=stack.auth(token)), 404, 1400, "once")
    backups_job()
    check(not os.path.exists(path), "its file is removed")
    r3 = take(token, iid)
    check(r3.status == 202, "room again", r3)
    check_error(stack.request("DELETE", "%s/%s/backups/%s" % (API, iid, r3.json["id"]),
                              headers=stack.auth(token)), 409, 1706, "not while it is queued")
    check(finished(token, iid, r3.json["id"])["state"] == "done", "and it fits")


def final_of(iid):
    rows = stack.psql("SELECT b.external_id, b.state FROM db_backups b JOIN db_instances i"
                      " ON i.id = b.instance_id WHERE i.external_id = :'p1'"
                      " AND b.kind = 'final'", iid)
    return rows[0] if rows else None


def destroyed(iid):
    return stack.psql("SELECT destroyed_at IS NOT NULL FROM db_instances"
                      " WHERE external_id = :'p1'", iid) == [["t"]]


def test_deletion_by_the_person_keeps_a_final_backup_that_restores():
    uid, token = user()
    iid, uri = running(token, "bk-final")
    sql(uri, "CREATE TABLE keep (v text); INSERT INTO keep VALUES ('last words')")
    check(stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token)).status == 204,
          "deleted")
    check(final_of(iid)[1] == "queued", "queued with the deletion", final_of(iid))
    stack.ctl("jobs", "--only", "reconcile")
    check(not destroyed(iid), "not destroyed before its final backup")
    wait_until(lambda: stack.jobs() and destroyed(iid), timeout=60, interval=0.2,
               what="destroyed after the final backup")
    check(final_of(iid)[1] == "done", "final backup done", final_of(iid))
    r = stack.get("/api/db/backups", headers=stack.auth(token))
    check(r.status == 200 and [b["kind"] for b in r.json] == ["final"], "listed", r)
    check(r.json[0]["instanceName"] == "bk-final" and "expiresAt" in r.json[0], "named", r.json)
    iid2, uri2 = running(token, "bk-final-back", fromBackup=r.json[0]["id"])
    wait_until(lambda: backups_job() and sql(uri2, "SELECT count(*) FROM pg_tables"
               " WHERE tablename = 'keep'") == "1", timeout=60, interval=0.3, what="restored")
    check(sql(uri2, "SELECT v FROM keep") == "last words", "the data came back")


def test_deletion_for_lack_of_lemons_keeps_a_week_of_download():
    uid, token = user(lemons=10)
    iid, uri = running(token, "bk-broke", "redis-standalone-tiny")
    stack.redis_cli(uri, "SET", "k", "v")
    stack.psql("UPDATE users SET lemon_balance = 0 WHERE id = :'p1';"
               " INSERT INTO user_lemon_transactions (user_id, action_type, amount, balance, note)"
               " SELECT :'p1', 'instance_maintain', -sum(amount)::int, 0, 'test: spend all'"
               " FROM user_lemon_transactions WHERE user_id = :'p1' HAVING sum(amount) > 0", uid)
    wait_until(lambda: stack.jobs() and destroyed(iid), timeout=60, interval=0.3,
               what="paused, deleted, destroyed")
    check(final_of(iid)[1] == "done", "a paused instance still leaves its copy", final_of(iid))
    r = stack.get("/api/db/backups", headers=stack.auth(token))
    check(r.status == 200 and len(r.json) == 1, "listed on the account", r)
    week = stack.psql("SELECT expires_at > now() + interval '6 days' FROM db_backups"
                      " WHERE external_id = :'p1'", r.json[0]["id"])
    check(week == [["t"]], "kept for a week", week)
    lr = stack.post("/api/db/backups/%s/link" % r.json[0]["id"], headers=stack.auth(token))
    check(lr.status == 200, "a link", lr)
    d = download(lr.json["path"])
    check(d.status == 200 and d.body[:5] == b"REDIS" and b"k" in d.body, "the data", d.body[:16])
    # the person may let the last copy go before its week is up
    _, other = user(prefix="bko")
    check_error(stack.request("DELETE", "/api/db/backups/%s" % r.json[0]["id"],
                              headers=stack.auth(other)), 404, 1400, "not someone else's")
    gone = stack.request("DELETE", "/api/db/backups/%s" % r.json[0]["id"],
                         headers=stack.auth(token))
    check(gone.status == 204, "deleted", gone)
    r = stack.get("/api/db/backups", headers=stack.auth(token))
    check(r.status == 200 and r.json == [], "no longer listed", r)


def test_account_deletion_mails_one_time_links_to_the_final_backups():
    uid, token = user()
    iid, uri = running(token, "bk-bye")
    sql(uri, "CREATE TABLE farewell (x int)")
    email = stack.psql("SELECT email FROM users WHERE id = :'p1'", uid)[0][0]
    check(stack.request("DELETE", "/api/user", headers=stack.auth(token)).status == 204, "gone")
    wait_until(lambda: stack.jobs() and destroyed(iid), timeout=60, interval=0.3,
               what="destroyed")
    mail = [m for m in stack.wait_mails(email, 1, timeout=20) if "deleted" in m["Subject"]][0]
    body = mail.get_body(preferencelist=("plain",)).get_content()
    tokens = re.findall(r"/backup\.html#([A-Za-z0-9-]{43})", body)
    check(len(tokens) == 1, "one link per instance", body)
    r = download("/api/db/backups/download/" + tokens[0])
    check(r.status == 200 and r.body[:5] == b"PGDMP", "the last copy", r.status)
    check_error(download("/api/db/backups/download/" + tokens[0]), 404, 1400, "once")


# -- the backups job against every other writer of the instance row ------
# Each pair runs in both orders on purpose: a pause point holds the backups
# job mid-dump (the instance backing_up, no transaction open) or another
# writer inside its transaction with the row locked.

def held(point, *job_args):
    ctx = stack.pause(point)
    p = ctx.__enter__()
    proc = stack.ctl_bg("jobs", *job_args)
    p.wait_reached()
    return ctx, proc


def release(ctx, proc):
    ctx.__exit__(None, None, None)
    check(proc.wait(timeout=90) == 0, "the held jobs run ended well")


def row(iid):
    r = stack.psql("SELECT status, desired, deleted_at IS NOT NULL FROM db_instances"
                   " WHERE external_id = :'p1'", iid)[0]
    return r[0], r[1], r[2] == "t"


def charges(iid):
    r = stack.psql("SELECT (SELECT count(*) FROM user_lemon_transactions t"
                   "  WHERE t.db_instance_id = i.id AND t.action_type = 'instance_maintain'),"
                   " (SELECT count(*) FROM db_instance_billing b WHERE b.instance_id = i.id)"
                   " FROM db_instances i WHERE i.external_id = :'p1'", iid)[0]
    return int(r[0]), int(r[1])


def gone_with_its_final(token, iid):
    wait_until(lambda: stack.jobs() and destroyed(iid), timeout=60, interval=0.2,
               what="destroyed")
    check(row(iid) == ("deleting", "deleted", True), "stays deleted", row(iid))
    check(final_of(iid)[1] == "done", "its final backup was taken", final_of(iid))


def test_race_delete_during_a_backup_wins_and_leaves_a_final_copy():
    uid, token = user()
    iid, uri = running(token, "bk-race-del")
    r = take(token, iid)
    ctx, proc = held("backup.dump", "--only", "backups")
    check(status(token, iid) == "backing_up", "backing_up while it dumps")
    check(sql(uri, "SELECT 1") == "1", "and keeps serving")
    check(stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token)).status
          == 204, "the person deletes it meanwhile")
    release(ctx, proc)
    check(row(iid)[:2] == ("deleting", "deleted"), "the backup's end did not revive it",
          row(iid))
    gone_with_its_final(token, iid)


def test_race_a_backup_queued_before_a_delete_fails_refunded_after_the_final_one():
    uid, token = user()
    iid, uri = running(token, "bk-race-q")
    before = balance(uid)
    r = take(token, iid)
    check(stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token)).status
          == 204, "deleted before the job ran")
    gone_with_its_final(token, iid)
    st = stack.psql("SELECT state, reason FROM db_backups WHERE external_id = :'p1'",
                    r.json["id"])[0]
    check(st == ["failed", "the instance was deleted"], "the manual one failed", st)
    check(balance(uid) == before and ledger(uid, "backup_refund") == 1, "refunded")


def test_race_billing_charges_an_instance_while_it_is_backing_up():
    uid, token = user()
    iid, uri = running(token, "bk-race-bill")
    take(token, iid)
    ctx, proc = held("backup.dump", "--only", "backups")
    seen = charges(iid)
    # the test stack bills every 3 s: the next period comes while it dumps
    wait_until(lambda: stack.ctl("jobs", "--only", "bill") and charges(iid)[1] > seen[1],
               timeout=15, interval=0.3, what="a charge while backing_up")
    check(row(iid)[0] == "backing_up", "charged while backing_up", row(iid))
    release(ctx, proc)
    check(row(iid)[0] == "running", "running again", row(iid))
    stack.ctl("jobs", "--only", "bill")
    ch, periods = charges(iid)
    check(ch == periods, "one charge per billed period", (ch, periods))


def clear_made():
    """Deletes every instance these tests made and waits until each is
    destroyed (its final copy taken): billing's pause point then meets only
    the next instance."""
    for token, iid in MADE:
        r = stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token))
        check(r.status in (204, 404, 401), "deleted (or already gone)", r)
    wait_until(lambda: stack.jobs() and all(destroyed(iid) for _, iid in MADE), timeout=180,
               interval=0.5, what="every instance destroyed")


def test_race_a_backup_waits_for_billings_row_lock_then_runs():
    clear_made()
    uid, token = user()
    iid, uri = running(token, "bk-race-lock")
    stack.psql("DELETE FROM db_instance_billing WHERE instance_id ="
               " (SELECT id FROM db_instances WHERE external_id = :'p1')", iid)
    r = take(token, iid)
    ctx, proc = held("lc.charge.after", "--only", "bill")
    fut = POOL.submit(lambda: stack.ctl("jobs", "--only", "backups"))
    wait_until(lambda: stack.lock_waiters() >= 1, timeout=10, what="the backup waits")
    check(not fut.done(), "the backup's begin waits for billing's row lock")
    release(ctx, proc)
    fut.result(timeout=60)
    b = finished(token, iid, r.json["id"])
    check(b["state"] == "done" and row(iid)[0] == "running", "done, running", (b, row(iid)))


def test_race_the_reconciler_leaves_a_backing_up_instance_alone():
    uid, token = user()
    iid, uri = running(token, "bk-race-rec", "redis-standalone-tiny")
    r = take(token, iid)
    ctx, proc = held("backup.dump", "--only", "backups")
    stack.ctl("jobs", "--only", "reconcile")
    check(row(iid)[0] == "backing_up", "not overwritten by an observation", row(iid))
    release(ctx, proc)
    check(finished(token, iid, r.json["id"])["state"] == "done", "done")
    stack.ctl("jobs", "--only", "reconcile")
    check(row(iid)[0] == "running", "running", row(iid))


def test_race_delete_during_a_restore_wins():
    uid, token = user()
    iid, uri = running(token, "bk-race-rst")
    b = backed_up(token, iid)
    r = stack.post("%s/%s/backups/%s/restore" % (API, iid, b["id"]), headers=stack.auth(token))
    check(r.status == 202, "restore queued", r)
    check_error(stack.post("%s/%s/backups/%s/restore" % (API, iid, b["id"]),
                           headers=stack.auth(token)), 409, 1709, "one restore at a time")
    ctx, proc = held("backup.restore", "--only", "backups")
    check(status(token, iid) == "restoring", "restoring")
    check(stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token)).status
          == 204, "deleted meanwhile")
    release(ctx, proc)
    check(row(iid)[:2] == ("deleting", "deleted"), "the restore's end did not revive it",
          row(iid))
    gone_with_its_final(token, iid)


def redis(uri, *args):
    return stack.redis_cli(uri, *args).stdout.strip()


def test_redis_restore_swaps_the_rdb_in_and_survives_a_restart():
    uid, token = user()
    iid, uri = running(token, "bk-redis", "redis-standalone-tiny")
    redis(uri, "SET", "fruit", "lemon")
    redis(uri, "RPUSH", "basket", "a", "b", "c")
    b = backed_up(token, iid)
    redis(uri, "FLUSHDB")
    redis(uri, "SET", "later", "1")
    restored(token, iid, b["id"])
    check(redis(uri, "GET", "fruit") == "lemon", "the key is back")
    check(redis(uri, "LRANGE", "basket", "0", "-1").split() == ["a", "b", "c"], "the list")
    check(redis(uri, "EXISTS", "later") == "0", "what came later is gone")
    # the AOF was written anew from the restored data: a restart keeps it
    r = stack.post("%s/%s/restart" % (API, iid), headers=stack.auth(token))
    check(r.status == 204, "restart", r)
    wait_until(lambda: stack.ctl("jobs", "--only", "reconcile") and
               status(token, iid) == "running" and redis(uri, "GET", "fruit") == "lemon",
               timeout=30, interval=0.3, what="the data after a restart")


def test_last_every_instance_made_here_goes_each_with_its_final_copy():
    clear_made()
    left = stack.psql("SELECT count(*) FROM db_backups WHERE kind = 'final'"
                      " AND state IN ('queued', 'running')")
    check(left == [["0"]], "no final backup left pending", left)
