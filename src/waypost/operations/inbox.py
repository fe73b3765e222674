"""Interrupts as a resource: list them across threads, read one, answer it, change its plan,
read its history. Beside the Agent Server API, never changing it: an answer here is a run
like any resume, with the same checks and the same exactly-once claim, so an answer here
and one through `runs` race fairly and one of them wins."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from waypost.auth.access import Access
from waypost.errors import Conflict, NotFound, WaypostError
from waypost.models import AuditEntry, Origin, PendingInterrupt
from waypost.operations import assistants
from waypost.operations.plans import patched, schedule
from waypost.operations.runs import RunRequest
from waypost.runtime import Runtime
from waypost.storage.base import AuditFilter, InterruptFilter, Page, Tx

HISTORY_LIMIT = 1000
# A list's total is exact up to this many matches past its offset. Counting every match reads
# every match: with a million pending that is ~70 ms on PostgreSQL (an index-only scan of the
# pending index, measured by bench/inbox.py on 2 cores), fifty times the page itself. Past
# this many the count stops and the total says so (`exact` False): "more than total".
TOTAL_COUNT_CAP = 10_000


async def search(rt: Runtime, f: InterruptFilter, page: Page) -> tuple[list[PendingInterrupt], int, bool]:
    """A page of interrupts, their total and whether it is exact: when not, more than `total`
    match (counting stopped at the page's offset + TOTAL_COUNT_CAP)."""
    bound = page.offset + TOTAL_COUNT_CAP
    async with rt.storage.transaction() as tx:
        found = await tx.search_interrupts(f, page)
        counted = await tx.count_interrupts(f, limit=bound + 1)
    return found, min(counted, bound), counted <= bound


async def candidates(rt: Runtime, interrupt_id: str, thread_id: str | None = None) -> list[PendingInterrupt]:
    """Every interrupt with this id (on the thread named, if one is): usually one, but a
    copied thread carries its interrupts' ids along."""
    async with rt.storage.transaction() as tx:
        found = await tx.interrupts_by_id(interrupt_id)
    return [i for i in found if thread_id is None or i.thread_id == thread_id]


async def on_thread(tx: Tx, thread_id: str, interrupt_id: str, *, for_update: bool = False) -> PendingInterrupt | None:
    """The interrupt with this id on this thread, as it is now (locked, if asked)."""
    for item in await tx.interrupts_by_id(interrupt_id, for_update=for_update):
        if item.thread_id == thread_id:
            return item
    return None


async def visible(rt: Runtime, item: PendingInterrupt, access: Access) -> bool:
    if not access.conditions:
        return True
    async with rt.storage.transaction() as tx:
        thread = await tx.get_thread(item.thread_id)
    return thread is not None and access.admits(thread.metadata)


def only(interrupt_id: str, found: list[PendingInterrupt]) -> PendingInterrupt:
    """The one interrupt a route names (among those the caller may see)."""
    if not found:
        raise NotFound(f"Interrupt {interrupt_id} not found")
    if len(found) > 1:
        threads = ", ".join(i.thread_id for i in found)
        raise Conflict(f"interrupt {interrupt_id} is on several threads ({threads}): name one with ?thread_id=")
    return found[0]


async def answer_payload(rt: Runtime, item: PendingInterrupt, value: Any) -> dict[str, Any]:
    """The run that answers `item` with `value` from outside the runs API (the inbox, a
    deadline): through the assistant that raised it (its graph's own if that one is gone),
    with the config, context and webhook of the run that raised it."""
    assistant_id = item.assistant_id or item.graph_id or ""
    try:
        await assistants.resolve(rt, assistant_id)
    except WaypostError:
        assistant_id = item.graph_id or assistant_id
    payload: dict[str, Any] = {"assistant_id": assistant_id, "command": {"resume": {item.interrupt_id: value}}}
    if item.run_id:
        async with rt.storage.transaction() as tx:
            raised = await tx.get_run(item.run_id)
        if raised is not None:
            for key in ("config", "context", "webhook"):
                if raised.kwargs.get(key):
                    payload[key] = raised.kwargs[key]
    return payload


async def answer_request(
    rt: Runtime, item: PendingInterrupt, value: Any, *, origin: Origin, via: str, comment: str | None
) -> RunRequest:
    payload = await answer_payload(rt, item, value)
    return RunRequest(thread_id=item.thread_id, payload=payload, origin=origin, via=via, comment=comment)


async def change_plan(rt: Runtime, item: PendingInterrupt, body: dict[str, Any], origin: Origin) -> PendingInterrupt:
    """Apply a PATCH (deadline, on_deadline, assignees, remind_before) to a pending
    interrupt, reset its timers and log the change. The PATCH's keys are applied to the plan
    as it is under the interrupt's row lock, so concurrent PATCHes each keep their keys and
    none has to try again; a deadline firing meanwhile finds a newer plan and does nothing."""
    async with rt.storage.transaction() as tx:
        current = await on_thread(tx, item.thread_id, item.interrupt_id, for_update=True)
        if current is None:
            raise NotFound(f"Interrupt {item.interrupt_id} not found")
        if not current.pending:
            raise Conflict(f"interrupt {item.interrupt_id} is {current.status}: its plan can no longer change")
        plan = patched(current.plan, body, datetime.now(UTC))
        updated = await tx.set_plan(current.thread_id, current.interrupt_id, plan, current.plan_version)
        assert updated is not None, "the plan changed under its row lock"
        await schedule(tx, updated)
        await tx.append_audit(
            AuditEntry(
                event="plan",
                outcome="changed",
                origin=origin,
                thread_id=current.thread_id,
                interrupt_id=current.interrupt_id,
                detail={"before": asdict(current.plan), "after": asdict(updated.plan), "request": body},
            )
        )
        return updated


async def history(rt: Runtime, item: PendingInterrupt) -> list[AuditEntry]:
    f = AuditFilter(thread_id=item.thread_id, interrupt_id=item.interrupt_id)
    async with rt.storage.transaction() as tx:
        return await tx.search_audit(f, HISTORY_LIMIT)


async def audit_log(rt: Runtime, f: AuditFilter, limit: int, offset: int = 0) -> list[AuditEntry]:
    async with rt.storage.transaction() as tx:
        return await tx.search_audit(f, limit, offset)
