"""The in-process floor: the seed graph driven directly by langgraph, no server.

What a server can at best approach: with AsyncSqliteSaver and with SqliteSaver on a temporary
file, one cycle (invoke to the interrupt, then resume) after another, each on a new thread id.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import resource
import tempfile
import time
import uuid
from dataclasses import dataclass
from typing import Any

from tests.stats import summarize_ms

from bench.log import log
from bench.plan import SEED_DIR, Plan


def load_seed_graph() -> Any:
    spec = importlib.util.spec_from_file_location("bench_seed_graph", SEED_DIR / "graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.graph


def _check_floor(r1: Any, r2: Any, text: str, resume: str) -> None:
    intr = r1.get("__interrupt__") if isinstance(r1, dict) else None
    if not intr or getattr(intr[0], "value", None) != {"text_to_revise": text} or r1.get("some_text") != text:
        raise AssertionError(f"bad interrupt result: {r1!r}")
    if r2 != {"some_text": resume}:
        raise AssertionError(f"bad final result: {r2!r}")


def _cpu_self() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)  # all threads: aiosqlite's too
    return ru.ru_utime + ru.ru_stime


@dataclass
class _Cycle:
    start: float
    text: str
    resume: str
    config: dict[str, Any]


class _Cycles:
    """The bookkeeping the sync and async floors share, so they differ only in how they call the
    graph: cycles run for `warmup` + `seconds`; those started after the warm-up are measured, and
    the process's CPU time is taken from the first measured cycle to the end."""

    def __init__(self, warmup: float, seconds: float) -> None:
        self.seconds = seconds
        self.lat: dict[str, list[float]] = {"invoke_interrupt": [], "invoke_resume": [], "cycle": []}
        self.n = self.done = self.errors = 0
        self.t_measure = time.perf_counter() + warmup
        self.t_end = self.t_measure + seconds
        self.cpu0: float | None = None

    def next(self) -> _Cycle | None:
        """The next cycle to run, or None once the time is up."""
        start = time.perf_counter()
        if start >= self.t_end:
            return None
        if self.cpu0 is None and start >= self.t_measure:
            self.cpu0 = _cpu_self()
        self.n += 1
        return _Cycle(
            start,
            f"original text {self.n}",
            f"Edited text {self.n}",
            {"configurable": {"thread_id": str(uuid.uuid4())}},
        )

    def failed(self, cycle: _Cycle, exc: Exception) -> None:
        self.errors += cycle.start >= self.t_measure
        log(f"floor error: {type(exc).__name__}: {exc}")

    def finished(self, cycle: _Cycle, t1: float, t2: float) -> None:
        """`t1`: the interrupt came back; `t2`: the resume did."""
        if cycle.start >= self.t_measure:
            self.lat["invoke_interrupt"].append(t1 - cycle.start)
            self.lat["invoke_resume"].append(t2 - t1)
            self.lat["cycle"].append(t2 - cycle.start)
            self.done += t2 <= self.t_end

    def result(self) -> dict[str, Any]:
        cpu_s = _cpu_self() - (self.cpu0 or 0.0)
        return {
            "cycles": self.done,
            "cycles_per_s": round(self.done / self.seconds, 3),
            "errors": self.errors,
            "cpu_ms_per_cycle": round(1000 * cpu_s / self.done, 3) if self.done else None,
            "latency_ms": {k: summarize_ms(v) for k, v in self.lat.items()},
        }


def floor_sync(graph: Any, warmup: float, seconds: float) -> dict[str, Any]:
    from langgraph.types import Command

    cycles = _Cycles(warmup, seconds)
    while (c := cycles.next()) is not None:
        try:
            r1 = graph.invoke({"some_text": c.text}, c.config)
            t1 = time.perf_counter()
            r2 = graph.invoke(Command(resume=c.resume), c.config)
            t2 = time.perf_counter()
            _check_floor(r1, r2, c.text, c.resume)
        except Exception as exc:
            cycles.failed(c, exc)
            continue
        cycles.finished(c, t1, t2)
    return cycles.result()


async def floor_async(graph: Any, warmup: float, seconds: float) -> dict[str, Any]:
    from langgraph.types import Command

    cycles = _Cycles(warmup, seconds)
    while (c := cycles.next()) is not None:
        try:
            r1 = await graph.ainvoke({"some_text": c.text}, c.config)
            t1 = time.perf_counter()
            r2 = await graph.ainvoke(Command(resume=c.resume), c.config)
            t2 = time.perf_counter()
            _check_floor(r1, r2, c.text, c.resume)
        except Exception as exc:
            cycles.failed(c, exc)
            continue
        cycles.finished(c, t1, t2)
    return cycles.result()


def run_floor(plan: Plan) -> dict[str, Any]:
    from langgraph.checkpoint.sqlite import SqliteSaver
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    base = load_seed_graph()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="waypost-bench-floor-") as tmp:

        async def go_async() -> dict[str, Any]:
            async with AsyncSqliteSaver.from_conn_string(os.path.join(tmp, "async.sqlite")) as saver:
                return await floor_async(
                    base.copy(update={"checkpointer": saver}), plan.floor_warmup, plan.floor_seconds
                )

        log("floor: AsyncSqliteSaver")
        out["AsyncSqliteSaver"] = asyncio.run(go_async())
        log("floor: SqliteSaver")
        with SqliteSaver.from_conn_string(os.path.join(tmp, "sync.sqlite")) as saver:
            out["SqliteSaver"] = floor_sync(
                base.copy(update={"checkpointer": saver}), plan.floor_warmup, plan.floor_seconds
            )
    for name, res in out.items():
        c = res["latency_ms"]["cycle"]
        log(f"floor {name}: {res['cycles_per_s']} cycles/s, cycle p50 {c.get('p50')} ms, p95 {c.get('p95')} ms")
    return out
