"""Two hosts, one service (bin/dbtree-local cluster; README "Scaling out").

The suite's stack is the shared part (PostgreSQL, Redis, the instance
agent); `dbtree-local cluster-start` adds hosts a and b, each in its own
network namespace with nginx, every pool and the jobs loops, behind a
front nginx on 127.0.0.1.  Under load through the front, host a is killed
(SIGKILL of every process in its namespace): nothing a client saw
committed is lost, nothing is counted twice, the front answers through b
within 2 s, and b runs every job pass alone.  Figures go to stdout."""
import concurrent.futures
import http.client
import json
import os
import random
import re
import subprocess
import threading
import time

from dbt import ROOT, stack, check, wait_until
from sseclient import EventStream
from wsclient import WebSocket

LOCAL = os.path.join(ROOT, "bin", "dbtree-local")
HOST_PORT = 80          # each host's nginx, on its own address
LOOP_JOBS = ("regrow", "sweep", "bill", "reconcile", "certs", "mail",
             "sessions", "backups")


def figure(text):
    print("  figure: " + text, flush=True)


# -- the pass claim, deterministically --------------------------------------

def job_row(name):
    rows = stack.psql("SELECT runs, coalesce(last_pass, 0) FROM job_runs"
                      " WHERE name = :'p1'", name)
    return int(rows[0][0]), int(rows[0][1])


def claimant(name, pass_no):
    """`dbtreectl jobs --only NAME --pass N` in the background (its debug
    log says when the pass was taken)."""
    env = dict(stack.env, DBTREE_LOG_LEVEL="debug")
    return subprocess.Popen([os.path.join(stack.build, "bin", "dbtreectl"), "jobs",
                             "--only", name, "--pass", str(pass_no)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, **stack.as_service())


def claim_race(name, pass_no):
    """Two claimants of one pass meet on the job's row, which a psql session
    holds: the first waits, then the second; the row is let go.  Returns
    (first's stderr, second's stderr)."""
    holder = subprocess.Popen(stack.psql_argv() + ["-q", "-o", "/dev/null", "-v", "ON_ERROR_STOP=1"],
                              stdin=subprocess.PIPE, text=True, **stack.as_service())
    procs = []
    try:
        holder.stdin.write("BEGIN; SELECT 1 FROM job_runs WHERE name = '%s' FOR UPDATE;\n" % name)
        holder.stdin.flush()
        wait_until(lambda: stack.psql("SELECT count(*) FROM pg_locks WHERE relation ="
                                      " 'job_runs'::regclass AND mode = 'RowShareLock'"
                                      " AND granted") != [["0"]], timeout=5, what="row held")
        for n in (1, 2):
            procs.append(claimant(name, pass_no))
            wait_until(lambda: stack.lock_waiters() == n, timeout=15,
                       what="%d claimant(s) waiting on the row" % n)
        holder.stdin.write("COMMIT;\n")
        holder.stdin.flush()
        outs = []
        for p in procs:
            _, err = p.communicate(timeout=60)
            check(p.returncode == 0, "a claimant exits 0", err[-2000:])
            outs.append(err)
        return outs
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        holder.stdin.close()
        holder.wait(timeout=10)


def test_two_claimants_of_one_pass_run_it_once_in_either_order():
    name = "sessions"
    stack.ctl("jobs", "--only", name)       # the row exists; no pass claimed
    runs0, last0 = job_row(name)
    try:
        for k in (1, 2):                    # both orders: P then Q, Q then P
            before = job_row(name)
            pass_no = last0 + k
            first, second = claim_race(name, pass_no)
            taken = "job '%s' pass %d taken" % (name, pass_no)
            check(taken not in first, "the first claimant ran pass %d" % pass_no, first[-500:])
            check(taken in second, "the second found pass %d taken" % pass_no, second[-500:])
            after = job_row(name)
            check(after == (before[0] + 1, pass_no), "one run, pass %d claimed" % pass_no,
                  (before, after))
        p = stack.ctl("jobs", "--only", name, "--pass", str(last0 + 1),
                      extra_env={"DBTREE_LOG_LEVEL": "debug"})
        check("pass %d taken" % (last0 + 1) in p.stderr, "an older pass is not run again",
              p.stderr[-500:])
        stack.ctl("jobs", "--only", name)   # a direct run runs, claiming nothing
        check(job_row(name) == (runs0 + 3, last0 + 2), "a direct run counts, claims nothing",
              job_row(name))
    finally:
        # the suite's later loops number passes by the clock
        stack.psql("UPDATE job_runs SET last_pass = NULLIF(:p2, 0) WHERE name = :'p1'",
                   name, last0)


def test_timer_runs_claim_the_pass_of_now_once():
    # the systemd timer of every host runs `dbtreectl jobs --every 5`: two
    # such runs in one slot (a slot of 100,000 s here) run the job once
    name = "sessions"
    stack.ctl("jobs", "--only", name)
    runs0, last0 = job_row(name)
    try:
        stack.psql("UPDATE job_runs SET last_pass = NULL WHERE name = :'p1'", name)
        first = stack.ctl("jobs", "--only", name, "--every", "100000",
                          extra_env={"DBTREE_LOG_LEVEL": "debug"})
        second = stack.ctl("jobs", "--only", name, "--every", "100000",
                           extra_env={"DBTREE_LOG_LEVEL": "debug"})
        check("taken" not in first.stderr, "the first timer run runs", first.stderr[-500:])
        check("taken" in second.stderr, "the second finds the slot taken", second.stderr[-500:])
        slot = int(time.time()) // 100000
        check(job_row(name) in ((runs0 + 1, slot), (runs0 + 1, slot - 1)),
              "one run, the slot of now claimed", job_row(name))
    finally:
        stack.psql("UPDATE job_runs SET last_pass = NULLIF(:p2, 0) WHERE name = :'p1'",
                   name, last0)


# -- the cluster ----------------------------------------------------------

class Cluster:
    def __init__(self):
        # hosts reach nothing on the root namespace's 127.0.0.1: mail goes
        # to files, spans nowhere
        self.env = dict(stack.env, DBTREE_MAIL_TRANSPORT="file", DBTREE_OTLP_ENDPOINT="",
                        DBTREE_JOBS_LOOP="1")
        self.env.pop("DBTREE_FRONT_PORT", None)
        self.up = False

    def local(self, *args):
        return subprocess.run([LOCAL] + list(args), env=self.env, capture_output=True,
                              text=True, timeout=120)

    def start(self):
        self.up = True
        p = self.local("cluster-start", stack.dir)
        check(p.returncode == 0, "cluster-start", p.stderr[-3000:])
        m = re.match(r"http://127\.0\.0\.1:(\d+)$", p.stdout.strip())
        check(m is not None, "the front's URL", p.stdout)
        self.front = int(m.group(1))
        with open(os.path.join(stack.dir, "hosts", "net")) as f:
            self.net_id, x = f.read().split()
        self.addr = {"a": "10.213.%s.2" % x, "b": "10.213.%s.6" % x}

    def stop(self):
        """cluster-stop; its exit status and stderr (a failing test must
        still stop the cluster, and report its own failure)."""
        if not self.up:
            return 0, ""
        p = self.local("cluster-stop", stack.dir)
        self.up = False
        return p.returncode, p.stderr[-2000:]

    def namespaces(self):
        out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        return [ln.split()[0] for ln in out.splitlines()
                if ln.startswith("dbt%s-" % self.net_id)]

    def links(self):
        out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        return [ln for ln in out.splitlines() if (" dbt%s" % self.net_id) in ln]

    def access_lines(self, host):
        with open(os.path.join(stack.dir, "hosts", host, "log", "nginx-access.log")) as f:
            return sum(1 for _ in f)


def call(addr, port, method, path, body=None, token=None, timeout=10):
    """One request on a fresh connection to addr:port; (status, parsed JSON
    or None).  Raises OSError when the connection fails."""
    headers = {"Host": "dbtree"}
    data = None
    if token:
        headers["Authorization"] = "Bearer " + token
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection(addr, port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, None
    finally:
        conn.close()


def right_option(attempt):
    return int(stack.psql("SELECT q.correct_option_idx FROM user_quiz_attempts a"
                          " JOIN quizzes q ON q.id = a.quiz_id WHERE a.id = :p1",
                          attempt)[0][0])


def harvest_cycle(addr, port, token, positions=None, starts=None):
    """Quiz -> right answer -> click on one available lemon through
    addr:port, trying up to starts of them (all); returns (position,
    status, body) of the click, or None when no lemon could be started."""
    st, tree = call(addr, port, "GET", "/api/lemon/global-status")
    if st != 200:
        return None
    free = [p for p in tree["availablePositions"] if positions is None or p in positions]
    random.shuffle(free)
    for pos in free[:starts]:
        st, q = call(addr, port, "GET", "/api/quiz/%d" % pos, token=token)
        if st != 200:
            continue
        a = q["attemptID"]
        st, r = call(addr, port, "POST", "/api/quiz/answer",
                     {"attemptID": a, "optionIdx": right_option(a)}, token=token)
        if st != 200:
            return None
        st, h = call(addr, port, "POST", "/api/lemon/harvest",
                     {"positionId": pos, "attemptId": a}, token=token)
        return pos, st, h
    return None


def job_passes():
    """{job: (runs, last_pass)} of the looped jobs, read while none of them
    is between its claim and its end (so runs and last_pass agree)."""
    def snap():
        rows = stack.psql("SELECT name, runs, coalesce(last_pass, 0),"
                          " finished_at >= started_at FROM job_runs")
        got = {r[0]: (int(r[1]), int(r[2])) for r in rows if r[0] in LOOP_JOBS}
        settled = all(r[3] == "t" for r in rows if r[0] in LOOP_JOBS)
        return got if settled and len(got) == len(LOOP_JOBS) else None
    return wait_until(snap, timeout=10, what="the jobs between runs", interval=0.05)


LET_GO = re.compile(r"jobs: passes (\d+) to (\d+) let go")
HELD = re.compile(r"job '(\w+)' skipped in pass (\d+): running elsewhere")


def loop_log(host, job):
    """The log of the loop on host that runs job (backups loop alone)."""
    name = "backups.log" if job == "backups" else "jobs.log"
    with open(os.path.join(stack.dir, "hosts", host, "log", name)) as f:
        return f.read()


def passes_not_run(hosts, job, lo, hi):
    """The passes in (lo, hi] that job was rightly not run in: slots that
    every live host's loop let go by (its pass before ran past its period)
    and passes claimed while the job still ran from before."""
    gone = None
    held = set()
    for h in hosts:
        text = loop_log(h, job)
        let_go = {p for m in LET_GO.finditer(text)
                  for p in range(int(m.group(1)), int(m.group(2)) + 1)}
        gone = let_go if gone is None else gone & let_go
        held |= {int(m.group(2)) for m in HELD.finditer(text) if m.group(1) == job}
    return {p for p in gone | held if lo < p <= hi}


def check_one_run_per_pass(p0, p1, hosts, what):
    """Between two snapshots every job ran exactly once in each pass some
    host started: its runs grew by as much as its last pass, less the
    passes the loops logged as not run (none twice, none lost)."""
    logged = {}
    for job in LOOP_JOBS:
        runs = p1[job][0] - p0[job][0]
        passes = p1[job][1] - p0[job][1]
        not_run = sorted(passes_not_run(hosts, job, p0[job][1], p1[job][1]))
        check(passes >= 2 and runs == passes - len(not_run),
              "%s: %s ran once per pass" % (what, job),
              {"runs": runs, "passes": passes, "not run": not_run})
        if not_run:
            logged[job] = not_run
    if logged:
        figure("%s: passes logged as not run (a pass ran past its period): %s"
               % (what, logged))


def three_passes_run_once(hosts, what):
    """Waits for three more passes and checks each job ran once in each
    (check_one_run_per_pass)."""
    p0 = job_passes()
    wait_until(lambda: job_passes()["sessions"][1] >= p0["sessions"][1] + 3,
               timeout=10, what="three passes (%s)" % what)
    p1 = job_passes()
    check_one_run_per_pass(p0, p1, hosts, what)
    figure("%s: %d passes, %d runs of each job"
           % (what, p1["sessions"][1] - p0["sessions"][1], p1["sessions"][0] - p0["sessions"][0]))


class Load:
    """Users harvesting (and a few creating an instance) through the front
    until stop(); every answer the client saw is kept."""

    def __init__(self, front, users):
        self.front, self.users = front, users
        self.harvests = []      # (user_id, transactionId) of each 200
        self.creates = []       # (user_id, instance id) of each 202
        self.failed = 0         # requests the client saw fail (no answer, 5xx)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.pool = concurrent.futures.ThreadPoolExecutor(len(users))
        self.running = [self.pool.submit(self._user, i, u) for i, u in enumerate(users)]

    def _user(self, i, user):
        uid, token = user
        made = 0
        while not self.stopping.is_set():
            try:
                if i % 3 == 0 and made < 2:
                    made += 1
                    st, body = call("127.0.0.1", self.front, "POST", "/api/db/instances",
                                    {"name": "h%d-%d" % (i, made),
                                     "presetId": "redis-standalone-tiny"}, token=token)
                    if st == 202:
                        with self.lock:
                            self.creates.append((uid, body["id"]))
                    elif st >= 500:
                        with self.lock:
                            self.failed += 1
                # one quiz start a cycle, a cycle every 2.5 s: a person may
                # start 30 quizzes a minute, and a refused start counts
                r = harvest_cycle("127.0.0.1", self.front, token, starts=1)
                if r and r[1] == 200:
                    with self.lock:
                        self.harvests.append((uid, r[2]["transactionId"]))
                elif r and r[1] >= 500:
                    with self.lock:
                        self.failed += 1
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.failed += 1
            self.stopping.wait(2.5)

    def stop(self):
        self.stopping.set()
        for f in self.running:
            f.result(timeout=60)
        self.pool.shutdown()


def check_nothing_lost(load, users):
    """Every harvest and create the client saw is in PostgreSQL, once."""
    ids = [u for u, _ in users]
    id_list = "{%s}" % ",".join(ids)
    tx = {r[0] for r in stack.psql(
        "SELECT id::text FROM user_lemon_transactions WHERE action_type = 'harvest'"
        " AND user_id = ANY(:'p1'::uuid[])", id_list)}
    missing = [t for _, t in load.harvests if t not in tx]
    check(not missing, "every 200 harvest is in the ledger", missing)
    rows = stack.psql(
        "SELECT i.external_id, count(t.id) FROM db_instances i"
        " LEFT JOIN user_lemon_transactions t ON t.db_instance_id = i.id"
        " AND t.action_type = 'instance_create'"
        " WHERE i.user_id = ANY(:'p1'::uuid[]) GROUP BY i.external_id", id_list)
    made = {r[0]: int(r[1]) for r in rows}
    for _, iid in load.creates:
        check(made.get(iid) == 1, "a 202 instance and its one debit", (iid, made.get(iid)))
    # one ledger row per successful harvest attempt, for every user
    rows = stack.psql(
        "SELECT u, h, a FROM (SELECT u.id::text AS u,"
        " (SELECT count(*) FROM user_lemon_transactions t WHERE t.user_id = u.id"
        "  AND t.action_type = 'harvest') AS h,"
        " (SELECT count(*) FROM user_quiz_attempts q WHERE q.user_id = u.id"
        "  AND q.harvest_status = 'success') AS a"
        " FROM users u WHERE u.id = ANY(:'p1'::uuid[])) s WHERE h <> a", id_list)
    check(not rows, "one harvest ledger row per harvested attempt", rows)
    check(not stack.ledger_violations(), "balance = sum of the ledger",
          stack.ledger_violations())


def front_answers(port):
    """A condition: the front answers global-status (through a live host)."""
    def ok():
        try:
            st, body = call("127.0.0.1", port, "GET", "/api/lemon/global-status", timeout=2)
        except OSError:
            return False
        return st == 200 and "availablePositions" in body
    return ok


def test_two_hosts_behind_one_front_survive_a_kill_of_one():
    c = Cluster()
    t0 = time.monotonic()
    try:
        c.start()
        figure("cluster-start (2 hosts + front) took %.1f s" % (time.monotonic() - t0))
        check(sorted(c.namespaces()) == ["dbt%s-a" % c.net_id, "dbt%s-b" % c.net_id],
              "one namespace per host", c.namespaces())
        for h in "ab":
            st, _ = call(c.addr[h], HOST_PORT, "GET", "/api/ready")
            check(st == 200, "host %s answers on its own address" % h, st)

        # live events cross hosts: a harvest on one reaches the other's pages
        users = stack.make_users(12, prefix="two")
        subs = {h: EventStream(c.addr[h], HOST_PORT) for h in "ab"}
        ws = WebSocket("127.0.0.1", c.front, "/api/lemon/events")    # via the front
        try:
            done = set()    # a position is harvested once here: its event is new
            for here, there in (("a", "b"), ("b", "a")):
                stack.psql("UPDATE users SET last_harvest_at = NULL")
                r = wait_until(lambda: harvest_cycle(c.addr[here], HOST_PORT, users[0][1],
                                                     set(range(10)) - done),
                               timeout=10, what="a harvest on host %s" % here)
                done.add(r[0])
                check(r[1] == 200, "harvested on host %s" % here, r)
                t = time.monotonic()
                subs[there].harvested(r[0])
                figure("harvest on host %s seen by host %s's subscriber after %.0f ms"
                       % (here, there, (time.monotonic() - t) * 1000))
            seen = set()
            while seen != done:     # regrowths may come between
                ev = ws.next_json(timeout=5.0)
                if ev.get("type") == "harvest":
                    seen |= {lm["position"] for lm in ev["lemons"]}
            figure("a WebSocket page through the front saw both harvests")
        finally:
            ws.close()
            for s in subs.values():
                s.close()

        # jobs: one run per pass between the two hosts
        three_passes_run_once("ab", "two hosts")

        # load through the front, then kill host a in the middle of it
        for uid, _ in users:
            stack.grant(uid, 20)
        lines0 = {h: c.access_lines(h) for h in "ab"}
        load = Load(c.front, users)
        try:
            # the load is under way before the kill: harvests and creates
            wait_until(lambda: len(load.harvests) >= 2 and load.creates, timeout=30,
                       what="harvests and creates through the front")
            wait_until(lambda: all(c.access_lines(h) > lines0[h] for h in "ab"),
                       timeout=5, what="requests in both hosts' access logs")
            per_host = {h: c.access_lines(h) - lines0[h] for h in "ab"}
            figure("requests per host before the kill: a %d, b %d" % (per_host["a"], per_host["b"]))
            # the clock starts as host-kill starts; the front is asked once
            # the signals are sent (a killed process serves nothing more)
            k0 = time.monotonic()
            kill = subprocess.Popen([LOCAL, "host-kill", stack.dir, "a"], env=c.env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            sent = kill.stdout.readline()
            k_sent = time.monotonic()
            check(re.match(r"killed [1-9]\d*$", sent.strip()), "SIGKILL sent", sent)
            wait_until(front_answers(c.front), timeout=5, interval=0.01,
                       what="the front to answer after the kill")
            answered = time.monotonic() - k0
            after_signals = time.monotonic() - k_sent
            out, err = kill.communicate(timeout=30)
            k1 = time.monotonic()
            check(kill.returncode == 0, "host-kill", err)
            figure("kill -9 of host a (%s processes): signals sent %.0f ms after host-kill"
                   " began; the front answered through b at %.0f ms; host-kill saw the last"
                   " process gone at %.0f ms" % (sent.split()[1], (k_sent - k0) * 1000,
                                                 answered * 1000, (k1 - k0) * 1000))
            # the kill is the signals: host-kill's own start (a shell, a
            # scan of /proc for the namespace) is the machine's load
            check(after_signals < 2.0, "the front answers within 2 s of the kill", after_signals)
            lines_b = c.access_lines("b")
            # the load goes on through b alone, harvests included: every
            # lemon is made due (b's regrow job brings them back), and
            # harvests answered once host a's last process is gone come
            # from b (two allowed for answers read out of a's sockets)
            with load.lock:
                n_gone = len(load.harvests)
            stack.psql("UPDATE lemons SET next_available_at = now() WHERE NOT is_available")
            wait_until(lambda: c.access_lines("b") > lines_b + 10, timeout=15,
                       what="requests through b alone")
            wait_until(lambda: len(load.harvests) >= n_gone + 4, timeout=30,
                       what="harvests through b alone")
            figure("harvests through b alone: %d" % (len(load.harvests) - n_gone))
        finally:
            load.stop()
        figure("client saw %d harvests, %d instance creates, %d failed requests"
               % (len(load.harvests), len(load.creates), load.failed))
        check(len(load.harvests) >= 3, "harvests went through", len(load.harvests))
        check(load.creates, "instances were created", load.creates)
        wait_until(lambda: c.access_lines("b") > lines_b, timeout=5, what="b's log grows")
        check_nothing_lost(load, users)

        # b runs every pass alone
        three_passes_run_once("b", "host b alone")
    finally:
        stopped = c.stop()
    check(stopped[0] == 0, "cluster-stop", stopped[1])
    check(c.namespaces() == [] and c.links() == [], "cluster-stop removes namespaces and links",
          (c.namespaces(), c.links()))
