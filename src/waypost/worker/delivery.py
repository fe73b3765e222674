"""Sending the outbox: each claimed delivery is POSTed, signed, and its attempt recorded.

A delivery is at least once: a sender that dies mid-attempt is replaced once its hold
lapses, so a receiver may see one delivery twice and recognises it by X-Waypost-Delivery
(the same on every attempt). A failed attempt is tried again later (RETRY_AFTER_S), up to
MAX_ATTEMPTS; every attempt's outcome goes into the audit log. Sending runs in tasks of its
own, so a slow receiver never holds up runs or the scheduler.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from waypost import serde, signing
from waypost.models import AuditEntry, Delivery, Origin, iso, now_iso
from waypost.runtime import Runtime

log = logging.getLogger("waypost.delivery")

TIMEOUT_S = 10.0
# Nobody else takes a claimed delivery for this long: more than one attempt can take.
HOLD_S = TIMEOUT_S + 20.0
# The wait after failed attempt n (1-based) before attempt n + 1.
RETRY_AFTER_S = (1.0, 2.0, 5.0, 15.0, 60.0, 300.0, 900.0)
MAX_ATTEMPTS = len(RETRY_AFTER_S) + 1
CONCURRENCY = 8
# Deliveries are recorded in the audit log under this name.
SENDER = Origin(identity="system:notifications")
STOPPED = "the server stopped during the attempt"


class Sender:
    def __init__(self, rt: Runtime, *, static_headers: dict[str, str] | None = None) -> None:
        self.rt = rt
        self._static = dict(static_headers or {})  # langgraph.json webhooks.headers, for run webhooks
        self._client = httpx.AsyncClient(timeout=TIMEOUT_S)
        self._tasks: set[asyncio.Task[None]] = set()
        self.on_free: Callable[[], None] = lambda: None

    @property
    def free(self) -> int:
        return CONCURRENCY - len(self._tasks)

    async def close(self) -> None:
        """Stop sending: attempts cut short are taken up again once their hold lapses."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._client.aclose()

    async def recover(self) -> None:
        """After a crash of the only process: the attempts it had in progress are over (logged
        as such) and their deliveries go out now, not when the dead attempts' holds lapse."""
        async with self.rt.storage.transaction() as tx:
            abandoned = await tx.abandon_attempts(STOPPED)
            for d in abandoned:
                await tx.append_audit(_entry(d, "retrying", STOPPED))
            if abandoned:
                tx.notify("due")

    def start(self, deliveries: list[Delivery]) -> None:
        for d in deliveries:
            task = asyncio.create_task(self._attempt(d), name=f"delivery-{d.delivery_id}")
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self.on_free()

    def _request(self, d: Delivery) -> tuple[str, bytes, dict[str, str]]:
        url = d.url if not d.url.startswith("/") else self.rt.inbox.base_url + d.url  # a path on this server
        body = d.body
        if d.event == "run.ended" and isinstance(body, dict):
            body = {**body, "webhook_sent_at": now_iso()}  # the official run webhook's field
        raw = serde.dumps(body)
        headers = {**(self._static if d.static_headers else {}), "Content-Type": "application/json"}
        headers |= {
            "X-Waypost-Delivery": d.delivery_id,
            "X-Waypost-Event": d.event,
            "X-Waypost-Attempt": str(d.attempts),
        }
        secret = os.environ.get(d.secret_env) if d.secret_env else None
        if secret:
            headers[signing.HEADER] = signing.sign(secret, raw)
        return url, raw, headers

    async def _attempt(self, d: Delivery) -> None:
        url, raw, headers = self._request(d)
        try:
            response = await self._client.post(url, content=raw, headers=headers)
            problem = None if response.status_code < 300 else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        now = datetime.now(UTC)
        if problem is None:
            status, outcome, next_at = "delivered", "delivered", now
        elif d.attempts >= MAX_ATTEMPTS:
            status, outcome, next_at = "failed", "failed", now
        else:
            status, outcome = "pending", "retrying"
            next_at = now + timedelta(seconds=RETRY_AFTER_S[d.attempts - 1])
        stamp = iso(now)
        try:
            async with self.rt.storage.transaction() as tx:
                if await tx.settle_delivery(d, status, iso(next_at), problem, stamp):
                    await tx.append_audit(_entry(d, outcome, problem))
                    if status == "pending":
                        tx.notify("due")
        except Exception:
            log.exception("delivery %s: recording attempt %d failed", d.delivery_id, d.attempts)
            return
        if problem is not None:
            log.info("delivery %s to %s attempt %d: %s (%s)", d.delivery_id, url, d.attempts, problem, outcome)


def _entry(d: Delivery, outcome: str, problem: str | None) -> AuditEntry:
    return AuditEntry(
        event="notification",
        outcome=outcome,
        origin=SENDER,
        thread_id=d.thread_id,
        interrupt_id=d.interrupt_id,
        run_id=d.run_id,
        reason=problem,
        detail={"delivery_id": d.delivery_id, "event": d.event, "url": d.url, "attempt": d.attempts},
    )
