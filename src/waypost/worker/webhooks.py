"""Webhooks: POST the finished run to the URL given at creation, retried with backoff.

Delivery runs in its own task so a slow or failing receiver never holds a worker slot, and
its failure changes nothing else: the run's status is already committed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from waypost import serde
from waypost.models import now_iso

log = logging.getLogger("waypost.webhooks")

ATTEMPTS = 4
FIRST_BACKOFF_S = 0.5
TIMEOUT_S = 10.0


class WebhookSender:
    def __init__(self, self_url: str, *, headers: dict[str, str] | None = None, disabled: bool = False) -> None:
        self._self_url = self_url  # where a relative "/path" webhook goes: this server
        self._headers = {**(headers or {}), "Content-Type": "application/json"}  # webhooks.headers
        self._disabled = disabled  # http.disable_webhooks: runs go on, nothing is sent
        self._client = httpx.AsyncClient(timeout=TIMEOUT_S)
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> WebhookSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._client.aclose()

    def send(self, url: str, payload: dict[str, Any]) -> None:
        if self._disabled:
            return
        if url.startswith("/"):
            url = self._self_url + url
        task = asyncio.create_task(self._deliver(url, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, payload: dict[str, Any]) -> None:
        delay = FIRST_BACKOFF_S
        for attempt in range(1, ATTEMPTS + 1):
            body = serde.dumps({**payload, "webhook_sent_at": now_iso()})
            try:
                response = await self._client.post(url, content=body, headers=self._headers)
                if response.status_code < 400:
                    return
                problem = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if attempt < ATTEMPTS:
                log.info("webhook %s attempt %d failed (%s); retrying in %.1fs", url, attempt, problem, delay)
                await asyncio.sleep(delay)
                delay *= 2
            else:
                log.warning("webhook %s gave up after %d attempts: %s", url, ATTEMPTS, problem)
