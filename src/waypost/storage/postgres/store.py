"""PostgreSQL storage: for several Waypost processes on one database.

One psycopg AsyncConnectionPool serves Waypost's transactions and langgraph's own
AsyncPostgresSaver (saver.py: without its process-wide lock): their tables share one database
and schema (the URL's search_path). Every transaction is one pooled connection inside
`conn.transaction()`; every state change is one conditional statement whose row count or
RETURNING says whether it applied, so the rules hold across processes. Times that decide
something (due runs, leases, holds) are the database's.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, nullcontext
from typing import Any

import psycopg
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg import errors
from psycopg.rows import DictRow
from psycopg_pool import AsyncConnectionPool

from waypost.auth.users import ANONYMOUS
from waypost.errors import StorageError
from waypost.models import Assistant, AuditEntry, CancelAction, Delivery, PendingInterrupt, Plan, Run, Thread, Timer
from waypost.storage import rows
from waypost.storage.base import (
    AssistantFilter,
    AuditFilter,
    Ended,
    InterruptFilter,
    Lease,
    Notice,
    Page,
    RunSetting,
    RunTimes,
    Storage,
    ThreadFilter,
    ThreadState,
    Tx,
)
from waypost.storage.postgres import driver, migrate
from waypost.storage.postgres.listener import PREFIX, Listener, channel_prefix
from waypost.storage.postgres.saver import PooledPostgresSaver
from waypost.storage.rows import json_text
from waypost.storage.sql import (
    ASSISTANT_SORT,
    INTERRUPT_STATUS,
    TAKEOVER_LEASE_S,
    THREAD_SORT,
    by_deadline,
    deadline_orders,
    fill,
    interrupt_order,
    load_queries,
    order_by,
)

log = logging.getLogger("waypost.storage")

DEFAULT_MAX_POOL_SIZE = 20
# Notices whose listeners take a repeat as a no-op (a run's waiters are resolved once): heard
# in this process as its transaction commits, then again from PostgreSQL. A waiting
# runs/wait answers a round trip sooner. ("work" would cost every worker a second claim.)
HEARD_AT_COMMIT: frozenset[Notice] = frozenset({"run_ended"})

# A claim the unique index runs_one_running refuses (two runs of one thread committed out of
# their seq order, each claimed by a different process) is tried again, on fresh snapshots.
CLAIM_TRIES = 3

# Every notice of a transaction, sent in one statement just before it commits (or with the
# transaction's last writes, see PostgresTx._send_held).
_NOTIFY = (
    "SELECT pg_notify(%(_notice_prefix)s || c, p)"
    " FROM unnest(%(_notice_channels)s::text[], %(_notice_payloads)s::text[]) AS n(c, p)"
)
_TARGET = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@functools.cache  # asked of every held write, for each write held before it
def write_target(sql: str) -> str | None:
    """The table a plain INSERT, UPDATE or DELETE writes; None for any other statement."""
    found = _TARGET.match(sql)
    return found[1].lower() if found else None


@functools.cache
def _combined(writes: tuple[str, ...], notify: bool) -> str:
    """Writes to different tables, and the notices, as one statement: each write a
    data-modifying WITH (PostgreSQL runs each exactly once, whether read or not), its
    placeholders renamed _w<i>_<name> so that the writes' parameters cannot collide."""
    parts = []
    for i, sql in enumerate(writes):
        body = _PLACEHOLDER.sub(rf"%(_w{i}_\1)s", sql.rstrip().removesuffix(";"))
        parts.append(f"_w{i} AS ({body})")
    tail = _NOTIFY if notify else "SELECT 1"
    return f"WITH {', '.join(parts)} {tail}" if parts else tail


def _order(page: Page, allowed: set[str], default: str) -> str:
    return order_by(page, allowed, default, "seq")


def _same(value: Any) -> Any:
    return value  # psycopg decodes JSON columns already (driver.cursor)


class PostgresTx(Tx):
    def __init__(self, cur: driver.Cursor, queries: dict[str, str], prefix: str = PREFIX, *, block: bool) -> None:
        self._cur = cur
        self._q = queries
        self._prefix = prefix
        # In a transaction block, writes whose result nobody reads are held back and sent
        # together (with the notices, at the end) as one statement, when the next statement
        # that reads something goes, or when a held write would write a table already held
        # (two writes of one row in one statement would not both apply). In autocommit mode
        # each statement commits by itself and must go at once.
        self._block = block
        self._held: list[tuple[str, str, dict[str, Any]]] = []
        self.notices: list[tuple[Notice, str]] = []

    def notify(self, channel: Notice, payload: str = "") -> None:
        # Kept until the end of the transaction, then sent inside it (finish):
        # PostgreSQL delivers them when it commits and drops them if it rolls back.
        self.notices.append((channel, payload))

    async def finish(self) -> None:
        """The end of the transaction's statements: the held writes, and the notices."""
        if not self.notices:
            await self._send_held()
            return
        channels, payloads = (list(column) for column in zip(*self.notices, strict=True))
        prefix = self._prefix
        await self._send_held({"_notice_prefix": prefix, "_notice_channels": channels, "_notice_payloads": payloads})

    async def _write(self, name: str, params: dict[str, Any]) -> None:
        """A write whose result is not read: held back in a transaction block."""
        if not self._block:
            await self._exec(name, params)
            return
        table = write_target(self._q[name])
        if any(write_target(sql) == table for _, sql, _ in self._held):
            await self._send_held()
        self._held.append((name, self._q[name], params))

    async def _send_held(self, notices: dict[str, Any] | None = None) -> None:
        held, self._held = self._held, []
        if len(held) == 1 and not notices:
            await self._run(*held[0])
        elif held or notices:
            names = "+".join(name for name, _, _ in held) or "notify"
            params = {f"_w{i}_{k}": v for i, (_, _, p) in enumerate(held) for k, v in p.items()}
            sql = _combined(tuple(sql for _, sql, _ in held), bool(notices))
            await self._run(names, sql, {**params, **(notices or {})})

    async def _run(
        self, name: str, sql: str, params: dict[str, Any], allow: type[psycopg.Error] | None = None
    ) -> driver.Cursor:
        try:
            await self._cur.execute(sql, params)
        except psycopg.Error as exc:
            if allow is not None and isinstance(exc, allow):
                raise
            raise driver.storage_error(f"query {name}", exc) from exc
        return self._cur

    async def _exec(
        self,
        name: str,
        params: dict[str, Any],
        *,
        order: str | None = None,
        lock: str = "",
        parts: dict[str, str] | None = None,
        allow: type[psycopg.Error] | None = None,
    ) -> driver.Cursor:
        sql = self._q[name].replace("{lock}", lock)
        if order is not None:
            sql = sql.replace("{order}", order)
        if parts:
            sql = fill(sql, **parts)
        await self._send_held()
        return await self._run(name, sql, params, allow)

    async def _all(self, name: str, params: dict[str, Any], **how: Any) -> list[DictRow]:
        return await (await self._exec(name, params, **how)).fetchall()

    async def _one(self, name: str, params: dict[str, Any], **how: Any) -> DictRow | None:
        return await (await self._exec(name, params, **how)).fetchone()

    async def _count(self, name: str, params: dict[str, Any]) -> int:
        return (await self._exec(name, params)).rowcount

    async def _search(self, name: str, params: dict[str, Any], page: Page, order: str) -> tuple[list[DictRow], int]:
        """A page of rows and the total match count (a window count rides on each row)."""
        found = await self._all(name, {**params, "limit": page.limit, "offset": page.offset}, order=order)
        if found:
            return found, int(found[0]["total"])
        if page.offset == 0:
            return found, 0
        first = await self._one(name, {**params, "limit": 1, "offset": 0}, order=order)
        return found, int(first["total"]) if first else 0

    # assistants
    async def put_assistant(self, a: Assistant, *, new_version: bool) -> None:
        params = rows.assistant_params(a)
        await self._exec("put_assistant", params)
        if new_version:
            await self._exec("put_assistant_version", params)

    async def get_assistant(self, assistant_id: str) -> Assistant | None:
        row = await self._one("get_assistant", {"assistant_id": assistant_id})
        return rows.assistant(row, _same) if row else None

    async def delete_assistant(self, assistant_id: str) -> bool:
        await self._exec("delete_assistant_versions", {"assistant_id": assistant_id})
        return await self._count("delete_assistant", {"assistant_id": assistant_id}) > 0

    async def search_assistants(self, f: AssistantFilter, page: Page) -> tuple[list[Assistant], int]:
        found, total = await self._search(
            "search_assistants",
            {
                "graph_id": f.graph_id,
                "name": f.name,
                "metadata": json_text(f.metadata or {}),
                **rows.condition_params(f.conditions),
            },
            page,
            _order(page, ASSISTANT_SORT, "created_at"),
        )
        return [rows.assistant(r, _same) for r in found], total

    async def assistant_versions(
        self, assistant_id: str, metadata: dict[str, Any] | None, page: Page
    ) -> list[Assistant]:
        params = {
            "assistant_id": assistant_id,
            "metadata": json_text(metadata or {}),
            "limit": page.limit,
            "offset": page.offset,
        }
        return [rows.assistant(r, _same) for r in await self._all("assistant_versions", params)]

    async def assistant_version(self, assistant_id: str, version: int) -> Assistant | None:
        row = await self._one("assistant_version", {"assistant_id": assistant_id, "version": version})
        return rows.assistant(row, _same) if row else None

    # threads
    async def insert_thread(self, t: Thread) -> bool:
        return await self._count("insert_thread", rows.thread_params(t)) > 0

    async def get_thread(self, thread_id: str, *, for_update: bool = False) -> Thread | None:
        row = await self._one("get_thread", {"thread_id": thread_id}, lock="FOR UPDATE" if for_update else "")
        return rows.thread(row, _same) if row else None

    async def run_setting(self, thread_id: str, assistant_id: str, *, for_update: bool = False) -> RunSetting:
        params = {"thread_id": thread_id, "assistant_id": assistant_id}
        row = await self._one("run_setting", params, lock="FOR UPDATE" if for_update else "")
        assert row is not None  # one row, whatever exists
        return rows.run_setting(row, _same)

    async def merge_thread_metadata(self, thread_id: str, patch: dict[str, Any], now: str) -> Thread | None:
        params = {"thread_id": thread_id, "patch": json_text(patch), "now": now}
        row = await self._one("set_thread_metadata", params)
        return rows.thread(row, _same) if row else None

    async def set_thread_status(self, thread_id: str, status: str, now: str) -> None:
        await self._write("set_thread_status", {"thread_id": thread_id, "status": status, "now": now})

    async def record_thread_state(self, thread_id: str, state: ThreadState) -> None:
        await self._write("record_thread_state", rows.state_params(thread_id, state))

    async def lock_thread_state(self, thread_id: str, seconds: float) -> bool:
        # The thread's row first. A transaction queueing a run holds it (get_thread
        # for_update) until it commits; the conditional update then runs on a snapshot taken
        # after that commit and sees the run. In one statement its snapshot would predate it.
        await self._exec("get_thread", {"thread_id": thread_id}, lock="FOR UPDATE")
        return await self._count("lock_thread_state", {"thread_id": thread_id, "seconds": float(seconds)}) > 0

    async def unlock_thread_state(self, thread_id: str) -> None:
        await self._write("unlock_thread_state", {"thread_id": thread_id})

    async def delete_thread(self, thread_id: str, *, keep_runs: bool = False) -> bool:
        params = {"thread_id": thread_id}
        if not keep_runs:
            await self._exec("delete_thread_runs", params)
        for name in (
            "delete_thread_interrupts",
            "delete_thread_timers",
            "delete_thread_saved_heads",
            "delete_thread_saved_writes",
        ):
            await self._exec(name, params)
        return await self._count("delete_thread", params) > 0

    async def search_threads(self, f: ThreadFilter, page: Page) -> tuple[list[Thread], int]:
        found, total = await self._search(
            "search_threads",
            {
                "status": f.status,
                "ids": f.ids,
                "metadata": json_text(f.metadata or {}),
                "values": json_text(f.values or {}),
                **rows.condition_params(f.conditions),
            },
            page,
            _order(page, THREAD_SORT, "created_at"),
        )
        return [rows.thread(r, _same) for r in found], total

    # runs
    async def insert_run(self, r: Run) -> None:
        await self._write("insert_run", rows.run_params(r))

    async def get_run(self, run_id: str) -> Run | None:
        row = await self._one("get_run", {"run_id": run_id})
        return rows.run(row, _same) if row else None

    async def delete_finished_run(self, run_id: str) -> bool:
        return await self._count("delete_finished_run", {"run_id": run_id}) > 0

    async def list_runs(self, thread_id: str, status: str | None, page: Page) -> list[Run]:
        params = {"thread_id": thread_id, "status": status, "limit": page.limit, "offset": page.offset}
        return [rows.run(r, _same) for r in await self._all("list_runs", params)]

    async def inflight_runs(self, thread_id: str) -> list[Run]:
        return [rows.run(r, _same) for r in await self._all("inflight_runs", {"thread_id": thread_id})]

    async def runs_by_status(self, statuses: list[str]) -> list[Run]:
        return [rows.run(r, _same) for r in await self._all("runs_by_status", {"statuses": statuses})]

    # the queue and held runs: every time that decides is the database's (now() in the SQL)
    async def claim_runs(self, worker_id: str, lease_s: float, limit: int) -> list[Run]:
        # One statement: the claim, and what a rollback of a continuing run needs (see the
        # SQL). In autocommit mode (the worker's) it is a transaction of its own.
        params = {"worker": worker_id, "lease_s": float(lease_s), "limit": limit}
        claimed: list[DictRow] = []
        for _ in range(CLAIM_TRIES):
            try:
                # Inside a transaction block, a savepoint: a claim refused by runs_one_running
                # undoes only itself, and the transaction goes on.
                async with self._savepoint():
                    claimed = await self._all("claim_runs", params, allow=errors.UniqueViolation)
                break
            except errors.UniqueViolation as exc:
                log.info("a claim met another process's claim on the same thread; trying again: %s", exc)
        return [rows.run(r, _same) for r in claimed]

    async def insert_started_run(self, r: Run, worker_id: str, lease_s: float) -> None:
        # Held writes of three tables: they go in one statement with the transaction's others.
        await self._write("insert_started_run", {**rows.run_params(r), "worker": worker_id, "lease_s": float(lease_s)})
        if r.continues_checkpoint:
            await self._write("save_heads", {"run_id": r.run_id, "thread_id": r.thread_id})
            await self._write("save_writes", {"run_id": r.run_id, "thread_id": r.thread_id})

    def _savepoint(self) -> AbstractAsyncContextManager[object]:
        conn = self._cur.connection
        in_block = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
        return conn.transaction() if in_block else nullcontext()

    async def run_times(self, since: str) -> RunTimes:
        row = await self._one("run_times", {"since": since})
        assert row is not None  # an aggregate: always one row
        return RunTimes(became_due=row["became_due"], next_at=row["next_at"], now=row["now"])

    async def renew_lease(self, run_id: str, attempt: int, worker_id: str, lease_s: float) -> Lease | None:
        params = {"run_id": run_id, "attempt": attempt, "worker": worker_id, "lease_s": float(lease_s)}
        row = await self._one("renew_lease", params)
        return Lease(cancel_action=row["cancel_action"]) if row else None

    async def finish_run(
        self, run_id: str, attempt: int, status: str, output: Any, now: str, *, waiting: list[str]
    ) -> Ended | None:
        params = {"run_id": run_id, "attempt": attempt, "status": status, "output": json_text(output), "now": now}
        return await self._ended("finish_run", {**params, "in_play": waiting})

    async def end_cancelled_run(
        self, run_id: str, attempt: int, output: Any, now: str, *, waiting: list[str]
    ) -> Ended | None:
        params = {"run_id": run_id, "attempt": attempt, "output": json_text(output), "now": now}
        return await self._ended("end_cancelled_run", {**params, "in_play": waiting})

    async def drop_held_run(self, run_id: str, attempt: int, *, waiting: list[str]) -> Ended | None:
        return await self._ended("drop_held_run", {"run_id": run_id, "attempt": attempt, "in_play": waiting})

    async def _ended(self, name: str, params: dict[str, Any]) -> Ended | None:
        found = await self._all(name, params)
        if not found:
            return None
        interrupts = [rows.interrupt(r, _same) for r in found if r["interrupt_id"] is not None]
        return Ended(others_inflight=found[0]["others_inflight"], interrupts=interrupts)

    async def release_run(self, run_id: str, attempt: int, worker_id: str) -> bool:
        return await self._count("release_run", {"run_id": run_id, "attempt": attempt, "worker": worker_id}) > 0

    async def cancel_pending_run(self, run_id: str, now: str) -> bool:
        return await self._count("cancel_pending_run", {"run_id": run_id, "now": now}) > 0

    async def drop_pending_run(self, run_id: str) -> bool:
        return await self._count("drop_pending_run", {"run_id": run_id}) > 0

    async def request_cancel(self, run_id: str, action: CancelAction) -> bool:
        return await self._count("request_cancel", {"run_id": run_id, "action": action}) > 0

    async def expire_leases(self, worker_id: str) -> tuple[int, list[Run]]:
        params = {"worker": worker_id, "lease_s": TAKEOVER_LEASE_S}
        requeued = await self._count("expire_leases", params)
        taken = await self._all("take_over_cancelled", params)
        return requeued, [rows.run(r, _same) for r in taken]

    async def forget_leases(self) -> int:
        return await self._count("forget_leases", {})

    # interrupts
    async def thread_interrupts(self, thread_id: str, *, superseded: bool = False) -> list[PendingInterrupt]:
        found = await self._all("thread_interrupts", {"thread_id": thread_id, "superseded": superseded})
        return [rows.interrupt(r, _same) for r in found]

    async def interrupts_in_play(self, thread_id: str, interrupt_ids: list[str]) -> list[PendingInterrupt]:
        found = await self._all("interrupts_in_play", {"thread_id": thread_id, "in_play": interrupt_ids})
        return [rows.interrupt(r, _same) for r in found]

    async def answer_interrupts(
        self, thread_id: str, interrupt_ids: list[str], run_id: str, now: str, answered_by: str = ANONYMOUS
    ) -> int:
        params = {
            "thread_id": thread_id,
            "ids": interrupt_ids,
            "run_id": run_id,
            "now": now,
            "answered_by": answered_by,
        }
        return await self._count("answer_interrupts", params)

    async def release_answers(self, thread_id: str, run_id: str, interrupt_ids: list[str] | None = None) -> None:
        await self._write("release_answers", {"thread_id": thread_id, "run_id": run_id, "ids": interrupt_ids})

    async def supersede_interrupts(self, thread_id: str, run_id: str, *, keep: list[str] | None = None) -> None:
        await self._write("supersede_interrupts", {"thread_id": thread_id, "run_id": run_id, "keep": keep or []})

    async def restore_superseded(self, thread_id: str, run_id: str, interrupt_ids: list[str] | None = None) -> None:
        await self._write("restore_superseded", {"thread_id": thread_id, "run_id": run_id, "ids": interrupt_ids})

    async def upsert_interrupt(self, i: PendingInterrupt) -> None:
        await self._write("upsert_interrupt", rows.interrupt_params(i))

    async def discard_saved_writes(self, run_id: str) -> None:
        await self._exec("discard_saved_writes", {"run_id": run_id})
        await self._exec("discard_saved_heads", {"run_id": run_id})

    # the inbox
    def _interrupt_parts(self, f: InterruptFilter) -> dict[str, str]:
        return {
            "filters": self._q["interrupt_filters"],
            "status": INTERRUPT_STATUS[f.status],
            "threads": self._q["interrupt_threads"] if f.needs_threads else "",
        }

    async def search_interrupts(self, f: InterruptFilter, page: Page) -> list[PendingInterrupt]:
        params = {**rows.interrupt_filter_params(f), "limit": page.limit, "offset": page.offset}
        if by_deadline(page):
            parts = {**self._interrupt_parts(f), **deadline_orders(page, "seq", "seq")}
            found = await self._all(
                "search_interrupts_by_deadline", {**params, "window": page.limit + page.offset}, parts=parts
            )
        else:
            found = await self._all(
                "search_interrupts", params, order=interrupt_order(page, "seq"), parts=self._interrupt_parts(f)
            )
        return [rows.interrupt(r, _same) for r in found]

    async def count_interrupts(self, f: InterruptFilter, limit: int | None = None) -> int:
        params = {**rows.interrupt_filter_params(f), "count_limit": limit}
        row = await self._one("count_interrupts", params, parts=self._interrupt_parts(f))
        return int(row["total"]) if row else 0

    async def interrupts_by_id(self, interrupt_id: str, *, for_update: bool = False) -> list[PendingInterrupt]:
        lock = "FOR UPDATE" if for_update else ""
        found = await self._all("interrupts_by_id", {"interrupt_id": interrupt_id}, lock=lock)
        return [rows.interrupt(r, _same) for r in found]

    async def set_plan(self, thread_id: str, interrupt_id: str, plan: Plan, version: int) -> PendingInterrupt | None:
        params = {"thread_id": thread_id, "interrupt_id": interrupt_id, "version": version, **rows.plan_params(plan)}
        row = await self._one("set_plan", params)
        return rows.interrupt(row, _same) if row else None

    async def expire_interrupt(self, thread_id: str, interrupt_id: str, version: int, now: str) -> bool:
        params = {"thread_id": thread_id, "interrupt_id": interrupt_id, "version": version, "now": now}
        return await self._count("expire_interrupt", params) > 0

    async def set_timer(self, t: Timer) -> None:
        await self._write("set_timer", rows.timer_params(t))

    async def drop_timer(self, timer_id: str) -> None:
        await self._write("drop_timer", {"timer_id": timer_id})

    async def take_timer(self, t: Timer) -> bool:
        return await self._count("take_timer", rows.timer_params(t)) > 0

    async def due_timers(self, limit: int) -> list[Timer]:
        return [rows.timer(r) for r in await self._all("due_timers", {"limit": limit})]

    async def next_timer_at(self) -> str | None:
        row = await self._one("next_timer_at", {})
        return row["at"] if row else None

    async def add_delivery(self, d: Delivery) -> None:
        await self._write("add_delivery", rows.delivery_params(d))

    async def claim_deliveries(self, hold_s: float, limit: int) -> list[Delivery]:
        found = await self._all("claim_deliveries", {"hold_s": hold_s, "limit": limit})
        return [rows.delivery(r, _same) for r in found]

    async def settle_delivery(
        self, d: Delivery, status: str, next_attempt_at: str, error: str | None, now: str
    ) -> bool:
        params = {
            "delivery_id": d.delivery_id,
            "attempt": d.attempts,
            "status": status,
            "next_attempt_at": next_attempt_at,
            "error": error,
            "delivered_at": now if status == "delivered" else None,
        }
        return await self._count("settle_delivery", params) > 0

    async def abandon_attempts(self, last_error: str) -> list[Delivery]:
        return [rows.delivery(r, _same) for r in await self._all("abandon_attempts", {"error": last_error})]

    async def next_delivery_at(self) -> str | None:
        row = await self._one("next_delivery_at", {})
        return row["at"] if row else None

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        row = await self._one("get_delivery", {"delivery_id": delivery_id})
        return rows.delivery(row, _same) if row else None

    async def append_audit(self, e: AuditEntry) -> None:
        await self._write("append_audit", rows.audit_params(e))

    async def search_audit(self, f: AuditFilter, limit: int, offset: int = 0) -> list[AuditEntry]:
        params = {**rows.audit_filter_params(f), "limit": limit, "offset": offset}
        order = "a.seq DESC" if f.newest_first else "a.seq ASC"
        parts = {"threads": self._q["audit_threads"] if f.conditions else ""}
        return [rows.audit(r, _same) for r in await self._all("search_audit", params, order=order, parts=parts)]


class PostgresStorage(Storage):
    def __init__(self, database_url: str, *, max_pool_size: int = DEFAULT_MAX_POOL_SIZE) -> None:
        self.url = database_url
        self.max_pool_size = max_pool_size
        self._queries = load_queries("postgres")
        self._stack = AsyncExitStack()
        self._pool: AsyncConnectionPool[driver.Connection] | None = None
        self._saver: AsyncPostgresSaver | None = None
        self._listener: Listener | None = None
        self._prefix = PREFIX

    async def __aenter__(self) -> PostgresStorage:
        try:
            await self._open()
        except BaseException as exc:
            await self._stack.aclose()
            if isinstance(exc, psycopg.Error):
                # No client is waiting yet: the operator starting Waypost gets the reason.
                log.error("opening the PostgreSQL database failed: %s", exc)
                raise StorageError(f"cannot open the PostgreSQL database: {exc}") from exc
            raise
        return self

    async def _open(self) -> None:
        conn = await driver.connect(self.url)  # fails at once when the database can't be reached
        async with conn:
            pool: AsyncConnectionPool[driver.Connection] = AsyncConnectionPool(
                self.url,
                min_size=1,
                max_size=self.max_pool_size,
                kwargs=driver.CONNECTION_KWARGS,
                configure=driver.configure,
                open=False,
                name="waypost",
            )
            await pool.open(wait=True)
            self._stack.push_async_callback(pool.close)
            self._pool = pool
            self._saver = PooledPostgresSaver(pool)
            self.applied_on_open = await self._migrate(conn)
            self._queries = await _fold_case_where_possible(conn, self._queries)
            self._prefix = await _channel_prefix(conn)
        listener = Listener(self.url, self._prefix)
        await listener.start()
        self._stack.push_async_callback(listener.stop)
        self._listener = listener

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    @property
    def checkpointer(self) -> AsyncPostgresSaver:
        assert self._saver is not None, "storage is not open"
        return self._saver

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        assert self._pool is not None, "storage is not open"
        try:
            async with self._pool.connection() as conn:
                async with conn.transaction():
                    tx = PostgresTx(driver.cursor(conn), self._queries, self._prefix, block=True)
                    yield tx
                    await tx.finish()
                self._heard_here(tx.notices)
        except psycopg.Error as exc:  # taking a connection, BEGIN, COMMIT: a query's own are wrapped already
            raise driver.storage_error("transaction", exc) from exc

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[Tx]:
        # The pool's connections are in autocommit mode: outside conn.transaction() every
        # statement is a transaction of its own, one round trip instead of three.
        assert self._pool is not None, "storage is not open"
        try:
            async with self._pool.connection() as conn:
                tx = PostgresTx(driver.cursor(conn), self._queries, self._prefix, block=False)
                yield tx
                await tx.finish()
            self._heard_here(tx.notices)
        except psycopg.Error as exc:
            raise driver.storage_error("autocommit", exc) from exc

    def _heard_here(self, notices: list[tuple[Notice, str]]) -> None:
        """Committed notices that this process's own listeners hear at once, without waiting
        for PostgreSQL's copy (which comes too, and then finds nothing left to do)."""
        assert self._listener is not None, "storage is not open"
        for channel, payload in notices:
            if channel in HEARD_AT_COMMIT:
                self._listener.deliver(channel, payload)

    def listen(self, channel: Notice, callback: Callable[[str], None]) -> None:
        assert self._listener is not None, "storage is not open"
        self._listener.add(channel, callback)

    async def rollback_checkpoints(self, thread_id: str, run_id: str) -> None:
        # langgraph's tables are in this database: one transaction undoes the run there.
        params = {"thread_id": thread_id, "run_id": run_id}
        async with self.transaction() as tx:
            assert isinstance(tx, PostgresTx)
            for name in (
                "rollback_run_writes",
                "rollback_run_checkpoints",
                "rollback_clear_heads",
                "rollback_restore_writes",
                "discard_saved_writes",
                "discard_saved_heads",
            ):
                await tx._exec(name, params)

    async def migrate(self) -> list[str]:
        try:
            async with await driver.connect(self.url) as conn:
                return await self._migrate(conn)
        except psycopg.Error as exc:
            raise driver.storage_error("migrating", exc) from exc

    async def _migrate(self, conn: driver.Connection) -> list[str]:
        assert self._saver is not None, "storage is not open"
        return await migrate.migrate(conn, self._saver)


async def _channel_prefix(conn: driver.Connection) -> str:
    """Notices of the schema Waypost's tables are in (the URL's search_path)."""
    row = await (await conn.execute("SELECT current_schema() AS s")).fetchone()
    return channel_prefix(row["s"] if row is not None and row["s"] else "public")


async def _fold_case_where_possible(conn: driver.Connection, queries: dict[str, str]) -> dict[str, str]:
    """Name search folds case under ICU's root collation; a server built without ICU has
    none, and then folds as the database's own LC_CTYPE does (only ASCII under "C")."""
    row = await (await conn.execute("SELECT count(*) AS n FROM pg_collation WHERE collname = 'und-x-icu'")).fetchone()
    if row is not None and row["n"]:
        return queries
    log.warning("PostgreSQL has no ICU collation: assistant names fold case as the database's LC_CTYPE does")
    return without_icu(queries)


def without_icu(queries: dict[str, str]) -> dict[str, str]:
    return {name: sql.replace('COLLATE "und-x-icu"', 'COLLATE "default"') for name, sql in queries.items()}
