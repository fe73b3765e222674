"""Small HTTP helpers shared by the routers: body parsing, JSON responses, query lists."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from waypost import serde
from waypost.errors import BadRequest, InvalidInput
from waypost.runtime import Runtime

M = TypeVar("M", bound=BaseModel)


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


async def parse_body(request: Request, model: type[M], *, empty_ok: bool = False) -> M:
    """JSON whatever the Content-Type (curl -d sends a form type), validated by `model`."""
    raw = await request.body()
    if not raw.strip():
        if not empty_ok:
            raise InvalidInput("Invalid JSON in request body")
        raw = b"{}"
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("Invalid JSON in request body") from None
    if not isinstance(data, dict):
        raise InvalidInput("Request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe(exc)) from None


def json_response(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(serde.dumps(content), status_code=status_code, headers=headers, media_type="application/json")


def check_uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidInput(f"Invalid {what}: must be a UUID") from None


def thread_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise BadRequest(f"Invalid thread ID {value!r}: must be a UUID") from None


def query_list(request: Request, name: str) -> list[str] | None:
    """A list query parameter in any form the SDKs send: repeated keys, a JSON array string,
    or one comma-separated value. Empty (Python's `stream_mode=` for "all") means none."""
    values = [v for v in request.query_params.getlist(name) if v != ""]
    if not values:
        return None
    out: list[str] = []
    for value in values:
        if value.startswith("["):
            try:
                parsed = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise InvalidInput(f"query parameter {name} is not a valid JSON list") from None
            out.extend(str(v) for v in parsed)
        else:
            out.extend(v for v in value.split(",") if v)
    return out or None


def query_bool(request: Request, name: str, default: bool = False) -> bool:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    return value.lower() in ("1", "true", "yes")


def page_headers(total: int, offset: int, count: int) -> dict[str, str]:
    headers = {"X-Pagination-Total": str(total)}
    if offset + count < total:
        headers["X-Pagination-Next"] = str(offset + count)
    return headers


def check_select(select: list[str] | None, allowed: set[str]) -> None:
    if select and (unknown := set(select) - allowed):
        raise InvalidInput(f"unknown select fields: {', '.join(sorted(unknown))}")


def page_response(rows: list[dict[str, Any]], select: list[str] | None, total: int, offset: int) -> Response:
    """A search page: rows cut to the `select`ed fields, with the pagination headers."""
    if select:
        rows = [{k: v for k, v in r.items() if k in select} for r in rows]
    return json_response(rows, headers=page_headers(total, offset, len(rows)))


def body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body for a route that parses `model` itself (see parse_body)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }
