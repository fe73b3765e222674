"""Rows to models, shared by every dialect.

A row is read by column name. JSON columns go through the dialect's `load`: SQLite keeps
JSON as text to decode, PostgreSQL's driver hands it over decoded already. Timestamps arrive
as ISO strings in models.now_iso's format, and booleans as anything `bool()` reads right.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from waypost.models import Assistant, PendingInterrupt, Run, Thread

Load = Callable[[Any], Any]


class Row(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...


def assistant(row: Row, load: Load) -> Assistant:
    return Assistant(
        assistant_id=row["assistant_id"],
        graph_id=row["graph_id"],
        config=load(row["config"]),
        context=load(row["context"]),
        metadata=load(row["metadata"]),
        name=row["name"],
        description=row["description"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def thread(row: Row, load: Load) -> Thread:
    return Thread(
        thread_id=row["thread_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        state_updated_at=row["state_updated_at"],
        metadata=load(row["metadata"]),
        config=load(row["config"]),
        status=row["status"],
        values=load(row["state_values"]),
        interrupts=load(row["interrupts"]),
        error=load(row["error"]),
        at_breakpoint=bool(row["at_breakpoint"]),
    )


def run(row: Row, load: Load) -> Run:
    return Run(
        run_id=row["run_id"],
        thread_id=row["thread_id"],
        assistant_id=row["assistant_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        status=row["status"],
        metadata=load(row["metadata"]),
        kwargs=load(row["kwargs"]),
        multitask_strategy=row["multitask_strategy"],
        attempt=row["attempt"],
        available_at=row["available_at"],
        output=load(row["output"]),
        temporary=bool(row["temporary"]),
        cancel_action=row["cancel_action"],
        lease_owner=row["lease_owner"],
        answers=load(row["answers"]),
    )


def interrupt(row: Row, load: Load) -> PendingInterrupt:
    return PendingInterrupt(
        thread_id=row["thread_id"],
        interrupt_id=row["interrupt_id"],
        task_id=row["task_id"],
        ns=load(row["ns"]),
        value=load(row["value"]),
        response_schema=load(row["response_schema"]),
        created_at=row["created_at"],
        answered_by_run=row["answered_by_run"],
        superseded_by=row["superseded_by"],
        run_id=row["run_id"],
        assistant_id=row["assistant_id"],
        graph_id=row["graph_id"],
        answered_at=row["answered_at"],
    )


def namespaces_answered(interrupts: list[PendingInterrupt]) -> list[str]:
    """The checkpoint namespaces a run answering these interrupts continues from: the root
    ("") and every enclosing subgraph of each interrupt (its `ns` minus the last step)."""
    found = {""}
    for item in interrupts:
        found.update("|".join(item.ns[:k]) for k in range(1, len(item.ns)))
    return sorted(found)
