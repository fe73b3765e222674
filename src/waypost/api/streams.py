"""SSE endpoints: stream a new run, join a run's stream, follow a whole thread."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from waypost.api.access import thread_access
from waypost.api.http import Flag, Listed, body_doc, parse_body, runtime
from waypost.api.runs import accept_run
from waypost.api.schemas import RunCreate, StreamModeName, ThreadStreamMode, Uuid
from waypost.api.sse import SSE_HEADERS, event_stream
from waypost.broker import EndOfStream, StreamEvent, Subscription
from waypost.errors import WaypostError
from waypost.models import INFLIGHT, Run
from waypost.operations import runs, threads
from waypost.runtime import Runtime

router = APIRouter(tags=["streams"])
# The thread's own stream belongs with the threads routes (http.disable_threads removes it).
thread_router = APIRouter(tags=["streams"])

StreamModes = Annotated[list[StreamModeName] | None, Listed, Query(description="only these modes (default: all)")]
ThreadStreamModes = Annotated[list[ThreadStreamMode] | None, Listed, Query(description="default: run_modes")]
# The SDKs send stream_mode; the reference server reads stream_modes.
ThreadStreamModesAlias = Annotated[list[ThreadStreamMode] | None, Listed, Query(description="same as stream_mode")]


def _sse(body: Any, headers: dict[str, str]) -> StreamingResponse:
    return StreamingResponse(body, media_type="text/event-stream", headers={**SSE_HEADERS, **headers})


def _canceller(rt: Runtime, run: Run, cancel: bool) -> Any:
    async def on_close(finished: bool) -> None:
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
    run = await accept_run(request, thread_id, payload, streamed=True)
    # From the start of the run's stream: whatever the worker (here or in another process)
    # publishes before this subscription is in place, its metadata event first, is replayed,
    # not missed. If the broker is down, the subscription says so as the stream's error event.
    sub = await rt.broker.subscribe(run.run_id, after="0")
    path = f"/threads/{run.thread_id}/runs/{run.run_id}"
    headers = {"Location": f"{path}/stream", "Content-Location": path if thread_id else f"/runs/{run.run_id}"}
    cancel = payload.get("on_disconnect") == "cancel"
    return _sse(
        event_stream(sub, resumable=bool(payload.get("stream_resumable")), on_close=_canceller(rt, run, cancel)),
        headers,
    )


@router.post("/threads/{thread_id}/runs/stream", openapi_extra=body_doc(RunCreate))
async def stream_run(thread_id: Uuid, request: Request) -> Response:
    return await _stream_new_run(request, thread_id)


@router.post("/runs/stream", openapi_extra=body_doc(RunCreate))
async def stream_stateless_run(request: Request) -> Response:
    return await _stream_new_run(request, None)


@router.get("/threads/{thread_id}/runs/{run_id}/stream")
async def join_stream(
    thread_id: Uuid,
    run_id: Uuid,
    request: Request,
    stream_mode: StreamModes = None,
    cancel_on_disconnect: Flag = False,
) -> Response:
    rt = runtime(request)
    access = await thread_access(request, "read", thread_id, run_id=uuid.UUID(run_id))
    run = await runs.get(rt, thread_id, run_id, access)
    resumable = bool(run.kwargs.get("resumable"))
    last = request.headers.get("last-event-id")
    sub = await rt.broker.subscribe(run.run_id, after=last if resumable else None)
    if run.status not in INFLIGHT:
        sub = _Replay(sub)  # nothing live will come: what is retained, then the end
    path = f"/threads/{run.thread_id}/runs/{run.run_id}"
    return _sse(
        event_stream(
            sub,
            resumable=resumable,
            modes=list(stream_mode) if stream_mode else None,
            on_close=_canceller(rt, run, cancel_on_disconnect),
        ),
        {"Location": f"{path}/stream", "Content-Location": path},
    )


@thread_router.get("/threads/{thread_id}/stream")
async def thread_stream(
    thread_id: Uuid,
    request: Request,
    stream_mode: ThreadStreamModes = None,
    stream_modes: ThreadStreamModesAlias = None,
) -> Response:
    rt = runtime(request)
    await threads.get(rt, thread_id, await thread_access(request, "read", thread_id))
    modes = set(stream_mode or stream_modes or ["run_modes"])
    sub = await rt.broker.subscribe_thread(thread_id)
    wanted = (
        None
        if "run_modes" in modes
        else (["metadata"] if "lifecycle" in modes else []) + (["state_update"] if "state_update" in modes else [])
    )
    return _sse(event_stream(sub, resumable=False, modes=wanted), {})


class _Replay(Subscription):
    """A finished run's stream: the events still retained, then its end, without waiting on
    a live stream that may have been forgotten already."""

    def __init__(self, sub: Subscription) -> None:
        self._sub = sub

    async def next(self, wait_s: float) -> StreamEvent | None:
        item = await self._sub.next(0)
        if item is None:
            raise EndOfStream
        return item

    async def close(self) -> None:
        await self._sub.close()
