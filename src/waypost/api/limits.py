"""How much one request may ask for: page sizes, offsets, delays, JSON depth, body bytes.

Each bound is one constant, used by every route that has the parameter, so the same value is
refused the same way everywhere and the OpenAPI document states it.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from waypost.errors import PayloadTooLarge

MAX_LIMIT = 1000
# SQLite binds 64-bit integers and Python's are unbounded: offsets and version numbers stop
# at a bound no real table reaches.
INT32_MAX = 2**31 - 1
MAX_OFFSET = INT32_MAX
MAX_AFTER_SECONDS = 365 * 24 * 3600
# Well below orjson's 255 levels, so whatever a body stores can still be written back inside
# a response (a search page wraps each row in two more levels).
MAX_JSON_DEPTH = 100


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON `value` nests deeper than `limit` (a scalar is 0, `{}` is 1). Iterative:
    orjson parses up to 1024 levels, more than Python's recursion limit."""
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def nul_at(value: Any) -> str | None:
    """Where a key or a string in JSON `value` holds NUL (a path like `metadata.k` or
    `assignees[0]`, "" for the whole), or None. PostgreSQL's text and jsonb cannot store NUL
    and SQLite's JSON functions end a text at it, so such a body is refused whole rather than
    stored by one backend and failed by the other."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if "\0" in node:
                return path
        elif isinstance(node, dict):
            for key, child in node.items():
                at = f"{path}.{key}" if path else str(key)
                if "\0" in key:
                    return at.replace("\0", "\\u0000")
                stack.append((child, at))
        elif isinstance(node, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(node))
    return None


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses these; counting still applies
    return None


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` gets 413. A declared Content-Length is
    refused before any of the body is read; a body without one is counted as it arrives, and
    the read that crosses the limit raises PayloadTooLarge inside the route, so nothing the
    route would have written is written."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _message(self) -> str:
        return f"Request body is larger than {self.max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await JSONResponse({"detail": self._message()}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge(self._message())
            return message

        await self.app(scope, counted, send)
