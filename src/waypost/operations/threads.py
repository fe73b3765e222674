"""Thread operations: the thread rows, their state, history and copies."""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from typing import Any

from langchain_core.runnables import RunnableConfig

from waypost import serde
from waypost.auth.access import OPEN, Access
from waypost.broker import best_effort
from waypost.errors import BadRequest, Conflict, NotFound
from waypost.models import Thread, now_iso
from waypost.operations.interrupts import by_task, reconcile
from waypost.operations.state import (
    EMPTY_STATE,
    pending_interrupts,
    read_state,
    render_snapshot,
    select_fields,
)
from waypost.operations.transitions import rest_status
from waypost.runtime import Runtime
from waypost.storage.base import Page, ThreadFilter, ThreadState, Tx


def not_found(thread_id: str) -> NotFound:
    return NotFound(f"Thread with ID {thread_id} not found")


def new_thread(thread_id: str | None, metadata: dict[str, Any] | None) -> Thread:
    now = now_iso()
    return Thread(
        thread_id=thread_id or str(uuid.uuid4()),
        created_at=now,
        updated_at=now,
        state_updated_at=now,
        metadata=metadata or {},
        config={},
        status="idle",
        values=None,
        interrupts={},
        error=None,
    )


async def create(rt: Runtime, thread_id: str | None, metadata: dict[str, Any] | None, if_exists: str) -> Thread:
    thread = new_thread(thread_id, metadata)
    async with rt.storage.autocommit() as tx:  # one insert; the read only explains a conflict
        if await tx.insert_thread(thread):
            return thread
        existing = await tx.get_thread(thread.thread_id)
    if if_exists == "do_nothing" and existing is not None:
        return existing
    raise Conflict(f"Thread with ID {thread.thread_id} already exists")


async def get(rt: Runtime, thread_id: str, access: Access = OPEN) -> Thread:
    async with rt.storage.transaction() as tx:
        return await visible(tx, thread_id, access)


async def visible(tx: Tx, thread_id: str, access: Access, *, for_update: bool = False) -> Thread:
    """The thread if it exists and the caller may see it; otherwise NotFound, the same for
    both, so another user's thread cannot be told from no thread."""
    thread = await tx.get_thread(thread_id, for_update=for_update)
    if thread is None or not access.admits(thread.metadata):
        raise not_found(thread_id)
    return thread


async def update(rt: Runtime, thread_id: str, metadata: dict[str, Any] | None, access: Access = OPEN) -> Thread:
    async with rt.storage.transaction() as tx:
        await visible(tx, thread_id, access, for_update=True)
        thread = await tx.merge_thread_metadata(thread_id, metadata or {}, now_iso())
    if thread is None:
        raise not_found(thread_id)
    return thread


async def delete(rt: Runtime, thread_id: str, access: Access = OPEN) -> None:
    """Delete a thread with its runs; a run still executing is told to stop (its worker then
    finds the thread gone and writes nothing back)."""
    async with rt.storage.transaction() as tx:
        await visible(tx, thread_id, access, for_update=True)
        inflight = await tx.inflight_runs(thread_id)
        running = [r for r in inflight if r.status == "running"]
        for run in running:
            await tx.request_cancel(run.run_id, "interrupt")
        if not await tx.delete_thread(thread_id):
            raise not_found(thread_id)
        for run in inflight:
            tx.notify("run_ended", run.run_id)  # its waiters find it gone
    await rt.storage.checkpointer.adelete_thread(thread_id)
    for run in inflight:
        if run.status == "running":
            await best_effort(rt.broker.signal_cancel(run.run_id), f"run {run.run_id} cancelled")
        else:
            resumable = bool(run.kwargs.get("resumable"))
            await best_effort(rt.broker.end_run(run.run_id, thread_id, resumable=resumable), f"run {run.run_id} ended")


async def search(rt: Runtime, f: ThreadFilter, page: Page) -> tuple[list[Thread], int]:
    async with rt.storage.transaction() as tx:
        return await tx.search_threads(f, page)


async def count(rt: Runtime, f: ThreadFilter) -> int:
    _, total = await search(rt, f, Page(limit=1, offset=0))
    return total


async def _graph_for(rt: Runtime, thread: Thread) -> Any:
    graph_id = thread.metadata.get("graph_id")
    if not graph_id or graph_id not in rt.graphs.specs:
        return None
    return await rt.graphs.graph(graph_id)


async def _require_checkpoint(rt: Runtime, thread_id: str, selector: dict[str, Any]) -> None:
    """NotFound for a checkpoint the thread does not have: langgraph would answer an empty
    state, or for `before` the states older than an id that does not exist."""
    configurable = {"thread_id": thread_id, "checkpoint_ns": ""}
    configurable.update({k: v for k, v in selector.items() if v is not None and k != "thread_id"})
    if await rt.storage.checkpointer.aget_tuple({"configurable": configurable}) is None:
        raise NotFound(f"Checkpoint {selector['checkpoint_id']} not found on thread {thread_id}")


async def get_state(
    rt: Runtime,
    thread_id: str,
    *,
    subgraphs: bool = False,
    checkpoint: dict[str, Any] | None = None,
    select: list[str] | None = None,
    access: Access = OPEN,
) -> dict[str, Any]:
    thread = await get(rt, thread_id, access)
    if checkpoint and checkpoint.get("checkpoint_id"):
        await _require_checkpoint(rt, thread_id, checkpoint)
    graph = await _graph_for(rt, thread)
    snapshot = await read_state(graph, thread_id, checkpoint=checkpoint, subgraphs=True) if graph else None
    if snapshot is None:
        return select_fields(dict(EMPTY_STATE), select)
    return select_fields(render_snapshot(snapshot, nested=subgraphs), select)


# How long a state update may hold its thread before the hold lapses by itself (a process
# that died mid-update must not block the thread for good).
STATE_UPDATE_HOLD_S = 30.0


async def update_state(
    rt: Runtime,
    thread_id: str,
    values: Any,
    as_node: str | None,
    checkpoint: dict[str, Any] | None,
    access: Access = OPEN,
) -> dict[str, Any]:
    thread = await get(rt, thread_id, access)
    graph = await _graph_for(rt, thread)
    if graph is None:
        raise BadRequest(f"Thread {thread_id} has no graph yet: run it once before updating its state")
    async with rt.storage.transaction() as tx:
        if not await tx.lock_thread_state(thread_id, STATE_UPDATE_HOLD_S):
            raise Conflict(f"Thread {thread_id} is busy: wait for its run to finish before updating its state")
    try:
        configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
        configurable.update({k: v for k, v in (checkpoint or {}).items() if v is not None and k != "thread_id"})
        try:
            new_config = await graph.aupdate_state({"configurable": configurable}, values, as_node=as_node)
        except Exception as exc:  # langgraph rejects unknown nodes, bad values, ambiguous updates
            raise BadRequest(f"{type(exc).__name__}: {exc}") from None
        snapshot = await read_state(graph, thread_id, subgraphs=True)
        pending = pending_interrupts(thread_id, snapshot, graph_id=thread.metadata.get("graph_id")) if snapshot else []
        now = now_iso()
        async with rt.storage.transaction() as tx:
            current = await tx.get_thread(thread_id, for_update=True)
            if current is not None:
                known = await tx.interrupts_in_play(thread_id, [i.interrupt_id for i in pending])
                waiting = await reconcile(tx, thread_id, f"state-update:{uuid.uuid4()}", pending, known, rt.inbox)
                at_breakpoint = current.at_breakpoint and bool(snapshot and snapshot.next)
                await tx.record_thread_state(
                    thread_id,
                    ThreadState(
                        values=serde.to_jsonable(snapshot.values) if snapshot else current.values,
                        interrupts=by_task(waiting),
                        status=rest_status(waiting, busy=False, error=current.error, at_breakpoint=at_breakpoint),
                        error=current.error,
                        at_breakpoint=at_breakpoint,
                        updated_at=now,
                    ),
                )
    finally:
        async with rt.storage.transaction() as tx:
            await tx.unlock_thread_state(thread_id)
            tx.notify("work")  # runs queued meanwhile may start now
    c = new_config["configurable"]
    return {
        "checkpoint": {
            "thread_id": thread_id,
            "checkpoint_ns": c.get("checkpoint_ns", ""),
            "checkpoint_id": c.get("checkpoint_id"),
        }
    }


async def history(
    rt: Runtime,
    thread_id: str,
    *,
    limit: int,
    before: Any,
    metadata: dict[str, Any] | None,
    checkpoint: dict[str, Any] | None,
    access: Access = OPEN,
) -> list[dict[str, Any]]:
    thread = await get(rt, thread_id, access)
    if isinstance(before, str):
        before = {"checkpoint_id": before}
    if before and before.get("checkpoint_id"):
        await _require_checkpoint(rt, thread_id, {**(checkpoint or {}), **before})
    graph = await _graph_for(rt, thread)
    if graph is None:
        return []
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
    configurable.update({k: v for k, v in (checkpoint or {}).items() if v is not None and k != "thread_id"})
    if isinstance(before, dict):
        before = {"configurable": {k: v for k, v in before.items() if v is not None}}
    out = []
    async for snapshot in graph.aget_state_history(
        {"configurable": configurable}, filter=metadata or None, before=before, limit=limit
    ):
        out.append(render_snapshot(snapshot))
    return out


async def copy(
    rt: Runtime, thread_id: str, access: Access = OPEN, *, target_id: str | None = None, metadata: Any = None
) -> Thread:
    """A new thread with the source's checkpoints and pending interrupts. `metadata` (the
    source's, as the create handler may have stamped it) and `target_id` come from the caller."""
    source = await get(rt, thread_id, access)
    target = new_thread(target_id, dict(source.metadata if metadata is None else metadata)).replace(
        values=source.values,
        status=source.status if source.status != "busy" else "idle",
        interrupts=source.interrupts,
        config=source.config,
        error=source.error,
    )
    saver = rt.storage.checkpointer
    tuples = [t async for t in saver.alist({"configurable": {"thread_id": thread_id}})]
    for t in reversed(tuples):  # oldest first, so parents exist before children
        c = t.config["configurable"]
        parent = (t.parent_config or {}).get("configurable", {}).get("checkpoint_id")
        config: RunnableConfig = {
            "configurable": {
                "thread_id": target.thread_id,
                "checkpoint_ns": c.get("checkpoint_ns", ""),
                **({"checkpoint_id": parent} if parent else {}),
            }
        }
        new_config = await saver.aput(config, t.checkpoint, t.metadata, t.checkpoint["channel_versions"])
        writes: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for task_id, channel, value in t.pending_writes or []:
            writes[task_id].append((channel, value))
        for task_id, task_writes in writes.items():
            await saver.aput_writes(new_config, task_writes, task_id)
    async with rt.storage.transaction() as tx:
        await tx.insert_thread(target)
        for item in await tx.interrupts_in_play(thread_id, []):  # the pending ones
            await tx.upsert_interrupt(dataclasses.replace(item, thread_id=target.thread_id))
    return target
