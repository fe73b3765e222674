"""The rows Waypost keeps, as frozen dataclasses: what storage returns and operations use."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from waypost.auth.users import ANONYMOUS

INFLIGHT = ("pending", "running")
# Kept with a run for the worker, never shown to clients: who asked, whether it is streamed,
# request headers the config passes to the graph.
PRIVATE_KWARGS = frozenset({"auth_user", "streamed", "headers"})
RUN_STATUSES = ("pending", "running", "success", "error", "timeout", "interrupted")
THREAD_STATUSES = ("idle", "busy", "interrupted", "error")

CancelAction = Literal["interrupt", "rollback"]
InterruptStatus = Literal["pending", "answered", "expired", "superseded"]


def iso(when: datetime) -> str:
    """A time as Waypost stores it: UTC, always six fractional digits (timestamps are
    compared as text in SQLite, and isoformat() drops the fraction when it happens to be 0)."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def now_iso() -> str:
    return iso(datetime.now(UTC))


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
    # Its plan: who should answer, by when, and what happens then (see operations/plans.py).
    assignees: list[str] = field(default_factory=list)
    deadline: str | None = None
    on_deadline: dict[str, Any] | None = None
    remind_before: float | None = None  # seconds before the deadline to remind the assignees
    plan_version: int = 0
    expired_at: str | None = None  # its deadline expired it: no longer pending

    @property
    def pending(self) -> bool:
        return self.answered_by_run is None and self.superseded_by is None and self.expired_at is None

    @property
    def plan(self) -> Plan:
        return Plan(
            assignees=list(self.assignees),
            deadline=self.deadline,
            on_deadline=self.on_deadline,
            remind_before=self.remind_before,
        )

    @property
    def status(self) -> InterruptStatus:
        if self.answered_by_run is not None:
            return "answered"
        if self.expired_at is not None:
            return "expired"
        if self.superseded_by is not None:
            return "superseded"
        return "pending"

    def resource(self) -> dict[str, Any]:
        """The interrupt as the /interrupts routes show it."""
        return {
            "interrupt_id": self.interrupt_id,
            "thread_id": self.thread_id,
            "run_id": self.run_id,
            "graph_id": self.graph_id,
            "assistant_id": self.assistant_id,
            "value": self.value,
            "response_schema": self.response_schema,
            "ns": self.ns,
            "created_at": self.created_at,
            "deadline": self.deadline,
            "on_deadline": self.on_deadline,
            "remind_before": self.remind_before,
            "assignees": self.assignees,
            "status": self.status,
            "answered_at": self.answered_at,
            "answered_by": self.answered_by,
            "answered_by_run": self.answered_by_run,
            "expired_at": self.expired_at,
        }

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


@dataclass(frozen=True, slots=True)
class Origin:
    """Who made a request, for the audit log: the identity authentication gave it
    ("anonymous" without authentication), its x-request-id and the client's address."""

    identity: str = ANONYMOUS
    request_id: str | None = None
    client: str | None = None


# Changes the server makes by itself (a deadline passing) are recorded in this name.
SYSTEM = Origin(identity="system:deadline")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the append-only audit log."""

    event: str  # answer | deadline | plan | notification
    outcome: str  # applied | refused | resumed | expired | escalated | passed | delivered | failed | retrying
    origin: Origin
    thread_id: str | None = None
    interrupt_id: str | None = None
    run_id: str | None = None
    reason: str | None = None
    detail: dict[str, Any] | None = None
    at: str = field(default_factory=now_iso)
    seq: int | None = None  # given by the database

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "event": self.event,
            "outcome": self.outcome,
            "thread_id": self.thread_id,
            "interrupt_id": self.interrupt_id,
            "run_id": self.run_id,
            "identity": self.origin.identity,
            "request_id": self.origin.request_id,
            "client": self.origin.client,
            "reason": self.reason,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """Who should answer an interrupt, by when, and what happens at the deadline."""

    assignees: list[str] = field(default_factory=list)
    deadline: str | None = None
    on_deadline: dict[str, Any] | None = None
    remind_before: float | None = None


TimerKind = Literal["deadline", "reminder"]


@dataclass(frozen=True, slots=True)
class Timer:
    """Something due at a time: an interrupt's deadline, or the reminder before it. It acts
    only on the plan version it was set for (a later change to the plan makes it moot)."""

    kind: TimerKind
    due_at: str
    thread_id: str
    interrupt_id: str
    plan_version: int

    @property
    def timer_id(self) -> str:
        return f"{self.kind}:{self.thread_id}:{self.interrupt_id}"


@dataclass(frozen=True, slots=True)
class Delivery:
    """A notification in the outbox: POSTed to `url` until it is delivered or attempts run out.
    `secret_env` names the environment variable holding the signing secret; `static_headers`
    adds langgraph.json's webhooks.headers (run webhooks)."""

    delivery_id: str
    event: str
    url: str
    body: Any
    created_at: str
    next_attempt_at: str
    secret_env: str | None = None
    static_headers: bool = False
    thread_id: str | None = None
    interrupt_id: str | None = None
    run_id: str | None = None
    attempts: int = 0
    status: str = "pending"  # pending | delivered | failed
    last_error: str | None = None
    delivered_at: str | None = None
