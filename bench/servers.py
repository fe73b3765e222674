"""The servers under measurement: Waypost and the official development server (`langgraph dev`).

Each is started on a free loopback port through the process helper the tests use
(tests/serverproc.py), in its own session, and stopped by its own PID only. The dev server
lives in its own virtualenv, bench/.venv-peer, installed here on first use. A `Cluster` is one
measured service made of several such processes sharing a database (the scaled section's two
`waypost serve`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.serverproc import LocalServer, ServerProcess, free_port

from bench.log import log
from bench.plan import ROOT, SEED_DIR

PEER_VENV = ROOT / "bench" / ".venv-peer"
# Pinned, so that runs on different days compare the same dev server; override with
# WAYPOST_BENCH_PEER_SPEC.
PEER_SPEC = os.environ.get(
    "WAYPOST_BENCH_PEER_SPEC",
    "langgraph-cli[inmem]==0.4.40 langgraph-api==0.16.7 langgraph-runtime-inmem==0.36.7",
)


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
    def urls(self) -> list[str]:
        """Where requests may go: the load client spreads them over all of these in turn."""
        return [self.url]

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def pids(self) -> list[int]:
        return [self.pid]

    def start(self) -> None:
        self.process.start(timeout_s=120.0)  # langgraph dev takes seconds to import its runtime
        log(f"{self.name} up on {self.url} (pid {self.pid})")

    def running(self) -> bool:
        proc = self.process.proc
        return proc is not None and proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL to this server's own PID: the crash the takeover measurement needs."""
        self.process.kill9()
        log(f"{self.name} killed with SIGKILL")

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


class Cluster(Server):
    """Several server processes measured as one service: they share their database (and broker),
    any of them may answer any request, and their CPU time and memory are added up."""

    def __init__(self, name: str, members: list[Server]) -> None:
        super().__init__(name, members[0].url, members[0].process)
        self.members = members

    @property
    def urls(self) -> list[str]:
        return [m.url for m in self.members]

    @property
    def pids(self) -> list[int]:
        return [m.pid for m in self.members]

    def start(self) -> None:
        # One after the other: the first one up has created the schema the next ones find.
        for m in self.members:
            m.start()

    def stop(self) -> None:
        for m in self.members:
            m.stop()

    def running(self) -> bool:
        return all(m.running() for m in self.members)

    def rss_kb(self) -> int | None:
        values = [m.rss_kb() for m in self.members]
        return None if None in values else sum(v for v in values if v is not None)

    def cpu_s(self) -> float | None:
        values = [m.cpu_s() for m in self.members]
        return None if None in values else sum(v for v in values if v is not None)

    def log_tail(self, n: int = 30) -> str:
        return "\n".join(f"--- {m.name}\n{m.log_tail(n)}" for m in self.members)


# The line that says why a server refused to start: its CLI's own error, else the exception a
# traceback ends with.
_CLI_ERROR = re.compile(r"^\S+: error: (.*)$")
_EXCEPTION = re.compile(r"^[\w.]*(?:Error|Exception)\b.*: .+$")


def failure_line(log_text: str) -> str:
    """The one line of a failed start's log worth quoting in the results."""
    lines = [line.strip() for line in log_text.splitlines() if line.strip()]
    for line in lines:
        if m := _CLI_ERROR.match(line):
            return m.group(1)
    for line in reversed(lines):
        if _EXCEPTION.match(line):
            return line
    return lines[-1] if lines else "no output"


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
    # The log lives outside the app folder: the dev server watches that folder, and a log written
    # inside it would keep its reloader busy.
    process = LocalServer(argv, ready_url=f"{url}/ok", log_path=tmp / f"peer-{tag}.log", env=env, cwd=app)
    return Server(f"langgraph-dev[{tag}]", url, process)


def peer_versions() -> dict[str, Any] | None:
    """The dev server's package versions once it is installed (see ensure_peer_venv), or None when
    it cannot be: the run then goes on without its figures."""
    try:
        return ensure_peer_venv()
    except (subprocess.CalledProcessError, OSError) as exc:
        log(f"could not install the dev server ({exc}); its figures will be missing")
        return None


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


@contextmanager
def stopped_at_exit() -> Iterator[list[Server]]:
    """A list to put servers in as they are made: each is stopped when the block ends, however it
    ends. A SIGTERM to the bench stops them too, then exits with 143 as the signal would have."""
    servers: list[Server] = []

    def stop_all() -> None:
        for s in servers:
            s.stop()

    def on_term(*_: Any) -> None:
        stop_all()
        sys.exit(143)

    old_term = signal.signal(signal.SIGTERM, on_term)
    try:
        yield servers
    finally:
        stop_all()
        signal.signal(signal.SIGTERM, old_term)
