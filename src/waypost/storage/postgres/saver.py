"""langgraph's own AsyncPostgresSaver on Waypost's pool, without its process-wide lock.

AsyncPostgresSaver takes one asyncio.Lock around every operation: a saver sharing a single
connection needs it. On a pool each operation borrows a connection of its own, and the lock
only queues every run of the process behind every other run's checkpoint I/O, each holding it
across a database round trip (32 runs at once wait on one another, CPU idle meanwhile). The
saver's statements already run side by side from other processes, which share no lock with
this one, so they are safe without it. The SQL, schema and serialization stay langgraph's;
only how an operation gets its cursor is Waypost's.

Every write commits durably (synchronous_commit as the server has it): a run's checkpoints are
what a worker builds its next ones on, and one lost to a crash of PostgreSQL while the worker
lives on would leave later checkpoints pointing at values that are gone.

langgraph hands the (de)serialization of a write's values and a read's pending writes to a
thread (asyncio.to_thread). The work is small and holds the GIL; the hop costs more than it:
thread wake-ups and GIL hand-offs, about a millisecond on each write's path (measured on the
seed cycle: 7% of its latency, 10% of the server's CPU). So, as the SQLite saver does, it runs
on the event loop's thread: langgraph's saver module is given an asyncio whose to_thread calls
a method of a PooledPostgresSaver at once; any other function still goes to a thread, so
other savers in the process keep langgraph's behaviour. (Done through the module's `asyncio`
name, as overriding the methods would copy langgraph's code; if langgraph stops calling
asyncio.to_thread there, its serialization goes back to threads and a test says so.)
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from langgraph.checkpoint.postgres import aio
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

T = TypeVar("T")


class PooledPostgresSaver(AsyncPostgresSaver):
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[DictRow]]) -> None:
        super().__init__(conn=pool)
        self._pool = pool

    @asynccontextmanager
    async def _cursor(self, *, pipeline: bool = False) -> AsyncIterator[AsyncCursor[DictRow]]:
        # As langgraph's own, less the lock: binary rows as dicts; "pipeline" batches an
        # operation's statements (in a transaction where libpq has no pipeline mode).
        async with self._pool.connection() as conn:
            if pipeline and self.supports_pipeline:
                async with conn.pipeline(), conn.cursor(binary=True, row_factory=dict_row) as cur:
                    yield cur
            elif pipeline:
                async with conn.transaction(), conn.cursor(binary=True, row_factory=dict_row) as cur:
                    yield cur
            else:
                async with conn.cursor(binary=True, row_factory=dict_row) as cur:
                    yield cur


class _SaverAsyncio(types.ModuleType):
    """asyncio as langgraph's postgres saver module sees it (see the module's docstring)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    async def to_thread(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        if isinstance(getattr(func, "__self__", None), PooledPostgresSaver):
            return func(*args, **kwargs)
        return await asyncio.to_thread(func, *args, **kwargs)


aio.asyncio = _SaverAsyncio("asyncio")
