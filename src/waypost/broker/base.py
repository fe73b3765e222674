"""The broker interface: what may be lost, carried between processes.

Live stream events (a run executing in one process, streamed to a client connected to
another; replay after a reconnect with Last-Event-ID) and cancel signals (telling whichever
process holds a run to look at the cancel request stored on it). Nothing here is the truth:
runs, checkpoints, answers and run ends live in storage. Losing the broker can cut a live
stream (its subscribers get `BrokerUnavailable`), never a run.

Two implementations: in memory (embedded mode, one process) and Redis (scaled mode).
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("waypost.broker")


@dataclass(frozen=True, slots=True)
class StreamEvent:
    id: str  # "<ms>-<seq>": ordered by (ms, seq); Redis stream ids have this shape too
    event: str
    data: bytes

    @property
    def key(self) -> tuple[int, int]:
        return event_key(self.id)


def event_key(event_id: str) -> tuple[int, int]:
    """Order of an event id; "-1", "-", "0" and "" mean before everything."""
    ms, _, seq = event_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return -1, -1


class EndOfStream(Exception):
    """The run's stream is over: no more events will come."""


class BrokerUnavailable(Exception):
    """The broker cannot be reached: a live stream ends here (the run goes on)."""


class Subscription(abc.ABC):
    """Events of one run (or one thread) for one subscriber, in order, without gaps."""

    @abc.abstractmethod
    async def next(self, wait_s: float) -> StreamEvent | None:
        """The next event, or None if none came within `wait_s` seconds (0: do not wait). Raises
        EndOfStream once the stream is over, BrokerUnavailable if the broker is gone."""

    @abc.abstractmethod
    async def close(self) -> None: ...


class Broker(abc.ABC):
    async def __aenter__(self) -> Broker:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    # live events of runs
    @abc.abstractmethod
    def wants_events(self, run_id: str, thread_id: str, *, streamed: bool) -> bool:
        """Whether anyone may read this run's events, so the worker serializes and publishes
        them: a client asked for a stream or a resumable stream (`streamed`), or someone is
        following the run or its thread."""

    @abc.abstractmethod
    async def publish(self, run_id: str, thread_id: str, event: str, data: bytes) -> None:
        """Append an event to the run's stream (and its thread's live followers)."""

    @abc.abstractmethod
    async def end_run(
        self, run_id: str, thread_id: str, *, resumable: bool, thread_event: tuple[str, bytes] | None = None
    ) -> None:
        """The run's stream is over. A resumable run's events stay readable for replay for
        a while; others may be dropped. `thread_event` then goes to the thread's followers,
        as publish_thread would send it (in the same round trip where there is one)."""

    @abc.abstractmethod
    async def subscribe(self, run_id: str, *, after: str | None) -> Subscription:
        """Follow a run's stream: the retained events after `after` ("0" for all of them,
        None for none), then live ones until the stream ends. Events published after this
        call returns are never missed."""

    # threads
    @abc.abstractmethod
    async def subscribe_thread(self, thread_id: str) -> Subscription:
        """Every event of every run on the thread from now on, and the thread's own events.
        Never ends by itself."""

    @abc.abstractmethod
    async def publish_thread(self, thread_id: str, event: str, data: bytes) -> None: ...

    # cancel signals
    @abc.abstractmethod
    async def signal_cancel(self, run_id: str) -> None:
        """Tell whichever process holds the run that a cancel request is stored on it."""

    @abc.abstractmethod
    def on_cancel(self, listener: Callable[[str], None]) -> None:
        """Call `listener(run_id)` for every cancel signal, from any process."""

    async def ping(self) -> bool:
        return True


async def best_effort(signal: Awaitable[None], what: str) -> None:
    """Send a signal the truth does not depend on (the state change is already committed):
    if the broker is down, log it and go on. Cancels still reach their holder at its next
    heartbeat; live followers learn from their own subscriptions that the broker is gone."""
    try:
        await signal
    except Exception as exc:
        log.warning("%s: the broker could not be told: %s", what, exc)
