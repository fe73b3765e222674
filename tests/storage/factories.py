"""Row builders for the storage suite: valid rows with explicit, ordered timestamps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from waypost.models import Assistant, PendingInterrupt, Run, Thread

BASE = datetime(2025, 1, 1, tzinfo=UTC)


def ts(seconds: float) -> str:
    """An ISO timestamp `seconds` after a fixed base (same format as models.now_iso)."""
    return (BASE + timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def new_id() -> str:
    return str(uuid.uuid4())


def assistant(
    *,
    assistant_id: str | None = None,
    graph_id: str = "agent",
    name: str = "Untitled",
    metadata: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    description: str | None = None,
    version: int = 1,
    at: float = 0,
) -> Assistant:
    return Assistant(
        assistant_id=assistant_id or new_id(),
        graph_id=graph_id,
        config=config or {},
        context=context or {},
        metadata=metadata or {},
        name=name,
        description=description,
        version=version,
        created_at=ts(at),
        updated_at=ts(at),
    )


def thread(
    *,
    thread_id: str | None = None,
    status: str = "idle",
    metadata: dict[str, Any] | None = None,
    values: Any = None,
    at: float = 0,
    interrupts: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    error: Any = None,
) -> Thread:
    return Thread(
        thread_id=thread_id or new_id(),
        created_at=ts(at),
        updated_at=ts(at),
        state_updated_at=ts(at),
        metadata=metadata or {},
        config=config or {},
        status=status,
        values=values,
        interrupts=interrupts or {},
        error=error,
    )


def run(
    thread_id: str,
    *,
    run_id: str | None = None,
    status: str = "pending",
    at: float = 0,
    available_at: str = "",
    metadata: dict[str, Any] | None = None,
    kwargs: dict[str, Any] | None = None,
    attempt: int = 0,
    temporary: bool = False,
    assistant_id: str | None = None,
    output: Any = None,
) -> Run:
    return Run(
        run_id=run_id or new_id(),
        thread_id=thread_id,
        assistant_id=assistant_id or new_id(),
        created_at=ts(at),
        updated_at=ts(at),
        status=status,
        metadata=metadata or {},
        kwargs=kwargs or {"input": {"some_text": "x"}, "stream_mode": ["values"]},
        multitask_strategy="enqueue",
        attempt=attempt,
        available_at=available_at,
        output=output,
        temporary=temporary,
    )


def interrupt(
    thread_id: str,
    *,
    interrupt_id: str | None = None,
    task_id: str = "task-1",
    value: Any = None,
    response_schema: dict[str, Any] | None = None,
    at: float = 0,
    ns: list[str] | None = None,
) -> PendingInterrupt:
    return PendingInterrupt(
        thread_id=thread_id,
        interrupt_id=interrupt_id or uuid.uuid4().hex,
        task_id=task_id,
        ns=ns if ns is not None else [f"node:{task_id}"],
        value=value if value is not None else {"question": "?"},
        response_schema=response_schema,
        created_at=ts(at),
    )
