"""CORS, so browser clients on other origins (agent-chat-ui, an inbox page) can call the API.

By default any origin may call it with bearer or API-key headers, never with cookies
(credentials stay off), as the official server does; `http.cors` in langgraph.json narrows it.
Preflights are answered here, before authentication (they carry no credentials), including
Chrome's private-network preflight for pages on public origins calling a local server.
Responses expose the headers the SDKs read.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from waypost.config import CorsPolicy

# What the SDKs read from responses: run locations, pagination, request ids.
SDK_HEADERS = ("content-location", "location", "x-pagination-total", "x-pagination-next", "x-request-id")
ALL_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"


class Cors:
    def __init__(self, app: ASGIApp, policy: CorsPolicy) -> None:
        self.app = app
        self.policy = policy
        self._regex = re.compile(policy.allow_origin_regex) if policy.allow_origin_regex else None
        self._expose = ", ".join(dict.fromkeys((*SDK_HEADERS, *(h.lower() for h in policy.expose_headers))))

    def allowed(self, origin: str) -> bool:
        if "*" in self.policy.allow_origins or origin in self.policy.allow_origins:
            return True
        return bool(self._regex and self._regex.fullmatch(origin))

    def _origin_headers(self, origin: str) -> dict[str, str]:
        wildcard = "*" in self.policy.allow_origins and not self.policy.allow_credentials
        headers = {"access-control-allow-origin": "*" if wildcard else origin}
        if not wildcard:
            headers["vary"] = "Origin"
        if self.policy.allow_credentials:
            headers["access-control-allow-credentials"] = "true"
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(origin, headers)(scope, receive, send)
            return
        if not self.allowed(origin):
            await self.app(scope, receive, send)  # no CORS headers: the browser keeps the answer from the page
            return
        extra = [(k.encode(), v.encode()) for k, v in self._origin_headers(origin).items()]
        extra.append((b"access-control-expose-headers", self._expose.encode()))

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _preflight(self, origin: str, headers: Headers) -> Response:
        if not self.allowed(origin):
            return PlainTextResponse("CORS: origin not allowed", status_code=403)
        method = headers["access-control-request-method"].upper()
        methods = self.policy.allow_methods
        if "*" not in methods and method not in {m.upper() for m in methods}:
            return PlainTextResponse("CORS: method not allowed", status_code=403)
        out = self._origin_headers(origin)
        out["access-control-allow-methods"] = ALL_METHODS if "*" in methods else ", ".join(methods)
        asked = headers.get("access-control-request-headers")
        allowed_headers = self.policy.allow_headers
        if "*" in allowed_headers:
            if asked:
                out["access-control-allow-headers"] = asked
        else:
            out["access-control-allow-headers"] = ", ".join(allowed_headers)
        out["access-control-max-age"] = str(self.policy.max_age)
        if headers.get("access-control-request-private-network") == "true":
            out["access-control-allow-private-network"] = "true"
        vary = {out.get("vary", ""), "Access-Control-Request-Headers"} - {""}
        out["vary"] = ", ".join(sorted(vary))
        return Response(status_code=204, headers=out)
