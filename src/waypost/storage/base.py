"""The one storage interface. Operations call it; nothing else touches the database.

`Storage.transaction()` yields a `Tx`: every read and write inside one `async with` is one
database transaction. Every state change is a conditional statement that reports whether it
applied (a run is completed only by the worker holding it, a cancel only lands on a run in
the state it expects, an answer only claims an unanswered interrupt), so the rules in
`operations/` hold with any number of processes, not because of a process-wide lock.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver

from waypost.auth.filters import Condition
from waypost.auth.users import ANONYMOUS
from waypost.models import (
    Assistant,
    AuditEntry,
    CancelAction,
    Delivery,
    InterruptStatus,
    PendingInterrupt,
    Plan,
    Run,
    Thread,
    Timer,
)

# Notices between processes, sent by a transaction when it commits: "work" (a run may be
# claimable), "run_ended" (payload: waiters.ended_notice; its end is recorded, waiters may read it),
# "due" (a timer or a delivery was added: the scheduler looks again).
Notice = Literal["work", "run_ended", "due"]


@dataclass(frozen=True, slots=True)
class ThreadFilter:
    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    status: str | None = None
    ids: list[str] | None = None
    # What the caller may see (authorization filters on metadata), ANDed with the rest.
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True, slots=True)
class RunSetting:
    """What executing or queueing a run reads first, in one statement: its thread and its
    assistant (None for either that does not exist), and whether a state update holds the
    thread (lock_thread_state), when no run may start on it."""

    thread: Thread | None
    assistant: Assistant | None
    state_held: bool = False


@dataclass(frozen=True, slots=True)
class Ended:
    """A held run's end, applied (finish_run, end_cancelled_run, drop_held_run)."""

    # Runs still queued or running on its thread, as the statement that ended it saw them.
    others_inflight: bool
    # Its thread's interrupt rows in play (interrupts_in_play: the pending ones, and those the
    # run's checkpoint still holds, whatever their state; oldest first), read with the end: the
    # caller holds the thread's row, so they are as they stay until it commits.
    interrupts: list[PendingInterrupt]


@dataclass(frozen=True, slots=True)
class RunTimes:
    """Delayed runs as the scheduler sees them at one moment of the database's clock."""

    became_due: bool  # a pending run became runnable in (since, now]
    next_at: str | None  # the earliest pending run not runnable yet
    now: str  # the database's time: the next look's `since`


@dataclass(frozen=True, slots=True)
class InterruptFilter:
    """Which interrupts the inbox lists. `metadata` is matched against their threads'."""

    status: InterruptStatus | None = "pending"  # None: any
    graph_id: str | None = None
    assistant_id: str | None = None
    thread_id: str | None = None
    interrupt_id: str | None = None
    metadata: dict[str, Any] | None = None
    assignee: str | None = None
    deadline_before: str | None = None
    created_after: str | None = None
    conditions: tuple[Condition, ...] = ()  # what the caller may see, on thread metadata

    @property
    def needs_threads(self) -> bool:
        return bool(self.metadata) or bool(self.conditions)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    thread_id: str | None = None
    interrupt_id: str | None = None
    identity: str | None = None
    event: str | None = None
    since: str | None = None
    until: str | None = None
    after_seq: int | None = None  # entries after this one (an export reads on from here)
    newest_first: bool = False
    # What the caller may see: entries of threads whose metadata meets these.
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True, slots=True)
class AssistantFilter:
    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None
    conditions: tuple[Condition, ...] = ()


def split_conditions(conditions: tuple[Condition, ...]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Conditions as two JSON objects a query can pair with metadata by key: exact matches,
    and lists that must hold every value given."""
    required = {c.key: c.value for c in conditions if c.op == "eq"}
    contains = {c.key: c.value for c in conditions if c.op == "contains"}
    return required, contains


@dataclass(frozen=True, slots=True)
class Page:
    limit: int = 10
    offset: int = 0
    sort_by: str | None = None
    sort_order: str | None = None


@dataclass(frozen=True, slots=True)
class ThreadState:
    """What a run's end (or a state update) writes onto its thread, in one statement."""

    values: Any
    interrupts: dict[str, list[dict[str, Any]]]
    status: str
    error: Any
    at_breakpoint: bool
    updated_at: str
    # Keys merged into the thread's metadata with the state (a shallow merge, as
    # merge_thread_metadata), in the same statement on PostgreSQL.
    metadata_patch: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Lease:
    """A renewed lease: the holder keeps the run; `cancel_action` is a cancel to honour."""

    cancel_action: CancelAction | None


class Tx(abc.ABC):
    @abc.abstractmethod
    def notify(self, channel: Notice, payload: str = "") -> None:
        """Send a notice to every process's listeners once this transaction commits (none if
        it rolls back). A notice only says "look": a lost one costs latency, not truth."""

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
    async def insert_thread(self, t: Thread) -> bool:
        """Insert the thread; False (and nothing written) if its id exists."""

    @abc.abstractmethod
    async def get_thread(self, thread_id: str, *, for_update: bool = False) -> Thread | None:
        """The thread; `for_update` also locks its row until the transaction ends, so the
        checks made on it hold until our writes commit (PostgreSQL `FOR UPDATE`)."""

    @abc.abstractmethod
    async def run_setting(self, thread_id: str, assistant_id: str, *, for_update: bool = False) -> RunSetting:
        """A thread and an assistant in one read, and whether a state update holds the
        thread. for_update locks the thread's row as get_thread."""

    @abc.abstractmethod
    async def merge_thread_metadata(self, thread_id: str, patch: dict[str, Any], now: str) -> Thread | None:
        """Merge `patch` into the thread's metadata in one statement; the updated thread."""

    @abc.abstractmethod
    async def set_thread_status(self, thread_id: str, status: str, now: str) -> None: ...

    @abc.abstractmethod
    async def record_thread_state(self, thread_id: str, state: ThreadState) -> None:
        """Write the state a run ended with (or a state update made)."""

    @abc.abstractmethod
    async def lock_thread_state(self, thread_id: str, seconds: float) -> bool:
        """Take the thread for a state update: applies only if no run is in flight on it
        and no other update holds it. The lock expires by itself (a crashed updater)."""

    @abc.abstractmethod
    async def unlock_thread_state(self, thread_id: str) -> None: ...

    @abc.abstractmethod
    async def delete_thread(self, thread_id: str, *, keep_runs: bool = False) -> bool:
        """Delete the thread with its interrupts, and its runs unless `keep_runs` (a
        stateless run's thread goes when it ends; its run stays readable for its waiters)."""

    @abc.abstractmethod
    async def search_threads(self, f: ThreadFilter, page: Page) -> tuple[list[Thread], int]: ...

    # runs
    @abc.abstractmethod
    async def insert_run(self, r: Run) -> None: ...

    @abc.abstractmethod
    async def get_run(self, run_id: str) -> Run | None: ...

    @abc.abstractmethod
    async def delete_finished_run(self, run_id: str) -> bool:
        """Delete a run that is not pending or running; False if it is in flight or gone."""

    @abc.abstractmethod
    async def list_runs(self, thread_id: str, status: str | None, page: Page) -> list[Run]: ...

    @abc.abstractmethod
    async def inflight_runs(self, thread_id: str) -> list[Run]:
        """Pending and running runs of a thread, oldest first."""

    @abc.abstractmethod
    async def runs_by_status(self, statuses: list[str]) -> list[Run]:
        """Runs in any of the statuses, across threads, oldest first."""

    # the run queue and the lifecycle of a held run
    @abc.abstractmethod
    async def claim_runs(self, worker_id: str, lease_s: float, limit: int) -> list[Run]:
        """Take up to `limit` of the oldest runnable pending runs: `running`, attempt + 1,
        held by worker_id for lease_s seconds. Runnable: due, no running run and no older
        pending run on its thread, the thread not held by a state update. Also saves the
        writes of the checkpoints each run will continue from, once per run, for an exact
        rollback. Atomic by itself: safe in autocommit() as in a transaction."""

    @abc.abstractmethod
    async def insert_started_run(self, r: Run, worker_id: str, lease_s: float) -> None:
        """Insert a run already claimed, as claim_runs would leave it (`running`, attempt 1,
        held by worker_id for lease_s seconds, what a rollback needs saved), for a caller
        that holds the thread's row and saw it runnable: no run in flight on it, no state
        update holding it, the run due now and answering the thread's interrupts if it
        continues from its checkpoints (those answers are what the rollback keeps)."""

    @abc.abstractmethod
    async def run_times(self, since: str) -> RunTimes:
        """Delayed pending runs (after_seconds) as the scheduler needs them: whether one became
        runnable after `since` (a time this returned as `now` before), and when the next one
        will; by the database's clock."""

    @abc.abstractmethod
    async def renew_lease(self, run_id: str, attempt: int, worker_id: str, lease_s: float) -> Lease | None:
        """Extend the holder's lease; None if the run is no longer held by this attempt."""

    @abc.abstractmethod
    async def finish_run(
        self, run_id: str, attempt: int, status: str, output: Any, now: str, *, waiting: list[str]
    ) -> Ended | None:
        """running -> status, only by the holding attempt and only if no cancel was asked
        meanwhile. None: not applied (the lease was lost, or a cancel landed first). When it
        applies, what claim_runs saved for the run's rollback is forgotten with it (as by
        discard_saved_writes); so do end_cancelled_run and drop_held_run. The caller holds
        the thread's row (get_thread for_update), so Ended.others_inflight stays true.
        `waiting`: the interrupts the run's checkpoint still holds (Ended.interrupts)."""

    @abc.abstractmethod
    async def end_cancelled_run(
        self, run_id: str, attempt: int, output: Any, now: str, *, waiting: list[str]
    ) -> Ended | None:
        """running -> interrupted for a cancel (interrupt), by the holding attempt."""

    @abc.abstractmethod
    async def drop_held_run(self, run_id: str, attempt: int, *, waiting: list[str]) -> Ended | None:
        """Delete a running run, by the holding attempt (a rollback)."""

    @abc.abstractmethod
    async def release_run(self, run_id: str, attempt: int, worker_id: str) -> bool:
        """running -> pending, by the holder (handing a run back on shutdown)."""

    @abc.abstractmethod
    async def cancel_pending_run(self, run_id: str, now: str) -> bool:
        """pending -> interrupted; False if the run is not pending (claimed meanwhile)."""

    @abc.abstractmethod
    async def drop_pending_run(self, run_id: str) -> bool:
        """Delete a pending run (rollback); False if it is not pending."""

    @abc.abstractmethod
    async def request_cancel(self, run_id: str, action: CancelAction) -> bool:
        """Ask the holder of a running run to stop (a rollback is never downgraded to an
        interrupt); False if the run is not running."""

    @abc.abstractmethod
    async def expire_leases(self, worker_id: str) -> tuple[int, list[Run]]:
        """Runs held by other workers whose lease has lapsed are put back to `pending` (their
        next attempt continues from the last checkpoint); cancelled ones are taken over by
        worker_id instead, to be ended as their cancel asked. Returns how many were queued
        again, and the runs taken over."""

    @abc.abstractmethod
    async def forget_leases(self) -> int:
        """Expire every lease now. Only for a database one process owns (SQLite), at start:
        whoever held those runs is dead."""

    # interrupts
    @abc.abstractmethod
    async def thread_interrupts(self, thread_id: str, *, superseded: bool = False) -> list[PendingInterrupt]:
        """The thread's interrupts, oldest first; superseded ones only if asked. Every one the
        thread ever had: answered ones are kept (the inbox's history)."""

    @abc.abstractmethod
    async def interrupts_in_play(self, thread_id: str, interrupt_ids: list[str]) -> list[PendingInterrupt]:
        """The thread's pending interrupts, and those of `interrupt_ids` whatever their state,
        oldest first: what taking an answer or ending a run looks at, without reading the
        thread's whole history."""

    @abc.abstractmethod
    async def answer_interrupts(
        self, thread_id: str, interrupt_ids: list[str], run_id: str, now: str, answered_by: str = ANONYMOUS
    ) -> int:
        """Claim pending (unanswered, not superseded) interrupts for run_id, recording who
        answered; how many were claimed."""

    @abc.abstractmethod
    async def release_answers(self, thread_id: str, run_id: str, interrupt_ids: list[str] | None = None) -> None:
        """Give back the claims run_id holds (all, or only those listed)."""

    @abc.abstractmethod
    async def supersede_interrupts(self, thread_id: str, run_id: str, *, keep: list[str] | None = None) -> None:
        """Mark the thread's pending interrupts (except `keep`) superseded by run_id."""

    @abc.abstractmethod
    async def restore_superseded(self, thread_id: str, run_id: str, interrupt_ids: list[str] | None = None) -> None:
        """Undo run_id's supersede (all, or only those listed): they are pending again."""

    @abc.abstractmethod
    async def upsert_interrupt(self, i: PendingInterrupt) -> None:
        """Record an interrupt a run raised; an id already recorded keeps its claim."""

    @abc.abstractmethod
    async def discard_saved_writes(self, run_id: str) -> None:
        """Forget what claim_runs saved for a rollback (the run has ended; ending a held run
        does this already)."""

    # the inbox
    @abc.abstractmethod
    async def search_interrupts(self, f: InterruptFilter, page: Page) -> list[PendingInterrupt]:
        """A page of interrupts, by `created_at` (default) or `deadline` (none last)."""

    @abc.abstractmethod
    async def count_interrupts(self, f: InterruptFilter, limit: int | None = None) -> int:
        """How many interrupts match, counting no further than `limit` (every one when None):
        a count equal to `limit` means at least that many."""

    @abc.abstractmethod
    async def interrupts_by_id(self, interrupt_id: str, *, for_update: bool = False) -> list[PendingInterrupt]:
        """Every interrupt with this id: one, unless a thread was copied with it.
        `for_update` also locks their rows until the transaction ends (as get_thread)."""

    @abc.abstractmethod
    async def set_plan(self, thread_id: str, interrupt_id: str, plan: Plan, version: int) -> PendingInterrupt | None:
        """Replace a pending interrupt's plan, only from `version` (its plan_version when
        read), which goes up by one; None when it did not apply (the interrupt is no
        longer pending, or its plan changed meanwhile)."""

    @abc.abstractmethod
    async def expire_interrupt(self, thread_id: str, interrupt_id: str, version: int, now: str) -> bool:
        """pending -> expired, only at plan `version`."""

    @abc.abstractmethod
    async def set_timer(self, t: Timer) -> None:
        """Schedule t, replacing a timer of the same kind on the same interrupt."""

    @abc.abstractmethod
    async def drop_timer(self, timer_id: str) -> None: ...

    @abc.abstractmethod
    async def take_timer(self, t: Timer) -> bool:
        """Delete the timer as it was read; True for exactly one caller, who fires it."""

    @abc.abstractmethod
    async def due_timers(self, limit: int) -> list[Timer]:
        """Timers due now, earliest first."""

    @abc.abstractmethod
    async def next_timer_at(self) -> str | None: ...

    @abc.abstractmethod
    async def add_delivery(self, d: Delivery) -> None: ...

    @abc.abstractmethod
    async def claim_deliveries(self, hold_s: float, limit: int) -> list[Delivery]:
        """Take due deliveries for one attempt each (attempts + 1); nobody else takes them
        for hold_s seconds, after which a sender that died is replaced."""

    @abc.abstractmethod
    async def settle_delivery(
        self, d: Delivery, status: str, next_attempt_at: str, error: str | None, now: str
    ) -> bool:
        """Record the attempt `d.attempts`: delivered, failed for good, or pending again at
        next_attempt_at. False when another sender took the delivery meanwhile."""

    @abc.abstractmethod
    async def abandon_attempts(self, last_error: str) -> list[Delivery]:
        """End every attempt still in progress (claimed, not settled) and make its delivery due
        now; the deliveries. Only for a process that knows no other one is sending: after a
        crash of the only process, rather than waiting for the dead attempts' holds to lapse."""

    @abc.abstractmethod
    async def next_delivery_at(self) -> str | None: ...

    @abc.abstractmethod
    async def get_delivery(self, delivery_id: str) -> Delivery | None: ...

    @abc.abstractmethod
    async def append_audit(self, e: AuditEntry) -> None: ...

    @abc.abstractmethod
    async def search_audit(self, f: AuditFilter, limit: int, offset: int = 0) -> list[AuditEntry]: ...


class Storage(abc.ABC):
    """A database: Waypost's tables plus langgraph's checkpointer on the same database."""

    @abc.abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Tx]: ...

    def autocommit(self) -> AbstractAsyncContextManager[Tx]:
        """A Tx whose statements each commit on their own, without a transaction block around
        them: for one statement (each is atomic by itself), or reads that need no snapshot in
        common. Saves a client-server database the BEGIN and COMMIT round trips. Not for row
        locks (they end with their statement). Notices go out at the end, as
        from a transaction that committed. By default, a transaction."""
        return self.transaction()

    @property
    @abc.abstractmethod
    def checkpointer(self) -> BaseCheckpointSaver[Any]: ...

    @abc.abstractmethod
    def listen(self, channel: Notice, callback: Callable[[str], None]) -> None:
        """Call `callback(payload)` for every notice on `channel`, from any process."""

    @property
    def single_process(self) -> bool:
        """True when one process owns the database (SQLite): leases of runs found running at
        start belong to a dead process."""
        return False

    @abc.abstractmethod
    async def rollback_checkpoints(self, thread_id: str, run_id: str) -> None:
        """Undo a run in the checkpointer, in one transaction: delete the checkpoints it
        wrote, and put back the writes it added to the checkpoints it continued from (as
        claim_runs saved them). Safe to repeat."""

    @abc.abstractmethod
    async def migrate(self) -> list[str]:
        """Apply missing migrations under a lock; return the names applied. Opening the
        storage has applied them already: see applied_on_open."""

    # The migrations this storage applied as it opened (none if the database was up to date).
    applied_on_open: list[str] = []

    @abc.abstractmethod
    async def __aenter__(self) -> Storage: ...

    @abc.abstractmethod
    async def __aexit__(self, *exc: object) -> None: ...

    async def ping(self) -> bool:
        async with self.transaction() as tx:
            await tx.get_thread("00000000-0000-0000-0000-000000000000")
        return True
