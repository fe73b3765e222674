"""/runs and /threads/{id}/runs: create, wait, join, read, list, delete, cancel."""

from __future__ import annotations

import asyncio
import fnmatch
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from waypost.api.access import authorize, thread_access
from waypost.api.http import (
    Flag,
    LimitQuery,
    OffsetQuery,
    body_doc,
    json_response,
    parse_body,
    read_json,
    runtime,
    validate,
)
from waypost.api.request_ids import STATE_KEY as REQUEST_ID_KEY
from waypost.api.schemas import CancelAction, CancelMany, RunCreate, RunStatus, Uuid
from waypost.errors import InvalidInput
from waypost.models import Origin, Run
from waypost.operations import runs
from waypost.storage.base import Page

router = APIRouter(tags=["runs"])


def _payload(body: RunCreate) -> dict[str, Any]:
    # Only what the client set: defaults are decided by the operation, not by the schema.
    return body.model_dump(exclude_unset=True)


def _location(run: Run) -> str:
    return f"/threads/{run.thread_id}/runs/{run.run_id}"


async def _wait_response(
    request: Request, run: Run, *, cancel_on_disconnect: bool = False, just_created: bool = False
) -> Response:
    """The run's final JSON. A run that ends within the keep-alive interval is answered as
    one plain response (most are: one write instead of a streamed body); a longer one gets
    its headers now and a newline every interval until its JSON, so proxies and clients
    see a live connection. A client asking to cancel on disconnect is streamed from the
    start, which is how its leaving is noticed."""
    rt = runtime(request)
    headers = {"Location": _location(run) + "/join", "Content-Location": _location(run)}
    # Registered before this coroutine first yields: nothing can have ended a run it created.
    signal = rt.waiters.watch(run.run_id) if just_created else None
    ending = asyncio.ensure_future(runs.finished(rt, run, signal))
    if not cancel_on_disconnect:
        done, _ = await asyncio.wait({ending}, timeout=runs.WAIT_KEEPALIVE_S)
        if done:
            return json_response(runs.result_of(ending.result()), headers=headers)
    body = runs.wait_body(rt, run, ending, cancel_on_disconnect=cancel_on_disconnect)
    return StreamingResponse(body, media_type="application/json", headers=headers)


def origin_of(request: Request, identity: str) -> Origin:
    """Who made the request, for the audit log."""
    state = request.scope.get("state", {})
    client = request.client.host if request.client is not None else None
    return Origin(identity=identity, request_id=state.get(REQUEST_ID_KEY), client=client)


async def accept_run(
    request: Request,
    thread_id: str | None,
    payload: dict[str, Any],
    *,
    streamed: bool = False,
    comment: str | None = None,
    via: str = "runs",
) -> Run:
    """Authorize and create a run: the create_run handler sees the run as langgraph_sdk's
    Auth types describe it, may refuse it or narrow which thread it may touch, and what it
    writes into the metadata is kept (and stamped on a thread the run creates)."""
    before = dict(payload.get("metadata") or {})
    value: dict[str, Any] = {
        "thread_id": uuid.UUID(thread_id) if thread_id else None,
        "assistant_id": payload["assistant_id"],
        "run_id": None,
        "status": "pending",
        "metadata": dict(before),
        "prevent_insert_if_inflight": payload.get("multitask_strategy") == "reject",
        "multitask_strategy": payload.get("multitask_strategy") or "enqueue",
        "if_not_exists": payload.get("if_not_exists") or "reject",
        "after_seconds": payload.get("after_seconds") or 0,
        "kwargs": {key: payload.get(key) for key in RUN_KWARGS},
    }
    access = await authorize(request, "threads", "create_run", value)
    metadata = value.get("metadata") or {}
    stamp = {k: v for k, v in metadata.items() if k not in before or before[k] != v}
    payload = {**payload, "metadata": metadata}
    rt = runtime(request)
    headers = None
    if rt.config is not None and rt.config.http.configurable_headers is not None:
        headers = _configurable_headers(request, *rt.config.http.configurable_headers)
    req = runs.RunRequest(
        thread_id=thread_id,
        payload=payload,
        streamed=streamed,
        access=access,
        origin=origin_of(request, access.identity),
        stamp=stamp,
        headers=headers,
        comment=comment,
        via=via,
    )
    return await runs.create(rt, req)


# Never copied into a run's config, whatever http.configurable_headers says: credentials.
SECRET_HEADERS = ("authorization", "cookie", "x-api-key", "proxy-authorization")


def _configurable_headers(request: Request, includes: tuple[str, ...], excludes: tuple[str, ...]) -> dict[str, str]:
    """http.configurable_headers: request headers matching `includes` (and no `excludes`,
    which win) become values of the run's config["configurable"], so a graph can read them."""
    chosen = {}
    for name, value in request.headers.items():
        name = name.lower()
        if name in SECRET_HEADERS or any(fnmatch.fnmatch(name, p.lower()) for p in excludes):
            continue
        if any(fnmatch.fnmatch(name, p.lower()) for p in includes):
            chosen[name] = value
    return chosen


# What a create_run handler sees of the run's arguments.
RUN_KWARGS = ("input", "command", "config", "context", "stream_mode", "interrupt_before", "interrupt_after", "webhook")


@router.post("/threads/{thread_id}/runs", openapi_extra=body_doc(RunCreate))
async def create_run(thread_id: Uuid, request: Request) -> Response:
    body = await parse_body(request, RunCreate)
    run = await accept_run(request, thread_id, _payload(body))
    return json_response(run.as_dict(), headers={"Content-Location": _location(run)})


@router.post("/runs", openapi_extra=body_doc(RunCreate))
async def create_stateless_run(request: Request) -> Response:
    body = await parse_body(request, RunCreate)
    run = await accept_run(request, None, _payload(body))
    return json_response(run.as_dict(), headers={"Content-Location": f"/runs/{run.run_id}"})


@router.post("/threads/{thread_id}/runs/wait", openapi_extra=body_doc(RunCreate))
async def wait_run(thread_id: Uuid, request: Request) -> Response:
    body = await parse_body(request, RunCreate)
    payload = _payload(body)
    run = await accept_run(request, thread_id, payload)
    return await _wait_response(
        request, run, cancel_on_disconnect=payload.get("on_disconnect") == "cancel", just_created=True
    )


@router.post("/runs/wait", openapi_extra=body_doc(RunCreate))
async def wait_stateless_run(request: Request) -> Response:
    body = await parse_body(request, RunCreate)
    payload = _payload(body)
    run = await accept_run(request, None, payload)
    return await _wait_response(
        request, run, cancel_on_disconnect=payload.get("on_disconnect") == "cancel", just_created=True
    )


@router.post("/runs/batch", openapi_extra=body_doc(RunCreate, array=True))
async def create_batch(request: Request) -> Response:
    items = await read_json(request)
    if not isinstance(items, list):
        raise InvalidInput("Request body must be a JSON array of runs")
    bodies = [validate(RunCreate, item) for item in items]
    created = [await accept_run(request, None, _payload(b)) for b in bodies]
    return json_response([r.as_dict() for r in created])


@router.post("/runs/cancel", status_code=204, openapi_extra=body_doc(CancelMany))
async def cancel_runs(request: Request, action: CancelAction = "interrupt") -> Response:
    body = await parse_body(request, CancelMany)
    if body.status is not None and (body.thread_id or body.run_ids):
        raise InvalidInput("give either status, or thread_id with run_ids, not both")
    if body.status is None and not (body.thread_id and body.run_ids):
        raise InvalidInput("give status, or thread_id with run_ids")
    value: dict[str, Any] = {"thread_id": uuid.UUID(body.thread_id) if body.thread_id else None, "action": action}
    await runs.cancel_many(
        runtime(request),
        thread_id=body.thread_id,
        run_ids=body.run_ids,
        status=body.status,
        action=action,
        access=await authorize(request, "threads", "update", value),
    )
    return Response(status_code=204)


@router.get("/threads/{thread_id}/runs")
async def list_runs(
    thread_id: Uuid, request: Request, limit: LimitQuery = 10, offset: OffsetQuery = 0, status: RunStatus | None = None
) -> Response:
    access = await thread_access(request, "read", thread_id)
    found = await runs.list_for_thread(runtime(request), thread_id, status, Page(limit=limit, offset=offset), access)
    return json_response([r.as_dict() for r in found])


@router.get("/threads/{thread_id}/runs/{run_id}")
async def get_run(thread_id: Uuid, run_id: Uuid, request: Request) -> Response:
    access = await thread_access(request, "read", thread_id, run_id=uuid.UUID(run_id))
    run = await runs.get(runtime(request), thread_id, run_id, access)
    return json_response(run.as_dict())


@router.delete("/threads/{thread_id}/runs/{run_id}", status_code=204)
async def delete_run(thread_id: Uuid, run_id: Uuid, request: Request) -> Response:
    access = await thread_access(request, "delete", thread_id, run_id=uuid.UUID(run_id))
    await runs.delete(runtime(request), thread_id, run_id, access)
    return Response(status_code=204)


@router.get("/threads/{thread_id}/runs/{run_id}/join")
async def join_run(thread_id: Uuid, run_id: Uuid, request: Request, cancel_on_disconnect: Flag = False) -> Response:
    access = await thread_access(request, "read", thread_id, run_id=uuid.UUID(run_id))
    run = await runs.get(runtime(request), thread_id, run_id, access)
    return await _wait_response(request, run, cancel_on_disconnect=cancel_on_disconnect)


@router.post("/threads/{thread_id}/runs/{run_id}/cancel")
async def cancel_run(
    thread_id: Uuid, run_id: Uuid, request: Request, wait: Flag = False, action: CancelAction = "interrupt"
) -> Response:
    access = await thread_access(request, "update", thread_id, action=action)
    run = await runs.cancel(runtime(request), thread_id, run_id, action, access)
    if wait:
        return await _wait_response(request, run)
    return Response(status_code=202)
