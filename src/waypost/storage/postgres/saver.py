"""langgraph's own AsyncPostgresSaver on Waypost's pool, without its process-wide lock.

AsyncPostgresSaver takes one asyncio.Lock around every operation: a saver sharing a single
connection needs it. On a pool each operation borrows a connection of its own, and the lock
only queues every run of the process behind every other run's checkpoint I/O, each holding it
across a database round trip (32 runs at once wait on one another, CPU idle meanwhile). The
saver's statements already run side by side from other processes, which share no lock with
this one, so they are safe without it. The SQL, schema and serialization stay langgraph's;
only how an operation gets its cursor is Waypost's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool


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
