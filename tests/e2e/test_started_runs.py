"""Runs claimed as they are queued: a process with a free worker slot claims the run in the
transaction that queues it and starts it there (RunStarter), instead of leaving it for a claim.

In-process, on the real storage of each backend with the real worker: what these tests look at
(a slot taken, a request cancelled between two awaits) is inside one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.backends import Backend
from tests.markers import Markers
from tests.polling import eventually
from tests.serverproc import TEST_GRAPHS_CONFIG
from waypost.errors import NotFound
from waypost.models import INFLIGHT, Run
from waypost.operations import runs, threads
from waypost.project import load_project
from waypost.runtime import Runtime
from waypost.services import services
from waypost.settings import Settings
from waypost.storage.base import Page

pytestmark = pytest.mark.slow


@pytest.fixture
async def rt(backend: Backend, tmp_path: Path) -> AsyncIterator[Runtime]:
    """Waypost's services, API side and a worker with two slots, as `waypost serve` runs them."""
    if reason := backend.unavailable():
        pytest.skip(reason)
    with backend.place(tmp_path) as place:
        flags = dict(zip(place.args[::2], place.args[1::2], strict=True))
        settings = Settings(
            config_path=TEST_GRAPHS_CONFIG,
            database_url=place.database_url,
            redis_url=flags.get("--redis-url"),
            redis_prefix=flags.get("--redis-prefix", "waypost:"),
            workers=2,
        )
        async with services(settings, load_project(settings)) as runtime:
            yield runtime


def _request(thread_id: str, graph: str = "agent", **payload: object) -> runs.RunRequest:
    body = {"assistant_id": graph, "input": {"some_text": "hello"}, "if_not_exists": "create", **payload}
    return runs.RunRequest(thread_id=thread_id, payload=body)


async def _run(rt: Runtime, run_id: str) -> Run | None:
    async with rt.storage.autocommit() as tx:
        return await tx.get_run(run_id)


async def _runs_of(rt: Runtime, thread_id: str) -> list[Run]:
    async with rt.storage.autocommit() as tx:
        found = await tx.inflight_runs(thread_id)
        return found + [r for r in await tx.list_runs(thread_id, None, Page(limit=10)) if r not in found]


async def _slots_free(rt: Runtime, slots: int) -> None:
    """Every slot of the worker can be taken again (a run's task lets its slot go a moment
    after its end is recorded, once it has told the broker)."""
    starter = rt.starter
    assert starter is not None

    async def taken() -> int:
        got = 0
        while got < slots and starter.reserve():
            got += 1
        for _ in range(got):
            starter.unreserve()
        return got

    await eventually(taken, lambda n: n == slots, within=5, what=f"all {slots} worker slots free")


async def _steps_to_create(rt: Runtime) -> int:
    """How many turns of the event loop creating a run takes here, uncancelled (the most of
    three: the first may be slower than the rest)."""
    most = 0
    for _ in range(3):
        task = asyncio.ensure_future(runs.create(rt, _request(str(uuid.uuid4()))))
        steps = 0
        while not task.done():
            await asyncio.sleep(0)
            steps += 1
        await task
        most = max(most, steps)
    return most


async def test_a_request_cancelled_at_any_point_leaves_no_run_unheld_and_no_slot_taken(rt: Runtime) -> None:
    """A request may be cancelled at any await while its run is queued (the client or the
    server going away). Whatever point it reached, its run either was never queued or is
    held and runs to its end at once: none is left `running` with no one executing it
    (embedded mode has no other process to take it over), and no worker slot stays taken."""
    steps = await _steps_to_create(rt)
    # Every turn on SQLite (a handful); on PostgreSQL a turn passes at each look at a socket
    # (thousands), so about sixty cuts spread over the whole, commit included.
    cuts = sorted({*range(0, steps, max(1, steps // 60)), steps, steps + 1})
    made: list[str] = []
    for cut in cuts:
        thread_id = str(uuid.uuid4())
        task = asyncio.ensure_future(runs.create(rt, _request(thread_id)))
        for _ in range(cut):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        made.append(thread_id)

    async def still_in_flight() -> list[Run]:
        return [r for tid in made for r in await _runs_of(rt, tid) if r.status in INFLIGHT]

    # Well within a lease: a run claimed but left unheld would only move once its lease
    # lapsed and another look took it over (as attempt 2).
    await eventually(still_in_flight, lambda left: not left, within=4, what="every queued run to end")
    ended = [r for tid in made for r in await _runs_of(rt, tid)]
    assert ended, "no cut came late enough to queue a run"
    assert {r.attempt for r in ended} == {1}, [(r.run_id, r.attempt) for r in ended]
    await _slots_free(rt, 2)


async def test_a_run_queued_while_every_slot_is_busy_waits_for_a_slot(rt: Runtime, tmp_path: Path) -> None:
    """Two slots, both held by runs stopped inside a node: a third run, on another thread, is
    queued (pending), not started beside them; it starts when a slot frees."""
    holders = [Markers(tmp_path / f"marks-{i}") for i in range(2)]
    try:
        busy = []
        for marks in holders:
            payload = {"input": {"some_text": "x", "delay": 0}, "config": marks.config(hold=["slow_node"])}
            busy.append(await runs.create(rt, _request(str(uuid.uuid4()), "slow", **payload)))
        for marks in holders:
            await marks.wait("slow_node")
        waiting = await runs.create(rt, _request(str(uuid.uuid4())))
        await asyncio.sleep(0.5)  # time enough to start, were it wrongly started
        assert (found := await _run(rt, waiting.run_id)) is not None and found.status == "pending"
        for run in busy:
            assert (held := await _run(rt, run.run_id)) is not None and held.status == "running"
        holders[0].release("slow_node")
        await eventually(
            lambda: _run(rt, waiting.run_id),
            lambda r: r is not None and r.status not in INFLIGHT,
            within=10,
            what="the queued run to run once a slot freed",
        )
    finally:
        for marks in holders:
            marks.release_all()


async def test_a_run_queued_while_a_state_update_holds_the_thread_waits_for_it(rt: Runtime) -> None:
    """A state update holds its thread: a run queued meanwhile is not started beside it,
    and starts once the update lets the thread go."""
    first = await runs.create(rt, _request(thread_id := str(uuid.uuid4())))
    await runs.finished(rt, first)
    async with rt.storage.transaction() as tx:
        assert await tx.lock_thread_state(thread_id, 30)
    answer = await runs.create(rt, _request(thread_id, command={"resume": "edited"}, input=None))
    await asyncio.sleep(0.5)  # time enough to start, were it wrongly started
    assert (found := await _run(rt, answer.run_id)) is not None and found.status == "pending"
    async with rt.storage.transaction() as tx:
        await tx.unlock_thread_state(thread_id)
        tx.notify("work")  # as the state update does when it ends
    ended = await runs.finished(rt, answer)
    assert ended is not None and (ended.status, ended.output) == ("success", {"some_text": "edited"})
    state = await threads.get(rt, thread_id)
    assert state.values == {"some_text": "edited"}


async def test_a_busy_worker_runs_no_more_than_its_slots_and_takes_the_queue_first(rt: Runtime) -> None:
    """Runs arrive faster than two slots finish them: runs queued earlier must not be passed
    by runs arriving as a slot frees (they would wait as long as the arrivals keep coming),
    and the slots are never exceeded, not even while a claim is on its way."""
    slots, producers, each = 2, 8, 6
    made: list[Run] = []

    async def producer() -> None:
        for _ in range(each):
            payload = {"input": {"some_text": "x", "delay": 0.05}}
            made.append(await runs.create(rt, _request(str(uuid.uuid4()), "slow", **payload)))
            await asyncio.sleep(0.02)

    async def ended() -> list[Run]:
        return [r for r in [await _run(rt, m.run_id) for m in made] if r is not None and r.status not in INFLIGHT]

    most, done = [0], asyncio.Event()

    async def sampler() -> None:
        while not done.is_set():
            async with rt.storage.autocommit() as tx:
                most[0] = max(most[0], len(await tx.runs_by_status(["running"])))
            await asyncio.sleep(0.005)

    watching = asyncio.create_task(sampler())
    try:
        await asyncio.gather(*(producer() for _ in range(producers)))
        finished = await eventually(ended, lambda e: len(e) == len(made), within=60, what="every run to end")
    finally:
        done.set()
        await watching
    assert most[0] <= slots, f"{most[0]} runs were running at once on {slots} slots"
    # Started in the order they were queued: no run ends before one queued well ahead of it
    # (more places than there are slots, and then some for producers racing) has started.
    order = {m.run_id: i for i, m in enumerate(made)}
    by_end = sorted(finished, key=lambda r: r.updated_at)
    passed = [
        (order[r.run_id], order[later.run_id])
        for k, r in enumerate(by_end)
        for later in by_end[:k]
        if order[later.run_id] > order[r.run_id] + slots + producers
    ]
    assert not passed, f"runs ended before ones queued well ahead of them (queued at, passed by): {passed[:5]}"


@pytest.mark.parametrize("action", ["interrupt", "rollback"])
async def test_a_run_cancelled_as_soon_as_it_started_here_ends_and_frees_its_slot(
    rt: Runtime, tmp_path: Path, action: str
) -> None:
    """A cancel that lands between the commit that started a run here and the worker holding
    it (or just after): the run still ends as asked (interrupted, or gone for a rollback),
    its thread is idle, its answer is pending again for a rollback, and the slot is free."""
    for i in range(6):
        thread_id = str(uuid.uuid4())
        first = await runs.create(rt, _request(thread_id))
        await runs.finished(rt, first)
        answer = await runs.create(rt, _request(thread_id, command={"resume": f"edited {i}"}, input=None))
        if i % 2:
            await asyncio.sleep(0)  # the worker may hold it by now, or not yet
        try:
            await runs.cancel(rt, thread_id, answer.run_id, action)  # type: ignore[arg-type]
        except NotFound:  # it ended first: nothing to cancel, and nothing to check here
            done = await _run(rt, answer.run_id)
            assert done is not None and done.status == "success", done
            continue
        ended = await eventually(
            lambda answer=answer: _run(rt, answer.run_id),
            lambda r: r is None or r.status not in INFLIGHT,
            within=10,
            what="the cancelled run to end",
        )
        thread = await threads.get(rt, thread_id)
        if action == "rollback":
            assert ended is None and thread.status == "interrupted" and thread.interrupts, thread
            again = await runs.create(rt, _request(thread_id, command={"resume": "again"}, input=None))
            assert (await runs.finished(rt, again)).output == {"some_text": "again"}  # type: ignore[union-attr]
        else:
            assert ended is not None and ended.status == "interrupted", ended
            assert thread.status in ("idle", "interrupted"), thread
    await _slots_free(rt, 2)
