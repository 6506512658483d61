"""Playing the harvest game through the API, for the integration tests that
need a harvest (test_tree, test_game): quiz -> answer -> click.  The right
answer is read from the test database (the API never sends it)."""
import concurrent.futures
import subprocess

import dbt


def correct_option(attempt):
    return int(dbt.stack.psql("SELECT q.correct_option_idx FROM user_quiz_attempts a"
                              " JOIN quizzes q ON q.id = a.quiz_id WHERE a.id = :p1",
                              attempt)[0][0])


def start(token, pos):
    return dbt.stack.get("/api/quiz/%d" % pos, headers=dbt.stack.auth(token))


def answer(token, attempt, option):
    return dbt.stack.post("/api/quiz/answer", {"attemptID": attempt, "optionIdx": option},
                          headers=dbt.stack.auth(token))


def harvest(token, pos, attempt):
    return dbt.stack.post("/api/lemon/harvest", {"positionId": pos, "attemptId": attempt},
                          headers=dbt.stack.auth(token))


def play(token, pos):
    """Starts and answers right; returns the attempt id."""
    r = start(token, pos)
    dbt.check(r.status == 200, "quiz starts", r)
    a = r.json["attemptID"]
    r = answer(token, a, correct_option(a))
    dbt.check(r.status == 200 and r.json["harvestEnabled"] is True, "right answer", r)
    return a


def clicks_on_a_held_user_row(uid, clicks):
    """Runs each of clicks (functions of no argument, e.g. two harvests of
    one user) in a thread while a psql session holds the user's row, waits
    until every one waits for that row lock, lets them go; returns their
    results in order.  So both pass the checks before the row lock before
    either commits."""
    holder = subprocess.Popen(
        dbt.stack.psql_argv() + ["-q", "-o", "/dev/null", "-v", "ON_ERROR_STOP=1"],
        stdin=subprocess.PIPE, text=True, **dbt.stack.as_service())
    try:
        holder.stdin.write("BEGIN; SELECT 1 FROM users WHERE id = '%s' FOR UPDATE;\n" % uid)
        holder.stdin.flush()
        dbt.wait_until(lambda: dbt.stack.psql(
            "SELECT count(*) FROM pg_locks WHERE relation = 'users'::regclass"
            " AND mode = 'RowShareLock' AND granted") != [["0"]], timeout=5, what="row held")
        with concurrent.futures.ThreadPoolExecutor(len(clicks)) as ex:
            running = [ex.submit(c) for c in clicks]
            dbt.wait_until(lambda: dbt.stack.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND application_name = 'dbtree'") == [[str(len(clicks))]],
                timeout=5, what="every click waiting on the user row")
            holder.stdin.write("COMMIT;\n")
            holder.stdin.flush()
            return [r.result(timeout=30) for r in running]
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
