"""GET /inbox: the inbox page, a person's view of the interrupts waiting for an answer.

Three static files shipped in the package (inbox_page/), no build step. The page holds no data:
it calls the API from the browser with the credentials the person signs in with, so these
routes are public (api/authn.py) and every answer still goes through the API's own checks.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import Response

from waypost.api.http import json_response

router = APIRouter(tags=["inbox"], include_in_schema=False)

PAGE = "index.html"
# The files /inbox/{asset} serves: these names and no others, so no path can reach anything else.
ASSETS = {
    "inbox.js": "text/javascript; charset=utf-8",
    "inbox.css": "text/css; charset=utf-8",
}
# The page only talks to this origin and is never framed: a framed approval page could be
# clicked through by another site (clickjacking).
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@cache
def _file(name: str) -> tuple[bytes, str]:
    """A file's bytes and its entity tag, read once: package data does not change under a process."""
    body = resources.files("waypost").joinpath("inbox_page", name).read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _send(request: Request, name: str, content_type: str, extra: dict[str, str] | None = None) -> Response:
    body, etag = _file(name)
    # no-cache: the browser revalidates on every load, so an upgraded server's page is used at
    # once, and the entity tag keeps that revalidation to a 304.
    headers = {"Cache-Control": "no-cache", "ETag": etag, "X-Content-Type-Options": "nosniff", **(extra or {})}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=content_type, headers=headers)


@router.get("/inbox")
async def inbox_page(request: Request) -> Response:
    return _send(request, PAGE, "text/html; charset=utf-8", PAGE_HEADERS)


@router.get("/inbox/{asset}")
async def inbox_asset(asset: str, request: Request) -> Response:
    content_type = ASSETS.get(asset)
    if content_type is None:
        return json_response({"detail": f"Not found: /inbox/{asset}"}, status_code=404)
    return _send(request, asset, content_type)
