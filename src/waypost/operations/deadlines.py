"""What a due timer does: remind before a deadline, or act when it passes.

A timer fires in the transaction that deletes its row (`take_timer`), with everything it
causes: the answer's run, the expiry, the escalation's new plan and timers, the audit entry,
the notifications. Two processes seeing the same due timer cannot both fire it, and a crash
before the commit leaves the timer to fire again. A timer set for an older version of the
plan (it was changed since) does nothing.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from waypost.errors import WaypostError
from waypost.models import INFLIGHT, SYSTEM, AuditEntry, PendingInterrupt, Timer, iso, now_iso
from waypost.operations import runs
from waypost.operations.inbox import answer_request, on_thread
from waypost.operations.notify import interrupt_event
from waypost.operations.plans import escalated, schedule
from waypost.operations.transitions import settle_thread
from waypost.runtime import Runtime
from waypost.storage.base import Tx

log = logging.getLogger("waypost.deadlines")

# An interrupt whose answer is still being carried by a run when its deadline passes is
# looked at again this much later: if that run is cancelled, the answer is given back and
# the deadline applies after all.
RECHECK_S = 2.0


async def _current(tx: Tx, timer: Timer) -> PendingInterrupt | None:
    return await on_thread(tx, timer.thread_id, timer.interrupt_id)


async def _answer_in_flight(tx: Tx, item: PendingInterrupt) -> bool:
    if item.answered_by_run is None:
        return False
    run = await tx.get_run(item.answered_by_run)
    return run is not None and run.status in INFLIGHT


async def _look_again_if_in_flight(tx: Tx, timer: Timer, item: PendingInterrupt) -> None:
    """The timer (taken) met its interrupt answered: if the run carrying the answer may still
    be cancelled, set it again a little later, so that the deadline applies after all then.
    The interrupt and the run are two reads: a cancel that committed between them gave the
    answer back, and the interrupt, read again, is pending: the timer is then due at once."""
    if await _answer_in_flight(tx, item):
        later = datetime.now(UTC) + timedelta(seconds=RECHECK_S)
        await tx.set_timer(replace(timer, due_at=iso(later)))
        return
    again = await _current(tx, timer)
    if again is not None and again.pending and again.plan_version == timer.plan_version:
        await tx.set_timer(replace(timer, due_at=now_iso()))


def _entry(item: PendingInterrupt, outcome: str, detail: dict[str, Any], **more: Any) -> AuditEntry:
    return AuditEntry(
        event="deadline",
        outcome=outcome,
        origin=SYSTEM,
        thread_id=item.thread_id,
        interrupt_id=item.interrupt_id,
        detail={"deadline": item.deadline, **detail},
        **more,
    )


async def fire(rt: Runtime, timer: Timer) -> None:
    """Fire one due timer, if nobody else has."""
    item = await _resume_plan(rt, timer)
    if item is not None:
        try:
            await _resume(rt, timer, item)
            return
        except WaypostError as exc:  # the value the plan answers with was refused
            await _refused(rt, timer, exc.message)
            return
    async with rt.storage.transaction() as tx:
        if not await tx.take_timer(timer):
            return  # fired by another process, or replaced by a newer plan
        item = await _current(tx, timer)
        if item is None or item.plan_version != timer.plan_version:
            return  # gone, or its plan changed after this timer was set
        if not item.pending:
            await _look_again_if_in_flight(tx, timer, item)
            return
        if timer.kind == "reminder":
            await interrupt_event(tx, rt.inbox, "interrupt.reminder", item)
            return
        await _deadline_passed(tx, rt, item)


async def _deadline_passed(tx: Tx, rt: Runtime, item: PendingInterrupt) -> None:
    action = item.on_deadline or {}
    kind = action.get("action")
    now = now_iso()
    await interrupt_event(tx, rt.inbox, "interrupt.deadline_passed", item, {"action": kind})
    if kind == "expire":
        if await tx.expire_interrupt(item.thread_id, item.interrupt_id, item.plan_version, now):
            await settle_thread(tx, item.thread_id, now)
            expired = replace(item, expired_at=now)
            await tx.append_audit(_entry(item, "expired", {"action": action}))
            await interrupt_event(tx, rt.inbox, "interrupt.expired", expired)
    elif kind == "escalate":
        plan = escalated(item.plan, action, datetime.now(UTC))
        updated = await tx.set_plan(item.thread_id, item.interrupt_id, plan, item.plan_version)
        if updated is not None:
            await schedule(tx, updated)
            detail = {"action": action, "assignees_before": item.assignees, "assignees": updated.assignees}
            await tx.append_audit(_entry(item, "escalated", {**detail, "next_deadline": updated.deadline}))
            await interrupt_event(tx, rt.inbox, "interrupt.escalated", updated, {"previous_assignees": item.assignees})
    else:
        await tx.append_audit(_entry(item, "passed", {"action": None}))


async def _resume_plan(rt: Runtime, timer: Timer) -> PendingInterrupt | None:
    """The interrupt, when this timer is a deadline whose plan answers it (read without
    taking the timer: the answer's run is prepared before its transaction)."""
    if timer.kind != "deadline":
        return None
    async with rt.storage.transaction() as tx:
        item = await _current(tx, timer)
    if item is None or not item.pending or item.plan_version != timer.plan_version:
        return None
    return item if (item.on_deadline or {}).get("action") == "resume" else None


async def _resume(rt: Runtime, timer: Timer, item: PendingInterrupt) -> None:
    """Answer with the plan's value: a run like one a person's answer starts, recorded as
    answered by the deadline."""
    value = (item.on_deadline or {}).get("value")
    req = await answer_request(rt, item, value, origin=SYSTEM, via="deadline", comment="the deadline passed")
    run = runs.prepare(rt, req)
    async with rt.storage.transaction() as tx:
        if not await tx.take_timer(timer):
            return
        current = await _current(tx, timer)
        if current is None or current.plan_version != timer.plan_version:
            return
        if not current.pending:  # answered since it was read, while its run was prepared
            await _look_again_if_in_flight(tx, timer, current)
            return
        await interrupt_event(tx, rt.inbox, "interrupt.deadline_passed", current, {"action": "resume"})
        await runs.admit(tx, rt, req, run)
        await tx.append_audit(_entry(current, "resumed", {"value": value}, run_id=run.run_id))


async def _refused(rt: Runtime, timer: Timer, reason: str) -> None:
    async with rt.storage.transaction() as tx:
        if not await tx.take_timer(timer):
            return
        item = await _current(tx, timer)
        if item is None or item.plan_version != timer.plan_version:
            return
        if not item.pending:  # a person answered while the plan's value was checked
            await _look_again_if_in_flight(tx, timer, item)
            return
        await interrupt_event(tx, rt.inbox, "interrupt.deadline_passed", item, {"action": "resume", "refused": reason})
        await tx.append_audit(_entry(item, "refused", {"value": (item.on_deadline or {}).get("value")}, reason=reason))
    log.warning("interrupt %s: its deadline's answer was refused: %s", timer.interrupt_id, reason)
