"""The game around the harvest through nginx: daily streaks over simulated
days, the golden lemon, achievements.  Days are moved with the game clock
offset (the file clock-offset in the stack's pause directory, read by
lib/domain/gameday.c), never the system clock; every test that moves it
puts it back.  The stack runs with DBTREE_GOLDEN_PER_DAY=0: these tests run
the regrow job with 1 when they want a golden lemon."""
import concurrent.futures
import contextlib
import os
import subprocess
import time

from dbt import stack, check, check_error, wait_until
from play import answer, clicks_on_a_held_user_row, correct_option, harvest, play, start

STATUS = "/api/lemon/global-status"
DAY = 86400
POOL = concurrent.futures.ThreadPoolExecutor(4)
KEYS = ["first_harvest", "harvests_10", "harvests_100", "streak_3", "streak_7",
        "all_categories", "golden_lemon", "first_database", "database_week"]


# -- the game clock ---------------------------------------------------------

def set_offset(seconds):
    path = os.path.join(stack.env["DBTREE_TEST_PAUSE_DIR"], "clock-offset")
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % seconds)
    os.chmod(path + ".tmp", 0o644)
    os.replace(path + ".tmp", path)


@contextlib.contextmanager
def game_clock():
    """Yields on_day(n): the game clock n days ahead; back to 0 after."""
    try:
        yield lambda n: set_offset(n * DAY)
    finally:
        set_offset(0)


def game_today(days):
    return stack.psql("SELECT ((now() + make_interval(days => :p1))"
                      " AT TIME ZONE 'UTC')::date", days)[0][0]


# -- playing ---------------------------------------------------------------

def status():
    return stack.get(STATUS).json


def golden_db():
    """The golden position as the database has it, or None."""
    rows = stack.psql("SELECT position_id FROM lemons"
                      " WHERE is_available AND golden_generation = generation")
    return int(rows[0][0]) if rows else None


def regrow(golden=0):
    """Every growing lemon due now, and one pass of the regrow job (with
    golden lemons on or off); returns global-status once it shows what the
    database has (the pools cache it for a second)."""
    stack.psql("UPDATE lemons SET next_available_at = now() WHERE NOT is_available")
    stack.ctl("jobs", "--only", "regrow",
              extra_env={"DBTREE_GOLDEN_PER_DAY": str(golden)})
    return fresh_status()


def fresh_status():
    pos = golden_db()
    return wait_until(lambda: (lambda st: st if st.get("goldenPosition") == pos
                               and len(st["availablePositions"]) == 10 else None)(status()),
                      timeout=5, what="global-status up to date")


def plain_lemon():
    """A hanging lemon that is not golden."""
    st = regrow()
    free = [p for p in st["availablePositions"] if p != st.get("goldenPosition")]
    check(free, "a plain lemon hangs", st)
    return free[0]


def harvest_once(token, uid):
    """One harvest now (the cooldown is not what these tests are about:
    the user's last harvest is forgotten first); returns the answer."""
    stack.psql("UPDATE users SET last_harvest_at = NULL WHERE id = :'p1'", uid)
    pos = plain_lemon()
    r = harvest(token, pos, play(token, pos))
    check(r.status == 200, "harvested", r)
    return r.json


def profile(token):
    r = stack.get("/api/user", headers=stack.auth(token))
    check(r.status == 200, "profile", r)
    return r.json


def ledger(uid, action):
    return stack.psql("SELECT amount, balance, note FROM user_lemon_transactions"
                      " WHERE user_id = :'p1' AND action_type = :'p2' ORDER BY created_at",
                      uid, action)


def achievements(token):
    r = stack.get("/api/user/achievements", headers=stack.auth(token))
    check(r.status == 200 and isinstance(r.json, list), "achievements", r)
    return {a["key"]: a for a in r.json}


# -- streaks ---------------------------------------------------------------

def test_streak_extends_day_by_day_pays_at_three_and_resets_after_a_gap():
    (uid, token), = stack.make_users(1)
    check(profile(token)["streak"] == {"current": 0, "best": 0, "nextMilestone": 3},
          "no streak yet", profile(token))
    with game_clock() as on_day:
        on_day(0)
        h = harvest_once(token, uid)
        check(h["streak"] == {"current": 1, "best": 1, "nextMilestone": 3}, "day one", h)
        check(h["streakBonus"] is None, "no bonus on day one", h)
        h = harvest_once(token, uid)
        check(h["streak"]["current"] == 1, "a second harvest the same day keeps it", h)
        on_day(1)
        check(profile(token)["streak"]["current"] == 1, "yesterday's streak still counts")
        check(harvest_once(token, uid)["streak"]["current"] == 2, "day two")
        on_day(2)
        h = harvest_once(token, uid)
        check(h["streak"] == {"current": 3, "best": 3, "nextMilestone": 7}, "day three", h)
        check(h["streakBonus"] == {"days": 3, "lemons": 2}, "the 3-day bonus", h)
        check(h["balanceAfterBonuses"] == h["newBalance"] + 2, "balance after it", h)
        check(ledger(uid, "streak_bonus") == [["2", str(h["newBalance"] + 2), "3-day streak"]],
              "booked through the ledger", ledger(uid, "streak_bonus"))
        h = harvest_once(token, uid)
        check(h["streakBonus"] is None, "the same day does not pay again", h)
        on_day(4)
        check(profile(token)["streak"] == {"current": 0, "best": 3, "nextMilestone": 3},
              "a missed day resets what is shown, the best stays", profile(token))
        h = harvest_once(token, uid)
        check(h["streak"] == {"current": 1, "best": 3, "nextMilestone": 3}, "a new streak", h)
        for day in (5, 6):
            on_day(day)
            h = harvest_once(token, uid)
        check(h["streak"]["current"] == 3 and h["streakBonus"] == {"days": 3, "lemons": 2},
              "a new streak reaching 3 pays again", h)
    check(len(ledger(uid, "streak_bonus")) == 2, "two bonuses in all", ledger(uid, "streak_bonus"))
    rows = stack.psql("SELECT count(*) FROM streak_milestones WHERE user_id = :'p1'", uid)
    check(rows == [["2"]], "two milestones, one per streak", rows)


def test_the_same_streak_can_never_record_a_milestone_twice_in_sql():
    (uid, token), = stack.make_users(1)
    stack.psql("INSERT INTO streak_milestones (user_id, streak_start, days)"
               " VALUES (:'p1', '2026-01-01', 3)", uid)
    try:
        stack.psql("INSERT INTO streak_milestones (user_id, streak_start, days)"
                   " VALUES (:'p1', '2026-01-01', 3)", uid)
    except AssertionError as e:
        check("duplicate key" in str(e), "refused by the key", e)
    else:
        check(False, "a second milestone row for one streak was accepted")


def test_a_milestone_is_paid_once_when_two_harvests_race():
    """Two right answers of one user clicked together on day three, both
    held on the user row: one harvest counts, one bonus is booked."""
    (uid, token), = stack.make_users(1)
    with game_clock() as on_day:
        for day in (0, 1):
            on_day(day)
            harvest_once(token, uid)
        on_day(2)
        stack.psql("UPDATE users SET last_harvest_at = NULL WHERE id = :'p1'", uid)
        st = regrow()
        a_pos, b_pos = st["availablePositions"][:2]
        a, b = play(token, a_pos), play(token, b_pos)
        results = clicks_on_a_held_user_row(uid, [lambda: harvest(token, a_pos, a),
                                                  lambda: harvest(token, b_pos, b)])
    check(sorted(r.status for r in results) == [200, 409], "one harvest, one refusal", results)
    won = [r for r in results if r.status == 200][0]
    check(won.json["streakBonus"] == {"days": 3, "lemons": 2}, "the winner's bonus", won)
    check(len(ledger(uid, "streak_bonus")) == 1, "one bonus", ledger(uid, "streak_bonus"))


def test_a_streak_bonus_is_clipped_at_the_cap_and_the_ledger_says_so():
    (uid, token), = stack.make_users(1)
    with game_clock() as on_day:
        for day in (0, 1):
            on_day(day)
            harvest_once(token, uid)
        balance = profile(token)["lemonBalance"]
        stack.grant(uid, 496 - balance)
        on_day(2)
        h = harvest_once(token, uid)
    check(h["newBalance"] == 499 and h["streakBonus"] == {"days": 3, "lemons": 1},
          "the bonus of 2 clipped to 1", h)
    check(h["balanceAfterBonuses"] == 500 and profile(token)["lemonBalance"] == 500,
          "at the cap", h)
    rows = ledger(uid, "streak_bonus")
    check(rows == [["1", "500", "3-day streak (clipped at the cap: 1 of 2)"]],
          "the ledger row says it was clipped", rows)


def test_a_bonus_at_a_full_storage_books_nothing_and_fails_nothing():
    (uid, token), = stack.make_users(1)
    with game_clock() as on_day:
        for day in (0, 1):
            on_day(day)
            harvest_once(token, uid)
        stack.grant(uid, 497 - profile(token)["lemonBalance"])
        on_day(2)
        h = harvest_once(token, uid)
    check(h["newBalance"] == 500 and h["streakBonus"] == {"days": 3, "lemons": 0},
          "the milestone is reached, nothing fits", h)
    check(ledger(uid, "streak_bonus") == [], "no empty ledger row")


# -- the golden lemon --------------------------------------------------------

def golden_rows(day_offset):
    return stack.psql("SELECT position_id, generation, ended, harvested_by FROM golden_lemons"
                      " WHERE day = :'p1' ORDER BY id", game_today(day_offset))


def marks():
    return stack.psql("SELECT position_id FROM lemons WHERE golden_generation IS NOT NULL")


def test_the_golden_lemon_once_a_day_with_a_hard_quiz_pays_triple():
    (uid, token), = stack.make_users(1)
    with game_clock() as on_day:
        on_day(100)
        regrow()
        check("goldenPosition" not in status(), "none while golden lemons are off", status())
        st = regrow(golden=1)
        pos = st.get("goldenPosition")
        check(isinstance(pos, int) and pos in st["availablePositions"], "one golden lemon", st)
        check(regrow(golden=1).get("goldenPosition") == pos, "the next pass keeps it")
        check(marks() == [[str(pos)]], "exactly one mark", marks())
        diff = stack.psql("SELECT q.difficulty FROM lemons l JOIN quizzes q ON q.id = l.quiz_id"
                          " WHERE l.position_id = :p1", pos)
        check(diff == [["hard"]], "a hard quiz", diff)
        r = start(token, pos)
        check(r.status == 200 and r.json.get("golden") is True, "the quiz says golden", r)
        a = r.json["attemptID"]
        check(answer(token, a, correct_option(a)).status == 200, "right")
        r = harvest(token, pos, a)
        check(r.status == 200 and r.json["golden"] is True and r.json["harvestAmount"] == 9,
              "three times the lemons", r)
        keys = [x["key"] for x in r.json["achievements"]]
        check("golden_lemon" in keys and "first_harvest" in keys, "achievements earned", r)
        check(r.json["balanceAfterBonuses"] == 12, "9 and the golden lemon's reward 3", r)
        check(golden_db() is None, "harvested: no golden lemon")
        wait_until(lambda: "goldenPosition" not in status(), timeout=5,
                   what="global-status without it")
        rows = golden_rows(100)
        check(rows == [[str(pos), rows[0][1], "harvested", uid]], "logged as harvested", rows)
        check("goldenPosition" not in regrow(golden=1), "one a day: none more today")
        check(marks() == [], "the stale mark cleared", marks())
        on_day(101)
        check("goldenPosition" in regrow(golden=1), "a new day, a new golden lemon")
    regrow()
    check(marks() == [] and "goldenPosition" not in fresh_status(), "off again: un-golded")


def test_an_unharvested_golden_lemon_ends_with_its_day():
    with game_clock() as on_day:
        on_day(200)
        pos = regrow(golden=1).get("goldenPosition")
        check(pos is not None, "golden today", status())
        on_day(201)
        st = regrow(golden=1)
        check(golden_rows(200)[0][2] == "expired", "yesterday's expired", golden_rows(200))
        rows = golden_rows(201)
        check(len(rows) == 1 and st.get("goldenPosition") == int(rows[0][0]),
              "today's is another one", (rows, st))
        check(len(marks()) == 1, "one mark", marks())
        r = start(stack.make_users(1)[0][1], pos)
        check(r.status == 200 and ("golden" not in r.json or pos == st["goldenPosition"]),
              "yesterday's lemon is plain again", r)
        end_open_attempts()
    regrow()


def end_open_attempts():
    """Every open quiz and click window over, as the sweep would find them
    (a lemon somebody is playing is never made golden)."""
    stack.psql("UPDATE user_quiz_attempts SET deadline = now() - interval '1 minute',"
               " harvest_deadline = now() - interval '1 minute'"
               " WHERE status = 'started' OR harvest_status = 'in_progress'")


def test_the_golden_lemon_is_never_one_somebody_is_playing():
    """Gilding starts a new generation (a hard quiz, nobody locked out): it
    must not take a lemon from under an open quiz or click window."""
    end_open_attempts()
    with game_clock() as on_day:
        on_day(250)
        st = regrow()
        free = st["availablePositions"][-1]
        players = stack.make_users(9)
        busy = [p for p in st["availablePositions"] if p != free]
        for (uid, token), pos in zip(players, busy[:5]):
            check(start(token, pos).status == 200, "a quiz open on %d" % pos)
        for (uid, token), pos in zip(players[5:], busy[5:]):
            play(token, pos)   # answered right: the click window is open
        check(regrow(golden=1).get("goldenPosition") == free, "only the free lemon can be golden",
              (free, status()))
        end_open_attempts()
        stack.psql("UPDATE lemons SET golden_generation = NULL")   # by hand
        check(regrow(golden=1).get("goldenPosition") is None, "one a day: none more")
        check(golden_rows(250)[0][2] == "expired", "the pass closed its log row",
              golden_rows(250))
    regrow()


def jobs_bg(golden=1):
    env = dict(stack.env)
    env["DBTREE_GOLDEN_PER_DAY"] = str(golden)
    return subprocess.Popen([os.path.join(stack.build, "bin", "dbtreectl"), "jobs",
                             "--only", "regrow"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, **stack.as_service())


def mark_by_hand(pos, day):
    """Another writer (a second host, an operator) marks pos golden."""
    stack.psql("UPDATE lemons SET golden_generation = generation, golden_day ="
               " ((now() + make_interval(days => :p2)) AT TIME ZONE 'UTC')::date"
               " WHERE position_id = :p1", pos, day)


def test_one_golden_lemon_when_a_pass_is_held_and_another_writer_comes():
    end_open_attempts()
    with game_clock() as on_day:
        on_day(300)
        st = regrow()
        with stack.pause("golden.chosen") as p:
            first = jobs_bg()
            p.wait_reached()
            second = jobs_bg()
            check(second.wait(timeout=60) == 0, "the second pass ends well")
            check("skipped" in second.stderr.read(), "it skipped the regrow job (its lock)")
            other = st["availablePositions"][-1]
            writer = POOL.submit(mark_by_hand, other, 300)
            wait_until(lambda: stack.lock_waiters() >= 1, timeout=10, what="the writer waits")
            check(not writer.done(), "the writer waits for the held pass")
        check(first.wait(timeout=60) == 0, "the held pass ends well")
        try:
            writer.result(timeout=30)
            wrote = True
        except AssertionError as e:
            check("lemons_one_golden" in str(e), "refused by the partial unique index", e)
            wrote = False
        st = fresh_status()
        check(len(marks()) == 1 and "goldenPosition" in st, "exactly one golden lemon",
              (marks(), st))
        check(wrote == (st["goldenPosition"] == other), "the writer only re-marked the same one",
              (wrote, other, st))
    regrow()


def test_one_golden_lemon_when_another_writer_marks_first():
    with game_clock() as on_day:
        on_day(400)
        st = regrow()
        mine = st["availablePositions"][0]
        mark_by_hand(mine, 400)
        p = jobs_bg()
        check(p.wait(timeout=60) == 0, "the pass ends well")
        check(marks() == [[str(mine)]] and fresh_status().get("goldenPosition") == mine,
              "the pass made no second one", marks())
        check(golden_rows(400) == [], "and logged none")
        try:
            mark_by_hand(st["availablePositions"][1], 400)
        except AssertionError as e:
            check("lemons_one_golden" in str(e), "a second mark is refused", e)
        else:
            check(False, "a second mark was accepted")
    regrow()


# -- achievements --------------------------------------------------------------

def test_achievements_list_every_one_with_progress_then_the_first_harvest():
    (uid, token), = stack.make_users(1)
    r = stack.get("/api/user/achievements", headers=stack.auth(token))
    check(r.status == 200 and [a["key"] for a in r.json] == KEYS, "the catalogue in order", r)
    for a in r.json:
        check(set(a) == {"key", "earned", "earnedAt", "progress", "goal", "reward"}, "shape", a)
        check(a["earned"] is False and a["earnedAt"] is None and a["progress"] == 0,
              "nothing earned", a)
    check_error(stack.get("/api/user/achievements"), 401, 1206, "needs a session")
    h = harvest_once(token, uid)
    check(h["achievements"] == [{"key": "first_harvest", "reward": 0, "lemons": 0}],
          "the harvest answer names it", h)
    got = achievements(token)
    check(got["first_harvest"]["earned"] and got["first_harvest"]["earnedAt"].endswith("Z"),
          "earned, with its time", got["first_harvest"])
    check(got["harvests_10"]["progress"] == 1 and got["harvests_10"]["goal"] == 10
          and got["harvests_10"]["reward"] == 2, "progress on the next", got["harvests_10"])
    check(harvest_once(token, uid)["achievements"] == [], "not twice")


def test_ten_harvests_pay_the_reward_once():
    (uid, token), = stack.make_users(1)
    harvest_once(token, uid)
    stack.psql("UPDATE users SET harvests = 9 WHERE id = :'p1'", uid)
    h = harvest_once(token, uid)
    check(h["achievements"] == [{"key": "harvests_10", "reward": 2, "lemons": 2}], "earned", h)
    check(h["balanceAfterBonuses"] == h["newBalance"] + 2, "paid", h)
    rows = ledger(uid, "achievement_bonus")
    check(rows == [["2", str(h["newBalance"] + 2), "achievement harvests_10"]], "booked", rows)
    harvest_once(token, uid)
    check(len(ledger(uid, "achievement_bonus")) == 1, "once", ledger(uid, "achievement_bonus"))


def test_a_right_answer_in_the_fifth_category_earns_all_categories():
    (uid, token), = stack.make_users(1)
    pos = plain_lemon()
    bit = int(stack.psql("SELECT 1 << (array_position(enum_range(NULL::quiz_category),"
                         " q.category) - 1) FROM lemons l JOIN quizzes q ON q.id = l.quiz_id"
                         " WHERE l.position_id = :p1", pos)[0][0])
    stack.psql("UPDATE users SET categories = :p2 WHERE id = :'p1'", uid, 31 & ~bit)
    check(achievements(token)["all_categories"]["progress"] == 4, "four of five")
    a = start(token, pos).json["attemptID"]
    r = answer(token, a, correct_option(a))
    check(r.status == 200 and r.json.get("achievements") ==
          [{"key": "all_categories", "reward": 0, "lemons": 0}], "earned with the answer", r)
    got = achievements(token)["all_categories"]
    check(got["earned"] and got["progress"] == 5, "five of five", got)


def test_first_database_is_earned_once_by_two_creates_at_once():
    (uid, token), = stack.make_users(1)
    stack.grant(uid, 20)

    def create(name):
        return stack.post("/api/db/instances", {"name": name, "presetId": "redis-standalone-tiny"},
                          headers=stack.auth(token))
    rs = [f.result(timeout=60) for f in [POOL.submit(create, "game-one"), POOL.submit(create, "game-two")]]
    check([r.status for r in rs] == [202, 202], "both created", rs)
    rows = stack.psql("SELECT count(*) FROM user_achievements WHERE user_id = :'p1'"
                      " AND key = 'first_database'", uid)
    check(rows == [["1"]], "earned once", rows)
    got = achievements(token)["first_database"]
    check(got["earned"] and got["progress"] == 1, "shown", got)
    for r in rs:
        d = stack.request("DELETE", "/api/db/instances/%s" % r.json["id"], headers=stack.auth(token))
        check(d.status == 204, "deleted", d)


def test_a_database_billed_for_seven_days_earns_database_week_from_the_billing_job():
    (uid, token), = stack.make_users(1)
    stack.grant(uid, 10)
    r = stack.post("/api/db/instances", {"name": "week", "presetId": "redis-standalone-tiny"},
                   headers=stack.auth(token))
    check(r.status == 202, "created", r)
    period = int(stack.env.get("DBTREE_BILLING_PERIOD", "3"))
    # a week of billed periods, as the billing job would have left them
    stack.psql("INSERT INTO db_instance_billing (instance_id, period_start, amount)"
               " SELECT i.id, now() - make_interval(secs => g * :p2), 0"
               " FROM db_instances i, generate_series(1, :p3) g"
               " WHERE i.external_id = :'p1'", r.json["id"], period, 7 * DAY // period - 1)
    check(achievements(token)["database_week"]["progress"] == 6, "six days and a bit")
    stack.psql("INSERT INTO db_instance_billing (instance_id, period_start, amount)"
               " SELECT id, now() - interval '30 days', 0 FROM db_instances"
               " WHERE external_id = :'p1'", r.json["id"])
    procs = [POOL.submit(stack.ctl, "jobs", "--only", "bill") for _ in range(2)]
    for p in procs:
        p.result(timeout=120)
    got = achievements(token)["database_week"]
    check(got["earned"] and got["progress"] == 7, "earned", got)
    rows = ledger(uid, "achievement_bonus")
    check(len(rows) == 1 and rows[0][0] == "10" and rows[0][2] == "achievement database_week",
          "its reward once", rows)
    stack.ctl("jobs", "--only", "bill")
    check(len(ledger(uid, "achievement_bonus")) == 1, "still once")
    d = stack.request("DELETE", "/api/db/instances/%s" % r.json["id"], headers=stack.auth(token))
    check(d.status == 204, "deleted", d)


def test_every_harvest_achievement_once_when_a_user_clicks_two_lemons_at_once():
    (uid, token), = stack.make_users(1)
    st = regrow()
    a_pos, b_pos = st["availablePositions"][:2]
    a, b = play(token, a_pos), play(token, b_pos)
    rs = [f.result(timeout=30) for f in [POOL.submit(harvest, token, a_pos, a),
                                         POOL.submit(harvest, token, b_pos, b)]]
    check(sorted(r.status for r in rs) == [200, 409], "one harvest", rs)
    rows = stack.psql("SELECT key FROM user_achievements WHERE user_id = :'p1'", uid)
    check(rows == [["first_harvest"]], "first_harvest once", rows)
    try:
        stack.psql("INSERT INTO user_achievements (user_id, key) VALUES (:'p1', 'first_harvest')",
                   uid)
    except AssertionError as e:
        check("duplicate key" in str(e), "the key refuses a second", e)
    else:
        check(False, "a second first_harvest row was accepted")


# -- one held click holds up no other -------------------------------------

def test_a_click_held_in_one_tree_worker_holds_up_no_other_click():
    """A harvest waiting on its lemon's row keeps one tree worker busy;
    every other click goes to a free worker (nginx/locations.conf: clicks
    are not sent on connections kept to one worker, global-status's
    included), so each is answered at once while the harvest still waits."""
    users = stack.make_users(4, prefix="held")
    pos = plain_lemon()
    token = users[0][1]
    attempt = play(token, pos)
    with concurrent.futures.ThreadPoolExecutor(16) as ex:    # kept connections
        list(ex.map(lambda _: status(), range(64)))
    holder = subprocess.Popen(
        stack.psql_argv() + ["-q", "-o", "/dev/null", "-v", "ON_ERROR_STOP=1"],
        stdin=subprocess.PIPE, text=True, **stack.as_service())
    try:
        holder.stdin.write("BEGIN; SELECT 1 FROM lemons WHERE position_id = %d FOR UPDATE;\n"
                           % pos)
        holder.stdin.flush()
        wait_until(lambda: stack.psql(
            "SELECT count(*) FROM pg_locks WHERE relation = 'lemons'::regclass"
            " AND mode = 'RowShareLock' AND granted") != [["0"]], timeout=5, what="row held")
        held = POOL.submit(harvest, token, pos, attempt)
        wait_until(lambda: stack.lock_waiters() >= 1 or held.done(), timeout=10,
                   what="the harvest waits")
        check(not held.done(), "the harvest waits for the lemon's row",
              held.done() and held.result())
        others = [p for p in range(10) if p != pos]

        def click(i):
            t = time.monotonic()
            r = start(users[1 + i % 3][1], others[i % 9])
            check(r.status in (200, 409), "a click answered", r)
            return time.monotonic() - t
        slowest = 0.0
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            for n in range(0, 12, 4):   # four at once: four connections
                slowest = max([slowest] + list(ex.map(click, range(n, n + 4))))
        print("  figure: slowest of 12 clicks beside the held one: %.0f ms" % (slowest * 1000))
        check(slowest < 2.0, "no click waited behind the held worker", slowest)
        check(not held.done(), "the harvest still waits")
        holder.stdin.write("COMMIT;\n")
        holder.stdin.flush()
        r = held.result(timeout=30)
        check(r.status == 200, "the held harvest wins once let go", r)
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    check(not stack.ledger_violations(), "balance = sum of the ledger")
    end_open_attempts()
