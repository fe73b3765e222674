"""/assistants: system assistants (one per graph) and user-made ones, with versions."""

from __future__ import annotations

import contextlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from waypost.api.access import authorize
from waypost.api.http import Flag, body_doc, json_response, page_response, parse_body, runtime
from waypost.api.schemas import (
    AssistantCount,
    AssistantCreate,
    AssistantPatch,
    AssistantSearch,
    SetLatest,
    Uuid,
    VersionsRequest,
)
from waypost.auth.access import Access
from waypost.operations import assistants
from waypost.operations.graph_info import graph_drawing, graph_schemas, subgraph_schemas
from waypost.storage.base import AssistantFilter, Page

router = APIRouter(tags=["assistants"])

AssistantRef = Annotated[str, Path(description="an assistant UUID, or a graph name for its system assistant")]


def _xray(value: Any) -> Any:
    # "1" is one level of subgraphs, not true: only the words are booleans.
    if isinstance(value, str):
        if value.lower() in ("true", "false", ""):
            return value.lower() == "true"
        try:
            value = int(value)
        except ValueError:
            pass
    if isinstance(value, bool) or (isinstance(value, int) and value > 0):
        return value
    raise PydanticCustomError("xray", "must be a boolean or a positive integer")


XRay = Annotated[
    bool | int,
    BeforeValidator(_xray),
    WithJsonSchema({"anyOf": [{"type": "boolean"}, {"type": "integer", "minimum": 1}]}),
    Query(description="true for every subgraph level, or how many levels to draw"),
]


def _search_value(body: AssistantSearch | AssistantCount) -> dict[str, Any]:
    """A search as the search handler sees it."""
    return {**body.model_dump(include={"graph_id", "limit", "offset"}), "metadata": dict(body.metadata or {})}


async def _access(request: Request, op: str, assistant_id: str, **more: Any) -> Access:
    ref: Any = assistant_id
    with contextlib.suppress(ValueError):
        ref = uuid.UUID(assistant_id)  # a graph name stays a name
    return await authorize(request, "assistants", op, {"assistant_id": ref, **more})


@router.post("/assistants", openapi_extra=body_doc(AssistantCreate))
async def create_assistant(request: Request) -> Response:
    b = await parse_body(request, AssistantCreate)
    config = b.config.model_dump(exclude_unset=True) if b.config else None
    value: dict[str, Any] = {
        "assistant_id": uuid.UUID(b.assistant_id) if b.assistant_id else None,
        "graph_id": b.graph_id,
        "config": config or {},
        "context": b.context or {},
        "metadata": dict(b.metadata or {}),
        "if_exists": b.if_exists or "raise",
        "name": b.name,
    }
    await authorize(request, "assistants", "create", value)  # may stamp an owner into the metadata
    assistant = await assistants.create(
        runtime(request),
        graph_id=b.graph_id,
        assistant_id=b.assistant_id,
        config=config,
        context=b.context,
        metadata=value.get("metadata"),
        if_exists=b.if_exists or "raise",
        name=b.name,
        description=b.description,
    )
    return json_response(assistant.as_dict())


@router.post("/assistants/search", openapi_extra=body_doc(AssistantSearch))
async def search_assistants(request: Request) -> Response:
    b = await parse_body(request, AssistantSearch, empty_ok=True)
    access = await authorize(request, "assistants", "search", _search_value(b))
    found, total = await assistants.search(
        runtime(request),
        AssistantFilter(b.metadata, b.graph_id, b.name, access.conditions),
        Page(b.limit, b.offset, b.sort_by, b.sort_order),
    )
    rows = [a.as_dict() for a in found]
    return page_response(rows, b.select, total, b.offset)


@router.post("/assistants/count", openapi_extra=body_doc(AssistantCount))
async def count_assistants(request: Request) -> Response:
    b = await parse_body(request, AssistantCount, empty_ok=True)
    access = await authorize(request, "assistants", "search", _search_value(b))
    _, total = await assistants.search(
        runtime(request), AssistantFilter(b.metadata, b.graph_id, b.name, access.conditions), Page(1, 0)
    )
    return json_response(total)


@router.get("/assistants/{assistant_id}")
async def get_assistant(assistant_id: Uuid, request: Request) -> Response:
    access = await _access(request, "read", assistant_id)
    return json_response((await assistants.get(runtime(request), assistant_id, access)).as_dict())


@router.patch("/assistants/{assistant_id}", openapi_extra=body_doc(AssistantPatch))
async def patch_assistant(assistant_id: Uuid, request: Request) -> Response:
    b = await parse_body(request, AssistantPatch, empty_ok=True)
    changes: dict[str, Any] = b.model_dump(exclude_unset=True)
    value = {"assistant_id": uuid.UUID(assistant_id), **changes, "metadata": dict(changes.get("metadata") or {})}
    access = await authorize(request, "assistants", "update", value)
    if "metadata" in changes or value["metadata"]:
        changes["metadata"] = value["metadata"]
    updated = await assistants.update(runtime(request), assistant_id, changes, access)
    return json_response(updated.as_dict())


@router.delete("/assistants/{assistant_id}", status_code=204)
async def delete_assistant(assistant_id: Uuid, request: Request) -> Response:
    await assistants.delete(runtime(request), assistant_id, await _access(request, "delete", assistant_id))
    return Response(status_code=204)


@router.post("/assistants/{assistant_id}/versions", openapi_extra=body_doc(VersionsRequest))
async def assistant_versions(assistant_id: Uuid, request: Request) -> Response:
    b = await parse_body(request, VersionsRequest, empty_ok=True)
    access = await _access(request, "read", assistant_id)
    found = await assistants.versions(runtime(request), assistant_id, b.metadata, Page(b.limit, b.offset), access)
    return json_response([a.version_dict() for a in found])


@router.post("/assistants/{assistant_id}/latest", openapi_extra=body_doc(SetLatest))
async def set_latest(assistant_id: Uuid, request: Request) -> Response:
    b = await parse_body(request, SetLatest)
    access = await _access(request, "update", assistant_id, version=b.version)
    chosen = await assistants.set_latest(runtime(request), assistant_id, b.version, access)
    return json_response(chosen.as_dict())


@router.get("/assistants/{assistant_id}/graph")
async def get_graph(assistant_id: AssistantRef, request: Request, xray: XRay = False) -> Response:
    rt = runtime(request)
    assistant = await assistants.resolve(rt, assistant_id, await _access(request, "read", assistant_id))
    return json_response(await graph_drawing(rt, assistant, xray))


@router.get("/assistants/{assistant_id}/schemas")
async def get_schemas(assistant_id: AssistantRef, request: Request) -> Response:
    rt = runtime(request)
    assistant = await assistants.resolve(rt, assistant_id, await _access(request, "read", assistant_id))
    return json_response(await graph_schemas(rt, assistant))


@router.get("/assistants/{assistant_id}/subgraphs")
async def get_subgraphs(assistant_id: AssistantRef, request: Request, recurse: Flag = False) -> Response:
    rt = runtime(request)
    assistant = await assistants.resolve(rt, assistant_id, await _access(request, "read", assistant_id))
    return json_response(await subgraph_schemas(rt, assistant, None, recurse))


@router.get("/assistants/{assistant_id}/subgraphs/{namespace}")
async def get_subgraphs_ns(
    assistant_id: AssistantRef, namespace: str, request: Request, recurse: Flag = False
) -> Response:
    rt = runtime(request)
    assistant = await assistants.resolve(rt, assistant_id, await _access(request, "read", assistant_id))
    return json_response(await subgraph_schemas(rt, assistant, namespace, recurse))
