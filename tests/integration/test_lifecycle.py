"""Every pair of writers that can touch one instance row, run in both orders
on purpose: a pause point (lib/base/pause.h) holds one writer either just
before its guarded statement or just after it (inside its transaction, the
row locked) while the test runs the other.  After each: a deleted instance
stays deleted and its process is gone, the quota holds, the port is
released, the ledger invariant holds (the runner checks it after every
test) and no instance is charged twice for a period.

The jobs run one at a time here (`--only`), so billing never runs by
accident while the test reconciles."""
import concurrent.futures
import os
import subprocess

from dbt import stack, check, check_error, wait_until

API = "/api/db/instances"
POOL = concurrent.futures.ThreadPoolExecutor(4)


def user(lemons):
    (uid, token), = stack.make_users(1, prefix="lc")
    if lemons:
        stack.grant(uid, lemons)
    return uid, token


def create(token, name="lc-db"):
    r = stack.post(API, {"name": name, "presetId": "redis-standalone-tiny"},
                   headers=stack.auth(token))
    check(r.status == 202, "created", r)
    return r.json["id"], r.json["credentials"]["externalUri"], \
        r.json["credentials"]["externalPort"]


def delete(token, iid):
    return stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token))


def act(token, iid, action):
    return stack.post("%s/%s/%s" % (API, iid, action), headers=stack.auth(token))


def row(iid):
    """(status, desired, deleted, destroyed) of the instance's row."""
    r = stack.psql("SELECT status, desired, deleted_at IS NOT NULL, destroyed_at IS NOT NULL"
                   " FROM db_instances WHERE external_id = :'p1'", iid)[0]
    return r[0], r[1], r[2] == "t", r[3] == "t"


def job(name):
    stack.ctl("jobs", "--only", name)
    return True


def reconcile_until(iid, status, desired=None):
    return wait_until(lambda: job("reconcile") and row(iid)[0] == status and
                      (desired is None or row(iid)[1] == desired),
                      timeout=40, interval=0.1, what="status %s" % status)


def answers(uri):
    return stack.redis_cli(uri, "PING").stdout.strip() == "PONG"


def balance(uid):
    return int(stack.psql("SELECT lemon_balance FROM users WHERE id = :'p1'", uid)[0][0])


def charges(iid):
    """(ledger charges, billed periods) of the instance: always equal."""
    r = stack.psql("SELECT (SELECT count(*) FROM user_lemon_transactions t"
                   "  WHERE t.db_instance_id = i.id AND t.action_type = 'instance_maintain'),"
                   " (SELECT count(*) FROM db_instance_billing b WHERE b.instance_id = i.id)"
                   " FROM db_instances i WHERE i.external_id = :'p1'", iid)[0]
    return int(r[0]), int(r[1])


def live(uid):
    return int(stack.psql("SELECT count(*) FROM db_instances WHERE user_id = :'p1'"
                          " AND deleted_at IS NULL", uid)[0][0])


def running_instance(lemons=100, name="lc-db"):
    uid, token = user(lemons)
    iid, uri, port = create(token, name)
    reconcile_until(iid, "running")
    check(answers(uri), "it answers once running")
    return uid, token, iid, uri, port


def check_gone(iid, uri, port):
    """The deleted instance is removed where it ran, once."""
    wait_until(lambda: job("backups") and job("reconcile") and row(iid)[3], timeout=30,
               what="destroyed (after its final backup)")
    st = row(iid)
    check(st[:3] == ("deleting", "deleted", True), "stays deleted", st)
    check(stack.psql("SELECT count(*) FROM port_allocations WHERE port = :p1", port) == [["0"]],
          "port released")
    check(not answers(uri), "nothing answers")
    check(not os.path.exists(os.path.join(stack.env["DBTREE_INSTANCE_DIR"], iid)),
          "its files are gone")
    ch, periods = charges(iid)
    check(ch == periods, "one charge per billed period", (ch, periods))


def held(point, *job_args):
    """Starts dbtreectl jobs in the background, held at point: (pause
    context, its process)."""
    ctx = stack.pause(point)
    p = ctx.__enter__()
    proc = stack.ctl_bg("jobs", *job_args)
    p.wait_reached()
    return ctx, proc


def release(ctx, proc):
    ctx.__exit__(None, None, None)
    check(proc.wait(timeout=60) == 0, "the jobs run ended well")


def blocked(fut):
    """The request in fut waits for a row lock the held writer has."""
    wait_until(lambda: stack.lock_waiters() >= 1, timeout=10, what="a lock wait")
    check(not fut.done(), "the other writer waits for the row lock")


def while_held(point, job_name, fn, *args):
    """Runs fn(*args) in a thread while a `jobs --only job_name` run is held
    at point inside its transaction; checks that fn waits for the row lock,
    lets the job finish, and returns what fn returned."""
    ctx, proc = held(point, "--only", job_name)
    fut = POOL.submit(fn, *args)
    blocked(fut)
    release(ctx, proc)
    return fut.result(timeout=30)


# -- delete x billing charge ----------------------------------------------

def test_delete_before_the_charge_statement_is_never_charged():
    uid, token, iid, uri, port = running_instance()
    before = balance(uid)
    ctx, proc = held("lc.charge.before", "--only", "bill")
    check(delete(token, iid).status == 204, "deleted while billing is on it")
    release(ctx, proc)
    check(balance(uid) == before and charges(iid) == (0, 0), "not charged",
          (balance(uid), charges(iid)))
    check(row(iid)[1] == "deleted", "still deleted", row(iid))
    check_gone(iid, uri, port)


def test_delete_after_the_charge_waits_and_wins():
    uid, token, iid, uri, port = running_instance()
    before = balance(uid)
    check(while_held("lc.charge.after", "bill", delete, token, iid).status == 204,
          "the delete waits for the charge, then goes through")
    check(balance(uid) == before - 1 and charges(iid) == (1, 1), "charged once",
          (balance(uid), charges(iid)))
    job("bill")
    check(charges(iid) == (1, 1), "a deleted instance is not charged again", charges(iid))
    check_gone(iid, uri, port)


# -- delete x a batch of charges (one statement for many instances) --------

def email_of(uid):
    return stack.psql("SELECT email FROM users WHERE id = :'p1'", uid)[0][0]


def test_delete_before_the_batch_statement_spares_only_that_instance():
    ua, ta, ia, uria, pa = running_instance(name="batch-a")
    ub, tb, ib, urib, pb = running_instance(name="batch-b")
    before_a, before_b = balance(ua), balance(ub)
    ctx, proc = held("lc.charge.before", "--only", "bill")
    check(delete(ta, ia).status == 204, "one deleted before the batch locks both")
    release(ctx, proc)
    check(charges(ia) == (0, 0) and balance(ua) == before_a,
          "the deleted one is not charged", (charges(ia), balance(ua)))
    check(charges(ib) == (1, 1) and balance(ub) == before_b - 1,
          "the other is, in the same pass", (charges(ib), balance(ub)))
    check(row(ia)[1] == "deleted", "still deleted", row(ia))
    delete(tb, ib)
    check_gone(ia, uria, pa)
    check_gone(ib, urib, pb)


def test_delete_while_the_batch_holds_the_rows_waits_then_wins():
    ua, ta, ia, uria, pa = running_instance(name="batch-a")
    ub, tb, ib, urib, pb = running_instance(name="batch-b")
    before_a, before_b = balance(ua), balance(ub)
    check(while_held("lc.charge.after", "bill", delete, ta, ia).status == 204,
          "the delete waits for the batch to commit, then goes through")
    check(charges(ia) == (1, 1) and balance(ua) == before_a - 1,
          "charged once, before the delete", (charges(ia), balance(ua)))
    check(charges(ib) == (1, 1) and balance(ub) == before_b - 1,
          "the other charged by the same batch", (charges(ib), balance(ub)))
    check(row(ia)[1] == "deleted", "the delete won", row(ia))
    job("bill")     # (the period may have turned: b may be charged again)
    check(charges(ia) == (1, 1), "a deleted instance is not charged again", charges(ia))
    ch, periods = charges(ib)
    check(ch == periods >= 1, "one charge per billed period", (ch, periods))
    delete(tb, ib)
    check_gone(ia, uria, pa)
    check_gone(ib, urib, pb)


def test_a_batch_that_fails_is_charged_row_by_row_in_the_same_pass():
    """The batch's connection is lost while it holds its rows (a deadlock
    or a restart would end it the same way): the pass charges every
    instance of the batch one by one instead, each once."""
    ua, ta, ia, uria, pa = running_instance(name="batch-a")
    ub, tb, ib, urib, pb = running_instance(name="batch-b")
    before_a, before_b = balance(ua), balance(ub)
    ctx, proc = held("lc.charge.after", "--only", "bill")
    ended = stack.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                       " WHERE application_name = 'dbtree' AND state = 'idle in transaction'")
    check(ended == [["1"]], "the batch's connection ended", ended)
    release(ctx, proc)
    check(charges(ia) == (1, 1) and balance(ua) == before_a - 1,
          "charged once, one by one", (charges(ia), balance(ua)))
    check(charges(ib) == (1, 1) and balance(ub) == before_b - 1,
          "the other too", (charges(ib), balance(ub)))
    check(not stack.ledger_violations(), "balance = sum of the ledger")
    for t, i in ((ta, ia), (tb, ib)):
        delete(t, i)
    check_gone(ia, uria, pa)
    check_gone(ib, urib, pb)


def test_an_owner_short_for_the_batch_pays_one_and_the_other_pauses():
    uid, token = user(11)       # 2 x 5 to create: one lemon, one period
    made = [create(token, "short-%d" % k) for k in (1, 2)]
    for iid, _, _ in made:
        reconcile_until(iid, "running")
    job("bill")
    got = sorted(charges(iid) for iid, _, _ in made)
    check(got == [(0, 0), (1, 1)], "one charged, one not", got)
    check(balance(uid) == 0, "never below zero", balance(uid))
    check(sorted(row(iid)[1] for iid, _, _ in made) == ["paused", "running"],
          "the one not charged is paused", [row(iid) for iid, _, _ in made])
    check(stack.psql("SELECT count(*) FROM mail_outbox WHERE recipient = :'p1'"
                     " AND kind = 'instance_paused'", email_of(uid)) == [["1"]],
          "one pause mail")
    for iid, _, _ in made:
        delete(token, iid)
    for iid, uri, port in made:
        check_gone(iid, uri, port)


# -- delete x billing resume ----------------------------------------------

def paused_instance(name="lc-db"):
    """An instance paused by billing: its owner had just the creation cost."""
    uid, token = user(5)
    iid, uri, port = create(token, name)
    reconcile_until(iid, "running")
    job("bill")
    check(row(iid)[1] == "paused", "billing paused it", row(iid))
    reconcile_until(iid, "paused")
    check(not answers(uri), "a paused instance does not answer")
    stack.grant(uid, 10)
    return uid, token, iid, uri, port


def test_delete_before_the_resume_statement_stays_deleted():
    uid, token, iid, uri, port = paused_instance()
    ctx, proc = held("lc.resume.before", "--only", "bill")
    check(delete(token, iid).status == 204, "deleted while billing resumes it")
    release(ctx, proc)
    check(row(iid)[:3] == ("deleting", "deleted", True), "not revived", row(iid))
    check(balance(uid) == 10, "not charged", balance(uid))
    check_gone(iid, uri, port)


def test_delete_after_the_resume_waits_and_wins():
    uid, token, iid, uri, port = paused_instance()
    check(while_held("lc.resume.after", "bill", delete, token, iid).status == 204,
          "deleted after the resume")
    check(balance(uid) == 9 and charges(iid) == (1, 1), "the resume charged once",
          (balance(uid), charges(iid)))
    job("bill")
    check(row(iid)[1] == "deleted", "billing does not revive it", row(iid))
    check_gone(iid, uri, port)


# -- create x resume (the quota) ------------------------------------------

def test_resume_cannot_revive_a_deleted_instance_past_the_quota():
    uid, token, iid, uri, port = paused_instance("first")
    other, _, _ = create(token, "second")
    ctx, proc = held("lc.resume.before", "--only", "bill")
    check(delete(token, iid).status == 204, "the paused one deleted")
    third, _, _ = create(token, "third")
    release(ctx, proc)
    check(live(uid) == 2, "the quota of 2 holds", live(uid))
    check(row(iid)[1] == "deleted", "the deleted one stays deleted", row(iid))
    for i in (other, third):
        delete(token, i)
    check_gone(iid, uri, port)


def test_create_during_a_resume_in_flight_sees_the_quota():
    uid, token, iid, uri, port = paused_instance("first")
    other, _, _ = create(token, "second")
    ctx, proc = held("lc.resume.after", "--only", "bill")
    fut = POOL.submit(delete, token, iid)
    blocked(fut)
    check_error(stack.post(API, {"name": "third", "presetId": "redis-standalone-tiny"},
                           headers=stack.auth(token)), 409, 1805,
                "two live instances until the delete commits")
    release(ctx, proc)
    check(fut.result(timeout=30).status == 204, "deleted after the resume")
    stack.grant(uid, 10)    # the resume charged its hour
    third, _, _ = create(token, "third")
    check(live(uid) == 2, "the quota of 2 holds", live(uid))
    for i in (other, third):
        delete(token, i)
    check_gone(iid, uri, port)


# -- delete x reconcile error ---------------------------------------------

def broken_instance():
    """A running instance whose process and data are gone: the next
    reconcile pass finds it failed."""
    uid, token, iid, uri, port = running_instance()
    idir = os.path.join(stack.env["DBTREE_INSTANCE_DIR"], iid)
    pid = int(open(os.path.join(idir, "redis.pid")).read().split()[0])
    os.kill(pid, 9)
    wait_until(lambda: not os.path.exists("/proc/%d" % pid) or
               open("/proc/%d/stat" % pid).read().split()[2] == "Z", what="the server gone")
    subprocess.run(["rm", "-rf", os.path.join(idir, "data")], check=True)
    return uid, token, iid, uri, port


def test_delete_before_the_error_is_recorded_is_not_overwritten():
    uid, token, iid, uri, port = broken_instance()
    ctx, proc = held("lc.seen_failed.before", "--only", "reconcile")
    check(delete(token, iid).status == 204, "deleted while the reconciler fails it")
    release(ctx, proc)
    check(row(iid)[:3] == ("deleting", "deleted", True), "error did not overwrite deleting",
          row(iid))
    check_gone(iid, uri, port)


def test_delete_after_the_error_waits_and_wins():
    uid, token, iid, uri, port = broken_instance()
    check(while_held("lc.seen_failed.after", "reconcile", delete, token, iid).status == 204,
          "an instance in error can be deleted")
    check_gone(iid, uri, port)


# -- stop x reconcile start -----------------------------------------------

def stopped_instance():
    uid, token, iid, uri, port = running_instance()
    check(act(token, iid, "stop").status == 204, "stop")
    reconcile_until(iid, "stopped")
    check(not answers(uri), "stopped means it does not answer")
    return uid, token, iid, uri, port


def test_stop_while_the_reconciler_starts_it_ends_stopped():
    uid, token, iid, uri, port = stopped_instance()
    check(act(token, iid, "start").status == 204, "start")
    ctx, proc = held("reconcile.start", "--only", "reconcile")
    check(act(token, iid, "stop").status == 204, "stop again before it is up")
    release(ctx, proc)
    check(not answers(uri), "the reconciler did not start it after the stop")
    check(row(iid)[:2] == ("stopped", "stopped"), "never reported running", row(iid))
    reconcile_until(iid, "stopped", "stopped")
    job("reconcile")
    check(not answers(uri), "and it does not run")
    delete(token, iid)
    check_gone(iid, uri, port)


def test_reconciler_start_before_a_held_stop_then_stops_it():
    uid, token, iid, uri, port = stopped_instance()
    check(act(token, iid, "start").status == 204, "start")
    with stack.pause("lc.stop.before") as p:
        fut = POOL.submit(act, token, iid, "stop")
        p.wait_reached()
        reconcile_until(iid, "running")
        check(answers(uri), "running means it answers")
    check(fut.result(timeout=30).status == 204, "the stop goes through")
    reconcile_until(iid, "stopped", "stopped")
    check(not answers(uri), "stopped: no answer")
    delete(token, iid)
    check_gone(iid, uri, port)


# -- delete x reconcile start ---------------------------------------------

def test_delete_while_the_reconciler_starts_it_never_runs():
    uid, token, iid, uri, port = stopped_instance()
    check(act(token, iid, "start").status == 204, "start")
    ctx, proc = held("reconcile.start", "--only", "reconcile")
    check(delete(token, iid).status == 204, "deleted before the start")
    release(ctx, proc)
    check(not answers(uri), "a deleted instance is not started")
    check_gone(iid, uri, port)


def test_reconciler_start_before_a_held_delete_then_removes_it():
    uid, token, iid, uri, port = stopped_instance()
    check(act(token, iid, "start").status == 204, "start")
    with stack.pause("lc.delete.before") as p:
        fut = POOL.submit(delete, token, iid)
        p.wait_reached()
        reconcile_until(iid, "running")
    check(fut.result(timeout=30).status == 204, "the delete goes through")
    check_gone(iid, uri, port)


# -- start x billing pause -----------------------------------------------

def test_start_during_a_pause_in_flight_then_after_it():
    uid, token = user(5)
    iid, uri, port = create(token)
    reconcile_until(iid, "running")
    ctx, proc = held("lc.pause.after", "--only", "bill")
    stack.grant(uid, 10)
    r = act(token, iid, "start")
    check_error(r, 409, 1700, "until the pause commits the instance is running")
    check(r.json["data"]["current"] == "running", "and says so", r)
    release(ctx, proc)
    check(row(iid)[1] == "paused", "paused", row(iid))
    check(act(token, iid, "start").status == 204, "start after the pause committed")
    check(row(iid)[1] == "running", "the person's start wins", row(iid))
    reconcile_until(iid, "running", "running")
    job("bill")
    check(charges(iid) == (1, 1) and balance(uid) == 9, "charged once after the start",
          (charges(iid), balance(uid)))
    delete(token, iid)
    check_gone(iid, uri, port)


def test_billing_never_pauses_or_charges_a_stop_in_flight():
    uid, token = user(5)
    iid, uri, port = create(token)
    reconcile_until(iid, "running")
    ctx, proc = held("lc.pause.before", "--only", "bill")
    check(act(token, iid, "stop").status == 204, "stopped while billing pauses it")
    release(ctx, proc)
    check(row(iid)[1] == "stopped", "the pause did not overwrite the stop", row(iid))
    check(charges(iid) == (0, 0), "not charged", charges(iid))
    email = stack.psql("SELECT email FROM users WHERE id = :'p1'", uid)[0][0]
    check(stack.psql("SELECT count(*) FROM mail_outbox WHERE recipient = :'p1'"
                     " AND kind = 'instance_paused'", email) == [["0"]], "no pause mail")
    reconcile_until(iid, "stopped", "stopped")
    delete(token, iid)
    check_gone(iid, uri, port)


# -- credentials reset x reset --------------------------------------------

def test_one_credentials_reset_at_a_time():
    uid, token, iid, uri, port = running_instance()
    path = "%s/%s/credentials" % (API, iid)
    with stack.pause("credentials.store") as p:
        first = POOL.submit(stack.post, path, headers=stack.auth(token))
        p.wait_reached()
        check_error(stack.post(path, headers=stack.auth(token)), 409, 1705,
                    "a second reset while one is in flight")
    r = first.result(timeout=30)
    check(r.status == 200, "the first reset", r)
    check(answers(r.json["externalUri"]), "the password it returned works")
    check(not answers(uri), "the old one does not")
    again = stack.post(path, headers=stack.auth(token))
    check(again.status == 200 and answers(again.json["externalUri"]) and
          not answers(r.json["externalUri"]), "the next reset works and wins", again)
    with concurrent.futures.ThreadPoolExecutor(6) as ex:   # within 10 an hour
        rs = list(ex.map(lambda _: stack.post(path, headers=stack.auth(token)), range(6)))
    ok = [x for x in rs if x.status == 200]
    check(ok and all(x.status in (200, 409) for x in rs), "200s and 409s only",
          [x.status for x in rs])
    check(answers(ok[-1].json["externalUri"]) or len(ok) > 1, "a returned password works")
    check(sum(answers(x.json["externalUri"]) for x in ok) == 1,
          "exactly one of the returned passwords works", [x.status for x in rs])
    delete(token, iid)
    check_gone(iid, uri, port)


# -- account deletion x create --------------------------------------------

def test_account_deletion_after_a_create_in_flight_deletes_it_too():
    uid, token = user(100)
    with stack.pause("create.checked") as p:
        fut = POOL.submit(stack.post, API, {"name": "late", "presetId": "redis-standalone-tiny"},
                          headers=stack.auth(token))
        p.wait_reached()
        gone = POOL.submit(stack.request, "DELETE", "/api/user", headers=stack.auth(token))
        blocked(gone)
    r = fut.result(timeout=30)
    check(r.status == 202, "the create that held the account first", r)
    check(gone.result(timeout=30).status == 204, "then the account is deleted")
    check(live(uid) == 0, "and its new instance with it", live(uid))
    check_gone(r.json["id"], r.json["credentials"]["externalUri"],
               r.json["credentials"]["externalPort"])


def test_create_after_the_account_deletion_holds_the_row_is_refused():
    uid, token = user(100)
    with stack.pause("lc.account_delete.after") as p:
        gone = POOL.submit(stack.request, "DELETE", "/api/user", headers=stack.auth(token))
        p.wait_reached()
        fut = POOL.submit(stack.post, API, {"name": "late", "presetId": "redis-standalone-tiny"},
                          headers=stack.auth(token))
        blocked(fut)
    check(gone.result(timeout=30).status == 204, "the account is deleted")
    check_error(fut.result(timeout=30), 401, 1206, "a create for a deleted account")
    check(stack.psql("SELECT count(*) FROM db_instances WHERE user_id = :'p1'", uid) == [["0"]],
          "nothing was made")


# -- two jobs hosts x one pass --------------------------------------------

def test_two_jobs_hosts_bill_once():
    uid, token, iid, uri, port = running_instance()
    ctx, proc = held("lc.charge.after", "--only", "bill")
    second = stack.ctl("jobs", "--only", "bill")    # another host's timer
    check(second.returncode == 0, "the second host's pass ends at once")
    release(ctx, proc)
    check(charges(iid) == (1, 1), "charged once", charges(iid))
    delete(token, iid)
    check_gone(iid, uri, port)


def test_two_jobs_hosts_report_ready_once():
    uid, token = user(100)
    iid, uri, port = create(token)
    email = stack.psql("SELECT email FROM users WHERE id = :'p1'", uid)[0][0]
    wait_until(lambda: job("reconcile") and answers(uri), timeout=30, what="it answers")
    ctx, proc = held("lc.seen_ready.after", "--only", "reconcile")
    job("reconcile")    # another host: the pass is taken, it skips
    release(ctx, proc)
    check(row(iid)[0] == "running", "running", row(iid))
    check(stack.psql("SELECT count(*) FROM mail_outbox WHERE recipient = :'p1'"
                     " AND kind = 'instance_ready'", email) == [["1"]], "one ready mail")
    delete(token, iid)
    check_gone(iid, uri, port)


# -- what a client sees -------------------------------------------------

def test_status_is_what_was_observed_and_desired_what_was_asked():
    uid, token = user(100)
    iid, uri, port = create(token)
    r = stack.get("%s/%s" % (API, iid), headers=stack.auth(token)).json
    check((r["status"], r["desiredStatus"]) == ("provisioning", "running"), "new", r)
    check(r["resources"]["cpu"] == 0.1 and '"cpu":0.1,' in
          stack.get("%s/%s" % (API, iid), headers=stack.auth(token)).text, "cpu prints as 0.1")
    reconcile_until(iid, "running")
    check(answers(uri), "running: a client can connect now")
    check(act(token, iid, "stop").status == 204, "stop")
    r = stack.get("%s/%s" % (API, iid), headers=stack.auth(token)).json
    check((r["status"], r["desiredStatus"]) == ("running", "stopped"),
          "still running until the driver stopped it", r)
    check(answers(uri), "and it does still answer")
    reconcile_until(iid, "stopped")
    check(not answers(uri), "stopped: it does not answer")
    check(act(token, iid, "start").status == 204, "start")
    r = stack.get("%s/%s" % (API, iid), headers=stack.auth(token)).json
    check((r["status"], r["desiredStatus"]) == ("stopped", "running"), "starting", r)
    reconcile_until(iid, "running")
    check(answers(uri), "running only once it answers")
    res = stack.get("/api/system/resources", headers=stack.auth(token)).json
    check([i["instanceId"] for i in res["instances"]] == [iid], "my instances in resources", res)
    check(stack.get("/api/system/resources").json["instances"] == [], "nobody's without a login")
    delete(token, iid)
    check_gone(iid, uri, port)


def test_a_taken_port_is_burned_and_replaced():
    import socket
    uid, token = user(100)
    iid, uri, port = create(token)
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", port))
    squatter.listen(1)
    try:
        r = reconcile_until(iid, "running")
    finally:
        squatter.close()
    new = int(stack.psql("SELECT port FROM db_instances WHERE external_id = :'p1'", iid)[0][0])
    check(new != port, "moved to another port", (port, new))
    check(stack.psql("SELECT count(*) FROM burned_ports WHERE port = :p1", port) == [["1"]],
          "the taken port is burned")
    r = stack.get("%s/%s" % (API, iid), headers=stack.auth(token)).json
    check(r["externalPort"] == new and r["status"] == "running", "the API shows the new port", r)
    delete(token, iid)
    check_gone(iid, uri.replace(":%d" % port, ":%d" % new), new)
