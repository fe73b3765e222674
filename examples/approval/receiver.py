"""A notification receiver for the tour: checks each delivery's signature and prints it.

    WAYPOST_WEBHOOK_SECRET=... python receiver.py    # listens on 127.0.0.1:9000

Waypost signs every notification with HMAC-SHA256 over "<timestamp>.<raw body>", using the
secret both sides read from WAYPOST_WEBHOOK_SECRET, and sends it as
`X-Waypost-Signature: t=<unix seconds>,v1=<hex digest>`. A retry of the same notification
carries the same `X-Waypost-Delivery` id: use it to ignore one you already handled.
"""

import hashlib
import hmac
import json
import os
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = os.environ["WAYPOST_WEBHOOK_SECRET"].encode()
TOLERANCE_S = 300


def verified(header: str, body: bytes) -> bool:
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = hmac.new(SECRET, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return abs(time.time() - t) <= TOLERANCE_S and hmac.compare_digest(expected, parts["v1"])


class Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not verified(self.headers.get("X-Waypost-Signature", ""), body):
            self.send_response(401)
            self.end_headers()
            return
        event = json.loads(body)
        print(f"{event['event']}: {event['summary']}  ->  {event['inbox_url']}", flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", 9000), Hook).serve_forever()
