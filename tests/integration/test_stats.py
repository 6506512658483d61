"""Statistics through nginx: the public totals and mini leaderboard (cached
2 s in Redis), a person's daily harvests and ledger pages.

Users and ledger rows are made straight in the database; every ledger row
moves the user's balance in the same statement, so balance = sum of the
ledger holds after each test.  Users made for the leaderboard are
soft-deleted at the end of their test so that they do not crowd the
leaderboard other modules look at."""
import base64
import datetime
import hashlib
import itertools
import re
import secrets
import subprocess

from dbt import stack, check, check_error, wait_until

GLOBAL = "/api/stats/global"
MINI = "/api/leaderboard/mini"
DAILY = "/api/stats/daily-harvest"
TXS = "/api/stats/transactions"
_seq = itertools.count(1)
TODAY_START = "date_trunc('day', now(), 'UTC')"


def user(local=None, session=True, created_ago_days=0):
    """A user made in the database (no welcome bonus, balance 0), with a
    session unless session=False.  Returns (id, token or None)."""
    email = "%s@stats%d.example.com" % (local or "u%d" % next(_seq), next(_seq))
    uid = stack.psql("INSERT INTO users (email, created_at)"
                     " VALUES (:'p1', now() - make_interval(days => :p2)) RETURNING id",
                     email, created_ago_days)[0][0]
    if not session:
        return uid, None
    token = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    stack.psql("INSERT INTO sessions (token_hash, user_id, expires_at)"
               " VALUES (decode(:'p1', 'hex'), :'p2', now() + interval '1 day')",
               hashlib.sha256(token.encode()).hexdigest(), uid)
    return uid, token


def book(uid, action, amount, count=1, at="now()", step="interval '1 minute'"):
    """count ledger rows of `amount`, the last at `at` (an SQL expression
    from this file), each earlier one `step` before the next; the user's
    balance moves with them.  Notes are "<action> <n>", n = 1 the oldest."""
    stack.psql("WITH u AS (UPDATE users SET lemon_balance = lemon_balance + :p3 * :p4"
               "  WHERE id = :'p1' RETURNING lemon_balance - :p3 * :p4 AS before)"
               " INSERT INTO user_lemon_transactions (user_id, action_type, amount,"
               "  balance, note, created_at)"
               " SELECT :'p1', :'p2', :p3, u.before + g * :p3, :'p2' || ' ' || g,"
               "  %s - (:p4 - g) * %s FROM u, generate_series(1, :p4) g" % (at, step),
               uid, action, amount, count)


def retire(*uids):
    """Soft-deletes users as account deletion does (the ledger stays)."""
    for uid in uids:
        stack.psql("UPDATE users SET is_deleted = true, deleted_at = now(),"
                   " email = 'deleted:' || id::text WHERE id = :'p1' AND NOT is_deleted", uid)


def counters():
    row = stack.psql("SELECT harvested_lemons, created_instances, live_users FROM stats_counters")
    return dict(zip(("totalHarvestedLemons", "totalCreatedInstances", "totalUsers"),
                    map(int, row[0])))


def redis(*args):
    return subprocess.run(["redis-cli", "-s", "%s/run/redis.sock" % stack.dir] + list(args),
                          capture_output=True, text=True, timeout=10).stdout.strip()


def get(path, token=None):
    return stack.get(path, headers=stack.auth(token) if token else {})


def mini_when(cond, what):
    """The leaderboard once cond(body) holds (the cache lives 2 s)."""
    return wait_until(lambda: (lambda r: r.json if r.status == 200 and cond(r.json) else None)(
        stack.get(MINI)), timeout=6, what=what)


def today():
    return datetime.date.fromisoformat(
        stack.psql("SELECT (now() AT TIME ZONE 'UTC')::date")[0][0])


def days_back(n):
    """The expected dates of n days ending today, newest first."""
    t = today()
    return ["%sT00:00:00Z" % (t - datetime.timedelta(days=i)).isoformat() for i in range(n)]


def quiz_id():
    rows = stack.psql("SELECT min(id) FROM quizzes")
    if rows and rows[0][0]:
        return rows[0][0]
    return stack.psql("INSERT INTO quizzes (key, category, difficulty, question, options,"
                      " correct_option_idx, explanation, time_limit) VALUES ('stats-test',"
                      " 'sql', 'easy', 'q?', '[\"a\", \"b\", \"c\"]', 0, 'e', 30)"
                      " RETURNING id")[0][0]


def attempts(uid, count, correct=True, status="done", at=TODAY_START + " + interval '1 second'"):
    """count finished quiz attempts of uid, the first started at `at` (an
    SQL expression from this file), the others one second apart after it."""
    stack.psql("INSERT INTO user_quiz_attempts (user_id, quiz_id, lemon_position_id,"
               " lemon_generation, is_correct, selected_option, start_time, deadline,"
               " submit_time, status)"
               " SELECT :'p1', :p2, 0, 1, :p3, 0, t, t + interval '30 s', t + interval '5 s',"
               " :'p4' FROM (SELECT %s + g * interval '1 second' AS t"
               "  FROM generate_series(0, :p5 - 1) g) s" % at,
               uid, quiz_id(), "true" if correct else "false", status, count)


# -- GET /api/stats/global ------------------------------------------------

def test_global_totals_are_the_counters_and_follow_harvests_and_users():
    r = stack.get(GLOBAL)
    check(r.status == 200, "public", r)
    check(set(r.json) == {"totalHarvestedLemons", "totalCreatedInstances", "totalUsers"}
          and all(type(v) is int for v in r.json.values()), "three integers", r)
    before = counters()
    uid, _ = user()
    book(uid, "harvest", 3)
    book(uid, "grant", 7)
    after = counters()
    check(after["totalHarvestedLemons"] == before["totalHarvestedLemons"] + 3,
          "lemons harvested, not harvest events or grants", (before, after))
    check(after["totalUsers"] == before["totalUsers"] + 1, "one more user", (before, after))
    wait_until(lambda: stack.get(GLOBAL).json == after, timeout=6, what="the new totals")
    retire(uid)
    gone = counters()
    check(gone["totalUsers"] == after["totalUsers"] - 1, "deleted users do not count", gone)
    check(gone["totalHarvestedLemons"] == after["totalHarvestedLemons"], "their lemons do", gone)
    wait_until(lambda: stack.get(GLOBAL).json == gone, timeout=6, what="one user fewer")


def test_public_answers_are_cached_two_seconds_in_redis():
    redis("DEL", "dbtree:v1:cache:stats", "dbtree:v1:cache:leaderboard")
    first = stack.get(GLOBAL)
    uid, _ = user()
    r = stack.get(GLOBAL)
    check(r.json == first.json, "a new user is not visible while the copy lives", (first, r))
    check(redis("GET", "dbtree:v1:cache:stats") == first.text,
          "the cached value is the answer's JSON text")
    check(stack.get(MINI).status == 200, "leaderboard answers")
    for key in ("stats", "leaderboard"):
        ttl = int(redis("PTTL", "dbtree:v1:cache:" + key))
        check(0 < ttl <= 2000, "%s cached for at most 2 s" % key, ttl)
    first = first.json
    wait_until(lambda: stack.get(GLOBAL).json["totalUsers"] == first["totalUsers"] + 1,
               timeout=6, what="the copy to expire")
    retire(uid)


def test_public_answers_come_from_the_database_when_redis_is_down():
    expected = counters()
    stack.local("redis-stop")
    try:
        r = stack.get(GLOBAL)
        check(r.status == 200 and r.json == expected, "totals without Redis", r)
        r = stack.get(MINI)
        check(r.status == 200 and isinstance(r.json["lemonRichUsers"], list),
              "leaderboard without Redis", r)
    finally:
        stack.local("redis-start")
    wait_until(lambda: stack.get("/api/ready").status == 200, what="Redis back")
    check(stack.get(GLOBAL).status == 200, "fine again with Redis")


# -- GET /api/leaderboard/mini ---------------------------------------------

def test_leaderboard_lists_are_lists_of_at_most_three_never_null():
    def expected_sizes():
        rich, quiz = stack.psql(
            "SELECT (SELECT count(*) FROM users WHERE NOT is_deleted AND lemon_balance > 0),"
            " (SELECT count(DISTINCT a.user_id) FROM user_quiz_attempts a"
            "  JOIN users u ON u.id = a.user_id AND NOT u.is_deleted"
            "  WHERE a.is_correct AND a.status = 'done'"
            "  AND a.start_time >= " + TODAY_START + ")")[0]
        return min(3, int(rich)), min(3, int(quiz))

    def matches():
        r = stack.get(MINI)
        sizes = (len(r.json["lemonRichUsers"]), len(r.json["quizMasters"]))
        return r if r.status == 200 and sizes == expected_sizes() else None

    r = wait_until(matches, timeout=6, what="lists as long as the data allows")
    check(set(r.json) == {"lemonRichUsers", "quizMasters"}, "two lists", r)
    check("null" not in r.text, "no null anywhere (empty lists are [])", r)
    for name in ("lemonRichUsers", "quizMasters"):
        ranks = r.json[name]
        check([e["rank"] for e in ranks] == list(range(1, len(ranks) + 1)), "ranks 1..n", r)
        for e in ranks:
            check(set(e) == {"maskedEmail", "score", "rank"}, "entry shape", e)
            check(e["maskedEmail"].endswith("***") and "@" not in e["maskedEmail"],
                  "masked, domain dropped", e)
            check(type(e["score"]) is int and e["score"] > 0, "positive score", e)
        scores = [e["score"] for e in ranks]
        check(scores == sorted(scores, reverse=True), "best first", r)


def test_lemon_rich_users_are_the_top_three_live_balances_masked():
    longest, _ = user("richest", session=False)
    tie_old, _ = user("žluťoučký", session=False, created_ago_days=2)
    tie_new, _ = user("ab", session=False, created_ago_days=1)
    gone, _ = user("deletedrich", session=False)
    try:
        book(longest, "grant", 900003)
        book(tie_old, "grant", 900002)
        book(tie_new, "grant", 900002)
        book(gone, "grant", 999999)
        retire(gone)
        want = [{"maskedEmail": "ric***", "score": 900003, "rank": 1},
                {"maskedEmail": "žlu***", "score": 900002, "rank": 2},
                {"maskedEmail": "ab***", "score": 900002, "rank": 3}]
        mini_when(lambda b: b["lemonRichUsers"] == want, "first 3 characters (not bytes)"
                  " + ***, ties to the older account, no deleted user")
    finally:
        retire(longest, tie_old, tie_new)


def test_quiz_masters_count_todays_correct_finished_attempts_of_live_users():
    first, _ = user("quizmaster", session=False)
    early, _ = user("qz", session=False)
    late, _ = user("q3x", session=False)
    yesterday, _ = user("yesterday", session=False)
    gone, _ = user("goneq", session=False)
    try:
        attempts(first, 40)
        # same score: the one who got there first (earlier last answer) ranks higher
        attempts(early, 39, at=TODAY_START + " + interval '1 second'")
        attempts(late, 39, at=TODAY_START + " + interval '2 minutes'")
        attempts(early, 30, correct=False)
        attempts(early, 30, status="timeout")
        attempts(yesterday, 60, at=TODAY_START + " - interval '1 minute'")
        attempts(gone, 70)
        retire(gone)
        want = [{"maskedEmail": "qui***", "score": 40, "rank": 1},
                {"maskedEmail": "qz***", "score": 39, "rank": 2},
                {"maskedEmail": "q3x***", "score": 39, "rank": 3}]
        mini_when(lambda b: b["quizMasters"] == want,
                  "today's correct, finished attempts of live users")
    finally:
        stack.psql("DELETE FROM user_quiz_attempts WHERE user_id IN (:'p1', :'p2', :'p3',"
                   " :'p4', :'p5')", first, early, late, yesterday, gone)
        retire(first, early, late, yesterday)


# -- GET /api/stats/daily-harvest -----------------------------------------

def test_daily_harvest_is_exactly_n_days_newest_first_with_zeros():
    uid, token = user()
    other, _ = user()
    day = lambda n: "%s - interval '%d days' + interval '1 second'" % (TODAY_START, n)  # noqa: E731
    book(uid, "harvest", 3, count=2, at=day(0), step="interval '1 second'")
    book(uid, "harvest", 3, at=day(2))
    book(uid, "harvest", 3, at=day(6))
    book(uid, "harvest", 3, at=day(7))
    book(uid, "harvest", 3, at=day(89))
    book(uid, "harvest", 3, at=day(90))
    book(uid, "grant", 50, at=day(0))
    book(other, "harvest", 3, at=day(0))
    # a failed harvest moves no balance and counts for nothing
    stack.psql("INSERT INTO user_lemon_transactions (user_id, action_type, status, amount,"
               " balance) SELECT id, 'harvest', 'failed', 3, lemon_balance FROM users"
               " WHERE id = :'p1'", uid)

    r = get(DAILY, token)
    check(r.status == 200 and isinstance(r.json, list), "a list", r)
    check([d["date"] for d in r.json] == days_back(7), "7 UTC days ending today, newest first", r)
    check([d["amount"] for d in r.json] == [6, 0, 3, 0, 0, 0, 3], "sums per day, zeros kept", r)
    check(all(set(d) == {"date", "amount"} for d in r.json), "entry shape", r)

    r = get(DAILY + "?days=1", token)
    check(r.json == [{"date": days_back(1)[0], "amount": 6}], "today only", r)
    r = get(DAILY + "?days=3", token)
    check([d["amount"] for d in r.json] == [6, 0, 3], "three days", r)
    r = get(DAILY + "?days=90", token)
    check([d["date"] for d in r.json] == days_back(90), "90 days", r)
    check(sum(d["amount"] for d in r.json) == 6 + 3 + 3 + 3 + 3 and r.json[89]["amount"] == 3,
          "the 90th day back is in, the 91st is not", r)
    r = get(DAILY + "?days=007", token)
    check(len(r.json) == 7, "leading zeros are still 7", r)


def test_daily_harvest_caps_days_at_90():
    _, token = user()
    for days in ("91", "1000", "99999999999999999999999"):
        r = get(DAILY + "?days=" + days, token)
        check(r.status == 200 and len(r.json) == 90, "days=%s counts as 90" % days, r)
        check(all(d["amount"] == 0 for d in r.json), "zeros for a user without harvests", r)


def test_daily_harvest_refuses_bad_days():
    _, token = user()
    for days in ("0", "-1", "abc", "1.5", "", "7x", "%2B7", "%207", "0x10", "1e2"):
        r = get(DAILY + "?days=" + days, token)
        check_error(r, 400, 1100, "days=%r" % days)
        check(r.json["data"] == {"parameter": "days"}, "names the parameter", r)


def test_private_stats_need_a_valid_token():
    for path in (DAILY, DAILY + "?days=3", TXS, TXS + "?page=2"):
        check_error(stack.get(path), 401, 1206, "no token on " + path)
        check_error(stack.get(path, headers={"Authorization": "Bearer " + "x" * 43}),
                    401, 1206, "unknown token on " + path)
    check_error(get(DAILY + "?days=0"), 401, 1206, "authentication comes before validation")
    uid, token = user()
    retire(uid)
    check_error(get(TXS, token), 401, 1206, "a deleted user's token")


# -- GET /api/stats/transactions ------------------------------------------

def pages(token, limit):
    """Every row of the ledger, page by page."""
    out, page = [], 1
    while True:
        r = get(TXS + "?page=%d&limit=%d" % (page, limit), token)
        check(r.status == 200, "page %d" % page, r)
        out += r.json["data"]
        if not r.json["pagination"]["hasNext"]:
            return out, r.json["pagination"]
        page += 1


def test_transactions_are_paged_newest_first():
    uid, token = user()
    other, _ = user()
    book(other, "grant", 5, count=3)
    book(uid, "welcome_bonus", 15, at="now() - interval '1 day'")
    book(uid, "grant", 2, count=25, at="now() - interval '1 minute'")

    r = get(TXS, token)
    check(r.status == 200 and set(r.json) == {"data", "pagination"}, "shape", r)
    check(len(r.json["data"]) == 20, "20 rows by default", r)
    check(r.json["pagination"] == {"currentPage": 1, "totalPages": 2, "totalItems": 26,
                                   "hasNext": True, "hasPrev": False}, "pagination", r)
    tx = r.json["data"][0]
    check(set(tx) == {"id", "instanceName", "actionType", "status", "amount", "balance",
                      "createdAt", "note"}, "row shape", tx)
    check(re.fullmatch(r"[0-9a-f-]{36}", tx["id"]) and tx["instanceName"] is None,
          "uuid id, no instance", tx)
    check((tx["actionType"], tx["status"], tx["amount"], tx["balance"], tx["note"])
          == ("grant", "successful", 2, 65, "grant 25"), "the newest row first", tx)
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", tx["createdAt"]), "RFC 3339", tx)

    r = get(TXS + "?page=2&limit=10", token)
    check([t["note"] for t in r.json["data"]] == ["grant %d" % n for n in range(15, 5, -1)],
          "second page of ten", r)
    check(r.json["pagination"] == {"currentPage": 2, "totalPages": 3, "totalItems": 26,
                                   "hasNext": True, "hasPrev": True}, "middle page", r)
    r = get(TXS + "?page=3&limit=10", token)
    check([t["note"] for t in r.json["data"]][-2:] == ["grant 1", "welcome_bonus 1"],
          "the oldest row last", r)
    check(len(r.json["data"]) == 6 and r.json["pagination"]["hasNext"] is False, "last page", r)
    r = get(TXS + "?page=4&limit=10", token)
    check(r.json["data"] == [] and r.json["pagination"]["totalItems"] == 26
          and r.json["pagination"]["totalPages"] == 3, "past the end: []", r)
    stamps = [t["createdAt"] for t in get(TXS + "?limit=100", token).json["data"]]
    check(stamps == sorted(stamps, reverse=True), "newest first", stamps)


def test_rows_with_the_same_time_page_without_gaps_or_repeats():
    uid, token = user()
    book(uid, "grant", 1, count=7, step="interval '0'")    # one instant
    book(uid, "grant", 1, count=5, at="now() - interval '1 hour'")
    rows, pagination = pages(token, 1)
    ids = [t["id"] for t in rows]
    want = [r[0] for r in stack.psql("SELECT id FROM user_lemon_transactions"
                                      " WHERE user_id = :'p1'", uid)]
    check(len(ids) == 12 and sorted(ids) == sorted(want), "every row exactly once", ids)
    check(pagination["totalPages"] == 12 and pagination["currentPage"] == 12, "12 pages of 1",
          pagination)


def test_transactions_limit_is_capped_at_100():
    uid, token = user()
    book(uid, "grant", 1, count=120, step="interval '1 second'")
    for limit in ("100", "101", "1000", "99999999999999999999999"):
        r = get(TXS + "?limit=" + limit, token)
        check(r.status == 200 and len(r.json["data"]) == 100, "limit=%s -> 100 rows" % limit, r)
        check(r.json["pagination"] == {"currentPage": 1, "totalPages": 2, "totalItems": 120,
                                       "hasNext": True, "hasPrev": False}, "2 pages of 100", r)
    r = get(TXS + "?limit=100&page=2", token)
    check(len(r.json["data"]) == 20 and r.json["data"][-1]["note"] == "grant 1", "the rest", r)


def test_no_transactions_is_an_empty_list():
    _, token = user()
    r = get(TXS, token)
    check(r.status == 200 and r.json == {"data": [], "pagination": {
        "currentPage": 1, "totalPages": 1, "totalItems": 0, "hasNext": False,
        "hasPrev": False}}, "[] and one empty page", r)


def test_instance_name_filter():
    uid, token = user()
    book(uid, "grant", 1, count=3)
    # no instance of that name: nothing (rows of a real instance are
    # checked in test_instances.py)
    r = get(TXS + "?instanceName=my-db", token)
    check(r.status == 200 and r.json["data"] == []
          and r.json["pagination"]["totalItems"] == 0
          and r.json["pagination"]["totalPages"] == 1, "no rows of instance my-db", r)
    r = get(TXS + "?instanceName=", token)
    check(r.json["pagination"]["totalItems"] == 3, "an empty name filters nothing", r)


def test_transactions_refuse_bad_page_and_limit():
    _, token = user()
    for query, param in (("page=0", "page"), ("page=-1", "page"), ("page=abc", "page"),
                         ("page=1.5", "page"), ("page=", "page"), ("page=10000000000", "page"),
                         ("limit=0", "limit"), ("limit=-5", "limit"), ("limit=x", "limit"),
                         ("limit=", "limit"), ("page=2&limit=ten", "limit")):
        r = get(TXS + "?" + query, token)
        check_error(r, 400, 1100, query)
        check(r.json["data"] == {"parameter": param}, "names %s" % param, r)
