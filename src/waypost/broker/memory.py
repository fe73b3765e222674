"""In-process broker: asyncio queues, for the embedded single-process mode.

Events are published once per run as (id, event, data-bytes); data is serialized by the
publisher so every subscriber shares the same bytes. A run's events are kept while it runs
(a subscriber may ask for all of them), and a resumable run's for RETAIN_S after it ends, for
replay after a reconnect (Last-Event-ID). An ended run is remembered for RETAIN_S either way,
so a late subscriber learns that its stream is over instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from waypost.broker.base import Broker, EndOfStream, StreamEvent, Subscription, event_key

RETAIN_S = 600.0

# A queue item is an event, or None for "this run's stream has ended".
Queue = asyncio.Queue["StreamEvent | None"]


@dataclass
class _RunChannel:
    log: list[StreamEvent] = field(default_factory=list)
    subscribers: list[Queue] = field(default_factory=list)
    ended_at: float | None = None


class _QueueSubscription(Subscription):
    def __init__(self, replay: list[StreamEvent], queue: Queue | None, close: Callable[[], None]) -> None:
        self._replay = list(replay)
        self._queue = queue
        self._close = close

    async def next(self, wait_s: float) -> StreamEvent | None:
        if self._replay:
            return self._replay.pop(0)
        if self._queue is None:
            raise EndOfStream
        try:
            item = await asyncio.wait_for(self._queue.get(), wait_s)
        except TimeoutError:
            return None
        if item is None:
            self._queue = None
            raise EndOfStream
        return item

    async def close(self) -> None:
        self._close()


class MemoryBroker(Broker):
    def __init__(self) -> None:
        self._runs: dict[str, _RunChannel] = {}
        self._threads: dict[str, list[Queue]] = defaultdict(list)
        self._cancel_listeners: list[Callable[[str], None]] = []
        self._seq = itertools.count()

    def _id(self) -> str:
        return f"{int(time.time() * 1000)}-{next(self._seq)}"

    def _channel(self, run_id: str) -> _RunChannel:
        channel = self._runs.get(run_id)
        if channel is None:
            channel = self._runs[run_id] = _RunChannel()
        return channel

    # live events of runs
    def wants_events(self, run_id: str, thread_id: str, *, streamed: bool) -> bool:
        channel = self._runs.get(run_id)
        return streamed or bool(channel and channel.subscribers) or bool(self._threads.get(thread_id))

    async def publish(self, run_id: str, thread_id: str, event: str, data: bytes) -> None:
        item = StreamEvent(self._id(), event, data)
        channel = self._channel(run_id)
        if channel.ended_at is None:
            channel.log.append(item)
            for queue in channel.subscribers:
                queue.put_nowait(item)
        for queue in self._threads.get(thread_id, ()):
            queue.put_nowait(item)

    async def end_run(
        self, run_id: str, thread_id: str, *, resumable: bool, thread_event: tuple[str, bytes] | None = None
    ) -> None:
        # A run nobody streamed leaves nothing behind. A subscriber cannot slip in between
        # its status check and subscribing: in one process both happen without a pause.
        channel = self._runs.get(run_id)
        if channel is not None:
            for queue in channel.subscribers:
                queue.put_nowait(None)
            channel.subscribers.clear()
            channel.ended_at = time.monotonic()
            if not resumable:
                channel.log.clear()
            self._expire()
        if thread_event is not None:
            await self.publish_thread(thread_id, *thread_event)

    async def subscribe(self, run_id: str, *, after: str | None) -> Subscription:
        channel = self._channel(run_id)
        replay = []
        if after is not None:
            start = event_key(after)
            replay = [e for e in channel.log if e.key > start]
        if channel.ended_at is not None:
            return _QueueSubscription(replay, None, lambda: None)
        queue: Queue = asyncio.Queue()
        channel.subscribers.append(queue)

        def close() -> None:
            if queue in channel.subscribers:
                channel.subscribers.remove(queue)

        return _QueueSubscription(replay, queue, close)

    def _expire(self) -> None:
        cutoff = time.monotonic() - RETAIN_S
        for run_id in [r for r, c in self._runs.items() if c.ended_at is not None and c.ended_at < cutoff]:
            del self._runs[run_id]

    # threads
    async def subscribe_thread(self, thread_id: str) -> Subscription:
        queue: Queue = asyncio.Queue()
        self._threads[thread_id].append(queue)

        def close() -> None:
            queues = self._threads.get(thread_id)
            if queues and queue in queues:
                queues.remove(queue)
                if not queues:
                    del self._threads[thread_id]

        return _QueueSubscription([], queue, close)

    async def publish_thread(self, thread_id: str, event: str, data: bytes) -> None:
        item = StreamEvent(self._id(), event, data)
        for queue in self._threads.get(thread_id, ()):
            queue.put_nowait(item)

    # cancel signals: the request is stored on the run; this only makes its holder see it
    # now rather than at its next heartbeat
    async def signal_cancel(self, run_id: str) -> None:
        for listener in self._cancel_listeners:
            listener(run_id)

    def on_cancel(self, listener: Callable[[str], None]) -> None:
        self._cancel_listeners.append(listener)
