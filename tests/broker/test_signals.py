"""What the worker asks the broker without a round trip (`wants_events`, learnt from follow
notices), and cancel signals reaching every process."""

from __future__ import annotations

from collections.abc import Callable

from tests.broker.conftest import Brokers, new_id
from tests.polling import eventually
from waypost.broker import Broker


def wants(broker: Broker, run_id: str, thread_id: str, *, streamed: bool = False) -> bool:
    return broker.wants_events(run_id, thread_id, streamed=streamed)


async def test_a_streamed_run_always_wants_its_events(brokers: Brokers) -> None:
    assert wants(brokers.a, new_id(), new_id(), streamed=True)
    assert wants(brokers.b, new_id(), new_id(), streamed=True)


async def test_nobody_following_means_no_events(brokers: Brokers) -> None:
    run_id, thread_id = new_id(), new_id()
    assert not wants(brokers.a, run_id, thread_id)
    assert not wants(brokers.b, run_id, thread_id)


async def test_following_a_run_is_seen_by_every_process(brokers: Brokers) -> None:
    run_id, thread_id = new_id(), new_id()
    sub = await brokers.a.subscribe(run_id, after=None)
    assert wants(brokers.a, run_id, thread_id), "the follower's own process knows at once"
    await comes_true(lambda: wants(brokers.b, run_id, thread_id), "b learns of a's follower")
    assert not wants(brokers.b, new_id(), thread_id), "another run of the thread is not followed"

    await sub.close()
    assert not wants(brokers.a, run_id, thread_id)
    await comes_true(lambda: not wants(brokers.b, run_id, thread_id), "b forgets it")


async def test_following_a_thread_covers_its_runs(brokers: Brokers) -> None:
    thread_id = new_id()
    sub = await brokers.a.subscribe_thread(thread_id)
    assert wants(brokers.a, new_id(), thread_id)
    await comes_true(lambda: wants(brokers.b, new_id(), thread_id), "b learns of a's follower")
    assert not wants(brokers.b, new_id(), new_id())

    await sub.close()
    await comes_true(lambda: not wants(brokers.b, new_id(), thread_id), "b forgets it")


async def test_two_followers_of_one_run(brokers: Brokers) -> None:
    """One follower leaving does not hide the other."""
    run_id, thread_id = new_id(), new_id()
    first = await brokers.a.subscribe(run_id, after=None)
    second = await brokers.b.subscribe(run_id, after=None)
    await comes_true(lambda: wants(brokers.a, run_id, thread_id) and wants(brokers.b, run_id, thread_id), "both know")
    await first.close()
    assert wants(brokers.a, run_id, thread_id) and wants(brokers.b, run_id, thread_id)
    await second.close()
    await comes_true(
        lambda: not wants(brokers.a, run_id, thread_id) and not wants(brokers.b, run_id, thread_id), "both forget"
    )


async def test_cancel_signals_reach_every_process(brokers: Brokers) -> None:
    heard_a: list[str] = []
    heard_b: list[str] = []
    brokers.a.on_cancel(heard_a.append)
    brokers.b.on_cancel(heard_b.append)
    first, second = new_id(), new_id()
    await brokers.b.signal_cancel(first)
    await brokers.a.signal_cancel(second)
    await comes_true(lambda: len(heard_a) >= 2 and len(heard_b) >= 2, "both signals heard by both")
    # Each exactly once, in order: the second arrived, so a duplicate of the first would have too.
    assert heard_a == heard_b == [first, second]


async def comes_true(check: Callable[[], bool], what: str) -> None:
    """Wait for a notice from another process to be heard (at once within one process)."""

    async def probe() -> bool:
        return check()

    await eventually(probe, bool, what=what)
