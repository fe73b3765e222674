"""/threads: create, read, patch, delete, search, count, copy, state, history."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from waypost.api.http import (
    body_doc,
    check_select,
    json_response,
    page_response,
    parse_body,
    query_bool,
    query_list,
    runtime,
    thread_uuid,
)
from waypost.api.schemas import (
    HistoryRequest,
    StateAtCheckpoint,
    StateUpdate,
    ThreadCount,
    ThreadCreate,
    ThreadPatch,
    ThreadSearch,
)
from waypost.operations import threads
from waypost.storage.base import Page, ThreadFilter

router = APIRouter(tags=["threads"])

THREAD_FIELDS = {
    "thread_id",
    "created_at",
    "updated_at",
    "state_updated_at",
    "metadata",
    "config",
    "context",
    "status",
    "values",
    "interrupts",
    "error",
}


@router.post("/threads", openapi_extra=body_doc(ThreadCreate))
async def create_thread(request: Request) -> Response:
    body = await parse_body(request, ThreadCreate)
    thread_id = thread_uuid(body.thread_id) if body.thread_id else None
    thread = await threads.create(runtime(request), thread_id, body.metadata, body.if_exists or "raise")
    return json_response(thread.as_dict())


@router.post("/threads/search", openapi_extra=body_doc(ThreadSearch))
async def search_threads(request: Request) -> Response:
    body = await parse_body(request, ThreadSearch, empty_ok=True)
    check_select(body.select, THREAD_FIELDS)
    found, total = await threads.search(
        runtime(request),
        ThreadFilter(
            metadata=body.metadata,
            values=body.values,
            status=body.status,
            ids=[thread_uuid(i) for i in body.ids] if body.ids else None,
        ),
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
async def get_thread(thread_id: str, request: Request) -> Response:
    thread = await threads.get(runtime(request), thread_uuid(thread_id))
    return json_response(thread.as_dict())


@router.patch("/threads/{thread_id}", openapi_extra=body_doc(ThreadPatch))
async def patch_thread(thread_id: str, request: Request) -> Response:
    body = await parse_body(request, ThreadPatch, empty_ok=True)
    thread = await threads.update(runtime(request), thread_uuid(thread_id), body.metadata)
    if "return=minimal" in request.headers.get("prefer", ""):
        return Response(status_code=204)
    return json_response(thread.as_dict())


@router.delete("/threads/{thread_id}", status_code=204)
async def delete_thread(thread_id: str, request: Request) -> Response:
    await threads.delete(runtime(request), thread_uuid(thread_id))
    return Response(status_code=204)


@router.post("/threads/{thread_id}/copy")
async def copy_thread(thread_id: str, request: Request) -> Response:
    thread = await threads.copy(runtime(request), thread_uuid(thread_id))
    return json_response(thread.as_dict())


@router.get("/threads/{thread_id}/state")
async def get_state(thread_id: str, request: Request) -> Response:
    state = await threads.get_state(
        runtime(request),
        thread_uuid(thread_id),
        subgraphs=query_bool(request, "subgraphs"),
        select=query_list(request, "select"),
    )
    return json_response(state)


@router.get("/threads/{thread_id}/state/{checkpoint_id}")
async def get_state_at(thread_id: str, checkpoint_id: str, request: Request) -> Response:
    state = await threads.get_state(
        runtime(request),
        thread_uuid(thread_id),
        subgraphs=query_bool(request, "subgraphs"),
        checkpoint={"checkpoint_id": checkpoint_id},
        select=query_list(request, "select"),
    )
    return json_response(state)


@router.post("/threads/{thread_id}/state/checkpoint", openapi_extra=body_doc(StateAtCheckpoint))
async def post_state_at(thread_id: str, request: Request) -> Response:
    body = await parse_body(request, StateAtCheckpoint)
    state = await threads.get_state(
        runtime(request),
        thread_uuid(thread_id),
        subgraphs=body.subgraphs,
        checkpoint=body.checkpoint,
        select=body.select,
    )
    return json_response(state)


@router.post("/threads/{thread_id}/state", openapi_extra=body_doc(StateUpdate))
async def update_state(thread_id: str, request: Request) -> Response:
    body = await parse_body(request, StateUpdate)
    checkpoint = dict(body.checkpoint or {})
    if body.checkpoint_id:
        checkpoint["checkpoint_id"] = body.checkpoint_id
    result = await threads.update_state(
        runtime(request), thread_uuid(thread_id), body.values, body.as_node, checkpoint or None
    )
    return json_response(result)


async def _history(request: Request, thread_id: str, body: HistoryRequest) -> Response:
    states = await threads.history(
        runtime(request),
        thread_uuid(thread_id),
        limit=body.limit,
        before=body.before,
        metadata=body.metadata,
        checkpoint=body.checkpoint,
    )
    return json_response(states)


@router.post("/threads/{thread_id}/history", openapi_extra=body_doc(HistoryRequest))
async def post_history(thread_id: str, request: Request) -> Response:
    return await _history(request, thread_id, await parse_body(request, HistoryRequest, empty_ok=True))


@router.get("/threads/{thread_id}/history")
async def get_history(thread_id: str, request: Request) -> Response:
    q = request.query_params
    body = HistoryRequest(limit=int(q.get("limit") or 10), before=q.get("before") or None)
    return await _history(request, thread_id, body)
