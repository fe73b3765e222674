"""Aegra, the open-source server of the same API on PostgreSQL, as the scaled section runs it.

It needs Python >= 3.12, which the bench itself may not run on: an interpreter is looked for
(the --aegra-python flag, then `python3.N` on PATH, then pyenv's versions), and Aegra is
installed into its own virtualenv, bench/.venv-aegra, once per pinned spec.

How it is run (all of it read from the installed aegra-api package, not guessed):
- `aegra serve` resolves the config, sets AEGRA_CONFIG and then runs
  `python -m uvicorn aegra_api.main:app --host H --port P` as a child. The bench runs that
  uvicorn command itself, so the PID it holds, measures and kills is the server's own and
  not a wrapper's.
- Configuration is environment only (pydantic settings): DATABASE_URL (its asyncpg side takes
  no search_path, hence a database per server), AEGRA_CONFIG (a langgraph.json works), and
  migrations run at start-up (RUN_MIGRATIONS_ON_STARTUP, on by default).
- Default mode: runs are asyncio tasks in the API process, events go through an in-memory
  broker; no crash recovery.
- Redis mode: REDIS_BROKER_ENABLED=true and REDIS_URL; runs are pushed on a Redis list
  (WORKER_QUEUE_KEY) and taken by worker coroutines in every process, events go through Redis
  pub/sub under REDIS_CHANNEL_PREFIX, and a lease reaper re-queues the runs of a dead worker.
  Both key names are given the bench's prefix, so its keys can be deleted by that prefix.
- LOG_LEVEL=WARNING: its per-request access lines at INFO would be measured as server CPU;
  Waypost logs no access lines either.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.serverproc import LocalServer, free_port

from bench.log import log
from bench.plan import ROOT
from bench.servers import Server

AEGRA_VENV = ROOT / "bench" / ".venv-aegra"
# Pinned, so runs on different days compare the same Aegra; override with WAYPOST_BENCH_AEGRA_SPEC.
AEGRA_SPEC = os.environ.get("WAYPOST_BENCH_AEGRA_SPEC", "aegra-api==0.11.0 aegra-cli==0.11.0")
MIN_PYTHON = (3, 12)
# Variables of the calling shell that must not reach Aegra: keys, and anything that would point
# it at another database, broker, config or Python path than the one the bench gives it.
_DROPPED = re.compile(
    r"^(LANGGRAPH_API_KEY|LANGSMITH_\w+|LANGCHAIN_\w+|OPENAI_API_KEY|PYTHONPATH|VIRTUAL_ENV|"
    r"DATABASE_URL|POSTGRES_\w+|REDIS_\w+|WORKER_\w+|AEGRA_\w+|AUTH_TYPE|OTEL_\w+|HOST|PORT)$"
)


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: str
    found_by: str


def _probe(candidate: str) -> tuple[tuple[int, int, int], str] | None:
    """The version and real executable of `candidate`, or None if it does not run."""
    try:
        out = subprocess.run(
            [candidate, "-c", "import sys; print(*sys.version_info[:3], sys.executable)"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = out.stdout.split()
    if out.returncode != 0 or len(parts) != 4:
        return None
    return (int(parts[0]), int(parts[1]), int(parts[2])), parts[3]


def _pyenv_candidates() -> list[str]:
    """pyenv's installed CPython versions, oldest first: a search of its versions folder."""
    root: str | None = None
    if shutil.which("pyenv"):
        res = subprocess.run(["pyenv", "root"], capture_output=True, text=True)
        root = res.stdout.strip() or None
    root = root or os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    versions = Path(root) / "versions"
    found: list[tuple[tuple[int, ...], str]] = []
    if versions.is_dir():
        for d in versions.iterdir():
            if re.fullmatch(r"\d+\.\d+\.\d+", d.name) and (d / "bin" / "python3").exists():
                found.append((tuple(int(x) for x in d.name.split(".")), str(d / "bin" / "python3")))
    return [p for _, p in sorted(found)]


def find_python(explicit: str | None) -> Interpreter | None:
    """An interpreter Aegra can run on, or None. `explicit` (--aegra-python) is the only one
    tried when given, so a wrong flag is reported rather than silently replaced. Otherwise the
    oldest that qualifies: 3.12 is the version Aegra's package classifiers name. A pyenv shim on
    PATH whose version is not selected fails to run and is passed over."""
    if explicit:
        candidates = [(explicit, "--aegra-python")]
    else:
        on_path = [
            (p, "PATH")
            for name in ("python3.12", "python3.13", "python3.14", "python3")
            if (p := shutil.which(name)) is not None
        ]
        candidates = on_path + [(p, "pyenv versions") for p in _pyenv_candidates()]
    for candidate, how in candidates:
        probed = _probe(candidate)
        if probed is not None and probed[0][:2] >= MIN_PYTHON:
            version, executable = probed
            return Interpreter(executable, ".".join(map(str, version)), how)
    return None


def ensure_aegra(python: Interpreter) -> dict[str, Any]:
    """Create bench/.venv-aegra with `python` and install AEGRA_SPEC into it (once per spec and
    interpreter); returns the installed versions."""
    stamp = AEGRA_VENV / ".bench-installed"
    wanted = f"{AEGRA_SPEC}\n{python.path}\n"
    if stamp.exists() and stamp.read_text() == wanted and (AEGRA_VENV / "bin" / "python").exists():
        log(f"aegra venv ready: {AEGRA_VENV}")
    else:
        log(f"installing Aegra into {AEGRA_VENV} with Python {python.version} ({python.path}): {AEGRA_SPEC}")
        if AEGRA_VENV.exists():
            shutil.rmtree(AEGRA_VENV)  # a venv made by another interpreter cannot be reused
        subprocess.run([python.path, "-m", "venv", str(AEGRA_VENV)], check=True)
        pip = [str(AEGRA_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, *AEGRA_SPEC.split()], check=True)
        stamp.write_text(wanted)
    probe = (
        "import json, sys, importlib.metadata as m\n"
        "out = {'python': sys.version.split()[0]}\n"
        "for d in ('aegra-api', 'aegra-cli', 'langgraph', 'langgraph-checkpoint-postgres', 'asyncpg', "
        "'redis', 'uvicorn', 'uvloop'):\n"
        "    try: out[d] = m.version(d)\n"
        "    except m.PackageNotFoundError: out[d] = None\n"
        "print(json.dumps(out))"
    )
    res = subprocess.run([str(AEGRA_VENV / "bin" / "python"), "-c", probe], check=True, capture_output=True, text=True)
    return dict(json.loads(res.stdout))


def aegra_server(
    name: str,
    config: Path,
    database_url: str,
    log_path: Path,
    cwd: Path,
    redis: tuple[str, str] | None = None,
) -> Server:
    """One Aegra process on a free port. `redis` is (URL, key prefix) for its Redis mode; None
    runs its default mode. `cwd` is an empty folder: no .env or aegra.json of ours is found."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not _DROPPED.match(k)}
    env.update(
        DATABASE_URL=database_url,
        AEGRA_CONFIG=str(config),
        LOG_LEVEL="WARNING",
        PATH=f"{AEGRA_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    if redis is not None:
        redis_url, prefix = redis
        env.update(
            REDIS_BROKER_ENABLED="true",
            REDIS_URL=redis_url,
            REDIS_CHANNEL_PREFIX=f"{prefix}run:",
            WORKER_QUEUE_KEY=f"{prefix}jobs",
        )
    argv = [
        str(AEGRA_VENV / "bin" / "python"),
        *("-m", "uvicorn", "aegra_api.main:app"),
        *("--host", "127.0.0.1", "--port", str(port)),
    ]
    cwd.mkdir(parents=True, exist_ok=True)
    process = LocalServer(argv, ready_url=f"{url}/health", log_path=log_path, env=env, cwd=cwd)
    return Server(name, url, process)
