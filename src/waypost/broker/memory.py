"""In-process broker: asyncio events and queues, for the embedded single-process mode.

Stream events are published once per run as (id, event, data-bytes); data is serialized by
the publisher so every subscriber shares the same bytes. Resumable runs keep their events in
a log for `RESUMABLE_TTL_S` after they end, for replay after a reconnect (Last-Event-ID).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

RESUMABLE_TTL_S = 600.0


@dataclass(frozen=True, slots=True)
class StreamEvent:
    id: str  # "<ms>-<seq>": sortable by (ms, seq), the shape the official server uses
    event: str
    data: bytes

    @property
    def key(self) -> tuple[int, int]:
        return event_key(self.id)


def event_key(event_id: str) -> tuple[int, int]:
    """Order of an event id; "-1", "-" and "" mean before everything."""
    ms, _, seq = event_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return -1, -1


# A queue item is an event, or None for "this run (or stream) has ended".
Queue = asyncio.Queue["StreamEvent | None"]


@dataclass
class _RunChannel:
    thread_id: str
    resumable: bool
    log: list[StreamEvent] = field(default_factory=list)
    subscribers: list[Queue] = field(default_factory=list)
    ended_at: float | None = None


class MemoryBroker:
    def __init__(self) -> None:
        self._done: dict[str, list[asyncio.Future[None]]] = defaultdict(list)
        self._runs: dict[str, _RunChannel] = {}
        self._threads: dict[str, list[Queue]] = defaultdict(list)
        self._work_listeners: list[Callable[[], None]] = []
        self._cancel_listeners: list[Callable[[str], None]] = []
        self._seq = itertools.count()

    # run completion
    def watch_run(self, run_id: str) -> asyncio.Future[None]:
        """A future resolved when run_id ends. It only says "look": the run is then read from
        storage. Call before checking storage, then await it."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._done[run_id].append(future)
        return future

    def unwatch_run(self, run_id: str, future: asyncio.Future[None]) -> None:
        futures = self._done.get(run_id)
        if futures and future in futures:
            futures.remove(future)
            if not futures:
                del self._done[run_id]

    def run_ended(self, run_id: str) -> None:
        """The run's end is recorded: wake its waiters and end its live streams."""
        for future in self._done.pop(run_id, []):
            if not future.done():
                future.set_result(None)
        channel = self._runs.get(run_id)
        if channel is not None:
            for queue in channel.subscribers:
                queue.put_nowait(None)
            channel.subscribers.clear()
            channel.ended_at = time.monotonic()
            if not channel.resumable:
                del self._runs[run_id]
        self._expire()

    # live stream events
    def open_run(self, run_id: str, thread_id: str, resumable: bool) -> None:
        """Declare a run's stream before anyone can subscribe (at run creation)."""
        self._runs.setdefault(run_id, _RunChannel(thread_id, resumable))

    def subscribe(self, run_id: str, after: str | None = None) -> tuple[list[StreamEvent], Queue | None]:
        """Replay of logged events after `after` (a Last-Event-ID), and a queue of live ones.
        Both are taken in one step, so nothing is missed or seen twice. The queue is None
        when the run's stream has already ended."""
        channel = self._runs.get(run_id)
        if channel is None:
            return [], None
        replay = []
        if after is not None:
            start = event_key(after)
            replay = [e for e in channel.log if e.key > start]
        if channel.ended_at is not None:
            return replay, None
        queue: Queue = asyncio.Queue()
        channel.subscribers.append(queue)
        return replay, queue

    def unsubscribe(self, run_id: str, queue: Queue | None) -> None:
        channel = self._runs.get(run_id)
        if channel is not None and queue in channel.subscribers:
            channel.subscribers.remove(queue)

    def wants_events(self, run_id: str) -> bool:
        channel = self._runs.get(run_id)
        return channel is not None and (
            channel.resumable or bool(channel.subscribers) or bool(self._threads.get(channel.thread_id))
        )

    def publish(self, run_id: str, event: str, data: bytes) -> None:
        channel = self._runs.get(run_id)
        if channel is None:
            return
        item = StreamEvent(f"{int(time.time() * 1000)}-{next(self._seq)}", event, data)
        if channel.resumable:
            channel.log.append(item)
        for queue in channel.subscribers:
            queue.put_nowait(item)
        for queue in self._threads.get(channel.thread_id, ()):
            queue.put_nowait(item)

    # thread streams: every event of every run on a thread
    def subscribe_thread(self, thread_id: str) -> Queue:
        queue: Queue = asyncio.Queue()
        self._threads[thread_id].append(queue)
        return queue

    def unsubscribe_thread(self, thread_id: str, queue: Queue) -> None:
        queues = self._threads.get(thread_id)
        if queues and queue in queues:
            queues.remove(queue)
            if not queues:
                del self._threads[thread_id]

    def publish_thread(self, thread_id: str, event: str, data: bytes) -> None:
        item = StreamEvent(f"{int(time.time() * 1000)}-{next(self._seq)}", event, data)
        for queue in self._threads.get(thread_id, ()):
            queue.put_nowait(item)

    def _expire(self) -> None:
        cutoff = time.monotonic() - RESUMABLE_TTL_S
        for run_id in [r for r, c in self._runs.items() if c.ended_at is not None and c.ended_at < cutoff]:
            del self._runs[run_id]

    # cancel requests, for whichever worker holds the run. The request itself is stored on
    # the run; this only makes the holder see it now rather than at its next heartbeat.
    def on_cancel(self, listener: Callable[[str], None]) -> None:
        self._cancel_listeners.append(listener)

    def signal_cancel(self, run_id: str) -> None:
        for listener in self._cancel_listeners:
            listener(run_id)

    # work available
    def on_work(self, listener: Callable[[], None]) -> None:
        self._work_listeners.append(listener)

    def work_available(self) -> None:
        for listener in self._work_listeners:
            listener()
