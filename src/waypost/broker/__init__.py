"""The broker carries what may be lost between processes: live stream events and cancel
signals. Embedded mode uses `MemoryBroker`, the scaled mode (several processes) `RedisBroker`;
the truth is always read from storage."""

from waypost.broker.base import Broker, BrokerUnavailable, EndOfStream, StreamEvent, Subscription, best_effort
from waypost.broker.memory import MemoryBroker
from waypost.broker.redis import RedisBroker


def open_broker(redis_url: str | None, prefix: str = "waypost:") -> Broker:
    """The broker for a Redis URL, or the in-memory one without; enter it (async with)."""
    if redis_url is None:
        return MemoryBroker()
    return RedisBroker(redis_url, prefix=prefix)


__all__ = [
    "Broker",
    "BrokerUnavailable",
    "EndOfStream",
    "MemoryBroker",
    "RedisBroker",
    "StreamEvent",
    "Subscription",
    "best_effort",
    "open_broker",
]
