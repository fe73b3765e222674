"""The one storage interface. Operations call it; nothing else touches the database.

`Storage.transaction()` yields a `Tx`: every read and write inside one `async with` is one
database transaction that has taken the write lock up front (SQLite `BEGIN IMMEDIATE`,
PostgreSQL row locks), so the rules in `operations/` can check-then-write safely.
"""

from __future__ import annotations

import abc
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from waypost.models import Assistant, PendingInterrupt, Run, Thread


@dataclass(frozen=True, slots=True)
class ThreadFilter:
    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    status: str | None = None
    ids: list[str] | None = None


@dataclass(frozen=True, slots=True)
class AssistantFilter:
    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    limit: int = 10
    offset: int = 0
    sort_by: str | None = None
    sort_order: str | None = None


class Tx(abc.ABC):
    # assistants
    @abc.abstractmethod
    async def put_assistant(self, a: Assistant, *, new_version: bool) -> None:
        """Insert or replace the assistant; with new_version also record it as a version."""

    @abc.abstractmethod
    async def get_assistant(self, assistant_id: str) -> Assistant | None: ...

    @abc.abstractmethod
    async def delete_assistant(self, assistant_id: str) -> bool: ...

    @abc.abstractmethod
    async def search_assistants(self, f: AssistantFilter, page: Page) -> tuple[list[Assistant], int]: ...

    @abc.abstractmethod
    async def assistant_versions(
        self, assistant_id: str, metadata: dict[str, Any] | None, page: Page
    ) -> list[Assistant]: ...

    @abc.abstractmethod
    async def assistant_version(self, assistant_id: str, version: int) -> Assistant | None: ...

    # threads
    @abc.abstractmethod
    async def insert_thread(self, t: Thread) -> None: ...

    @abc.abstractmethod
    async def get_thread(self, thread_id: str) -> Thread | None: ...

    @abc.abstractmethod
    async def update_thread(self, t: Thread) -> None: ...

    @abc.abstractmethod
    async def delete_thread(self, thread_id: str) -> bool:
        """Delete the thread with its runs and interrupts."""

    @abc.abstractmethod
    async def search_threads(self, f: ThreadFilter, page: Page) -> tuple[list[Thread], int]: ...

    # runs
    @abc.abstractmethod
    async def insert_run(self, r: Run) -> None: ...

    @abc.abstractmethod
    async def get_run(self, run_id: str) -> Run | None: ...

    @abc.abstractmethod
    async def update_run(self, r: Run) -> None: ...

    @abc.abstractmethod
    async def delete_run(self, run_id: str) -> bool: ...

    @abc.abstractmethod
    async def list_runs(self, thread_id: str, status: str | None, page: Page) -> list[Run]: ...

    @abc.abstractmethod
    async def inflight_runs(self, thread_id: str) -> list[Run]:
        """Pending and running runs of a thread, oldest first."""

    @abc.abstractmethod
    async def claim_next_run(self, now: str) -> Run | None:
        """Mark the oldest runnable pending run `running` (attempt + 1) and return it.
        Runnable: available_at <= now, no running run on its thread, no older pending one."""

    @abc.abstractmethod
    async def next_available_at(self, now: str) -> str | None:
        """When the earliest delayed pending run becomes runnable (None: none waits)."""

    @abc.abstractmethod
    async def runs_by_status(self, statuses: list[str]) -> list[Run]:
        """Runs in any of the statuses, across threads, oldest first."""

    @abc.abstractmethod
    async def unanswer_interrupts(self, thread_id: str, run_id: str) -> None:
        """Give back the interrupts run_id had claimed (the run was rolled back)."""

    @abc.abstractmethod
    async def requeue_running(self) -> list[Run]:
        """Put runs left `running` by a dead process back to `pending`; return them."""

    # interrupts
    @abc.abstractmethod
    async def thread_interrupts(self, thread_id: str) -> list[PendingInterrupt]:
        """Every interrupt recorded for the thread that is not superseded, oldest first."""

    @abc.abstractmethod
    async def answer_interrupts(self, thread_id: str, interrupt_ids: list[str], run_id: str, now: str) -> int:
        """Claim unanswered interrupts for run_id; returns how many rows were claimed."""

    @abc.abstractmethod
    async def supersede_interrupts(self, thread_id: str, keep: list[str]) -> None:
        """Mark the thread's unanswered interrupts not in `keep` as superseded."""

    @abc.abstractmethod
    async def upsert_interrupt(self, i: PendingInterrupt) -> None:
        """Record a pending interrupt; an id already recorded keeps its answered state."""


class Storage(abc.ABC):
    """A database: Waypost's tables plus langgraph's checkpointer on the same database."""

    @abc.abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Tx]: ...

    @property
    @abc.abstractmethod
    def checkpointer(self) -> BaseCheckpointSaver[Any]: ...

    @abc.abstractmethod
    async def delete_run_checkpoints(self, thread_id: str, run_id: str) -> None:
        """Remove the checkpoints a run wrote, and the answers it left pending (rollback)."""

    @abc.abstractmethod
    async def migrate(self) -> list[str]:
        """Apply missing migrations under a lock; return the names applied."""

    @abc.abstractmethod
    async def __aenter__(self) -> Storage: ...

    @abc.abstractmethod
    async def __aexit__(self, *exc: object) -> None: ...

    async def ping(self) -> bool:
        async with self.transaction() as tx:
            await tx.get_thread("00000000-0000-0000-0000-000000000000")
        return True
