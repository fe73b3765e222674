"""Filters an authorization handler returns, applied to a resource's metadata.

Documented shapes (langgraph_sdk.Auth.types.FilterType), combined with AND:
    {"owner": "alice"}                          exact match
    {"owner": {"$eq": "alice"}}                 exact match
    {"members": {"$contains": "alice"}}         the list holds that value
    {"members": {"$contains": ["a", "b"]}}      the list holds all of these
A filter is checked once, when a handler returns it: a shape outside these is a mistake in
the auth module, reported as a server error rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from waypost import serde


class FilterError(ValueError):
    """A handler returned a filter Waypost cannot apply."""


@dataclass(frozen=True, slots=True)
class Condition:
    key: str
    op: str  # "eq" | "contains"
    value: Any  # for contains: the list of values that must all be present


def parse(raw: Mapping[str, Any]) -> tuple[Condition, ...]:
    out = []
    for key, spec in raw.items():
        if not isinstance(key, str) or not key or "\x00" in key:
            raise FilterError(f"filter keys must be non-empty strings, got {key!r}")
        if isinstance(spec, Mapping):
            if len(spec) != 1:
                raise FilterError(f"filter on {key!r} must have exactly one operator, got {sorted(spec)}")
            ((op, value),) = spec.items()
            if op == "$eq":
                out.append(Condition(key, "eq", serde.to_jsonable(value)))
            elif op == "$contains":
                values = value if isinstance(value, list) else [value]
                out.append(Condition(key, "contains", serde.to_jsonable(values)))
            else:
                raise FilterError(f"unknown filter operator {op!r} on {key!r} (known: $eq, $contains)")
        else:
            out.append(Condition(key, "eq", serde.to_jsonable(spec)))
    return tuple(out)


def matches(conditions: tuple[Condition, ...], metadata: Mapping[str, Any]) -> bool:
    for c in conditions:
        if c.key not in metadata:
            return False
        have = metadata[c.key]
        if c.op == "eq":
            if not _same(have, c.value):
                return False
        elif not isinstance(have, list) or not all(any(_same(h, v) for h in have) for v in c.value):
            return False
    return True


def _same(a: Any, b: Any) -> bool:
    # JSON equality: true is not 1, 1 is 1.0
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b
