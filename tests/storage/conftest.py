"""The storage conformance suite's fixtures: one `storage` per backend, each test on an empty database.

Every test in tests/storage runs once per entry in BACKENDS, through the `Storage`/`Tx`
interface only. Adding a backend is one entry: a name, how to get the URL of an *empty*
database for one test, and whether it is available in this environment. For PostgreSQL:

    Backend("postgres", lambda tmp: os.environ["WAYPOST_TEST_DATABASE_URL"],
            available=lambda: bool(os.environ.get("WAYPOST_TEST_DATABASE_URL"))),

(its URL function must hand out an empty database or schema per test, since some tests
count every row, e.g. claim_runs is global). A backend that is not available is left
out of the parametrization, never skipped: CI treats skips as failures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from waypost.storage import open_storage
from waypost.storage.base import Storage


@dataclass(frozen=True)
class Backend:
    name: str
    url: Callable[[Path], str]
    available: Callable[[], bool] = lambda: True


BACKENDS = [
    Backend("sqlite", lambda tmp: f"sqlite:///{tmp / 'waypost.sqlite'}"),
]


def _backends() -> list[Backend]:
    return [b for b in BACKENDS if b.available()]


@pytest.fixture(params=_backends(), ids=lambda b: b.name)
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param


@pytest.fixture
def database_url(backend: Backend, tmp_path: Path) -> str:
    return backend.url(tmp_path)


@pytest.fixture
async def storage(database_url: str) -> AsyncIterator[Storage]:
    async with open_storage(database_url) as s:
        yield s
