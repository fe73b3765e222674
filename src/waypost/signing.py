"""Signatures on outgoing notifications, so a receiver can tell they came from this server
and were not replayed: HMAC-SHA256 over "<timestamp>.<body>" with a shared secret, sent as

    X-Waypost-Signature: t=<unix seconds>,v1=<hex digest>

A receiver recomputes the digest over the timestamp and the raw body it received, compares
in constant time, and refuses a timestamp too far from its clock. `verify` does exactly
that; the README shows the same in a few lines for receivers not written in Python.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Waypost-Signature"
DEFAULT_TOLERANCE_S = 300


def digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body`, signed now (or at `timestamp`)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={digest(secret, t, body)}"


def verify(secret: str, header: str, body: bytes, *, tolerance_s: int = DEFAULT_TOLERANCE_S) -> bool:
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        t = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs(time.time() - t) > tolerance_s:
        return False
    return hmac.compare_digest(given, digest(secret, t, body))
