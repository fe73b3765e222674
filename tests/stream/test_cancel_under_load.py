"""A cancel never strands a run or a worker slot: create a run and cancel it at once, thirty
times in a row, on a server with two worker slots while the machine's CPU is busy. Every run
must end (interrupted, or gone for a rollback) within seconds, no thread stays busy, the
worker runs the next run at once, and a restart runs none of the cancelled runs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError

from tests.polling import eventually
from tests.serverproc import TEST_GRAPHS_CONFIG, ServerProcess

pytestmark = pytest.mark.slow

ROUNDS = 30
BURN = "while True: pass"


@pytest.fixture
def cpu_load() -> Iterator[None]:
    """Keep both cores busy for the test's length; stopped by PID."""
    burners = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(2)]
    try:
        yield
    finally:
        for p in burners:
            p.kill()
            p.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(
        config=TEST_GRAPHS_CONFIG,
        database_url=f"sqlite:///{tmp_path / 'waypost.sqlite'}",
        extra_env={"WAYPOST_WORKERS": "2"},
    ).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
async def sdk(server: ServerProcess) -> AsyncIterator[LangGraphClient]:
    c = get_client(url=server.url, api_key=None)
    try:
        yield c
    finally:
        await c.aclose()


async def _status(client: LangGraphClient, thread_id: str, run_id: str) -> str:
    try:
        return (await client.runs.get(thread_id, run_id))["status"]
    except NotFoundError:
        return "gone"


async def test_create_then_cancel_thirty_times_under_load(
    server: ServerProcess, sdk: LangGraphClient, cpu_load: None
) -> None:
    made: list[tuple[str, str, str]] = []
    for i in range(ROUNDS):
        thread = await sdk.threads.create()
        tid = thread["thread_id"]
        run = await sdk.runs.create(tid, "slow", input={"some_text": f"r{i}", "delay": 30})
        action = "rollback" if i % 3 == 2 else "interrupt"
        await sdk.runs.cancel(tid, run["run_id"], wait=i % 2 == 1, action=action)  # type: ignore[arg-type]
        made.append((tid, run["run_id"], action))

    async def ends() -> list[str]:
        return [await _status(sdk, tid, rid) for tid, rid, _ in made]

    statuses = await eventually(
        ends, lambda s: all(x in ("interrupted", "gone") for x in s), within=20, what="every cancelled run to end"
    )
    for (_, _, action), status in zip(made, statuses, strict=True):
        assert status == ("gone" if action == "rollback" else "interrupted")
    for tid, _, _ in made:
        assert (await sdk.threads.get(tid))["status"] == "idle"

    # the slots are free: the next run starts and finishes at once
    thread = await sdk.threads.create()
    result = await sdk.runs.wait(thread["thread_id"], "agent", input={"some_text": "next"})
    assert result["__interrupt__"][0]["value"] == {"text_to_revise": "next"}

    # a restart runs none of the cancelled runs
    server.stop()
    server.start()
    thread = await sdk.threads.create()
    await sdk.runs.wait(thread["thread_id"], "agent", input={"some_text": "after restart"})
    assert await ends() == statuses
