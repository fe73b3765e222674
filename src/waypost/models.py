"""The rows Waypost keeps, as frozen dataclasses: what storage returns and operations use."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

INFLIGHT = ("pending", "running")


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class Assistant:
    assistant_id: str
    graph_id: str
    config: dict[str, Any]
    context: dict[str, Any]
    metadata: dict[str, Any]
    name: str
    description: str | None
    version: int
    created_at: str
    updated_at: str

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def version_dict(self) -> dict[str, Any]:
        data = self.as_dict()
        del data["updated_at"]
        return data


@dataclass(frozen=True, slots=True)
class Thread:
    thread_id: str
    created_at: str
    updated_at: str
    state_updated_at: str
    metadata: dict[str, Any]
    config: dict[str, Any]
    status: str
    values: Any
    interrupts: dict[str, list[dict[str, Any]]]
    error: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "state_updated_at": self.state_updated_at,
            "metadata": self.metadata,
            "status": self.status,
            "config": self.config,
            "values": self.values,
            "interrupts": self.interrupts,
            "error": self.error,
        }

    def replace(self, **changes: Any) -> Thread:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Run:
    run_id: str
    thread_id: str
    assistant_id: str
    created_at: str
    updated_at: str
    status: str
    metadata: dict[str, Any]
    kwargs: dict[str, Any]
    multitask_strategy: str
    attempt: int = 0
    available_at: str = ""
    output: Any = None
    temporary: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "assistant_id": self.assistant_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "status": self.status,
            "metadata": self.metadata,
            "kwargs": self.kwargs,
            "multitask_strategy": self.multitask_strategy,
        }

    def replace(self, **changes: Any) -> Run:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class PendingInterrupt:
    """One interrupt a graph raised on a thread, as Waypost tracks it for answering."""

    thread_id: str
    interrupt_id: str
    task_id: str
    ns: list[str]
    value: Any
    response_schema: dict[str, Any] | None
    created_at: str = field(default_factory=now_iso)
    answered_by_run: str | None = None
    superseded: bool = False

    def item(self) -> dict[str, Any]:
        """The interrupt as clients see it: langgraph's keys plus the seed's legacy ones."""
        return {
            "value": self.value,
            "id": self.interrupt_id,
            "response_schema": self.response_schema,
            "resumable": True,
            "ns": self.ns,
            "when": "during",
        }
