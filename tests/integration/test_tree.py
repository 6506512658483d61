"""The lemon tree through nginx: quiz -> answer -> click, the race, regrowth,
cooldowns, every error of the game.  The test stack runs with a 2 s
cooldown and a 2 s regrowth delay."""
import concurrent.futures
import os

from dbt import stack, check, check_error, wait_until
from play import answer, clicks_on_a_held_user_row, correct_option, harvest, play, start

STATUS = "/api/lemon/global-status"


def available():
    return stack.get(STATUS).json["availablePositions"]


def regrow_all():
    """Makes every growing lemon due now and runs the jobs."""
    stack.psql("UPDATE lemons SET next_available_at = now() WHERE NOT is_available")
    stack.jobs()
    wait_until(lambda: len(available()) == 10, timeout=5, what="all ten lemons")


def test_a_fresh_tree_has_ten_lemons_each_with_its_own_quiz():
    r = stack.get(STATUS)
    check(r.status == 200 and r.json["availablePositions"] == list(range(10)), "ten lemons", r)
    check("nextRegrowthTime" not in r.json, "nothing growing", r)
    rows = stack.psql("SELECT count(DISTINCT quiz_id), count(*) FILTER (WHERE quiz_id IS NULL)"
                      " FROM lemons")
    check(rows == [["10", "0"]], "ten different quizzes", rows)
    n = int(stack.psql("SELECT count(*) FROM quizzes")[0][0])
    check(n >= 60, "the shipped quiz bank is loaded", n)


def test_quiz_start_sends_no_answer_and_takes_the_lock():
    (uid, token), = stack.make_users(1)
    r = start(token, 3)
    check(r.status == 200, "started", r)
    check(set(r.json) == {"question", "options", "timeLimit", "attemptID"}, "shape", r.json)
    check(3 <= len(r.json["options"]) <= 5 and r.json["timeLimit"] > 0, "options, time", r)
    check_error(start(token, 4), 409, 1600, "a second quiz while one runs")
    rows = stack.psql("SELECT status, harvest_status, lemon_position_id FROM user_quiz_attempts"
                      " WHERE id = :p1", r.json["attemptID"])
    check(rows == [["started", "none", "3"]], "attempt row", rows)


def test_wrong_answer_reveals_the_answer_and_locks_that_lemon():
    (uid, token), = stack.make_users(1)
    r = start(token, 5)
    a = r.json["attemptID"]
    right = correct_option(a)
    wrong = (right + 1) % len(r.json["options"])
    r = answer(token, a, wrong)
    check(r.status == 200 and r.json["isCorrect"] is False, "wrong", r)
    check(r.json["correctOption"] == right and r.json["status"] == "done", "reveals", r)
    check(len(r.json.get("explanation", "")) >= 20, "explains", r)
    check("harvestEnabled" not in r.json, "no harvest", r)
    check_error(start(token, 5), 409, 1607, "same lemon again")
    r = start(token, 6)
    check(r.status == 200, "another lemon is fine", r)
    check_error(harvest(token, 5, a), 409, 1601, "harvest after a wrong answer")


def test_only_right_timely_answers_count_for_todays_quiz_masters():
    (uid, token), = stack.make_users(1)
    today = lambda: stack.psql("SELECT coalesce(sum(n), 0) FROM quiz_daily_correct"  # noqa: E731
                               " WHERE user_id = :'p1'"
                               " AND day = (now() AT TIME ZONE 'UTC')::date", uid)
    a = start(token, 2).json["attemptID"]
    check(answer(token, a, (correct_option(a) + 1) % 3).status == 200, "wrong answer")
    check(today() == [["0"]], "a wrong answer does not count", today())
    a = start(token, 3).json["attemptID"]
    stack.psql("UPDATE user_quiz_attempts SET deadline = now() - interval '1 second'"
               " WHERE id = :p1", a)
    check(answer(token, a, correct_option(a)).json["status"] == "timeout", "late answer")
    check(today() == [["0"]], "a late answer does not count", today())
    play(token, 4)
    check(today() == [["1"]], "a right answer counts once", today())
    check_error(answer(token, a, 0), 409, 1605, "answering again")
    check(today() == [["1"]], "still once", today())


def test_right_answer_then_click_harvests_three_lemons():
    (uid, token), = stack.make_users(1)
    pos = 7
    r = start(token, pos)
    a = r.json["attemptID"]
    r = answer(token, a, correct_option(a))
    check(r.status == 200 and r.json["isCorrect"] and r.json["harvestEnabled"], "right", r)
    check(r.json["harvestTimeoutAt"].endswith("Z"), "window end", r)
    r = harvest(token, pos, a)
    check(r.status == 200, "harvested", r)
    check(r.json["harvestAmount"] == 3 and r.json["newBalance"] == 3, "three lemons", r)
    check(r.json["nextHarvestTime"] == 2 * 10**9, "cooldown in ns (reference shape)", r)
    rows = stack.psql("SELECT action_type, amount, balance, note FROM user_lemon_transactions"
                      " WHERE id = :'p1'", r.json["transactionId"])
    check(rows == [["harvest", "3", "3", "harvested from lemon position 7"]], "ledger row", rows)
    wait_until(lambda: pos not in available(), timeout=3, what="the lemon gone")
    st = stack.get(STATUS).json
    check("nextRegrowthTime" in st, "next regrowth announced", st)
    check_error(harvest(token, pos, a), 409, 1602, "replaying the harvest")
    r = stack.get("/api/lemon/harvestable", headers=stack.auth(token))
    check(r.status == 200 and r.json["canHarvest"] is False and r.json["waitSeconds"] >= 1,
          "cooldown shown", r)
    r = start(token, 1)
    check_error(r, 409, 1500, "cooldown blocks a new quiz")
    check(r.json["data"]["waitSeconds"] >= 1, "wait in data", r)
    regrow_all()


def test_regrowth_brings_the_lemon_back_with_a_new_quiz():
    (_, token), = stack.make_users(1)
    pos = 2
    before = stack.psql("SELECT quiz_id, generation FROM lemons WHERE position_id = 2")[0]
    a = play(token, pos)
    check(harvest(token, pos, a).status == 200, "harvested")
    stack.jobs()
    rows = stack.psql("SELECT is_available FROM lemons WHERE position_id = 2")
    check(rows == [["f"]], "still growing right after", rows)
    # the configured regrowth delay has to pass for real
    wait_until(lambda: stack.jobs() and stack.psql(
        "SELECT is_available FROM lemons WHERE position_id = 2") == [["t"]],
        timeout=10, interval=0.2, what="available again after the regrowth delay")
    after = stack.psql("SELECT quiz_id, generation FROM lemons WHERE position_id = 2")[0]
    check(after[0] != before[0] and int(after[1]) > int(before[1]), "new quiz, new generation",
          (before, after))
    stack.jobs()
    again = stack.psql("SELECT quiz_id, generation FROM lemons WHERE position_id = 2")[0]
    check(again == after[:2], "regrow is idempotent", (after, again))


def test_one_user_clicking_two_lemons_at_once_harvests_once():
    """Two right answers with open windows, both clicks in flight together:
    the cooldown lets only one count, even though both pass the first check
    before either commits (the user row is held so that they do)."""
    regrow_all()
    (uid, token), = stack.make_users(1)
    a, b = play(token, 0), play(token, 1)
    results = clicks_on_a_held_user_row(uid, [lambda: harvest(token, 0, a),
                                              lambda: harvest(token, 1, b)])
    statuses = sorted(r.status for r in results)
    check(statuses == [200, 409], "one harvest, one refusal", results)
    refused = [r for r in results if r.status == 409][0]
    check_error(refused, 409, 1500, "the second click meets the cooldown")
    rows = stack.psql("SELECT lemon_balance, (SELECT count(*) FROM user_lemon_transactions"
                      " WHERE user_id = :'p1' AND action_type = 'harvest') FROM users"
                      " WHERE id = :'p1'", uid)
    check(rows == [["3", "1"]], "three lemons, one ledger row", rows)
    check(len([p for p in (0, 1) if p in available()]) == 1, "the refused lemon still hangs")
    regrow_all()


def test_two_hundred_racers_one_winner():
    regrow_all()
    users = stack.make_users(200, prefix="racer")
    pos = 9
    with concurrent.futures.ThreadPoolExecutor(40) as ex:
        starts = list(ex.map(lambda u: start(u[1], pos), users))
    check(all(r.status == 200 for r in starts), "200 quizzes started",
          [r for r in starts if r.status != 200][:2])
    attempts = [r.json["attemptID"] for r in starts]
    right = correct_option(attempts[0])
    with concurrent.futures.ThreadPoolExecutor(40) as ex:
        answers = list(ex.map(lambda ua: answer(ua[0][1], ua[1], right), zip(users, attempts)))
    check(all(r.status == 200 and r.json.get("harvestEnabled") for r in answers),
          "all 200 answered right in time", [r for r in answers if r.status != 200][:2])
    with concurrent.futures.ThreadPoolExecutor(200) as ex:
        results = list(ex.map(lambda ua: harvest(ua[0][1], pos, ua[1]), zip(users, attempts)))
    statuses = [r.status for r in results]
    check(statuses.count(200) == 1, "exactly one winner", sorted(set(statuses)))
    losers = [r for r in results if r.status != 200]
    check(all(r.json["code"] == 1606 for r in losers), "all others 1606",
          {r.json["code"] for r in losers})
    ids = ",".join("'%s'" % u for u, _ in users)
    rows = stack.psql("SELECT count(*), coalesce(sum(amount), 0) FROM user_lemon_transactions"
                      " WHERE user_id IN (%s)" % ids)
    check(rows == [["1", "3"]], "one ledger row of 3 lemons", rows)
    rows = stack.psql("SELECT harvest_status, count(*) FROM user_quiz_attempts"
                      " WHERE user_id IN (%s) GROUP BY 1 ORDER BY 1" % ids)
    check(rows == [["success", "1"], ["failure", "199"]], "attempts settled", rows)
    wait_until(lambda: stack.jobs() and pos in available(), timeout=10, interval=0.2,
               what="the lemon regrown after the delay")


def test_bad_positions_and_ids():
    (_, token), = stack.make_users(1)
    h = stack.auth(token)
    for p in ("10", "-1", "a", "05", "99999999999999999999"):
        check_error(stack.get("/api/quiz/" + p, headers=h), 400, 1100, "position %r" % p)
    for p in ("1.5", "%20", "3/4"):   # not a path segment of [A-Za-z0-9-]
        check_error(stack.get("/api/quiz/" + p, headers=h), 404, 1103, "position %r" % p)
    check_error(stack.get("/api/quiz/answer", headers=h), 400, 1100, "GET /api/quiz/answer")
    check_error(stack.post("/api/quiz/5", {}, headers=h), 405, 1102, "POST /api/quiz/5")
    for body, code in (({"positionId": 10, "attemptId": 1}, 1100),
                       ({"positionId": -1, "attemptId": 1}, 1100),
                       ({"positionId": "3", "attemptId": 1}, 1100),
                       ({"attemptId": 1}, 1101), ({"positionId": 3}, 1101),
                       ({"positionId": 3, "attemptId": 0}, 1100),
                       ({"positionId": 3, "attemptId": "7"}, 1100)):
        check_error(stack.post("/api/lemon/harvest", body, headers=h), 400, code, repr(body))
    for body, code in (({"attemptID": 1}, 1101), ({"optionIdx": 1}, 1101),
                       ({"attemptID": -4, "optionIdx": 0}, 1100),
                       ({"attemptID": 1, "optionIdx": "0"}, 1100),
                       ({"attemptID": 1, "optionIdx": 1.0}, 1100)):
        check_error(stack.post("/api/quiz/answer", body, headers=h), 400, code, repr(body))
    check_error(stack.get("/api/quiz/1"), 401, 1206, "quiz without a token")
    check_error(stack.get("/api/lemon/harvestable"), 401, 1206, "harvestable without a token")


def test_someone_elses_attempt_and_answering_twice():
    (_, t1), (_, t2) = stack.make_users(2)
    r = start(t1, 0)
    a = r.json["attemptID"]
    check_error(answer(t2, a, 0), 409, 1605, "answering another user's quiz")
    opts = len(r.json["options"])
    check_error(answer(t1, a, opts + 2), 400, 1100, "option out of range")
    r = answer(t1, a, correct_option(a))
    check(r.status == 200, "answered", r)
    check_error(answer(t1, a, 0), 409, 1605, "answering twice")
    check_error(harvest(t2, 0, a), 409, 1601, "harvesting another user's attempt")
    check_error(harvest(t1, 1, a), 409, 1601, "harvesting with the wrong position")


def test_a_late_answer_is_a_timeout_and_a_late_click_is_1604():
    (_, token), = stack.make_users(1)
    r = start(token, 4)
    a = r.json["attemptID"]
    stack.psql("UPDATE user_quiz_attempts SET deadline = now() - interval '1 second'"
               " WHERE id = :p1", a)
    r = answer(token, a, correct_option(a))
    check(r.status == 200 and r.json["status"] == "timeout", "timeout", r)
    check("harvestEnabled" not in r.json, "no harvest when late", r)
    (_, token2), = stack.make_users(1)
    a = play(token2, 4)
    stack.psql("UPDATE user_quiz_attempts SET harvest_deadline = now() - interval '10 ms'"
               " WHERE id = :p1", a)
    check_error(harvest(token2, 4, a), 409, 1604, "click after the window")
    rows = stack.psql("SELECT harvest_status FROM user_quiz_attempts WHERE id = :p1", a)
    check(rows == [["harvest_timeout"]], "recorded", rows)
    check(4 in available() or wait_until(lambda: 4 in available(), timeout=3),
          "the lemon is still there for others")


def test_sweep_closes_abandoned_attempts_and_frees_the_lock():
    (_, token), (_, token2) = stack.make_users(2)
    a = start(token, 8).json["attemptID"]
    b = play(token2, 8)
    stack.psql("UPDATE user_quiz_attempts SET deadline = now() - interval '1 minute'"
               " WHERE id = :p1", a)
    stack.psql("UPDATE user_quiz_attempts SET harvest_deadline = now() - interval '1 minute'"
               " WHERE id = :p1", b)
    stack.jobs()
    rows = stack.psql("SELECT id, status, harvest_status FROM user_quiz_attempts"
                      " WHERE id IN (:p1, :p2) ORDER BY id", a, b)
    check(rows == [[str(a), "timeout", "none"], [str(b), "done", "harvest_timeout"]],
          "both closed", rows)
    check(start(token, 1).status == 200, "the lock is gone: a new quiz starts")


def test_sweep_takes_a_backlog_in_batches():
    (uid, _), = stack.make_users(1)
    # 25,000 unclicked right answers past their window: more than one batch
    # of the sweep (10,000), as after hours without a jobs pass
    stack.psql("INSERT INTO user_quiz_attempts (user_id, quiz_id, lemon_position_id,"
               " lemon_generation, deadline, is_correct, selected_option, submit_time,"
               " status, harvest_status, harvest_deadline)"
               " SELECT :'p1'::uuid, l.quiz_id, l.position_id, 0, now() - interval '1 hour',"
               " false, 0, now() - interval '1 hour', 'done', 'in_progress',"
               " now() - interval '1 hour'"
               " FROM generate_series(1, 25000) g JOIN lemons l ON l.position_id = g % 10",
               uid)

    def left():
        return int(stack.psql("SELECT count(*) FROM user_quiz_attempts"
                              " WHERE user_id = :'p1' AND harvest_status = 'in_progress'",
                              uid)[0][0])
    with stack.rows_per_statement("user_quiz_attempts", "UPDATE") as updates:
        passes = 0
        while left() and passes < 10:
            stack.ctl("jobs", "--only", "sweep")
            passes += 1
        check(left() == 0, "the backlog is gone within a few passes", (left(), passes))
        check(max(updates()) == 10000 and sum(updates()) >= 25000,
              "closed 10,000 a statement at most", updates())
    rows = stack.psql("SELECT count(*) FROM user_quiz_attempts WHERE user_id = :'p1'"
                      " AND harvest_status = 'harvest_timeout'", uid)
    check(rows == [["25000"]], "every one closed as harvest_timeout", rows)


def test_storage_full_caps_the_harvest():
    (uid, token), = stack.make_users(1)
    stack.grant(uid, 499)
    regrow_all()
    a = play(token, 6)
    r = harvest(token, 6, a)
    check(r.status == 200 and r.json["harvestAmount"] == 1 and r.json["newBalance"] == 500,
          "capped at 500", r)
    wait_until(lambda: stack.get("/api/lemon/harvestable",
                                 headers=stack.auth(token)).json["canHarvest"],
               timeout=10, interval=0.2, what="the cooldown over")
    regrow_all()
    a = play(token, 5 if 5 in available() else available()[0])
    pos = int(stack.psql("SELECT lemon_position_id FROM user_quiz_attempts WHERE id = :p1", a)[0][0])
    check_error(harvest(token, pos, a), 409, 1501, "full at 500")
    check(pos in available() or wait_until(lambda: pos in available(), timeout=3),
          "the lemon stays for others")
