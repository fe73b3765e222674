"""Wait for a condition with a deadline instead of sleeping: the one polling helper every suite
uses, awaited in async tests (`eventually`), called in sync ones and fixtures (`eventually_sync`),
and its mirror image for the rare check that something does *not* happen (`stays`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class _Deadline:
    """The end of one wait, and the failure it raises once it has passed."""

    def __init__(self, within: float, what: str, explain: Callable[[], str] | None) -> None:
        self.within, self.what, self.explain = within, what, explain
        self.end = time.monotonic() + within

    @property
    def passed(self) -> bool:
        return time.monotonic() > self.end

    def fail(self, last: object) -> AssertionError:
        # `explain` is read only now, so it can report what happened meanwhile (a server log).
        detail = f"\n{self.explain()}" if self.explain else ""
        return AssertionError(f"{self.what} not reached within {self.within}s; last value: {last!r}{detail}")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    ok: Callable[[T], bool],
    *,
    within: float = 5.0,
    interval: float = 0.05,
    what: str = "condition",
    explain: Callable[[], str] | None = None,
) -> T:
    """Call `probe` until `ok(result)` holds and return that result; fail with the last result
    (and `explain()`, if given) after `within` s."""
    deadline = _Deadline(within, what, explain)
    while not ok(value := await probe()):
        if deadline.passed:
            raise deadline.fail(value)
        await asyncio.sleep(interval)
    return value


def eventually_sync(
    probe: Callable[[], T],
    ok: Callable[[T], bool],
    *,
    within: float = 5.0,
    interval: float = 0.05,
    what: str = "condition",
    explain: Callable[[], str] | None = None,
) -> T:
    """`eventually` for code without an event loop: sync tests, and fixtures starting servers."""
    deadline = _Deadline(within, what, explain)
    while not ok(value := probe()):
        if deadline.passed:
            raise deadline.fail(value)
        time.sleep(interval)
    return value


async def stays(
    probe: Callable[[], Awaitable[T]],
    ok: Callable[[T], bool],
    *,
    during: float,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Check that `ok(probe())` keeps holding for `during` s, failing as soon as it does not.

    Only for absence ("no further request comes"): there is no event to wait for, so the
    window must be the longest time the unwanted thing could take to show, derived from the
    server's own timing constants rather than guessed."""
    deadline = _Deadline(during, what, None)
    while ok(value := await probe()):
        if deadline.passed:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"{what} stopped holding within {during}s: {value!r}")
