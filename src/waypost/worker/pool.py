"""The worker pool: claims runs from storage and executes up to `slots` at once.

It sleeps on an event, never a timer on the hot path: creating a run or finishing one wakes
it. A run that stops at an interrupt ends, freeing its slot; the human's answer is a new run.

Each claimed run is *held*: the claim gives this worker a lease that a heartbeat renews, and
every write about the run's end is conditional on still holding it. A cancel is a request
stored on the run; the holder learns of it from the broker at once, or at its next heartbeat
if the signal was lost, and ends the run as asked. Nothing about a run's end depends on an
asyncio task being cancelled at the right moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field

from waypost import serde
from waypost.broker import best_effort
from waypost.logs import run_context
from waypost.models import CancelAction, Run, RunEnd, now_iso
from waypost.operations.notify import run_webhook
from waypost.operations.transitions import record_end
from waypost.runtime import Runtime
from waypost.storage.base import RunSetting
from waypost.worker.executor import Execution, conclude, execute, webhook_payload

log = logging.getLogger("waypost.worker")

# A held run's lease: renewed every LEASE_S / 3; a run whose holder stopped renewing is taken
# over by another process's sweeper once it lapses.
LEASE_S = 6.0
# How often a process looks for lapsed leases (scaled mode; embedded mode owns its file).
SWEEP_S = 1.0
# The fallback look for runs to claim when no notice came.
POLL_S = 5.0
# How long a cancel signal for a run not (yet) held here is remembered: it may arrive between
# another process's claim commit and this worker registering the run.
EARLY_CANCEL_TTL_S = 30.0


@dataclass
class _Held:
    run: Run
    setting: RunSetting | None = None  # the thread and assistant, when queueing read them
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    cancel: CancelAction | None = None
    shutdown: bool = False  # the process is stopping: hand the run back, don't end it
    lost: bool = False  # the lease lapsed: another worker may hold the run now
    renewed_at: float = field(default_factory=time.monotonic)


class Worker:
    def __init__(self, rt: Runtime, slots: int, *, lease_s: float = LEASE_S, grace_s: float = 10.0) -> None:
        self.rt = rt
        self.slots = slots
        self.lease_s = lease_s
        self.grace_s = grace_s
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._held: dict[str, _Held] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._early_cancels: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._background: list[asyncio.Task[None]] = []
        self._draining = False
        # Slots taken for runs being queued in this process (reserve): not free to claim.
        self._reserved = 0
        # The last claim may have left runnable runs behind for want of free slots: a slot
        # freed then is worth a look. Otherwise the queue had nothing more, and whatever is
        # queued since says so with a "work" notice: a freed slot alone claims nothing.
        self._full = False

    async def __aenter__(self) -> Worker:
        if self.rt.storage.single_process:
            # This process owns the database: whoever held runs that are still `running`
            # is dead. Their runs continue from their last checkpoint (attempt + 1).
            async with self.rt.storage.transaction() as tx:
                cut = await tx.forget_leases()
            if cut:
                log.warning("%d run(s) were cut off by a stop; they continue from their last checkpoint", cut)
        await self._sweep()
        self.rt.storage.listen("work", lambda _: self._wake.set())
        self.rt.broker.on_cancel(self._on_cancel)
        self._wake.set()
        self._background.append(asyncio.create_task(self._loop(), name="waypost-worker"))
        if not self.rt.storage.single_process:
            self._background.append(asyncio.create_task(self._sweeper(), name="waypost-sweeper"))
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Drain: claim nothing more, let running runs finish within the grace period, then
        stop the rest and hand them back to the queue (they continue from their last
        checkpoint, here after a restart or in another process)."""
        self._draining = True
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        tasks = list(self._tasks.values())
        if tasks:
            log.info("draining: %d running run(s) may finish within %.0fs", len(tasks), self.grace_s)
            await asyncio.wait(tasks, timeout=self.grace_s)
        for held in self._held.values():
            held.shutdown = True
            held.wake.set()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    # signals
    def wake(self) -> None:
        """Look for runs to claim now (the scheduler calls this when a delayed run is due)."""
        self._wake.set()

    def _on_cancel(self, run_id: str) -> None:
        held = self._held.get(run_id)
        if held is not None:
            held.wake.set()
            return
        now = time.monotonic()
        self._early_cancels = {r: t for r, t in self._early_cancels.items() if now - t < EARLY_CANCEL_TTL_S}
        self._early_cancels[run_id] = now

    # runs started as they are queued here (runtime.RunStarter)
    def reserve(self) -> bool:
        # Not while runs may wait in the queue for a slot here (_full): they go first, and a
        # run queued now takes its turn behind them.
        if self._draining or self._full or self.slots - len(self._held) - self._reserved <= 0:
            return False
        self._reserved += 1
        return True

    def unreserve(self) -> None:
        self._reserved -= 1
        if self._full:
            self._wake.set()  # the slot was kept from a claim that may have wanted it

    def start(self, run: Run, setting: RunSetting) -> None:
        self._reserved -= 1
        self._hold(run, setting)

    # claiming
    async def _loop(self) -> None:
        while True:
            # Woken by notices; and now and then without one, so a run whose notice was lost
            # (a listener reconnecting, a claim that gave up on a race) waits seconds, not forever.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=POLL_S)
            self._wake.clear()
            try:
                await self._fill()
            except Exception:  # a storage hiccup must not kill the worker
                log.exception("claiming runs failed")
                await asyncio.sleep(0.5)
                self._wake.set()

    async def _fill(self) -> None:
        """Claim runs for the free slots in one statement. A delayed run (after_seconds) is
        not runnable before its time; the scheduler wakes this worker then."""
        free = self.slots - len(self._held) - self._reserved
        if free <= 0 or self._draining:
            self._full = True
            return
        # The slots this claim may fill are taken while it is on its way: a run queued here
        # meanwhile must not start in one of them as well.
        self._reserved += free
        try:
            async with self.rt.storage.autocommit() as tx:
                runs = await tx.claim_runs(self.worker_id, self.lease_s, free)
        finally:
            self._reserved -= free
        self._full = len(runs) >= free
        for run in runs:
            self._hold(run)

    async def _sweeper(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                await self._sweep()
            except Exception:
                log.exception("sweeping lapsed leases failed")

    async def _sweep(self) -> None:
        async with self.rt.storage.transaction() as tx:
            requeued, taken = await tx.expire_leases(self.worker_id)
        for run in taken:
            log.warning(
                "run %s: its worker stopped while a cancel was pending; ending it here",
                run.run_id,
                extra=run_context(run.run_id, run.thread_id),
            )
            self._hold(run)
        if requeued:
            log.warning("%d run(s) lost their worker; queued again to continue from their last checkpoint", requeued)
            async with self.rt.storage.transaction() as tx:
                tx.notify("work")  # for every process's workers, this one's included

    # holding a run
    def _hold(self, run: Run, setting: RunSetting | None = None) -> None:
        held = _Held(run, setting, cancel=run.cancel_action, shutdown=self._draining)
        if run.cancel_action is not None or self._early_cancels.pop(run.run_id, None) is not None or held.shutdown:
            held.wake.set()
        self._held[run.run_id] = held
        self._tasks[run.run_id] = asyncio.create_task(self._run(held), name=f"run-{run.run_id}")
        log.debug(
            "run %s claimed",
            run.run_id,
            extra=run_context(run.run_id, run.thread_id, attempt=run.attempt, worker_id=self.worker_id),
        )

    async def _run(self, held: _Held) -> None:
        run = held.run
        try:
            end = await self._execute(held)
            if end is not None:
                await self._record(held, end)
        except Exception:
            log.exception(
                "run %s: the worker failed while holding it", run.run_id, extra=run_context(run.run_id, run.thread_id)
            )
        finally:
            self._held.pop(run.run_id, None)
            self._tasks.pop(run.run_id, None)
            if self._full:
                self._wake.set()

    async def _execute(self, held: _Held) -> RunEnd | None:
        """Drive the graph until it ends or a cancel, a shutdown or a lost lease stops it;
        how it ended, or None when this worker must write nothing more about the run."""
        run = held.run
        execution = Execution()
        graph = asyncio.create_task(execute(self.rt, run, execution, held.setting), name=f"graph-{run.run_id}")
        beat = asyncio.create_task(self._heartbeat(held), name=f"lease-{run.run_id}")
        try:
            while not graph.done():
                woken = asyncio.create_task(held.wake.wait())
                await asyncio.wait({graph, woken}, return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
                if graph.done():
                    break
                held.wake.clear()
                if held.cancel is None and not (held.shutdown or held.lost):
                    await self._read_cancel(held)  # a broker signal: the request is stored
                if held.cancel is not None or held.shutdown or held.lost:
                    graph.cancel()
                    break
            with contextlib.suppress(asyncio.CancelledError):
                await graph
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        if held.lost:
            log.warning(
                "run %s: lease lost; leaving it to whoever holds it now",
                run.run_id,
                extra=run_context(run.run_id, run.thread_id, attempt=run.attempt),
            )
            return None
        if held.shutdown and held.cancel is None:
            async with self.rt.storage.transaction() as tx:
                if await tx.release_run(run.run_id, run.attempt, self.worker_id):
                    tx.notify("work")  # another process's worker takes it at once
            log.info(
                "run %s handed back to the queue on shutdown", run.run_id, extra=run_context(run.run_id, run.thread_id)
            )
            return None
        return await conclude(self.rt, run, execution, held.cancel)

    async def _read_cancel(self, held: _Held) -> None:
        run = held.run
        async with self.rt.storage.transaction() as tx:
            lease = await tx.renew_lease(run.run_id, run.attempt, self.worker_id, self.lease_s)
        if lease is None:
            held.lost = True
        else:
            held.cancel = lease.cancel_action
            held.renewed_at = time.monotonic()

    async def _heartbeat(self, held: _Held) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                await self._read_cancel(held)
            except Exception:
                log.exception(
                    "run %s: renewing its lease failed",
                    held.run.run_id,
                    extra=run_context(held.run.run_id, held.run.thread_id),
                )
                if time.monotonic() - held.renewed_at > self.lease_s:
                    held.lost = True  # another process may take it over now: stop
            if held.cancel is not None or held.lost:
                held.wake.set()
                return

    async def _record(self, held: _Held, end: RunEnd) -> None:
        """Write the run's end; if a cancel landed after the graph finished, it wins."""
        rt, run = self.rt, held.run
        now = now_iso()
        discard = run.temporary and run.kwargs.get("on_completion", "delete") == "delete"
        async with rt.storage.transaction() as tx:
            applied = await record_end(tx, run, end, now, rt.inbox)
            if applied and not end.rolled_back:
                # Queued in the commit that records the end: delivered even if we crash now.
                await run_webhook(tx, rt.inbox, run, webhook_payload(run, end.status, end.output, run.updated_at))
            if applied and discard:
                # A stateless run's thread goes in the same commit that makes the end
                # visible: whoever reads the ended run (in any process) finds it gone.
                await tx.delete_thread(run.thread_id, keep_runs=True)
            current = None if applied else await tx.get_run(run.run_id)
            thread_gone = not applied and await tx.get_thread(run.thread_id) is None
        if not applied:
            if current is not None and current.status == "running" and current.attempt == run.attempt:
                if current.cancel_action is not None and held.cancel is None:
                    held.cancel = current.cancel_action
                    await self._record(held, await conclude(rt, run, Execution(), held.cancel))
                    return
            if thread_gone:  # deleted while running: drop what the run wrote meanwhile
                await rt.storage.checkpointer.adelete_thread(run.thread_id)
            await self._end_stream(run)
            return
        await self._after(run)

    async def _end_stream(self, run: Run, thread_event: tuple[str, bytes] | None = None) -> None:
        resumable = bool(run.kwargs.get("resumable"))
        ending = self.rt.broker.end_run(run.run_id, run.thread_id, resumable=resumable, thread_event=thread_event)
        await best_effort(ending, f"run {run.run_id}")

    async def _after(self, run: Run) -> None:
        rt = self.rt
        if run.temporary and run.kwargs.get("on_completion", "delete") == "delete":
            await rt.storage.checkpointer.adelete_thread(run.thread_id)
        # The thread's followers hear that the run is done in the same round trip.
        await self._end_stream(run, ("metadata", serde.dumps({"status": "run_done", "run_id": run.run_id})))
