"""Run operations: create (with multitask strategies and resume rules), read, list, wait, cancel."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from waypost import serde
from waypost.errors import BadRequest, Conflict, InvalidInput, NotFound
from waypost.models import INFLIGHT, Run, now_iso
from waypost.operations import assistants
from waypost.operations.resume import claim_answers
from waypost.operations.threads import new_thread
from waypost.runtime import Runtime
from waypost.storage.base import Page

RESERVED_METADATA = ("thread_id", "assistant_id", "run_id", "cron_id")
# How often a long /wait sends a keep-alive newline (JSON parsers skip leading whitespace).
WAIT_KEEPALIVE_S = 5.0


def _stream_modes(value: Any) -> list[str]:
    if not value:
        return ["values"]
    return [value] if isinstance(value, str) else list(value)


def _kwargs(p: dict[str, Any], temporary: bool) -> dict[str, Any]:
    checkpoint = dict(p.get("checkpoint") or {})
    if p.get("checkpoint_id"):
        checkpoint["checkpoint_id"] = p["checkpoint_id"]
    durability = p.get("durability") or ("exit" if p.get("checkpoint_during") is False else "async")
    return {
        "input": p.get("input"),
        "command": p.get("command"),
        "config": p.get("config") or {},
        "context": p.get("context") or {},
        "checkpoint": checkpoint or None,
        "stream_mode": _stream_modes(p.get("stream_mode")),
        "interrupt_before": p.get("interrupt_before"),
        "interrupt_after": p.get("interrupt_after"),
        "webhook": p.get("webhook"),
        "feedback_keys": p.get("feedback_keys"),
        "temporary": temporary,
        "subgraphs": bool(p.get("stream_subgraphs")),
        "resumable": bool(p.get("stream_resumable")),
        "durability": durability,
        "on_completion": p.get("on_completion") or "delete",
    }


def _validate(p: dict[str, Any], stateless: bool) -> Any:
    command = p.get("command")
    if command is not None and not isinstance(command, dict):
        raise InvalidInput("command must be an object with resume, update or goto")
    resume = (command or {}).get("resume")
    if stateless and resume is not None:
        raise BadRequest("Cannot resume a stateless run: there is no thread holding an interrupt")
    config = p.get("config") or {}
    if config.get("configurable") and p.get("context"):
        raise BadRequest("Cannot specify both config.configurable and context; use context only")
    webhook = p.get("webhook")
    if webhook is not None and not webhook.startswith(("http://", "https://", "/")):
        raise InvalidInput("webhook must be an http(s) URL or a path on this server")
    reserved = [k for k in (p.get("metadata") or {}) if k in RESERVED_METADATA]
    if reserved:
        raise InvalidInput(f"metadata keys {', '.join(reserved)} are reserved")
    return resume


async def create(rt: Runtime, thread_id: str | None, p: dict[str, Any]) -> Run:
    """Accept a run: validate, apply the multitask strategy and any resume, queue it."""
    stateless = thread_id is None
    resume = _validate(p, stateless)
    assistant = await assistants.resolve(rt, p["assistant_id"])
    strategy = p.get("multitask_strategy") or "enqueue"
    now = datetime.now(UTC)
    created = now.isoformat()
    available = (now + timedelta(seconds=p["after_seconds"])).isoformat() if p.get("after_seconds") else created
    tid = thread_id or str(uuid.uuid4())
    run = Run(
        run_id=str(uuid.uuid4()),
        thread_id=tid,
        assistant_id=assistant.assistant_id,
        created_at=created,
        updated_at=created,
        status="pending",
        metadata={**(p.get("metadata") or {}), "assistant_id": assistant.assistant_id},
        kwargs=_kwargs(p, stateless),
        multitask_strategy=strategy,
        available_at=available,
        temporary=stateless,
    )
    to_cancel: list[Run] = []  # running: the worker stops them
    stopped: list[Run] = []  # pending: stopped right here
    async with rt.storage.transaction() as tx:
        thread = await tx.get_thread(tid)
        if thread is None:
            if not (stateless or p.get("if_not_exists") == "create"):
                raise NotFound("Thread or assistant not found.")
            thread = new_thread(tid, {"graph_id": assistant.graph_id, "assistant_id": assistant.assistant_id})
            await tx.insert_thread(thread)
        inflight = await tx.inflight_runs(tid)
        if inflight and strategy == "reject":
            raise Conflict(
                "Thread is already running a task. Wait for it to finish or choose a different multitask strategy."
            )
        # Stop the in-flight runs first: a rollback gives back the answers they claimed, so
        # this run may answer the same interrupt again.
        if inflight and strategy in ("interrupt", "rollback"):
            for other in inflight:
                if strategy == "rollback":
                    await tx.unanswer_interrupts(tid, other.run_id)
                if other.status == "running":
                    to_cancel.append(other)
                elif strategy == "rollback":
                    await tx.delete_run(other.run_id)
                    stopped.append(other)
                else:
                    stopped.append(other.replace(status="interrupted", updated_at=created))
                    await tx.update_run(stopped[-1])
        if resume is not None:
            await claim_answers(tx, tid, resume, run.run_id, created)
        elif p.get("input") is not None:
            await tx.supersede_interrupts(tid, keep=[])  # new input abandons what was pending
        await tx.insert_run(run)
        await tx.update_thread(
            thread.replace(
                status="busy",
                updated_at=created,
                metadata={**thread.metadata, "graph_id": assistant.graph_id, "assistant_id": assistant.assistant_id},
            )
        )
    rt.broker.open_run(run.run_id, tid, bool(run.kwargs["resumable"]))
    for other in stopped:
        rt.broker.run_done(other.run_id, other if strategy == "interrupt" else None)
    for other in to_cancel:
        if rt.worker is not None:
            rt.worker.cancel(other.run_id, strategy)
    rt.broker.work_available()
    return run


async def get(rt: Runtime, thread_id: str | None, run_id: str) -> Run:
    async with rt.storage.transaction() as tx:
        run = await tx.get_run(run_id)
    if run is None or (thread_id is not None and run.thread_id != thread_id):
        raise NotFound(f"Run {run_id} not found")
    return run


async def list_for_thread(rt: Runtime, thread_id: str, status: str | None, page: Page) -> list[Run]:
    async with rt.storage.transaction() as tx:
        if await tx.get_thread(thread_id) is None:
            raise NotFound(f"Thread with ID {thread_id} not found")
        return await tx.list_runs(thread_id, status, page)


async def delete(rt: Runtime, thread_id: str, run_id: str) -> None:
    run = await get(rt, thread_id, run_id)
    if run.status in INFLIGHT:
        raise Conflict(f"Run {run_id} is {run.status}: cancel it before deleting it")
    async with rt.storage.transaction() as tx:
        await tx.delete_run(run_id)


async def finished(rt: Runtime, run_id: str) -> Run | None:
    """Wait for a run to end and return it (None if it is gone). No polling: the broker's
    signal wakes us, and the answer is read from storage, or taken from the signal when the
    run was deleted on completion (stateless runs)."""
    signal = rt.broker.watch_run(run_id)
    try:
        async with rt.storage.transaction() as tx:
            run = await tx.get_run(run_id)
        if run is None or run.status not in INFLIGHT:
            return run
        final = await signal
        async with rt.storage.transaction() as tx:
            run = await tx.get_run(run_id)
        return run if run is not None and run.status not in INFLIGHT else final
    finally:
        rt.broker.unwatch_run(run_id, signal)


def result_of(run: Run | None) -> Any:
    if run is None:
        return {"__error__": {"error": "RunDeleted", "message": "the run was deleted before it finished"}}
    if run.status == "interrupted" and run.output is None:
        return {"__error__": {"error": "RunCancelled", "message": f"run {run.run_id} was cancelled"}}
    return run.output if run.output is not None else {}


async def wait_body(
    rt: Runtime, run: Run, task: asyncio.Future[Run | None], *, cancel_on_disconnect: bool = False
) -> AsyncIterator[bytes]:
    """The body of /wait and /join: newlines while `task` (finished(run)) goes, then the
    final JSON. If the client leaves first and asked for it (on_disconnect=cancel), the run
    is cancelled."""
    delivered = False
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=WAIT_KEEPALIVE_S)
            if done:
                yield serde.dumps(result_of(task.result()))
                delivered = True
                return
            yield b"\n"
    finally:
        task.cancel()
        if cancel_on_disconnect and not delivered:
            try:
                await asyncio.shield(cancel(rt, run.thread_id, run.run_id, "interrupt"))
            except NotFound:
                pass  # it ended meanwhile


async def cancel(rt: Runtime, thread_id: str, run_id: str, action: str) -> Run:
    run = await get(rt, thread_id, run_id)
    if run.status not in INFLIGHT:
        raise NotFound(
            "No matching runs to cancel. Please verify the thread ID and run IDs are correct, "
            "and the runs haven't been deleted or completed."
        )
    if run.status == "pending":
        async with rt.storage.transaction() as tx:
            if action == "rollback":
                await tx.delete_run(run_id)
                await tx.unanswer_interrupts(thread_id, run_id)
            else:
                await tx.update_run(run.replace(status="interrupted", updated_at=now_iso()))
            thread = await tx.get_thread(thread_id)
            if thread is not None and not await tx.inflight_runs(thread_id):
                await tx.update_thread(thread.replace(status="interrupted" if thread.interrupts else "idle"))
        rt.broker.run_done(run_id, run.replace(status="interrupted"))
    elif rt.worker is not None:
        rt.worker.cancel(run_id, action)
    return run


async def cancel_many(
    rt: Runtime, *, thread_id: str | None, run_ids: list[str] | None, status: str | None, action: str
) -> int:
    """Cancel a thread's listed runs, or every run in a status (pending, running, all)."""
    if status is not None:
        statuses = list(INFLIGHT) if status == "all" else [status]
        async with rt.storage.transaction() as tx:
            targets = await tx.runs_by_status(statuses)
    else:
        targets = []
        async with rt.storage.transaction() as tx:
            for run_id in run_ids or []:
                run = await tx.get_run(run_id)
                if run is not None and run.thread_id == thread_id and run.status in INFLIGHT:
                    targets.append(run)
    if not targets and status is None:
        raise NotFound("No runs found to cancel.")
    for run in targets:
        try:
            await cancel(rt, run.thread_id, run.run_id, action)
        except NotFound:
            pass  # it finished meanwhile
    return len(targets)
