"""The broker carries signals and live events: run finished, work available, stream events.

Embedded mode uses `MemoryBroker`. A signal only says "look": the truth is read from storage,
so a lost signal costs latency, never correctness.
"""

from waypost.broker.memory import MemoryBroker

__all__ = ["MemoryBroker"]
