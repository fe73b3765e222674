"""SSE endpoints: stream a new run, join a run's stream, follow a whole thread."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from waypost import serde
from waypost.api.http import body_doc, check_uuid, parse_body, query_bool, query_list, runtime, thread_uuid
from waypost.api.schemas import RunCreate
from waypost.api.sse import SSE_HEADERS, event_stream
from waypost.errors import InvalidInput, WaypostError
from waypost.models import INFLIGHT, Run
from waypost.operations import runs, threads
from waypost.runtime import Runtime

router = APIRouter(tags=["streams"])

THREAD_STREAM_MODES = {"run_modes", "lifecycle", "state_update"}


def _sse(body: Any, headers: dict[str, str]) -> StreamingResponse:
    return StreamingResponse(body, media_type="text/event-stream", headers={**SSE_HEADERS, **headers})


def _canceller(rt: Runtime, run: Run, queue: Any, cancel: bool) -> Any:
    async def on_close(finished: bool) -> None:
        rt.broker.unsubscribe(run.run_id, queue)
        if cancel and not finished:
            try:
                await runs.cancel(rt, run.thread_id, run.run_id, "interrupt")
            except WaypostError:
                pass  # it ended meanwhile

    return on_close


async def _stream_new_run(request: Request, thread_id: str | None) -> Response:
    body = await parse_body(request, RunCreate)
    rt = runtime(request)
    payload = body.model_dump(exclude_unset=True)
    run = await runs.create(rt, thread_id, payload)
    # Subscribe before yielding to the event loop: the worker can't have started the run yet,
    # so no event is missed.
    replay, queue = rt.broker.subscribe(run.run_id)
    rt.broker.publish(run.run_id, "metadata", serde.dumps({"run_id": run.run_id, "attempt": 1}))
    path = f"/threads/{run.thread_id}/runs/{run.run_id}"
    headers = {"Location": f"{path}/stream", "Content-Location": path if thread_id else f"/runs/{run.run_id}"}
    cancel = payload.get("on_disconnect") == "cancel"
    return _sse(
        event_stream(
            replay, queue, resumable=bool(payload.get("stream_resumable")), on_close=_canceller(rt, run, queue, cancel)
        ),
        headers,
    )


@router.post("/threads/{thread_id}/runs/stream", openapi_extra=body_doc(RunCreate))
async def stream_run(thread_id: str, request: Request) -> Response:
    return await _stream_new_run(request, thread_uuid(thread_id))


@router.post("/runs/stream", openapi_extra=body_doc(RunCreate))
async def stream_stateless_run(request: Request) -> Response:
    return await _stream_new_run(request, None)


@router.get("/threads/{thread_id}/runs/{run_id}/stream")
async def join_stream(thread_id: str, run_id: str, request: Request) -> Response:
    rt = runtime(request)
    run = await runs.get(rt, thread_uuid(thread_id), check_uuid(run_id, "run ID"))
    resumable = bool(run.kwargs.get("resumable"))
    if run.status in INFLIGHT:
        rt.broker.open_run(run.run_id, run.thread_id, resumable)  # e.g. after a restart
    last = request.headers.get("last-event-id")
    replay, queue = rt.broker.subscribe(run.run_id, after=last if resumable else None)
    path = f"/threads/{run.thread_id}/runs/{run.run_id}"
    return _sse(
        event_stream(
            replay,
            queue,
            resumable=resumable,
            modes=query_list(request, "stream_mode"),
            on_close=_canceller(rt, run, queue, query_bool(request, "cancel_on_disconnect")),
        ),
        {"Location": f"{path}/stream", "Content-Location": path},
    )


@router.get("/threads/{thread_id}/stream")
async def thread_stream(thread_id: str, request: Request) -> Response:
    rt = runtime(request)
    tid = thread_uuid(thread_id)
    await threads.get(rt, tid)
    modes = set(query_list(request, "stream_mode") or query_list(request, "stream_modes") or ["run_modes"])
    if unknown := modes - THREAD_STREAM_MODES:
        raise InvalidInput(f"unknown thread stream modes: {', '.join(sorted(unknown))}")
    queue = rt.broker.subscribe_thread(tid)
    wanted = (
        None
        if "run_modes" in modes
        else (["metadata"] if "lifecycle" in modes else []) + (["state_update"] if "state_update" in modes else [])
    )

    async def on_close(finished: bool) -> None:
        rt.broker.unsubscribe_thread(tid, queue)

    return _sse(event_stream([], queue, resumable=False, modes=wanted, on_close=on_close), {})
