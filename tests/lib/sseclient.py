"""An EventSource-like subscriber to the live events on a raw socket (a
wait for an event that does not come leaves it usable), beside the
WebSocket one in wsclient.py."""
import json
import select
import socket
import time

from dbt import check

EVENTS = "/api/lemon/events"


class EventStream:
    def __init__(self, host, port, last_event_id=None, query=""):
        self.sock = socket.create_connection((host, port), timeout=5)
        extra = "Last-Event-ID: %s\r\n" % last_event_id if last_event_id else ""
        self.sock.sendall(("GET %s%s HTTP/1.1\r\nHost: dbtree\r\n"
                           "Accept: text/event-stream\r\n%s\r\n" % (EVENTS, query, extra)).encode())
        self.buf = b""
        deadline = time.monotonic() + 5
        while b"\r\n\r\n" not in self.buf:
            check(self._fill(deadline), "the stream's head")
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        head = head.decode()
        check(head.startswith("HTTP/1.1 200"), "subscribed", head)
        check("text/event-stream" in head, "an event stream", head)

    def _fill(self, deadline):
        ready, _, _ = select.select([self.sock], [], [], max(0, deadline - time.monotonic()))
        if not ready:
            return False
        chunk = self.sock.recv(65536)
        check(chunk, "the stream stays open")
        self.buf += chunk
        return True

    def _event(self):
        """The first complete event in the buffer (comments and the chunked
        encoding's size lines skipped), or None."""
        while b"\n\n" in self.buf:
            block, _, self.buf = self.buf.partition(b"\n\n")
            ev = {}
            for line in block.decode().split("\n"):
                if line.startswith("id:"):
                    ev["id"] = line[3:].strip()
                elif line.startswith("data:"):
                    ev["data"] = json.loads(line[5:].strip())
            if "data" in ev:
                ev["at"] = time.time() * 1000
                return ev
        return None

    def next(self, timeout=5.0):
        """The next event: {"id", "data" (parsed), "at" (receipt, ms since
        the epoch)}; AssertionError when none comes within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            ev = self._event()
            if ev:
                return ev
            if not self._fill(deadline):
                raise AssertionError("no event within %.1f s" % timeout)

    def harvested(self, position, timeout=5.0):
        """Waits for a harvest event naming position (others are passed
        over)."""
        deadline = time.monotonic() + timeout
        while True:
            d = self.next(max(0.0, deadline - time.monotonic()))["data"]
            if d.get("type") == "harvest" and any(
                    lm.get("position") == position for lm in d.get("lemons", [])):
                return d

    def close(self):
        self.sock.close()
