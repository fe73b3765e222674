"""The broker carries what may be lost between processes: live stream events and cancel
signals. Embedded mode uses `MemoryBroker`, the scaled mode (several processes) `RedisBroker`;
the truth is always read from storage."""

from waypost.broker.base import Broker, BrokerUnavailable, EndOfStream, StreamEvent, Subscription
from waypost.broker.memory import MemoryBroker
from waypost.broker.redis import RedisBroker

__all__ = ["Broker", "BrokerUnavailable", "EndOfStream", "MemoryBroker", "RedisBroker", "StreamEvent", "Subscription"]
