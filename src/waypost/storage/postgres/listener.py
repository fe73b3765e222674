"""Notices from every process: one connection of its own doing LISTEN on each channel.

A transaction sends `pg_notify('<prefix><channel>', payload)`; PostgreSQL delivers it to every
listening session when that transaction commits, this process's own included, and never if it
rolls back. Callbacks run on the event loop (call_soon), never inside the listener's loop.

Channels belong to the whole database, not to a schema: the prefix names the schema Waypost's
tables are in (channel_prefix), so servers kept apart by their search_path on one database do
not wake each other for work they cannot see.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import get_args

import psycopg
from psycopg import sql

from waypost.storage.base import Notice
from waypost.storage.postgres import driver

log = logging.getLogger("waypost.storage")

PREFIX = "waypost_"
_MAX_CHANNEL = 63  # PostgreSQL's identifier length (NAMEDATALEN - 1), in bytes
CHANNELS: tuple[Notice, ...] = get_args(Notice)
# A listener that heard nothing this long checks its connection (one that died without a
# word, behind a firewall say, would otherwise wait forever).
KEEPALIVE_S = 30.0
_RETRY_FIRST_S, _RETRY_MAX_S = 0.1, 10.0


def channel_prefix(schema: str) -> str:
    """The channels' prefix for Waypost's tables in `schema`: its name when it fits in a
    channel name beside the longest notice, else a digest of it. The default schema keeps
    the plain prefix, which processes of earlier versions on it listen to."""
    if schema == "public":
        return PREFIX
    longest = max(len(c) for c in CHANNELS)
    prefix = f"{PREFIX}{schema}_"
    if len(prefix.encode()) + longest <= _MAX_CHANNEL:
        return prefix
    return f"{PREFIX}{hashlib.sha256(schema.encode()).hexdigest()[:16]}_"


class Listener:
    def __init__(self, url: str, prefix: str = PREFIX) -> None:
        self._url = url
        self.prefix = prefix
        self._callbacks: dict[str, list[Callable[[str], None]]] = defaultdict(list)
        self._conn: driver.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    def add(self, channel: Notice, callback: Callable[[str], None]) -> None:
        self._callbacks[channel].append(callback)

    def deliver(self, channel: Notice, payload: str) -> None:
        """A notice this process sent and saw commit, to its own listeners now (call_soon)."""
        loop = asyncio.get_running_loop()
        for callback in self._callbacks.get(channel, ()):
            loop.call_soon(callback, payload)

    async def start(self) -> None:
        """Connect and LISTEN before returning: a notice sent once the storage is open is
        heard, even one sent before the first callback is added (it finds none)."""
        self._conn = await self._connect()
        self._task = asyncio.create_task(self._run(), name="waypost-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close()

    async def _connect(self) -> driver.Connection:
        conn = await driver.connect(self._url)
        for channel in CHANNELS:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.prefix + channel)))
        return conn

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error, OSError):
                await conn.close()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        pause = _RETRY_FIRST_S
        while True:
            try:
                if self._conn is None:
                    self._conn = await self._connect()
                    log.warning("the notice listener is connected again")
                    # Notices sent while it was away are lost: every listener is told to look.
                    for callbacks in self._callbacks.values():
                        for callback in callbacks:
                            loop.call_soon(callback, "")
                    pause = _RETRY_FIRST_S
                await self._dispatch(self._conn, loop)
            except Exception as exc:  # whatever broke, notices must come back: reconnect
                log.warning("the notice listener lost its connection (%s); trying again in %.1f s", exc, pause)
                await self._close()
                await asyncio.sleep(pause)
                pause = min(pause * 2, _RETRY_MAX_S)

    async def _dispatch(self, conn: driver.Connection, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            async for notice in conn.notifies(timeout=KEEPALIVE_S):
                for callback in self._callbacks.get(notice.channel.removeprefix(self.prefix), ()):
                    loop.call_soon(callback, notice.payload)
            await conn.execute("SELECT 1")
