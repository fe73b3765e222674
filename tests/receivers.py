"""A webhook receiver for tests: a real HTTP server on a local port that records what it gets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest


@dataclass
class Receiver:
    """A minimal HTTP/1.1 server: records each request, answers 500 to the first
    `failures` of them and 200 afterwards, one request per connection."""

    failures: int = 0
    requests: list[dict] = field(default_factory=list)
    port: int = 0
    # Per path: how many of the first requests to it fail (on top of `failures`, which counts
    # every path's requests together).
    failing_paths: dict[str, int] = field(default_factory=dict)
    # What a failing answer says (any status outside 2xx is a failure to the sender).
    failure: bytes = b"500 Internal Server Error"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            headers = {}
            for line in header_lines:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append({"method": method, "path": path, "headers": headers, "body": body})
            to_path = sum(1 for r in self.requests if r["path"] == path)
            failing = len(self.requests) <= self.failures or to_path <= self.failing_paths.get(path, 0)
            status = self.failure if failing else b"200 OK"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        finally:
            writer.close()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def received(self) -> list[dict]:
        return list(self.requests)

    async def to(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]


@asynccontextmanager
async def receiving(failures: int = 0) -> AsyncIterator[Receiver]:
    r = Receiver(failures=failures)
    server = await asyncio.start_server(r.handle, "127.0.0.1", 0)
    r.port = server.sockets[0].getsockname()[1]
    try:
        yield r
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving(failures=1) as r:
        yield r
