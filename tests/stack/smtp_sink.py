"""A real SMTP server for the tests (aiosmtpd, Debian's python3-aiosmtpd).

    smtp_sink.py PORT DIR

Accepts every message on 127.0.0.1:PORT and writes each as DIR/NNNNNN.eml
(written to a temporary name, then renamed, so readers never see half a
file).  Recipients containing "reject" are refused with 550, for the
permanent-failure path.
"""
import asyncio
import itertools
import os
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.dir = directory
        self.seq = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "reject" in address:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.seq)
        tmp = os.path.join(self.dir, ".%06d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(("X-Envelope-To: %s\r\n" % ",".join(envelope.rcpt_tos)).encode())
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.dir, "%d-%06d.eml" % (os.getpid(), n)))
        return "250 OK queued"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("smtp sink on 127.0.0.1:%d" % port, flush=True)
    try:
        asyncio.new_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
