"""Schema and SQL files: a fresh install equals an upgraded one; no dead queries.

Fresh against upgraded: one database is built by a fresh install, which applies every
migration in one go; another by walking the releases, release k knowing the first k
migrations and opening the database the release before it left. Their schemas are read as
maps {object: description} and compared object by object (`schema_differences`). Only two
things are dialect-specific, reading a schema and what a database says it applied, and they
sit in a `SchemaDialect`: SQLite's reads `sqlite_master` and PRAGMA table_xinfo; PostgreSQL's
reads `information_schema`/`pg_catalog` into the same kind of keys ("table runs",
"column runs.status", "index runs_one_running", ...), each database a schema of its own.

Given one list of migrations, the walk and the fresh install run the same statements, so the
check on the shipped list alone could pass by construction. It also runs with a stand-in next
migration (a step that alters tables existing rows live in, like the coming 0002), and on a
history whose schemas do part, a migration edited after its release, where it must fail.

The dead-query check covers every dialect folder that has a queries.sql, and every dialect
names the same queries.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

from tests.storage import pg
from waypost.errors import ConfigError
from waypost.storage import open_storage
from waypost.storage.postgres import migrate as postgres_migrate
from waypost.storage.postgres.store import write_target
from waypost.storage.sql import load_migrations, load_queries
from waypost.storage.sqlite import store as sqlite_store

DIALECTS = sorted(
    d.name for d in resources.files("waypost.storage").iterdir() if d.is_dir() and d.joinpath("queries.sql").is_file()
)

Migrations = list[tuple[str, str]]  # (file name, SQL), in order, as load_migrations gives them
Schema = dict[str, object]  # "<kind> <name>" -> a comparable description of that object

# ---- the dialect-specific part: SQLite ----


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _normalize(sql: str | None) -> str | None:
    return None if sql is None else re.sub(r"\s+", " ", sql).strip()


def sqlite_schema(url: str) -> Schema:
    """Every object's SQL (which holds constraints no PRAGMA shows), and every table's columns
    one by one (so a difference names the column, not just its table)."""
    conn = sqlite3.connect(_sqlite_path(url))
    try:
        objects = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        ).fetchall()
        found: Schema = {f"{kind} {name}": _normalize(sql) for kind, name, sql in objects}
        for kind, table, _ in objects:
            if kind == "table":
                # (cid, name, type, notnull, dflt_value, pk, hidden): all but the position
                for _cid, column, *description in conn.execute(f"PRAGMA table_xinfo('{table}')"):
                    found[f"column {table}.{column}"] = tuple(description)
    finally:
        conn.close()
    return found


def sqlite_applied(url: str) -> list[str]:
    """The migrations the database records as applied; none for a database not created yet."""
    if not _sqlite_path(url).exists():
        return []  # (connecting would create it)
    conn = sqlite3.connect(_sqlite_path(url))
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'waypost_migrations'").fetchone():
            return []
        return [r[0] for r in conn.execute("SELECT name FROM waypost_migrations ORDER BY name")]
    finally:
        conn.close()


# ---- the dialect-specific part: PostgreSQL (a schema per database, tests/storage/pg.py) ----


def postgres_schema(url: str) -> Schema:
    """Every table (its columns in order and its constraints), every column, every index,
    read from the one schema the URL points at. Index definitions name their schema, which
    differs between the two databases compared, so it is cut out."""
    schema = pg.schema_of(url)
    found: Schema = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY table_name", (schema,)
        ).fetchall()
        for (table,) in tables:
            columns = conn.execute(
                "SELECT column_name, data_type, is_nullable, column_default, is_identity, identity_generation"
                " FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
                " ORDER BY ordinal_position",
                (schema, table),
            ).fetchall()
            constraints = conn.execute(
                "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
                " JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
                " WHERE n.nspname = %s AND t.relname = %s ORDER BY c.conname",
                (schema, table),
            ).fetchall()
            found[f"table {table}"] = (tuple(c[0] for c in columns), tuple(constraints))
            for column, *description in columns:
                found[f"column {table}.{column}"] = tuple(description)
        indexes = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", (schema,))
        for name, definition in indexes.fetchall():
            found[f"index {name}"] = definition.replace(f"{schema}.", "")
    return found


def postgres_applied(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('waypost_migrations')").fetchone() == (None,):
            return []
        return [r[0] for r in conn.execute("SELECT name FROM waypost_migrations ORDER BY name")]


@dataclass(frozen=True)
class SchemaDialect:
    name: str  # the folder under waypost/storage with its migrations
    url: Callable[[Path, str], str]  # the URL of an empty database called `label`
    schema: Callable[[str], Schema]
    applied: Callable[[str], list[str]]
    store: ModuleType  # the module whose load_migrations a release replaces
    missing: Callable[[], str | None] = lambda: None  # why this dialect can't be tried here


SCHEMA_DIALECTS = [
    SchemaDialect(
        name="sqlite",
        url=lambda tmp, label: f"sqlite:///{tmp / label}.sqlite",
        schema=sqlite_schema,
        applied=sqlite_applied,
        store=sqlite_store,
    ),
    SchemaDialect(
        name="postgres",
        url=lambda tmp, label: pg.new_schema(label),
        schema=postgres_schema,
        applied=postgres_applied,
        store=postgres_migrate,
        missing=pg.missing,
    ),
]


@pytest.fixture(params=SCHEMA_DIALECTS, ids=lambda d: d.name)
def dialect(request: pytest.FixtureRequest) -> Iterator[SchemaDialect]:
    d: SchemaDialect = request.param
    reason = d.missing()
    if reason:
        pytest.skip(reason)
    try:
        yield d
    finally:
        pg.drop_schemas()  # the PostgreSQL databases the test made (none for SQLite)


# ---- the shared part: releases, the walk, the comparison ----


def schema_differences(fresh: Schema, upgraded: Schema) -> list[str]:
    """One line per object that is missing on one side or described differently."""
    differences = []
    for key in sorted(fresh.keys() | upgraded.keys()):
        if key not in upgraded:
            differences.append(f"{key}: only in the fresh install: {fresh[key]!r}")
        elif key not in fresh:
            differences.append(f"{key}: only in the upgraded database: {upgraded[key]!r}")
        elif fresh[key] != upgraded[key]:
            differences.append(f"{key}: fresh {fresh[key]!r}, upgraded {upgraded[key]!r}")
    return differences


def assert_same_schema(fresh: Schema, upgraded: Schema) -> None:
    differences = schema_differences(fresh, upgraded)
    assert not differences, "the upgraded schema is not the fresh one:\n" + "\n".join(differences)


def releases(migrations: Migrations) -> list[Migrations]:
    """What each release shipped: release k knows the first k migrations."""
    return [migrations[:k] for k in range(1, len(migrations) + 1)]


def with_stand_in(migrations: Migrations) -> Migrations:
    """`migrations` and one more after them, shaped like the next real one (columns added to
    runs and interrupts), so the walk has a step that changes existing tables."""
    name = f"{len(migrations) + 1:04d}_stand_in.sql"
    sql = (
        "ALTER TABLE runs ADD COLUMN stand_in_note TEXT;\n"
        "ALTER TABLE interrupts ADD COLUMN stand_in_at TEXT NOT NULL DEFAULT '';\n"
    )
    return [*migrations, (name, sql)]


async def open_as_release(
    dialect: SchemaDialect, url: str, release: Migrations, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """Open the database with a server that knows exactly `release` (entering migrates);
    return the names this applied."""
    before = set(dialect.applied(url))
    with monkeypatch.context() as m:
        m.setattr(dialect.store, "load_migrations", lambda _dialect: list(release))
        async with open_storage(url) as storage:
            assert await storage.migrate() == []  # entering applied everything already
    return sorted(set(dialect.applied(url)) - before)


async def fresh_and_walked(
    dialect: SchemaDialect, tmp_path: Path, history: list[Migrations], monkeypatch: pytest.MonkeyPatch
) -> tuple[Schema, Schema, list[list[str]]]:
    """A fresh install of the last release, and a database opened by every release of
    `history` in turn: their schemas, and what each step of the walk applied."""
    fresh = dialect.url(tmp_path, "fresh")
    assert await open_as_release(dialect, fresh, history[-1], monkeypatch) == sorted(n for n, _ in history[-1])
    walked = dialect.url(tmp_path, "walked")
    steps = [await open_as_release(dialect, walked, release, monkeypatch) for release in history]
    # the last release, opening it again, finds nothing left to do
    assert await open_as_release(dialect, walked, history[-1], monkeypatch) == []
    assert dialect.applied(fresh) == dialect.applied(walked)
    return dialect.schema(fresh), dialect.schema(walked), steps


@pytest.mark.parametrize("folder", DIALECTS)
def test_migrations_are_numbered_and_ordered(folder: str) -> None:
    names = [name for name, _ in load_migrations(folder)]
    assert names, "no migrations found"
    assert names == sorted(names)
    assert all(re.fullmatch(r"\d{4}_[a-z0-9_]+\.sql", n) for n in names), names
    numbers = [int(n[:4]) for n in names]
    assert numbers == list(range(1, len(names) + 1)), "migration numbers must be 0001, 0002, ... without gaps"


@pytest.mark.parametrize("stand_in", [False, True], ids=["shipped", "shipped+stand-in"])
async def test_fresh_install_schema_equals_upgraded_schema(
    dialect: SchemaDialect, stand_in: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations = load_migrations(dialect.name)
    if stand_in:
        migrations = with_stand_in(migrations)
    names = [name for name, _ in migrations]
    fresh, upgraded, steps = await fresh_and_walked(dialect, tmp_path, releases(migrations), monkeypatch)

    assert steps == [[n] for n in names]  # one step per migration, each applying exactly its own
    tables = {"assistants", "assistant_versions", "threads", "runs", "interrupts", "waypost_migrations"}
    assert {f"table {t}" for t in tables} <= fresh.keys()
    if stand_in:
        assert {"column runs.stand_in_note", "column interrupts.stand_in_at"} <= fresh.keys()
    assert_same_schema(fresh, upgraded)


async def test_comparison_reports_a_migration_edited_after_its_release(
    dialect: SchemaDialect, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above must be able to fail, and on what it exists for: a migration edited
    after it shipped. Databases that applied the old text never run the edit; a fresh install
    does; the schemas part, and the comparison must say where."""
    shipped = load_migrations(dialect.name)
    (first, first_sql), *later = shipped
    edited = (first, first_sql + "\nALTER TABLE runs ADD COLUMN edited_later TEXT;\n")
    history = [shipped[:1], with_stand_in([edited, *later])]  # release 1, then today's release
    fresh, upgraded, steps = await fresh_and_walked(dialect, tmp_path, history, monkeypatch)

    assert steps[0] == [first] and first not in steps[1]  # the walk itself went as releases do
    differences = schema_differences(fresh, upgraded)
    assert any(d.startswith("column runs.edited_later: only in the fresh install") for d in differences), differences
    assert any(d.startswith("table runs: fresh") for d in differences), differences
    with pytest.raises(AssertionError, match="edited_later"):
        assert_same_schema(fresh, upgraded)


async def test_upgrade_from_every_release_reaches_the_fresh_schema(
    dialect: SchemaDialect, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database last opened by release k (k migrations) upgrades to today's schema in one go."""
    migrations = with_stand_in(load_migrations(dialect.name))
    for k, release in enumerate(releases(migrations), start=1):
        (tmp_path / f"from_{k}").mkdir()
        fresh, upgraded, steps = await fresh_and_walked(
            dialect, tmp_path / f"from_{k}", [release, migrations], monkeypatch
        )
        assert steps[1] == [n for n, _ in migrations[k:]], f"upgrading from release {k}"
        assert_same_schema(fresh, upgraded)


@pytest.mark.parametrize("folder", DIALECTS)
def test_every_query_is_used_by_its_store(folder: str) -> None:
    queries = load_queries(folder)
    assert queries, f"{folder}: no queries loaded"
    store_py = resources.files(f"waypost.storage.{folder}").joinpath("store.py").read_text()
    unused = [name for name in queries if not re.search(rf"""["']{name}["']""", store_py)]
    assert not unused, f"{folder}/queries.sql has queries store.py never uses: {unused}"


@pytest.mark.parametrize("folder", DIALECTS)
def test_every_query_the_store_names_exists(folder: str) -> None:
    queries = load_queries(folder)
    store_py = resources.files(f"waypost.storage.{folder}").joinpath("store.py").read_text()
    named = set(re.findall(r"""_(?:exec|one|all|count|search|write|ended)\(\s*["'](\w+)["']""", store_py))
    assert named, f"{folder}: found no query calls in store.py"
    assert not named - set(queries), f"{folder}/store.py runs queries missing from queries.sql: {named - set(queries)}"


def test_postgres_holds_only_plain_writes() -> None:
    """PostgresTx holds writes back to send them together, each in a WITH of one statement:
    only a plain INSERT, UPDATE or DELETE of one table can go there (a data-modifying WITH
    cannot nest), and only one whose table it can tell (two writes of a table go apart)."""
    queries = load_queries("postgres")
    store_py = resources.files("waypost.storage.postgres").joinpath("store.py").read_text()
    held = sorted(set(re.findall(r"""_write\(\s*["'](\w+)["']""", store_py)))
    assert held, "found no held writes in postgres/store.py"
    assert {n: write_target(queries[n]) is not None for n in held} == dict.fromkeys(held, True)
    assert {n: "WITH" in queries[n].upper().split() for n in held} == dict.fromkeys(held, False)


def test_every_dialect_names_the_same_queries() -> None:
    """One interface, one set of queries: a query one dialect has and another lacks is a
    behaviour one of them is missing (or a dead query)."""
    assert len(DIALECTS) > 1, DIALECTS
    names = {d: set(load_queries(d)) for d in DIALECTS}
    everywhere = set.intersection(*names.values())
    assert {d: sorted(n - everywhere) for d, n in names.items()} == {d: [] for d in DIALECTS}


@pytest.mark.parametrize("folder", DIALECTS)
def test_query_names_are_unique(folder: str) -> None:
    text = resources.files(f"waypost.storage.{folder}").joinpath("queries.sql").read_text()
    names = re.findall(r"^--\s*name:\s*(\w+)\s*$", text, re.MULTILINE)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"{folder}/queries.sql defines these more than once: {duplicates}"


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


@pytest.mark.parametrize("folder", DIALECTS)
def test_every_fragment_is_put_in_place(folder: str) -> None:
    """A query takes its fragments ({name:alias}), and a fragment those it names itself: no
    placeholder of a fragment is left in a loaded query, nor an ALIAS it was to replace."""
    left = {
        name: re.findall(r"\{\w+:\w+\}|\bALIAS\b", sql)
        for name, sql in load_queries(folder).items()
        if re.search(r"\{\w+:\w+\}|\bALIAS\b", sql)
    }
    assert left == {}
