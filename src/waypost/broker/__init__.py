"""The broker carries what may be lost between processes: live stream events and cancel
signals. Embedded mode uses `MemoryBroker`, scaled mode Redis; the truth is always read from
storage."""

from waypost.broker.base import Broker, BrokerUnavailable, EndOfStream, StreamEvent, Subscription
from waypost.broker.memory import MemoryBroker
from waypost.errors import ConfigError


def open_broker(redis_url: str | None, prefix: str = "waypost:") -> Broker:
    """The broker for a Redis URL, or the in-memory one without; enter it (async with)."""
    if redis_url is None:
        return MemoryBroker()
    raise ConfigError("a Redis broker is not available in this build")


__all__ = ["Broker", "BrokerUnavailable", "EndOfStream", "MemoryBroker", "StreamEvent", "Subscription", "open_broker"]
