"""/ok and /info."""

from __future__ import annotations

import logging
from importlib.metadata import version

from fastapi import APIRouter, Request
from fastapi.responses import Response

from waypost import __version__
from waypost.api.http import Flag, json_response, runtime

router = APIRouter(tags=["meta"])
# /ok alone, for http.disable_meta (which also makes it skip its checks).
liveness = APIRouter(tags=["meta"])
log = logging.getLogger("waypost.api")


@liveness.get("/ok", include_in_schema=False)
@liveness.get("/", include_in_schema=False)
async def bare_ok() -> Response:
    return json_response({"ok": True})


@router.get("/ok")
@router.get("/", include_in_schema=False)
async def ok(request: Request, check_db: Flag = False) -> Response:
    """Liveness; with check_db=1 also the database and the broker (503 naming the one down)."""
    if check_db:
        rt = runtime(request)
        for name, ping in (("database", rt.storage.ping), ("broker", rt.broker.ping)):
            try:
                reachable = await ping()
            except Exception as exc:
                log.warning("/ok?check_db: the %s is not reachable: %s", name, exc)
                reachable = False
            if not reachable:
                return json_response({"detail": f"the {name} is not reachable"}, status_code=503)
    return json_response({"ok": True})


@router.get("/info")
async def info() -> Response:
    return json_response(
        {
            "version": __version__,
            "server": "waypost",
            "langgraph_py_version": version("langgraph"),
            "flags": {
                "assistants": True,
                "crons": False,
                "langsmith": False,
                "langsmith_tracing_replicas": False,
                "langsmith_tracing_session_on_runs": False,
            },
            "host": {
                "kind": "self-hosted",
                "project_id": None,
                "host_revision_id": None,
                "revision_id": None,
                "tenant_id": None,
            },
        }
    )
