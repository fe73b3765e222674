"""The scaled section's shared state: PostgreSQL and Redis, both on this machine.

Every measured server gets a place of its own, made here and removed after it: a fresh schema
(Waypost) or a fresh database (Aegra, whose asyncpg URL cannot carry a search_path) in
PostgreSQL, and a fresh prefix for its Redis keys, whose keys are deleted by that prefix only.
Nothing else in either is read or touched.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bench.log import log

# Where they are, unless the environment says otherwise.
DATABASE_URL = os.environ.get("WAYPOST_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("WAYPOST_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# Every name the bench makes starts with this, so a leftover from a killed run is recognisable.
NAME_PREFIX = "wpbench"


@dataclass(frozen=True)
class Backing:
    """The PostgreSQL and Redis the scaled servers share."""

    database_url: str = DATABASE_URL
    redis_url: str = REDIS_URL

    def unavailable(self) -> str | None:
        """Why the scaled section cannot run here, or None: both answer and the clients exist."""
        try:
            import psycopg
            import redis
        except ImportError as exc:
            return f"{exc.name} is not installed in the bench's environment (`make bench` installs it)"
        try:
            with psycopg.connect(self.database_url, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            return f"PostgreSQL at {self.database_url} does not answer: {str(exc).strip()[:200]}"
        try:
            client = redis.Redis.from_url(self.redis_url, socket_timeout=5)
            client.ping()
            client.close()
        except redis.RedisError as exc:
            return f"Redis at {self.redis_url} does not answer: {exc}"
        return None

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(self.database_url, autocommit=True)

    @contextmanager
    def schema(self) -> Iterator[str]:
        """A fresh, empty schema; yields a database URL whose connections use it (search_path),
        so every table the server makes, langgraph's checkpoints included, lands there."""
        name = f"{NAME_PREFIX}_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        separator = "&" if "?" in self.database_url else "?"
        try:
            yield f"{self.database_url}{separator}options={quote(f'-c search_path={name}')}"
        finally:
            with self._admin() as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    @contextmanager
    def database(self) -> Iterator[str]:
        """A fresh database on the same server; yields its URL. Dropped after, even with
        connections a killed server left behind (FORCE)."""
        from psycopg.conninfo import conninfo_to_dict

        name = f"{NAME_PREFIX}_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        parts = conninfo_to_dict(self.database_url)
        url = (
            f"postgresql://{quote(str(parts.get('user', 'postgres')))}"
            + (f":{quote(str(parts['password']))}" if parts.get("password") else "")
            + f"@{parts.get('host', '127.0.0.1')}:{parts.get('port', 5432)}/{name}"
        )
        try:
            yield url
        finally:
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextmanager
    def redis_prefix(self) -> Iterator[str]:
        """A fresh key prefix; the keys under it are deleted after (SCAN + UNLINK, by prefix only)."""
        prefix = f"{NAME_PREFIX}:{uuid.uuid4().hex[:12]}:"
        try:
            yield prefix
        finally:
            deleted = self.delete_keys(prefix)
            if deleted:
                log(f"redis: deleted {deleted} keys under {prefix}")

    def delete_keys(self, prefix: str) -> int:
        import redis

        client = redis.Redis.from_url(self.redis_url)
        try:
            n = 0
            batch: list[bytes] = []
            for key in client.scan_iter(match=f"{prefix}*", count=1000):
                batch.append(key)
                if len(batch) >= 500:
                    n += int(client.unlink(*batch))
                    batch.clear()
            if batch:
                n += int(client.unlink(*batch))
            return n
        finally:
            client.close()
