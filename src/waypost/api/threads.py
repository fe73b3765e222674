"""/threads: create, read, patch, delete, search, count, copy, state, history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

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


@router.post("/threads", openapi_extra=body_doc(ThreadCreate))
async def create_thread(request: Request) -> Response:
    body = await parse_body(request, ThreadCreate)
    thread = await threads.create(runtime(request), body.thread_id, body.metadata, body.if_exists or "raise")
    return json_response(thread.as_dict())


@router.post("/threads/search", openapi_extra=body_doc(ThreadSearch))
async def search_threads(request: Request) -> Response:
    body = await parse_body(request, ThreadSearch, empty_ok=True)
    found, total = await threads.search(
        runtime(request),
        ThreadFilter(metadata=body.metadata, values=body.values, status=body.status, ids=body.ids),
        Page(body.limit, body.offset, body.sort_by, body.sort_order),
    )
    rows = [t.as_dict() for t in found]
    return page_response(rows, body.select, total, body.offset)


@router.post("/threads/count", openapi_extra=body_doc(ThreadCount))
async def count_threads(request: Request) -> Response:
    body = await parse_body(request, ThreadCount, empty_ok=True)
    total = await threads.count(
        runtime(request), ThreadFilter(metadata=body.metadata, values=body.values, status=body.status)
    )
    return json_response(total)


@router.get("/threads/{thread_id}")
async def get_thread(thread_id: Uuid, request: Request) -> Response:
    thread = await threads.get(runtime(request), thread_id)
    return json_response(thread.as_dict())


@router.patch("/threads/{thread_id}", openapi_extra=body_doc(ThreadPatch))
async def patch_thread(thread_id: Uuid, request: Request) -> Response:
    body = await parse_body(request, ThreadPatch, empty_ok=True)
    thread = await threads.update(runtime(request), thread_id, body.metadata)
    if "return=minimal" in request.headers.get("prefer", ""):
        return Response(status_code=204)
    return json_response(thread.as_dict())


@router.delete("/threads/{thread_id}", status_code=204)
async def delete_thread(thread_id: Uuid, request: Request) -> Response:
    await threads.delete(runtime(request), thread_id)
    return Response(status_code=204)


@router.post("/threads/{thread_id}/copy")
async def copy_thread(thread_id: Uuid, request: Request) -> Response:
    thread = await threads.copy(runtime(request), thread_id)
    return json_response(thread.as_dict())


@router.get("/threads/{thread_id}/state")
async def get_state(thread_id: Uuid, request: Request, subgraphs: Flag = False, select: StateSelect = None) -> Response:
    state = await threads.get_state(runtime(request), thread_id, subgraphs=subgraphs, select=select)
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
    )
    return json_response(state)


@router.post("/threads/{thread_id}/state", openapi_extra=body_doc(StateUpdate))
async def update_state(thread_id: Uuid, request: Request) -> Response:
    body = await parse_body(request, StateUpdate)
    checkpoint = body.checkpoint.selector() if body.checkpoint else {}
    if body.checkpoint_id:
        checkpoint["checkpoint_id"] = body.checkpoint_id
    result = await threads.update_state(runtime(request), thread_id, body.values, body.as_node, checkpoint or None)
    return json_response(result)


async def _history(request: Request, thread_id: str, body: HistoryRequest) -> Response:
    states = await threads.history(
        runtime(request),
        thread_id,
        limit=body.limit,
        before=body.before.selector() if isinstance(body.before, Checkpoint) else body.before,
        metadata=body.metadata,
        checkpoint=body.checkpoint.selector() if body.checkpoint else None,
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
