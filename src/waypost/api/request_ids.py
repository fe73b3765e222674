"""Every response carries `x-request-id` (the SDKs expose it in their errors): the caller's
own id when it sent a sane one, a new one otherwise. Log lines and audit entries name it."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
STATE_KEY = "request_id"
_SANE = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == HEADER), b"")
        request_id = given if _SANE.match(given) else uuid.uuid4().hex.encode()
        scope.setdefault("state", {})[STATE_KEY] = request_id.decode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (HEADER, request_id)]}
            await send(message)

        await self.app(scope, receive, send_with_id)
