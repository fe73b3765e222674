"""Small HTTP helpers shared by the routers: body parsing, JSON responses, query parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, BeforeValidator, ValidationError
from pydantic_core import PydanticCustomError

from waypost import serde
from waypost.api.limits import MAX_JSON_DEPTH, MAX_LIMIT, MAX_OFFSET, nul_at, too_deep
from waypost.errors import InvalidInput
from waypost.runtime import Runtime

M = TypeVar("M", bound=BaseModel)


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def describe(exc: ValidationError | RequestValidationError) -> str:
    """One line per problem, `where: what` (where is e.g. `limit`, `query.limit`, `path.thread_id`)."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts) or "Invalid request"


async def read_json(request: Request, *, empty_ok: bool = False) -> Any:
    """The body as JSON whatever the Content-Type (curl -d sends a form type). The one place
    bodies are read: the size limit applies while reading (see limits.BodyLimit) and the
    depth limit here, before anything could store it."""
    raw = await request.body()
    if not raw.strip():
        if not empty_ok:
            raise InvalidInput("Invalid JSON in request body")
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("Invalid JSON in request body") from None
    if too_deep(data):
        raise InvalidInput(f"Request body is nested deeper than {MAX_JSON_DEPTH} levels")
    # JSON can only carry NUL escaped: bodies without the escape need no walk.
    if b"\\u0000" in raw and (at := nul_at(data)) is not None:
        raise InvalidInput(f"{at or 'body'}: cannot contain NUL characters (\\u0000)")
    return data


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe(exc)) from None


async def parse_body(request: Request, model: type[M], *, empty_ok: bool = False) -> M:
    """A JSON object body validated by `model`."""
    data = await read_json(request, empty_ok=empty_ok)
    if not isinstance(data, dict):
        raise InvalidInput("Request body must be a JSON object")
    return validate(model, data)


def json_response(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(serde.dumps(content), status_code=status_code, headers=headers, media_type="application/json")


# --- query parameters, in every form the SDKs send them ------------------------------------


def _flag(value: Any) -> Any:
    # Python's SDK sends `key=` for a None argument; a flag left unset is false.
    return False if value == "" else value


# true/false (Python, JS), 1/0 (JS for wait and cancel_on_disconnect), empty for unset.
Flag = Annotated[bool, BeforeValidator(_flag)]


def _split(values: Any) -> Any:
    """A list in any form the SDKs send: repeated keys (Python, JS 1.x), one JSON array string
    (JS 2.x) or one comma-separated value. Empty values (Python's `stream_mode=` for "all")
    are dropped, and nothing left is None. The items are then validated by the list's type."""
    if not isinstance(values, list):
        return values
    out: list[Any] = []
    for value in values:
        if not isinstance(value, str) or value == "":
            continue
        if value.startswith("["):
            try:
                parsed = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise PydanticCustomError("json_list", "is not a valid JSON list") from None
            out.extend(parsed)
        else:
            out.extend(v for v in value.split(",") if v)
    return out or None


# Marks a `list[...] | None` query parameter as accepting every list form (see _split).
Listed = BeforeValidator(_split)


LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


# --- responses -----------------------------------------------------------------------------


def page_headers(total: int, offset: int, count: int) -> dict[str, str]:
    headers = {"X-Pagination-Total": str(total)}
    if offset + count < total:
        headers["X-Pagination-Next"] = str(offset + count)
    return headers


def page_response(rows: list[dict[str, Any]], select: Sequence[str] | None, total: int, offset: int) -> Response:
    """A search page: rows cut to the `select`ed fields, with the pagination headers."""
    if select:
        rows = [{k: v for k, v in r.items() if k in select} for r in rows]
    return json_response(rows, headers=page_headers(total, offset, len(rows)))


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def body_doc(model: type[BaseModel], *, array: bool = False) -> dict[str, Any]:
    """The OpenAPI request body for a route that parses `model` itself (see parse_body), or a
    JSON array of them. Nested models are written out in place: pydantic's `#/$defs/...`
    references would resolve against the OpenAPI document, which has no `$defs`."""
    schema = model.model_json_schema()
    schema = _inline(schema, schema.get("$defs", {}))
    if array:
        schema = {"type": "array", "items": schema}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
