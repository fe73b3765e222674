"""What only the Redis broker has: what it leaves in Redis (ids, expiry, length), waits
longer than one blocking read, follow notices between processes that come and go, and
Redis going away under a broker (a TCP proxy cut by the test) and coming back."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from tests.broker.conftest import drain, ends_now, new_id, take
from tests.broker.proxy import TcpProxy
from tests.polling import eventually, stays
from waypost.broker import BrokerUnavailable, RedisBroker
from waypost.broker import redis as redis_broker


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[TcpProxy]:
    p = TcpProxy.to(redis_url)
    await p.open()
    yield p
    await p.close()


async def comes_true(check: Callable[[], bool], what: str, within: float = 5.0) -> None:
    async def probe() -> bool:
        return check()

    await eventually(probe, bool, what=what, within=within)


async def test_event_ids_are_stream_entry_ids_and_streams_expire(
    redis_url: str, prefix: str, redis_client: Redis
) -> None:
    run_id, thread_id = new_id(), new_id()
    key = f"{prefix}run:{run_id}"
    async with RedisBroker(redis_url, prefix=prefix) as broker:
        await broker.publish(run_id, thread_id, "values", b'{"a": 1}')
        await broker.publish(run_id, thread_id, "custom", b"2")
        entries = await redis_client.xrange(key)
        assert [fields for _, fields in entries] == [
            {b"e": b"values", b"d": b'{"a": 1}'},
            {b"e": b"custom", b"d": b"2"},
        ]
        sub = await broker.subscribe(run_id, after="0")
        assert [e.id for e in await take(sub, 2)] == [entry_id.decode() for entry_id, _ in entries]
        await sub.close()
        assert 0 < await redis_client.pttl(key) <= redis_broker.RUNNING_TTL_S * 1000, "running: kept while it runs"

        await broker.end_run(run_id, thread_id, resumable=True)
        assert (await redis_client.xrevrange(key, count=1))[0][1] == {b"end": b"1"}
        resumable_ms = redis_broker.RESUMABLE_TTL_S * 1000
        assert resumable_ms - 60_000 < await redis_client.pttl(key) <= resumable_ms, "kept for replay"

        other = new_id()
        await broker.publish(other, thread_id, "values", b"{}")
        await broker.end_run(other, thread_id, resumable=False)
        assert 0 < await redis_client.pttl(f"{prefix}run:{other}") <= redis_broker.ENDED_TTL_S * 1000, "dropped soon"


async def test_the_end_of_a_run_nobody_streamed_is_seen(redis_url: str, prefix: str, redis_client: Redis) -> None:
    """A subscriber in another process may read the run's status as running, then subscribe
    after the run ended without publishing anything: it must see the end, not wait."""
    run_id, thread_id = new_id(), new_id()
    async with RedisBroker(redis_url, prefix=prefix) as a, RedisBroker(redis_url, prefix=prefix) as b:
        await b.end_run(run_id, thread_id, resumable=False)
        assert await ends_now(await a.subscribe(run_id, after=None))
        assert await ends_now(await a.subscribe(run_id, after="0"))
    assert 0 < await redis_client.pttl(f"{prefix}run:{run_id}") <= redis_broker.ENDED_TTL_S * 1000


async def test_a_streams_length_is_bounded(redis_url: str, prefix: str, redis_client: Redis) -> None:
    run_id, thread_id = new_id(), new_id()
    async with RedisBroker(redis_url, prefix=prefix, max_events=100) as broker:
        for i in range(600):
            await broker.publish(run_id, thread_id, "values", b"%d" % i)
    # MAXLEN ~ trims whole nodes of the stream: about 100 are kept, never fewer.
    assert 100 <= await redis_client.xlen(f"{prefix}run:{run_id}") < 300


async def test_past_max_connections_a_read_fails_clearly(redis_url: str, prefix: str) -> None:
    run_id = new_id()
    async with RedisBroker(redis_url, prefix=prefix, max_connections=4) as broker:
        subs = [await broker.subscribe(run_id, after=None) for _ in range(8)]
        results = await asyncio.gather(*(sub.next(0.5) for sub in subs), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BrokerUnavailable)]
        assert errors, results
        assert all("connections of this process are in use" in str(e) for e in errors), errors
        assert all(r is None for r in results if not isinstance(r, BrokerUnavailable)), results
        for sub in subs:
            await sub.close()


async def test_waits_longer_than_one_blocking_read(
    redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_broker, "BLOCK_SLICE_S", 0.2)
    run_id, thread_id = new_id(), new_id()
    async with RedisBroker(redis_url, prefix=prefix) as a, RedisBroker(redis_url, prefix=prefix) as b:
        sub = await a.subscribe(run_id, after=None)
        started = time.monotonic()
        assert await sub.next(1.0) is None
        assert 0.9 <= time.monotonic() - started < 3, "a quiet wait lasts wait_s, over several reads"

        waiting = asyncio.create_task(sub.next(10))
        await asyncio.sleep(0.5)  # what is tested is time passing: the wait crosses a few reads first
        await b.publish(run_id, thread_id, "values", b"late")
        event = await asyncio.wait_for(waiting, 5)
        assert event is not None and event.data == b"late"
        await sub.close()


async def test_a_new_process_learns_of_existing_followers_at_once(
    redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broker that (re)connects asks the others to repeat their follows now, rather than
    at their next periodic repeat (made far away here)."""
    monkeypatch.setattr(redis_broker, "FOLLOW_REPEAT_S", 60.0)
    monkeypatch.setattr(redis_broker, "FOLLOW_TTL_S", 180.0)
    run_id, thread_id = new_id(), new_id()
    async with RedisBroker(redis_url, prefix=prefix) as a:
        run_sub = await a.subscribe(run_id, after=None)
        thread_sub = await a.subscribe_thread(thread_id)
        async with RedisBroker(redis_url, prefix=prefix) as late:
            await comes_true(lambda: late.wants_events(run_id, new_id(), streamed=False), "the run's follower", 2.0)
            await comes_true(lambda: late.wants_events(new_id(), thread_id, streamed=False), "the thread's", 2.0)
        await run_sub.close()
        await thread_sub.close()


async def test_a_vanished_follower_is_forgotten(
    redis_url: str, prefix: str, proxy: TcpProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A follower whose process died says nothing more: the others stop publishing for it
    once its notices have not been repeated for FOLLOW_TTL_S."""
    monkeypatch.setattr(redis_broker, "FOLLOW_REPEAT_S", 0.2)
    monkeypatch.setattr(redis_broker, "FOLLOW_TTL_S", 0.6)
    run_id, thread_id = new_id(), new_id()
    async with RedisBroker(proxy.url(redis_url), prefix=prefix) as doomed, RedisBroker(redis_url, prefix=prefix) as b:
        sub = await doomed.subscribe(run_id, after=None)
        await comes_true(lambda: b.wants_events(run_id, thread_id, streamed=False), "b learns of the follower")

        async def followed() -> bool:
            return b.wants_events(run_id, thread_id, streamed=False)

        # Repeated while alive: still followed well after its first notice would have expired.
        await stays(followed, bool, during=3 * redis_broker.FOLLOW_TTL_S, what="followed while alive")
        await proxy.close()
        await comes_true(lambda: not b.wants_events(run_id, thread_id, streamed=False), "b forgets it", 3.0)
        await sub.close()


async def test_losing_redis_mid_stream(
    redis_url: str, prefix: str, proxy: TcpProxy, redis_client: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="waypost.broker")
    run_id, thread_id = new_id(), new_id()
    async with RedisBroker(proxy.url(redis_url), prefix=prefix) as cut, RedisBroker(redis_url, prefix=prefix) as ok:
        heard: list[str] = []
        cut.on_cancel(heard.append)
        sub = await cut.subscribe(run_id, after=None)
        thread_sub = await cut.subscribe_thread(thread_id)
        await ok.publish(run_id, thread_id, "values", b"1")
        assert [e.data for e in await take(sub, 1)] == [b"1"]
        assert [e.data for e in await take(thread_sub, 1)] == [b"1"]

        # Both wait on Redis, through the proxy, when it is cut.
        waiting = asyncio.create_task(sub.next(30))
        thread_waiting = asyncio.create_task(thread_sub.next(30))
        await eventually(lambda: _blocked_reads(redis_client, proxy), lambda n: n > 0, what="a blocked XREAD")
        cut_at = time.monotonic()
        await proxy.close()
        for task in (waiting, thread_waiting):
            with pytest.raises(BrokerUnavailable, match="unreachable"):
                await asyncio.wait_for(task, 5)
        assert time.monotonic() - cut_at < 5, "subscribers hear of it within seconds"
        with pytest.raises(BrokerUnavailable):
            await sub.next(0)  # and it stays so

        started = time.monotonic()
        with pytest.raises(BrokerUnavailable, match="unreachable"):
            await cut.publish(run_id, thread_id, "values", b"lost")
        with pytest.raises(BrokerUnavailable):
            await cut.publish_thread(thread_id, "metadata", b"lost")
        with pytest.raises(BrokerUnavailable):
            await cut.end_run(run_id, thread_id, resumable=True)
        with pytest.raises(BrokerUnavailable):
            await cut.signal_cancel(run_id)
        assert not await cut.ping()
        for broken in (await cut.subscribe(run_id, after="0"), await cut.subscribe_thread(thread_id)):
            with pytest.raises(BrokerUnavailable):
                await broken.next(1)
            await broken.close()
        assert time.monotonic() - started < 5, "nothing waits long on a Redis that is gone"

        await ok.publish(run_id, thread_id, "values", b"2")  # Redis itself is fine meanwhile
        await proxy.open()
        again = await cut.subscribe(run_id, after="0")
        assert [e.data for e in await take(again, 2)] == [b"1", b"2"]
        await cut.publish(run_id, thread_id, "values", b"3")
        await ok.end_run(run_id, thread_id, resumable=True)
        assert [e.data for e in await drain(again)] == [b"3"]
        assert await cut.ping()

        # The listener is back too: cancel signals from elsewhere reach this process again.
        async def signal() -> list[str]:
            await ok.signal_cancel(run_id)
            return heard

        await eventually(signal, bool, within=10, what="a cancel signal after reconnecting")
        for s in (sub, thread_sub, again):
            await s.close()

    messages = [r.getMessage() for r in caplog.records if r.name == "waypost.broker"]
    assert sum("is unreachable" in m for m in messages) == 1, messages
    assert sum("reachable again" in m for m in messages) == 1, messages


async def test_starting_without_redis(redis_url: str, prefix: str, proxy: TcpProxy) -> None:
    """A broker may start before Redis: it says so, fails fast, and does not hang."""
    await proxy.close()
    run_id, thread_id = new_id(), new_id()
    started = time.monotonic()
    async with RedisBroker(proxy.url(redis_url), prefix=prefix) as broker:
        assert not await broker.ping()
        assert broker.wants_events(run_id, thread_id, streamed=True)
        with pytest.raises(BrokerUnavailable, match=f"127.0.0.1:{proxy.port}"):
            await broker.publish(run_id, thread_id, "values", b"{}")
        for sub in (await broker.subscribe(run_id, after=None), await broker.subscribe_thread(thread_id)):
            with pytest.raises(BrokerUnavailable):
                await sub.next(1)
            await sub.close()
        assert not broker.wants_events(run_id, thread_id, streamed=False), "a failed subscription follows nothing"
    assert time.monotonic() - started < 5


async def _blocked_reads(client: Redis, proxy: TcpProxy) -> int:
    """XREADs waiting in Redis on connections that come through the proxy."""
    clients = await client.client_list()
    ports = {int(c["addr"].rpartition(":")[2]) for c in clients if c.get("cmd") == "xread" and "b" in c["flags"]}
    return len(ports & proxy.upstream_ports)
