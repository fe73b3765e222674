"""/threads: create, read, patch, delete, search, count, copy, state, history."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from waypost.api.access import authorize
from waypost.api.http import (
    Flag,
    LimitQuery,
    Listed,
    body_doc,
    json_response,
    page_response,
    parse_body,
    runtime,
)
from waypost.api.runs import thread_access
from waypost.api.schemas import (
    Checkpoint,
    HistoryRequest,
    StateAtCheckpoint,
    StateField,
    StateUpdate,
    ThreadCount,
    ThreadCreate,
    ThreadPatch,
    ThreadSearch,
    Uuid,
)
from waypost.operations import threads
from waypost.storage.base import Page, ThreadFilter

router = APIRouter(tags=["threads"])

StateSelect = Annotated[list[StateField] | None, Listed, Query(description="ThreadState fields, or values.<key>")]


def _search_value(body: ThreadSearch | ThreadCount) -> dict[str, Any]:
    """A search as the search handler sees it."""
    fields = body.model_dump(include={"metadata", "values", "status", "limit", "offset", "ids"})
    return {**fields, "metadata": dict(body.metadata or {})}


@router.post("/threads", openapi_extra=body_doc(ThreadCreate))
async def create_thread(request: Request) -> Response:
    body = await parse_body(request, ThreadCreate)
    value: dict[str, Any] = {
        "thread_id": uuid.UUID(body.thread_id) if body.thread_id else None,
        "metadata": dict(body.metadata or {}),
        "if_exists": body.if_exists or "raise",
    }
    await authorize(request, "threads", "create", value)  # may stamp an owner into the metadata
    thread = await threads.create(runtime(request), body.thread_id, value.get("metadata"), value["if_exists"])
    return json_response(thread.as_dict())


@router.post("/threads/search", openapi_extra=body_doc(ThreadSearch))
async def search_threads(request: Request) -> Response:
    body = await parse_body(request, ThreadSearch, empty_ok=True)
    access = await authorize(request, "threads", "search", _search_value(body))
    found, total = await threads.search(
        runtime(request),
        ThreadFilter(
            metadata=body.metadata, values=body.values, status=body.status, ids=body.ids, conditions=access.conditions
        ),
        Page(body.limit, body.offset, body.sort_by, body.sort_order),
    )
    rows = [t.as_dict() for t in found]
    return page_response(rows, body.select, total, body.offset)


@router.post("/threads/count", openapi_extra=body_doc(ThreadCount))
async def count_threads(request: Request) -> Response:
    body = await parse_body(request, ThreadCount, empty_ok=True)
    access = await authorize(request, "threads", "search", _search_value(body))
    total = await threads.count(
        runtime(request),
        ThreadFilter(metadata=body.metadata, values=body.values, status=body.status, conditions=access.conditions),
    )
    return json_response(total)


@router.get("/threads/{thread_id}")
async def get_thread(thread_id: Uuid, request: Request) -> Response:
    thread = await threads.get(runtime(request), thread_id, await thread_access(request, "read", thread_id))
    return json_response(thread.as_dict())


@router.patch("/threads/{thread_id}", openapi_extra=body_doc(ThreadPatch))
async def patch_thread(thread_id: Uuid, request: Request) -> Response:
    body = await parse_body(request, ThreadPatch, empty_ok=True)
    value: dict[str, Any] = {"thread_id": uuid.UUID(thread_id), "metadata": dict(body.metadata or {})}
    access = await authorize(request, "threads", "update", value)
    thread = await threads.update(runtime(request), thread_id, value.get("metadata"), access)
    if "return=minimal" in request.headers.get("prefer", ""):
        return Response(status_code=204)
    return json_response(thread.as_dict())


@router.delete("/threads/{thread_id}", status_code=204)
async def delete_thread(thread_id: Uuid, request: Request) -> Response:
    await threads.delete(runtime(request), thread_id, await thread_access(request, "delete", thread_id))
    return Response(status_code=204)


@router.post("/threads/{thread_id}/copy")
async def copy_thread(thread_id: Uuid, request: Request) -> Response:
    rt = runtime(request)
    source = await threads.get(rt, thread_id, await thread_access(request, "read", thread_id))
    # The copy is created like any thread: the create handler may stamp it as the caller's.
    target_id = str(uuid.uuid4())
    value: dict[str, Any] = {"thread_id": uuid.UUID(target_id), "metadata": dict(source.metadata), "if_exists": "raise"}
    await authorize(request, "threads", "create", value)
    thread = await threads.copy(rt, thread_id, target_id=target_id, metadata=value.get("metadata"))
    return json_response(thread.as_dict())


@router.get("/threads/{thread_id}/state")
async def get_state(thread_id: Uuid, request: Request, subgraphs: Flag = False, select: StateSelect = None) -> Response:
    access = await thread_access(request, "read", thread_id)
    state = await threads.get_state(runtime(request), thread_id, subgraphs=subgraphs, select=select, access=access)
    return json_response(state)


@router.get("/threads/{thread_id}/state/{checkpoint_id}")
async def get_state_at(
    thread_id: Uuid, checkpoint_id: str, request: Request, subgraphs: Flag = False, select: StateSelect = None
) -> Response:
    state = await threads.get_state(
        runtime(request),
        thread_id,
        subgraphs=subgraphs,
        checkpoint={"checkpoint_id": checkpoint_id},
        select=select,
        access=await thread_access(request, "read", thread_id),
    )
    return json_response(state)


@router.post("/threads/{thread_id}/state/checkpoint", openapi_extra=body_doc(StateAtCheckpoint))
async def post_state_at(thread_id: Uuid, request: Request) -> Response:
    body = await parse_body(request, StateAtCheckpoint)
    state = await threads.get_state(
        runtime(request),
        thread_id,
        subgraphs=body.subgraphs,
        checkpoint=body.checkpoint.selector(),
        select=body.select,
        access=await thread_access(request, "read", thread_id),
    )
    return json_response(state)


@router.post("/threads/{thread_id}/state", openapi_extra=body_doc(StateUpdate))
async def update_state(thread_id: Uuid, request: Request) -> Response:
    body = await parse_body(request, StateUpdate)
    checkpoint = body.checkpoint.selector() if body.checkpoint else {}
    if body.checkpoint_id:
        checkpoint["checkpoint_id"] = body.checkpoint_id
    access = await thread_access(request, "update", thread_id)
    result = await threads.update_state(
        runtime(request), thread_id, body.values, body.as_node, checkpoint or None, access
    )
    return json_response(result)


async def _history(request: Request, thread_id: str, body: HistoryRequest) -> Response:
    states = await threads.history(
        runtime(request),
        thread_id,
        limit=body.limit,
        before=body.before.selector() if isinstance(body.before, Checkpoint) else body.before,
        metadata=body.metadata,
        checkpoint=body.checkpoint.selector() if body.checkpoint else None,
        access=await thread_access(request, "read", thread_id),
    )
    return json_response(states)


@router.post("/threads/{thread_id}/history", openapi_extra=body_doc(HistoryRequest))
async def post_history(thread_id: Uuid, request: Request) -> Response:
    return await _history(request, thread_id, await parse_body(request, HistoryRequest, empty_ok=True))


@router.get("/threads/{thread_id}/history")
async def get_history(
    thread_id: Uuid,
    request: Request,
    limit: LimitQuery = 10,
    before: Annotated[str, Query(description="a checkpoint id: only older states")] = "",
) -> Response:
    return await _history(request, thread_id, HistoryRequest(limit=limit, before=before or None))
