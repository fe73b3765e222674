"""The ASGI app. Its lifespan composes storage, graphs, broker and worker with an
AsyncExitStack, so shutdown runs in reverse order."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from waypost import __version__
from waypost.api import assistants, errors, meta, runs, streams, threads
from waypost.api.limits import BodyLimit
from waypost.broker import MemoryBroker
from waypost.graphs import GraphRegistry, load_graphs
from waypost.operations.assistants import register_system_assistants
from waypost.runtime import Runtime
from waypost.settings import Settings
from waypost.storage import open_storage
from waypost.worker.pool import Worker
from waypost.worker.webhooks import WebhookSender

log = logging.getLogger("waypost")


def create_app(settings: Settings, graphs: GraphRegistry | None = None) -> FastAPI:
    """Build the app. `graphs` may be pre-loaded (the CLI does, to fail fast on bad configs)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            registry = graphs or load_graphs(settings.config_path)
            storage = await stack.enter_async_context(open_storage(settings.database_url))
            registry.attach(storage.checkpointer)
            broker = await stack.enter_async_context(MemoryBroker())
            rt = Runtime(settings=settings, storage=storage, graphs=registry, broker=broker)
            storage.listen("run_ended", rt.waiters.ended)
            await register_system_assistants(rt)
            webhooks = await stack.enter_async_context(WebhookSender(f"http://{settings.host}:{settings.port}"))
            await stack.enter_async_context(Worker(rt, settings.workers, webhooks, grace_s=settings.drain_seconds))
            app.state.runtime = rt
            log.info("waypost %s serving graphs %s", __version__, ", ".join(registry.specs))
            yield

    app = FastAPI(title="Waypost", version=__version__, lifespan=lifespan)
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    for module in (meta, assistants, threads, runs, streams):
        app.include_router(module.router)
    return app
