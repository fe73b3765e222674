"""What a Waypost process runs, composed once: storage, broker, graphs, the system
assistants and, unless the process serves the API only, the worker. Every part is an async
context manager on one AsyncExitStack, so shutdown runs in reverse: the worker drains first.
Both `waypost serve` (the app's lifespan) and `waypost worker` start it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace

from waypost.broker import open_broker
from waypost.operations.assistants import register_system_assistants
from waypost.project import Project
from waypost.runtime import Runtime
from waypost.settings import Settings
from waypost.storage import open_storage
from waypost.worker.delivery import Sender
from waypost.worker.pool import Worker
from waypost.worker.scheduler import Scheduler

log = logging.getLogger("waypost")


@asynccontextmanager
async def services(settings: Settings, project: Project) -> AsyncIterator[Runtime]:
    async with AsyncExitStack() as stack:
        storage = await stack.enter_async_context(
            open_storage(settings.database_url, max_pool_size=settings.db_pool_size)
        )
        project.graphs.attach(storage.checkpointer)
        broker = await stack.enter_async_context(open_broker(settings.redis_url, settings.redis_prefix))
        inbox = replace(
            project.config.inbox,
            base_url=settings.base_url,
            run_webhooks_disabled=project.config.http.disable_webhooks,
        )
        rt = Runtime(
            settings=settings,
            storage=storage,
            graphs=project.graphs,
            broker=broker,
            auth=project.auth,
            config=project.config,
            inbox=inbox,
        )
        storage.listen("run_ended", rt.waiters.ended)
        await register_system_assistants(rt)
        if settings.scaled and settings.redis_url is None:
            log.warning(
                "PostgreSQL without Redis: live streams and cancel signals stay within each process; "
                "run one process, or give every process the same --redis-url"
            )
        if settings.run_worker:
            worker = Worker(rt, settings.workers, lease_s=settings.lease_seconds, grace_s=settings.drain_seconds)
            await stack.enter_async_context(worker)
            rt.starter = worker
            # Entered after the worker, so it stops first: nothing fires while runs drain.
            sender = Sender(rt, static_headers=project.config.webhooks.headers)
            await stack.enter_async_context(Scheduler(rt, worker, sender))
        yield rt
