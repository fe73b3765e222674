"""The rows Waypost keeps, as frozen dataclasses: what storage returns and operations use."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

INFLIGHT = ("pending", "running")
# Kept with a run for the worker, never shown to clients: who asked, whether it is streamed,
# request headers the config passes to the graph.
PRIVATE_KWARGS = frozenset({"auth_user", "streamed", "headers"})
RUN_STATUSES = ("pending", "running", "success", "error", "timeout", "interrupted")
THREAD_STATUSES = ("idle", "busy", "interrupted", "error")

CancelAction = Literal["interrupt", "rollback"]


def now_iso() -> str:
    # Always six fractional digits: timestamps are compared as text in SQLite, and
    # isoformat() drops the fraction when it happens to be zero.
    return datetime.now(UTC).isoformat(timespec="microseconds")


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
    # The last run stopped at a static breakpoint (interrupt_before/after): a person is
    # expected to look before it continues, so the thread rests `interrupted`.
    at_breakpoint: bool = False

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
    # Set by a cancel while the run is running; the worker holding it honours it.
    cancel_action: CancelAction | None = None
    # Which worker holds the run while it is running (None otherwise).
    lease_owner: str | None = None
    # The answers this run carries, {interrupt_id: value}, resolved when it was accepted.
    # The graph is resumed with this map, never with a bare value: langgraph keeps a map
    # out of the checkpoint, so a cancelled answer can never be applied by a later run.
    answers: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "assistant_id": self.assistant_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "status": self.status,
            "metadata": self.metadata,
            "kwargs": {k: v for k, v in self.kwargs.items() if k not in PRIVATE_KWARGS},
            "multitask_strategy": self.multitask_strategy,
        }

    def replace(self, **changes: Any) -> Run:
        return dataclasses.replace(self, **changes)

    @property
    def continues_checkpoint(self) -> bool:
        """Whether the run starts on the thread's latest checkpoint and may write there (a
        command, or no input: continuing after a breakpoint or an interrupt), rather than
        starting a new checkpoint from fresh input."""
        return bool(self.kwargs.get("command")) or self.kwargs.get("input") is None


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
    # The run (queued or running) that made this interrupt moot: new input abandons what was
    # pending. Provisional until that run ends: if its checkpoint still holds the interrupt,
    # the interrupt is pending again.
    superseded_by: str | None = None
    # Where it came from: the run that raised it, its assistant and graph. An answer must
    # come through an assistant of the same graph.
    run_id: str | None = None
    assistant_id: str | None = None
    graph_id: str | None = None
    answered_at: str | None = None
    answered_by: str | None = None  # the identity of who answered ("anonymous" without auth)

    @property
    def pending(self) -> bool:
        return self.answered_by_run is None and self.superseded_by is None

    def item(self) -> dict[str, Any]:
        """The interrupt as clients see it: langgraph's keys plus the legacy ones
        (`resumable`, `ns`, `when`) that older clients and docs still show."""
        return {
            "value": self.value,
            "id": self.interrupt_id,
            "response_schema": self.response_schema,
            "resumable": True,
            "ns": self.ns,
            "when": "during",
        }


@dataclass(frozen=True, slots=True)
class RunEnd:
    """How a run ended, as the worker saw it, ready to be recorded in one transaction.

    `values` is the thread's full state at the end and `pending` the interrupts waiting in
    its checkpoint; both None when the graph could not be read (its assistant is gone).
    """

    status: str  # success | error | interrupted
    output: Any
    values: Any = None
    pending: list[PendingInterrupt] | None = None
    at_breakpoint: bool = False
    error: dict[str, str] | None = None
    rolled_back: bool = False
