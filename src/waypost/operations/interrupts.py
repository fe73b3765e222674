"""Interrupts: refuse a bad answer up front, claim each answer exactly once, and keep the
interrupts table in step with the checkpoint when a run ends.

Every function here runs inside a transaction (`Tx`), so the check, the claim of the
interrupts (`answered_by_run`) and the run row commit together or not at all.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from typing import Any

import jsonschema

from waypost.errors import Conflict, InvalidInput, WaypostError
from waypost.inbox_config import InboxConfig
from waypost.models import PendingInterrupt
from waypost.operations.decisions import check_decision
from waypost.operations.notify import interrupt_event
from waypost.operations.plans import initial_plan, schedule
from waypost.storage.base import Tx

# langgraph's interrupt ids are xxh3-128 hex digests; a resume map is keyed by them.
_INTERRUPT_ID = re.compile(r"^[0-9a-f]{32}$")


def is_resume_map(resume: Any) -> bool:
    return (
        isinstance(resume, dict) and bool(resume) and all(isinstance(k, str) and _INTERRUPT_ID.match(k) for k in resume)
    )


def _check_schema(item: PendingInterrupt, value: Any) -> None:
    if not item.response_schema:
        return
    try:
        jsonschema.validate(value, item.response_schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise InvalidInput(
            f"resume value for interrupt {item.interrupt_id} violates its response_schema at {where}: {exc.message}"
        ) from None
    except jsonschema.SchemaError as exc:
        raise InvalidInput(f"interrupt {item.interrupt_id} has an invalid response_schema: {exc.message}") from None


def _check_graph(item: PendingInterrupt, graph_id: str) -> None:
    if item.graph_id is not None and item.graph_id != graph_id:
        raise Conflict(
            f"interrupt {item.interrupt_id} was raised by graph {item.graph_id!r}; answer it through an assistant "
            f"of that graph, not one of {graph_id!r}"
        )


def about(exc: WaypostError, interrupt_id: str) -> WaypostError:
    exc.interrupt_id = interrupt_id
    return exc


def _not_pending(item: PendingInterrupt) -> WaypostError:
    if item.expired_at is not None:
        return about(
            Conflict(f"interrupt {item.interrupt_id} expired at its deadline ({item.expired_at})"), item.interrupt_id
        )
    return about(Conflict(f"interrupt {item.interrupt_id} already answered"), item.interrupt_id)


async def claim_answers(
    tx: Tx, thread_id: str, resume: Any, run_id: str, graph_id: str, now: str, answered_by: str
) -> tuple[dict[str, Any], list[PendingInterrupt], list[PendingInterrupt]]:
    """Validate `resume` against the thread's pending interrupts, claim them for run_id (in
    the name of `answered_by`) and return the answers as {interrupt_id: value} (the form the
    run resumes the graph with), the interrupts claimed, and those still pending after."""
    mapped = is_resume_map(resume)
    known = await tx.interrupts_in_play(thread_id, list(resume) if mapped else [])
    by_id = {i.interrupt_id: i for i in known}
    pending = [i for i in known if i.pending]
    if mapped:
        answers = dict(resume)
        for interrupt_id in answers:
            item = by_id.get(interrupt_id)
            if item is None:
                raise Conflict(
                    f"interrupt {interrupt_id} is not pending on thread {thread_id}; "
                    f"pending: {', '.join(i.interrupt_id for i in pending) or 'none'}"
                )
            if not item.pending:
                raise _not_pending(item)
    else:
        if not pending:  # what the refusal names: the thread's latest closed one, if any
            history = await tx.thread_interrupts(thread_id)
            closed = [i for i in history if i.answered_by_run is not None or i.expired_at is not None]
            if closed:
                raise _not_pending(closed[-1])
            raise Conflict(f"thread {thread_id} has no pending interrupt to resume")
        if len(pending) > 1:
            raise Conflict(
                f"{len(pending)} interrupts are pending on thread {thread_id} "
                f"({', '.join(i.interrupt_id for i in pending)}): resume with a map "
                "{interrupt_id: value} naming the ones you answer"
            )
        answers = {pending[0].interrupt_id: resume}
    for interrupt_id, value in answers.items():
        try:
            _check_graph(by_id[interrupt_id], graph_id)
            _check_schema(by_id[interrupt_id], value)
            check_decision(by_id[interrupt_id].value, value)
        except WaypostError as exc:
            raise about(exc, interrupt_id) from None
    claimed = await tx.answer_interrupts(thread_id, list(answers), run_id, now, answered_by)
    if claimed != len(answers):  # another answer won between our read and our write
        first = next(iter(answers))
        raise about(Conflict(f"interrupt {first} already answered"), first)
    items = [replace(by_id[i], answered_by_run=run_id, answered_at=now, answered_by=answered_by) for i in answers]
    return answers, items, [i for i in pending if i.interrupt_id not in answers]


async def reconcile(
    tx: Tx,
    thread_id: str,
    run_id: str,
    pending: list[PendingInterrupt],
    known: list[PendingInterrupt],
    inbox: InboxConfig,
) -> list[PendingInterrupt]:
    """Bring the table in step with the interrupts a run's checkpoint holds at its end, and
    return the thread's pending ones. `known` is the thread's rows in play as `tx` sees them
    (read under the thread's lock): every pending one, and every one `pending` names whatever
    its state (Tx.interrupts_in_play); rows of neither kind change nothing here.

    - An interrupt still waiting in the checkpoint is pending: a claim by this run is given
      back (the graph never consumed the answer: the run was cancelled or failed first), and
      this run's supersede is undone (it never got past it).
    - One the checkpoint no longer holds stays answered if this run answered it (consumed),
      and is superseded otherwise.
    - New ones are recorded, as raised by this run, with the plan langgraph.json gives
      their node (assignees, deadline: its timers are set), and their receivers are told.
    Claims and supersedes of other runs still in flight are left to those runs. Only the
    writes that change something.
    """
    rows = {i.interrupt_id: i for i in known}
    waiting = {p.interrupt_id for p in pending}
    for item in pending:
        if item.interrupt_id not in rows:
            plan = initial_plan(inbox.rule_for(item.graph_id, item.ns), item.created_at)
            item = replace(
                item,
                assignees=plan.assignees,
                deadline=plan.deadline,
                on_deadline=plan.on_deadline,
                remind_before=plan.remind_before,
            )
            await tx.upsert_interrupt(item)
            rows[item.interrupt_id] = item
            if item.deadline:
                await schedule(tx, item)
            await interrupt_event(tx, inbox, "interrupt.pending", item)
    given_back = [i for i in waiting if rows[i].answered_by_run == run_id]
    if given_back:
        await tx.release_answers(thread_id, run_id, given_back)
    restored = [i for i in waiting if rows[i].superseded_by == run_id]
    if restored:
        await tx.restore_superseded(thread_id, run_id, restored)
    moot = [i for i, row in rows.items() if i not in waiting and row.pending]
    if moot:
        await tx.supersede_interrupts(thread_id, run_id, keep=sorted(waiting))
    now_pending = []
    for interrupt_id, row in rows.items():
        if interrupt_id not in waiting:
            continue  # moot (superseded above), answered, or superseded already
        if interrupt_id in given_back:
            row = replace(row, answered_by_run=None, answered_at=None, answered_by=None)
        if interrupt_id in restored:
            row = replace(row, superseded_by=None)
        if row.pending:
            now_pending.append(row)
    return now_pending


async def give_back(tx: Tx, thread_id: str, run_id: str) -> None:
    """Undo what accepting a run did to the interrupts: its claims and its supersedes. For a
    run that never touched the checkpoint (cancelled before it started), or one whose
    rollback restores the checkpoint exactly."""
    await tx.release_answers(thread_id, run_id)
    await tx.restore_superseded(thread_id, run_id)


def by_task(items: list[PendingInterrupt]) -> dict[str, list[dict[str, Any]]]:
    """A thread's `interrupts` field: pending items keyed by the root task that raised them."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        out[item.task_id].append(item.item())
    return dict(out)
