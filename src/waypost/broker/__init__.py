"""The broker carries what may be lost between processes: live stream events and cancel
signals. Embedded mode uses `MemoryBroker`; the truth is always read from storage."""

from waypost.broker.base import Broker, BrokerUnavailable, EndOfStream, StreamEvent, Subscription
from waypost.broker.memory import MemoryBroker

__all__ = ["Broker", "BrokerUnavailable", "EndOfStream", "MemoryBroker", "StreamEvent", "Subscription"]
