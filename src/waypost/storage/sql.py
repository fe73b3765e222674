"""Load named SQL blocks (`-- name: x`) from a dialect's queries.sql, and its migrations."""

from __future__ import annotations

import re
from importlib import resources

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def load_queries(dialect: str) -> dict[str, str]:
    text = resources.files(f"waypost.storage.{dialect}").joinpath("queries.sql").read_text()
    parts = _NAME.split(text)
    return {name: sql.strip() for name, sql in zip(parts[1::2], parts[2::2], strict=True)}


def load_migrations(dialect: str) -> list[tuple[str, str]]:
    """(name, sql) pairs in order; names are the numbered file names."""
    folder = resources.files(f"waypost.storage.{dialect}").joinpath("migrations")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name, f.read_text()) for f in files]
