"""/interrupts and /audit: the inbox of pending interrupts across threads, answering one,
changing its plan (assignees, deadline), and the log of who decided what.

Authorization follows the threads the interrupts wait on: listing is a thread search, reading
one or its history a thread read, changing its plan a thread update, and answering it is
creating a run on its thread (the create_run handler sees it like any resume).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from waypost import serde
from waypost.api.access import authorize, thread_access, user_of
from waypost.api.http import LimitQuery, OffsetQuery, body_doc, json_response, page_headers, parse_body, runtime
from waypost.api.runs import accept_run, origin_of
from waypost.api.schemas import (
    InterruptAnswer,
    InterruptPlanPatch,
    InterruptSort,
    InterruptStatusQuery,
    SortOrder,
    Text,
    Uuid,
    nul_in_filter,
)
from waypost.auth.users import ANONYMOUS
from waypost.errors import InvalidInput, WaypostError
from waypost.inbox_config import parse_time
from waypost.models import PendingInterrupt, iso
from waypost.operations import audit, inbox
from waypost.runtime import Runtime
from waypost.storage.base import AuditFilter, InterruptFilter, Page

router = APIRouter(tags=["inbox"])

InterruptIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
ThreadQuery = Annotated[Uuid | None, Query(description="the thread, when the id is on several (a copied thread)")]
EXPORT_BATCH = 500


def _time(value: str | None, name: str) -> str | None:
    """A time filter in the form the rows keep (UTC, six fractional digits): compared as
    text in SQLite, so every spelling of one instant must compare alike."""
    if value is None:
        return None
    when = parse_time(value)
    if when is None:
        raise InvalidInput(f"{name}: expected an ISO 8601 time with its offset, e.g. 2026-01-31T09:00:00Z")
    return iso(when)


def _metadata(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise InvalidInput('metadata: expected a JSON object, e.g. {"team": "ops"}')
    if nul_in_filter(parsed):
        raise InvalidInput("metadata: keys and text values cannot contain NUL characters")
    return parsed


async def _item(request: Request, interrupt_id: str, thread_id: str | None, op: str) -> PendingInterrupt:
    """The interrupt a route names, on a thread the caller may `op` (read, update)."""
    rt = runtime(request)
    found = []
    for item in await inbox.candidates(rt, interrupt_id, thread_id):
        access = await thread_access(request, op, item.thread_id)
        if await inbox.visible(rt, item, access):
            found.append(item)
    return inbox.only(interrupt_id, found)


@router.get("/interrupts")
async def list_interrupts(
    request: Request,
    status: InterruptStatusQuery = "pending",
    graph_id: Text | None = None,
    assistant_id: Text | None = None,
    thread_id: Uuid | None = None,
    metadata: Annotated[str | None, Query(description="JSON object the thread's metadata must hold")] = None,
    assignee: Text | None = None,
    deadline_before: str | None = None,
    created_after: str | None = None,
    sort_by: InterruptSort = "created_at",
    sort_order: SortOrder | None = None,
    limit: LimitQuery = 20,
    offset: OffsetQuery = 0,
) -> Response:
    """Interrupts across threads, newest first unless sorted otherwise (by deadline: soonest
    first, those without one last). Pending ones by default.

    `total` counts the matches exactly while there are at most `offset` + 10,000 of them
    (`total_exact` true). Past that, counting stops: `total_exact` is false, `total` is
    `offset` + 10,000, and more than that many match (the X-Pagination-Total header carries the
    same number, with X-Pagination-Total-Exact: false)."""
    wanted = _metadata(metadata)
    access = await authorize(
        request, "threads", "search", {"metadata": dict(wanted or {}), "status": None, "limit": limit, "offset": offset}
    )
    f = InterruptFilter(
        status=None if status == "any" else status,
        graph_id=graph_id,
        assistant_id=assistant_id,
        thread_id=thread_id,
        metadata=wanted,
        assignee=assignee,
        deadline_before=_time(deadline_before, "deadline_before"),
        created_after=_time(created_after, "created_after"),
        conditions=access.conditions,
    )
    page = Page(limit=limit, offset=offset, sort_by=sort_by, sort_order=sort_order)
    found, total, exact = await inbox.search(runtime(request), f, page)
    body = {
        "interrupts": [i.resource() for i in found],
        "total": total,
        "total_exact": exact,
        "limit": limit,
        "offset": offset,
    }
    headers = page_headers(total, offset, len(found))
    if not exact:
        headers["X-Pagination-Total-Exact"] = "false"
    return json_response(body, headers=headers)


@router.get("/interrupts/{interrupt_id}")
async def get_interrupt(interrupt_id: InterruptIdPath, request: Request, thread_id: ThreadQuery = None) -> Response:
    item = await _item(request, interrupt_id, thread_id, "read")
    return json_response(item.resource())


@router.post("/interrupts/{interrupt_id}/answer", openapi_extra=body_doc(InterruptAnswer))
async def answer_interrupt(interrupt_id: InterruptIdPath, request: Request, thread_id: ThreadQuery = None) -> Response:
    """Answer with the same checks and the same exactly-once rule as a resume through runs
    (409 once answered, 422 for an answer its response_schema or decision shape refuses);
    returns the run the answer started."""
    body = await parse_body(request, InterruptAnswer)
    try:
        item = await _item(request, interrupt_id, thread_id, "read")
    except WaypostError as exc:
        user = user_of(request)
        origin = origin_of(request, user.identity if user is not None else ANONYMOUS)
        await audit.answer_refused(
            runtime(request),
            origin,
            thread_id,
            body.value,
            exc.message,
            status=exc.status,
            comment=body.comment,
            via="inbox",
            interrupt_id=interrupt_id,
        )
        raise
    payload = await inbox.answer_payload(runtime(request), item, body.value)
    run = await accept_run(request, item.thread_id, payload, comment=body.comment, via="inbox")
    return json_response(run.as_dict(), headers={"Content-Location": f"/threads/{run.thread_id}/runs/{run.run_id}"})


@router.patch("/interrupts/{interrupt_id}", openapi_extra=body_doc(InterruptPlanPatch))
async def patch_interrupt(interrupt_id: InterruptIdPath, request: Request, thread_id: ThreadQuery = None) -> Response:
    """Set the deadline, what happens then, the assignees or the reminder lead."""
    body = await parse_body(request, InterruptPlanPatch)
    item = await _item(request, interrupt_id, thread_id, "update")
    user = user_of(request)
    origin = origin_of(request, user.identity if user is not None else ANONYMOUS)
    updated = await inbox.change_plan(runtime(request), item, body.model_dump(exclude_unset=True), origin)
    return json_response(updated.resource())


@router.get("/interrupts/{interrupt_id}/history")
async def interrupt_history(interrupt_id: InterruptIdPath, request: Request, thread_id: ThreadQuery = None) -> Response:
    """Everything the audit log holds about this interrupt, oldest first."""
    item = await _item(request, interrupt_id, thread_id, "read")
    entries = await inbox.history(runtime(request), item)
    return json_response({"interrupt": item.resource(), "entries": [e.as_dict() for e in entries]})


@router.get("/audit")
async def audit_log(
    request: Request,
    thread_id: Uuid | None = None,
    interrupt_id: Text | None = None,
    identity: Text | None = None,
    event: Text | None = None,
    since: str | None = None,
    until: str | None = None,
    sort_order: SortOrder = "desc",
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
    fmt: Annotated[
        str, Query(alias="format", pattern="^(json|jsonl)$", description="jsonl: every match, oldest first")
    ] = "json",
) -> Response:
    """The audit log, filtered by thread, interrupt, identity, event and time. With
    format=jsonl, every matching entry as JSON lines (for export), oldest first."""
    access = await authorize(
        request, "threads", "search", {"metadata": {}, "status": None, "limit": limit, "offset": offset}
    )
    f = AuditFilter(
        thread_id=thread_id,
        interrupt_id=interrupt_id,
        identity=identity,
        event=event,
        since=_time(since, "since"),
        until=_time(until, "until"),
        newest_first=sort_order == "desc",
        conditions=access.conditions,
    )
    rt = runtime(request)
    if fmt == "jsonl":
        return StreamingResponse(_export(rt, f), media_type="application/x-ndjson")
    entries = await inbox.audit_log(rt, f, limit, offset)
    return json_response({"entries": [e.as_dict() for e in entries], "limit": limit, "offset": offset})


async def _export(rt: Runtime, f: AuditFilter) -> AsyncIterator[bytes]:
    after = None
    while True:
        batch = await inbox.audit_log(rt, replace(f, after_seq=after, newest_first=False), EXPORT_BATCH)
        for entry in batch:
            yield serde.dumps(entry.as_dict()) + b"\n"
        if len(batch) < EXPORT_BATCH:
            return
        after = batch[-1].seq
