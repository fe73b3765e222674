"""The broker conformance suite's fixtures: every test runs once per implementation.

A test gets `brokers`, two brokers standing for two processes: `a` and `b`. In memory there
is only one process, so both are the same MemoryBroker; with Redis they are two RedisBroker
instances sharing a key prefix, as two Waypost processes share a Redis. A test written
against `a` and `b` (follow on one, publish or check on the other) thus says what must hold
between processes and also holds, trivially, within one.

The Redis cases need WAYPOST_TEST_REDIS_URL. Unset, they skip and say how to run them; set
but unreachable, they fail (CI sets it, and treats a skip as a failure). Each test uses its
own random prefix, so tests never see each other's keys or channels, and deletes its keys
afterwards (never FLUSHDB: the Redis may be shared).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import redis
from redis.asyncio import Redis

from waypost.broker import Broker, EndOfStream, MemoryBroker, StreamEvent, Subscription
from waypost.broker.redis import RedisBroker

REDIS_URL_ENV = "WAYPOST_TEST_REDIS_URL"
HOW_TO_RUN = (
    f"the Redis cases need a Redis: run {REDIS_URL_ENV}=redis://127.0.0.1:6379/0"
    " .venv/bin/python -m pytest tests/broker"
)


# Setup and clean-up use redis-py's blocking client: these fixtures are looked up from the
# async `brokers` fixture, where an async fixture could not be started.
@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get(REDIS_URL_ENV)
    if not url:
        pytest.skip(HOW_TO_RUN)
    with redis.Redis.from_url(url, socket_connect_timeout=2) as client:
        try:
            client.ping()
        except redis.RedisError as exc:
            pytest.fail(f"{REDIS_URL_ENV}={url} is set, but Redis does not answer there: {exc}")
    return url


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    name = f"waypost-test:{secrets.token_hex(6)}:"
    yield name
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"{name}*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    """A plain client, to look at what the broker left in Redis."""
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@dataclass
class Brokers:
    a: Broker
    b: Broker
    name: str


@pytest.fixture(params=["memory", "redis"])
async def brokers(request: pytest.FixtureRequest) -> AsyncIterator[Brokers]:
    if request.param == "memory":
        async with MemoryBroker() as broker:
            yield Brokers(broker, broker, "memory")
        return
    prefix = request.getfixturevalue("prefix")
    url = request.getfixturevalue("redis_url")
    async with RedisBroker(url, prefix=prefix) as a, RedisBroker(url, prefix=prefix) as b:
        yield Brokers(a, b, "redis")


def new_id() -> str:
    return secrets.token_hex(8)


async def drain(sub: Subscription, *, within: float = 10.0) -> list[StreamEvent]:
    """Every event up to the stream's end; fails if the end has not come within `within` s."""
    events: list[StreamEvent] = []
    try:
        async with asyncio.timeout(within):
            while True:
                try:
                    item = await sub.next(within)
                except EndOfStream:
                    return events
                if item is not None:
                    events.append(item)
    except TimeoutError:
        raise AssertionError(f"no end within {within}s; got {events}") from None


async def take(sub: Subscription, n: int, *, within: float = 10.0) -> list[StreamEvent]:
    """The next `n` events; fails if they have not all come within `within` s."""
    events: list[StreamEvent] = []
    try:
        async with asyncio.timeout(within):
            while len(events) < n:
                item = await sub.next(within)
                if item is not None:
                    events.append(item)
    except TimeoutError:
        raise AssertionError(f"{n} events not read within {within}s; got {events}") from None
    return events


async def ends_now(sub: Subscription) -> bool:
    """Whether the subscription is over with nothing left to read."""
    try:
        item = await sub.next(0)
    except EndOfStream:
        return True
    raise AssertionError(f"expected the end, got {item}")
