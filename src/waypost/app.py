"""The ASGI app: the API's routers, and a lifespan that runs the process's services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from waypost import __version__
from waypost.api import assistants, errors, inbox, inbox_page, meta, runs, streams, threads
from waypost.api.authn import Authentication
from waypost.api.cors import Cors
from waypost.api.limits import BodyLimit
from waypost.api.request_ids import RequestIds
from waypost.config import HttpSection
from waypost.project import Project, load_project
from waypost.services import services
from waypost.settings import Settings

log = logging.getLogger("waypost")


def create_app(settings: Settings, project: Project | None = None) -> FastAPI:
    """Build the app. `project` is normally pre-loaded (the CLI does, to fail fast on bad
    configs); without it the routes are the defaults and the config loads at start."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = project or load_project(settings)
        async with services(settings, loaded) as rt:
            app.state.runtime = rt
            log.info("waypost %s serving graphs %s", __version__, ", ".join(loaded.graphs.specs))
            yield

    http = project.config.http if project is not None else HttpSection()
    meta_on = "meta" not in http.disabled
    app = FastAPI(
        title="Waypost",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/openapi.json" if meta_on else None,
        docs_url="/docs" if meta_on else None,
        redoc_url=None,
    )
    errors.install(app)
    groups = {
        "meta": [meta.router] if meta_on else [meta.liveness],
        "assistants": [assistants.router],
        "threads": [threads.router, streams.thread_router],
        "runs": [runs.router, streams.router],
        "inbox": [inbox.router],
        "inbox_page": [inbox_page.router],
    }
    for group, routers in groups.items():
        if group not in http.disabled or group == "meta":
            for router in routers:
                app.include_router(router)
    if project is not None and project.app is not None:
        app.mount("/", project.app)  # after the API's routes: it serves what they do not
    # Outermost last: CORS answers preflights before anything asks for credentials; requests
    # are authenticated before their bodies are read.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Authentication, router=app.router, custom_routes_open=not http.custom_route_auth)
    app.add_middleware(Cors, policy=http.cors)
    app.add_middleware(RequestIds)
    if project is not None and project.config.auth is not None and project.config.auth.openapi:
        _document_security(app, project.config.auth.openapi)
    return app


def _document_security(app: FastAPI, security: dict[str, Any]) -> None:
    """auth.openapi from langgraph.json: the security schemes the OpenAPI document states."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        doc = base()
        if "securitySchemes" in security:
            doc.setdefault("components", {})["securitySchemes"] = security["securitySchemes"]
        if "security" in security:
            doc["security"] = security["security"]
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
