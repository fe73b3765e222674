"""Interleaved A/B: Waypost servers side by side, batches of seed cycles taken in turn.

    .venv/bin/python -m pip install -e '.[bench]'   # once (make bench does it too)
    git worktree add ../base <commit>
    .venv/bin/python bench/ab.py base=../base:postgres new=.:postgres embedded=.:sqlite

Each NAME=SOURCE:BACKEND is `waypost serve` on the seed graph with the code in SOURCE/src (this
checkout, another commit's worktree), on a fresh SQLite file or a fresh PostgreSQL schema and
Redis key prefix (bench/backing.py). All of them run at once, idle but for their turn. Every
round each takes `--batch` cycles at c=1, or, with `--concurrency N`, N loops of cycles for
`--seconds`. A slow stretch of the machine then falls on all of them alike: on a shared 2-core
machine runs taken one after another differ by 10-20%, so a change of a few percent shows here
and not in `make bench`. Prints per server the p50/p95 (c=1) or the cycles/s per round, the
server's CPU per cycle, and every PostgreSQL server's ratio to the first SQLite one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the helpers shared with the tests

from tests.serverproc import ServerProcess
from tests.stats import percentile

from bench.backing import Backing
from bench.cycle import WARMUP, cycle
from bench.servers import Server

SEED = Path(__file__).resolve().parent.parent / "examples" / "seed" / "langgraph.json"


@dataclass
class Side:
    name: str
    backend: str
    server: Server
    samples: list[float] = field(default_factory=list)  # cycle ms (c=1) or cycles/s per round
    cycles: int = 0
    cpu_s: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)


async def _counted(side: Side, client: httpx.AsyncClient) -> float | None:
    """One cycle's ms, or None after counting its failure (a measurement reports errors, as
    the bench's load does, rather than stopping at the first)."""
    try:
        return await cycle(client)
    except (httpx.HTTPError, AssertionError, ValueError) as exc:
        side.errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
        return None


def _start(stack: ExitStack, spec: str, backing: Backing, tmp: Path) -> Side:
    name, _, rest = spec.partition("=")
    source, _, backend = rest.rpartition(":")
    if not name or not source or backend not in ("sqlite", "postgres"):
        raise SystemExit(f"{spec!r}: expected NAME=SOURCE:sqlite or NAME=SOURCE:postgres")
    extra: list[str] = []
    if backend == "sqlite":
        url = f"sqlite:///{tmp / f'{name}.sqlite'}"
    else:
        url = stack.enter_context(backing.schema())
        extra = ["--redis-url", backing.redis_url, "--redis-prefix", stack.enter_context(backing.redis_prefix())]
    env = {"PYTHONPATH": str(Path(source).resolve() / "src")}
    process = ServerProcess(SEED, url, extra_args=extra, extra_env=env, log_path=tmp / f"{name}.log")
    server = Server(name, process.url, process)
    server.start()
    stack.callback(server.stop)
    return Side(name, backend, server)


async def _turn(side: Side, batch: int, concurrency: int, seconds: float) -> None:
    # A client of its own per turn: a server closes connections idle past its keep-alive
    # (uvicorn: 5 s) while the other sides take their turns, and reusing one as it closes
    # fails the request.
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=side.server.url, timeout=60, limits=limits) as client:
        await asyncio.gather(*(_counted(side, client) for _ in range(concurrency)))  # connect, uncounted
        cpu_before = side.server.cpu_s() or 0.0
        if concurrency == 1:
            times = [t for _ in range(batch) if (t := await _counted(side, client)) is not None]
            side.samples.extend(times)
            done = len(times)
        else:
            end, counts = time.perf_counter() + seconds, [0]

            async def loop() -> None:
                while time.perf_counter() < end:
                    if await _counted(side, client) is not None:
                        counts[0] += 1

            started = time.perf_counter()
            await asyncio.gather(*(loop() for _ in range(concurrency)))
            done = counts[0]
            side.samples.append(done / (time.perf_counter() - started))
        side.cpu_s += (side.server.cpu_s() or 0.0) - cpu_before
        side.cycles += done


async def _measure(sides: list[Side], rounds: int, batch: int, concurrency: int, seconds: float) -> None:
    for side in sides:
        async with httpx.AsyncClient(base_url=side.server.url, timeout=60) as client:
            for _ in range(WARMUP):
                await cycle(client)
    for _ in range(rounds):
        for side in sides:
            await _turn(side, batch, concurrency, seconds)


def _report(sides: list[Side], concurrency: int) -> None:
    for s in sides:
        if s.errors:
            print(f"{s.name:>12}  errors: {dict(s.errors)}")
        cpu = 1000 * s.cpu_s / max(s.cycles, 1)
        if concurrency == 1:
            p50, p95 = percentile(s.samples, 50), percentile(s.samples, 95)
            print(f"{s.name:>12}  c=1 p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  server CPU {cpu:6.2f} ms/cycle")
        else:
            rounds = ", ".join(f"{x:.1f}" for x in s.samples)
            print(
                f"{s.name:>12}  c={concurrency} {statistics.median(s.samples):6.1f} cycles/s (rounds: {rounds})  "
                f"server CPU {cpu:6.2f} ms/cycle"
            )
    embedded = next((s for s in sides if s.backend == "sqlite"), None)
    if embedded is None:
        return
    base = statistics.median(embedded.samples)
    for s in sides:
        if s.backend == "postgres":
            print(f"{s.name} / {embedded.name} = {statistics.median(s.samples) / base:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("servers", nargs="+", metavar="NAME=SOURCE:BACKEND")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=40, help="cycles per turn at c=1")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=12.0, help="seconds per turn with --concurrency > 1")
    args = parser.parse_args()
    backing = Backing()
    if any(spec.endswith(":postgres") for spec in args.servers) and (why := backing.unavailable()):
        raise SystemExit(why)
    with tempfile.TemporaryDirectory(prefix="waypost-ab-") as tmp, ExitStack() as stack:
        sides = [_start(stack, spec, backing, Path(tmp)) for spec in args.servers]
        asyncio.run(_measure(sides, args.rounds, args.batch, args.concurrency, args.seconds))
        _report(sides, args.concurrency)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
