"""The ASGI app: the API's routers, and a lifespan that runs the process's services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from waypost import __version__
from waypost.api import assistants, errors, meta, runs, streams, threads
from waypost.api.limits import BodyLimit
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

    app = FastAPI(title="Waypost", version=__version__, lifespan=lifespan)
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    for module in (meta, assistants, threads, runs, streams):
        app.include_router(module.router)
    return app
