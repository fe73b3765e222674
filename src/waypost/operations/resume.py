"""Answering interrupts: refuse a bad answer up front, and apply each answer exactly once.

Called inside the transaction that inserts the answering run, so the check, the claim of the
interrupts (`answered_by_run`) and the run row commit together or not at all.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema

from waypost.errors import Conflict, InvalidInput
from waypost.models import PendingInterrupt
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


async def claim_answers(tx: Tx, thread_id: str, resume: Any, run_id: str, now: str) -> list[str]:
    """Validate `resume` against the thread's pending interrupts and claim them for run_id."""
    known = await tx.thread_interrupts(thread_id)
    by_id = {i.interrupt_id: i for i in known}
    pending = [i for i in known if i.answered_by_run is None]
    if is_resume_map(resume):
        answers = dict(resume)
        for interrupt_id in answers:
            item = by_id.get(interrupt_id)
            if item is None:
                raise Conflict(
                    f"interrupt {interrupt_id} is not pending on thread {thread_id}; "
                    f"pending: {', '.join(i.interrupt_id for i in pending) or 'none'}"
                )
            if item.answered_by_run is not None:
                raise Conflict(f"interrupt {interrupt_id} already answered")
    else:
        if not pending:
            answered = [i for i in known if i.answered_by_run is not None]
            if answered:
                raise Conflict(f"interrupt {answered[-1].interrupt_id} already answered")
            raise Conflict(f"thread {thread_id} has no pending interrupt to resume")
        if len(pending) > 1:
            raise Conflict(
                f"{len(pending)} interrupts are pending on thread {thread_id} "
                f"({', '.join(i.interrupt_id for i in pending)}): resume with a map "
                "{interrupt_id: value} naming the ones you answer"
            )
        answers = {pending[0].interrupt_id: resume}
    for interrupt_id, value in answers.items():
        _check_schema(by_id[interrupt_id], value)
    claimed = await tx.answer_interrupts(thread_id, list(answers), run_id, now)
    if claimed != len(answers):  # another answer won between our read and our write
        raise Conflict(f"interrupt {next(iter(answers))} already answered")
    return list(answers)
