"""The worker pool: claims runs from storage and executes up to `slots` at once.

It sleeps on an event, never a timer: creating a run or finishing one wakes it. A run that
stops at an interrupt ends, freeing its slot; the human's answer is a new run.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from waypost.models import now_iso
from waypost.runtime import Runtime
from waypost.worker.executor import execute, finish

log = logging.getLogger("waypost.worker")


class Worker:
    def __init__(self, rt: Runtime, slots: int) -> None:
        self.rt = rt
        self.slots = slots
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._cancel_actions: dict[str, str] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._timer: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> Worker:
        async with self.rt.storage.transaction() as tx:
            requeued = await tx.requeue_running()
        for run in requeued:
            log.warning("run %s was cut off by a stop; queued again (attempt %d next)", run.run_id, run.attempt + 1)
        self.rt.broker.on_work(self._wake.set)
        self._wake.set()
        self._loop_task = asyncio.create_task(self._loop(), name="waypost-worker")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
        if self._loop_task is not None:
            self._loop_task.cancel()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._loop_task is not None:
            await asyncio.gather(self._loop_task, return_exceptions=True)

    def cancel(self, run_id: str, action: str = "interrupt") -> bool:
        task = self._tasks.get(run_id)
        if task is None:
            return False
        self._cancel_actions[run_id] = action
        task.cancel()
        return True

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._fill()
            except Exception:  # a storage hiccup must not kill the worker
                log.exception("claiming runs failed")
                await asyncio.sleep(0.5)
                self._wake.set()

    async def _fill(self) -> None:
        while len(self._tasks) < self.slots:
            async with self.rt.storage.transaction() as tx:
                run = await tx.claim_next_run(now_iso())
                later = None if run else await tx.next_available_at(now_iso())
            if run is None:
                if later is not None:
                    self._wake_at(later)
                return
            self._tasks[run.run_id] = asyncio.create_task(self._execute(run), name=f"run-{run.run_id}")

    def _wake_at(self, when: str) -> None:
        """Wake up when a delayed run (after_seconds) becomes runnable."""
        delay = max(0.0, (datetime.fromisoformat(when) - datetime.now(UTC)).total_seconds())
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(delay + 0.001, self._wake.set)

    async def _execute(self, run: Any) -> None:
        try:
            await execute(self.rt, run)
        except asyncio.CancelledError:
            await self._cancelled(run)
        except Exception:
            log.exception("run %s crashed the executor", run.run_id)
            await finish(self.rt, run, None, "error", {"error": "InternalError", "message": "run executor failed"})
        finally:
            self._tasks.pop(run.run_id, None)
            self._cancel_actions.pop(run.run_id, None)
            self._wake.set()

    async def _cancelled(self, run: Any) -> None:
        if self._stopping:
            # Shutting down: leave the run `running`; the next start queues it again and
            # continues from its last checkpoint.
            return
        action = self._cancel_actions.get(run.run_id, "interrupt")
        graph = await self._graph(run)
        if action == "rollback":
            # As if the run never happened: its row, its checkpoints, its claim on answers.
            async with self.rt.storage.transaction() as tx:
                await tx.delete_run(run.run_id)
                await tx.unanswer_interrupts(run.thread_id, run.run_id)
            await self.rt.storage.delete_run_checkpoints(run.thread_id, run.run_id)
        await finish(self.rt, run, graph, "interrupted", None)

    async def _graph(self, run: Any) -> Any:
        """The run's graph, to read the state it stopped at; None if its assistant is gone
        (the thread then keeps the values it had)."""
        async with self.rt.storage.transaction() as tx:
            assistant = await tx.get_assistant(run.assistant_id)
        return await self.rt.graphs.graph(assistant.graph_id) if assistant else None
