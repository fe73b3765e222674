"""The one typed Settings, built once at start: flags > WAYPOST_* environment > defaults."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waypost.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8123
DEFAULT_CONFIG = "langgraph.json"
DEFAULT_WORKERS = 32
DEFAULT_DRAIN_S = 10.0
DEFAULT_LEASE_S = 6.0
DEFAULT_DB_POOL_SIZE = 20
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
LOG_FORMATS = ("text", "json")


def default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / '.waypost' / 'waypost.sqlite'}"


@dataclass(frozen=True, slots=True)
class Settings:
    config_path: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    database_url: str = ""
    # Redis for live streams and cancel signals between processes; None: in memory (one process).
    redis_url: str | None = None
    # Prefix of every Redis key and channel, so deployments can share one Redis.
    redis_prefix: str = "waypost:"
    # How many runs one process executes at once. A run waiting for a human is not counted:
    # it has ended, and only its rows remain.
    workers: int = DEFAULT_WORKERS
    # On SIGTERM, how long running runs may take to finish before they are stopped and
    # handed back to the queue (they continue from their last checkpoint).
    drain_seconds: float = DEFAULT_DRAIN_S
    # A worker holds a run under a lease renewed every third of it; a process that stops
    # renewing (killed) has its runs taken over by another once the lease lapses.
    lease_seconds: float = DEFAULT_LEASE_S
    # Connections to PostgreSQL per process, shared by Waypost and langgraph's checkpointer.
    db_pool_size: int = DEFAULT_DB_POOL_SIZE
    log_level: str = "info"
    log_format: str = "text"
    # A larger request body is refused with 413 before it is buffered.
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # What this process does: serve the HTTP API, execute runs, or both (the default).
    run_api: bool = True
    run_worker: bool = True
    # Built-in authentication for teams without an auth module: requests carry one of these
    # in x-api-key.
    api_keys: tuple[str, ...] = ()
    # Serving a non-loopback address without any authentication must be asked for.
    allow_unauthenticated: bool = False
    # Where people reach this server (behind a proxy, its public address): the links in
    # notifications point there. Default: http://host:port.
    public_url: str | None = None

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def scaled(self) -> bool:
        """Several processes may share the database (PostgreSQL), rather than one owning it."""
        return self.database_url.startswith(("postgresql:", "postgres:"))

    @classmethod
    def build(cls, **flags: Any) -> Settings:
        """Each field from its flag (a keyword here, None when not given), else its WAYPOST_*
        variable, else its default. Bad values end the start with one clear line."""
        values: dict[str, Any] = {}
        for name, (variable, parse) in _SOURCES.items():
            raw = flags.get(name)
            if raw is None:
                raw = os.environ.get(variable) or None
            if raw is None:
                continue
            try:
                values[name] = parse(raw)
            except (TypeError, ValueError):
                raise ConfigError(f"{variable} / --{name.replace('_', '-')}: invalid value {raw!r}") from None
        for name in ("run_api", "run_worker", "allow_unauthenticated"):
            if flags.get(name) is not None:
                values[name] = bool(flags[name])
        env_keys = os.environ.get("WAYPOST_API_KEYS")
        keys = flags.get("api_keys") or ([env_keys] if env_keys else [])
        if keys:
            values["api_keys"] = read_api_keys(keys)
        values.setdefault("config_path", Path(DEFAULT_CONFIG).resolve())
        values.setdefault("database_url", default_database_url())
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(f"WAYPOST_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {self.log_format!r}")
        positive = ("workers", "lease_seconds", "db_pool_size", "max_body_bytes")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name.replace('_', ' ')} must be positive, not {getattr(self, name)}")
        if self.drain_seconds < 0:
            raise ConfigError("drain seconds must not be negative")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


MIN_API_KEY_LENGTH = 16


def read_api_keys(given: list[str]) -> tuple[str, ...]:
    """Keys from flags or WAYPOST_API_KEYS: each value is a key, a comma-separated list of
    keys, or the path of a file holding one key per line (so keys need not be in the
    process's arguments or environment)."""
    keys: list[str] = []
    for value in given:
        path = Path(value)
        if path.is_file():
            keys.extend(line.strip() for line in path.read_text().splitlines() if line.strip())
        else:
            keys.extend(k.strip() for k in value.split(",") if k.strip())
    if not keys:
        raise ConfigError("no API keys found in --api-key / WAYPOST_API_KEYS")
    short = [k for k in keys if len(k) < MIN_API_KEY_LENGTH]
    if short:
        raise ConfigError(f"API keys must be at least {MIN_API_KEY_LENGTH} characters long ({len(short)} is not)")
    return tuple(keys)


def _path(raw: str) -> Path:
    return Path(raw).resolve()


_SOURCES: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "config_path": ("WAYPOST_CONFIG", _path),
    "host": ("WAYPOST_HOST", str),
    "port": ("WAYPOST_PORT", int),
    "database_url": ("WAYPOST_DATABASE_URL", str),
    "redis_url": ("WAYPOST_REDIS_URL", str),
    "redis_prefix": ("WAYPOST_REDIS_PREFIX", str),
    "workers": ("WAYPOST_WORKERS", int),
    "drain_seconds": ("WAYPOST_DRAIN_SECONDS", float),
    "lease_seconds": ("WAYPOST_LEASE_SECONDS", float),
    "db_pool_size": ("WAYPOST_DB_POOL_SIZE", int),
    "log_level": ("WAYPOST_LOG_LEVEL", str),
    "log_format": ("WAYPOST_LOG_FORMAT", str),
    "max_body_bytes": ("WAYPOST_MAX_BODY_BYTES", int),
    "public_url": ("WAYPOST_PUBLIC_URL", str),
}
