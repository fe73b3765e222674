"""Waiting for runs to end, in this process, woken by storage's `run_ended` notices.

A notice is sent by the transaction that records the end, so it arrives only once that
committed, in every process (in the one that committed it twice: at once, then PostgreSQL's
copy, which finds the waiters resolved). It carries the run's end (status and output) when that is small
enough for a notice: the waiter then answers from it. Otherwise it only says "look", and the
waiter reads the run from storage; a lost notice costs latency (a slow re-read), not truth.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from waypost import serde

# PostgreSQL refuses a notice payload of 8000 bytes or more; an end bigger than this goes
# as the run id alone.
MAX_CARRIED_BYTES = 7000


@dataclass(frozen=True, slots=True)
class Ending:
    """A run's end as its run_ended notice carried it."""

    status: str
    output: Any


def ended_notice(run_id: str, ending: Ending | None = None) -> str:
    """The payload of a run_ended notice: the run id, then its end if given and small enough."""
    if ending is None:
        return run_id
    payload = f"{run_id} {serde.dumps({'status': ending.status, 'output': ending.output}).decode()}"
    return payload if len(payload.encode()) <= MAX_CARRIED_BYTES else run_id


class RunWaiters:
    def __init__(self) -> None:
        self._futures: dict[str, list[asyncio.Future[Ending | None]]] = defaultdict(list)

    def watch(self, run_id: str) -> asyncio.Future[Ending | None]:
        """A future resolved when run_id's end is recorded, with the end if the notice carried
        it. Register before reading the run, then await it."""
        future: asyncio.Future[Ending | None] = asyncio.get_running_loop().create_future()
        self._futures[run_id].append(future)
        return future

    def unwatch(self, run_id: str, future: asyncio.Future[Ending | None]) -> None:
        futures = self._futures.get(run_id)
        if futures and future in futures:
            futures.remove(future)
            if not futures:
                del self._futures[run_id]

    def ended(self, payload: str) -> None:
        """The storage listener for `run_ended` notices."""
        run_id, _, carried = payload.partition(" ")
        ending = None
        if carried:
            end = serde.loads(carried)
            ending = Ending(status=end["status"], output=end["output"])
        for future in self._futures.pop(run_id, []):
            if not future.done():
                future.set_result(ending)
