"""The scaled section: Waypost on PostgreSQL + Redis (one process, two processes) beside Waypost
embedded and Aegra (default mode, Redis mode), in the same run.

Three measurements, each against every setup that can run here:

1. Load: the seed cycle at each level of `Plan.scaled_levels` on fresh servers with fresh
   state: at c=1 the Waypost setups side by side, measured in turns (`Plan.scaled_turns`), so
   a slow stretch of the machine falls on all of them alike; otherwise every setup one after
   the other, so each ratio is taken back to back.
2. Exactly-once: one interrupt answered `Plan.once_answers` times at once (same thread, same
   body, POST /threads/{id}/runs, spread over both processes of a two-process setup); how many
   answers were accepted (2xx) and how many times the answer was applied, counted from the
   marks the graph's node leaves in a file (bench/graphs/marks_graph.py) and from the final state.
3. Takeover: a run whose node sleeps; the process holding it (the PID the node writes in its
   mark) is killed with SIGKILL; the time until the node starts again in the other process,
   until the run reaches its interrupt, and whether the node before the cut ran again.

Each server's state is its own: a fresh PostgreSQL schema (Waypost) or database (Aegra) and a
fresh Redis key prefix, removed after it (bench/backing.py).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.serverproc import ServerProcess

from bench.aegra import AEGRA_SPEC, aegra_server, ensure_aegra, find_python
from bench.backing import Backing
from bench.load import Spread, fmt_level, interleaved_load, new_client, preflight, timed_load
from bench.log import log
from bench.plan import SCALED_CONFIG, SEED_DIR, Options, Plan
from bench.servers import Cluster, Server, failure_line

TERMINAL = {"success", "error", "interrupted", "timeout", "cancelled"}


@dataclass(frozen=True)
class Setup:
    """One way of serving the graphs, measured as one column of the scaled tables."""

    key: str
    title: str
    server: str  # "waypost" or "aegra"
    processes: int = 1
    scaled: bool = False  # Waypost on PostgreSQL + Redis; Aegra in its Redis mode


SETUPS = (
    Setup("embedded", "Waypost embedded (SQLite)", "waypost"),
    Setup("pg1", "Waypost PostgreSQL + Redis, 1 process", "waypost", 1, scaled=True),
    Setup("pg2", "Waypost PostgreSQL + Redis, 2 processes", "waypost", 2, scaled=True),
    Setup("aegra", "Aegra, default mode", "aegra"),
    Setup("aegra_redis", "Aegra, Redis mode", "aegra", 1, scaled=True),
)
BY_KEY = {s.key: s for s in SETUPS}


@dataclass
class Placer:
    """Makes a fresh server of a setup, each with state of its own, and removes that state after."""

    backing: Backing
    tmp: Path
    servers: list[Server]
    redis_prefix_flag: bool = False  # `waypost serve --help` offers --redis-prefix
    made: Counter[str] = field(default_factory=Counter)

    def _waypost(self, name: str, config: Path, database_url: str, extra: list[str], log_path: Path) -> Server:
        process = ServerProcess(config=config, database_url=database_url, extra_args=extra, log_path=log_path)
        return Server(name, process.url, process)

    @contextmanager
    def place(self, setup: Setup, config: Path, tag: str) -> Iterator[Server]:
        """A running server of `setup` serving `config`; stopped, and its state dropped, after."""
        self.made[setup.key] += 1
        stem = f"{setup.key}-{tag}-{self.made[setup.key]}"
        with ExitStack() as stack:
            members: list[Server] = []
            if setup.server == "waypost" and not setup.scaled:
                url = f"sqlite:///{self.tmp / f'{stem}.sqlite'}"
                members.append(self._waypost(f"waypost[{stem}]", config, url, [], self.tmp / f"{stem}.log"))
            elif setup.server == "waypost":
                url = stack.enter_context(self.backing.schema())
                extra = ["--redis-url", self.backing.redis_url]
                if self.redis_prefix_flag:
                    extra += ["--redis-prefix", stack.enter_context(self.backing.redis_prefix())]
                for i in range(setup.processes):
                    members.append(
                        self._waypost(f"waypost[{stem}.{i}]", config, url, extra, self.tmp / f"{stem}.{i}.log")
                    )
            else:
                url = stack.enter_context(self.backing.database())
                redis = None
                if setup.scaled:
                    redis = (self.backing.redis_url, stack.enter_context(self.backing.redis_prefix()))
                for i in range(setup.processes):
                    log_path, cwd = self.tmp / f"{stem}.{i}.log", self.tmp / "aegra-cwd"
                    members.append(aegra_server(f"aegra[{stem}.{i}]", config, url, log_path, cwd, redis))
            server: Server = members[0] if len(members) == 1 else Cluster(f"{setup.key}[{stem}]", members)
            self.servers.append(server)
            try:
                server.start()
                yield server
            finally:
                server.stop()


def _waypost_help() -> str:
    res = subprocess.run([sys.executable, "-m", "waypost", "serve", "--help"], capture_output=True, text=True)
    return res.stdout + res.stderr


def probe_waypost_scaled(placer: Placer) -> str | None:
    """None if `waypost serve` runs on PostgreSQL + Redis in this build, else the line of its
    log that says why not."""
    setup = BY_KEY["pg1"]
    try:
        with placer.place(setup, SEED_DIR / "langgraph.json", "probe"):
            return None
    except RuntimeError:
        server = placer.servers[-1]
        return failure_line(server.log_tail(200))


# --- 1. load


async def _level(server: Server, c: int, warmup: float, seconds: float, plan: Plan) -> dict[str, Any]:
    await preflight(server, plan)
    rss_start = server.rss_kb()
    (res,) = await timed_load(server, c, warmup, [seconds], plan, server.name)
    res["server_rss_kb_start"] = rss_start
    res["processes"] = len(server.urls)
    return res


async def _side_by_side(
    servers: list[Server], c: int, warmup: float, seconds: float, plan: Plan
) -> list[dict[str, Any]]:
    rss_start = []
    for server in servers:
        await preflight(server, plan)
        rss_start.append(server.rss_kb())
    found = await interleaved_load(servers, c, warmup, seconds, plan.scaled_turns, plan)
    for res, server, rss in zip(found, servers, rss_start, strict=True):
        res["server_rss_kb_start"] = rss
        res["processes"] = len(server.urls)
    return found


def _failed(c: int, exc: Exception) -> dict[str, Any]:
    return {
        "concurrency": c,
        "failed": f"{type(exc).__name__}: {str(exc)[:500]}",
        "cycles_per_s": 0.0,
        "errors": 1,
        "latency_ms": {"cycle": {"n": 0}},
    }


def _record(out: dict[str, Any], setup: Setup, c: int, res: dict[str, Any]) -> None:
    out["setups"][setup.key]["levels"][str(c)] = res
    log(fmt_level(setup.title, res))
    for sample in res.get("error_samples", [])[:2]:
        log(f"  error sample: {sample}")


def measure_levels(placer: Placer, setups: list[Setup], plan: Plan, out: dict[str, Any]) -> None:
    """Each level on fresh servers. At c=1 the Waypost setups run side by side and are measured
    by turns (interleaved_load): their latency ratio is the figure a slow stretch of a shared
    machine moves most. Otherwise every setup one after the other: back to back."""
    for c in plan.scaled_levels:
        apart = setups
        if c == 1:
            together = [s for s in setups if s.server == "waypost"]
            apart = [s for s in setups if s.server != "waypost"]
            warmup, seconds = plan.scaled_levels[c]
            try:
                with ExitStack() as stack:
                    seed = SEED_DIR / "langgraph.json"
                    servers = [stack.enter_context(placer.place(s, seed, f"c{c}")) for s in together]
                    results = asyncio.run(_side_by_side(servers, c, warmup, seconds, plan))
            except Exception as exc:  # report the failure, carry on with the others
                log(f"c={c} side by side failed: {type(exc).__name__}: {str(exc)[:500]}")
                results = [_failed(c, exc) for _ in together]
            for setup, res in zip(together, results, strict=True):
                _record(out, setup, c, res)
        for setup in apart:
            warmup, seconds = (plan.aegra_levels if setup.server == "aegra" else plan.scaled_levels)[c]
            try:
                with placer.place(setup, SEED_DIR / "langgraph.json", f"c{c}") as server:
                    res = asyncio.run(_level(server, c, warmup, seconds, plan))
            except Exception as exc:  # report the failure, carry on with the others
                res = _failed(c, exc)
                log(f"{setup.title} c={c} failed: {res['failed']}")
            _record(out, setup, c, res)


# --- marks: what the bench graphs' nodes leave behind


@dataclass(frozen=True)
class Mark:
    t: float
    pid: int
    what: str
    detail: str


def read_marks(path: Path) -> list[Mark]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        parts = line.split(" ", 3)
        if len(parts) >= 3:
            out.append(Mark(float(parts[0]), int(parts[1]), parts[2], parts[3] if len(parts) > 3 else ""))
    return out


async def _json(resp: httpx.Response, what: str) -> Any:
    if not 200 <= resp.status_code < 300:
        raise RuntimeError(f"{what}: HTTP {resp.status_code} {resp.text[:300]}")
    return resp.json()


async def wait_run(client: httpx.AsyncClient | Spread, thread_id: str, run_id: str, within: float) -> str:
    """Poll a run until it has ended; its final status, or "still <status>" at the deadline."""
    deadline = time.monotonic() + within
    status = "unknown"
    while time.monotonic() < deadline:
        r = await client.get(f"/threads/{thread_id}/runs/{run_id}")
        if r.status_code == 200:
            status = str(r.json().get("status"))
            if status in TERMINAL:
                return status
        await asyncio.sleep(0.1)
    return f"still {status}"


# --- 2. exactly-once


async def once_round(server: Server, marks: Path, answers: int, plan: Plan) -> dict[str, Any]:
    async with Spread(server.urls, answers, plan.request_timeout * 2) as client:
        thread = await _json(await client.post("/threads", json={}), "create thread")
        tid = thread["thread_id"]
        first = await _json(
            await client.post(
                f"/threads/{tid}/runs/wait", json={"assistant_id": "once", "input": {"marks": str(marks)}}
            ),
            "run to the interrupt",
        )
        if not first.get("__interrupt__"):
            raise RuntimeError(f"the run did not stop at its interrupt: {str(first)[:300]}")
        body = {"assistant_id": "once", "command": {"resume": "yes"}}
        # The tasks start in order and each takes its process before its first await, so the
        # answers go to the processes in turn.
        sent = [client.post(f"/threads/{tid}/runs", json=body) for _ in range(answers)]
        replies = await asyncio.gather(*sent, return_exceptions=True)
        codes: Counter[str] = Counter()
        run_ids = []
        refused = ""  # what one refused answer was told, for the report
        for r in replies:
            if isinstance(r, httpx.Response):
                codes[str(r.status_code)] += 1
                if 200 <= r.status_code < 300:
                    run_ids.append(r.json()["run_id"])
                elif not refused:
                    refused = f"{r.status_code} {r.text[:200]}"
            else:
                codes[type(r).__name__] += 1
                refused = refused or f"{type(r).__name__}: {r}"
        ends = await asyncio.gather(*(wait_run(client, tid, rid, plan.takeover_cap_s) for rid in run_ids))
        state = await _json(await client.get(f"/threads/{tid}/state"), "thread state")
    values = state.get("values") or {}
    applied = [m for m in read_marks(marks) if m.what == "applied"]
    return {
        "accepted": len(run_ids),
        "applied": len(applied),
        "answers_in_state": len(values.get("answers") or []),
        "status_codes": dict(codes),
        "refused_sample": refused,
        "run_ends": dict(Counter(ends)),
        "applied_by_pids": sorted({m.pid for m in applied}),
    }


def measure_once(placer: Placer, setups: list[Setup], plan: Plan, out: dict[str, Any]) -> None:
    for setup in setups:
        rounds: list[dict[str, Any]] = []
        entry: dict[str, Any] = {"title": setup.title, "answers_per_round": plan.once_answers, "rounds": rounds}
        out["exactly_once"][setup.key] = entry
        try:
            with placer.place(setup, SCALED_CONFIG, "once") as server:
                for i in range(plan.once_repeats):
                    marks = placer.tmp / f"once-{setup.key}-{i}-{uuid.uuid4().hex[:6]}.marks"
                    try:
                        rounds.append(asyncio.run(once_round(server, marks, plan.once_answers, plan)))
                    except Exception as exc:
                        rounds.append({"failed": f"{type(exc).__name__}: {str(exc)[:300]}"})
        except Exception as exc:
            entry["failed"] = f"{type(exc).__name__}: {str(exc)[:500]}"
        done = [r for r in rounds if "failed" not in r]
        entry["accepted"] = [r["accepted"] for r in done]
        entry["applied"] = [r["applied"] for r in done]
        entry["answers_in_state"] = [r["answers_in_state"] for r in done]
        entry["failed_rounds"] = len(rounds) - len(done)
        codes: Counter[str] = Counter()
        for r in done:
            codes.update(r["status_codes"])
        entry["status_codes"] = dict(codes)
        entry["refused_sample"] = next((r["refused_sample"] for r in done if r["refused_sample"]), "")
        entry["once_every_time"] = (
            bool(done)
            and len(done) == plan.once_repeats
            and all(r["applied"] == 1 and r["answers_in_state"] == 1 for r in done)
        )
        log(
            f"exactly-once {setup.title}: accepted {entry['accepted']}, applied {entry['applied']}, "
            f"answers in state {entry['answers_in_state']}"
            + (f"; {entry['failed_rounds']} rounds failed" if entry["failed_rounds"] else "")
            + (f"; {entry['failed']}" if "failed" in entry else "")
        )
        for r in rounds:
            if "failed" in r:
                log(f"  failed round: {r['failed']}")
                break


# --- 3. takeover after kill -9


async def _wait_mark(path: Path, ok: Any, within: float) -> Mark | None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for m in read_marks(path):
            if ok(m):
                return m
        await asyncio.sleep(0.02)
    return None


async def takeover_round(cluster: Cluster, marks: Path, plan: Plan) -> dict[str, Any]:
    async with Spread(cluster.urls, 2, plan.request_timeout) as client:
        tid = (await _json(await client.post("/threads", json={}), "create thread"))["thread_id"]
        run = await _json(
            await client.post(
                f"/threads/{tid}/runs",
                json={"assistant_id": "slow", "input": {"marks": str(marks), "sleep_s": plan.takeover_sleep_s}},
            ),
            "start the run",
        )
    started = await _wait_mark(marks, lambda m: m.what == "slow-start", 60.0)
    if started is None:
        raise RuntimeError("the slow node never started")
    holders = [m for m in cluster.members if m.pid == started.pid]
    if not holders:
        raise RuntimeError(f"the node ran in PID {started.pid}, none of this cluster's processes")
    holder = holders[0]
    survivor = next(m for m in cluster.members if m is not holder)
    # Half a second into the node: the checkpoint after `before` has long been written.
    await asyncio.sleep(max(0.0, started.t + 0.5 - time.time()))
    t_kill = time.time()
    holder.kill9()
    again = await _wait_mark(
        marks, lambda m: m.what == "slow-start" and m.t > t_kill and m.pid != started.pid, plan.takeover_cap_s
    )
    t_again = time.time() if again is None else again.t
    async with new_client(survivor.url, 2, plan.request_timeout) as alive:
        left = max(5.0, plan.takeover_cap_s - (time.time() - t_kill) + plan.takeover_sleep_s)
        status = await wait_run(alive, tid, run["run_id"], left)
        t_end = time.time()
        state = (await alive.get(f"/threads/{tid}/state")).json()
    seen = read_marks(marks)
    count = Counter(m.what for m in seen)
    return {
        "holder": holder.name,
        "survivor": survivor.name,
        "taken_over": again is not None,
        "takeover_s": round(t_again - t_kill, 3) if again is not None else None,
        "run_status": status,
        "run_end_s": round(t_end - t_kill, 3) if status in TERMINAL else None,
        "before_runs": count["before"],
        "slow_starts": count["slow-start"],
        "slow_ends": count["slow-end"],
        "steps_in_state": (state.get("values") or {}).get("steps"),
        "continued_in_pid": again.pid if again is not None else None,
    }


def measure_takeover(placer: Placer, setups: list[Setup], plan: Plan, out: dict[str, Any]) -> None:
    for setup in setups:
        repeats = plan.aegra_takeover_repeats if setup.server == "aegra" else plan.takeover_repeats
        rounds: list[dict[str, Any]] = []
        entry: dict[str, Any] = {"title": setup.title, "sleep_s": plan.takeover_sleep_s, "rounds": rounds}
        out["takeover"][setup.key] = entry
        try:
            with placer.place(setup, SCALED_CONFIG, "takeover") as server:
                assert isinstance(server, Cluster)
                for i in range(repeats):
                    marks = placer.tmp / f"takeover-{setup.key}-{i}-{uuid.uuid4().hex[:6]}.marks"
                    try:
                        r = asyncio.run(takeover_round(server, marks, plan))
                    except Exception as exc:
                        r = {"failed": f"{type(exc).__name__}: {str(exc)[:300]}"}
                    rounds.append(r)
                    log(f"takeover {setup.title} #{i + 1}: {r}")
                    for m in server.members:  # the killed one comes back for the next round
                        if not m.running():
                            m.start()
        except Exception as exc:
            entry["failed"] = f"{type(exc).__name__}: {str(exc)[:500]}"
            log(f"takeover {setup.title} failed: {entry['failed']}")
        done = [r for r in rounds if "failed" not in r]
        times = [r["takeover_s"] for r in done if r["takeover_s"] is not None]
        entry["takeover_s"] = times
        entry["max_takeover_s"] = max(times) if times else None
        entry["not_taken_over"] = sum(1 for r in done if not r["taken_over"])
        entry["before_ran_again"] = sum(1 for r in done if r["before_runs"] != 1)
        entry["failed_rounds"] = len(rounds) - len(done)


# --- the section


def measure_scaled(plan: Plan, options: Options, tmp: Path, servers: list[Server]) -> dict[str, Any]:
    """The "scaled" part of the result."""
    out: dict[str, Any] = {"setups": {}, "exactly_once": {}, "takeover": {}}
    backing = Backing()
    why = backing.unavailable()
    out["backing"] = {"database_url": backing.database_url, "redis_url": backing.redis_url}
    if why:
        log(f"scaled section skipped: {why}")
        out["skipped"] = why
        return out
    for s in SETUPS:
        out["setups"][s.key] = {"title": s.title, "processes": s.processes, "levels": {}}

    first = len(servers)  # this section's servers are the ones added from here on
    placer = Placer(backing, tmp / "scaled", servers, redis_prefix_flag="--redis-prefix" in _waypost_help())
    placer.tmp.mkdir(parents=True, exist_ok=True)
    active: list[Setup] = [BY_KEY["embedded"]]

    error = probe_waypost_scaled(placer)
    out["waypost_scaled"] = {"available": error is None, "error": error, "redis_prefix_flag": placer.redis_prefix_flag}
    if error is None:
        active += [BY_KEY["pg1"], BY_KEY["pg2"]]
        if not placer.redis_prefix_flag:
            log("waypost serve has no --redis-prefix here: its Redis keys use its default prefix and are left alone")
    else:
        log(f"Waypost scaled: not available in this build: {error}")
        for key in ("pg1", "pg2"):
            out["setups"][key]["skipped"] = f"not available in this build: {error}"

    aegra: dict[str, Any] = {"spec": AEGRA_SPEC}
    out["aegra"] = aegra
    if options.no_aegra:
        aegra["skipped"] = "--no-aegra"
    else:
        python = find_python(options.aegra_python)
        if python is None:
            aegra["skipped"] = (
                f"no Python >= 3.12 found ({options.aegra_python} is not one)"
                if options.aegra_python
                else "no Python >= 3.12 found (looked on PATH and in pyenv's versions; --aegra-python names one)"
            )
        else:
            aegra["python"] = {"path": python.path, "version": python.version, "found_by": python.found_by}
            log(f"Aegra runs on Python {python.version}: {python.path} (found by {python.found_by})")
            try:
                aegra["versions"] = ensure_aegra(python)
                active += [BY_KEY["aegra"], BY_KEY["aegra_redis"]]
            except (subprocess.CalledProcessError, OSError) as exc:
                aegra["skipped"] = f"could not install {AEGRA_SPEC}: {exc}"
    if "skipped" in aegra:
        log(f"Aegra skipped: {aegra['skipped']}")
        for key in ("aegra", "aegra_redis"):
            out["setups"][key]["skipped"] = aegra["skipped"]

    measure_levels(placer, active, plan, out)
    measure_once(placer, active, plan, out)
    two_process = [BY_KEY["pg2"]] if BY_KEY["pg2"] in active else []
    if BY_KEY["aegra_redis"] in active:
        # Aegra's crash recovery exists in its Redis mode only; two processes so one survives.
        two_process.append(Setup("aegra_redis2", "Aegra, Redis mode, 2 processes", "aegra", 2, scaled=True))
    measure_takeover(placer, two_process, plan, out)
    out["takeover_not_run"] = {
        "embedded": "one process: nothing to take over",
        "aegra": "Aegra's default mode has no crash recovery (its runs are tasks of the API process)",
    }
    for s in servers[first:]:
        out.setdefault("server_logs_tail", {})[s.name] = s.log_tail(8)
    return out
