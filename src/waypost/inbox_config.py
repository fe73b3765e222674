"""The `waypost` section of langgraph.json: who answers each graph's interrupts, by when,
what happens at the deadline, and who is told. `langgraph dev` ignores a key it does not
know, so the same file still loads there.

    "waypost": {
      "interrupts": {
        "<graph_id>": {
          "<node name, or *>": {
            "assignees": ["ops"],
            "deadline": "PT30M",
            "remind_before": 300,
            "on_deadline": {"action": "escalate", "assignees": ["lead"], "deadline": "PT1H",
                            "on_deadline": {"action": "expire"}}
          }
        }
      },
      "notifications": [
        {"url": "https://example.com/hook", "events": ["interrupt.pending"], "graphs": ["<graph_id>"],
         "format": "json", "secret_env": "WAYPOST_WEBHOOK_SECRET"}
      ]
    }

Durations are seconds (a number) or ISO 8601 durations ("PT30M", "P1DT2H"). Every
notification is signed, so the secret it names must be set when the server starts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from waypost.errors import InvalidInput

DEFAULT_SECRET_ENV = "WAYPOST_WEBHOOK_SECRET"
INTERRUPT_EVENTS = (
    "interrupt.pending",
    "interrupt.reminder",
    "interrupt.deadline_passed",
    "interrupt.answered",
    "interrupt.escalated",
    "interrupt.expired",
)
ACTIONS = ("resume", "expire", "escalate")
FORMATS = ("json", "slack")
# An escalation may name the next step, and that one the next: this deep at most.
MAX_ESCALATION_DEPTH = 8

_DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def duration_seconds(value: Any) -> float | None:
    """Seconds from a number or an ISO 8601 duration; None if it is neither (or not > 0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)) and value not in ("P", "PT") and value[-1] != "T":
        parts = {k: float(v) for k, v in m.groupdict().items() if v is not None}
        try:
            seconds = timedelta(
                days=parts.get("days", 0),
                hours=parts.get("hours", 0),
                minutes=parts.get("minutes", 0),
                seconds=parts.get("seconds", 0),
            ).total_seconds()
        except OverflowError:  # past timedelta's range: far beyond the bound below anyway
            return None
    else:
        return None
    return seconds if 0 < seconds < 10 * 365 * 86400 else None


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time with its offset (a time without one is ambiguous: refused), in UTC.
    A time that is in range only with its offset (0001-01-01T00:00:00+01:00) is refused too:
    it has no UTC form, and every time is kept and compared in UTC."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
        return when.astimezone(UTC) if when.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


def check_action(action: Any, where: str, fail: Callable[[str], Exception], depth: int = 0) -> dict[str, Any]:
    """An on_deadline action, checked: `resume` with a value, `expire`, or `escalate` with
    assignees and optionally the next deadline (a duration, or a time) and its action."""
    if not isinstance(action, Mapping):
        raise fail(f"{where}: expected an object with an action ({', '.join(ACTIONS)})")
    kind = action.get("action")
    allowed = {
        "resume": {"action", "value"},
        "expire": {"action"},
        "escalate": {"action", "assignees", "deadline", "on_deadline"},
    }
    if kind not in allowed:
        raise fail(f"{where}.action: expected one of {', '.join(ACTIONS)}")
    unknown = sorted(set(action) - allowed[kind])
    if unknown:
        raise fail(f"{where}: unknown key(s) for {kind}: {', '.join(unknown)}")
    if kind == "resume" and "value" not in action:
        raise fail(f"{where}: resume needs the value to answer with")
    if kind == "escalate":
        check_assignees(action.get("assignees"), f"{where}.assignees", fail)
        deadline = action.get("deadline")
        if deadline is not None and duration_seconds(deadline) is None and parse_time(deadline) is None:
            raise fail(f"{where}.deadline: expected seconds, an ISO 8601 duration or a time with its offset")
        if action.get("on_deadline") is not None:
            if deadline is None:
                raise fail(f"{where}.on_deadline: needs a deadline")
            if depth >= MAX_ESCALATION_DEPTH:
                raise fail(f"{where}: escalations nest {MAX_ESCALATION_DEPTH} deep at most")
            check_action(action["on_deadline"], f"{where}.on_deadline", fail, depth + 1)
    return dict(action)


def check_assignees(value: Any, where: str, fail: Callable[[str], Exception]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(a, str) and a for a in value) or len(value) > 100:
        raise fail(f"{where}: expected a list of names (at most 100)")
    if any("\0" in a for a in value):  # PostgreSQL's text cannot hold NUL
        raise fail(f"{where}: a name cannot contain NUL characters")
    return list(dict.fromkeys(value))


@dataclass(frozen=True)
class NodeRule:
    """The plan every interrupt a node raises starts with."""

    assignees: tuple[str, ...] = ()
    deadline_s: float | None = None
    remind_before_s: float | None = None
    on_deadline: dict[str, Any] | None = None


@dataclass(frozen=True)
class NotificationRule:
    url: str
    events: frozenset[str]
    graphs: frozenset[str] | None  # None: every graph
    format: Literal["json", "slack"]
    secret_env: str

    def wants(self, event: str, graph_id: str | None) -> bool:
        return event in self.events and (self.graphs is None or graph_id in self.graphs)


@dataclass(frozen=True)
class InboxConfig:
    rules: Mapping[str, Mapping[str, NodeRule]] = field(default_factory=dict)
    notifications: tuple[NotificationRule, ...] = ()
    # Set at start from the settings and the rest of langgraph.json: where links in
    # notifications point, and whether run webhooks are off (http.disable_webhooks).
    base_url: str = "http://127.0.0.1:8123"
    run_webhooks_disabled: bool = False

    def rule_for(self, graph_id: str | None, ns: list[str]) -> NodeRule | None:
        """The rule of the node that raised an interrupt: the innermost node of its
        namespace, else the outermost (the root graph's node), else the graph's `*`."""
        graph = self.rules.get(graph_id or "")
        if not graph:
            return None
        nodes = [step.split(":", 1)[0] for step in ns]
        for node in (nodes[-1:] + nodes[:1]) if nodes else []:
            if node in graph:
                return graph[node]
        return graph.get("*")


def read_inbox_config(raw: Any, graphs: Mapping[str, Any], fail: Callable[[str], Exception]) -> InboxConfig:
    """The `waypost` section, checked; `fail(message)` builds the error that refuses it."""
    if raw is None:
        return InboxConfig()
    if not isinstance(raw, Mapping):
        raise fail("waypost: expected an object")
    unknown = sorted(set(raw) - {"interrupts", "notifications"})
    if unknown:
        raise fail(f"waypost: unknown key(s) {', '.join(unknown)} (known: interrupts, notifications)")
    return InboxConfig(
        rules=_rules(raw.get("interrupts") or {}, graphs, fail),
        notifications=tuple(_notifications(raw.get("notifications") or [], graphs, fail)),
    )


def _rules(raw: Any, graphs: Mapping[str, Any], fail: Callable[[str], Exception]) -> dict[str, dict[str, NodeRule]]:
    if not isinstance(raw, Mapping):
        raise fail("waypost.interrupts: expected an object of graph ids")
    out: dict[str, dict[str, NodeRule]] = {}
    for graph_id, nodes in raw.items():
        where = f"waypost.interrupts.{graph_id}"
        if graph_id not in graphs:
            raise fail(f"{where}: no graph {graph_id!r} in graphs")
        if not isinstance(nodes, Mapping):
            raise fail(f"{where}: expected an object of node names (or *)")
        out[graph_id] = {node: _rule(rule, f"{where}.{node}", fail) for node, rule in nodes.items()}
    return out


def _rule(raw: Any, where: str, fail: Callable[[str], Exception]) -> NodeRule:
    if not isinstance(raw, Mapping):
        raise fail(f"{where}: expected an object")
    unknown = sorted(set(raw) - {"assignees", "deadline", "remind_before", "on_deadline"})
    if unknown:
        raise fail(f"{where}: unknown key(s) {', '.join(unknown)}")
    assignees = check_assignees(raw["assignees"], f"{where}.assignees", fail) if "assignees" in raw else []
    deadline = remind = None
    if raw.get("deadline") is not None:
        deadline = duration_seconds(raw["deadline"])
        if deadline is None:
            raise fail(f"{where}.deadline: expected seconds or an ISO 8601 duration such as PT30M")
    if raw.get("remind_before") is not None:
        remind = duration_seconds(raw["remind_before"])
        if remind is None:
            raise fail(f"{where}.remind_before: expected seconds or an ISO 8601 duration")
        if deadline is None:
            raise fail(f"{where}.remind_before: needs a deadline")
    action = None
    if raw.get("on_deadline") is not None:
        if deadline is None:
            raise fail(f"{where}.on_deadline: needs a deadline")
        action = check_action(raw["on_deadline"], f"{where}.on_deadline", fail)
    return NodeRule(assignees=tuple(assignees), deadline_s=deadline, remind_before_s=remind, on_deadline=action)


def _notifications(raw: Any, graphs: Mapping[str, Any], fail: Callable[[str], Exception]) -> list[NotificationRule]:
    if not isinstance(raw, list):
        raise fail("waypost.notifications: expected a list")
    out = []
    for n, item in enumerate(raw):
        where = f"waypost.notifications[{n}]"
        if not isinstance(item, Mapping):
            raise fail(f"{where}: expected an object")
        unknown = sorted(set(item) - {"url", "events", "graphs", "format", "secret_env"})
        if unknown:
            raise fail(f"{where}: unknown key(s) {', '.join(unknown)}")
        url = item.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise fail(f"{where}.url: expected an http(s) URL")
        events = item.get("events", list(INTERRUPT_EVENTS))
        if not isinstance(events, list) or not events or any(e not in INTERRUPT_EVENTS for e in events):
            raise fail(f"{where}.events: expected a list of {', '.join(INTERRUPT_EVENTS)}")
        chosen = item.get("graphs")
        if chosen is not None:
            if not isinstance(chosen, list) or any(g not in graphs for g in chosen):
                raise fail(f"{where}.graphs: expected a list of graph ids from graphs")
        fmt = item.get("format", "json")
        if fmt not in FORMATS:
            raise fail(f"{where}.format: expected one of {', '.join(FORMATS)}")
        secret_env = item.get("secret_env", DEFAULT_SECRET_ENV)
        if not isinstance(secret_env, str) or not secret_env:
            raise fail(f"{where}.secret_env: expected the name of an environment variable")
        if not os.environ.get(secret_env):
            raise fail(f"{where}: notifications are signed; set {secret_env} to the signing secret")
        out.append(
            NotificationRule(
                url=url,
                events=frozenset(events),
                graphs=frozenset(chosen) if chosen is not None else None,
                format=fmt,
                secret_env=secret_env,
            )
        )
    return out


def invalid(message: str) -> Exception:
    """For checks of a request body (PATCH): the message as a 422."""
    return InvalidInput(message)
