"""Schema and SQL files: a fresh install equals an upgraded one; no dead queries.

The schema comparison reads `sqlite_master`, so it is SQLite's; a PostgreSQL backend gets
its own twin reading `information_schema`/`pg_catalog`. The dead-query check covers every
dialect folder that has a queries.sql.
"""

from __future__ import annotations

import re
import sqlite3
from importlib import resources
from pathlib import Path

import pytest

from waypost.errors import ConfigError
from waypost.storage import open_storage
from waypost.storage.sql import load_migrations, load_queries
from waypost.storage.sqlite import store as sqlite_store

DIALECTS = sorted(
    d.name for d in resources.files("waypost.storage").iterdir() if d.is_dir() and d.joinpath("queries.sql").is_file()
)


def schema(path: Path) -> list[tuple[str, str, str, str | None]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        ).fetchall()
    finally:
        conn.close()
    return [(t, n, tbl, _normalize(sql)) for t, n, tbl, sql in rows]


def _normalize(sql: str | None) -> str | None:
    return None if sql is None else re.sub(r"\s+", " ", sql).strip()


def applied_names(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM waypost_migrations ORDER BY name")]
    finally:
        conn.close()


async def upgrade_one_at_a_time(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Open the database once per migration, as successive releases would, each release
    knowing one more migration than the last. Returns what each step applied."""
    migrations = load_migrations("sqlite")
    steps: list[list[str]] = []
    for n in range(1, len(migrations) + 1):
        release = migrations[:n]
        before = set(applied_names(path)) if n > 1 else set()
        with monkeypatch.context() as m:
            m.setattr(sqlite_store, "load_migrations", lambda dialect, release=release: list(release))
            async with open_storage(f"sqlite:///{path}") as storage:
                assert await storage.migrate() == []  # entering applied it already
        steps.append(sorted(set(applied_names(path)) - before))
    return steps


def test_migrations_are_numbered_and_ordered() -> None:
    names = [name for name, _ in load_migrations("sqlite")]
    assert names, "no migrations found"
    assert names == sorted(names)
    assert all(re.fullmatch(r"\d{4}_[a-z0-9_]+\.sql", n) for n in names), names
    numbers = [int(n[:4]) for n in names]
    assert numbers == list(range(1, len(names) + 1)), "migration numbers must be 0001, 0002, ... without gaps"


async def test_fresh_install_schema_equals_upgraded_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = tmp_path / "fresh.sqlite"
    async with open_storage(f"sqlite:///{fresh}") as storage:
        assert await storage.migrate() == []

    upgraded = tmp_path / "upgraded.sqlite"
    steps = await upgrade_one_at_a_time(upgraded, monkeypatch)
    names = [name for name, _ in load_migrations("sqlite")]
    assert steps == [[n] for n in names]  # each release applied exactly its new migration

    # then today's release finds nothing left to do
    async with open_storage(f"sqlite:///{upgraded}") as storage:
        assert await storage.migrate() == []

    assert applied_names(fresh) == applied_names(upgraded) == names
    fresh_schema, upgraded_schema = schema(fresh), schema(upgraded)
    assert {n for _, n, _, _ in fresh_schema} >= {
        "assistants",
        "assistant_versions",
        "threads",
        "runs",
        "interrupts",
        "waypost_migrations",
    }
    assert upgraded_schema == fresh_schema


async def test_upgrade_from_every_release_reaches_the_fresh_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database last opened by release k (k migrations) upgrades to today's schema in one go."""
    fresh = tmp_path / "fresh.sqlite"
    async with open_storage(f"sqlite:///{fresh}"):
        pass
    migrations = load_migrations("sqlite")
    for k in range(1, len(migrations) + 1):
        path = tmp_path / f"from_{k}.sqlite"
        with monkeypatch.context() as m:
            m.setattr(sqlite_store, "load_migrations", lambda dialect, k=k: migrations[:k])
            async with open_storage(f"sqlite:///{path}"):
                pass
        async with open_storage(f"sqlite:///{path}") as storage:
            assert await storage.migrate() == []
        assert schema(path) == schema(fresh), f"upgrading from release {k}"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_query_is_used_by_its_store(dialect: str) -> None:
    queries = load_queries(dialect)
    assert queries, f"{dialect}: no queries loaded"
    store_py = resources.files(f"waypost.storage.{dialect}").joinpath("store.py").read_text()
    unused = [name for name in queries if not re.search(rf"""["']{name}["']""", store_py)]
    assert not unused, f"{dialect}/queries.sql has queries store.py never uses: {unused}"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_query_the_store_names_exists(dialect: str) -> None:
    queries = load_queries(dialect)
    store_py = resources.files(f"waypost.storage.{dialect}").joinpath("store.py").read_text()
    named = set(re.findall(r"""_(?:exec|one|search)\(\s*["'](\w+)["']""", store_py))
    assert named, f"{dialect}: found no query calls in store.py"
    assert not named - set(queries), f"{dialect}/store.py runs queries missing from queries.sql: {named - set(queries)}"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_query_names_are_unique(dialect: str) -> None:
    text = resources.files(f"waypost.storage.{dialect}").joinpath("queries.sql").read_text()
    names = re.findall(r"^--\s*name:\s*(\w+)\s*$", text, re.MULTILINE)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"{dialect}/queries.sql defines these more than once: {duplicates}"


async def test_one_process_per_sqlite_file(tmp_path: Path) -> None:
    """Embedded mode: a second opener of the same file is refused with a clear error (its
    worker would take over runs the first process is executing), and a closed or crashed
    holder frees the file."""
    url = f"sqlite:///{tmp_path / 'waypost.sqlite'}"
    async with open_storage(url):
        with pytest.raises(ConfigError, match="in use by waypost"):
            async with open_storage(url):
                pass
    async with open_storage(url) as again:
        assert await again.ping()
