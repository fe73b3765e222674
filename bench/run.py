#!/usr/bin/env python3
"""Waypost benchmark: one command, one run, every figure beside its alternatives.

    make bench            (= .venv/bin/python bench/run.py)

What one run measures, on this machine, in this order:

1. The in-process floor: the seed graph (examples/seed/graph.py) driven directly by langgraph
   with AsyncSqliteSaver and SqliteSaver on a temporary file, no server. A cycle is
   invoke-to-interrupt + resume, each on a new thread id.
2. Waypost (`waypost serve`, embedded SQLite default, fresh temporary database) and the
   official development server (`langgraph dev` from `langgraph-cli[inmem]`, installed by this
   script into bench/.venv-peer), each on a free random loopback port, driven by the same
   asyncio + httpx client at concurrency 1, 8 and 32: a fresh server per level, Waypost then
   langgraph dev at each level, so the two sides of a ratio are measured back to back. A cycle is
   POST /threads -> POST /threads/{id}/runs/wait (input, to the interrupt)
   -> POST /threads/{id}/runs/wait (command resume); every response is checked.
3. A second fresh Waypost: resident memory (VmRSS) at start, after 100 and after 10,000
   threads left waiting at an interrupt (created at concurrency 32), then concurrency 32 for
   four consecutive windows of one continuous load, on top of those waiting threads.

It writes bench/results/<UTC timestamp>.json, bench/results/latest.json, latest.md (the README's
tables) and latest.png, and prints a summary table with the targets of issue #5.
Servers are started in their own process group and stopped by that id only.
Not part of the test suite. Options: --quick (a short smoke run), --no-peer, --profile
(py-spy flame graph of Waypost's c=1 window, if py-spy is installed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from importlib import metadata as md
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the helpers shared with the tests live in tests/

from tests.serverproc import LocalServer, ServerProcess, free_port  # noqa: E402
from tests.stats import summarize_ms  # noqa: E402

BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
SEED_DIR = ROOT / "examples" / "seed"
PEER_VENV = BENCH_DIR / ".venv-peer"
# The versions shared/PEER-BEHAVIOR.md describes; override with WAYPOST_BENCH_PEER_SPEC.
PEER_SPEC = os.environ.get(
    "WAYPOST_BENCH_PEER_SPEC",
    "langgraph-cli[inmem]==0.4.40 langgraph-api==0.16.7 langgraph-runtime-inmem==0.36.7",
)
ASSISTANT = "agent"
CALLS = ("create_thread", "run_interrupt", "run_resume", "cycle")

# Targets from issue #5 (each a ratio measured in one run).
TARGET_C1_P50_X_FLOOR = 3.0  # Waypost c=1 cycle p50 <= 3x the AsyncSqliteSaver floor
TARGET_C32_X_PEER = 2.0  # Waypost c=32 throughput >= 2x the dev server's
TARGET_WINDOW_DROP = 0.10  # last c=32 window within 10% of the first
TARGET_MEMORY_MB = 50.0  # RSS(10,000 waiting) - RSS(100 waiting) <= 50 MB


@dataclass
class Plan:
    floor_warmup: float = 2.0
    floor_seconds: float = 10.0
    # concurrency -> (warmup s, measured s)
    waypost_levels: dict[int, tuple[float, float]] = field(
        default_factory=lambda: {1: (2.0, 15.0), 8: (2.0, 15.0), 32: (3.0, 15.0)}
    )
    # The dev server takes ~2 s per cycle at c=1 (PEER-BEHAVIOR §5): a longer window there.
    peer_levels: dict[int, tuple[float, float]] = field(
        default_factory=lambda: {1: (2.0, 30.0), 8: (3.0, 20.0), 32: (3.0, 20.0)}
    )
    memory_small: int = 100
    memory_large: int = 10_000
    memory_cap_s: float = 300.0  # give up filling at this point and report what was reached
    stall_abort_s: float = 45.0  # ... or when no thread reached its interrupt for this long
    windows: int = 4
    window_seconds: float = 15.0
    window_warmup: float = 3.0
    request_timeout: float = 30.0
    drain_cap_s: float = 30.0  # in-flight cycles get this long after a window ends

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            floor_warmup=0.5,
            floor_seconds=2.0,
            waypost_levels={1: (0.5, 3.0), 8: (0.5, 3.0), 32: (0.5, 3.0)},
            peer_levels={1: (0.5, 5.0), 8: (0.5, 4.0), 32: (0.5, 4.0)},
            memory_small=100,
            memory_large=1_000,
            memory_cap_s=60.0,
            stall_abort_s=20.0,
            windows=4,
            window_seconds=3.0,
            window_warmup=0.5,
            drain_cap_s=15.0,
        )


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- in-process floor


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


def _floor_result(lat: dict[str, list[float]], done: int, seconds: float, errors: int, cpu_s: float) -> dict[str, Any]:
    return {
        "cycles": done,
        "cycles_per_s": round(done / seconds, 3),
        "errors": errors,
        "cpu_ms_per_cycle": round(1000 * cpu_s / done, 3) if done else None,
        "latency_ms": {k: summarize_ms(v) for k, v in lat.items()},
    }


def floor_sync(graph: Any, warmup: float, seconds: float) -> dict[str, Any]:
    from langgraph.types import Command

    lat: dict[str, list[float]] = {"invoke_interrupt": [], "invoke_resume": [], "cycle": []}
    n = done = errors = 0
    t_measure = time.perf_counter() + warmup
    t_end = t_measure + seconds
    cpu0 = None
    while (start := time.perf_counter()) < t_end:
        if cpu0 is None and start >= t_measure:
            cpu0 = _cpu_self()
        n += 1
        text, resume = f"original text {n}", f"Edited text {n}"
        cfg = {"configurable": {"thread_id": str(uuid.uuid4())}}
        try:
            r1 = graph.invoke({"some_text": text}, cfg)
            t1 = time.perf_counter()
            r2 = graph.invoke(Command(resume=resume), cfg)
            t2 = time.perf_counter()
            _check_floor(r1, r2, text, resume)
        except Exception as exc:
            errors += start >= t_measure
            log(f"floor error: {type(exc).__name__}: {exc}")
            continue
        if start >= t_measure:
            lat["invoke_interrupt"].append(t1 - start)
            lat["invoke_resume"].append(t2 - t1)
            lat["cycle"].append(t2 - start)
            done += t2 <= t_end
    return _floor_result(lat, done, seconds, errors, _cpu_self() - (cpu0 or 0.0))


async def floor_async(graph: Any, warmup: float, seconds: float) -> dict[str, Any]:
    from langgraph.types import Command

    lat: dict[str, list[float]] = {"invoke_interrupt": [], "invoke_resume": [], "cycle": []}
    n = done = errors = 0
    t_measure = time.perf_counter() + warmup
    t_end = t_measure + seconds
    cpu0 = None
    while (start := time.perf_counter()) < t_end:
        if cpu0 is None and start >= t_measure:
            cpu0 = _cpu_self()
        n += 1
        text, resume = f"original text {n}", f"Edited text {n}"
        cfg = {"configurable": {"thread_id": str(uuid.uuid4())}}
        try:
            r1 = await graph.ainvoke({"some_text": text}, cfg)
            t1 = time.perf_counter()
            r2 = await graph.ainvoke(Command(resume=resume), cfg)
            t2 = time.perf_counter()
            _check_floor(r1, r2, text, resume)
        except Exception as exc:
            errors += start >= t_measure
            log(f"floor error: {type(exc).__name__}: {exc}")
            continue
        if start >= t_measure:
            lat["invoke_interrupt"].append(t1 - start)
            lat["invoke_resume"].append(t2 - t1)
            lat["cycle"].append(t2 - start)
            done += t2 <= t_end
    return _floor_result(lat, done, seconds, errors, _cpu_self() - (cpu0 or 0.0))


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


# ---------------------------------------------------------------------------- servers


def _proc_status_kb(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _proc_cpu_s(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


class Server:
    """A server under measurement: its name in logs and results, its URL, and its process."""

    def __init__(self, name: str, url: str, process: LocalServer) -> None:
        self.name, self.url, self.process = name, url, process

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self) -> None:
        self.process.start(timeout_s=120.0)  # langgraph dev takes seconds to import its runtime
        log(f"{self.name} up on {self.url} (pid {self.pid})")

    def stop(self) -> None:
        proc = self.process.proc
        if proc is not None and proc.poll() is None:
            self.process.stop()
            log(f"{self.name} stopped (pid {proc.pid})")

    def rss_kb(self) -> int | None:
        return _proc_status_kb(self.pid, "VmRSS")

    def cpu_s(self) -> float | None:
        return _proc_cpu_s(self.pid)

    def log_tail(self, n: int = 30) -> str:
        return self.process.log_tail(n)


def waypost_server(tmp: Path, tag: str) -> Server:
    """`waypost serve` on the seed with a fresh database; no WAYPOST_* from the shell, so the
    embedded defaults are what is measured."""
    process = ServerProcess(
        config=SEED_DIR / "langgraph.json",
        database_url=f"sqlite:///{tmp / f'waypost-{tag}.sqlite'}",
        log_path=tmp / f"waypost-{tag}.log",
    )
    return Server(f"waypost[{tag}]", process.url, process)


def peer_server(tmp: Path, tag: str) -> Server:
    app = tmp / f"peer-app-{tag}"
    shutil.copytree(SEED_DIR, app, ignore=shutil.ignore_patterns("__pycache__", ".langgraph_api"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update(
        LANGSMITH_TRACING="false",
        LANGGRAPH_CLI_NO_ANALYTICS="1",
        PATH=f"{PEER_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(PEER_VENV),
    )
    env.pop("PYTHONPATH", None)
    argv = [
        str(PEER_VENV / "bin" / "langgraph"),
        "dev",
        "--no-browser",
        "--no-reload",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    # The log lives outside the app folder (PEER-BEHAVIOR §0: a log inside it loops the reloader).
    process = LocalServer(argv, ready_url=f"{url}/ok", log_path=tmp / f"peer-{tag}.log", env=env, cwd=app)
    return Server(f"langgraph-dev[{tag}]", url, process)


def ensure_peer_venv() -> dict[str, Any]:
    """Create bench/.venv-peer and install the dev server into it (once per PEER_SPEC)."""
    stamp = PEER_VENV / ".bench-installed"
    if stamp.exists() and stamp.read_text().strip() == PEER_SPEC and (PEER_VENV / "bin" / "langgraph").exists():
        log(f"peer venv ready: {PEER_VENV}")
    else:
        log(f"installing the dev server into {PEER_VENV}: {PEER_SPEC}")
        if not (PEER_VENV / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [
                str(PEER_VENV / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                *PEER_SPEC.split(),
            ],
            check=True,
        )
        stamp.write_text(PEER_SPEC + "\n")
    probe = (
        "import json, importlib.metadata as m\n"
        "out = {}\n"
        "for d in ('langgraph-cli', 'langgraph-api', 'langgraph-runtime-inmem', 'langgraph', "
        "'langgraph-checkpoint', 'uvicorn', 'uvloop'):\n"
        "    try: out[d] = m.version(d)\n"
        "    except m.PackageNotFoundError: out[d] = None\n"
        "print(json.dumps(out))"
    )
    res = subprocess.run([str(PEER_VENV / "bin" / "python"), "-c", probe], check=True, capture_output=True, text=True)
    return json.loads(res.stdout)


# ---------------------------------------------------------------------------- the HTTP client


class BenchError(Exception):
    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


def _body(resp: httpx.Response, step: str) -> Any:
    if resp.status_code != 200:
        raise BenchError(f"{step}:http_{resp.status_code}", resp.text[:300])
    try:
        return json.loads(resp.content)  # runs/wait may send keep-alive whitespace first
    except ValueError as exc:
        raise BenchError(f"{step}:invalid_json", str(exc)) from None


def _check_interrupt(body: Any, text: str) -> None:
    if not isinstance(body, dict) or "__error__" in body:
        raise BenchError("run_interrupt:error", json.dumps(body)[:300])
    intr = body.get("__interrupt__")
    if (
        not isinstance(intr, list)
        or not intr
        or not isinstance(intr[0], dict)
        or not isinstance(intr[0].get("id"), str)
    ):
        raise BenchError("run_interrupt:no_interrupt", json.dumps(body)[:300])
    if intr[0].get("value") != {"text_to_revise": text} or body.get("some_text") != text:
        raise BenchError("run_interrupt:wrong_payload", json.dumps(body)[:300])


def _check_final(body: Any, resume: str) -> None:
    if not isinstance(body, dict) or "__error__" in body or body.get("__interrupt__"):
        raise BenchError("run_resume:error", json.dumps(body)[:300])
    if body.get("some_text") != resume:
        raise BenchError("run_resume:wrong_final_state", json.dumps(body)[:300])


async def to_interrupt(client: httpx.AsyncClient, tag: str, t: dict[str, float]) -> str:
    text = f"original text {tag}"
    t0 = time.perf_counter()
    r = await client.post("/threads", json={})
    t1 = time.perf_counter()
    t["create_thread"] = t1 - t0
    body = _body(r, "create_thread")
    tid = body.get("thread_id") if isinstance(body, dict) else None
    if not isinstance(tid, str):
        raise BenchError("create_thread:no_thread_id", repr(body)[:200])
    r = await client.post(f"/threads/{tid}/runs/wait", json={"assistant_id": ASSISTANT, "input": {"some_text": text}})
    t2 = time.perf_counter()
    t["run_interrupt"] = t2 - t1
    _check_interrupt(_body(r, "run_interrupt"), text)
    return tid


async def one_cycle(client: httpx.AsyncClient, tag: str) -> dict[str, float]:
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    tid = await to_interrupt(client, tag, t)
    resume = f"Edited text {tag}"
    t2 = time.perf_counter()
    r = await client.post(f"/threads/{tid}/runs/wait", json={"assistant_id": ASSISTANT, "command": {"resume": resume}})
    t3 = time.perf_counter()
    t["run_resume"] = t3 - t2
    _check_final(_body(r, "run_resume"), resume)
    t["cycle"] = t3 - t0
    return t


def new_client(url: str, concurrency: int, timeout: float) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    return httpx.AsyncClient(base_url=url, limits=limits, timeout=httpx.Timeout(timeout))


@dataclass
class Tally:
    starts: list[float] = field(default_factory=list)  # start time of each successful cycle
    ends: list[float] = field(default_factory=list)  # end time of each successful cycle
    lat: list[dict[str, float]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(f"{kind}: {detail}"[:400])


async def _guarded(job: Callable[[], Awaitable[dict[str, float]]], tally: Tally) -> bool:
    start = time.perf_counter()
    try:
        t = await job()
    except BenchError as exc:
        tally.error(exc.kind, str(exc))
        return False
    except Exception as exc:
        tally.error(f"exception:{type(exc).__name__}", str(exc))
        await asyncio.sleep(0.05)  # no hot loop against a dead server
        return False
    tally.starts.append(start)
    tally.ends.append(time.perf_counter())
    tally.lat.append(t)
    return True


async def timed_load(
    server: Server, concurrency: int, warmup: float, windows: list[float], plan: Plan, label: str
) -> list[dict[str, Any]]:
    """`concurrency` workers loop over cycles for warmup + sum(windows) seconds of one continuous
    load; the measured part is sliced into consecutive windows. Returns one result per window."""
    tally = Tally()
    counter = [0]
    async with new_client(server.url, concurrency, plan.request_timeout) as client:
        t0 = time.perf_counter()
        t_measure = t0 + warmup
        bounds = [t_measure]
        for w in windows:
            bounds.append(bounds[-1] + w)
        t_end = bounds[-1]

        async def worker(wid: int) -> None:
            n = 0
            while time.perf_counter() < t_end:
                n += 1
                counter[0] += 1
                await _guarded(partial(one_cycle, client, f"{label}-w{wid}-{n}-{counter[0]}"), tally)

        samples: list[tuple[float, float | None, int | None]] = []

        async def sampler() -> None:  # server CPU and RSS at each window boundary
            for b in bounds:
                await asyncio.sleep(max(0.0, b - time.perf_counter()))
                samples.append((time.perf_counter(), server.cpu_s(), server.rss_kb()))

        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        sampler_task = asyncio.create_task(sampler())
        tasks = [asyncio.create_task(worker(i)) for i in range(concurrency)]
        _, pending = await asyncio.wait(tasks, timeout=warmup + sum(windows) + plan.drain_cap_s)
        for p in pending:
            p.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if pending:
            tally.errors["bench:cancelled_in_flight_at_drain_cap"] += len(pending)
        await sampler_task
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)

    out = []
    for i, w in enumerate(windows):
        lo, hi = bounds[i], bounds[i + 1]
        done = sum(1 for e in tally.ends if lo <= e < hi)
        lat = [t for s, t in zip(tally.starts, tally.lat, strict=True) if lo <= s < hi]
        cpu0, cpu1 = samples[i][1], samples[i + 1][1]
        server_cpu = None if cpu0 is None or cpu1 is None else round(cpu1 - cpu0, 3)
        out.append(
            {
                "concurrency": concurrency,
                "warmup_s": warmup if i == 0 else 0.0,
                "seconds": w,
                "cycles": done,
                "cycles_per_s": round(done / w, 3),
                "runs_per_s": round(2 * done / w, 3),
                "latency_ms": {k: summarize_ms([t[k] for t in lat]) for k in CALLS},
                "server_cpu_s": server_cpu,
                "server_cpu_ms_per_cycle": round(1000 * server_cpu / done, 3)
                if server_cpu is not None and done
                else None,
                "server_rss_kb_end": samples[i + 1][2],
            }
        )
    n_err = sum(tally.errors.values())
    out[0].update(
        errors=n_err,
        error_kinds=dict(tally.errors),
        error_samples=tally.error_samples,
        client_cpu_s=round(client_cpu, 3),
        client_cpu_share_of_wall=round(client_cpu / (t_end - t0), 3),
    )
    for o in out[1:]:
        o.update(errors=None)  # errors are counted over the whole continuous load, in window 1's record
    return out


async def count_load(
    server: Server, concurrency: int, target: int, cap_s: float, plan: Plan, label: str
) -> dict[str, Any]:
    """Leave `target` more threads waiting at an interrupt, `concurrency` at a time, within cap_s."""
    tally = Tally()
    issued = [0]
    t0 = time.perf_counter()
    deadline = t0 + cap_s
    async with new_client(server.url, concurrency, plan.request_timeout) as client:
        last_progress = [t0]
        stalled = [False]

        async def worker() -> None:
            while time.perf_counter() < deadline:
                if issued[0] - sum(tally.errors.values()) >= target:  # done + in flight; failures are retried
                    return
                if time.perf_counter() - last_progress[0] > plan.stall_abort_s:
                    stalled[0] = True  # the server has made no progress for a while: report what it reached
                    return
                issued[0] += 1
                tag = f"{label}-{issued[0]}"

                async def job(tag: str = tag) -> dict[str, float]:
                    t: dict[str, float] = {}
                    await to_interrupt(client, tag, t)
                    return t

                if await _guarded(job, tally):
                    last_progress[0] = time.perf_counter()

        tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
        _, pending = await asyncio.wait(tasks, timeout=cap_s + plan.drain_cap_s)
        for p in pending:
            p.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    elapsed = time.perf_counter() - t0
    made = len(tally.ends)
    return {
        "requested": target,
        "created": made,
        "seconds": round(elapsed, 2),
        "stalled": stalled[0],
        "gave_up": made < target,
        "threads_per_s": round(made / elapsed, 2) if elapsed else None,
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors),
        "error_samples": tally.error_samples,
        "latency_ms": {
            k: summarize_ms([t[k] for t in tally.lat if k in t]) for k in ("create_thread", "run_interrupt")
        },
    }


async def preflight(server: Server, plan: Plan) -> None:
    async with new_client(server.url, 1, plan.request_timeout) as client:
        await one_cycle(client, "preflight")


def fmt_level(name: str, r: dict[str, Any]) -> str:
    c = r["latency_ms"]["cycle"]
    err = f" errors={r['errors']} {r['error_kinds']}" if r.get("errors") else ""
    cpu = r.get("server_cpu_ms_per_cycle")
    return (
        f"{name} c={r['concurrency']}: {r['cycles_per_s']} cycles/s, cycle p50 {c.get('p50')} ms "
        f"p95 {c.get('p95')} ms, server CPU {cpu} ms/cycle{err}"
    )


# ---------------------------------------------------------------------------- phases


async def run_levels(
    make: Callable[[str], Server],
    servers: list[Server],
    levels: dict[int, tuple[float, float]],
    plan: Plan,
    profile_dir: Path | None = None,
) -> dict[str, Any]:
    """Each concurrency level on a fresh server (and a fresh database or memory state), so one
    level's leftovers (queued runs, a wedged process) cannot leak into the next."""
    out: dict[str, Any] = {"levels": {}}
    for c, (warmup, seconds) in levels.items():
        server = make(f"c{c}")
        servers.append(server)
        try:
            server.start()
            await preflight(server, plan)
            rss_start = server.rss_kb()
            spy = start_profile(server, profile_dir, warmup, seconds) if profile_dir is not None and c == 1 else None
            (res,) = await timed_load(server, c, warmup, [seconds], plan, f"{server.name}")
            if spy is not None:
                finish_profile(spy)
            res["server_rss_kb_start"] = rss_start
        except Exception as exc:  # a server that fails to start or to do one cycle: report it, carry on
            log(f"{server.name} failed: {type(exc).__name__}: {exc}")
            res = {
                "concurrency": c,
                "failed": f"{type(exc).__name__}: {str(exc)[:500]}",
                "cycles_per_s": 0.0,
                "errors": 1,
                "error_kinds": {"bench:server_failed": 1},
                "latency_ms": {k: {"n": 0} for k in CALLS},
            }
        finally:
            server.stop()
        out["levels"][str(c)] = res
        log(fmt_level(server.name, res))
        for sample in res.get("error_samples", [])[:2]:
            log(f"  error sample: {sample}")
    return out


async def run_memory_and_windows(server: Server, plan: Plan) -> tuple[dict[str, Any], dict[str, Any]]:
    await asyncio.sleep(1.0)
    mem: dict[str, Any] = {"rss_kb_start": server.rss_kb()}
    log(f"memory: RSS at start {mem['rss_kb_start']} kB; leaving {plan.memory_small} threads waiting")
    small = await count_load(server, 32, plan.memory_small, plan.memory_cap_s, plan, "mem-a")
    await asyncio.sleep(2.0)
    mem["fill_small"] = small
    mem["rss_kb_small"] = server.rss_kb()
    mem["waiting_small"] = small["created"]
    log(
        f"memory: {small['created']} waiting, RSS {mem['rss_kb_small']} kB ({small['threads_per_s']} threads/s, "
        f"{small['errors']} errors); filling to {plan.memory_large}"
    )
    left = plan.memory_large - small["created"]
    cap = max(5.0, plan.memory_cap_s - small["seconds"])
    large = await count_load(server, 32, left, cap, plan, "mem-b")
    await asyncio.sleep(2.0)
    mem["fill_large"] = large
    mem["rss_kb_large"] = server.rss_kb()
    mem["waiting_large"] = small["created"] + large["created"]
    mem["delta_mb"] = round((mem["rss_kb_large"] - mem["rss_kb_small"]) * 1024 / 1e6, 2)
    log(
        f"memory: {mem['waiting_large']} waiting, RSS {mem['rss_kb_large']} kB "
        f"(+{mem['delta_mb']} MB over {mem['waiting_small']}; "
        f"{large['threads_per_s']} threads/s, {large['errors']} errors)"
    )
    for s in large.get("error_samples", [])[:2]:
        log(f"  error sample: {s}")

    log(f"windows: c=32, {plan.windows} x {plan.window_seconds:.0f} s on top of {mem['waiting_large']} waiting threads")
    wins = await timed_load(server, 32, plan.window_warmup, [plan.window_seconds] * plan.windows, plan, "win")
    for i, w in enumerate(wins, 1):
        log(
            f"window {i}: {w['cycles_per_s']} cycles/s, cycle p50 {w['latency_ms']['cycle'].get('p50')} ms, "
            f"RSS {w['server_rss_kb_end']} kB"
        )
    if wins[0].get("errors"):
        log(f"windows: {wins[0]['errors']} errors {wins[0]['error_kinds']}")
    windows = {"waiting_threads_before": mem["waiting_large"], "windows": wins, "rss_kb_end": server.rss_kb()}
    return mem, windows


# ---------------------------------------------------------------------------- profile (optional)


def start_profile(server: Server, out_dir: Path, warmup: float, seconds: float) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        log("--profile: py-spy not found (pip install py-spy); skipping")
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    # Starts with the warm-up; the flame graph covers warm-up + window.
    return subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(server.pid),
            "--duration",
            str(int(warmup + seconds)),
            "--rate",
            "250",
            "--format",
            "flamegraph",
            "-o",
            str(out_dir / "waypost-c1.svg"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def finish_profile(proc: subprocess.Popen[bytes]) -> None:
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait(timeout=5)


# ---------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    model = None
    with contextlib.suppress(Exception):
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "mem_total_gib": round((mem_kb or 0) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_start": os.getloadavg(),
    }


def cpu_busy(seconds: float = 3.0) -> float:
    """Share of all cores busy over `seconds`, from /proc/stat: other work skews every figure."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            vals = [int(x) for x in f.readline().split()[1:]]
        idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
        return sum(vals), idle

    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return round(1 - (i1 - i0) / max(1, t1 - t0), 3)


def versions() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in (
        "waypost",
        "langgraph",
        "langgraph-checkpoint",
        "langgraph-checkpoint-sqlite",
        "aiosqlite",
        "uvicorn",
        "fastapi",
        "httpx",
    ):
        try:
            out[d] = md.version(d)
        except md.PackageNotFoundError:
            out[d] = None
    return out


def git_info() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return {"commit": git("rev-parse", "HEAD") or None, "src_dirty": bool(git("status", "--porcelain", "--", "src"))}


def _get(d: Any, *path: Any) -> Any:
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    t: list[dict[str, Any]] = []
    floor_p50 = _get(res, "floor", "AsyncSqliteSaver", "latency_ms", "cycle", "p50")
    wp_p50 = _get(res, "waypost", "levels", "1", "latency_ms", "cycle", "p50")
    ratio = round(wp_p50 / floor_p50, 2) if wp_p50 and floor_p50 else None
    t.append(
        {
            "name": "c=1 cycle p50 vs AsyncSqliteSaver floor",
            "value": ratio,
            "unit": "x",
            "target": f"<= {TARGET_C1_P50_X_FLOOR:g}x",
            "detail": f"{wp_p50} ms vs {floor_p50} ms",
            "met": ratio is not None and ratio <= TARGET_C1_P50_X_FLOOR,
        }
    )
    wp32 = _get(res, "waypost", "levels", "32", "cycles_per_s")
    peer32 = _get(res, "peer", "levels", "32", "cycles_per_s")
    ratio = round(wp32 / peer32, 2) if wp32 is not None and peer32 else None
    t.append(
        {
            "name": "c=32 throughput vs langgraph dev",
            "value": ratio,
            "unit": "x",
            "target": f">= {TARGET_C32_X_PEER:g}x",
            "detail": f"{wp32} vs {peer32} cycles/s",
            "met": ratio is not None and ratio >= TARGET_C32_X_PEER,
        }
    )
    wins = _get(res, "windows", "windows") or []
    first = wins[0]["cycles_per_s"] if wins else None
    last = wins[-1]["cycles_per_s"] if wins else None
    ratio = round(last / first, 3) if first and last is not None else None
    t.append(
        {
            "name": f"c=32 last window vs first ({len(wins)} windows)",
            "value": ratio,
            "unit": "x",
            "target": f">= {1 - TARGET_WINDOW_DROP:.2f}x",
            "detail": f"{last} vs {first} cycles/s",
            "met": ratio is not None and ratio >= 1 - TARGET_WINDOW_DROP,
        }
    )
    mem = res.get("memory") or {}
    delta = mem.get("delta_mb")
    reached = mem.get("waiting_large")
    full = reached is not None and reached >= (mem.get("requested_large") or 0)
    t.append(
        {
            "name": f"RSS {mem.get('requested_large')} waiting threads - RSS {mem.get('requested_small')}",
            "value": delta,
            "unit": "MB",
            "target": f"<= {TARGET_MEMORY_MB:g} MB",
            "detail": f"{mem.get('rss_kb_small')} kB at {mem.get('waiting_small')} -> "
            f"{mem.get('rss_kb_large')} kB at {reached} waiting"
            + ("" if full else f"; only {reached} of {mem.get('requested_large')} reached"),
            "met": delta is not None and full and delta <= TARGET_MEMORY_MB,
        }
    )
    return t


def table(res: dict[str, Any]) -> str:
    lines = []
    hdr = f"{'':<28}{'cycles/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'CPU ms/cyc':>12}{'errors':>8}"
    lines += ["", "In-process floor (no server, concurrency 1)", hdr]
    for name, r in (res.get("floor") or {}).items():
        c = r["latency_ms"]["cycle"]
        lines.append(
            f"{name:<28}{r['cycles_per_s']:>10}{c.get('p50', '-'):>10}{c.get('p95', '-'):>10}"
            f"{r.get('cpu_ms_per_cycle')!s:>12}{r['errors']:>8}"
        )
    for key, title in (("waypost", "Waypost (embedded SQLite)"), ("peer", "langgraph dev (inmem)")):
        srv = res.get(key) or {}
        if "levels" not in srv:
            lines += ["", f"{title}: {srv.get('skipped', 'not run')}"]
            continue
        lines += ["", title, hdr]
        for c, r in srv["levels"].items():
            cyc = r["latency_ms"]["cycle"]
            lines.append(
                f"{'c=' + c:<28}{r['cycles_per_s']:>10}{cyc.get('p50', '-'):>10}{cyc.get('p95', '-'):>10}"
                f"{r.get('server_cpu_ms_per_cycle')!s:>12}{r.get('errors', 0):>8}"
            )
    win = res.get("windows") or {}
    if win.get("windows"):
        lines += [
            "",
            f"Waypost c=32, consecutive windows ({win['waiting_threads_before']} threads waiting at start)",
            hdr,
        ]
        for i, r in enumerate(win["windows"], 1):
            cyc = r["latency_ms"]["cycle"]
            err = r.get("errors") if i == 1 else ""
            lines.append(
                f"{'window ' + str(i):<28}{r['cycles_per_s']:>10}{cyc.get('p50', '-'):>10}{cyc.get('p95', '-'):>10}"
                f"{r.get('server_cpu_ms_per_cycle')!s:>12}{err!s:>8}"
            )
    mem = res.get("memory") or {}
    if mem:
        lines += [
            "",
            "Waypost resident memory (VmRSS)",
            f"  at start: {mem.get('rss_kb_start')} kB;"
            f" {mem.get('waiting_small')} waiting: {mem.get('rss_kb_small')} kB;"
            f" {mem.get('waiting_large')} waiting: {mem.get('rss_kb_large')} kB",
        ]
    lines += ["", "Targets (issue #5)", f"{'':<46}{'ratio':>10}{'target':>12}  result"]
    for t in res["targets"]:
        v = "-" if t["value"] is None else f"{t['value']}{'' if t['unit'] == 'MB' else 'x'}"
        if t["unit"] == "MB" and t["value"] is not None:
            v = f"{t['value']} MB"
        lines.append(f"{t['name']:<46}{v:>10}{t['target']:>12}  {'MET' if t['met'] else 'MISSED'}  ({t['detail']})")
    return "\n".join(lines)


def markdown(res: dict[str, Any]) -> str:
    """The README's tables, from one result."""
    m = res["meta"]["machine"]

    def lat(r: dict[str, Any] | None, k: str) -> str:
        v = _get(r, "latency_ms", "cycle", k)
        return "-" if v is None else f"{v:.1f}"

    def num(v: Any, fmt: str = "{:.1f}") -> str:
        return "-" if v is None else fmt.format(v)

    out = [
        f"Run `{res['meta']['timestamp']}` on {m['cpus']} cores ({m['cpu_model']}), {m['mem_total_gib']} GiB, "
        f"Python {m['python']}; Waypost at `{(res['meta']['git']['commit'] or '?')[:10]}`"
        + (" (src modified)" if res["meta"]["git"].get("src_dirty") else "")
        + f"; CPU {m.get('cpu_busy_before', 0):.0%} busy just before the run.",
        "",
        "| | concurrency | cycles/s | cycle p50 ms | cycle p95 ms | server CPU ms/cycle | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in (res.get("floor") or {}).items():
        out.append(
            f"| in-process `{name}` (floor) | 1 | {num(r['cycles_per_s'])} | {lat(r, 'p50')} | {lat(r, 'p95')} "
            f"| {num(r.get('cpu_ms_per_cycle'))} (whole process) | {r['errors']} |"
        )
    for key, title in (("waypost", "Waypost"), ("peer", "`langgraph dev`")):
        for c, r in (_get(res, key, "levels") or {}).items():
            out.append(
                f"| {title} | {c} | {num(r['cycles_per_s'])} | {lat(r, 'p50')} | {lat(r, 'p95')} "
                f"| {num(r.get('server_cpu_ms_per_cycle'))} | {r.get('errors', 0)} |"
            )
    wins = _get(res, "windows", "windows") or []
    for i, r in enumerate(wins, 1):
        out.append(
            f"| Waypost, window {i} of {len(wins)} | 32 | {num(r['cycles_per_s'])} | {lat(r, 'p50')} | {lat(r, 'p95')} "
            f"| {num(r.get('server_cpu_ms_per_cycle'))} | {r.get('errors') if i == 1 else ''} |"
        )
    mem = res.get("memory") or {}
    out += [
        "",
        "| target (issue #5) | measured | target | result |",
        "|---|---:|---:|---|",
    ]
    for t in res["targets"]:
        v = "-" if t["value"] is None else (f"{t['value']} MB" if t["unit"] == "MB" else f"{t['value']}x")
        out.append(f"| {t['name']} ({t['detail']}) | {v} | {t['target']} | {'met' if t['met'] else '**missed**'} |")
    if mem:
        out += [
            "",
            f"Waypost RSS: {num(mem.get('rss_kb_start'), '{:,}')} kB at start, "
            f"{num(mem.get('rss_kb_small'), '{:,}')} kB with {mem.get('waiting_small')} threads waiting, "
            f"{num(mem.get('rss_kb_large'), '{:,}')} kB with {mem.get('waiting_large')} "
            f"(of {mem.get('requested_large')} requested).",
        ]
    return "\n".join(out) + "\n"


def chart(res: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    m = res["meta"]["machine"]
    fig.suptitle(
        f"Waypost benchmark, seed HIL cycle — {res['meta']['timestamp']} — {m['cpus']} cores, {m['cpu_model']}",
        fontsize=11,
    )

    # (a) throughput by concurrency
    ax = axes[0][0]
    levels = ["1", "8", "32"]
    width = 0.38
    for i, (key, label, color) in enumerate(
        (("waypost", "Waypost", "tab:blue"), ("peer", "langgraph dev", "tab:orange"))
    ):
        vals = [_get(res, key, "levels", c, "cycles_per_s") or 0 for c in levels]
        errs = [_get(res, key, "levels", c, "errors") or 0 for c in levels]
        xs = [j + (i - 0.5) * width for j in range(len(levels))]
        bars = ax.bar(xs, vals, width, label=label, color=color)
        ax.bar_label(
            bars,
            [f"{v:.1f}" + (f"\n{e} errors" if e else "") for v, e in zip(vals, errs, strict=True)],
            fontsize=8,
            color="black",
        )
    for name, style in (("AsyncSqliteSaver", "--"), ("SqliteSaver", ":")):
        v = _get(res, "floor", name, "cycles_per_s")
        if v:
            ax.axhline(v, linestyle=style, color="gray", linewidth=1, label=f"in-process {name} (c=1)")
    ax.set_xticks(range(len(levels)), [f"c={c}" for c in levels])
    ax.set_ylabel("cycles/s (higher is better)")
    ax.set_title("Throughput by concurrency")
    ax.legend(fontsize=8)

    # (b) c=1 latency
    ax = axes[0][1]
    names, p50, p95 = [], [], []
    for label, path_ in (
        ("floor async", ("floor", "AsyncSqliteSaver")),
        ("floor sync", ("floor", "SqliteSaver")),
        ("Waypost", ("waypost", "levels", "1")),
        ("langgraph dev", ("peer", "levels", "1")),
    ):
        c = _get(res, *path_, "latency_ms", "cycle") or {}
        if c.get("p50") is not None:
            names.append(label)
            p50.append(c["p50"])
            p95.append(c["p95"])
    xs = list(range(len(names)))
    b1 = ax.bar([x - 0.2 for x in xs], p50, 0.4, label="p50", color="tab:green")
    b2 = ax.bar([x + 0.2 for x in xs], p95, 0.4, label="p95", color="tab:olive")
    ax.bar_label(b1, fmt="%.1f", fontsize=8)
    ax.bar_label(b2, fmt="%.1f", fontsize=8)
    ax.set_yscale("log")
    ax.set_xticks(xs, names)
    ax.set_ylabel("cycle latency, ms (log; lower is better)")
    ax.set_title("One cycle at concurrency 1")
    ax.legend(fontsize=8)

    # (c) windows
    ax = axes[1][0]
    wins = _get(res, "windows", "windows") or []
    if wins:
        vals = [w["cycles_per_s"] for w in wins]
        bars = ax.bar([f"window {i}" for i in range(1, len(wins) + 1)], vals, color="tab:blue")
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
        if wins[0].get("errors"):
            ax.text(
                0.02,
                0.95,
                f"{wins[0]['errors']} errors over the {len(wins)} windows",
                transform=ax.transAxes,
                fontsize=8,
                color="red",
                va="top",
            )
        ax.axhline(
            vals[0] * (1 - TARGET_WINDOW_DROP),
            color="red",
            linestyle="--",
            linewidth=1,
            label="target floor: first window -10%",
        )
        ax.legend(fontsize=8)
        ax.set_title(
            f"Waypost c=32, {len(wins)} consecutive {wins[0]['seconds']:.0f} s windows "
            f"({res['windows']['waiting_threads_before']} threads waiting)",
            fontsize=10,
        )
    ax.set_ylabel("cycles/s")
    ax.set_ylim(bottom=0)

    # (d) memory
    ax = axes[1][1]
    mem = res.get("memory") or {}
    if mem.get("rss_kb_large"):
        labels = ["start", f"{mem['waiting_small']} waiting", f"{mem['waiting_large']} waiting"]
        vals = [mem["rss_kb_start"] / 1024, mem["rss_kb_small"] / 1024, mem["rss_kb_large"] / 1024]
        bars = ax.bar(labels, vals, color="tab:purple")
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
        ax.set_title(f"Waypost RSS (delta {mem['delta_mb']} MB; target <= {TARGET_MEMORY_MB:g} MB)", fontsize=10)
    ax.set_ylabel("VmRSS, MiB")

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short smoke run (results are not comparable)")
    ap.add_argument("--no-peer", action="store_true", help="skip langgraph dev")
    ap.add_argument("--profile", action="store_true", help="py-spy flame graph of Waypost's c=1 (skews it)")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder (default %(default)s)")
    args = ap.parse_args(argv)
    plan = Plan.quick() if args.quick else Plan()
    started = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    res: dict[str, Any] = {
        "bench": "waypost-bench",
        "version": 1,
        "meta": {
            "timestamp": stamp,
            "quick": args.quick,
            "machine": machine(),
            "versions": versions(),
            "git": git_info(),
            "peer_spec": PEER_SPEC,
            "command": "make bench",
            "plan": {k: v for k, v in plan.__dict__.items()},
        },
    }
    peer_versions = None
    if not args.no_peer:
        try:
            peer_versions = ensure_peer_venv()
        except (subprocess.CalledProcessError, OSError) as exc:
            log(f"could not install the dev server ({exc}); its figures will be missing")
    res["meta"]["peer_versions"] = peer_versions

    busy = cpu_busy()
    res["meta"]["machine"]["cpu_busy_before"] = busy
    if busy > 0.15:
        log(f"warning: the machine is {busy:.0%} busy before the bench starts; figures will be noisy")
    res["floor"] = run_floor(plan)

    servers: list[Server] = []

    def stop_all() -> None:
        for s in servers:
            s.stop()

    def on_term(*_: Any) -> None:
        stop_all()
        sys.exit(143)

    old_term = signal.signal(signal.SIGTERM, on_term)
    try:
        with tempfile.TemporaryDirectory(prefix="waypost-bench-") as tmp_:
            tmp = Path(tmp_)
            # Each level for Waypost then at once for langgraph dev, a fresh server each time: the
            # two figures a ratio is taken from are measured back to back, on the same machine weather.
            res["waypost"] = {"levels": {}}
            res["peer"] = {"levels": {}} if peer_versions is not None else {"skipped": "not installed"}
            if args.no_peer:
                res["peer"] = {"skipped": "--no-peer"}
            for c in plan.waypost_levels:
                wres = asyncio.run(
                    run_levels(
                        lambda tag: waypost_server(tmp, tag),
                        servers,
                        {c: plan.waypost_levels[c]},
                        plan,
                        args.out / "profile" if args.profile else None,
                    )
                )
                res["waypost"]["levels"].update(wres["levels"])
                if peer_versions is not None and c in plan.peer_levels:
                    pres = asyncio.run(
                        run_levels(lambda tag: peer_server(tmp, tag), servers, {c: plan.peer_levels[c]}, plan)
                    )
                    res["peer"]["levels"].update(pres["levels"])
            # Waypost: memory, then consecutive windows on top of the waiting threads
            wm = waypost_server(tmp, "memory")
            servers.append(wm)
            try:
                wm.start()
                mem, windows = asyncio.run(run_memory_and_windows(wm, plan))
                mem["requested_small"], mem["requested_large"] = plan.memory_small, plan.memory_large
                res["memory"], res["windows"] = mem, windows
            except Exception as exc:
                log(f"{wm.name} failed: {type(exc).__name__}: {exc}")
                res["memory"] = res["windows"] = {"failed": f"{type(exc).__name__}: {str(exc)[:500]}"}
            finally:
                wm.stop()
            for s in servers:
                res.setdefault("server_logs_tail", {})[s.name] = s.log_tail(8)
    finally:
        stop_all()
        signal.signal(signal.SIGTERM, old_term)

    res["targets"] = targets(res)
    res["meta"]["machine"]["loadavg_end"] = os.getloadavg()
    res["meta"]["duration_s"] = round(time.monotonic() - started, 1)

    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(res, indent=2, default=str) + "\n"
    (args.out / f"{stamp}.json").write_text(text)
    (args.out / "latest.json").write_text(text)
    (args.out / "latest.md").write_text(markdown(res))
    chart(res, args.out / "latest.png")
    print(table(res))
    print(
        f"\nresults: {args.out / (stamp + '.json')}, {args.out / 'latest.json'}, {args.out / 'latest.png'}"
        f"  ({res['meta']['duration_s']} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
