"""The game when Redis loses its memory or goes away mid-quiz: clear errors,
nothing half-done, and play resumes once Redis is back."""
import subprocess
import os

from dbt import stack, check, check_error, wait_until


def _start(token, pos):
    return stack.get("/api/quiz/%d" % pos, headers=stack.auth(token))


def _answer(token, attempt, option):
    return stack.post("/api/quiz/answer", {"attemptID": attempt, "optionIdx": option},
                      headers=stack.auth(token))


def test_redis_flushed_mid_quiz():
    (uid, token), = stack.make_users(1)
    r = _start(token, 1)
    check(r.status == 200, "started", r)
    a = r.json["attemptID"]
    subprocess.run(["redis-cli", "-s", os.path.join(stack.dir, "run", "redis.sock"), "FLUSHALL"],
                   check=True, capture_output=True)
    check_error(_answer(token, a, 0), 409, 1605, "the quiz is gone with Redis' memory")
    rows = stack.psql("SELECT status, submit_time IS NULL FROM user_quiz_attempts WHERE id = :p1", a)
    check(rows == [["started", "t"]], "the attempt was not half-answered", rows)
    r = _start(token, 2)
    check(r.status == 200, "a new quiz starts right away", r)


def test_redis_stopped_mid_quiz_then_back():
    (uid, token), = stack.make_users(1)
    r = _start(token, 3)
    a = r.json["attemptID"]
    stack.local("redis-stop")
    try:
        check_error(_answer(token, a, 0), 503, 1002, "answer while Redis is down")
        check_error(_start(token, 4), 503, 1002, "start while Redis is down")
        rows = stack.psql("SELECT count(*) FROM user_quiz_attempts WHERE user_id = :'p1'", uid)
        check(rows == [["1"]], "no attempt recorded without a lock", rows)
        rows = stack.psql("SELECT status FROM user_quiz_attempts WHERE id = :p1", a)
        check(rows == [["started"]], "the running attempt untouched", rows)
    finally:
        stack.local("redis-start")
    r = wait_until(lambda: (lambda x: x if x.status == 200 else None)(_start(token, 4)),
                   timeout=5, what="play to resume")
    check(r.json["attemptID"] > a, "a fresh attempt after recovery", r)
