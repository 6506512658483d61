"""Runs test suites against one throwaway dbtree stack.

    runner.py NAME DIR [DIR...]

Starts bin/dbtree-local in a temporary directory (sanitizer build, fsync
off, the probe pool included), imports every tests/<dir>/test_*.py, runs
each test_* function in file order, stops the stack (also on failure or
Ctrl-C), checks the pools' logs for sanitizer reports and the OTLP
receiver (tests/otlp, stack.otlp) for refused trace exports, and prints
"NAME: N passed, N failed" last.  Exit status 1 if anything failed.
"""
import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dbt  # noqa: E402
from otlp import OtlpReceiver  # noqa: E402

ROOT = dbt.ROOT
SANITIZER = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:")


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink(dbt.Child):
    """tests/stack/smtp_sink.py as a child process; stop() and start() it
    to take the mail server down and bring it back."""

    def __init__(self, directory):
        self.dir = os.path.join(directory, "smtp")
        os.makedirs(self.dir, mode=0o700, exist_ok=True)    # mails hold login codes
        self.port = free_port()
        self.proc = None
        self.log = os.path.join(directory, "log", "smtp.log")

    def start(self):
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(ROOT, "tests", "stack", "smtp_sink.py"),
             str(self.port), self.dir],
            stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        dbt.wait_until(lambda: self._listening(), timeout=10, what="the SMTP sink")

    def _listening(self):
        import socket
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False


class K8sStandIn(dbt.Child):
    """tests/k8s/server.mjs, the Kubernetes API stand-in, as a child
    process (for the kubernetes suite)."""

    def __init__(self, directory):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.token_file = os.path.join(directory, "k8s-token")
        with open(self.token_file, "w") as f:
            f.write("test-token-%d" % self.port)
        self.log = os.path.join(directory, "log", "k8s.log")
        self.proc = subprocess.Popen(
            ["node", os.path.join(ROOT, "tests", "k8s", "server.mjs"), "--port",
             str(self.port), "--token", "test-token-%d" % self.port, "--quiet"],
            stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        dbt.wait_until(self._listening, timeout=15, what="the Kubernetes stand-in")

    def _listening(self):
        import urllib.request
        try:
            urllib.request.urlopen(self.url + "/_control/stats", timeout=0.5).read()
            return True
        except OSError:
            return False

    def env(self):
        return {"DBTREE_PROVISIONER": "kubernetes", "DBTREE_K8S_API": self.url,
                "DBTREE_K8S_TOKEN_FILE": self.token_file, "DBTREE_K8S_CA_FILE": "",
                "DBTREE_K8S_NAMESPACE": "dbtree", "DBTREE_K8S_TIMEOUT_MS": "3000",
                "DBTREE_PROVISION_TIMEOUT": "5"}


def start_stack(kubernetes=False):
    directory = tempfile.mkdtemp(prefix="dbtree-test-")
    os.makedirs(os.path.join(directory, "log"), exist_ok=True)
    smtp = SmtpSink(directory)
    smtp.start()
    otlp = OtlpReceiver(directory)
    try:
        otlp.start()
        k8s = K8sStandIn(directory) if kubernetes else None
    except Exception:
        smtp.stop()
        otlp.stop()
        raise
    env = dict(os.environ)
    if k8s:
        env.update(k8s.env())
    build = os.path.join(ROOT, env.get("DBTREE_BUILD", "build-san"))
    env.update({
        "DBTREE_BUILD": build,
        "DBTREE_FAST": "1",
        "DBTREE_POOL_DIRS": "%s/fcgi %s/test-fcgi" % (build, build),
        "DBTREE_NGINX_EXTRA": os.path.join(ROOT, "tests", "stack", "probe.nginx.conf"),
        # log/san/: the one log folder the service's user may write in
        "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:log_path=" + os.path.join(directory, "log", "san", "asan"),
        "UBSAN_OPTIONS": "print_stacktrace=1:log_path=" + os.path.join(directory, "log", "san", "ubsan"),
        "DBTREE_MAIL_TRANSPORT": "smtp",
        "DBTREE_SMTP_URL": "smtp://127.0.0.1:%d" % smtp.port,
        "DBTREE_SMTP_TIMEOUT_MS": "3000",
        "DBTREE_ADMIN_EMAIL": "admin@example.com",
        "DBTREE_LOGIN_EXEMPT": "127.0.0.1",
        "DBTREE_MX_CHECK": "false",
        "DBTREE_HARVEST_COOLDOWN": "2",
        "DBTREE_REGROW_DELAY": "2",
        # no golden lemon unless a test asks for one (jobs run with
        # DBTREE_GOLDEN_PER_DAY=1, tests/integration/test_game.py): a
        # harvest elsewhere pays its usual 3
        "DBTREE_GOLDEN_PER_DAY": "0",
        "DBTREE_BILLING_PERIOD": "3",
        "DBTREE_PAUSE_GRACE": "4",
        "DBTREE_CAPACITY_CPU_MILLI": "20000",
        "DBTREE_CAPACITY_MEMORY_MB": "65536",
        "DBTREE_TEST_PAUSE_DIR": os.path.join(directory, "pause"),
        # every span the suite makes goes to the receiver, which refuses
        # (and the runner then fails the suite for) anything not valid OTLP
        "DBTREE_OTLP_ENDPOINT": otlp.url,
        "DBTREE_TRACE_SAMPLING": "1",
    })
    env.pop("DBTREE_HTTP_PORT", None)
    os.makedirs(os.path.join(directory, "log"), exist_ok=True)
    try:
        subprocess.run([os.path.join(ROOT, "bin", "dbtree-local"), "start", directory],
                       env=env, check=True)
    except subprocess.CalledProcessError:
        # a half-started stack must not outlive the run
        subprocess.run([os.path.join(ROOT, "bin", "dbtree-local"), "stop", directory], env=env)
        smtp.stop()
        otlp.stop()
        if k8s:
            k8s.stop()
        raise
    with open(os.path.join(directory, "env")) as f:
        for line in f:
            m = re.match(r"export (\w+)='(.*)'$", line.strip())
            if m:
                env[m.group(1)] = m.group(2)
    stack = dbt.Stack(directory, env, smtp)
    stack.k8s = k8s
    stack.otlp = otlp
    # pause points (Stack.pause): the service's user writes "reached" there
    pause = env["DBTREE_TEST_PAUSE_DIR"]
    os.makedirs(pause, mode=0o700, exist_ok=True)
    if os.getuid() == 0 and stack.service_user not in ("", "root"):
        import pwd
        pw = pwd.getpwnam(stack.service_user)
        os.chown(pause, pw.pw_uid, pw.pw_gid)
    return stack


def load_tests(dirs):
    tests = []
    for d in dirs:
        for path in sorted(glob.glob(os.path.join(ROOT, "tests", d, "test_*.py"))):
            name = "%s/%s" % (d, os.path.basename(path)[:-3])
            spec = importlib.util.spec_from_file_location(name.replace("/", "_"), path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            fns = [v for k, v in vars(mod).items() if k.startswith("test_") and callable(v)]
            fns.sort(key=lambda f: f.__code__.co_firstlineno)
            tests += [("%s.%s" % (name, f.__name__), f) for f in fns]
    return tests


def check_ledger():
    """After every test: balance = sum of the ledger, never negative."""
    bad = dbt.stack.ledger_violations()
    dbt.check(not bad, "ledger invariant holds for every user", bad)


def run_tests(tests):
    passed = failed = 0
    for name, fn in tests:
        t0 = time.monotonic()
        try:
            fn()
            check_ledger()
        except Exception as e:  # noqa: BLE001 - a test's failure is data here
            failed += 1
            print("FAIL %s (%.2fs): %s" % (name, time.monotonic() - t0, e), flush=True)
            if not isinstance(e, AssertionError):
                traceback.print_exc()
        else:
            passed += 1
            print("ok   %s (%.2fs)" % (name, time.monotonic() - t0), flush=True)
    return passed, failed


def sanitizer_reports(directory):
    """Sanitizer findings in the stack's logs (pools and their workers),
    as paths below log/."""
    found = []
    top = os.path.join(directory, "log")
    for d, _, files in os.walk(top):
        for name in files:
            with open(os.path.join(d, name), errors="replace") as f:
                text = f.read()
            if SANITIZER.search(text):
                found.append(os.path.relpath(os.path.join(d, name), top))
    return found


def check_otlp(suite, otlp, passed, failed):
    """After the stack stopped (its last exports delivered): every export
    the receiver refused, unless sent invalid on purpose, fails the suite."""
    try:
        bad = otlp.unexpected_rejects()
    except OSError as e:
        bad = [{"reason": "the OTLP receiver did not answer: %s" % e, "snippet": ""}]
    if bad:
        print("FAIL %s: %d trace export(s) refused as invalid OTLP" % (suite, len(bad)))
        for r in bad[:20]:
            print("  %s\n    %s" % (r["reason"], r["snippet"][:300]))
        return passed, failed + 1
    print("ok   %s: every trace export was valid OTLP" % suite)
    return passed + 1, failed


def main():
    suite, dirs = sys.argv[1], sys.argv[2:]
    stack = None
    passed = failed = 0
    try:
        stack = start_stack(kubernetes=(suite == "kubernetes"))
        dbt.stack = stack
        only = os.environ.get("DBTREE_TESTS", "")   # a name part, while working
        passed, failed = run_tests([t for t in load_tests(dirs) if only in t[0]])
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        failed += 1
    finally:
        if stack:
            subprocess.run([os.path.join(ROOT, "bin", "dbtree-local"), "stop", stack.dir],
                           env=stack.env)
            stack.smtp.stop()
            if stack.k8s:
                stack.k8s.stop()
            passed, failed = check_otlp(suite, stack.otlp, passed, failed)
            stack.otlp.stop()
            reports = sanitizer_reports(stack.dir)
            if reports:
                failed += 1
                print("FAIL %s: sanitizer reports in %s" % (suite, ", ".join(reports)))
                for name in reports:
                    print(open(os.path.join(stack.dir, "log", name), errors="replace").read()[-4000:])
            else:
                passed += 1
                print("ok   %s: no sanitizer reports in the stack's logs" % suite)
            keep = os.environ.get("DBTREE_KEEP_STACK")
            if keep:
                print("stack kept in", stack.dir)
            else:
                shutil.rmtree(stack.dir, ignore_errors=True)
    print("%s: %d passed, %d failed" % (suite, passed, failed), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
