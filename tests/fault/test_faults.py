"""Faults: dying workers, stopped dependencies, signals, bad configuration.
Each test leaves the stack as it found it."""
import concurrent.futures
import os
import re
import signal
import socket
import stat
import struct
import subprocess
import threading
import time

from dbt import stack, check, wait_until


def _load(path, seconds, threads=8, body=None):
    """Requests path from `threads` threads for `seconds` (POSTs body when
    given); returns statuses."""
    stop = time.monotonic() + seconds
    statuses, lock = [], threading.Lock()

    def loop():
        while time.monotonic() < stop:
            try:
                if body is None:
                    s = stack.get(path, timeout=10).status
                else:
                    s = stack.post(path, body, timeout=10).status
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
    # the load is flowing once each thread has had answers: requests are in
    # flight from now on
    wait_until(lambda: len(statuses) >= 16, timeout=5, what="the load flowing")
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
        check(stack.get("/api/_probe/tx").status == 503, "so does a transaction")
        t0 = time.monotonic()
        r = stack.get("/metrics")
        check(time.monotonic() - t0 < 5.0, "/metrics answered within 5 s")
        check(r.status == 200 and 'dbtree_pool_workers{group="public"}' in r.text,
              "/metrics still shows the pools", r)
        check('dbtree_dependency_up{dependency="postgresql"} 0' in r.text and
              'dbtree_dependency_up{dependency="redis"} 1' in r.text,
              "/metrics says PostgreSQL is down", r.text[-500:])
    finally:
        stack.local("pg-start")
    wait_until(lambda: stack.get("/api/ready").status == 200, timeout=5, what="ready again")
    # every worker reconnects on its own, also when its first statement
    # after the restart carries a transaction's BEGIN
    for _ in range(8):
        r = stack.get("/api/_probe/tx")
        check(r.status == 200 and r.json["one"] is True, "transactions work again", r)
    for _ in range(8):
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
        r = stack.get("/metrics")
        check('dbtree_dependency_up{dependency="redis"} 0' in r.text and
              "dbtree_lemons_in_circulation " in r.text,
              "/metrics says Redis is down and still reads PostgreSQL", r.text[-500:])
    finally:
        stack.local("redis-start")
    wait_until(lambda: all(stack.get("/api/ready").status == 200 for _ in range(8)),
               timeout=5, what="every worker ready again")
    check(stack.pids("public")[1] == before, "same workers, no restart")


def test_sighup_replaces_workers_without_failing_requests():
    master, before = stack.pids("probe")
    threads, statuses = _load("/api/_probe/sleep?ms=20", 2.5, threads=4)
    wait_until(lambda: len(statuses) >= 8, timeout=5, what="the load flowing")
    os.kill(master, signal.SIGHUP)
    wait_until(lambda: (lambda w: len(w) == 4 and not set(w) & set(before))(stack.pids("probe")[1]),
               timeout=5, what="all four workers replaced")
    for t in threads:
        t.join()
    check(statuses and all(s == 200 for s in statuses), "no request failed during the roll",
          [s for s in statuses if s != 200])


def _fcgi_record(kind, content, req_id=1):
    pad = -len(content) % 8
    return struct.pack(">BBHHBx", 1, kind, req_id, len(content), pad) + content + bytes(pad)


def _fcgi_exchange(sock, uri, query="", keep=True):
    """One GET as nginx sends it (asking to keep the connection, or not);
    returns the response (headers and body) the pool wrote."""
    params = b""
    for k, v in (("REQUEST_METHOD", "GET"), ("DOCUMENT_URI", uri), ("QUERY_STRING", query)):
        params += bytes([len(k), len(v)]) + k.encode() + v.encode()
    sock.sendall(_fcgi_record(1, struct.pack(">HB5x", 1, int(keep)))  # responder, flags
                 + _fcgi_record(4, params) + _fcgi_record(4, b"") + _fcgi_record(5, b""))
    out, buf = b"", b""
    while True:
        while len(buf) < 8 or len(buf) < 8 + struct.unpack(">H", buf[4:6])[0] + buf[6]:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the pool closed the connection")
            buf += chunk
        _, kind, _, n, pad = struct.unpack(">BBHHBx", buf[:8])
        content, buf = buf[8:8 + n], buf[8 + n + pad:]
        if kind == 6:
            out += content
        if kind == 3:
            return out


def test_a_retiring_worker_serves_its_kept_connection_until_let_go():
    # nginx may send the next request on a kept connection at any moment
    # and never retries a POST it sent: a worker replaced by SIGHUP (or
    # stopped) keeps serving the connections it holds until nginx closes
    # them, here played by a FastCGI client on the pool's socket.
    master, before = stack.pids("probe")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(os.path.join(stack.dir, "run", "probe.sock"))
        check(b"200" in _fcgi_exchange(sock, "/api/_probe/sleep", "ms=0").split(b"\r\n")[0],
              "first request answered")
        os.kill(master, signal.SIGHUP)
        wait_until(lambda: len(set(stack.pids("probe")[1]) - set(before)) == 4,
                   timeout=5, what="four new workers")
        check(set(before) & set(stack.pids("probe")[1]), "the worker holding the connection stays")
        check(b"\"slept\":0" in _fcgi_exchange(sock, "/api/_probe/sleep", "ms=0"),
              "a request on the kept connection is still served after the SIGHUP")
    wait_until(lambda: not set(before) & set(stack.pids("probe")[1]), timeout=5,
               what="the old workers gone once their connections are")


def _pool_conns(group):
    """The pool's ends of the connections to its socket, in any state."""
    path = os.path.join(stack.dir, "run", group + ".sock")
    out = subprocess.run(["ss", "-x", "-a", "-H"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines()
            if path in line.split() and "LISTEN" not in line]


def test_connections_are_kept_between_requests_then_let_go():
    wait_until(lambda: not _pool_conns("probe"), timeout=5, what="no connection left over")
    for _ in range(30):
        check(stack.get("/api/_probe/sleep?ms=0").status == 200, "answered")
    kept = _pool_conns("probe")
    check(1 <= len(kept) <= 2, "30 requests in a row went over one kept connection", kept)
    # nginx lets an idle one go after 1 s (nginx/upstream.conf); the worker
    # closes its end then, leaving nothing half-closed
    wait_until(lambda: not _pool_conns("probe"), timeout=4, what="the idle connection closed")


def _worker_in_handler_sleep(group):
    """Whether one of the pool's workers is inside the probe's sleep (the
    kernel's wait channel of nanosleep), not waiting for work in ppoll."""
    for pid in stack.pids(group)[1]:
        try:
            with open("/proc/%d/wchan" % pid) as f:
                if f.read() == "hrtimer_nanosleep":
                    return True
        except OSError:
            pass    # gone meanwhile
    return False


def test_sigterm_lets_the_request_in_flight_finish():
    master, _ = stack.pids("probe")
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        slow = ex.submit(stack.get, "/api/_probe/sleep?ms=1500")
        wait_until(lambda: _worker_in_handler_sleep("probe"), timeout=5,
                   what="the slow request inside a worker")
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
    """A FastCGI GET on a fresh connection to a unix socket; returns the
    HTTP status (0 when there is no answer)."""
    try:
        with socket.socket(socket.AF_UNIX) as c:
            c.settimeout(2)
            c.connect(path)
            out = _fcgi_exchange(c, uri, keep=False)
    except OSError:
        return 0
    m = re.search(rb"Status: (\d+)", out)
    return int(m.group(1)) if m else 0
