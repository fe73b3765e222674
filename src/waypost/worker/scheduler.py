"""The durable scheduler: one loop per process that executes runs, for everything that is
due at a time. Timers (an interrupt's deadline, its reminder) fire; outbox deliveries are
sent; the worker is woken when a delayed run (after_seconds) becomes runnable.

What is due lives in the database, so it survives restarts and every process sees it. The
loop sleeps until the earliest due time, at most TICK_S (so something scheduled by another
process whose notice was lost is at most that late), and wakes at once on a "due" notice.
Firing is safe from any number of processes: each timer and delivery is taken by a
conditional statement that applies for one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from waypost.operations.deadlines import fire
from waypost.runtime import Runtime
from waypost.worker.delivery import HOLD_S, Sender
from waypost.worker.pool import Worker

log = logging.getLogger("waypost.scheduler")

TICK_S = 1.0
RUNS_EPOCH = "2000-01-01T00:00:00.000000+00:00"
BATCH = 100


class Scheduler:
    def __init__(self, rt: Runtime, worker: Worker, sender: Sender) -> None:
        self.rt = rt
        self.worker = worker
        self.sender = sender
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Delayed runs that became runnable up to this time (the database's) have had their wake.
        self._runs_since = RUNS_EPOCH
        # A sender slot freeing up may let a due delivery go: look again then.
        sender.on_free = self._wake.set

    async def __aenter__(self) -> Scheduler:
        if self.rt.storage.single_process:
            await self.sender.recover()
        self.rt.storage.listen("due", lambda _: self._wake.set())
        self._task = asyncio.create_task(self._loop(), name="waypost-scheduler")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.sender.close()

    async def _loop(self) -> None:
        while True:
            # Cleared before the look, not after it: a notice that comes while it looks (an
            # answer queueing a notification) makes the next look come at once.
            self._wake.clear()
            try:
                delay = await self.tick()
            except Exception:  # a storage hiccup must not stop the scheduler
                log.exception("the scheduler's tick failed")
                delay = TICK_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def tick(self) -> float:
        """Do what is due; return how long to sleep until the next thing is. A look with
        nothing due is one read."""
        async with self.rt.storage.transaction() as tx:
            runs = await tx.run_times(self._runs_since)
            timers = await tx.due_timers(BATCH)
            next_timer = await tx.next_timer_at()
            next_delivery = await tx.next_delivery_at()
        if runs.became_due:
            # Asked as "since the last look", not "is the next one due yet": a run that became
            # runnable while this loop was busy elsewhere is never skipped.
            self.worker.wake()
            self._runs_since = runs.now
        failed = 0
        for timer in timers:
            try:
                await fire(self.rt, timer)
            except Exception:
                failed += 1
                log.exception("timer %s failed; it stays due", timer.timer_id)
        now = datetime.now(UTC)
        sent = 0
        if self.sender.free > 0 and next_delivery is not None and datetime.fromisoformat(next_delivery) <= now:
            async with self.rt.storage.transaction() as tx:
                deliveries = await tx.claim_deliveries(HOLD_S, self.sender.free)
            self.sender.start(deliveries)
            sent = len(deliveries)
        if failed:
            return TICK_S  # the failing timers stay due: try them again, not at once
        if timers or sent:
            return 0.0  # what they did (new timers, more deliveries due) is seen by a look now
        delay = TICK_S
        for when in (next_timer, next_delivery if self.sender.free > 0 else None, runs.next_at):
            if when is not None:
                delay = min(delay, (datetime.fromisoformat(when) - now).total_seconds())
        return max(delay, 0.001)
