"""An interrupt's plan: who should answer, by when, and what happens when the deadline
passes. A plan starts from langgraph.json (the rule of the node that raised the interrupt),
changes by PATCH or by an escalation, and is backed by timers in the durable scheduler: one
at the deadline, one at the reminder before it. Every change bumps the plan's version, and
a timer acts only on the version it was set for, so a stale timer is harmless."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from waypost.errors import InvalidInput
from waypost.inbox_config import NodeRule, check_action, check_assignees, duration_seconds, invalid, parse_time
from waypost.models import PendingInterrupt, Plan, Timer, TimerKind, iso
from waypost.storage.base import Tx

PATCH_KEYS = ("deadline", "on_deadline", "assignees", "remind_before")


def initial_plan(rule: NodeRule | None, created_at: str) -> Plan:
    if rule is None:
        return Plan()
    start = datetime.fromisoformat(created_at)
    deadline = iso(start + timedelta(seconds=rule.deadline_s)) if rule.deadline_s else None
    return Plan(
        assignees=list(rule.assignees),
        deadline=deadline,
        on_deadline=rule.on_deadline,
        remind_before=rule.remind_before_s,
    )


def resolve_when(value: Any, now: datetime) -> str:
    """A deadline given as a time (with its offset), or as seconds or an ISO 8601 duration
    from now."""
    when = parse_time(value)
    if when is not None:
        return iso(when)
    seconds = duration_seconds(value)
    if seconds is None:
        raise InvalidInput("deadline: expected an ISO 8601 time with its offset, seconds, or a duration such as PT1H")
    return iso(now + timedelta(seconds=seconds))


def patched(current: Plan, body: dict[str, Any], now: datetime) -> Plan:
    """The plan after a PATCH: only the keys given change; null clears a key."""
    unknown = sorted(set(body) - set(PATCH_KEYS))
    if unknown:
        raise InvalidInput(f"unknown key(s) {', '.join(unknown)}; a plan has {', '.join(PATCH_KEYS)}")
    plan = current
    if "assignees" in body:
        plan = replace(plan, assignees=check_assignees(body["assignees"] or [], "assignees", invalid))
    if "deadline" in body:
        plan = replace(plan, deadline=None if body["deadline"] is None else resolve_when(body["deadline"], now))
    if "remind_before" in body:
        remind = body["remind_before"]
        seconds = None if remind is None else duration_seconds(remind)
        if remind is not None and seconds is None:
            raise InvalidInput("remind_before: expected seconds or an ISO 8601 duration")
        plan = replace(plan, remind_before=seconds)
    if "on_deadline" in body:
        action = body["on_deadline"]
        plan = replace(plan, on_deadline=None if action is None else check_action(action, "on_deadline", invalid))
    if plan.on_deadline is not None and plan.deadline is None:
        raise InvalidInput("on_deadline needs a deadline")
    return plan


def escalated(current: Plan, action: dict[str, Any], now: datetime) -> Plan:
    """The plan an escalation leaves: new assignees, and the next deadline and its action
    if it names them (none: the interrupt waits without a deadline)."""
    deadline = action.get("deadline")
    return Plan(
        assignees=list(action.get("assignees") or []),
        deadline=None if deadline is None else resolve_when(deadline, now),
        on_deadline=action.get("on_deadline") if deadline is not None else None,
        remind_before=current.remind_before,
    )


async def schedule(tx: Tx, item: PendingInterrupt) -> None:
    """Set (or clear) the item's timers for its plan as it is now: the deadline, and the
    reminder if it is still ahead."""
    kinds: dict[TimerKind, str | None] = {"deadline": item.deadline, "reminder": None}
    if item.deadline and item.remind_before:
        deadline = datetime.fromisoformat(item.deadline)
        # A deadline closer to year 1 than its lead has no reminder time: it is long past.
        if deadline - datetime.min.replace(tzinfo=UTC) > timedelta(seconds=item.remind_before):
            remind_at = deadline - timedelta(seconds=item.remind_before)
            if remind_at > datetime.now(UTC):
                kinds["reminder"] = iso(remind_at)
    for kind, due in kinds.items():
        timer = Timer(
            kind=kind,
            due_at=due or "",
            thread_id=item.thread_id,
            interrupt_id=item.interrupt_id,
            plan_version=item.plan_version,
        )
        if due is None:
            await tx.drop_timer(timer.timer_id)
        else:
            await tx.set_timer(timer)
    if item.deadline:
        tx.notify("due")
