"""SQLite storage: the embedded default. One file in WAL mode holds everything.

Waypost's own tables are reached through a plain `sqlite3` connection used on the event loop
thread: every transaction here is a handful of microsecond statements with no await between
them, which is cheaper than a thread hop per statement and makes each transaction atomic with
respect to other coroutines too. langgraph's SqliteSaver gets a second connection to the same
file, also used on the loop thread (saver.py). Neither ever holds SQLite's write lock across an
await, so one can never wait on the other: code inside `transaction()` awaits only its Tx.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import re
import sqlite3
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from waypost import serde
from waypost.auth.users import ANONYMOUS
from waypost.errors import ConfigError, StorageError
from waypost.models import (
    Assistant,
    AuditEntry,
    CancelAction,
    Delivery,
    PendingInterrupt,
    Plan,
    Run,
    Thread,
    Timer,
    iso,
    now_iso,
)
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
from waypost.storage.rows import canonical_text, json_text
from waypost.storage.sql import (
    ASSISTANT_SORT,
    INTERRUPT_STATUS,
    TAKEOVER_LEASE_S,
    THREAD_SORT,
    by_deadline,
    deadline_orders,
    fill,
    interrupt_order,
    load_migrations,
    load_queries,
    order_by,
)
from waypost.storage.sqlite.saver import LoopSqliteSaver

log = logging.getLogger("waypost.storage")

BUSY_TIMEOUT_MS = 10_000


def sqlite_path(database_url: str) -> Path:
    if not database_url.startswith("sqlite:///"):
        raise ConfigError(f"SQLite URL must look like sqlite:///path/to/file, got {database_url!r}")
    return Path(database_url.removeprefix("sqlite:///"))


def _order(page: Page, allowed: set[str], default: str) -> str:
    return order_by(page, allowed, default, "rowid")


def _load(value: str | None) -> Any:
    return None if value is None else serde.loads(value)


def _assistant(row: sqlite3.Row) -> Assistant:
    return rows.assistant(row, _load)


def _thread(row: sqlite3.Row) -> Thread:
    return rows.thread(row, _load)


def _run(row: sqlite3.Row) -> Run:
    return rows.run(row, _load)


def _interrupt(row: sqlite3.Row) -> PendingInterrupt:
    return rows.interrupt(row, _load)


class SqliteTx(Tx):
    """One transaction. It takes SQLite's write lock (BEGIN IMMEDIATE) at its first write,
    not before: a transaction that only reads costs no lock and no commit. Reads before that
    write are still consistent with it, since nothing else writes Waypost's tables meanwhile:
    the storage's asyncio lock serializes transactions, their statements never await, and
    one process owns the file."""

    def __init__(self, conn: sqlite3.Connection, queries: dict[str, str], writes: frozenset[str]) -> None:
        self._conn = conn
        self._q = queries
        self._writes = writes
        self.begun = False
        self.notices: list[tuple[Notice, str]] = []

    def notify(self, channel: Notice, payload: str = "") -> None:
        self.notices.append((channel, payload))

    def _begin(self) -> None:
        if not self.begun:
            self._conn.execute("BEGIN IMMEDIATE")
            self.begun = True

    def _exec(
        self, name: str, params: dict[str, Any], order: str | None = None, parts: dict[str, str] | None = None
    ) -> sqlite3.Cursor:
        sql = self._q[name] if order is None else self._q[name].replace("{order}", order)
        if parts:
            sql = fill(sql, **parts)
        if name in self._writes:
            self._begin()
        try:
            return self._conn.execute(sql, params)
        except (sqlite3.Error, OverflowError) as exc:
            # The query and SQLite's words are for the operator's log; a client learns only
            # that storage failed (OverflowError: an integer SQLite cannot bind).
            log.error("query %s failed: %s", name, exc)
            raise StorageError() from exc

    def _search(self, name: str, params: dict[str, Any], page: Page, order: str) -> tuple[list[sqlite3.Row], int]:
        """A page of rows and the total match count (a window count rides on each row)."""
        found = self._exec(name, {**params, "limit": page.limit, "offset": page.offset}, order).fetchall()
        if found:
            return found, int(found[0]["total"])
        if page.offset == 0:
            return found, 0
        first = self._exec(name, {**params, "limit": 1, "offset": 0}, order).fetchone()
        return found, int(first["total"]) if first else 0

    def _one(self, name: str, params: dict[str, Any]) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._exec(name, params).fetchone()
        return row

    # assistants
    async def put_assistant(self, a: Assistant, *, new_version: bool) -> None:
        params = rows.assistant_params(a)
        self._exec("put_assistant", params)
        if new_version:
            self._exec("put_assistant_version", params)

    async def get_assistant(self, assistant_id: str) -> Assistant | None:
        row = self._one("get_assistant", {"assistant_id": assistant_id})
        return _assistant(row) if row else None

    async def delete_assistant(self, assistant_id: str) -> bool:
        self._exec("delete_assistant_versions", {"assistant_id": assistant_id})
        return self._exec("delete_assistant", {"assistant_id": assistant_id}).rowcount > 0

    async def search_assistants(self, f: AssistantFilter, page: Page) -> tuple[list[Assistant], int]:
        found, total = self._search(
            "search_assistants",
            {
                "graph_id": f.graph_id,
                "name": f.name,
                "metadata": canonical_text(f.metadata or {}),
                **rows.condition_params(f.conditions),
            },
            page,
            _order(page, ASSISTANT_SORT, "created_at"),
        )
        return [_assistant(r) for r in found], total

    async def assistant_versions(
        self, assistant_id: str, metadata: dict[str, Any] | None, page: Page
    ) -> list[Assistant]:
        found = self._exec(
            "assistant_versions",
            {
                "assistant_id": assistant_id,
                "metadata": canonical_text(metadata or {}),
                "limit": page.limit,
                "offset": page.offset,
            },
        ).fetchall()
        return [_assistant(r) for r in found]

    async def assistant_version(self, assistant_id: str, version: int) -> Assistant | None:
        row = self._one("assistant_version", {"assistant_id": assistant_id, "version": version})
        return _assistant(row) if row else None

    # threads
    async def insert_thread(self, t: Thread) -> bool:
        return self._exec("insert_thread", rows.thread_params(t)).rowcount > 0

    async def get_thread(self, thread_id: str, *, for_update: bool = False) -> Thread | None:
        # Every SQLite transaction here holds the database's write lock (BEGIN IMMEDIATE),
        # so a plain read already stays true until commit.
        row = self._one("get_thread", {"thread_id": thread_id})
        return _thread(row) if row else None

    async def run_setting(self, thread_id: str, assistant_id: str, *, for_update: bool = False) -> RunSetting:
        # for_update: the transaction holds the write lock already (see get_thread)
        row = self._one("run_setting", {"thread_id": thread_id, "assistant_id": assistant_id, "now": time.time()})
        assert row is not None  # one row, whatever exists
        return rows.run_setting(row, _load)

    async def merge_thread_metadata(self, thread_id: str, patch: dict[str, Any], now: str) -> Thread | None:
        # Read and write under the write lock this transaction holds: atomic. A shallow
        # merge, as the API documents (json_patch would merge nested objects too).
        current = await self.get_thread(thread_id)
        if current is None:
            return None
        row = self._one(
            "set_thread_metadata",
            {"thread_id": thread_id, "metadata": canonical_text({**current.metadata, **patch}), "now": now},
        )
        return _thread(row) if row else None

    async def set_thread_status(self, thread_id: str, status: str, now: str) -> None:
        self._exec("set_thread_status", {"thread_id": thread_id, "status": status, "now": now})

    async def record_thread_state(self, thread_id: str, state: ThreadState) -> None:
        if state.metadata_patch:
            await self.merge_thread_metadata(thread_id, state.metadata_patch, state.updated_at)
        self._exec("record_thread_state", rows.state_params(thread_id, state))

    async def lock_thread_state(self, thread_id: str, seconds: float) -> bool:
        now = time.time()
        cur = self._exec("lock_thread_state", {"thread_id": thread_id, "now": now, "until": now + seconds})
        return cur.rowcount > 0

    async def unlock_thread_state(self, thread_id: str) -> None:
        self._exec("unlock_thread_state", {"thread_id": thread_id})

    async def delete_thread(self, thread_id: str, *, keep_runs: bool = False) -> bool:
        if not keep_runs:
            self._exec("delete_thread_runs", {"thread_id": thread_id})
        for name in (
            "delete_thread_interrupts",
            "delete_thread_timers",
            "delete_thread_saved_heads",
            "delete_thread_saved_writes",
        ):
            self._exec(name, {"thread_id": thread_id})
        return self._exec("delete_thread", {"thread_id": thread_id}).rowcount > 0

    async def search_threads(self, f: ThreadFilter, page: Page) -> tuple[list[Thread], int]:
        found, total = self._search(
            "search_threads",
            {
                "status": f.status,
                "ids": json_text(f.ids),
                "metadata": canonical_text(f.metadata or {}),
                "values": canonical_text(f.values or {}),
                **rows.condition_params(f.conditions),
            },
            page,
            _order(page, THREAD_SORT, "created_at"),
        )
        return [_thread(r) for r in found], total

    # runs
    async def insert_run(self, r: Run) -> None:
        self._exec("insert_run", rows.run_params(r))

    async def get_run(self, run_id: str) -> Run | None:
        row = self._one("get_run", {"run_id": run_id})
        return _run(row) if row else None

    async def delete_finished_run(self, run_id: str) -> bool:
        return self._exec("delete_finished_run", {"run_id": run_id}).rowcount > 0

    async def list_runs(self, thread_id: str, status: str | None, page: Page) -> list[Run]:
        found = self._exec(
            "list_runs",
            {"thread_id": thread_id, "status": status, "limit": page.limit, "offset": page.offset},
        ).fetchall()
        return [_run(r) for r in found]

    async def inflight_runs(self, thread_id: str) -> list[Run]:
        return [_run(r) for r in self._exec("inflight_runs", {"thread_id": thread_id}).fetchall()]

    async def runs_by_status(self, statuses: list[str]) -> list[Run]:
        return [_run(r) for r in self._exec("runs_by_status", {"statuses": json_text(statuses)}).fetchall()]

    # the queue and held runs. SQLite's clock is this process's clock: one process owns the file.
    async def claim_runs(self, worker_id: str, lease_s: float, limit: int) -> list[Run]:
        params = {"now_iso": now_iso(), "now": time.time(), "worker": worker_id, "lease_s": lease_s, "limit": limit}
        runs = [_run(row) for row in self._exec("claim_runs", params).fetchall()]
        for run in runs:
            if run.attempt == 1 and run.continues_checkpoint:
                self._save_heads(run)
        return runs

    async def insert_started_run(self, r: Run, worker_id: str, lease_s: float) -> None:
        params = {**rows.run_params(r), "worker": worker_id, "lease_until": time.time() + lease_s}
        self._exec("insert_started_run", params)
        if r.continues_checkpoint:
            self._save_heads(r)

    def _save_heads(self, run: Run) -> None:
        # In play for this run (as PostgreSQL's claim_runs): pending, or answered by it.
        interrupts = self._in_play(run.thread_id, list(run.answers or {}))
        namespaces = rows.namespaces_answered(interrupts)
        params = {"run_id": run.run_id, "thread_id": run.thread_id, "namespaces": json_text(namespaces)}
        self._exec("save_heads", params)
        self._exec("save_writes", {"run_id": run.run_id})

    async def run_times(self, since: str) -> RunTimes:
        row = self._one("run_times", {"since": since, "now_iso": now_iso()})
        assert row is not None  # an aggregate: always one row
        return RunTimes(became_due=bool(row["became_due"]), next_at=row["next_at"], now=row["now"])

    async def renew_lease(self, run_id: str, attempt: int, worker_id: str, lease_s: float) -> Lease | None:
        row = self._one(
            "renew_lease",
            {"run_id": run_id, "attempt": attempt, "worker": worker_id, "now": time.time(), "lease_s": lease_s},
        )
        return Lease(cancel_action=row["cancel_action"]) if row else None

    async def finish_run(
        self, run_id: str, attempt: int, status: str, output: Any, now: str, *, waiting: list[str]
    ) -> Ended | None:
        params = {"run_id": run_id, "attempt": attempt, "status": status, "output": json_text(output), "now": now}
        return self._ended(run_id, "finish_run", params, waiting)

    async def end_cancelled_run(
        self, run_id: str, attempt: int, output: Any, now: str, *, waiting: list[str]
    ) -> Ended | None:
        params = {"run_id": run_id, "attempt": attempt, "output": json_text(output), "now": now}
        return self._ended(run_id, "end_cancelled_run", params, waiting)

    async def drop_held_run(self, run_id: str, attempt: int, *, waiting: list[str]) -> Ended | None:
        return self._ended(run_id, "drop_held_run", {"run_id": run_id, "attempt": attempt}, waiting)

    def _ended(self, run_id: str, name: str, params: dict[str, Any], waiting: list[str]) -> Ended | None:
        """A held run's end; when it applies, forget what claim_runs saved for its rollback."""
        held = self._exec("get_run", {"run_id": run_id}).fetchone()
        if held is None or self._exec(name, params).rowcount == 0:
            return None
        self._exec("discard_saved_writes", {"run_id": run_id})
        self._exec("discard_saved_heads", {"run_id": run_id})
        others = self._exec("inflight_runs", {"thread_id": held["thread_id"]}).fetchall()
        interrupts = self._in_play(held["thread_id"], waiting)
        return Ended(others_inflight=any(r["run_id"] != run_id for r in others), interrupts=interrupts)

    async def release_run(self, run_id: str, attempt: int, worker_id: str) -> bool:
        params = {"run_id": run_id, "attempt": attempt, "worker": worker_id}
        return self._exec("release_run", params).rowcount > 0

    async def cancel_pending_run(self, run_id: str, now: str) -> bool:
        return self._exec("cancel_pending_run", {"run_id": run_id, "now": now}).rowcount > 0

    async def drop_pending_run(self, run_id: str) -> bool:
        return self._exec("drop_pending_run", {"run_id": run_id}).rowcount > 0

    async def request_cancel(self, run_id: str, action: CancelAction) -> bool:
        return self._exec("request_cancel", {"run_id": run_id, "action": action}).rowcount > 0

    async def expire_leases(self, worker_id: str) -> tuple[int, list[Run]]:
        params = {"worker": worker_id, "now": time.time(), "lease_s": TAKEOVER_LEASE_S}
        requeued = self._exec("expire_leases", params).rowcount
        found = self._exec("take_over_cancelled", params).fetchall()
        return requeued, [_run(r) for r in found]

    async def forget_leases(self) -> int:
        return self._exec("forget_leases", {}).rowcount

    # interrupts
    async def thread_interrupts(self, thread_id: str, *, superseded: bool = False) -> list[PendingInterrupt]:
        found = self._exec("thread_interrupts", {"thread_id": thread_id, "superseded": int(superseded)}).fetchall()
        return [_interrupt(r) for r in found]

    async def interrupts_in_play(self, thread_id: str, interrupt_ids: list[str]) -> list[PendingInterrupt]:
        return self._in_play(thread_id, interrupt_ids)

    def _in_play(self, thread_id: str, interrupt_ids: list[str]) -> list[PendingInterrupt]:
        found = self._exec("interrupts_in_play", {"thread_id": thread_id, "ids": json_text(interrupt_ids)})
        return [_interrupt(r) for r in found.fetchall()]

    async def answer_interrupts(
        self, thread_id: str, interrupt_ids: list[str], run_id: str, now: str, answered_by: str = ANONYMOUS
    ) -> int:
        cur = self._exec(
            "answer_interrupts",
            {
                "thread_id": thread_id,
                "ids": json_text(interrupt_ids),
                "run_id": run_id,
                "now": now,
                "answered_by": answered_by,
            },
        )
        return cur.rowcount

    async def release_answers(self, thread_id: str, run_id: str, interrupt_ids: list[str] | None = None) -> None:
        self._exec("release_answers", {"thread_id": thread_id, "run_id": run_id, "ids": json_text(interrupt_ids)})

    async def supersede_interrupts(self, thread_id: str, run_id: str, *, keep: list[str] | None = None) -> None:
        self._exec("supersede_interrupts", {"thread_id": thread_id, "run_id": run_id, "keep": json_text(keep or [])})

    async def restore_superseded(self, thread_id: str, run_id: str, interrupt_ids: list[str] | None = None) -> None:
        self._exec("restore_superseded", {"thread_id": thread_id, "run_id": run_id, "ids": json_text(interrupt_ids)})

    async def upsert_interrupt(self, i: PendingInterrupt) -> None:
        self._exec("upsert_interrupt", rows.interrupt_params(i))

    async def discard_saved_writes(self, run_id: str) -> None:
        self._exec("discard_saved_writes", {"run_id": run_id})
        self._exec("discard_saved_heads", {"run_id": run_id})

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
            parts = {**self._interrupt_parts(f), **deadline_orders(page, "rowid", "row_order")}
            params["window"] = page.limit + page.offset
            found = self._exec("search_interrupts_by_deadline", params, None, parts)
        else:
            found = self._exec("search_interrupts", params, interrupt_order(page, "rowid"), self._interrupt_parts(f))
        return [_interrupt(r) for r in found.fetchall()]

    async def count_interrupts(self, f: InterruptFilter, limit: int | None = None) -> int:
        params = {**rows.interrupt_filter_params(f), "count_limit": -1 if limit is None else limit}
        row = self._exec("count_interrupts", params, None, self._interrupt_parts(f)).fetchone()
        return int(row["total"])

    async def interrupts_by_id(self, interrupt_id: str, *, for_update: bool = False) -> list[PendingInterrupt]:
        # Transactions are serialized (see SqliteTx): a read stays true until commit.
        return [_interrupt(r) for r in self._exec("interrupts_by_id", {"interrupt_id": interrupt_id}).fetchall()]

    async def set_plan(self, thread_id: str, interrupt_id: str, plan: Plan, version: int) -> PendingInterrupt | None:
        params = {"thread_id": thread_id, "interrupt_id": interrupt_id, "version": version, **rows.plan_params(plan)}
        row = self._one("set_plan", params)
        return _interrupt(row) if row else None

    async def expire_interrupt(self, thread_id: str, interrupt_id: str, version: int, now: str) -> bool:
        params = {"thread_id": thread_id, "interrupt_id": interrupt_id, "version": version, "now": now}
        return self._exec("expire_interrupt", params).rowcount > 0

    async def set_timer(self, t: Timer) -> None:
        self._exec("set_timer", rows.timer_params(t))

    async def drop_timer(self, timer_id: str) -> None:
        self._exec("drop_timer", {"timer_id": timer_id})

    async def take_timer(self, t: Timer) -> bool:
        return self._exec("take_timer", rows.timer_params(t)).rowcount > 0

    async def due_timers(self, limit: int) -> list[Timer]:
        return [rows.timer(r) for r in self._exec("due_timers", {"now": now_iso(), "limit": limit}).fetchall()]

    async def next_timer_at(self) -> str | None:
        row = self._one("next_timer_at", {})
        return row["at"] if row else None

    async def add_delivery(self, d: Delivery) -> None:
        self._exec("add_delivery", rows.delivery_params(d))

    async def claim_deliveries(self, hold_s: float, limit: int) -> list[Delivery]:
        now = datetime.now(UTC)
        params = {
            "now": iso(now),
            "hold_until": iso(now + timedelta(seconds=hold_s)),
            "limit": limit,
        }
        return [rows.delivery(r, _load) for r in self._exec("claim_deliveries", params).fetchall()]

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
        return self._exec("settle_delivery", params).rowcount > 0

    async def abandon_attempts(self, last_error: str) -> list[Delivery]:
        params = {"now": now_iso(), "error": last_error}
        return [rows.delivery(r, _load) for r in self._exec("abandon_attempts", params).fetchall()]

    async def next_delivery_at(self) -> str | None:
        row = self._one("next_delivery_at", {})
        return row["at"] if row else None

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        row = self._one("get_delivery", {"delivery_id": delivery_id})
        return rows.delivery(row, _load) if row else None

    async def append_audit(self, e: AuditEntry) -> None:
        self._exec("append_audit", rows.audit_params(e))

    async def search_audit(self, f: AuditFilter, limit: int, offset: int = 0) -> list[AuditEntry]:
        params = {**rows.audit_filter_params(f), "limit": limit, "offset": offset}
        order = "a.seq DESC" if f.newest_first else "a.seq ASC"
        parts = {"threads": self._q["audit_threads"] if f.conditions else ""}
        return [rows.audit(r, _load) for r in self._exec("search_audit", params, order, parts).fetchall()]


class SqliteStorage(Storage):
    def __init__(self, database_url: str) -> None:
        self.path = sqlite_path(database_url)
        self._queries = load_queries("sqlite")
        self._writes = frozenset(n for n, sql in self._queries.items() if not sql.lstrip().upper().startswith("SELECT"))
        self._lock = asyncio.Lock()
        self._conn: sqlite3.Connection | None = None
        self._saver_conn: sqlite3.Connection | None = None
        self._saver: LoopSqliteSaver | None = None
        self._owner: IO[bytes] | None = None
        self._listeners: dict[Notice, list[Callable[[str], None]]] = defaultdict(list)

    async def __aenter__(self) -> SqliteStorage:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._owner = _claim_file(self.path)
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = sqlite3.Row
        # SQLite's lower() folds ASCII only; names are matched like PostgreSQL's ILIKE would.
        conn.create_function("casefold", 1, lambda v: v.casefold() if isinstance(v, str) else v, deterministic=True)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed transaction survives a process crash (kill -9);
        # only a power loss can cost the last commits.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        self._conn = conn
        self.applied_on_open = await self.migrate()
        # The checkpointer gets its own connection (its transactions commit on their own),
        # used on this thread like ours: see saver.py for why not AsyncSqliteSaver.
        saver_conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        saver_conn.execute("PRAGMA synchronous=NORMAL")
        self._saver_conn = saver_conn
        self._saver = LoopSqliteSaver(saver_conn)
        self._saver.setup()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._saver_conn is not None:
            self._saver_conn.close()
        if self._conn is not None:
            self._conn.close()
        if self._owner is not None:
            self._owner.close()  # releases the flock

    @property
    def checkpointer(self) -> LoopSqliteSaver:
        assert self._saver is not None, "storage is not open"
        return self._saver

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        assert self._conn is not None, "storage is not open"
        async with self._lock:
            tx = SqliteTx(self._conn, self._queries, self._writes)
            try:
                yield tx
            except BaseException:
                if tx.begun:
                    self._conn.execute("ROLLBACK")
                raise
            else:
                if tx.begun:
                    self._conn.execute("COMMIT")
        # After the commit and outside the lock: listeners may start transactions themselves.
        loop = asyncio.get_running_loop()
        for channel, payload in tx.notices:
            for callback in self._listeners[channel]:
                loop.call_soon(callback, payload)

    def listen(self, channel: Notice, callback: Callable[[str], None]) -> None:
        self._listeners[channel].append(callback)  # one process: its own notices are all there are

    @property
    def single_process(self) -> bool:
        return True  # the file lock (_claim_file) admits one process

    async def rollback_checkpoints(self, thread_id: str, run_id: str) -> None:
        # On our connection, in one transaction: langgraph's tables live in the same file.
        params = {"thread_id": thread_id, "run_id": run_id}
        async with self.transaction() as tx:
            assert isinstance(tx, SqliteTx)
            for name in (
                "rollback_run_writes",
                "rollback_run_checkpoints",
                "rollback_clear_heads",
                "rollback_restore_writes",
                "discard_saved_writes",
                "discard_saved_heads",
            ):
                tx._exec(name, params)

    async def migrate(self) -> list[str]:
        assert self._conn is not None, "storage is not open"
        conn = self._conn
        applied: list[str] = []
        async with self._lock:
            conn.execute("BEGIN IMMEDIATE")  # the migration lock: one process migrates at a time
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS waypost_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
                done = {r[0] for r in conn.execute("SELECT name FROM waypost_migrations")}
                for name, sql in load_migrations("sqlite"):
                    if name in done:
                        continue
                    for statement in _statements(sql):
                        conn.execute(statement)
                    conn.execute("INSERT INTO waypost_migrations VALUES (?, ?)", (name, now_iso()))
                    applied.append(name)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return applied


def _claim_file(path: Path) -> IO[bytes]:
    """Embedded mode is one process per database file: its worker takes over runs left
    `running`, which would steal them from a second live process. The lock is taken on the
    database file itself (an flock, which SQLite's own fcntl locks don't touch), so every
    path to it (a symlink, a hard link, a symlinked folder) finds it held. It dies with the
    process, kill -9 included."""
    handle = open(path, "ab")  # creates an empty file, which SQLite takes as a new database
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ConfigError(
            f"{path} is in use by waypost (another process serves it); embedded mode serves one database "
            "from one process"
        ) from None
    return handle


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (executescript would commit our transaction). A
    statement ends with `;` at the end of a line, so a trigger's body (`BEGIN ...; END;`)
    written on one line stays whole."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in re.split(r";[ \t]*$", "\n".join(lines), flags=re.MULTILINE) if s.strip()]
