"""Waiting for runs to end, in this process, woken by storage's `run_ended` notices.

A notice only says "look": the waiter then reads the run from storage, so a run that ended
in another process is answered the same way, and a lost notice costs latency, not truth.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict


class RunWaiters:
    def __init__(self) -> None:
        self._futures: dict[str, list[asyncio.Future[None]]] = defaultdict(list)

    def watch(self, run_id: str) -> asyncio.Future[None]:
        """A future resolved when run_id's end is recorded. Register before reading the run,
        then await it."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._futures[run_id].append(future)
        return future

    def unwatch(self, run_id: str, future: asyncio.Future[None]) -> None:
        futures = self._futures.get(run_id)
        if futures and future in futures:
            futures.remove(future)
            if not futures:
                del self._futures[run_id]

    def ended(self, run_id: str) -> None:
        """The storage listener for `run_ended` notices."""
        for future in self._futures.pop(run_id, []):
            if not future.done():
                future.set_result(None)
