"""Schema changes for PostgreSQL: Waypost's numbered migrations, then langgraph's setup().

Any number of processes may open one database at once; each change must happen exactly once.
Both steps run under one advisory lock per schema: Waypost's migrations in one transaction holding
it (pg_advisory_xact_lock: all of them commit or none, and the lock ends with the
transaction), langgraph's setup() under it as a session lock, since setup() cannot run in a
transaction block (it creates indexes CONCURRENTLY).

The lock is taken by polling pg_try_advisory_*lock, never by waiting in the database. A
session waiting for an advisory lock holds a snapshot, and CREATE INDEX CONCURRENTLY in the
session that holds the lock waits for every older snapshot to go: the two would wait for each
other until PostgreSQL broke the deadlock by failing one of them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

from waypost.errors import StorageError
from waypost.storage.postgres.driver import Connection
from waypost.storage.sql import load_migrations

# The advisory lock for schema changes: (this class, the schema's name hashed). Per schema, so
# servers on different schemas of one database never wait for each other's migrations.
LOCK_CLASS = int.from_bytes(b"wayp", "big")  # fits an int4
TRY_XACT_LOCK = "SELECT pg_try_advisory_xact_lock(%s, hashtext(current_schema())) AS got"
TRY_SESSION_LOCK = "SELECT pg_try_advisory_lock(%s, hashtext(current_schema())) AS got"
UNLOCK = "SELECT pg_advisory_unlock(%s, hashtext(current_schema()))"
# How long a process waits for another one's schema changes before giving up.
LOCK_WAIT_S = 300.0
_POLL_FIRST_S, _POLL_MAX_S = 0.02, 0.5

T = TypeVar("T")


async def migrate(conn: Connection, saver: AsyncPostgresSaver) -> list[str]:
    """Apply Waypost's missing migrations, then langgraph's; the names of Waypost's applied."""
    applied = await _locked(lambda: _apply_in_transaction(conn))
    await _locked(lambda: _setup_under_session_lock(conn, saver))
    return applied


async def _locked(attempt: Callable[[], Awaitable[T | None]]) -> T:
    """Run `attempt` until it gets the lock (None: another process holds it), backing off."""
    deadline = time.monotonic() + LOCK_WAIT_S
    pause = _POLL_FIRST_S
    while (result := await attempt()) is None:
        if time.monotonic() > deadline:
            raise StorageError(f"gave up after {LOCK_WAIT_S:.0f} s waiting for another process's migrations")
        await asyncio.sleep(pause)
        pause = min(pause * 2, _POLL_MAX_S)
    return result


async def _apply_in_transaction(conn: Connection) -> list[str] | None:
    async with conn.transaction():
        cur = await conn.execute(TRY_XACT_LOCK, (LOCK_CLASS,))
        row = await cur.fetchone()
        if row is None or not row["got"]:
            return None
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS waypost_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL)"
        )
        done = {r["name"] for r in await (await conn.execute("SELECT name FROM waypost_migrations")).fetchall()}
        applied = []
        for name, sql in load_migrations("postgres"):
            if name in done:
                continue
            await conn.execute(sql, prepare=False)  # a file of statements: never a prepared one
            await conn.execute("INSERT INTO waypost_migrations VALUES (%s, clock_timestamp())", (name,))
            applied.append(name)
        return applied


async def _setup_under_session_lock(conn: Connection, saver: AsyncPostgresSaver) -> bool | None:
    cur = await conn.execute(TRY_SESSION_LOCK, (LOCK_CLASS,))
    row = await cur.fetchone()
    if row is None or not row["got"]:
        return None
    try:
        # On one of the pool's connections: this one only holds the lock, idle, so the
        # concurrent index builds have no snapshot of ours to wait for.
        await saver.setup()
    finally:
        await conn.execute(UNLOCK, (LOCK_CLASS,))
    return True
