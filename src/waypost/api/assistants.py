"""/assistants: system assistants (one per graph) and user-made ones, with versions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from waypost.api.http import (
    body_doc,
    check_select,
    check_uuid,
    json_response,
    page_response,
    parse_body,
    query_bool,
    runtime,
)
from waypost.api.schemas import (
    AssistantCount,
    AssistantCreate,
    AssistantPatch,
    AssistantSearch,
    SetLatest,
    VersionsRequest,
)
from waypost.errors import InvalidInput
from waypost.operations import assistants
from waypost.operations.graph_info import graph_drawing, graph_schemas, subgraph_schemas
from waypost.storage.base import AssistantFilter, Page

router = APIRouter(tags=["assistants"])

ASSISTANT_FIELDS = {
    "assistant_id",
    "graph_id",
    "name",
    "description",
    "config",
    "context",
    "created_at",
    "updated_at",
    "metadata",
    "version",
}


@router.post("/assistants", openapi_extra=body_doc(AssistantCreate))
async def create_assistant(request: Request) -> Response:
    b = await parse_body(request, AssistantCreate)
    assistant = await assistants.create(
        runtime(request),
        graph_id=b.graph_id,
        assistant_id=check_uuid(b.assistant_id, "assistant ID") if b.assistant_id else None,
        config=b.config,
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
    check_select(b.select, ASSISTANT_FIELDS)
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
async def get_assistant(assistant_id: str, request: Request) -> Response:
    return json_response((await assistants.get(runtime(request), assistant_id)).as_dict())


@router.patch("/assistants/{assistant_id}", openapi_extra=body_doc(AssistantPatch))
async def patch_assistant(assistant_id: str, request: Request) -> Response:
    b = await parse_body(request, AssistantPatch, empty_ok=True)
    changes: dict[str, Any] = b.model_dump(exclude_unset=True)
    updated = await assistants.update(runtime(request), check_uuid(assistant_id, "assistant ID"), changes)
    return json_response(updated.as_dict())


@router.delete("/assistants/{assistant_id}", status_code=204)
async def delete_assistant(assistant_id: str, request: Request) -> Response:
    await assistants.delete(runtime(request), check_uuid(assistant_id, "assistant ID"))
    return Response(status_code=204)


@router.post("/assistants/{assistant_id}/versions", openapi_extra=body_doc(VersionsRequest))
async def assistant_versions(assistant_id: str, request: Request) -> Response:
    b = await parse_body(request, VersionsRequest, empty_ok=True)
    found = await assistants.versions(
        runtime(request), check_uuid(assistant_id, "assistant ID"), b.metadata, Page(b.limit, b.offset)
    )
    return json_response([a.version_dict() for a in found])


@router.post("/assistants/{assistant_id}/latest", openapi_extra=body_doc(SetLatest))
async def set_latest(assistant_id: str, request: Request) -> Response:
    b = await parse_body(request, SetLatest)
    chosen = await assistants.set_latest(runtime(request), check_uuid(assistant_id, "assistant ID"), b.version)
    return json_response(chosen.as_dict())


@router.get("/assistants/{assistant_id}/graph")
async def get_graph(assistant_id: str, request: Request) -> Response:
    rt = runtime(request)
    assistant = await assistants.resolve(rt, assistant_id)
    raw = request.query_params.get("xray") or "false"
    xray: bool | int
    if raw.lower() in ("true", "false"):
        xray = raw.lower() == "true"
    else:
        try:
            xray = int(raw)
        except ValueError:
            raise InvalidInput("xray must be a boolean or a positive integer") from None
        if xray <= 0:
            raise InvalidInput("xray must be a boolean or a positive integer")
    return json_response(await graph_drawing(rt, assistant, xray))


@router.get("/assistants/{assistant_id}/schemas")
async def get_schemas(assistant_id: str, request: Request) -> Response:
    rt = runtime(request)
    return json_response(await graph_schemas(rt, await assistants.resolve(rt, assistant_id)))


@router.get("/assistants/{assistant_id}/subgraphs")
async def get_subgraphs(assistant_id: str, request: Request) -> Response:
    rt = runtime(request)
    assistant = await assistants.resolve(rt, assistant_id)
    return json_response(await subgraph_schemas(rt, assistant, None, query_bool(request, "recurse")))


@router.get("/assistants/{assistant_id}/subgraphs/{namespace}")
async def get_subgraphs_ns(assistant_id: str, namespace: str, request: Request) -> Response:
    rt = runtime(request)
    assistant = await assistants.resolve(rt, assistant_id)
    return json_response(await subgraph_schemas(rt, assistant, namespace, query_bool(request, "recurse")))
