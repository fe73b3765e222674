"""Storage: one interface (`base.Storage`), one implementation per database."""

from __future__ import annotations

from waypost.errors import ConfigError
from waypost.storage.base import Storage


def open_storage(database_url: str) -> Storage:
    """The storage for a URL; entering it (async with) connects and migrates."""
    if database_url.startswith("sqlite:"):
        from waypost.storage.sqlite.store import SqliteStorage

        return SqliteStorage(database_url)
    raise ConfigError(f"unsupported database URL {database_url!r} (expected sqlite:///path)")
