"""Run state changes that also move the thread: stopping a run, recording how a run ended.

Each takes a transaction and typed inputs, and each run transition is one conditional
statement that says whether it applied, so two processes (a canceller and the worker
holding the run, or two workers after a lease expired) can never both apply theirs.
"""

from __future__ import annotations

from typing import Any, Literal

from waypost.inbox_config import InboxConfig
from waypost.models import CancelAction, PendingInterrupt, Run, RunEnd, Thread
from waypost.operations.interrupts import by_task, give_back, reconcile
from waypost.storage.base import ThreadState, Tx
from waypost.waiters import Ending, ended_notice

Stopped = Literal["stopped", "signalled", "gone"]


def rest_status(pending: list[PendingInterrupt], *, busy: bool, error: object, at_breakpoint: bool) -> str:
    """The status a thread shows: `busy` while a run is in flight; `error` if its last run
    failed; `interrupted` only when a person is awaited (an interrupt to answer, or a static
    breakpoint to look at); `idle` otherwise, a run cancelled mid-node included."""
    if busy:
        return "busy"
    if error is not None:
        return "error"
    if pending or at_breakpoint:
        return "interrupted"
    return "idle"


async def settle_thread(tx: Tx, thread_id: str, now: str) -> None:
    """Show the thread as its rows say, after a run was queued or stopped before it started:
    busy or at rest, and only the interrupts still waiting for an answer."""
    thread = await tx.get_thread(thread_id, for_update=True)
    if thread is None:
        return
    pending = await tx.interrupts_in_play(thread_id, [])
    busy = bool(await tx.inflight_runs(thread_id))
    status = rest_status(pending, busy=busy, error=thread.error, at_breakpoint=thread.at_breakpoint)
    await tx.record_thread_state(
        thread_id,
        ThreadState(
            values=thread.values,
            interrupts=by_task(pending),
            status=status,
            error=thread.error,
            at_breakpoint=thread.at_breakpoint,
            updated_at=now,
        ),
    )


async def mark_busy(
    tx: Tx, thread: Thread, pending: list[PendingInterrupt], now: str, *, metadata_patch: dict[str, Any] | None = None
) -> None:
    """A run was queued: the thread is busy, and lists only `pending`, the interrupts still
    waiting (not those the run claimed or made moot), as the caller's transaction left them;
    `metadata_patch` is merged into its metadata in the same write."""
    await tx.record_thread_state(
        thread.thread_id,
        ThreadState(
            values=thread.values,
            interrupts=by_task(pending),
            status="busy",
            error=thread.error,
            at_breakpoint=thread.at_breakpoint,
            updated_at=now,
            metadata_patch=metadata_patch,
        ),
    )


async def stop_run(tx: Tx, run: Run, action: CancelAction, now: str) -> Stopped:
    """Stop a run wherever it is. A pending run is ended here (interrupted, or deleted for a
    rollback) and gives back what it claimed; a running one gets a stored cancel request
    that its holder honours. A rollback gives the claims back at once: it restores the
    checkpoint exactly, so the answers it carried are pending again either way."""
    if run.status == "pending":
        done = (
            await tx.drop_pending_run(run.run_id)
            if action == "rollback"
            else await tx.cancel_pending_run(run.run_id, now)
        )
        if done:
            await give_back(tx, run.thread_id, run.run_id)
            tx.notify("run_ended", run.run_id)
            return "stopped"
    if await tx.request_cancel(run.run_id, action):
        if action == "rollback":
            await give_back(tx, run.thread_id, run.run_id)
        return "signalled"
    return "gone"


async def record_end(tx: Tx, run: Run, end: RunEnd, now: str, inbox: InboxConfig) -> bool:
    """Record a held run's end, with its thread's state, in one transaction. Applies only
    for the attempt that holds the run; False when it no longer does (its lease expired and
    another worker took over, or the run was deleted), and then nothing is written."""
    # The thread's row first, as queueing a run and a state update take it: the reads below
    # then run after any transaction that queued a run on it has committed, and see that run.
    thread = await tx.get_thread(run.thread_id, for_update=True)
    # Each of these also forgets what claim_runs saved for the run's rollback, and reads the
    # interrupt rows reconcile needs: the pending ones and those the checkpoint still holds.
    waiting = [i.interrupt_id for i in end.pending or []]
    if end.rolled_back:
        ended = await tx.drop_held_run(run.run_id, run.attempt, waiting=waiting)
    elif end.status == "interrupted":
        ended = await tx.end_cancelled_run(run.run_id, run.attempt, end.output, now, waiting=waiting)
    else:
        ended = await tx.finish_run(run.run_id, run.attempt, end.status, end.output, now, waiting=waiting)
    if ended is None:
        return False
    # The end rides on the notice (a rolled-back run is gone: its waiters read that).
    tx.notify("run_ended", ended_notice(run.run_id, None if end.rolled_back else Ending(end.status, end.output)))
    if thread is None:
        tx.notify("work")  # whatever was queued behind it: let the workers look
        return True
    if end.pending is None:  # the graph could not be read: its answers stay as they are
        pending = [i for i in ended.interrupts if i.pending]
    else:
        pending = await reconcile(tx, run.thread_id, run.run_id, end.pending, ended.interrupts, inbox)
    # A rollback puts the thread back as it was before the run, breakpoint and error included.
    error = thread.error if end.rolled_back else end.error
    at_breakpoint = thread.at_breakpoint if end.rolled_back else end.at_breakpoint
    busy = ended.others_inflight
    if busy:
        # A run queued behind this one on its thread may start now. Only then: every
        # worker that hears "work" spends a claim transaction looking, and a run ending
        # unblocks nothing but its own thread's queue (its worker's freed slot is that
        # worker's own business).
        tx.notify("work")
    await tx.record_thread_state(
        run.thread_id,
        ThreadState(
            values=end.values if end.values is not None else thread.values,
            interrupts=by_task(pending),
            status=rest_status(pending, busy=busy, error=error, at_breakpoint=at_breakpoint),
            error=error,
            at_breakpoint=at_breakpoint,
            updated_at=now,
        ),
    )
    return True
