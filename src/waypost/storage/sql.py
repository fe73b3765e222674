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

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)
# {fragment:alias} in a query, and the word a fragment uses for the alias.
_INCLUDE = re.compile(r"\{(\w+):(\w+)\}")
_ALIAS = re.compile(r"\bALIAS\b")


def load_queries(dialect: str) -> dict[str, str]:
    """The named queries of a dialect. A name starting with _ is a fragment, not a query: it
    goes where a query (or another fragment) says {<name without _>:<table alias>}, its ALIAS
    made that alias."""
    text = resources.files(f"waypost.storage.{dialect}").joinpath("queries.sql").read_text()
    parts = _NAME.split(text)
    named = {name: _body(sql) for name, sql in zip(parts[1::2], parts[2::2], strict=True)}
    fragments = {name[1:]: sql for name, sql in named.items() if name.startswith("_")}

    def include(m: re.Match[str]) -> str:
        return _ALIAS.sub(m[2], fragments[m[1]])

    for name, sql in fragments.items():  # one level of fragments within fragments
        fragments[name] = _INCLUDE.sub(include, sql)

    return {name: _INCLUDE.sub(include, sql) for name, sql in named.items() if not name.startswith("_")}


def _body(chunk: str) -> str:
    """A query's text: what follows its name, without the comments that introduce the next
    one (they stand between the two, and a placeholder in them would be taken as the query's)."""
    lines = chunk.strip().splitlines()
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("--")):
        lines.pop()
    return "\n".join(lines)


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


def by_deadline(page: Page) -> bool:
    """The page is sorted by deadline: the store reads it with search_interrupts_by_deadline."""
    return page.sort_by == "deadline"


def interrupt_order(page: Page, tiebreak: str) -> str:
    """Interrupts by created_at, newest first unless asked (for search_interrupts)."""
    direction = "ASC" if (page.sort_order or "desc").lower() == "asc" else "DESC"
    return f"i.created_at {direction}, i.{tiebreak} {direction}"


def deadline_orders(page: Page, tiebreak: str, merged_tiebreak: str) -> dict[str, str]:
    """The orders of search_interrupts_by_deadline: soonest deadline first unless asked, ties
    in insertion order (`tiebreak`); those without a deadline last, whichever the direction,
    by created_at in the same direction. `merged_tiebreak` names the insertion order in the
    merged rows (SQLite's rowid does not pass through a subquery)."""
    d = "ASC" if (page.sort_order or "asc").lower() == "asc" else "DESC"
    return {
        "dated": f"i.deadline {d}, i.{tiebreak} {d}",
        "undated": f"i.created_at {d}, i.{tiebreak} {d}",
        "order": f"i.deadline IS NULL, i.deadline {d}, CASE WHEN i.deadline IS NULL THEN i.created_at END {d}, "
        f"i.{merged_tiebreak} {d}",
    }


def fill(sql: str, **parts: str) -> str:
    """Put fixed SQL text (never a value) into a query's {placeholders}."""
    for key, text in parts.items():
        sql = sql.replace("{" + key + "}", text)
    return sql
