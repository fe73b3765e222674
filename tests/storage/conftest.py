"""The storage conformance suite's fixtures: one `storage` per backend, each test on an empty database.

Every test in tests/storage runs once per entry in BACKENDS, through the `Storage`/`Tx`
interface only. Adding a backend is one entry: a name, how to get the URL of an *empty*
database for one test (some tests count every row, e.g. claim_runs is global), how to clean
up after it, and why it cannot run here (None: it can).

PostgreSQL runs when WAYPOST_TEST_DATABASE_URL names a database: each test gets a schema of
its own there (tests/storage/pg.py), dropped after it. Without the variable its cases skip
and say how to run them (CI sets it, and fails on any skip); with it set and the database
unreachable they fail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.storage import pg
from waypost.storage import open_storage
from waypost.storage.base import Storage


@dataclass(frozen=True)
class Backend:
    name: str
    url: Callable[[Path], str]  # the URL of a new, empty database for one test
    cleanup: Callable[[], None] = lambda: None  # after each test that asked for a URL
    missing: Callable[[], str | None] = lambda: None  # why this backend can't run here


BACKENDS = [
    Backend("sqlite", lambda tmp: f"sqlite:///{tmp / 'waypost.sqlite'}"),
    Backend("postgres", lambda tmp: pg.new_schema(), cleanup=pg.drop_schemas, missing=pg.missing),
]


@pytest.fixture(params=BACKENDS, ids=lambda b: b.name)
def backend(request: pytest.FixtureRequest) -> Backend:
    b: Backend = request.param
    reason = b.missing()
    if reason:
        pytest.skip(reason)
    return b


@pytest.fixture
def database_url(backend: Backend, tmp_path: Path) -> Iterator[str]:
    try:
        yield backend.url(tmp_path)
    finally:
        backend.cleanup()


@pytest.fixture
async def storage(database_url: str) -> AsyncIterator[Storage]:
    async with open_storage(database_url) as s:
        yield s


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL schema, for the tests of what only PostgreSQL does."""
    reason = pg.missing()
    if reason:
        pytest.skip(reason)
    try:
        yield pg.new_schema()
    finally:
        pg.drop_schemas()
