"""Server-sent events, as both SDKs parse them (API-CONTRACT §3.1): CRLF lines, one-line JSON
data, an `id:` on every event of a resumable run, and a heartbeat comment every
HEARTBEAT_S so proxies and the JS client's idle timer see a live connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from waypost import serde
from waypost.broker import BrokerUnavailable, EndOfStream, Subscription

HEARTBEAT_S = 15.0
HEARTBEAT = b": heartbeat\r\n\r\n"
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def frame(event: str, data: bytes, event_id: str | None = None) -> bytes:
    out = b"event: " + event.encode() + b"\r\ndata: " + data + b"\r\n"
    if event_id is not None:
        out += b"id: " + event_id.encode() + b"\r\n"
    return out + b"\r\n"


def wanted(event: str, modes: list[str] | None) -> bool:
    """join_stream's filter: the event's base mode was asked for (or nothing was)."""
    if not modes or event in ("error", "metadata"):
        return True
    base = event.split("|", 1)[0]
    if base in modes:
        return True
    return base.startswith("messages") and ("messages" in modes or "messages-tuple" in modes)


async def event_stream(
    sub: Subscription,
    *,
    resumable: bool,
    modes: list[str] | None = None,
    on_close: Callable[[bool], Awaitable[None]] | None = None,
) -> AsyncIterator[bytes]:
    """A subscription's events until the run's stream ends, with heartbeats while it is
    quiet. If the broker goes away the stream ends with an `error` event saying so (the run
    itself goes on; `join` and `/wait` still answer from storage). `on_close(finished)` runs
    when the stream stops, finished=False meaning the client went away first."""
    finished = False
    try:
        while True:
            try:
                item = await sub.next(HEARTBEAT_S)
            except EndOfStream:
                finished = True
                return
            except BrokerUnavailable as exc:
                finished = True
                yield frame("error", serde.dumps({"error": "BrokerUnavailable", "message": str(exc)}))
                return
            if item is None:
                yield HEARTBEAT
            elif wanted(item.event, modes):
                yield frame(item.event, item.data, item.id if resumable else None)
    finally:
        await asyncio.shield(_close(sub, on_close, finished))


async def _close(sub: Subscription, on_close: Callable[[bool], Awaitable[None]] | None, finished: bool) -> None:
    await sub.close()
    if on_close is not None:
        await on_close(finished)
