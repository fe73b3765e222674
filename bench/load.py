"""The load: an asyncio + httpx client driving the seed's cycle over HTTP, and the phases built
on it.

A cycle is POST /threads -> POST /threads/{id}/runs/wait (input, to the interrupt) ->
POST /threads/{id}/runs/wait (command resume); every response is checked. The same client
drives Waypost and `langgraph dev`, so their figures differ only by the server. Against a
service of several processes (a `Cluster`), requests go to its processes in turn, one request
after another, so a cycle's three requests are answered by different processes.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from tests.stats import summarize_ms

from bench.flame import finish_profile, start_profile
from bench.log import log
from bench.plan import Plan
from bench.servers import Server, peer_server, waypost_server

ASSISTANT = "agent"
CALLS = ("create_thread", "run_interrupt", "run_resume", "cycle")


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


async def to_interrupt(client: Spread, tag: str, t: dict[str, float]) -> str:
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


async def one_cycle(client: Spread, tag: str) -> dict[str, float]:
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


class Spread:
    """One HTTP client per process of the measured service, used in turn, request by request:
    with one process it is a plain client; with several, any process may get any request, which
    is what a load balancer in front of them would do."""

    def __init__(self, urls: list[str], concurrency: int, timeout: float) -> None:
        self.clients = [new_client(u, concurrency, timeout) for u in urls]
        self._turn = 0

    def next_client(self) -> httpx.AsyncClient:
        client = self.clients[self._turn % len(self.clients)]
        self._turn += 1
        return client

    async def post(self, path: str, json: Any = None) -> httpx.Response:
        return await self.next_client().post(path, json=json)

    async def get(self, path: str) -> httpx.Response:
        return await self.next_client().get(path)

    async def __aenter__(self) -> Spread:
        return self

    async def __aexit__(self, *_: object) -> None:
        for c in self.clients:
            await c.aclose()


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


async def _cycles(client: Spread, concurrency: int, until: float, tally: Tally, label: str, counter: list[int]) -> None:
    """`concurrency` loops of seed cycles until `until` (perf_counter), each counted in tally."""

    async def worker(wid: int) -> None:
        n = 0
        while time.perf_counter() < until:
            n += 1
            counter[0] += 1
            await _guarded(partial(one_cycle, client, f"{label}-w{wid}-{n}-{counter[0]}"), tally)

    await asyncio.gather(*(worker(i) for i in range(concurrency)))


async def _drained(
    client: Spread, concurrency: int, until: float, tally: Tally, label: str, counter: list[int], cap_s: float
) -> None:
    """_cycles, giving up on cycles still in flight cap_s after `until` (counted as errors)."""
    task = asyncio.create_task(_cycles(client, concurrency, until, tally, label, counter))
    try:
        await asyncio.wait_for(task, timeout=max(0.0, until - time.perf_counter()) + cap_s)
    except TimeoutError:
        tally.errors["bench:cancelled_in_flight_at_drain_cap"] += 1


def _window(
    concurrency: int, tally: Tally, spans: list[tuple[float, float]], server_cpu: float | None, rss_kb: float | None
) -> dict[str, Any]:
    """One measured result: the cycles that started and ended within `spans` (measured time,
    in one piece or in turns), with the server CPU spent over them."""
    seconds = sum(hi - lo for lo, hi in spans)
    done = sum(1 for e in tally.ends if any(lo <= e < hi for lo, hi in spans))
    lat = [t for st, t in zip(tally.starts, tally.lat, strict=True) if any(lo <= st < hi for lo, hi in spans)]
    return {
        "concurrency": concurrency,
        "seconds": round(seconds, 3),
        "cycles": done,
        "cycles_per_s": round(done / seconds, 3),
        "runs_per_s": round(2 * done / seconds, 3),
        "latency_ms": {k: summarize_ms([t[k] for t in lat]) for k in CALLS},
        "server_cpu_s": None if server_cpu is None else round(server_cpu, 3),
        "server_cpu_ms_per_cycle": round(1000 * server_cpu / done, 3) if server_cpu is not None and done else None,
        "server_rss_kb_end": rss_kb,
    }


def _errors(tally: Tally, client_cpu: float, wall: float) -> dict[str, Any]:
    return {
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors),
        "error_samples": tally.error_samples,
        "client_cpu_s": round(client_cpu, 3),
        "client_cpu_share_of_wall": round(client_cpu / wall, 3),
    }


def _client_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def timed_load(
    server: Server, concurrency: int, warmup: float, windows: list[float], plan: Plan, label: str
) -> list[dict[str, Any]]:
    """`concurrency` workers loop over cycles for warmup + sum(windows) seconds of one continuous
    load; the measured part is sliced into consecutive windows. Returns one result per window."""
    tally = Tally()
    async with Spread(server.urls, concurrency, plan.request_timeout) as client:
        t0 = time.perf_counter()
        bounds = [t0 + warmup]
        for w in windows:
            bounds.append(bounds[-1] + w)
        samples: list[tuple[float, float | None, int | None]] = []

        async def sampler() -> None:  # server CPU and RSS at each window boundary
            for b in bounds:
                await asyncio.sleep(max(0.0, b - time.perf_counter()))
                samples.append((time.perf_counter(), server.cpu_s(), server.rss_kb()))

        cpu0 = _client_cpu()
        sampler_task = asyncio.create_task(sampler())
        await _drained(client, concurrency, bounds[-1], tally, label, [0], plan.drain_cap_s)
        await sampler_task
        client_cpu = _client_cpu() - cpu0

    out = []
    for i in range(len(windows)):
        cpu0_s, cpu1_s = samples[i][1], samples[i + 1][1]
        server_cpu = None if cpu0_s is None or cpu1_s is None else cpu1_s - cpu0_s
        result = _window(concurrency, tally, [(bounds[i], bounds[i + 1])], server_cpu, samples[i + 1][2])
        out.append({**result, "warmup_s": warmup if i == 0 else 0.0})
    out[0].update(_errors(tally, client_cpu, bounds[-1] - t0))
    for o in out[1:]:
        o.update(errors=None)  # errors are counted over the whole continuous load, in window 1's record
    return out


async def interleaved_load(
    servers: list[Server], concurrency: int, warmup: float, seconds: float, turns: int, plan: Plan
) -> list[dict[str, Any]]:
    """Several servers, all running, measured by turns: each gets `turns` windows of
    seconds / turns, taken one server after the other, so a slow stretch of a shared machine
    falls on every server alike (back to back, runs here differ by 10-20%). Each server is
    warmed up first; one result per server, in timed_load's form."""
    tallies = [Tally() for _ in servers]
    spans: list[list[tuple[float, float]]] = [[] for _ in servers]
    cpu: list[float | None] = [0.0 for _ in servers]
    client_cpu = [0.0 for _ in servers]
    counter = [0]
    for server, tally in zip(servers, tallies, strict=True):  # its errors count; its cycles are before any span
        async with Spread(server.urls, concurrency, plan.request_timeout) as client:
            until = time.perf_counter() + warmup
            await _drained(client, concurrency, until, tally, server.name, counter, plan.drain_cap_s)
    for _ in range(turns):
        for i, server in enumerate(servers):
            # A client of its own per turn: an idle keep-alive connection may have been closed
            # by the server while the others took their turns.
            async with Spread(server.urls, concurrency, plan.request_timeout) as client:
                cpu_before, ours_before, start = server.cpu_s(), _client_cpu(), time.perf_counter()
                end = start + seconds / turns
                await _drained(client, concurrency, end, tallies[i], server.name, counter, plan.drain_cap_s)
                cpu_after = server.cpu_s()
                spans[i].append((start, end))
                client_cpu[i] += _client_cpu() - ours_before
                used = cpu[i]
                if used is None or cpu_before is None or cpu_after is None:
                    cpu[i] = None
                else:
                    cpu[i] = used + cpu_after - cpu_before
    out = []
    for i, server in enumerate(servers):
        result = _window(concurrency, tallies[i], spans[i], cpu[i], server.rss_kb())
        wall = sum(hi - lo for lo, hi in spans[i])
        out.append({**result, "warmup_s": warmup, "turns": turns, **_errors(tallies[i], client_cpu[i], wall)})
    return out


async def count_load(
    server: Server, concurrency: int, target: int, cap_s: float, plan: Plan, label: str
) -> dict[str, Any]:
    """Leave `target` more threads waiting at an interrupt, `concurrency` at a time, within cap_s."""
    tally = Tally()
    issued = [0]
    t0 = time.perf_counter()
    deadline = t0 + cap_s
    async with Spread(server.urls, concurrency, plan.request_timeout) as client:
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
    async with Spread(server.urls, 1, plan.request_timeout) as client:
        await one_cycle(client, "preflight")


def fmt_level(name: str, r: dict[str, Any]) -> str:
    c = r["latency_ms"]["cycle"]
    err = f" errors={r['errors']} {r['error_kinds']}" if r.get("errors") else ""
    cpu = r.get("server_cpu_ms_per_cycle")
    return (
        f"{name} c={r['concurrency']}: {r['cycles_per_s']} cycles/s, cycle p50 {c.get('p50')} ms "
        f"p95 {c.get('p95')} ms, server CPU {cpu} ms/cycle{err}"
    )


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
            spy = (
                start_profile(server.pid, profile_dir, warmup, seconds) if profile_dir is not None and c == 1 else None
            )
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


def measure_servers(
    plan: Plan, tmp: Path, servers: list[Server], peer_skipped: str | None, profile_dir: Path | None
) -> dict[str, Any]:
    """Phases 2 and 3: the "waypost", "peer", "memory", "windows" and "server_logs_tail" parts of
    the result. Servers are made in `tmp` and put in `servers` as they are made."""
    res: dict[str, Any] = {"waypost": {"levels": {}}}
    res["peer"] = {"skipped": peer_skipped} if peer_skipped else {"levels": {}}
    # Each level for Waypost then at once for langgraph dev, a fresh server each time: the two
    # figures a ratio is taken from are measured back to back, on the same machine weather.
    for c in plan.waypost_levels:
        wres = asyncio.run(
            run_levels(lambda tag: waypost_server(tmp, tag), servers, {c: plan.waypost_levels[c]}, plan, profile_dir)
        )
        res["waypost"]["levels"].update(wres["levels"])
        if not peer_skipped and c in plan.peer_levels:
            pres = asyncio.run(run_levels(lambda tag: peer_server(tmp, tag), servers, {c: plan.peer_levels[c]}, plan))
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
    return res
