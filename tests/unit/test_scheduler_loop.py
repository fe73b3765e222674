"""The scheduler's loop: a notice that arrives while it looks (an answer queueing a
notification, a run delayed by after_seconds) brings the next look at once, not after the
sleep the look computed."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

from waypost.worker.scheduler import TICK_S, Scheduler


async def test_a_notice_during_a_look_brings_the_next_look_at_once() -> None:
    sender = SimpleNamespace(on_free=None)
    scheduler = Scheduler(SimpleNamespace(), SimpleNamespace(), sender)  # type: ignore[arg-type]
    looks: list[float] = []
    second = asyncio.Event()

    async def tick() -> float:
        looks.append(time.monotonic())
        if len(looks) == 2:
            second.set()
        if len(looks) == 1:
            scheduler._wake.set()  # the notice, heard while this look runs
        return TICK_S  # nothing due for a while, as far as this look saw

    scheduler.tick = tick  # type: ignore[method-assign]
    loop = asyncio.create_task(scheduler._loop())
    try:
        async with asyncio.timeout(TICK_S * 5):
            await second.wait()
    finally:
        loop.cancel()
    assert looks[1] - looks[0] < TICK_S / 2, "the notice heard during the look waited for the next tick"
