"""Load named SQL blocks (`-- name: x`) from a dialect's queries.sql, and its migrations;
what every dialect's queries are given alike."""

from __future__ import annotations

import re
from importlib import resources

from waypost.storage.base import Page

# How long a sweeper holds a cancelled run it took over from a dead worker, while it ends it.
TAKEOVER_LEASE_S = 30.0

THREAD_SORT = {"thread_id", "status", "created_at", "updated_at", "state_updated_at"}
ASSISTANT_SORT = {"assistant_id", "graph_id", "name", "created_at", "updated_at"}

# The conditions of each interrupt status, spelled exactly as the partial indexes spell
# theirs: a query's WHERE must repeat an index's condition for the planner to use it.
_PENDING = "i.answered_by_run IS NULL AND i.superseded_by IS NULL AND i.expired_at IS NULL"
INTERRUPT_STATUS = {
    "pending": _PENDING,
    "answered": "i.answered_by_run IS NOT NULL",
    "expired": "i.expired_at IS NOT NULL",
    "superseded": "i.superseded_by IS NOT NULL AND i.answered_by_run IS NULL AND i.expired_at IS NULL",
    None: "TRUE",
}
INTERRUPT_SORT = {"created_at", "deadline"}

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


def order_by(page: Page, allowed: set[str], default: str, tiebreak: str) -> str:
    """The ORDER BY a page asks for, its column taken only from `allowed` (anything else
    gets `default`), ties broken by insertion order (`tiebreak`)."""
    column = page.sort_by if page.sort_by in allowed else default
    direction = "ASC" if (page.sort_order or "desc").lower() == "asc" else "DESC"
    return f"{column} {direction}, {tiebreak} {direction}"


def interrupt_order(page: Page, tiebreak: str) -> str:
    """Interrupts by created_at (newest first unless asked) or by deadline (soonest first
    unless asked; those without one last, whichever the direction)."""
    column = page.sort_by if page.sort_by in INTERRUPT_SORT else "created_at"
    default = "asc" if column == "deadline" else "desc"
    direction = "ASC" if (page.sort_order or default).lower() == "asc" else "DESC"
    nulls = "i.deadline IS NULL, " if column == "deadline" else ""
    return f"{nulls}i.{column} {direction}, i.{tiebreak} {direction}"


def fill(sql: str, **parts: str) -> str:
    """Put fixed SQL text (never a value) into a query's {placeholders}."""
    for key, text in parts.items():
        sql = sql.replace("{" + key + "}", text)
    return sql
