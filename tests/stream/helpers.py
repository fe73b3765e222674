"""Small helpers shared by the streaming tests: deadlines instead of fixed sleeps, a count of
the streams the server has answered, and a raw SSE reader that checks the wire format byte
for byte."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from langgraph_sdk.client import LangGraphClient

from tests.polling import eventually

T = TypeVar("T")

INFLIGHT = ("pending", "running")
HEX32 = r"[0-9a-f]{32}"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


async def run_status(client: LangGraphClient, thread_id: str, run_id: str) -> str:
    return (await client.runs.get(thread_id, run_id))["status"]


async def wait_status(
    client: LangGraphClient,
    thread_id: str,
    run_id: str,
    wanted: str | tuple[str, ...],
    within: float = 5.0,
) -> dict[str, Any]:
    wanted = (wanted,) if isinstance(wanted, str) else wanted
    return await eventually(
        lambda: client.runs.get(thread_id, run_id),
        lambda r: r["status"] in wanted,
        within=within,
        what=f"run {run_id} status in {wanted}",
    )


async def wait_running(client: LangGraphClient, thread_id: str, run_id: str) -> dict[str, Any]:
    return await wait_status(client, thread_id, run_id, "running")


async def run_gone(http: httpx.AsyncClient, thread_id: str, run_id: str, within: float = 5.0) -> None:
    await eventually(
        lambda: http.get(f"/threads/{thread_id}/runs/{run_id}"),
        lambda r: r.status_code == 404,
        within=within,
        what=f"run {run_id} deleted (404)",
    )


@dataclass
class Answers:
    """How many responses the SDK has received for one path.

    A stream endpoint subscribes its request to the run's (or thread's) events before it
    answers, so once the response to a join has arrived, that join gets every event published
    from then on: this is how a test knows its listener is in place before it lets the run go
    on, where it used to sleep and hope the request had got there."""

    path: str
    count: int = 0

    async def hook(self, response: httpx.Response) -> None:
        if response.request.url.path == self.path:
            self.count += 1

    async def reach(self, n: int) -> None:
        async def count() -> int:
            return self.count

        await eventually(count, lambda c: c >= n, what=f"{n} answered requests to {self.path}")


@contextmanager
def answers_to(client: LangGraphClient, path: str) -> Iterator[Answers]:
    """Count the responses `client` gets for `path` while the block runs (an httpx event hook
    on the SDK's own connection pool, so the SDK calls are the ones the test makes anyway)."""
    answers = Answers(path)
    hooks = client.http.client.event_hooks["response"]
    hooks.append(answers.hook)
    try:
        yield answers
    finally:
        hooks.remove(answers.hook)


@dataclass
class RawEvent:
    event: str
    data: Any
    id: str | None
    raw: bytes


async def raw_events(response: httpx.Response) -> AsyncIterator[RawEvent]:
    """Parse an SSE body as it arrives, insisting on the contract's framing: every line ends
    in CRLF, one `event:` and one one-line `data:` per event, optional `id:`, and comment
    lines (heartbeats) starting with ':'."""
    buffer = b""
    async for chunk in response.aiter_raw():
        buffer += chunk
        while b"\r\n\r\n" in buffer:
            block, buffer = buffer.split(b"\r\n\r\n", 1)
            assert b"\n" not in block.replace(b"\r\n", b""), f"bare LF inside an SSE event: {block!r}"
            assert b"\r" not in block.replace(b"\r\n", b""), f"bare CR inside an SSE event: {block!r}"
            lines = block.split(b"\r\n")
            if all(line.startswith(b":") for line in lines):
                continue  # heartbeat comment
            fields: dict[str, list[bytes]] = {}
            for line in lines:
                if line.startswith(b":"):
                    continue
                name, sep, value = line.partition(b": ")
                assert sep, f"malformed SSE line {line!r}"
                fields.setdefault(name.decode(), []).append(value)
            assert set(fields) <= {"event", "data", "id"}, fields
            assert len(fields.get("event", [])) == 1 and len(fields.get("data", [])) == 1, block
            event_id = fields["id"][0].decode() if "id" in fields else None
            yield RawEvent(fields["event"][0].decode(), json.loads(fields["data"][0]), event_id, block)
    assert buffer.strip() == b"", f"stream ended inside an event: {buffer!r}"


def event_key(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq)


async def wait_in_node(client: LangGraphClient, thread_id: str, run_id: str, node: str = "slow_node") -> None:
    """Wait until the run is inside `node`: running, with the checkpoint before `node` saved."""
    await wait_running(client, thread_id, run_id)
    await eventually(
        lambda: client.threads.get_state(thread_id),
        lambda s: s["next"] == [node],
        what=f"run {run_id} inside {node}",
    )
