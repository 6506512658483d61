"""tests/otlp/receiver.mjs, the OTLP/HTTP trace receiver, as a child
process.  The runner starts one per suite (stack.otlp) and points the
service at it (DBTREE_OTLP_ENDPOINT).

    spans = stack.otlp.wait_for(lambda ss: any(s["name"] == "GET /api/health" for s in ss))
    check(not stack.otlp.find_text([password]), "no span carries the password")

A span, as the receiver flattens it: {traceId, spanId, parentSpanId ("" for
a root), name, kind, start, end (nanoseconds, decimal strings), attributes
{key: plain value (an int64 as int, or as str beyond 2**53)}, events
[{name, time, attributes}], links [{traceId, spanId, attributes}], status
{code, message}, traceState, resource {key: value}, scope {name, version}}.
"""
import json
import os
import subprocess
import urllib.error
import urllib.request

import dbt


class OtlpReceiver(dbt.Child):
    def __init__(self, directory):
        self.dir = directory
        self.port_file = os.path.join(directory, "otlp.port")
        self.log = os.path.join(directory, "log", "otlp.log")
        self.proc = None
        self.port = None
        self.base = None
        self.url = None     # the endpoint: http://127.0.0.1:PORT/v1/traces

    def start(self):
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.proc = subprocess.Popen(
            ["node", os.path.join(dbt.ROOT, "tests", "otlp", "receiver.mjs"), "--port", "0",
             "--port-file", self.port_file, "--quiet"],
            stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        # the receiver writes the file (by rename) once it listens
        dbt.wait_until(self._started, timeout=15, what="the OTLP receiver")
        self.base = "http://127.0.0.1:%d" % self.port
        self.url = self.base + "/v1/traces"

    def _started(self):
        if self.proc.poll() is not None:
            raise AssertionError("the OTLP receiver exited with %s; see %s "
                                 "(tests/otlp/node_modules missing? make browser-deps)"
                                 % (self.proc.returncode, self.log))
        try:
            with open(self.port_file) as f:
                self.port = int(f.read())
            return True
        except (OSError, ValueError):
            return False

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def spans(self):
        """Every span accepted since the last reset(), in arrival order."""
        return self._call("GET", "/spans")

    def rejects(self, all=False):
        """Refused requests since the last reset() (all=True: since start),
        each {reason, snippet, contentType, expected, time}."""
        return self._call("GET", "/rejects?all=1" if all else "/rejects")

    def unexpected_rejects(self):
        """Refused requests that did not announce themselves as invalid on
        purpose (header X-Otlp-Expect-Invalid: 1), since start."""
        return [r for r in self.rejects(all=True) if not r["expected"]]

    def stats(self):
        """{requests, spans, rejects, failed}: failed counts valid requests
        answered with a control status."""
        return self._call("GET", "/stats")

    def control(self, delay_ms=None, status=None):
        """Later exports wait delay_ms before their answer and/or get HTTP
        status (a slow or failing collector); status=200 / delay_ms=0
        restore.  Returns the controls now in force."""
        body = {}
        if delay_ms is not None:
            body["delayMs"] = delay_ms
        if status is not None:
            body["status"] = status
        return self._call("POST", "/control", body)

    def reset(self):
        """Forgets the spans, rejects and counters and restores the
        controls (no delay, 200).  rejects(all=True) keeps every reject."""
        self._call("POST", "/reset", {})

    def post(self, payload, content_type="application/json", expect_invalid=False):
        """POSTs payload (a dict as JSON, or bytes) to the endpoint as an
        exporter would; returns (status, parsed JSON body or None)."""
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": content_type}
        if expect_invalid:
            headers["X-Otlp-Expect-Invalid"] = "1"
        req = urllib.request.Request(self.url, data=data, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        try:
            return status, json.loads(body) if body else None
        except ValueError:
            return status, None

    def trace(self, trace_id):
        """The spans of one trace."""
        return [s for s in self.spans() if s["traceId"] == trace_id]

    def wait_for(self, predicate, timeout=10.0, what="spans"):
        """Polls spans() until predicate(spans) is truthy; returns the spans."""
        found = []

        def ready():
            found[:] = self.spans()
            return predicate(found)
        dbt.wait_until(ready, timeout=timeout, what=what)
        return list(found)

    def find_text(self, strings):
        """Spans whose name, any attribute (of the span, its events or
        links) or status message contains any of strings: for checks that
        no span carries a password, token, login code or SQL parameter."""
        needles = [s for s in strings if s]

        def texts(span):
            yield span["name"]
            yield span["status"]["message"]
            for where in [span] + span["events"] + span["links"]:
                for k, v in where["attributes"].items():
                    yield k
                    yield v if isinstance(v, str) else json.dumps(v)
            for e in span["events"]:
                yield e["name"]
        return [s for s in self.spans()
                if any(n in t for t in texts(s) for n in needles)]
