"""The game when Redis loses its memory or goes away mid-quiz: clear errors,
nothing half-done, and play resumes once Redis is back."""
import os
import pwd
import signal
import socket
import subprocess
import threading

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


class StallingProxy:
    """A unix-socket proxy in front of Redis that passes everything through
    but, on the connection that first sends `marker`, forwards that command
    and then swallows every reply: the command runs, its answer never comes
    and the client times out."""

    def __init__(self, path, upstream, marker):
        self.upstream, self.marker = upstream, marker
        self.seen = 0        # commands holding the marker sent to Redis
        self.lock = threading.Lock()
        self.socks = []
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(path)
        self.listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            redis = socket.socket(socket.AF_UNIX)
            redis.connect(self.upstream)
            with self.lock:
                self.socks += [client, redis]
            stall = threading.Event()
            threading.Thread(target=self._pump, args=(client, redis, stall, True),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(redis, client, stall, False),
                             daemon=True).start()

    def _pump(self, src, dst, stall, upward):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if upward and self.marker in data:
                    with self.lock:
                        self.seen += 1
                        if self.seen == 1:
                            stall.set()
                if upward or not stall.is_set():
                    dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.listener.close()
        with self.lock:
            for s in self.socks:
                s.close()


def test_a_timed_out_lock_script_does_not_lock_the_person_out():
    # kv_command sends a command again when its reply does not come within
    # DBTREE_REDIS_TIMEOUT_MS; the first try of the lock script has then
    # taken the lock already, and the retry must count it as taken.
    run = os.path.join(stack.dir, "run")
    path, real = os.path.join(run, "redis.sock"), os.path.join(run, "redis-real.sock")
    (uid, token), = stack.make_users(1)
    os.rename(path, real)           # Redis keeps listening on it
    proxy = StallingProxy(path, real, b"'NX'")
    if os.getuid() == 0 and stack.service_user not in ("", "root"):
        pw = pwd.getpwnam(stack.service_user)   # the pools' user connects
        os.chown(path, pw.pw_uid, pw.pw_gid)
    try:
        # new tree workers connect to Redis through the proxy
        master, before = stack.pids("tree")
        os.kill(master, signal.SIGHUP)
        wait_until(lambda: (lambda w: len(w) == len(before) and not set(w) & set(before))(
            stack.pids("tree")[1]), timeout=10, what="every tree worker replaced")
        r = _start(token, 5)
        check(proxy.seen == 2, "the lock script timed out once and was sent again", (proxy.seen, r))
        check(r.status == 200, "the quiz starts: the retry found its own lock", r)
        rows = stack.psql("SELECT count(*) FROM user_quiz_attempts WHERE id = :p1"
                          " AND status = 'started'", r.json["attemptID"])
        check(rows == [["1"]], "the attempt is kept", rows)
        r = _answer(token, r.json["attemptID"], 0)
        check(r.status == 200 and "isCorrect" in r.json, "and it can be answered", r)
    finally:
        proxy.close()
        os.rename(real, path)
    r = _start(token, 6)
    check(r.status in (200, 409), "the game goes on after the proxy is gone", r)
