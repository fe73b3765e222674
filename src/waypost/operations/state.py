"""Thread state as clients see it, read from langgraph's checkpointer through the graph."""

from __future__ import annotations

from typing import Any

from langgraph.pregel import Pregel
from langgraph.types import Interrupt, StateSnapshot

from waypost import serde
from waypost.models import PendingInterrupt, now_iso

EMPTY_STATE: dict[str, Any] = {
    "values": {},
    "next": [],
    "tasks": [],
    "metadata": None,
    "created_at": None,
    "checkpoint": None,
    "parent_checkpoint": None,
    "interrupts": [],
    "checkpoint_id": None,
    "parent_checkpoint_id": None,
}


def interrupt_item(intr: Interrupt, ns: list[str]) -> dict[str, Any]:
    return PendingInterrupt(
        thread_id="",
        interrupt_id=intr.id,
        task_id="",
        ns=ns,
        value=serde.to_jsonable(intr.value),
        response_schema=serde.schema_of(intr),
    ).item()


def checkpoint_of(config: Any) -> dict[str, Any] | None:
    if not config:
        return None
    c = config.get("configurable", {})
    out = {
        "thread_id": c.get("thread_id"),
        "checkpoint_ns": c.get("checkpoint_ns", ""),
        "checkpoint_id": c.get("checkpoint_id"),
    }
    if c.get("checkpoint_map"):
        out["checkpoint_map"] = c["checkpoint_map"]
    return out


def _interrupt_ns(task: Any, interrupt_id: str, prefix: list[str]) -> list[str]:
    """The checkpoint namespace path down to the task that raised the interrupt."""
    path = [*prefix, f"{task.name}:{task.id}"]
    child = task.state
    if isinstance(child, StateSnapshot):
        for sub in child.tasks:
            if any(i.id == interrupt_id for i in sub.interrupts):
                return _interrupt_ns(sub, interrupt_id, path)
    return path


def pending_interrupts(
    thread_id: str,
    snapshot: StateSnapshot,
    *,
    run_id: str | None = None,
    assistant_id: str | None = None,
    graph_id: str | None = None,
) -> list[PendingInterrupt]:
    """The interrupts waiting for an answer at this checkpoint, each with its root task id,
    and, for ones seen here first, where they came from."""
    now = now_iso()
    out = []
    for task in snapshot.tasks:
        for intr in task.interrupts:
            out.append(
                PendingInterrupt(
                    thread_id=thread_id,
                    interrupt_id=intr.id,
                    task_id=task.id,
                    ns=_interrupt_ns(task, intr.id, []),
                    value=serde.to_jsonable(intr.value),
                    response_schema=serde.schema_of(intr),
                    created_at=now,
                    run_id=run_id,
                    assistant_id=assistant_id,
                    graph_id=graph_id,
                )
            )
    return out


def render_snapshot(s: StateSnapshot, prefix: list[str] | None = None, *, nested: bool = True) -> dict[str, Any]:
    """A StateSnapshot as clients see it. Read the snapshot with subgraphs so interrupt `ns`
    is exact; `nested=False` then leaves each subgraph task's `state` out (its `checkpoint`
    says where it is), as when a client did not ask for subgraphs."""
    prefix = prefix or []
    tasks = []
    all_interrupts = []
    for t in s.tasks:
        seg = [*prefix, f"{t.name}:{t.id}"]
        items = [interrupt_item(i, _interrupt_ns(t, i.id, prefix)) for i in t.interrupts]
        all_interrupts.extend(items)
        child = t.state
        if isinstance(child, StateSnapshot):
            checkpoint = None if nested else _task_checkpoint(child)
            state = render_snapshot(child, seg) if nested else None
        else:
            checkpoint, state = checkpoint_of(child), None
        tasks.append(
            {
                "id": t.id,
                "name": t.name,
                "path": list(t.path),
                "error": None if t.error is None else f"{type(t.error).__name__}: {t.error}",
                "interrupts": items,
                "checkpoint": checkpoint,
                "state": state,
                "result": serde.to_jsonable(t.result) if t.result is not None else None,
            }
        )
    checkpoint = checkpoint_of(s.config)
    parent = checkpoint_of(s.parent_config)
    return {
        "values": serde.to_jsonable(s.values),
        "next": list(s.next),
        "tasks": tasks,
        "metadata": serde.to_jsonable(s.metadata),
        "created_at": s.created_at,
        "checkpoint": checkpoint,
        "parent_checkpoint": parent,
        "interrupts": all_interrupts,
        "checkpoint_id": checkpoint["checkpoint_id"] if checkpoint else None,
        "parent_checkpoint_id": parent["checkpoint_id"] if parent else None,
    }


def _task_checkpoint(child: StateSnapshot) -> dict[str, Any] | None:
    """Where a subgraph task's state lives, without the state itself."""
    c = (child.config or {}).get("configurable", {})
    return {"thread_id": c.get("thread_id"), "checkpoint_ns": c.get("checkpoint_ns", "")}


async def read_state(
    graph: Pregel, thread_id: str, *, checkpoint: dict[str, Any] | None = None, subgraphs: bool = False
) -> StateSnapshot | None:
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ""}
    for key, value in (checkpoint or {}).items():
        if value is not None and key != "thread_id":
            configurable[key] = value
    snapshot = await graph.aget_state({"configurable": configurable}, subgraphs=subgraphs)
    return snapshot if snapshot.config else None


def select_fields(state: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    if not select:
        return state
    out: dict[str, Any] = {}
    for field in select:
        if field.startswith("values."):
            out.setdefault("values", {})
            key = field.removeprefix("values.")
            if isinstance(state.get("values"), dict) and key in state["values"]:
                out["values"][key] = state["values"][key]
        elif field in state:
            out[field] = state[field]
    return out
