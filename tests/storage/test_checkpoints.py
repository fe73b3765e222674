"""The checkpointer a storage carries, and undoing a run in it (rollback_checkpoints).

A real graph runs on `storage.checkpointer` up to an interrupt; a resume run is claimed
(claim_runs saves the writes of the checkpoint it continues from; so does insert_started_run,
for a run claimed as it is queued) and runs to its end; the rollback must leave the thread's
checkpoints exactly as they were before it, and a later resume must work from there.
"""

from __future__ import annotations

from typing import Any, TypedDict

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph
from langgraph.pregel import Pregel
from langgraph.types import Command, interrupt

from tests.storage import factories as f
from waypost.storage.base import Storage


class State(TypedDict):
    text: str


def _ask(state: State) -> dict[str, str]:
    return {"text": interrupt({"revise": state["text"]})}


def _after(state: State) -> dict[str, str]:
    return {"text": state["text"] + " [after]"}


def _steps() -> StateGraph[State]:
    builder = StateGraph(State)
    builder.add_node("ask", _ask)
    builder.add_node("after", _after)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "after")
    return builder


def _graph(storage: Storage) -> Pregel:
    return _steps().compile(checkpointer=storage.checkpointer)


def _nested(storage: Storage) -> Pregel:
    """The same two steps inside a subgraph: the interrupt is raised one namespace down."""
    outer = StateGraph(State)
    outer.add_node("sub", _steps().compile())
    outer.add_edge(START, "sub")
    return outer.compile(checkpointer=storage.checkpointer)


def _config(thread_id: str, run_id: str) -> RunnableConfig:
    # As the worker does: langgraph copies config metadata into every checkpoint it writes.
    return {"configurable": {"thread_id": thread_id}, "metadata": {"run_id": run_id}}


async def _checkpoints(storage: Storage, thread_id: str) -> list[tuple[Any, ...]]:
    """Every checkpoint of the thread with its pending writes, comparable as values."""
    found = []
    async for c in storage.checkpointer.alist({"configurable": {"thread_id": thread_id}}):
        conf = c.config["configurable"]
        found.append((conf["checkpoint_ns"], conf["checkpoint_id"], sorted(map(repr, c.pending_writes or []))))
    return found


# The two ways a run is claimed: queued, then taken by a worker; or as it is queued.
CLAIMS = ("claim_runs", "insert_started_run")


@pytest.fixture(params=CLAIMS)
def claim(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _claim_resume(storage: Storage, thread_id: str, run_id: str, how: str, answers: tuple[str, ...] = ()) -> None:
    """Queue and claim a resume run; `answers` the interrupts it answers (claimed first, as
    queueing an answer does)."""
    resume = f.run(thread_id, run_id=run_id, kwargs={"command": {"resume": "?"}, "input": None})
    if answers:
        resume = resume.replace(answers=dict.fromkeys(answers, "?"))
        async with storage.transaction() as tx:
            assert await tx.answer_interrupts(thread_id, list(answers), run_id, f.ts(7)) == len(answers)
    if how == "insert_started_run":
        async with storage.transaction() as tx:
            await tx.insert_started_run(resume, "worker", 60)
    else:
        async with storage.transaction() as tx:
            await tx.insert_run(resume)
        async with storage.autocommit() as tx:  # as the worker claims
            (claimed,) = await tx.claim_runs("worker", 60, 1)
        assert (claimed.run_id, claimed.attempt, claimed.continues_checkpoint) == (run_id, 1, True)
    async with storage.autocommit() as tx:
        held = await tx.get_run(run_id)
    assert held is not None and (held.status, held.attempt, held.lease_owner) == ("running", 1, "worker")


async def test_rollback_puts_the_checkpoints_back_as_they_were(storage: Storage, claim: str) -> None:
    graph = _graph(storage)
    t = f.thread()
    async with storage.transaction() as tx:
        await tx.insert_thread(t)
    first = await graph.ainvoke({"text": "draft"}, _config(t.thread_id, "run-1"))
    assert "__interrupt__" in first
    before = await _checkpoints(storage, t.thread_id)
    state_before = await graph.aget_state(_config(t.thread_id, "run-1"))

    await _claim_resume(storage, t.thread_id, "run-2", claim)
    done = await graph.ainvoke(Command(resume="edited"), _config(t.thread_id, "run-2"))
    assert done == {"text": "edited [after]"}
    assert await _checkpoints(storage, t.thread_id) != before

    await storage.rollback_checkpoints(t.thread_id, "run-2")
    assert await _checkpoints(storage, t.thread_id) == before
    state = await graph.aget_state(_config(t.thread_id, "run-1"))
    assert (state.values, state.next, state.interrupts) == (state_before.values, ("ask",), state_before.interrupts)
    await storage.rollback_checkpoints(t.thread_id, "run-2")  # safe to repeat
    assert await _checkpoints(storage, t.thread_id) == before

    # the thread goes on from there as if run-2 never happened (its row goes, as a rollback's does)
    async with storage.transaction() as tx:
        assert await tx.drop_held_run("run-2", 1, waiting=[])
    await _claim_resume(storage, t.thread_id, "run-3", claim)
    assert await graph.ainvoke(Command(resume="again"), _config(t.thread_id, "run-3")) == {"text": "again [after]"}


async def test_a_rollback_touches_only_its_own_thread(storage: Storage, claim: str) -> None:
    graph = _graph(storage)
    a, b = f.thread(), f.thread()
    async with storage.transaction() as tx:
        await tx.insert_thread(a)
        await tx.insert_thread(b)
    for t in (a, b):
        await graph.ainvoke({"text": "draft"}, _config(t.thread_id, "run-1"))
    a_before, b_before = await _checkpoints(storage, a.thread_id), await _checkpoints(storage, b.thread_id)
    for t, run_id in ((a, "run-a"), (b, "run-b")):
        await _claim_resume(storage, t.thread_id, run_id, claim)
        await graph.ainvoke(Command(resume=run_id), _config(t.thread_id, run_id))
    a_after = await _checkpoints(storage, a.thread_id)
    await storage.rollback_checkpoints(b.thread_id, "run-b")
    assert await _checkpoints(storage, b.thread_id) == b_before
    assert await _checkpoints(storage, a.thread_id) == a_after
    await storage.rollback_checkpoints(a.thread_id, "run-a")
    assert await _checkpoints(storage, a.thread_id) == a_before


async def test_a_run_that_ended_has_nothing_saved_to_put_back(storage: Storage, claim: str) -> None:
    """discard_saved_writes (the run ended and keeps its work) forgets what claim_runs saved:
    a rollback of that run afterwards has no earlier writes to put back on the checkpoint it
    continued from, which keeps the writes the run left there."""
    graph = _graph(storage)
    t = f.thread()
    async with storage.transaction() as tx:
        await tx.insert_thread(t)
    await graph.ainvoke({"text": "draft"}, _config(t.thread_id, "run-1"))
    (head, *_) = before = await _checkpoints(storage, t.thread_id)
    await _claim_resume(storage, t.thread_id, "run-2", claim)
    await graph.ainvoke(Command(resume="kept"), _config(t.thread_id, "run-2"))
    async with storage.transaction() as tx:
        await tx.discard_saved_writes("run-2")
    kept = {c[1]: c for c in await _checkpoints(storage, t.thread_id)}
    assert kept[head[1]] != head  # run-2 wrote onto the checkpoint it continued from

    await storage.rollback_checkpoints(t.thread_id, "run-2")
    after = await _checkpoints(storage, t.thread_id)
    assert [c[1] for c in after] == [c[1] for c in before]  # its own checkpoints still go
    assert after[0] == kept[head[1]]  # but nothing saved came back


async def test_rollback_of_an_answer_into_a_subgraph_puts_both_namespaces_back(storage: Storage, claim: str) -> None:
    """The claim saves the newest checkpoint of every namespace enclosing a pending interrupt
    (here the subgraph's, besides the root's): the rollback restores the subgraph's too."""
    graph = _nested(storage)
    t = f.thread()
    async with storage.transaction() as tx:
        await tx.insert_thread(t)
    first = await graph.ainvoke({"text": "draft"}, _config(t.thread_id, "run-1"))
    assert "__interrupt__" in first
    state = await graph.aget_state(_config(t.thread_id, "run-1"), subgraphs=True)
    (task,) = state.tasks
    assert task.state is not None
    inner_ns = task.state.config["configurable"]["checkpoint_ns"]  # "sub:<task id>"
    asked = f.interrupt(t.thread_id, task_id=task.id, ns=[inner_ns, "ask:x"])
    async with storage.transaction() as tx:  # as the worker records it at the run's end
        await tx.upsert_interrupt(asked)
    before = await _checkpoints(storage, t.thread_id)
    assert {c[0] for c in before} == {"", inner_ns}

    await _claim_resume(storage, t.thread_id, "run-2", claim, answers=(asked.interrupt_id,))
    assert await graph.ainvoke(Command(resume="edited"), _config(t.thread_id, "run-2")) == {"text": "edited [after]"}
    assert await _checkpoints(storage, t.thread_id) != before
    await storage.rollback_checkpoints(t.thread_id, "run-2")
    assert await _checkpoints(storage, t.thread_id) == before
