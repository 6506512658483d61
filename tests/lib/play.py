"""Playing the harvest game through the API, for the integration tests that
need a harvest (test_tree, test_game): quiz -> answer -> click.  The right
answer is read from the test database (the API never sends it)."""
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
