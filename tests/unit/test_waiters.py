"""run_ended notices: what they carry, and what a waiter gets from them."""

from __future__ import annotations

from waypost.waiters import MAX_CARRIED_BYTES, Ending, RunWaiters, ended_notice


async def test_a_small_end_rides_on_the_notice_and_a_big_one_is_read() -> None:
    waiters = RunWaiters()
    small, big, plain = waiters.watch("r1"), waiters.watch("r2"), waiters.watch("r3")
    waiters.ended(ended_notice("r1", Ending("success", {"text": "é 😀", "n": None})))
    large = ended_notice("r2", Ending("success", {"text": "x" * MAX_CARRIED_BYTES}))
    assert large == "r2"  # too big for a notice: the run id alone, the waiter reads the run
    waiters.ended(large)
    waiters.ended(ended_notice("r3"))
    assert small.result() == Ending("success", {"text": "é 😀", "n": None})
    assert big.result() is None and plain.result() is None
    assert len(ended_notice("r4", Ending("error", "y" * (MAX_CARRIED_BYTES - 100))).encode()) <= MAX_CARRIED_BYTES
