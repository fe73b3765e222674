"""Real server processes on free loopback ports, for the tests and the benchmark.

`LocalServer` is the generic part: it starts a command with the environment it is given,
sends its output to a log file, waits until a URL answers, and stops it by its own PID
(SIGTERM, then SIGKILL): never by name, so nothing else on the machine is touched.
`ServerProcess` is `waypost serve` on top of it, what the tests start: they talk to it over
HTTP with the official SDKs, nothing is faked, and each test server gets its own database so
tests never share state by accident.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

import httpx

from tests.polling import eventually_sync

ROOT = Path(__file__).resolve().parent.parent
SEED_CONFIG = ROOT / "examples" / "seed" / "langgraph.json"
TEST_GRAPHS_CONFIG = ROOT / "tests" / "graphs" / "langgraph.json"

# Some servers colour their logs; a log tail quoted in a failure reads better without it.
_ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
# A developer's LangSmith key must never reach our server or its logs.
_SECRET_KEYS = ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalServer:
    """A command serving HTTP on this machine, ready once `ready_url` answers 200.

    `env` is the whole environment of the command (this process's when None). The log file is
    appended to, so a server restarted on the same path keeps one history; without a path, it
    goes to a fresh temporary folder.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        ready_url: str,
        log_path: Path | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self.ready_url = ready_url
        self.log_path = log_path
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    def start(self, timeout_s: float = 30.0) -> Self:
        if self.log_path is None:
            self.log_path = Path(tempfile.mkdtemp(prefix="server-")) / "server.log"
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C at the terminal reaches only the owner, which then
                # stops its servers in order instead of having them die mid-request.
                start_new_session=True,
            )
        try:
            self.wait_ready(timeout_s)
        except RuntimeError:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout_s: float = 30.0) -> object:
        """Poll `ready_url` until it answers 200; returns its JSON body. Fails at once if the
        process exits."""
        proc = self.proc
        assert proc is not None, "not started"

        def answer() -> object | None:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{self.log_tail()}")
            try:
                response = httpx.get(self.ready_url, timeout=2.0)
            except httpx.HTTPError:
                return None  # not listening yet
            return response.json() if response.status_code == 200 else None

        try:
            return eventually_sync(
                answer,
                lambda body: body is not None,
                within=timeout_s,
                what=f"{self.ready_url} answering",
                explain=self.log_tail,
            )
        except AssertionError as exc:
            raise RuntimeError(str(exc)) from None

    def log_tail(self, lines: int = 30) -> str:
        """The last `lines` lines of the log, colour codes removed."""
        if self.log_path is None:
            return ""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(_ANSI_COLOUR.sub("", text).splitlines()[-lines:])

    def stop(self, timeout_s: float = 15.0) -> None:
        """Graceful stop: SIGTERM to our own PID, SIGKILL if it is still there after `timeout_s`."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill9()

    def kill9(self) -> None:
        """Crash the server the hard way: SIGKILL to our own PID, no cleanup."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class ServerProcess(LocalServer):
    """`waypost serve` on a free loopback port (or `port`), with `config` and `database_url`.

    Its settings come from these flags, `extra_args` and `extra_env` only: WAYPOST_* variables of
    the calling shell are dropped, so a developer's environment cannot change what is tested or
    measured, and so are LangSmith keys.
    """

    def __init__(
        self,
        config: Path,
        database_url: str,
        port: int | None = None,
        *,
        extra_args: Sequence[str] = (),
        extra_env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.config = config
        self.database_url = database_url
        self.port = free_port() if port is None else port
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAYPOST_") and k not in _SECRET_KEYS}
        env.update(extra_env or {})
        argv = [
            *(sys.executable, "-m", "waypost", "serve"),
            *("--config", str(config), "--host", "127.0.0.1", "--port", str(self.port)),
            *("--database-url", database_url),
            *extra_args,
        ]
        super().__init__(argv, ready_url=f"{self.url}/ok", log_path=log_path, env=env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class WorkerProcess(LocalServer):
    """`waypost worker`: runs only, no HTTP. Ready once it says so in its log."""

    READY_LINE = "worker executing runs"

    def __init__(
        self,
        config: Path,
        database_url: str,
        *,
        extra_args: Sequence[str] = (),
        extra_env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
    ) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAYPOST_") and k not in _SECRET_KEYS}
        env.update(extra_env or {})
        argv = [
            *(sys.executable, "-m", "waypost", "worker", "--config", str(config)),
            *("--database-url", database_url),
            *extra_args,
        ]
        super().__init__(argv, ready_url="", log_path=log_path, env=env)

    def wait_ready(self, timeout_s: float = 30.0) -> object:
        proc = self.proc
        assert proc is not None, "not started"

        def said() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited with {proc.returncode}:\n{self.log_tail()}")
            return self.READY_LINE in (self.log_path.read_text(errors="replace") if self.log_path else "")

        try:
            return eventually_sync(said, bool, within=timeout_s, what="the worker starting", explain=self.log_tail)
        except AssertionError as exc:
            raise RuntimeError(str(exc)) from None
