"""Shape langgraph's astream output into the SSE events clients expect (API-CONTRACT §3.2).

langgraph yields (namespace, mode, chunk). Clients want event names like `values`,
`updates|sub:<task id>`, `messages` for messages-tuple, `messages/partial` for the legacy
messages mode, and interrupts rendered as the same items `/wait` returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessageChunk
from langgraph.types import Interrupt, _interrupt_id

from waypost.operations.state import interrupt_item

# How many interrupts one task may have answered before raising the next (double's second).
MAX_ANSWERS_PER_TASK = 16

# Client mode -> langgraph mode. "events" (astream_events) is not a langgraph stream mode.
LANGGRAPH_MODE = {
    "values": "values",
    "updates": "updates",
    "custom": "custom",
    "debug": "debug",
    "tasks": "tasks",
    "checkpoints": "checkpoints",
    "messages-tuple": "messages",
    "messages": "messages",
}


def as_interrupts(raw: Any) -> list[Interrupt]:
    """Interrupts as langgraph streams them: objects, or dicts in the tasks mode."""
    out = []
    for intr in raw or ():
        if isinstance(intr, dict) and "id" in intr:
            intr = Interrupt(intr.get("value"), intr["id"], response_schema=intr.get("response_schema"))
        if isinstance(intr, Interrupt):
            out.append(intr)
    return out


class StreamShaper:
    def __init__(self, requested: list[str], subgraphs: bool, output_channels: str | Sequence[str]) -> None:
        # What the client asked for; `events` alone still needs one langgraph mode to run.
        self.requested = [m for m in requested if m in LANGGRAPH_MODE]
        self.subgraphs = subgraphs
        # The root graph's `values` events carry its output channels only (its output_schema),
        # as langgraph's own stream does when given output_keys: private state stays inside.
        self._output = None if isinstance(output_channels, str) else frozenset(output_channels)
        self.legacy_messages = "messages" in self.requested
        self.tuple_messages = "messages-tuple" in self.requested
        # checkpoint namespace paths of the tasks started so far, to tell which raised an interrupt
        self._tasks: list[list[str]] = []
        self._partial: dict[str, Any] = {}
        # What the run's end is read from, so it needs no second look at the checkpoint: the
        # root graph's last full state, the names of the root tasks that ran, and what each
        # root task that ended raised last (a subgraph's interrupt shows in its parent's).
        self.last_values: Any = None
        self.root_tasks: dict[str, str] = {}
        self.root_raised: dict[str, list[Interrupt]] = {}

    def langgraph_modes(self) -> list[str]:
        # `values` for the run's final state and `tasks` for which task raised an interrupt
        # (its `ns`), whatever the client asked for; their parts are dropped unless asked.
        return sorted({LANGGRAPH_MODE[m] for m in self.requested} | {"values", "tasks"})

    def _items(self, interrupts: Any) -> list[dict[str, Any]]:
        return [interrupt_item(intr, self._ns_of(intr.id)) for intr in as_interrupts(interrupts)]

    def _ns_of(self, interrupt_id: str) -> list[str]:
        """langgraph derives an interrupt's id from its task's namespace and the number of
        answers that task already had; find the started task it matches."""
        for path in reversed(self._tasks):
            ns = "|".join(path)
            if any(_interrupt_id(ns, answered) == interrupt_id for answered in range(MAX_ANSWERS_PER_TASK)):
                return path
        return []

    def _with_items(self, chunk: Any, key: str = "__interrupt__") -> Any:
        """The chunk with its interrupts (under `key`) rendered as client items."""
        if isinstance(chunk, dict) and key in chunk:
            return {**chunk, key: self._items(chunk[key])}
        return chunk

    def shape(self, ns: tuple[str, ...], mode: str, chunk: Any) -> list[tuple[str, Any]]:
        """The (event name, data) pairs one langgraph chunk becomes; often one, maybe none."""
        if mode == "tasks" and isinstance(chunk, dict) and "input" in chunk:  # a task started
            self._tasks.append([*ns, f"{chunk.get('name')}:{chunk.get('id')}"])
            if not ns:
                self.root_tasks[str(chunk.get("id"))] = str(chunk.get("name"))
        elif mode == "tasks" and not ns and isinstance(chunk, dict) and "interrupts" in chunk:  # a root task ended
            self.root_raised[str(chunk.get("id"))] = as_interrupts(chunk["interrupts"])
        elif mode == "values" and not ns:
            self.last_values = chunk
        if ns and not self.subgraphs:
            # Subgraph parts are streamed only to learn their tasks' namespaces; their tokens
            # still go out un-namespaced, as langgraph sends them without subgraphs.
            return self._messages(chunk, "") if mode == "messages" else []
        suffix = "|" + "|".join(ns) if ns else ""
        if mode == "tasks":
            if "tasks" not in self.requested:
                return []
            return [("tasks" + suffix, self._with_items(chunk, "interrupts"))]
        if mode == "messages":
            return self._messages(chunk, suffix)
        if mode not in self.requested:
            return []
        if mode == "values" and not ns and self._output is not None and isinstance(chunk, dict):
            chunk = {k: v for k, v in chunk.items() if k in self._output or k == "__interrupt__"}
        if mode in ("updates", "values"):
            return [(mode + suffix, self._with_items(chunk))]
        return [(mode + suffix, chunk)]

    def _messages(self, chunk: Any, suffix: str) -> list[tuple[str, Any]]:
        message, metadata = chunk
        out: list[tuple[str, Any]] = []
        if self.tuple_messages:
            out.append(("messages" + suffix, [message, metadata]))
        if self.legacy_messages:
            msg_id = getattr(message, "id", None) or ""
            if msg_id not in self._partial:
                out.append(("messages/metadata" + suffix, {msg_id: {"metadata": metadata}}))
            if isinstance(message, BaseMessageChunk):
                previous = self._partial.get(msg_id)
                merged = message if previous is None else previous + message
                self._partial[msg_id] = merged
                out.append(("messages/partial" + suffix, [merged]))
            else:
                self._partial[msg_id] = message
                out.append(("messages/complete" + suffix, [message]))
        return out
