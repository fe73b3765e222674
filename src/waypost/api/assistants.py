"""/assistants: system assistants (one per graph) and user-made ones, with versions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

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


@router.post("/assistants", openapi_extra=body_doc(AssistantCreate))
async def create_assistant(request: Request) -> Response:
    b = await parse_body(request, AssistantCreate)
    assistant = await assistants.create(
        runtime(request),
        graph_id=b.graph_id,
        assistant_id=b.assistant_id,
        config=b.config.model_dump(exclude_unset=True) if b.config else None,
        context=b.context,
        metadata=b.metadata,
        if_exists=b.if_exists or "raise",
        name=b.name,
        description=b.description,
    )
    return json_response(assistant.as_dict())


@router.post("/assistants/search", openapi_extra=body_doc(AssistantSearch))
async def search_assistants(request: Request) -> Response:
    b = await parse_body(request, AssistantSearch, empty_ok=True)
    found, total = await assistants.search(
        runtime(request),
        AssistantFilter(b.metadata, b.graph_id, b.name),
        Page(b.limit, b.offset, b.sort_by, b.sort_order),
    )
    rows = [a.as_dict() for a in found]
    return page_response(rows, b.select, total, b.offset)


@router.post("/assistants/count", openapi_extra=body_doc(AssistantCount))
async def count_assistants(request: Request) -> Response:
    b = await parse_body(request, AssistantCount, empty_ok=True)
    _, total = await assistants.search(runtime(request), AssistantFilter(b.metadata, b.graph_id, b.name), Page(1, 0))
    return json_response(total)


@router.get("/assistants/{assistant_id}")
async def get_assistant(assistant_id: Uuid, request: Request) -> Response:
    return json_response((await assistants.get(runtime(request), assistant_id)).as_dict())


@router.patch("/assistants/{assistant_id}", openapi_extra=body_doc(AssistantPatch))
async def patch_assistant(assistant_id: Uuid, request: Request) -> Response:
    b = await parse_body(request, AssistantPatch, empty_ok=True)
    changes: dict[str, Any] = b.model_dump(exclude_unset=True)
    updated = await assistants.update(runtime(request), assistant_id, changes)
    return json_response(updated.as_dict())


@router.delete("/assistants/{assistant_id}", status_code=204)
async def delete_assistant(assistant_id: Uuid, request: Request) -> Response:
    await assistants.delete(runtime(request), assistant_id)
    return Response(status_code=204)


@router.post("/assistants/{assistant_id}/versions", openapi_extra=body_doc(VersionsRequest))
async def assistant_versions(assistant_id: Uuid, request: Request) -> Response:
    b = await parse_body(request, VersionsRequest, empty_ok=True)
    found = await assistants.versions(runtime(request), assistant_id, b.metadata, Page(b.limit, b.offset))
    return json_response([a.version_dict() for a in found])


@router.post("/assistants/{assistant_id}/latest", openapi_extra=body_doc(SetLatest))
async def set_latest(assistant_id: Uuid, request: Request) -> Response:
    b = await parse_body(request, SetLatest)
    chosen = await assistants.set_latest(runtime(request), assistant_id, b.version)
    return json_response(chosen.as_dict())


@router.get("/assistants/{assistant_id}/graph")
async def get_graph(assistant_id: AssistantRef, request: Request, xray: XRay = False) -> Response:
    rt = runtime(request)
    assistant = await assistants.resolve(rt, assistant_id)
    return json_response(await graph_drawing(rt, assistant, xray))


@router.get("/assistants/{assistant_id}/schemas")
async def get_schemas(assistant_id: AssistantRef, request: Request) -> Response:
    rt = runtime(request)
    return json_response(await graph_schemas(rt, await assistants.resolve(rt, assistant_id)))


@router.get("/assistants/{assistant_id}/subgraphs")
async def get_subgraphs(assistant_id: AssistantRef, request: Request, recurse: Flag = False) -> Response:
    rt = runtime(request)
    assistant = await assistants.resolve(rt, assistant_id)
    return json_response(await subgraph_schemas(rt, assistant, None, recurse))


@router.get("/assistants/{assistant_id}/subgraphs/{namespace}")
async def get_subgraphs_ns(
    assistant_id: AssistantRef, namespace: str, request: Request, recurse: Flag = False
) -> Response:
    rt = runtime(request)
    assistant = await assistants.resolve(rt, assistant_id)
    return json_response(await subgraph_schemas(rt, assistant, namespace, recurse))
