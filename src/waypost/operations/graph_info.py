"""What a graph looks like: its drawing and its JSON schemas, for /assistants/{id}/graph etc."""

from __future__ import annotations

from typing import Any

from langgraph.pregel import Pregel

from waypost import serde
from waypost.models import Assistant
from waypost.runtime import Runtime


def _safe(fn: Any) -> Any:
    try:
        return serde.to_jsonable(fn())
    except Exception:  # a graph whose state type can't be described still runs; say null
        return None


def _schemas(graph: Any) -> dict[str, Any]:
    context_schema = getattr(graph, "context_schema", None)
    return {
        "input_schema": _safe(graph.get_input_jsonschema),
        "output_schema": _safe(graph.get_output_jsonschema),
        "state_schema": _safe(
            lambda: graph.get_output_jsonschema() if not hasattr(graph, "builder") else _state_schema(graph)
        ),
        "config_schema": _safe(graph.get_config_jsonschema),
        "context_schema": _safe(graph.get_context_jsonschema) if context_schema is not None else None,
    }


def _state_schema(graph: Pregel) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(graph.builder.state_schema).json_schema()  # type: ignore[attr-defined]


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
