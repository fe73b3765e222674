"""In-process broker: asyncio events and queues, for the embedded single-process mode."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from typing import Any


class MemoryBroker:
    def __init__(self) -> None:
        self._done: dict[str, list[asyncio.Event]] = defaultdict(list)
        self._streams: dict[str, list[asyncio.Queue[Any]]] = defaultdict(list)
        self._work_listeners: list[Callable[[], None]] = []

    # run completion
    def watch_run(self, run_id: str) -> asyncio.Event:
        """An event set when run_id ends. Call before checking storage, then await it."""
        event = asyncio.Event()
        self._done[run_id].append(event)
        return event

    def unwatch_run(self, run_id: str, event: asyncio.Event) -> None:
        events = self._done.get(run_id)
        if events and event in events:
            events.remove(event)
            if not events:
                del self._done[run_id]

    def run_done(self, run_id: str) -> None:
        for event in self._done.pop(run_id, []):
            event.set()
        for queue in self._streams.pop(run_id, []):
            queue.put_nowait(None)  # end of stream

    # live stream events of a run
    def subscribe(self, run_id: str) -> asyncio.Queue[Any]:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._streams[run_id].append(queue)
        return queue

    def unsubscribe(self, run_id: str, queue: asyncio.Queue[Any]) -> None:
        queues = self._streams.get(run_id)
        if queues and queue in queues:
            queues.remove(queue)

    def has_subscribers(self, run_id: str) -> bool:
        return bool(self._streams.get(run_id))

    def publish(self, run_id: str, event: str, data: Any) -> None:
        for queue in self._streams.get(run_id, ()):
            queue.put_nowait((event, data))

    # work available
    def on_work(self, listener: Callable[[], None]) -> None:
        self._work_listeners.append(listener)

    def work_available(self) -> None:
        for listener in self._work_listeners:
            listener()
