"""Redis broker, for the scaled mode: several Waypost processes behind a load balancer.

Layout (every name starts with the broker's prefix, "waypost:" by default):

- `run:<run_id>`, a Redis Stream per run. An event is an entry `{e: <event name>, d: <data
  bytes>}`; its entry id ("<ms>-<seq>") is the StreamEvent id clients see and send back as
  Last-Event-ID. The run's end is an entry `{end: "1"}` (resumable) or `{end: "0"}`. The
  stream is capped at about MAX_EVENTS entries and expires RUNNING_TTL_S after its last event
  (a process that died mid-run leaks nothing for good), RESUMABLE_TTL_S after a resumable
  run's end (replay after a reconnect) and ENDED_TTL_S after any other end (long enough for a
  late subscriber to learn that it is over).
- `thread:<thread_id>`, a pub/sub channel: a thread's live events, each message
  `<id> <length of event name> <event name><data>`. Run events reach it from the same script
  that appends them to the run's stream, so they carry the same ids.
- `cancel`, a pub/sub channel: a message is a run id.
- `follow`, a pub/sub channel for "someone here reads this run or thread" notices:
  `+<broker>\\n<key>\\n<key>...` (following, repeated every FOLLOW_REPEAT_S), `-<broker>\\n<key>...`
  (no longer) and `?<broker>` (a broker that just connected asks the others to repeat theirs
  now), a key being `run:<run_id>` or `thread:<thread_id>`.

Blocking reads (XREAD BLOCK on a run's stream) each borrow a connection of the broker's pool
for one read, so a subscriber waiting for events holds one connection; a thread subscription
holds its own pub/sub connection; the broker holds one more for cancel signals and follow
notices, reconnecting with backoff whenever it drops. The pool opens connections on demand up
to `max_connections` (MAX_CONNECTIONS: about that many streams at once per process; Redis
itself accepts 10,000 clients by default, for all processes together), past which a new
read fails with BrokerUnavailable rather than waiting behind the others.

No call waits on Redis for long: commands are bounded by COMMAND_TIMEOUT_S and a blocking read
by its own BLOCK plus READ_GRACE_S, and a quiet pub/sub connection is pinged, so a Redis that
stops answering is noticed like one that went away.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MaxConnectionsError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.typing import EncodableT

from waypost.broker.base import Broker, BrokerUnavailable, EndOfStream, StreamEvent, Subscription, event_key

log = logging.getLogger("waypost.broker")

T = TypeVar("T")
# XREAD's answer: per stream, its name and its entries (id, fields).
_XReadReply = list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]]

MAX_EVENTS = 100_000  # about this many entries are kept per run (MAXLEN ~)
MAX_CONNECTIONS = 1000  # per broker; recent redis-py would otherwise stop at 100
RUNNING_TTL_S = 3600.0  # a stream outlives its last event by this much while the run goes on
RESUMABLE_TTL_S = 600.0  # a resumable run's events stay readable this long after its end
ENDED_TTL_S = 60.0  # the end of any other run stays visible this long
CONNECT_TIMEOUT_S = 2.0
COMMAND_TIMEOUT_S = 5.0
BLOCK_SLICE_S = 5.0  # one XREAD BLOCK waits at most this long, so a silent Redis is noticed
READ_GRACE_S = 2.0  # how much longer than its BLOCK a read may take before Redis counts as gone
READ_COUNT = 500  # entries fetched per read; the rest wait in Redis for the next one
PING_AFTER_S = 5.0  # a pub/sub connection quiet this long is pinged ...
PONG_WITHIN_S = 5.0  # ... and counts as dead if the answer takes longer than this
FOLLOW_REPEAT_S = 5.0
FOLLOW_TTL_S = 3 * FOLLOW_REPEAT_S  # a follower not heard of for this long is forgotten
NOTICE_KEYS = 500  # follow keys per notice message, so a busy process sends several small ones
BACKOFF_MIN_S = 0.05
BACKOFF_MAX_S = 2.0

# Append an event to a run's stream unless the stream has ended (a late event must not hide
# the end marker from subscribers that start at the last entry), keep the stream alive, and
# pass the event on, with the same id, to whoever listens to the thread's channel.
# KEYS[1] the run's stream; ARGV: event, data, thread channel, MAXLEN, TTL in ms, and the id to
# give thread listeners if the stream is over.
_PUBLISH = """
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local id = ARGV[6]
if not (last and last[2][1] == 'end') then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'e', ARGV[1], 'd', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
if redis.call('PUBSUB', 'NUMSUB', ARGV[3])[2] > 0 then
  redis.call('PUBLISH', ARGV[3], id .. ' ' .. #ARGV[1] .. ' ' .. ARGV[1] .. ARGV[2])
end
return id
"""

# Mark a run's stream as over, once, and let it expire: soon, or after the replay window;
# then pass a message (if any) to whoever listens to the thread's channel.
# KEYS[1] the run's stream; ARGV: "1" if resumable else "0", TTL in ms, MAXLEN, and the thread
# channel and its message, or two empty strings.
_END = """
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local ended = 0
if not (last and last[2][1] == 'end') then
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'end', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ended = 1
end
if ARGV[4] ~= '' then
  redis.call('PUBLISH', ARGV[4], ARGV[5])
end
return ended
"""

# What a lost or silent Redis looks like to redis-py and asyncio.
_GONE = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)


def _describe(url: str) -> str:
    """Where Redis is, for messages: host, port and database, never the credentials."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or ''}"


def _after_id(after: str) -> str:
    """A Last-Event-ID as Redis takes it: "<ms>-<seq>", anything unreadable meaning "from the
    start" as in `event_key`, so a bad header replays rather than fails."""
    ms, seq = event_key(after)
    return "0-0" if ms < 0 else f"{ms}-{seq}"


class RedisBroker(Broker):
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "waypost:",
        max_events: int = MAX_EVENTS,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.prefix = prefix
        self.where = _describe(url)
        self.max_events = max_events
        self.max_connections = max_connections
        # No retries inside redis-py: a retried XADD whose answer was lost would be appended
        # twice, and callers want to hear about a lost Redis at once rather than after a
        # backoff. A pooled connection that died meanwhile is still replaced before use.
        # No socket timeout either (recent redis-py default to 5 s): it would cut blocking
        # reads, and with one redis-py writes through asyncio.wait_for, which on Python 3.11
        # can lose a cancellation; every call here has its own asyncio.timeout instead.
        # RESP2, so replies have one shape with every redis-py from 5 on.
        self.redis: Redis = Redis.from_url(
            url,
            protocol=2,
            socket_timeout=None,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
            max_connections=max_connections,
        )
        self._publish_script = self.redis.register_script(_PUBLISH)
        self._end_script = self.redis.register_script(_END)
        self._cancel_channel = f"{prefix}cancel"
        self._cancel_channel_b = self._cancel_channel.encode()
        self._follow_channel = f"{prefix}follow"
        self._cancel_listeners: list[Callable[[str], None]] = []
        # This broker's name in follow notices, so one process stopping to follow something
        # does not erase another's interest in it.
        self.instance = secrets.token_hex(8)
        self._mine: dict[str, int] = {}  # follow key -> this broker's open subscriptions on it
        self._followed: dict[str, dict[str, float]] = {}  # follow key -> {broker: forget at (monotonic)}
        self._announce_now = asyncio.Event()
        self._tried = asyncio.Event()  # the listener's first connection attempt is over
        self._down = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._seq = itertools.count()

    # lifecycle
    async def __aenter__(self) -> RedisBroker:
        self._spawn(self._listen(), "waypost-broker-listen")
        self._spawn(self._announce(), "waypost-broker-announce")
        # Signals and notices only reach a listening broker: wait for its first try, but start
        # without Redis if it fails (Redis may come later: the listener keeps trying, says so).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CONNECT_TIMEOUT_S + COMMAND_TIMEOUT_S):
                await self._tried.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closed = True
        if self._mine:
            with contextlib.suppress(BrokerUnavailable):
                await self._notice("-", list(self._mine))
        # Cancelled until they stop: a library awaiting through asyncio.wait_for on Python
        # 3.11 may swallow one cancellation that comes as its operation completes.
        pending = set(self._tasks)
        while pending:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=0.1)
        await self.redis.aclose()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._tasks.discard)

    def _gone(self, what: str, exc: BaseException) -> BrokerUnavailable:
        # redis-py 5 says so with a plain ConnectionError, later ones with MaxConnectionsError.
        if isinstance(exc, MaxConnectionsError) or str(exc) == "Too many connections":
            return BrokerUnavailable(
                f"Redis at {self.where}: all {self.max_connections} connections of this process are in use ({what})"
            )
        if isinstance(exc, _GONE):
            return BrokerUnavailable(f"Redis at {self.where} is unreachable ({what}): {exc or type(exc).__name__}")
        return BrokerUnavailable(f"Redis at {self.where} refused {what}: {exc}")

    async def _call(self, what: str, op: Awaitable[T], timeout_s: float = COMMAND_TIMEOUT_S) -> T:
        """One exchange with Redis, bounded in time; any failure becomes BrokerUnavailable."""
        try:
            async with asyncio.timeout(timeout_s):
                return await op
        except (RedisError, *_GONE) as exc:
            raise self._gone(what, exc) from exc

    def _local_id(self) -> str:
        """An id for what has no stream entry (a thread's own events): the memory broker's
        shape. Thread streams are live only and never replayed, so it need not be global."""
        return f"{int(time.time() * 1000)}-{next(self._seq)}"

    def _run_key(self, run_id: str) -> str:
        return f"{self.prefix}run:{run_id}"

    def _thread_channel(self, thread_id: str) -> str:
        return f"{self.prefix}thread:{thread_id}"

    async def ping(self) -> bool:
        try:
            await self._call("PING", self.redis.ping())
        except BrokerUnavailable:
            return False
        return True

    # live events of runs
    def wants_events(self, run_id: str, thread_id: str, *, streamed: bool) -> bool:
        # Called before every event a run yields: only local knowledge, no round trip.
        return streamed or self._is_followed(f"run:{run_id}") or self._is_followed(f"thread:{thread_id}")

    async def publish(self, run_id: str, thread_id: str, event: str, data: bytes) -> None:
        channel, ttl_ms = self._thread_channel(thread_id), int(RUNNING_TTL_S * 1000)
        args: list[EncodableT] = [event, data, channel, self.max_events, ttl_ms, self._local_id()]
        await self._call("publish", self._publish_script(keys=[self._run_key(run_id)], args=args))

    async def end_run(
        self, run_id: str, thread_id: str, *, resumable: bool, thread_event: tuple[str, bytes] | None = None
    ) -> None:
        # Always written, even for a run nobody streamed: a subscriber in another process may
        # be between reading the run's status and subscribing, and must not wait forever.
        ttl_ms = int((RESUMABLE_TTL_S if resumable else ENDED_TTL_S) * 1000)
        channel, message = (
            (self._thread_channel(thread_id), self._thread_message(*thread_event)) if thread_event else ("", b"")
        )
        args: list[EncodableT] = ["1" if resumable else "0", ttl_ms, self.max_events, channel, message]
        await self._call("end_run", self._end_script(keys=[self._run_key(run_id)], args=args))

    async def subscribe(self, run_id: str, *, after: str | None) -> Subscription:
        """Where the subscription starts is settled here, in the same round trip as the follow
        notice: after the stream's last entry for `after=None`, so whatever is appended once
        this returns is read. An unreachable Redis is reported by the subscription's next()
        (BrokerUnavailable), as a loss mid-stream would be, not by raising here."""
        key, follow = self._run_key(run_id), f"run:{run_id}"
        pipe = self.redis.pipeline(transaction=False)
        pipe.xrevrange(key, "+", "-", count=1)
        pipe.publish(self._follow_channel, self._notice_payload("+", [follow]))
        try:
            last, _ = await self._call("subscribe", pipe.execute())
        except BrokerUnavailable as exc:
            return _Failed(exc)
        # No stream yet (or any more): whatever comes is new, whatever `after` says.
        start, over = "0-0", False
        if last:
            last_id, fields = last[0][0].decode(), last[0][1]
            # Never after the last entry: an id from the future (a made-up Last-Event-ID)
            # would skip the live events, and the end.
            start = last_id if after is None else min(_after_id(after), last_id, key=event_key)
            if b"end" in fields:
                # Over already: a resumable run's events after `after` are still there to
                # replay; otherwise (or if nothing is asked for) only the end remains.
                if after is None or fields[b"end"] != b"1" or start == last_id:
                    # Take back the notice just sent: nothing will be published for this one.
                    self._spawn(self._unfollow_notice(follow), "waypost-broker-unfollow")
                    return _Failed(EndOfStream())
                over = True
        self._follow(follow)
        return _RunSubscription(self, key, start, over, follow)

    # threads
    async def subscribe_thread(self, thread_id: str) -> Subscription:
        follow = f"thread:{thread_id}"
        pubsub = self.redis.pubsub()
        try:
            # Listening only counts once Redis confirms the SUBSCRIBE: from then on, anything
            # published on the channel reaches this connection.
            await self._call("subscribe_thread", _subscribed(pubsub, self._thread_channel(thread_id)))
            await self._call(
                "subscribe_thread", self.redis.publish(self._follow_channel, self._notice_payload("+", [follow]))
            )
        except BrokerUnavailable as exc:
            await _close_quietly(pubsub)
            return _Failed(exc)
        self._follow(follow)
        return _ThreadSubscription(self, pubsub, follow)

    async def publish_thread(self, thread_id: str, event: str, data: bytes) -> None:
        message = self._thread_message(event, data)
        await self._call("publish_thread", self.redis.publish(self._thread_channel(thread_id), message))

    def _thread_message(self, event: str, data: bytes) -> bytes:
        return f"{self._local_id()} {len(event.encode())} {event}".encode() + data

    # cancel signals: the request is stored on the run; this only makes its holder see it
    # now rather than at its next heartbeat. Every broker hears it, this one included.
    async def signal_cancel(self, run_id: str) -> None:
        await self._call("signal_cancel", self.redis.publish(self._cancel_channel, run_id))

    def on_cancel(self, listener: Callable[[str], None]) -> None:
        self._cancel_listeners.append(listener)

    # follow notices
    def _is_followed(self, key: str) -> bool:
        if key in self._mine:
            return True
        brokers = self._followed.get(key)
        if not brokers:
            return False
        now = time.monotonic()
        return any(until > now for until in brokers.values())

    def _follow(self, key: str) -> None:
        self._mine[key] = self._mine.get(key, 0) + 1

    def _unfollow(self, key: str) -> None:
        left = self._mine.get(key, 0) - 1
        if left > 0:
            self._mine[key] = left
            return
        self._mine.pop(key, None)
        # Told in the background: closing a stream must not wait on Redis, and if the notice
        # is lost the others forget this follower after FOLLOW_TTL_S anyway.
        if not self._closed:
            self._spawn(self._unfollow_notice(key), "waypost-broker-unfollow")

    async def _unfollow_notice(self, key: str) -> None:
        if key not in self._mine:  # followed again meanwhile: nothing to take back
            with contextlib.suppress(BrokerUnavailable):
                await self._notice("-", [key])

    def _notice_payload(self, kind: str, keys: list[str]) -> bytes:
        return "\n".join([kind + self.instance, *keys]).encode()

    async def _notice(self, kind: str, keys: list[str]) -> None:
        for i in range(0, max(len(keys), 1), NOTICE_KEYS):
            payload = self._notice_payload(kind, keys[i : i + NOTICE_KEYS])
            await self._call("follow notice", self.redis.publish(self._follow_channel, payload))

    def _heard_notice(self, payload: bytes) -> None:
        kind, sender, *keys = payload[:1].decode(errors="replace"), *payload[1:].decode(errors="replace").split("\n")
        if sender == self.instance:
            return  # its own subscriptions (`_mine`) are what this broker knows of itself
        if kind == "+":
            until = time.monotonic() + FOLLOW_TTL_S
            for key in keys:
                self._followed.setdefault(key, {})[sender] = until
        elif kind == "-":
            for key in keys:
                brokers = self._followed.get(key)
                if brokers is not None:
                    brokers.pop(sender, None)
                    if not brokers:
                        del self._followed[key]
        elif kind == "?":
            self._announce_now.set()

    async def _announce(self) -> None:
        """Repeat this broker's follows while they are open, and forget others' that were not
        repeated in time."""
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancellation that
            # comes as the event is set, and this task would then outlive its broker.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FOLLOW_REPEAT_S):
                    await self._announce_now.wait()
            self._announce_now.clear()
            now = time.monotonic()
            for key in list(self._followed):
                alive = {b: until for b, until in self._followed[key].items() if until > now}
                if alive:
                    self._followed[key] = alive
                else:
                    del self._followed[key]
            if self._mine:
                with contextlib.suppress(BrokerUnavailable):  # the listener reports a lost Redis
                    await self._notice("+", list(self._mine))

    # the background pub/sub connection: cancel signals and follow notices
    async def _listen(self) -> None:
        backoff = BACKOFF_MIN_S
        while True:
            pubsub = self.redis.pubsub()
            try:
                await self._call("listen", _subscribed(pubsub, self._cancel_channel, self._follow_channel))
                if self._down:
                    log.info("Redis at %s is reachable again: live streams and cancel signals resume", self.where)
                    self._down = False
                self._tried.set()
                backoff = BACKOFF_MIN_S
                # Notices sent while this broker was away are lost: ask for them again, and
                # tell the others what is followed here.
                await self._call("listen", self.redis.publish(self._follow_channel, self._notice_payload("?", [])))
                self._announce_now.set()
                line = _Line(pubsub)
                while True:
                    message = await line.message(PING_AFTER_S)
                    if message is None:
                        continue
                    if message["channel"] == self._cancel_channel_b:
                        self._cancelled(message["data"].decode(errors="replace"))
                    else:
                        self._heard_notice(message["data"])
            except (BrokerUnavailable, RedisError, *_GONE) as exc:
                if not self._down:
                    cause = exc.__cause__ if isinstance(exc, BrokerUnavailable) and exc.__cause__ else exc
                    log.warning(
                        "Redis at %s is unreachable (%s): live streams and cancel signals stop until it is back",
                        self.where,
                        cause or type(cause).__name__,
                    )
                    self._down = True
            except Exception:  # a bug here must not end cancel signals for good: log, start over
                log.exception("the broker's listener failed; reconnecting")
            finally:
                self._tried.set()
                await _close_quietly(pubsub)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _cancelled(self, run_id: str) -> None:
        for listener in self._cancel_listeners:
            try:
                listener(run_id)
            except Exception:  # one listener failing must not stop the others or the listener
                log.exception("cancel listener failed for run %s", run_id)


class _Failed(Subscription):
    """A subscription that could not start, or a stream already over: next() says so."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    async def next(self, wait_s: float) -> StreamEvent | None:
        raise self._error

    async def close(self) -> None:
        return None


class _RunSubscription(Subscription):
    def __init__(self, broker: RedisBroker, key: str, start: str, over: bool, follow: str) -> None:
        self._broker = broker
        self._key = key
        self._last = start  # the id of the last entry read: reads continue after it
        self._over = over  # the end marker was seen at subscribe: an empty read means the end
        self._follow = follow
        self._pending: deque[StreamEvent] = deque()
        self._ended = False
        self._error: BrokerUnavailable | None = None
        self._closed = False

    async def next(self, wait_s: float) -> StreamEvent | None:
        deadline = time.monotonic() + max(wait_s, 0.0)
        while True:
            if self._pending:
                return self._pending.popleft()
            if self._ended:
                raise EndOfStream
            if self._error is not None:
                raise self._error
            remaining = deadline - time.monotonic()
            # Redis reads BLOCK 0 as "forever": no wait is no BLOCK at all, and a short wait
            # is at least a millisecond.
            block_ms = None if remaining <= 0 else max(1, int(min(remaining, BLOCK_SLICE_S) * 1000))
            if await self._read(block_ms):
                continue
            if self._over:
                self._ended = True  # expired since subscribe: only its end was left to see
            elif block_ms is None or time.monotonic() >= deadline:
                return None

    async def _read(self, block_ms: int | None) -> bool:
        broker = self._broker
        timeout_s = COMMAND_TIMEOUT_S if block_ms is None else block_ms / 1000 + READ_GRACE_S
        try:
            read = broker.redis.xread({self._key: self._last}, count=READ_COUNT, block=block_ms)
            # Bytes throughout: the client does not decode responses.
            reply = cast("_XReadReply | None", await broker._call("XREAD", read, timeout_s))
        except BrokerUnavailable as exc:
            self._error = exc
            raise
        for _stream, entries in reply or ():
            for entry_id, fields in entries:
                self._last = entry_id.decode()
                if b"end" in fields:
                    self._ended = True
                    return True
                self._pending.append(StreamEvent(self._last, fields[b"e"].decode(), fields[b"d"]))
        return bool(reply)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._broker._unfollow(self._follow)


class _ThreadSubscription(Subscription):
    def __init__(self, broker: RedisBroker, pubsub: PubSub, follow: str) -> None:
        self._broker = broker
        self._line = _Line(pubsub)
        self._follow = follow
        self._error: BrokerUnavailable | None = None
        self._closed = False

    async def next(self, wait_s: float) -> StreamEvent | None:
        if self._error is not None:
            raise self._error
        deadline = time.monotonic() + max(wait_s, 0.0)
        while True:
            try:
                message = await self._line.message(deadline - time.monotonic())
            except (RedisError, *_GONE) as exc:
                self._error = self._broker._gone("thread stream", exc)
                await _close_quietly(self._line.pubsub)
                raise self._error from exc
            if message is None:
                return None
            event = _thread_event(message["data"])
            if event is not None:
                return event

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await _close_quietly(self._line.pubsub)
            self._broker._unfollow(self._follow)


def _thread_event(payload: bytes) -> StreamEvent | None:
    """A thread channel's message, or None for one this broker did not write."""
    try:
        event_id, size, rest = payload.split(b" ", 2)
        n = int(size)
        return StreamEvent(event_id.decode(), rest[:n].decode(), rest[n:])
    except ValueError:
        log.warning("ignored a malformed thread stream message: %r", payload[:80])
        return None


async def _subscribed(pubsub: PubSub, *channels: str) -> None:
    """SUBSCRIBE, and return once Redis confirmed every channel."""
    await pubsub.subscribe(*channels)
    waiting = {c.encode() for c in channels}
    while waiting:
        message = await pubsub.get_message(timeout=COMMAND_TIMEOUT_S)
        if message is not None and message["type"] == "subscribe":
            waiting.discard(message["channel"])


class _Line:
    """A pub/sub connection whose silence is checked: quiet for PING_AFTER_S, it is pinged,
    and without an answer within PONG_WITHIN_S it counts as gone. A thread may have nothing to
    say for hours; a Redis that vanished without closing the connection must still be noticed."""

    def __init__(self, pubsub: PubSub) -> None:
        self.pubsub = pubsub
        self._heard = time.monotonic()
        self._pinged: float | None = None

    async def message(self, wait_s: float) -> dict[str, Any] | None:
        """The next published message within `wait_s` seconds (0: only one already here), or
        None. Raises what redis-py or asyncio raise once the connection is lost or silent."""
        deadline = time.monotonic() + max(wait_s, 0.0)
        while True:
            wait = max(0.0, min(deadline - time.monotonic(), PING_AFTER_S))
            async with asyncio.timeout(wait + READ_GRACE_S):
                message = await self.pubsub.get_message(timeout=wait)
            now = time.monotonic()
            if message is not None:
                self._heard, self._pinged = now, None
                if message["type"] == "message":
                    return message
                continue  # a pong, or a (un)subscribe confirmation
            if self._pinged is not None:
                if now - self._pinged > PONG_WITHIN_S:
                    raise TimeoutError(f"no answer to PING within {PONG_WITHIN_S:g} s")
            elif now - self._heard > PING_AFTER_S:
                async with asyncio.timeout(COMMAND_TIMEOUT_S):
                    await self.pubsub.ping()
                self._pinged = now
            if now >= deadline:
                return None


async def _close_quietly(pubsub: PubSub) -> None:
    with contextlib.suppress(RedisError, *_GONE):
        await pubsub.aclose()
