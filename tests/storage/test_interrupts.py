"""Interrupts: recording, answering exactly once, giving answers back, superseding and undoing it."""

from __future__ import annotations

from dataclasses import replace

from tests.storage import factories as f
from waypost.models import PendingInterrupt
from waypost.storage.base import Storage


async def _thread(storage: Storage) -> str:
    t = f.thread()
    async with storage.transaction() as tx:
        await tx.insert_thread(t)
    return t.thread_id


async def _upsert(storage: Storage, *items: PendingInterrupt) -> None:
    async with storage.transaction() as tx:
        for i in items:
            await tx.upsert_interrupt(i)


async def _list(storage: Storage, thread_id: str) -> list[PendingInterrupt]:
    async with storage.transaction() as tx:
        return await tx.thread_interrupts(thread_id)


async def _answer(storage: Storage, thread_id: str, ids: list[str], run_id: str) -> int:
    async with storage.transaction() as tx:
        return await tx.answer_interrupts(thread_id, ids, run_id, f.ts(500))


async def test_upsert_and_list_oldest_first(storage: Storage) -> None:
    tid, other = await _thread(storage), await _thread(storage)
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    second = f.interrupt(tid, at=2, task_id="t2", ns=["outer:t2", "inner:x"], value={"q": [1, {"a": None}]})
    first = f.interrupt(tid, at=1, task_id="t1", value="plain string", response_schema=schema)
    await _upsert(storage, second, first, f.interrupt(other, at=0))
    got = await _list(storage, tid)
    assert got == [first, second]
    assert all(i.answered_by_run is None and i.superseded_by is None and i.pending for i in got)
    assert await _list(storage, f.new_id()) == []


async def test_upsert_updates_the_recorded_interrupt(storage: Storage) -> None:
    tid = await _thread(storage)
    i = f.interrupt(tid, value={"v": 1}, task_id="old")
    await _upsert(storage, i)
    await _upsert(storage, replace(i, value={"v": 2}, task_id="new", ns=["n:new"], response_schema={"type": "string"}))
    (got,) = await _list(storage, tid)
    assert (got.interrupt_id, got.value, got.task_id, got.ns, got.response_schema) == (
        i.interrupt_id,
        {"v": 2},
        "new",
        ["n:new"],
        {"type": "string"},
    )


async def test_answer_returns_rowcount_and_is_exactly_once(storage: Storage) -> None:
    tid = await _thread(storage)
    a, b, c = (f.interrupt(tid, at=n) for n in range(3))
    await _upsert(storage, a, b, c)
    run1, run2 = f.new_id(), f.new_id()

    assert await _answer(storage, tid, [a.interrupt_id, b.interrupt_id], run1) == 2
    # the same ids again: already claimed, by anyone
    assert await _answer(storage, tid, [a.interrupt_id], run2) == 0
    assert await _answer(storage, tid, [a.interrupt_id], run1) == 0
    # a mix claims only what is still open
    assert await _answer(storage, tid, [b.interrupt_id, c.interrupt_id], run2) == 1
    assert await _answer(storage, tid, [c.interrupt_id], run2) == 0
    # unknown ids and no ids claim nothing
    assert await _answer(storage, tid, ["f" * 32], run2) == 0
    assert await _answer(storage, tid, [], run2) == 0

    by_id = {i.interrupt_id: i for i in await _list(storage, tid)}
    assert by_id[a.interrupt_id].answered_by_run == run1
    assert by_id[b.interrupt_id].answered_by_run == run1
    assert by_id[c.interrupt_id].answered_by_run == run2
    assert len(by_id) == 3  # answered interrupts are still listed


async def test_answer_is_scoped_to_the_thread(storage: Storage) -> None:
    t1, t2 = await _thread(storage), await _thread(storage)
    shared = "a" * 32
    await _upsert(storage, f.interrupt(t1, interrupt_id=shared), f.interrupt(t2, interrupt_id=shared))
    assert await _answer(storage, t1, [shared], "run-1") == 1
    assert (await _list(storage, t2))[0].answered_by_run is None
    assert await _answer(storage, t2, [shared], "run-2") == 1
    assert (await _list(storage, t1))[0].answered_by_run == "run-1"


async def test_answer_is_exactly_once_across_transactions_that_read_first(storage: Storage) -> None:
    """Two answers that both saw the interrupt open: only the first claim counts."""
    tid = await _thread(storage)
    i = f.interrupt(tid)
    await _upsert(storage, i)
    seen = await _list(storage, tid)
    assert seen[0].answered_by_run is None
    results = [await _answer(storage, tid, [i.interrupt_id], run) for run in ("r1", "r2", "r3")]
    assert results == [1, 0, 0]
    assert (await _list(storage, tid))[0].answered_by_run == "r1"


async def test_supersede_keeps_listed_and_answered(storage: Storage) -> None:
    tid, other = await _thread(storage), await _thread(storage)
    a, b, c, d = (f.interrupt(tid, at=n) for n in range(4))
    foreign = f.interrupt(other)
    await _upsert(storage, a, b, c, d, foreign)
    assert await _answer(storage, tid, [d.interrupt_id], "run-d") == 1

    async with storage.transaction() as tx:
        await tx.supersede_interrupts(tid, "run-x", keep=[b.interrupt_id])
    assert [i.interrupt_id for i in await _list(storage, tid)] == [b.interrupt_id, d.interrupt_id]
    assert [i.interrupt_id for i in await _list(storage, other)] == [foreign.interrupt_id]
    async with storage.transaction() as tx:
        every = await tx.thread_interrupts(tid, superseded=True)
    assert {i.interrupt_id: i.superseded_by for i in every} == {
        a.interrupt_id: "run-x",
        b.interrupt_id: None,
        c.interrupt_id: "run-x",
        d.interrupt_id: None,
    }
    # a superseded interrupt can no longer be answered
    assert await _answer(storage, tid, [a.interrupt_id], "late") == 0
    assert await _answer(storage, tid, [b.interrupt_id], "run-b") == 1

    async with storage.transaction() as tx:
        await tx.supersede_interrupts(tid, "run-y")
    # answered interrupts are history, not superseded
    assert [i.interrupt_id for i in await _list(storage, tid)] == [b.interrupt_id, d.interrupt_id]


async def test_supersede_everything(storage: Storage) -> None:
    tid = await _thread(storage)
    await _upsert(storage, f.interrupt(tid, at=0), f.interrupt(tid, at=1))
    async with storage.transaction() as tx:
        await tx.supersede_interrupts(tid, "run-1")
        assert await tx.thread_interrupts(tid) == []
        await tx.supersede_interrupts(tid, "run-2")  # nothing left: a no-op
        assert {i.superseded_by for i in await tx.thread_interrupts(tid, superseded=True)} == {"run-1"}


async def test_restore_superseded_undoes_only_that_runs_supersede(storage: Storage) -> None:
    tid = await _thread(storage)
    a, b, c = (f.interrupt(tid, at=n) for n in range(3))
    await _upsert(storage, a, b)
    async with storage.transaction() as tx:
        await tx.supersede_interrupts(tid, "run-1")
    await _upsert(storage, c)
    async with storage.transaction() as tx:
        await tx.supersede_interrupts(tid, "run-2")
        await tx.restore_superseded(tid, "run-1", [a.interrupt_id])
    assert [i.interrupt_id for i in await _list(storage, tid)] == [a.interrupt_id]
    async with storage.transaction() as tx:
        await tx.restore_superseded(tid, "run-1")
        await tx.restore_superseded(tid, "run-2")
    assert [i.interrupt_id for i in await _list(storage, tid)] == [a.interrupt_id, b.interrupt_id, c.interrupt_id]
    assert all(i.pending for i in await _list(storage, tid))


async def test_release_answers_gives_back_only_that_runs_claims(storage: Storage) -> None:
    tid = await _thread(storage)
    a, b, c = (f.interrupt(tid, at=n) for n in range(3))
    await _upsert(storage, a, b, c)
    assert await _answer(storage, tid, [a.interrupt_id, b.interrupt_id], "run-1") == 2
    assert await _answer(storage, tid, [c.interrupt_id], "run-2") == 1
    async with storage.transaction() as tx:
        await tx.release_answers(tid, "run-1", [b.interrupt_id])
    claims = {i.interrupt_id: i.answered_by_run for i in await _list(storage, tid)}
    assert claims == {a.interrupt_id: "run-1", b.interrupt_id: None, c.interrupt_id: "run-2"}
    async with storage.transaction() as tx:
        await tx.release_answers(tid, "run-1")
    claims = {i.interrupt_id: i.answered_by_run for i in await _list(storage, tid)}
    assert claims == {a.interrupt_id: None, b.interrupt_id: None, c.interrupt_id: "run-2"}
    # given back: answerable again, once
    assert await _answer(storage, tid, [a.interrupt_id], "run-3") == 1
    assert await _answer(storage, tid, [a.interrupt_id], "run-4") == 0


async def test_upsert_of_answered_interrupt_keeps_it_answered(storage: Storage) -> None:
    tid = await _thread(storage)
    i = f.interrupt(tid, value={"v": 1})
    await _upsert(storage, i)
    assert await _answer(storage, tid, [i.interrupt_id], "run-1") == 1
    await _upsert(storage, replace(i, value={"v": 2}))
    (got,) = await _list(storage, tid)
    assert got.answered_by_run == "run-1"
    assert await _answer(storage, tid, [i.interrupt_id], "run-2") == 0
    # and a supersede right after the upsert does not touch it either
    async with storage.transaction() as tx:
        await tx.supersede_interrupts(tid, "run-3")
    assert [x.answered_by_run for x in await _list(storage, tid)] == ["run-1"]


async def test_upsert_keeps_a_supersede_and_where_the_interrupt_came_from(storage: Storage) -> None:
    """Raising an interrupt again does not undo a supersede (that is restore_superseded's
    job, for the run that made it) nor change the run, assistant and graph it came from."""
    tid = await _thread(storage)
    i = replace(f.interrupt(tid), run_id="run-0", assistant_id="asst-0", graph_id="agent")
    await _upsert(storage, i)
    async with storage.transaction() as tx:
        await tx.supersede_interrupts(tid, "run-1")
    await _upsert(storage, replace(i, run_id="run-9", assistant_id="asst-9", graph_id="other"))
    assert await _list(storage, tid) == []
    async with storage.transaction() as tx:
        (got,) = await tx.thread_interrupts(tid, superseded=True)
    assert (got.superseded_by, got.run_id, got.assistant_id, got.graph_id) == ("run-1", "run-0", "asst-0", "agent")


async def test_interrupts_in_play_are_the_pending_ones_and_those_named(storage: Storage) -> None:
    """What taking an answer or ending a run reads: every pending interrupt of the thread, and
    the ones named whatever their state, oldest first; not the thread's answered or superseded
    history otherwise, and nothing of another thread."""
    tid, other = await _thread(storage), await _thread(storage)
    old, gone, named, waiting = (f.interrupt(tid, interrupt_id=i, at=n) for n, i in enumerate("ogna"))
    await _upsert(storage, old, gone, named, waiting, f.interrupt(other, interrupt_id="x", at=9))
    assert await _answer(storage, tid, ["o", "n"], "run-1") == 2
    async with storage.transaction() as tx:
        await tx.supersede_interrupts(tid, "run-2", keep=["a"])
    async with storage.transaction() as tx:
        assert [i.interrupt_id for i in await tx.interrupts_in_play(tid, [])] == ["a"]
        assert [i.interrupt_id for i in await tx.interrupts_in_play(tid, ["n", "g", "x"])] == ["g", "n", "a"]
        assert await tx.interrupts_in_play(f.new_id(), ["a"]) == []
