"""What a graph looks like: its drawing and its JSON schemas, for /assistants/{id}/graph etc."""

from __future__ import annotations

from typing import Any, get_type_hints

import typing_extensions
from typing_extensions import is_typeddict

from waypost import serde
from waypost.models import Assistant
from waypost.runtime import Runtime


def _safe(fn: Any) -> Any:
    try:
        return serde.to_jsonable(fn())
    except Exception:  # a graph whose state type can't be described still runs; say null
        return None


def _schemas(graph: Any) -> dict[str, Any]:
    builder: Any = getattr(graph, "builder", None)
    context_schema = getattr(graph, "context_schema", None)

    def from_builder(attr: str, fallback: Any) -> Any:
        # langgraph asks pydantic, which refuses typing.TypedDict before Python 3.12;
        # rebuilding the TypedDict with typing_extensions describes the same state.
        try:
            return serde.to_jsonable(fallback())
        except Exception:
            tp = getattr(builder, attr, None)
            return _safe(lambda: _type_schema(tp)) if tp is not None else None

    return {
        "input_schema": from_builder("input_schema", graph.get_input_jsonschema),
        "output_schema": from_builder("output_schema", graph.get_output_jsonschema),
        "state_schema": from_builder("state_schema", lambda: _type_schema(builder.state_schema)),
        "config_schema": _safe(graph.get_config_jsonschema),
        "context_schema": _safe(graph.get_context_jsonschema) if context_schema is not None else None,
    }


def _type_schema(tp: Any) -> Any:
    from pydantic import TypeAdapter

    if isinstance(tp, type) and is_typeddict(tp):
        make: Any = typing_extensions.TypedDict
        tp = make(tp.__name__, get_type_hints(tp, include_extras=True), total=getattr(tp, "__total__", True))
    return TypeAdapter(tp).json_schema()


async def graph_schemas(rt: Runtime, assistant: Assistant) -> dict[str, Any]:
    graph = await rt.graphs.graph(assistant.graph_id, {"configurable": assistant.config.get("configurable", {})})
    return {"graph_id": assistant.graph_id, **_schemas(graph)}


async def graph_drawing(rt: Runtime, assistant: Assistant, xray: bool | int) -> dict[str, Any]:
    graph = await rt.graphs.graph(assistant.graph_id)
    drawable = await graph.aget_graph(xray=xray)
    data: dict[str, Any] = serde.to_jsonable(drawable.to_json())
    return data


async def subgraph_schemas(rt: Runtime, assistant: Assistant, namespace: str | None, recurse: bool) -> dict[str, Any]:
    graph = await rt.graphs.graph(assistant.graph_id)
    out = {}
    async for ns, sub in graph.aget_subgraphs(namespace=namespace, recurse=recurse):
        out[ns] = _schemas(sub)
    return out
