"""Monitoring: the rules and dashboard of systemd/monitoring/ checked by
promtool and loaded into a real Prometheus that scrapes this stack's
/metrics through nginx; the figures /metrics computes at scrape time
compared with the database."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

from dbt import stack, check, wait_until, ROOT
from play import harvest, play

MON = os.path.join(ROOT, "systemd", "monitoring")
RULES = os.path.join(MON, "dbtree.rules.yml")
RULE_TESTS = os.path.join(MON, "dbtree.rules.test.yml")
DASHBOARD = os.path.join(MON, "dbtree-dashboard.json")
PROMETHEUS = "/usr/bin/prometheus"
INSTANCES = "/api/db/instances"
JOBS = ("regrow", "sweep", "reconcile", "bill", "certs", "mail", "sessions")

# Every family the public pool adds at scrape time (lib/domain/health.c)
# and the certs job records (bin/dbtreectl.c).
SCRAPE_TIME = ("dependency_up", "outbox_depth", "outbox_oldest_age_seconds",
               "reconcile_lag_seconds", "instances",
               "instances_provisioning_oldest_age_seconds", "capacity_used_ratio",
               "lemons_in_circulation", "job_last_duration_seconds",
               "job_last_finish_timestamp_seconds", "job_last_ok", "job_runs_total",
               "tls_ca_expiry_timestamp_seconds",
               "tls_certificate_earliest_expiry_timestamp_seconds")


def alerts():
    with open(RULES) as f:
        return [r for g in yaml.safe_load(f)["groups"] for r in g["rules"] if "alert" in r]


def samples():
    """/metrics as {(name, frozenset of label pairs): value}, and its text."""
    text = stack.get("/metrics").text
    out = {}
    for line in text.splitlines():
        m = re.match(r'^([a-z_:]+)(?:\{(.*)\})? (\S+)$', line)
        if m:
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
            out[(m.group(1), labels)] = float(m.group(3))
    return out, text


def value(s, family, **labels):
    v = s.get(("dbtree_" + family, frozenset(labels.items())))
    check(v is not None, "dbtree_%s%r on /metrics" % (family, labels))
    return v


def test_promtool_accepts_the_rules():
    p = subprocess.run(["promtool", "check", "rules", RULES], capture_output=True, text=True)
    check(p.returncode == 0 and "SUCCESS" in p.stdout, "promtool check rules",
          p.stdout + p.stderr)


def test_promtool_tests_pass_and_every_alert_fires_in_one_and_not_in_another():
    p = subprocess.run(["promtool", "test", "rules", os.path.basename(RULE_TESTS)],
                       cwd=MON, capture_output=True, text=True)
    check(p.returncode == 0 and "SUCCESS" in p.stdout, "promtool test rules",
          p.stdout + p.stderr)
    with open(RULE_TESTS) as f:
        cases = [c for t in yaml.safe_load(f)["tests"] for c in t["alert_rule_test"]]
    fired = {c["alertname"] for c in cases if c.get("exp_alerts")}
    quiet = {c["alertname"] for c in cases if not c.get("exp_alerts")}
    names = {a["alert"] for a in alerts()}
    check(len(names) >= 15, "the rules have their alerts", names)
    check(names <= fired, "a case where each alert fires", sorted(names - fired))
    check(names <= quiet, "a case where each alert stays quiet", sorted(names - quiet))
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    for a in alerts():
        check(a["labels"].get("severity") in ("critical", "warning"), "severity", a["alert"])
        ann = a["annotations"]
        check(ann.get("summary") and ann.get("description") and
              ann.get("runbook", "").startswith("README.md#"), "annotations", a["alert"])
        anchor = ann["runbook"].split("#", 1)[1]
        check("## " + anchor.replace("-", " ").capitalize() in readme,
              "the runbook section exists", anchor)
        check("`%s`" % a["alert"] in readme, "a runbook line for the alert", a["alert"])


def create_instance(token, name):
    r = stack.post(INSTANCES, {"name": name, "type": "redis",
                               "resources": {"cpu": 0.1, "memory": 128, "disk": 1}},
                   headers=stack.auth(token))
    check(r.status == 202, "instance created", r)
    return r.json["id"]


def instance_status(token, iid):
    r = stack.get("%s/%s" % (INSTANCES, iid), headers=stack.auth(token))
    return r.json["status"] if r.status == 200 else None


def run_instance(token, iid):
    """Runs the jobs until the instance runs, then once more: the certs
    pass that sees its certificate."""
    wait_until(lambda: stack.jobs() and instance_status(token, iid) == "running",
               timeout=60, interval=0.3, what="the instance running")
    stack.jobs()


def delete_instance(token, iid):
    stack.request("DELETE", "%s/%s" % (INSTANCES, iid), headers=stack.auth(token))
    stack.jobs()


def test_metrics_has_the_scrape_time_figures_and_they_match_the_database():
    (uid, token), = stack.make_users(1, prefix="mon", balance=100)
    stack.jobs()
    s, text = samples()
    for name in SCRAPE_TIME:
        check("# HELP dbtree_%s " % name in text and "# TYPE dbtree_%s " % name in text,
              "HELP and TYPE", name)
    check(value(s, "dependency_up", dependency="postgresql") == 1, "postgresql up")
    check(value(s, "dependency_up", dependency="redis") == 1, "redis up")
    lemons = int(stack.psql("SELECT sum(lemon_balance) FROM users WHERE NOT is_deleted")[0][0])
    check(value(s, "lemons_in_circulation") == lemons, "lemons in circulation", lemons)
    now = time.time()
    for job in JOBS:
        check(value(s, "job_runs_total", name=job) >= 1, "passes counted", job)
        check(value(s, "job_last_ok", name=job) == 1, "last pass ok", job)
        check(abs(value(s, "job_last_finish_timestamp_seconds", name=job) - now) < 60,
              "finished just now", job)
        check(0 <= value(s, "job_last_duration_seconds", name=job) < 60, "duration", job)
    check(value(s, "tls_ca_expiry_timestamp_seconds") > now + 9 * 365 * 86400,
          "the CA is good for years")
    cpu_before = value(s, "capacity_used_ratio", resource="cpu")

    # a pending mail due in an hour, queued 100 s ago
    mail = stack.psql("INSERT INTO mail_outbox (kind, recipient, created_at, next_attempt_at)"
                      " VALUES ('welcome', 'mon@example.com', now() - interval '100 s',"
                      " now() + interval '1 hour') RETURNING id")[0][0]
    iid = None
    try:
        s, _ = samples()
        check(value(s, "outbox_depth") >= 1, "the pending mail counted")
        check(value(s, "outbox_oldest_age_seconds") >= 100, "its age")

        iid = create_instance(token, "mon-cache")
        s, _ = samples()
        check(value(s, "instances", status="provisioning", driver="local") >= 1,
              "the new instance provisioning")
        check(value(s, "instances_provisioning_oldest_age_seconds") > 0, "provisioning age")
        check(value(s, "reconcile_lag_seconds") > 0, "desired running, not running yet: lag")
        check(value(s, "capacity_used_ratio", resource="cpu") > cpu_before, "capacity taken")
        run_instance(token, iid)
        s, _ = samples()
        check(value(s, "instances", status="running", driver="local") >= 1, "running")
        end = value(s, "tls_certificate_earliest_expiry_timestamp_seconds")
        check(time.time() < end <= time.time() + 91 * 86400,
              "an instance certificate expiring within DBTREE_TLS_CERT_DAYS", end)
    finally:
        stack.psql("DELETE FROM mail_outbox WHERE id = :p1", mail)
        if iid:
            delete_instance(token, iid)


# -- a real Prometheus --------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    """/usr/bin/prometheus in a temporary directory, scraping the stack's
    /metrics through nginx every second and evaluating the shipped rules
    every second."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="dbtree-prometheus-")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                  "rule_files": [RULES],
                  "scrape_configs": [{"job_name": "dbtree", "metrics_path": "/metrics",
                                      "static_configs": [{"targets": [
                                          "127.0.0.1:%d" % stack.port]}]}]}
        path = os.path.join(self.dir, "prometheus.yml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + path,
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def get(self, path):
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as r:
                return r.status, r.read().decode()
        except OSError:
            return 0, ""

    def query(self, expr):
        """The result of an instant query (a list of series), or fails with
        Prometheus's error."""
        status, body = self.get("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        check(status == 200, "prometheus answers %s" % expr, body[-500:])
        return json.loads(body)["data"]["result"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def load(token):
    """A little of everything: logins (one failed), quizzes and a harvest,
    stats, an unknown path."""
    stack.login("mon-load@example.com")
    r = stack.post("/api/verify-otp?type=authentication",
                   {"email": "mon-load@example.com", "otp": "000000"})
    check(r.status >= 400, "a wrong code is refused", r)
    pos = stack.get("/api/lemon/global-status").json["availablePositions"]
    if pos:
        r = harvest(token, pos[0], play(token, pos[0]))
        check(r.status in (200, 409), "a harvest", r)
    for _ in range(3):
        stack.get("/api/stats")
        stack.get("/api/lemon/global-status")
    stack.get("/api/no-such-thing")


def dashboard_exprs():
    """(panel title, expr) of every target, with Grafana's variables
    replaced: the rate interval by 10 s (four scrapes), $group by all."""
    with open(DASHBOARD) as f:
        panels = json.load(f)["panels"]
    out = []
    for p in panels:
        for t in p.get("targets", []):
            e = t["expr"].replace("$__rate_interval", "10s").replace("$group", ".*")
            out.append((p["title"], e))
    return out


# A comparison with a number becomes its `bool` form, and a filtering
# `unless` becomes `or`: the expression then returns a series whenever the
# series it is computed from exist, whatever their values.  A label matcher
# (`!="..."`, `=~`) is never followed by a digit or a parenthesis.
COMPARISON = re.compile(r'(==|!=|>=|<=|>|<)(?!\s*bool\b)(?=\s*[0-9(.])')


def unthreshold(expr):
    return COMPARISON.sub(r"\1 bool", re.sub(r"\bunless\b", "or", expr))


def test_prometheus_scrapes_every_series_the_dashboard_and_the_alerts_use():
    check(os.access(PROMETHEUS, os.X_OK), "prometheus is installed (make deps)")
    (uid, token), = stack.make_users(1, prefix="monp", balance=100)
    prom = Prometheus()
    iid = None
    try:
        wait_until(lambda: prom.get("/-/ready")[0] == 200, timeout=15, what="prometheus ready")
        # an instance, for the instance and certificate panels
        iid = create_instance(token, "mon-prom")
        run_instance(token, iid)
        load(token)
        since = time.time()
        # three scrapes after the load, and a rule evaluation after those
        wait_until(lambda: prom.query('count_over_time(up{job="dbtree"}[%ds]) >= 3'
                                      % max(1, int(time.time() - since))) and
                   prom.query("dbtree:http_requests:rate5m"),
                   timeout=20, interval=0.5, what="scrapes after the load")
        check([r["value"][1] for r in prom.query('up{job="dbtree"}')] == ["1"],
              "the scrape succeeds")
        check(prom.query('dbtree_job_last_ok{job="dbtree",name="certs"}'),
              "a job's name does not clash with the scrape job's label")
        missing, unlabelled = [], []
        for title, e in dashboard_exprs():
            result = prom.query(e)
            if not result:
                missing.append((title, e))
            # the labels a panel groups by exist (a wrong name groups all
            # series under an empty one)
            wanted = {l.strip() for by in re.findall(r"\bby \(([^)]*)\)", e)
                      for l in by.split(",")} - {"le"}
            if any(not r["metric"].get(l) for r in result for l in wanted):
                unlabelled.append((title, e))
        check(not unlabelled, "every panel's series have the labels it groups by",
              ["%s: %s" % m for m in unlabelled])
        missing += [(a["alert"], unthreshold(a["expr"])) for a in alerts()
                    if not prom.query(unthreshold(a["expr"]))]
        check(not missing, "every panel and alert has data; these returned nothing",
              ["%s: %s" % m for m in missing])
    finally:
        prom.stop()
        if iid:
            delete_instance(token, iid)
    check(prom.proc.poll() is not None, "prometheus stopped")
