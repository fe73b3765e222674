"""Where a test server keeps its state: SQLite (always), or PostgreSQL with Redis (scaled
mode) when WAYPOST_TEST_DATABASE_URL and WAYPOST_TEST_REDIS_URL say where they are.

Each server gets its own empty PostgreSQL schema (the URL's search_path points there, so
langgraph's checkpoint tables land in it too) and its own Redis key prefix, so servers and
test runs never see each other's rows, keys or channels.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

DATABASE_VAR = "WAYPOST_TEST_DATABASE_URL"
REDIS_VAR = "WAYPOST_TEST_REDIS_URL"
HOW = f"set {DATABASE_VAR} (postgresql://...) and {REDIS_VAR} (redis://...) to run them; .ci/run sets both"


@dataclass(frozen=True)
class Placement:
    """What `waypost serve` is given to keep its state in one place of its own."""

    database_url: str
    args: list[str] = field(default_factory=list)


@contextmanager
def postgres_schema(base_url: str | None = None) -> Iterator[str]:
    """A fresh, empty schema; yields a database URL whose connections use it. Dropped after."""
    import psycopg

    base_url = base_url or os.environ[DATABASE_VAR]
    schema = f"wp_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options={quote(f'-c search_path={schema}')}"
    finally:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def redis_prefix() -> str:
    return f"wptest:{uuid.uuid4().hex[:12]}:"


@dataclass(frozen=True)
class Backend:
    name: str

    def unavailable(self) -> str | None:
        """Why this backend cannot run here (None: it can)."""
        if self.name == "sqlite":
            return None
        missing = [v for v in (DATABASE_VAR, REDIS_VAR) if not os.environ.get(v)]
        return f"{' and '.join(missing)} not set: the PostgreSQL + Redis cases need them; {HOW}" if missing else None

    @contextmanager
    def place(self, folder: Path) -> Iterator[Placement]:
        if self.name == "sqlite":
            yield Placement(f"sqlite:///{folder / 'waypost.sqlite'}")
            return
        with postgres_schema() as url:
            yield Placement(url, ["--redis-url", os.environ[REDIS_VAR], "--redis-prefix", redis_prefix()])


SQLITE = Backend("sqlite")
POSTGRES = Backend("postgres")
SERVER_BACKENDS = [SQLITE, POSTGRES]
