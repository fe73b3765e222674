"""The one typed Settings, built once at start: flags > WAYPOST_* environment > defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8123
DEFAULT_CONFIG = "langgraph.json"
DEFAULT_WORKERS = 32
DEFAULT_DRAIN_S = 10.0
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024


def default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / '.waypost' / 'waypost.sqlite'}"


@dataclass(frozen=True, slots=True)
class Settings:
    config_path: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    database_url: str = ""
    # How many runs one process executes at once. A run waiting for a human is not counted:
    # it has ended, and only its rows remain.
    workers: int = DEFAULT_WORKERS
    # On SIGTERM, how long running runs may take to finish before they are stopped and
    # handed back to the queue (they continue from their last checkpoint).
    drain_seconds: float = DEFAULT_DRAIN_S
    log_level: str = "info"
    # A larger request body is refused with 413 before it is buffered.
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @classmethod
    def build(
        cls,
        *,
        config: str | None = None,
        host: str | None = None,
        port: int | None = None,
        database_url: str | None = None,
        workers: int | None = None,
        drain_seconds: float | None = None,
    ) -> Settings:
        env = os.environ
        return cls(
            config_path=Path(config or env.get("WAYPOST_CONFIG") or DEFAULT_CONFIG).resolve(),
            host=host or env.get("WAYPOST_HOST") or DEFAULT_HOST,
            port=int(port or env.get("WAYPOST_PORT") or DEFAULT_PORT),
            database_url=database_url or env.get("WAYPOST_DATABASE_URL") or default_database_url(),
            workers=int(workers or env.get("WAYPOST_WORKERS") or DEFAULT_WORKERS),
            drain_seconds=float(
                drain_seconds if drain_seconds is not None else env.get("WAYPOST_DRAIN_SECONDS") or DEFAULT_DRAIN_S
            ),
            log_level=env.get("WAYPOST_LOG_LEVEL", "info"),
            max_body_bytes=int(env.get("WAYPOST_MAX_BODY_BYTES") or DEFAULT_MAX_BODY_BYTES),
        )
