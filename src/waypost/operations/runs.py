"""Run operations: create (with multitask strategies and resume rules), read, list, wait, cancel."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from waypost import serde
from waypost.auth.access import OPEN, Access
from waypost.broker import best_effort
from waypost.config import WebhookPolicy
from waypost.errors import BadRequest, Conflict, InvalidInput, NotFound, WaypostError
from waypost.models import INFLIGHT, CancelAction, Origin, Run, iso, now_iso
from waypost.operations import assistants, audit
from waypost.operations.interrupts import claim_answers
from waypost.operations.notify import interrupt_event
from waypost.operations.threads import new_thread, visible
from waypost.operations.transitions import Stopped, mark_busy, settle_thread, stop_run
from waypost.operations.webhooks import check_webhook_url
from waypost.runtime import RunStarter, Runtime
from waypost.storage.base import Page, RunSetting, Tx
from waypost.waiters import Ending

RESERVED_METADATA = ("thread_id", "assistant_id", "run_id", "cron_id")
# A waiter re-reads its run this often even without a notice (a lost one costs this much).
LOST_NOTICE_REREAD_S = 5.0
# How often a long /wait sends a keep-alive newline (JSON parsers skip leading whitespace).
WAIT_KEEPALIVE_S = 5.0


def _stream_modes(value: Any) -> list[str]:
    if not value:
        return ["values"]
    return [value] if isinstance(value, str) else list(value)


def _kwargs(p: dict[str, Any], temporary: bool, streamed: bool, access: Access) -> dict[str, Any]:
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
        # A client reads its events as they come: the worker publishes them whoever listens.
        "streamed": streamed or bool(p.get("stream_resumable")),
        "durability": durability,
        "on_completion": p.get("on_completion") or "delete",
        # Who asked, as the graph sees it (config["configurable"]["langgraph_auth_user"]).
        "auth_user": access.user.as_dict() if access.user is not None else None,
    }


def _validate(rt: Runtime, p: dict[str, Any], stateless: bool) -> None:
    command = p.get("command")
    if command is not None and not isinstance(command, dict):
        raise InvalidInput("command must be an object with resume, update or goto")
    if stateless and "resume" in (command or {}):
        raise BadRequest("Cannot resume a stateless run: there is no thread holding an interrupt")
    config = p.get("config") or {}
    if config.get("configurable") and p.get("context"):
        raise BadRequest("Cannot specify both config.configurable and context; use context only")
    webhook = p.get("webhook")
    if webhook is not None:
        check_webhook_url(webhook, rt.config.webhooks if rt.config is not None else WebhookPolicy())
    reserved = [k for k in (p.get("metadata") or {}) if k in RESERVED_METADATA]
    if reserved:
        raise InvalidInput(f"metadata keys {', '.join(reserved)} are reserved")


def _is_resume(p: dict[str, Any]) -> bool:
    # `"resume": null` is an answer too: the value null, given to the interrupt as such.
    return "resume" in (p.get("command") or {})


@dataclass(frozen=True, slots=True)
class RunRequest:
    """A run to accept, with who asks and why: `access` says whose request it is (a thread
    they may not see is not found, the graph gets their identity); `origin` names them in
    the audit log; `stamp` is metadata the authorization handler wrote, given to a thread
    this run creates; `comment` and `via` go with the answers it carries into the log."""

    thread_id: str | None
    payload: dict[str, Any]
    streamed: bool = False
    access: Access = OPEN
    origin: Origin | None = None
    stamp: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    comment: str | None = None
    via: str = "runs"

    @property
    def who(self) -> Origin:
        return self.origin or Origin(identity=self.access.identity)


@dataclass(frozen=True, slots=True)
class Admission:
    """A run queued by admit(): as it was accepted (with the answers it carries), the
    in-flight runs it stopped, and, if the transaction claimed it for this process's worker,
    the run as claimed with the thread and assistant it runs with."""

    run: Run
    stopped: list[tuple[Run, Stopped]]
    started: tuple[Run, RunSetting] | None = None


async def create(rt: Runtime, req: RunRequest) -> Run:
    """Accept a run: validate, apply the multitask strategy and any answers, queue it. One
    transaction: either the run is queued with everything it claimed, or nothing changed.
    An answer that is refused is recorded as such in the audit log. Returns the run as
    accepted, `pending` (as the official server answers), even if it started at once."""
    try:
        admitted = await _queue(rt, req)
    except WaypostError as exc:
        if _is_resume(req.payload) and exc.status < 500:
            await audit.answer_refused(
                rt,
                req.who,
                req.thread_id,
                req.payload["command"]["resume"],
                exc.message,
                status=exc.status,
                comment=req.comment,
                via=req.via,
                interrupt_id=exc.interrupt_id,
            )
        raise
    for other, how in admitted.stopped:
        await announce_stop(rt, other, how)
    return admitted.run


async def _queue(rt: Runtime, req: RunRequest) -> Admission:
    run = prepare(rt, req)
    starter = rt.starter
    if starter is None or not starter.reserve():
        async with rt.storage.transaction() as tx:
            return await admit(tx, rt, req, run)
    # A slot is reserved: once the transaction ends, the run must start or the slot go back,
    # even if this request is cancelled meanwhile (a client leaving mid-commit would
    # otherwise leave a run claimed by no one here). So it goes on in a task of its own.
    queued = asyncio.ensure_future(_queue_started(rt, req, run, starter))
    queued.add_done_callback(_consume)
    return await asyncio.shield(queued)


async def _queue_started(rt: Runtime, req: RunRequest, run: Run, starter: RunStarter) -> Admission:
    committed: Admission | None = None
    try:
        async with rt.storage.transaction() as tx:
            admitted = await admit(tx, rt, req, run, starter)
        committed = admitted
    finally:
        if committed is not None and committed.started is not None:
            starter.start(*committed.started)
        else:
            starter.unreserve()
    return committed


def _consume(task: asyncio.Future[Admission]) -> None:
    # Its caller may have gone (a cancelled request): the error was the request's to report.
    if not task.cancelled():
        task.exception()


def prepare(rt: Runtime, req: RunRequest) -> Run:
    """Check a run's request and build its row; reads nothing (admit reads its assistant)."""
    p = req.payload
    stateless = req.thread_id is None
    _validate(rt, p, stateless)
    assistant_id = assistants.resolve_id(rt, p["assistant_id"])
    now = datetime.now(UTC)
    created = iso(now)
    available = iso(now + timedelta(seconds=p["after_seconds"])) if p.get("after_seconds") else created
    run = Run(
        run_id=str(uuid.uuid4()),
        thread_id=req.thread_id or str(uuid.uuid4()),
        assistant_id=assistant_id,
        created_at=created,
        updated_at=created,
        status="pending",
        metadata={**(p.get("metadata") or {}), "assistant_id": assistant_id},
        kwargs={**_kwargs(p, stateless, req.streamed, req.access), "headers": req.headers or None},
        multitask_strategy=p.get("multitask_strategy") or "enqueue",
        available_at=available,
        temporary=stateless,
    )
    return run


async def admit(tx: Tx, rt: Runtime, req: RunRequest, run: Run, starter: RunStarter | None = None) -> Admission:
    """Queue a prepared run inside `tx`: its assistant (read with the thread's lock), its
    thread (created if asked), the multitask strategy, the answers it carries (claimed
    exactly once, logged, their receivers told). With a `starter` (a slot it reserved), a
    run that could be claimed at once is claimed for it here. The in-flight runs it stopped
    are announced once `tx` commits."""
    p, access, tid, created = req.payload, req.access, run.thread_id, run.created_at
    stopped: list[tuple[Run, Stopped]] = []
    setting = await tx.run_setting(tid, run.assistant_id, for_update=True)
    thread = setting.thread
    assistant = assistants.found(setting.assistant, run.assistant_id)
    if thread is not None and not access.admits(thread.metadata):
        # Another user's thread is no thread for this caller, and is not taken over either.
        raise NotFound("Thread or assistant not found.")
    if thread is None:
        if not (run.temporary or p.get("if_not_exists") == "create"):
            raise NotFound("Thread or assistant not found.")
        metadata = {**(req.stamp or {}), "graph_id": assistant.graph_id, "assistant_id": assistant.assistant_id}
        thread = new_thread(tid, metadata)
        if not await tx.insert_thread(thread):  # created by a concurrent request
            thread = await tx.get_thread(tid, for_update=True)
            if thread is None or not access.admits(thread.metadata):
                raise NotFound("Thread or assistant not found.")
    # The thread takes the graph and assistant it runs, written with its busy state below.
    named = {"graph_id": assistant.graph_id, "assistant_id": assistant.assistant_id}
    renamed = named if any(thread.metadata.get(k) != v for k, v in named.items()) else None
    if renamed is not None:
        thread = thread.replace(metadata={**thread.metadata, **renamed})
    inflight = await tx.inflight_runs(tid)
    if inflight and run.multitask_strategy == "reject":
        raise Conflict(
            "Thread is already running a task. Wait for it to finish or choose a different multitask strategy."
        )
    # Stop the in-flight runs first: a rollback gives back the answers they claimed, so
    # this run may answer the same interrupt again.
    if inflight and run.multitask_strategy in ("interrupt", "rollback"):
        action: CancelAction = "rollback" if run.multitask_strategy == "rollback" else "interrupt"
        for other in inflight:
            stopped.append((other, await stop_run(tx, other, action, created)))
    if _is_resume(p):
        who = req.who
        answers, items, pending = await claim_answers(
            tx, tid, p["command"]["resume"], run.run_id, assistant.graph_id, created, who.identity
        )
        run = run.replace(answers=answers)
        await audit.answers_applied(tx, who, items, answers, run.run_id, comment=req.comment, via=req.via)
        for item in items:
            await interrupt_event(tx, rt.inbox, "interrupt.answered", item, {"answered_by": who.identity})
    else:
        # Anything but an answer moves the thread on from what was pending; provisional
        # until this run ends (see interrupts.reconcile).
        await tx.supersede_interrupts(tid, run.run_id)
        pending = []  # every one that was pending is superseded now
    # Claimable at once (claim_runs' rule: nothing in flight on the thread, no state update
    # holding it, due now), and not a run that drops the thread's interrupts while it
    # continues from its checkpoints: what a rollback of that keeps is claim_runs' to save.
    startable = not inflight and not setting.state_held and run.available_at <= created
    started = None
    if starter is not None and startable and (_is_resume(p) or not run.continues_checkpoint):
        claimed = run.replace(status="running", attempt=1, lease_owner=starter.worker_id)
        await tx.insert_started_run(claimed, starter.worker_id, starter.lease_s)
        started = (claimed, RunSetting(thread, assistant))
    else:
        await tx.insert_run(run)
        tx.notify("work")
        if run.available_at > created:
            tx.notify("due")  # the scheduler wakes the workers when it is due
    await mark_busy(tx, thread, pending, created, metadata_patch=renamed)
    return Admission(run, stopped, started)


async def announce_stop(rt: Runtime, run: Run, how: Stopped) -> None:
    """After a stop committed: a run stopped before it started ends its live streams here;
    a running one's holder is told to look at the cancel request."""
    if how == "stopped":
        resumable = bool(run.kwargs.get("resumable"))
        await best_effort(rt.broker.end_run(run.run_id, run.thread_id, resumable=resumable), f"run {run.run_id} ended")
    elif how == "signalled":
        await best_effort(rt.broker.signal_cancel(run.run_id), f"run {run.run_id} cancelled")


async def get(rt: Runtime, thread_id: str | None, run_id: str, access: Access = OPEN) -> Run:
    """A run, seen through its thread: a run on a thread the caller may not see is not found."""
    async with rt.storage.transaction() as tx:
        run = await tx.get_run(run_id)
        if run is not None and access.conditions:
            thread = await tx.get_thread(run.thread_id)
            if thread is None or not access.admits(thread.metadata):
                run = None
    if run is None or (thread_id is not None and run.thread_id != thread_id):
        raise NotFound(f"Run {run_id} not found")
    return run


async def list_for_thread(
    rt: Runtime, thread_id: str, status: str | None, page: Page, access: Access = OPEN
) -> list[Run]:
    async with rt.storage.transaction() as tx:
        await visible(tx, thread_id, access)
        return await tx.list_runs(thread_id, status, page)


async def delete(rt: Runtime, thread_id: str, run_id: str, access: Access = OPEN) -> None:
    await get(rt, thread_id, run_id, access)
    async with rt.storage.transaction() as tx:
        if not await tx.delete_finished_run(run_id):
            run = await tx.get_run(run_id)
            if run is not None:
                raise Conflict(f"Run {run_id} is {run.status}: cancel it before deleting it")
            raise NotFound(f"Run {run_id} not found")


async def finished(rt: Runtime, run: Run, signal: asyncio.Future[Ending | None] | None = None) -> Run | None:
    """Wait for a run to end and return it (None if it is gone): as its run_ended notice
    carried its end (status and output; its other fields as given), or else read from
    storage. The notice comes from whichever process ended the run; a slow re-read covers a
    lost one. A caller that just created the run passes the `signal` it registered
    (rt.waiters.watch) before anything could end it; the run is then known to be in flight
    and is not read first."""
    fresh = signal is not None
    signal = signal or rt.waiters.watch(run.run_id)
    try:
        while True:
            if not fresh:
                async with rt.storage.autocommit() as tx:
                    found = await tx.get_run(run.run_id)
                if found is None or found.status not in INFLIGHT:
                    return found
            fresh = False
            with contextlib.suppress(TimeoutError):
                ending = await asyncio.wait_for(asyncio.shield(signal), timeout=LOST_NOTICE_REREAD_S)
                if ending is not None:
                    return run.replace(status=ending.status, output=ending.output)
    finally:
        rt.waiters.unwatch(run.run_id, signal)


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


NOTHING_TO_CANCEL = (
    "No matching runs to cancel. Please verify the thread ID and run IDs are correct, "
    "and the runs haven't been deleted or completed."
)


async def cancel(rt: Runtime, thread_id: str, run_id: str, action: CancelAction, access: Access = OPEN) -> Run:
    """Cancel a run wherever it is: ended here if it has not started, otherwise a stored
    request its worker honours (and is told about through the broker)."""
    now = now_iso()
    async with rt.storage.transaction() as tx:
        run = await tx.get_run(run_id)
        if run is None or run.thread_id != thread_id:
            raise NotFound(f"Run {run_id} not found")
        thread = await tx.get_thread(thread_id)
        if thread is None or not access.admits(thread.metadata):
            raise NotFound(f"Run {run_id} not found")
        if run.status not in INFLIGHT:
            raise NotFound(NOTHING_TO_CANCEL)
        how = await stop_run(tx, run, action, now)
        if how == "gone":
            raise NotFound(NOTHING_TO_CANCEL)
        if how == "stopped":
            await settle_thread(tx, thread_id, now)
    await announce_stop(rt, run, how)
    return run


async def cancel_many(
    rt: Runtime,
    *,
    thread_id: str | None,
    run_ids: list[str] | None,
    status: str | None,
    action: CancelAction,
    access: Access = OPEN,
) -> int:
    """Cancel a thread's listed runs, or every run in a status (pending, running, all) on the
    threads the caller may see."""
    if status is not None:
        statuses = list(INFLIGHT) if status == "all" else [status]
        async with rt.storage.transaction() as tx:
            targets = await tx.runs_by_status(statuses)
            if access.conditions:
                seen: dict[str, bool] = {}
                for target in targets:
                    if target.thread_id not in seen:
                        thread = await tx.get_thread(target.thread_id)
                        seen[target.thread_id] = thread is not None and access.admits(thread.metadata)
                targets = [r for r in targets if seen[r.thread_id]]
    else:
        targets = []
        async with rt.storage.transaction() as tx:
            if thread_id is not None:
                await visible(tx, thread_id, access)
            for run_id in run_ids or []:
                listed = await tx.get_run(run_id)
                if listed is not None and listed.thread_id == thread_id and listed.status in INFLIGHT:
                    targets.append(listed)
    if not targets and status is None:
        raise NotFound("No runs found to cancel.")
    for run in targets:
        try:
            await cancel(rt, run.thread_id, run.run_id, action, access)
        except NotFound:
            pass  # it finished meanwhile
    return len(targets)
