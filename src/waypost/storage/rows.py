"""Between models and rows, shared by every dialect: rows read into models, models written
as query parameters.

A row is read by column name. JSON columns go through the dialect's `load`: SQLite keeps
JSON as text to decode, PostgreSQL's driver hands it over decoded already. Timestamps arrive
as ISO strings in models.now_iso's format, and booleans as anything `bool()` reads right.

Parameters carry JSON as text (each dialect's SQL takes it as its JSON type), timestamps as
the models' ISO strings and booleans as bool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from waypost import serde
from waypost.auth.filters import Condition
from waypost.models import Assistant, AuditEntry, Delivery, Origin, PendingInterrupt, Plan, Run, Thread, Timer
from waypost.storage.base import AuditFilter, InterruptFilter, RunSetting, ThreadState, split_conditions

Load = Callable[[Any], Any]


class Row(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...

    def keys(self) -> Iterable[str]: ...


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


def run_setting(row: Row, load: Load) -> RunSetting:
    """The run_setting query's row: a thread's columns, an assistant's as a_*, state_held."""
    found = thread(row, load) if row["thread_id"] is not None else None
    named = None
    if row["a_assistant_id"] is not None:
        named = assistant({key[2:]: row[key] for key in row.keys() if key.startswith("a_")}, load)
    return RunSetting(found, named, bool(row["state_held"]))


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
        answered_by=row["answered_by"],
        assignees=load(row["assignees"]),
        deadline=row["deadline"],
        on_deadline=load(row["on_deadline"]),
        remind_before=row["remind_before"],
        plan_version=row["plan_version"],
        expired_at=row["expired_at"],
    )


def namespaces_answered(interrupts: list[PendingInterrupt]) -> list[str]:
    """The checkpoint namespaces a run answering these interrupts continues from: the root
    ("") and every enclosing subgraph of each interrupt (its `ns` minus the last step)."""
    found = {""}
    for item in interrupts:
        found.update("|".join(item.ns[:k]) for k in range(1, len(item.ns)))
    return sorted(found)


def json_text(value: Any) -> str | None:
    return None if value is None else serde.dumps(value).decode()


def canonical_text(value: Any) -> str | None:
    """JSON with sorted keys, for what filters compare: metadata, values, the filters."""
    return None if value is None else serde.dumps(value, sort_keys=True).decode()


def assistant_params(a: Assistant) -> dict[str, Any]:
    return {
        **a.as_dict(),
        "config": json_text(a.config),
        "context": json_text(a.context),
        "metadata": canonical_text(a.metadata),
    }


def thread_params(t: Thread) -> dict[str, Any]:
    return {
        "thread_id": t.thread_id,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "state_updated_at": t.state_updated_at,
        "metadata": canonical_text(t.metadata),
        "config": json_text(t.config),
        "status": t.status,
        "state_values": canonical_text(t.values),
        "interrupts": json_text(t.interrupts),
        "error": json_text(t.error),
    }


def state_params(thread_id: str, state: ThreadState) -> dict[str, Any]:
    return {
        "thread_id": thread_id,
        "state_values": canonical_text(state.values),
        "interrupts": json_text(state.interrupts),
        "status": state.status,
        "error": json_text(state.error),
        "at_breakpoint": state.at_breakpoint,
        "now": state.updated_at,
        "metadata_patch": json_text(state.metadata_patch),
    }


def run_params(r: Run) -> dict[str, Any]:
    return {
        "run_id": r.run_id,
        "thread_id": r.thread_id,
        "assistant_id": r.assistant_id,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "available_at": r.available_at or r.created_at,
        "status": r.status,
        "metadata": json_text(r.metadata),
        "kwargs": json_text(r.kwargs),
        "multitask_strategy": r.multitask_strategy,
        "attempt": r.attempt,
        "output": json_text(r.output),
        "temporary": r.temporary,
        "answers": json_text(r.answers),
    }


def interrupt_params(i: PendingInterrupt) -> dict[str, Any]:
    return {
        "thread_id": i.thread_id,
        "interrupt_id": i.interrupt_id,
        "task_id": i.task_id,
        "ns": json_text(i.ns),
        "value": json_text(i.value),
        "response_schema": json_text(i.response_schema),
        "created_at": i.created_at,
        "run_id": i.run_id,
        "assistant_id": i.assistant_id,
        "graph_id": i.graph_id,
        **plan_params(i.plan),
    }


def plan_params(p: Plan) -> dict[str, Any]:
    return {
        "assignees": json_text(p.assignees),
        "deadline": p.deadline,
        "on_deadline": json_text(p.on_deadline),
        "remind_before": p.remind_before,
    }


def interrupt_filter_params(f: InterruptFilter) -> dict[str, Any]:
    return {
        "graph_id": f.graph_id,
        "assistant_id": f.assistant_id,
        "thread_id": f.thread_id,
        "interrupt_id": f.interrupt_id,
        "assignee": f.assignee,
        "deadline_before": f.deadline_before,
        "created_after": f.created_after,
        "metadata": canonical_text(f.metadata or {}),
        **condition_params(f.conditions),
    }


def timer(row: Row) -> Timer:
    return Timer(
        kind=row["kind"],
        due_at=row["due_at"],
        thread_id=row["thread_id"],
        interrupt_id=row["interrupt_id"],
        plan_version=row["plan_version"],
    )


def timer_params(t: Timer) -> dict[str, Any]:
    return {
        "timer_id": t.timer_id,
        "kind": t.kind,
        "due_at": t.due_at,
        "thread_id": t.thread_id,
        "interrupt_id": t.interrupt_id,
        "plan_version": t.plan_version,
    }


def delivery(row: Row, load: Load) -> Delivery:
    return Delivery(
        delivery_id=row["delivery_id"],
        event=row["event"],
        url=row["url"],
        body=load(row["body"]),
        created_at=row["created_at"],
        next_attempt_at=row["next_attempt_at"],
        secret_env=row["secret_env"],
        static_headers=bool(row["static_headers"]),
        thread_id=row["thread_id"],
        interrupt_id=row["interrupt_id"],
        run_id=row["run_id"],
        attempts=row["attempts"],
        status=row["status"],
        last_error=row["last_error"],
        delivered_at=row["delivered_at"],
    )


def delivery_params(d: Delivery) -> dict[str, Any]:
    return {
        "delivery_id": d.delivery_id,
        "event": d.event,
        "url": d.url,
        "body": json_text(d.body),
        "secret_env": d.secret_env,
        "static_headers": d.static_headers,
        "thread_id": d.thread_id,
        "interrupt_id": d.interrupt_id,
        "run_id": d.run_id,
        "created_at": d.created_at,
        "next_attempt_at": d.next_attempt_at,
    }


def audit(row: Row, load: Load) -> AuditEntry:
    return AuditEntry(
        seq=row["seq"],
        at=row["at"],
        event=row["event"],
        outcome=row["outcome"],
        origin=Origin(identity=row["identity"], request_id=row["request_id"], client=row["client"]),
        thread_id=row["thread_id"],
        interrupt_id=row["interrupt_id"],
        run_id=row["run_id"],
        reason=row["reason"],
        detail=load(row["detail"]),
    )


def audit_params(e: AuditEntry) -> dict[str, Any]:
    return {
        "at": e.at,
        "event": e.event,
        "outcome": e.outcome,
        "thread_id": e.thread_id,
        "interrupt_id": e.interrupt_id,
        "run_id": e.run_id,
        "identity": e.origin.identity,
        "request_id": e.origin.request_id,
        "client": e.origin.client,
        "reason": e.reason,
        "detail": json_text(e.detail),
    }


def audit_filter_params(f: AuditFilter) -> dict[str, Any]:
    return {
        "thread_id": f.thread_id,
        "interrupt_id": f.interrupt_id,
        "identity": f.identity,
        "event": f.event,
        "since": f.since,
        "until": f.until,
        "after_seq": f.after_seq,
        **condition_params(f.conditions),
    }


def condition_params(conditions: tuple[Condition, ...]) -> dict[str, str | None]:
    """Authorization conditions as the two query parameters searches pair with metadata by
    key: exact matches (:required) and lists that must hold every value given (:contains)."""
    required, contains = split_conditions(conditions)
    return {"required": canonical_text(required), "contains": canonical_text(contains)}
