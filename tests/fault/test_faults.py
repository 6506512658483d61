"""Faults: dying workers, stopped dependencies, signals, bad configuration.
Each test leaves the stack as it found it."""
import concurrent.futures
import os
import signal
import stat
import subprocess
import threading
import time

from dbt import stack, check, wait_until


def _load(path, seconds, threads=8):
    """Requests path from `threads` threads for `seconds`; returns statuses."""
    stop = time.monotonic() + seconds
    statuses, lock = [], threading.Lock()

    def loop():
        while time.monotonic() < stop:
            try:
                s = stack.get(path, timeout=10).status
            except OSError:
                s = -1
            with lock:
                statuses.append(s)

    ts = [threading.Thread(target=loop) for _ in range(threads)]
    for t in ts:
        t.start()
    return ts, statuses


def test_pool_socket_is_0660():
    mode = stat.S_IMODE(os.stat(os.path.join(stack.dir, "run", "public.sock")).st_mode)
    check(mode == 0o660, "socket mode 0660", oct(mode))


def test_killed_worker_is_replaced_within_a_second():
    master, workers = stack.pids("probe")
    check(len(workers) == 4, "4 workers", workers)
    restarts = stack.metric("dbtree_pool_worker_restarts_total", group="probe")
    threads, statuses = _load("/api/_probe/sleep?ms=50", 1.5)
    time.sleep(0.3)  # let the load build up: requests are in flight now
    victim = workers[0]
    os.kill(victim, signal.SIGKILL)
    t0 = time.monotonic()
    wait_until(lambda: len(stack.pids("probe")[1]) == 4 and victim not in stack.pids("probe")[1],
               timeout=1.0, what="a replacement worker")
    replaced_in = time.monotonic() - t0
    for t in threads:
        t.join()
    failed = [s for s in statuses if s != 200]
    check(replaced_in < 1.0, "replaced within 1 s", replaced_in)
    check(len(failed) <= 1, "only the request in flight on the killed worker may fail", failed)
    check(len(statuses) > 50, "the load really ran", len(statuses))
    check(stack.metric("dbtree_pool_worker_restarts_total", group="probe") == restarts + 1,
          "restart counted")


def test_postgresql_down_then_back_same_workers_recover():
    _, before = stack.pids("public")
    stack.local("pg-stop")
    try:
        t0 = time.monotonic()
        r = stack.get("/api/ready")
        took = time.monotonic() - t0
        check(r.status == 503 and r.json["code"] == 1002, "503 while PostgreSQL is down", r)
        check(r.json["data"] == {"postgresql": "unavailable", "redis": "ok"}, "names postgresql", r)
        check(took < 2.0, "answered within 2 s", took)
        check(stack.get("/api/health").status == 200, "health does not depend on it")
        check(stack.get("/api/_probe/db").status == 503, "db route answers 503, not a crash")
    finally:
        stack.local("pg-start")
    wait_until(lambda: stack.get("/api/ready").status == 200, timeout=5, what="ready again")
    for _ in range(8):  # every worker reconnects on its own
        r = stack.get("/api/_probe/db")
        check(r.status == 200 and r.json["answer"] == 42, "db works again", r)
    check(stack.pids("public")[1] == before, "same workers, no restart", (before, stack.pids("public")))


def test_redis_down_then_back_same_workers_recover():
    _, before = stack.pids("public")
    stack.local("redis-stop")
    try:
        t0 = time.monotonic()
        r = stack.get("/api/ready")
        check(time.monotonic() - t0 < 2.0, "answered within 2 s")
        check(r.status == 503 and r.json["data"] == {"postgresql": "ok", "redis": "unavailable"},
              "names redis", r)
    finally:
        stack.local("redis-start")
    wait_until(lambda: all(stack.get("/api/ready").status == 200 for _ in range(8)),
               timeout=5, what="every worker ready again")
    check(stack.pids("public")[1] == before, "same workers, no restart")


def test_sighup_replaces_workers_without_failing_requests():
    master, before = stack.pids("probe")
    threads, statuses = _load("/api/_probe/sleep?ms=20", 2.5, threads=4)
    time.sleep(0.2)
    os.kill(master, signal.SIGHUP)
    wait_until(lambda: (lambda w: len(w) == 4 and not set(w) & set(before))(stack.pids("probe")[1]),
               timeout=5, what="all four workers replaced")
    for t in threads:
        t.join()
    check(statuses and all(s == 200 for s in statuses), "no request failed during the roll",
          [s for s in statuses if s != 200])


def test_sigterm_lets_the_request_in_flight_finish():
    master, _ = stack.pids("probe")
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        slow = ex.submit(stack.get, "/api/_probe/sleep?ms=1500")
        time.sleep(0.4)
        os.kill(master, signal.SIGTERM)
        r = slow.result(timeout=10)
    check(r.status == 200 and r.json["slept"] == 1500, "the slow request completed", r)
    wait_until(lambda: not os.path.exists("/proc/%d" % master), timeout=5, what="master exit")
    r = stack.get("/api/_probe/sleep?ms=0")
    check(r.status == 502 and r.json["code"] == 1002, "pool gone: nginx answers 502 in JSON", r)
    stack.local("pool-start", "probe")
    check(stack.get("/api/_probe/sleep?ms=0").status == 200, "pool back")


def _run_with(prog, env_over):
    env = dict(stack.env)
    env.update(env_over)
    env["DBTREE_RUN_DIR"] = os.path.join(stack.dir, "badconf")
    return subprocess.run([prog] + ([] if "fcgi" in prog else ["migrate"]), env=env,
                          capture_output=True, text=True, timeout=20)


def test_bad_configuration_stops_with_the_variable_named():
    pool = os.path.join(stack.build, "fcgi", "public")
    ctl = os.path.join(stack.build, "bin", "dbtreectl")
    for prog in (pool, ctl):
        for var, value in (("DBTREE_WORKERS", "lots"), ("DBTREE_WORKERS", "0"),
                           ("DBTREE_DB_STATEMENT_TIMEOUT_MS", "5"),
                           ("DBTREE_LOG_LEVEL", "loud")):
            p = _run_with(prog, {var: value})
            check(p.returncode == 2, "%s %s=%s exits 2" % (os.path.basename(prog), var, value),
                  p.returncode)
            check(var in p.stderr, "message names %s" % var, p.stderr)


def test_pool_takes_its_socket_from_systemd_socket_activation():
    """As systemd does: the socket is bound by the parent and passed as fd 3
    with LISTEN_FDS/LISTEN_PID; the pool must serve on it without binding."""
    import socket as sk
    path = os.path.join(stack.dir, "run", "activated.sock")
    s = sk.socket(sk.AF_UNIX, sk.SOCK_STREAM)
    s.bind(path)
    s.listen(64)
    env = dict(stack.env, DBTREE_RUN_DIR=os.path.join(stack.dir, "activation"))
    os.makedirs(env["DBTREE_RUN_DIR"], exist_ok=True)

    env["LISTEN_FDS"] = "1"
    prog = os.path.join(stack.build, "fcgi", "public")
    # exec keeps the shell's pid, which is what LISTEN_PID must name
    proc = subprocess.Popen(["sh", "-c", 'LISTEN_PID=$$ exec "$0"', prog], env=env,
                            preexec_fn=lambda: os.dup2(s.fileno(), 3),
                            pass_fds=(s.fileno(),), stderr=subprocess.PIPE, text=True)
    try:
        s.close()
        # a FastCGI request straight to the inherited socket
        wait_until(lambda: _fcgi_get(path, "/api/health") == 200, timeout=10,
                   what="an answer on the inherited socket")
        check(not os.path.exists(os.path.join(env["DBTREE_RUN_DIR"], "public.sock")),
              "the pool bound no socket of its own")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    check("socket passed by systemd" in err, "the pool says it uses the passed socket", err)


def _fcgi_get(path, uri):
    """A minimal FastCGI GET over a unix socket; returns the HTTP status."""
    import socket as sk
    import struct

    def record(rtype, content, rid=1):
        return struct.pack("!BBHHBx", 1, rtype, rid, len(content), 0) + content

    def pair(k, v):
        return bytes([len(k), len(v)]) + k + v

    params = b"".join(pair(k, v) for k, v in (
        (b"REQUEST_METHOD", b"GET"), (b"DOCUMENT_URI", uri.encode()),
        (b"QUERY_STRING", b""), (b"REQUEST_ID", b"a" * 32)))
    msg = (record(1, struct.pack("!HB5x", 1, 0)) + record(4, params) + record(4, b"")
           + record(5, b""))
    try:
        with sk.socket(sk.AF_UNIX, sk.SOCK_STREAM) as c:
            c.settimeout(2)
            c.connect(path)
            c.sendall(msg)
            data = b""
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return 0
    import re
    m = re.search(rb"Status: (\d+)", data)
    return int(m.group(1)) if m else 0
