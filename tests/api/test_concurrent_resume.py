"""Exactly-once answers: twenty clients answer one interrupt at the same moment."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.support import assert_error
from tests.serverproc import TEST_GRAPHS_CONFIG, ServerProcess

N = 20


async def test_twenty_concurrent_resumes_one_wins(graphs_server: ServerProcess) -> None:
    limits = httpx.Limits(max_connections=N, max_keepalive_connections=N)
    async with httpx.AsyncClient(base_url=graphs_server.url, timeout=60.0, limits=limits) as http:
        tid = (await http.post("/threads", json={})).json()["thread_id"]
        first = await http.post(
            f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "original text"}}
        )
        [item] = first.json()["__interrupt__"]

        # Open the connections first so the requests really race each other.
        await asyncio.gather(*(http.get("/ok") for _ in range(N)))
        go = asyncio.Event()

        async def answer(i: int) -> httpx.Response:
            await go.wait()
            return await http.post(
                f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "command": {"resume": f"answer-{i}"}}
            )

        tasks = [asyncio.create_task(answer(i)) for i in range(N)]
        await asyncio.sleep(0)  # a yield, not a wait: one loop turn parks every task at go.wait()
        go.set()
        responses = await asyncio.gather(*tasks)

    winners = [(i, r) for i, r in enumerate(responses) if r.status_code == 200]
    losers = [r for r in responses if r.status_code != 200]
    assert len(winners) == 1, [(r.status_code, r.text) for r in responses]
    assert len(losers) == N - 1
    for r in losers:
        detail = assert_error(r, 409)
        assert "already answered" in detail
        assert item["id"] in detail
    winner_index, winner = winners[0]
    assert winner.json() == {"some_text": f"answer-{winner_index}"}

    with httpx.Client(base_url=graphs_server.url, timeout=30) as http:
        thread = http.get(f"/threads/{tid}").json()
        state = http.get(f"/threads/{tid}/state").json()
        runs = http.get(f"/threads/{tid}/runs", params={"limit": 100}).json()
    assert thread["status"] == "idle" and thread["interrupts"] == {}
    assert thread["values"] == {"some_text": f"answer-{winner_index}"}
    assert state["values"] == {"some_text": f"answer-{winner_index}"}
    assert len(runs) == 2
    assert all(r["status"] == "success" for r in runs)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own, so a freeze here cannot leak into the other tests."""
    server = ServerProcess(
        config=TEST_GRAPHS_CONFIG, database_url=f"sqlite:///{tmp_path / 'load.sqlite'}", log_path=tmp_path / "load.log"
    ).start()
    try:
        yield server
    finally:
        server.stop()


async def test_concurrent_runs_and_reads_never_fail_or_stall(own_server: ServerProcess) -> None:
    """Sixteen threads run a three-step graph at once while sixteen readers poll them.

    Every request must succeed, and the whole batch must finish in seconds: a request that
    waits on SQLite's lock must not freeze the server (or 500 after the busy timeout)."""
    n = 16
    limits = httpx.Limits(max_connections=2 * n, max_keepalive_connections=2 * n)
    async with httpx.AsyncClient(base_url=own_server.url, timeout=12.0, limits=limits) as http:
        tids = [(await http.post("/threads", json={})).json()["thread_id"] for _ in range(n)]
        outcomes: list[str] = []

        async def run(tid: str) -> None:
            try:
                r = await http.post(
                    f"/threads/{tid}/runs/wait", json={"assistant_id": "steps", "input": {"some_text": "x"}}
                )
                ok = r.status_code == 200 and r.json().get("trail") == ["one", "two"]
                outcomes.append("ok" if ok else f"wait {r.status_code}: {r.text[:120]}")
            except httpx.HTTPError as exc:
                outcomes.append(f"wait {type(exc).__name__}: {exc}")

        async def read(tid: str) -> None:
            for _ in range(10):
                try:
                    r = await http.get(f"/threads/{tid}")
                    outcomes.append("ok" if r.status_code == 200 else f"get {r.status_code}: {r.text[:120]}")
                except httpx.HTTPError as exc:
                    outcomes.append(f"get {type(exc).__name__}: {exc}")

        started = asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(20):  # bounded even when the server freezes
                await asyncio.gather(*(run(t) for t in tids), *(read(t) for t in tids))
        except TimeoutError:
            outcomes.append("the batch did not finish within 20s")
        elapsed = asyncio.get_running_loop().time() - started

    failures = [o for o in outcomes if o != "ok"]
    assert failures == [], f"{len(failures)} of {len(outcomes)} requests failed after {elapsed:.1f}s: {failures[:3]}"
    assert elapsed < 8.0, f"{n} short runs with readers took {elapsed:.1f}s"
