"""Storage: one interface (`base.Storage`), one implementation per database."""

from __future__ import annotations

from waypost.errors import ConfigError
from waypost.storage.base import Storage


def open_storage(database_url: str, *, max_pool_size: int = 20) -> Storage:
    """The storage for a URL; entering it (async with) connects and migrates.

    `sqlite:///path` is one file owned by one process. `postgresql://...` (or `postgres://`,
    any libpq URL: its `options=-c search_path=...` picks the schema) is shared by any number
    of processes; `max_pool_size` caps the connections each one opens to it, shared by
    Waypost's transactions and langgraph's checkpointer (20 by default), plus one more that
    listens for notices. SQLite ignores it.
    """
    if database_url.startswith("sqlite:"):
        from waypost.storage.sqlite.store import SqliteStorage

        return SqliteStorage(database_url)
    if database_url.startswith(("postgresql:", "postgres:")):
        from waypost.storage.postgres.store import PostgresStorage

        return PostgresStorage(database_url, max_pool_size=max_pool_size)
    raise ConfigError(
        f"unsupported database URL {database_url!r} (expected sqlite:///path or postgresql://user@host/database)"
    )
