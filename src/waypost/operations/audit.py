"""The audit log: who answered what (or tried to, and why it was refused), what deadlines
did, who changed a plan, and how notifications went. Entries are written in the transaction
of what they record, except refusals, whose transaction rolled back: those get their own."""

from __future__ import annotations

from typing import Any

from waypost.models import AuditEntry, Origin, PendingInterrupt
from waypost.operations.interrupts import is_resume_map
from waypost.runtime import Runtime
from waypost.storage.base import Tx

# Where an answer came from: a run created through the Agent Server API, the inbox's own
# answer route, or a deadline.
Via = str


async def answers_applied(
    tx: Tx,
    origin: Origin,
    items: list[PendingInterrupt],
    answers: dict[str, Any],
    run_id: str,
    *,
    comment: str | None,
    via: Via,
) -> None:
    for item in items:
        detail = {"value": answers[item.interrupt_id], "comment": comment, "via": via}
        await tx.append_audit(
            AuditEntry(
                event="answer",
                outcome="applied",
                origin=origin,
                thread_id=item.thread_id,
                interrupt_id=item.interrupt_id,
                run_id=run_id,
                detail=detail,
            )
        )


async def answer_refused(
    rt: Runtime,
    origin: Origin,
    thread_id: str | None,
    resume: Any,
    reason: str,
    *,
    status: int,
    comment: str | None,
    via: Via,
    interrupt_id: str | None = None,
) -> None:
    """Record a refused answer, in a transaction of its own (the refused one rolled back),
    under the interrupt the refusal named (or each one a resume map names)."""
    named: list[tuple[str | None, Any]]
    if is_resume_map(resume):
        named = list(resume.items())
        if interrupt_id is not None:  # the refusal names the one it was about
            named = [(i, v) for i, v in named if i == interrupt_id] or named
    else:
        named = [(interrupt_id, resume)]
    async with rt.storage.transaction() as tx:
        for one, value in named:
            await tx.append_audit(
                AuditEntry(
                    event="answer",
                    outcome="refused",
                    origin=origin,
                    thread_id=thread_id,
                    interrupt_id=one,
                    reason=reason,
                    detail={"value": value, "comment": comment, "via": via, "status": status},
                )
            )
