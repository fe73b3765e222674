"""Start a real `waypost serve` process on a free loopback port, for tests.

Tests talk to it over HTTP with the official SDKs; nothing is faked. Each
server gets its own SQLite file so tests never share state by accident.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.polling import eventually_sync

ROOT = Path(__file__).resolve().parent.parent
SEED_CONFIG = ROOT / "examples" / "seed" / "langgraph.json"
TEST_GRAPHS_CONFIG = ROOT / "tests" / "graphs" / "langgraph.json"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    config: Path
    database_url: str
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> ServerProcess:
        env = {**os.environ, **self.extra_env}
        # A developer's LangSmith key must never reach our server or its logs.
        for key in ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"):
            env.pop(key, None)
        self.log_path = Path(self.database_url.removeprefix("sqlite:///") + ".log")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "waypost",
                "serve",
                "--config",
                str(self.config),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--database-url",
                self.database_url,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.wait_ready(timeout_s)
        return self

    def wait_ready(self, timeout_s: float = 30.0) -> object:
        """Poll /ok until the server answers; returns its body. Fails at once if it exits."""
        proc = self.proc
        assert proc is not None

        def answer() -> object | None:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}: {self.log()}")
            try:
                response = httpx.get(self.url + "/ok", timeout=1.0)
            except httpx.HTTPError:
                return None  # not listening yet
            return response.json() if response.status_code == 200 else None

        return eventually_sync(
            answer, lambda body: body is not None, within=timeout_s, what="server answering /ok", explain=self.log
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path else ""

    def stop(self) -> None:
        """Graceful stop (SIGTERM), by our own PID."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill9(self) -> None:
        """Crash the server the hard way: SIGKILL, no cleanup."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
