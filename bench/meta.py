"""The result's meta block: where and on what the run happened, so a figure is never read
without its machine, its load just before the run, its package versions and its commit."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import time
from importlib import metadata as md
from pathlib import Path
from typing import Any

from bench.plan import ROOT, Plan
from bench.servers import PEER_SPEC


def describe(stamp: str, quick: bool, plan: Plan) -> dict[str, Any]:
    """The meta block as the run starts; the run adds its peer's versions, its CPU load and its
    duration as it goes."""
    return {
        "timestamp": stamp,
        "quick": quick,
        "machine": machine(),
        "versions": versions(),
        "git": git_info(),
        "peer_spec": PEER_SPEC,
        "command": "make bench",
        "plan": dict(vars(plan)),
    }


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
