"""A run's live stream: order, ids, replay (after an id, after "0", none after None), the end,
and many subscribers at once. The publisher is `b`, subscribers are on `a` (and `b`): with
Redis, two processes."""

from __future__ import annotations

import asyncio
import re

from tests.broker.conftest import Brokers, drain, ends_now, new_id, take
from waypost.broker import EndOfStream, StreamEvent, Subscription


async def publish(brokers: Brokers, run_id: str, thread_id: str, n: int, *, start: int = 0) -> None:
    for i in range(start, start + n):
        await brokers.b.publish(run_id, thread_id, "values", b'{"i": %d}' % i)


def data(events: list[StreamEvent]) -> list[bytes]:
    return [e.data for e in events]


def expected(n: int, *, start: int = 0) -> list[bytes]:
    return [b'{"i": %d}' % i for i in range(start, start + n)]


async def test_events_come_in_order_with_increasing_ids(brokers: Brokers) -> None:
    run_id, thread_id = new_id(), new_id()
    sub = await brokers.a.subscribe(run_id, after=None)
    await brokers.b.publish(run_id, thread_id, "metadata", b'{"run_id": "x"}')
    await publish(brokers, run_id, thread_id, 5)
    await brokers.b.publish(run_id, thread_id, "updates|child:1", b"{}")
    await brokers.b.end_run(run_id, thread_id, resumable=True)

    events = await drain(sub)
    assert [e.event for e in events] == ["metadata"] + ["values"] * 5 + ["updates|child:1"]
    assert data(events)[1:6] == expected(5)
    assert all(re.fullmatch(r"\d+-\d+", e.id) for e in events), [e.id for e in events]
    keys = [e.key for e in events]
    assert keys == sorted(set(keys)), "ids must be unique and increasing"
    await sub.close()


async def test_replay_after_an_id_after_zero_and_none_after_none(brokers: Brokers) -> None:
    run_id, thread_id = new_id(), new_id()
    await publish(brokers, run_id, thread_id, 4)
    everything = await brokers.a.subscribe(run_id, after="0")
    first = await take(everything, 4)
    assert data(first) == expected(4)
    after_second = await brokers.a.subscribe(run_id, after=first[1].id)
    live_only = await brokers.a.subscribe(run_id, after=None)
    assert data(await take(after_second, 2)) == expected(2, start=2)
    for sub in (everything, after_second, live_only):
        assert await sub.next(0) is None, "nothing more is retained"

    await publish(brokers, run_id, thread_id, 1, start=4)
    await brokers.b.end_run(run_id, thread_id, resumable=True)
    for sub in (everything, after_second, live_only):
        assert data(await drain(sub)) == expected(1, start=4)
        await sub.close()


async def test_odd_last_event_ids(brokers: Brokers) -> None:
    """A Last-Event-ID comes from a client: one that cannot be read replays everything, one
    from the future replays nothing, and neither loses the live events or the end."""
    run_id, thread_id = new_id(), new_id()
    await publish(brokers, run_id, thread_id, 2)
    unreadable = await brokers.a.subscribe(run_id, after="not-an-id")
    future = await brokers.a.subscribe(run_id, after="99999999999999-0")
    assert data(await take(unreadable, 2)) == expected(2)
    assert await future.next(0) is None
    await publish(brokers, run_id, thread_id, 1, start=2)
    await brokers.b.end_run(run_id, thread_id, resumable=True)
    for sub in (unreadable, future):
        assert data(await drain(sub)) == expected(1, start=2)
        await sub.close()


async def test_subscribing_before_the_first_event_gets_everything(brokers: Brokers) -> None:
    run_id, thread_id = new_id(), new_id()
    from_now = await brokers.a.subscribe(run_id, after=None)
    from_start = await brokers.a.subscribe(run_id, after="0")
    await publish(brokers, run_id, thread_id, 3)
    await brokers.b.end_run(run_id, thread_id, resumable=False)
    for sub in (from_now, from_start):
        assert data(await drain(sub)) == expected(3)
        await sub.close()


async def test_after_a_resumable_end_the_events_replay_then_end(brokers: Brokers) -> None:
    run_id, thread_id = new_id(), new_id()
    await publish(brokers, run_id, thread_id, 3)
    await brokers.b.end_run(run_id, thread_id, resumable=True)

    ids = [e.id for e in await drain(await brokers.a.subscribe(run_id, after="0"))]
    assert len(ids) == 3
    assert data(await drain(await brokers.a.subscribe(run_id, after=ids[0]))) == expected(2, start=1)
    assert await ends_now(await brokers.a.subscribe(run_id, after=ids[-1]))
    assert await ends_now(await brokers.a.subscribe(run_id, after=None))


async def test_after_any_other_end_only_the_end_is_left(brokers: Brokers) -> None:
    run_id, thread_id = new_id(), new_id()
    await publish(brokers, run_id, thread_id, 3)
    await brokers.b.end_run(run_id, thread_id, resumable=False)
    assert await ends_now(await brokers.a.subscribe(run_id, after="0"))
    assert await ends_now(await brokers.a.subscribe(run_id, after=None))


async def test_an_event_after_the_end_changes_nothing(brokers: Brokers) -> None:
    """A late event (another attempt of the run, an error published after its end) must
    neither reopen the stream nor hide its end from subscribers starting at the last entry."""
    run_id, thread_id = new_id(), new_id()
    await publish(brokers, run_id, thread_id, 1)
    await brokers.b.end_run(run_id, thread_id, resumable=True)
    await publish(brokers, run_id, thread_id, 1, start=1)
    await brokers.b.end_run(run_id, thread_id, resumable=True)
    assert data(await drain(await brokers.a.subscribe(run_id, after="0"))) == expected(1)
    assert await ends_now(await brokers.a.subscribe(run_id, after=None))


async def test_every_subscriber_sees_the_end(brokers: Brokers) -> None:
    run_id, thread_id = new_id(), new_id()
    subs = [await broker.subscribe(run_id, after=None) for broker in (brokers.a, brokers.b, brokers.a)]
    waiting = [asyncio.create_task(sub.next(10)) for sub in subs]
    await brokers.b.end_run(run_id, thread_id, resumable=False)
    async with asyncio.timeout(10):
        results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, EndOfStream) for r in results), results
    for sub in subs:
        assert await ends_now(sub), "the end stays the end"
        await sub.close()


async def test_next_zero_does_not_wait(brokers: Brokers) -> None:
    run_id, thread_id = new_id(), new_id()
    sub = await brokers.a.subscribe(run_id, after="0")
    async with asyncio.timeout(2):
        assert await sub.next(0) is None
        assert await sub.next(0.05) is None
    await publish(brokers, run_id, thread_id, 1)
    assert data(await take(sub, 1)) == expected(1)
    await sub.close()


async def test_many_subscribers_at_once(brokers: Brokers) -> None:
    """Events published while 160 subscribers wait, 120 of them in one process (more than a
    connection pool holds by default): each gets every one, in order, once."""
    run_id, thread_id = new_id(), new_id()
    subs: list[Subscription] = []
    for i in range(160):
        subs.append(await (brokers.b if i % 4 == 0 else brokers.a).subscribe(run_id, after=None))
    readers = [asyncio.create_task(drain(sub, within=30)) for sub in subs]
    await publish(brokers, run_id, thread_id, 20)
    await brokers.b.end_run(run_id, thread_id, resumable=True)
    for got in await asyncio.gather(*readers):
        assert data(got) == expected(20)
    for sub in subs:
        await sub.close()
