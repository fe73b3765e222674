"""Poll with a deadline instead of sleeping: the one helper every suite uses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    ok: Callable[[T], bool],
    *,
    within: float = 5.0,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Call `probe` until `ok(result)` holds; fail with the last result after `within` s."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {within}s; last value: {value!r}")
        await asyncio.sleep(interval)
