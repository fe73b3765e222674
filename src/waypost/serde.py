"""JSON for everything that leaves the server: state values, messages, interrupts, rows.

orjson does the work; `_default` teaches it the objects graphs put in state (LangChain
messages and other pydantic models, dataclasses, Interrupts, sets).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
from langgraph.types import Interrupt

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _default(obj: Any) -> Any:
    if isinstance(obj, Interrupt):
        return {"value": obj.value, "id": obj.id, "response_schema": schema_of(obj)}
    if hasattr(obj, "model_dump"):
        return obj.model_dump()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", errors="replace")
    if isinstance(obj, type):
        return obj.__name__
    return repr(obj)


def schema_of(interrupt: Interrupt) -> dict[str, Any] | None:
    """The JSON Schema an interrupt asks its answer to follow, or None."""
    schema = interrupt.response_schema
    if schema is None or isinstance(schema, dict):
        return schema
    from pydantic import TypeAdapter

    return TypeAdapter(schema).json_schema()


def dumps(obj: Any, *, sort_keys: bool = False) -> bytes:
    option = _OPTIONS | orjson.OPT_SORT_KEYS if sort_keys else _OPTIONS
    return orjson.dumps(obj, default=_default, option=option)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def to_jsonable(obj: Any) -> Any:
    """Plain JSON types only (for storing state values and comparing them)."""
    return orjson.loads(dumps(obj))
