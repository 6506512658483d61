"""A WebSocket subscriber (RFC 6455, client side, text frames only) on a
raw socket, for the live events: the handshake is checked, frames from the
server come unmasked, pings and other control frames are skipped."""
import base64
import hashlib
import json
import os
import select
import socket
import struct
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WebSocket:
    def __init__(self, host, port, path, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: dbtree\r\n"
                          b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          b"Sec-WebSocket-Key: " + key + b"\r\n"
                          b"Sec-WebSocket-Version: 13\r\n\r\n")
        self.buf = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                raise AssertionError("no WebSocket handshake answer")
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.head = head.decode(errors="replace")
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        if not self.head.startswith("HTTP/1.1 101") or accept not in self.head:
            raise AssertionError("not upgraded: " + self.head)

    def _fill(self, deadline):
        ready, _, _ = select.select([self.sock], [], [], max(0, deadline - time.monotonic()))
        if not ready:
            return False
        chunk = self.sock.recv(65536)
        if not chunk:
            raise AssertionError("the WebSocket was closed")
        self.buf += chunk
        return True

    def _frame(self):
        """(opcode, payload) of the first whole frame in the buffer, or None."""
        if len(self.buf) < 2:
            return None
        op, n = self.buf[0] & 0x0F, self.buf[1] & 0x7F
        at = 2
        if n == 126:
            if len(self.buf) < 4:
                return None
            n, at = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            if len(self.buf) < 10:
                return None
            n, at = struct.unpack(">Q", self.buf[2:10])[0], 10
        if len(self.buf) < at + n:
            return None
        payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
        return op, payload

    def next_json(self, timeout=5.0):
        """The next text message, parsed; AssertionError when none comes
        within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            f = self._frame()
            if f and f[0] == 1:
                return json.loads(f[1].decode())
            if f:
                continue        # ping, pong, binary: not ours
            if not self._fill(deadline):
                raise AssertionError("no message within %.1f s" % timeout)

    def close(self):
        self.sock.close()
