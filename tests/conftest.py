from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tests.backends import SERVER_BACKENDS, Backend
from tests.markers import Markers
from tests.receivers import receiver  # noqa: F401  (a fixture for every suite)
from tests.serverproc import SEED_CONFIG, TEST_GRAPHS_CONFIG, ServerProcess


def _server(
    tmp_path_factory: pytest.TempPathFactory, config: Path, name: str, backend: Backend
) -> Iterator[ServerProcess]:
    if reason := backend.unavailable():
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp(f"{name}-{backend.name}")
    with backend.place(folder) as place:
        server = ServerProcess(
            config=config, database_url=place.database_url, extra_args=place.args, log_path=folder / "waypost.log"
        ).start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session", params=SERVER_BACKENDS, ids=lambda b: b.name)
def backend(request: pytest.FixtureRequest) -> Backend:
    """Every test that talks to a shared server runs on SQLite and on PostgreSQL + Redis."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def seed_server(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[ServerProcess]:
    """`waypost serve` on the seed example (graph `agent`), one per session and backend."""
    yield from _server(tmp_path_factory, SEED_CONFIG, "seed", backend)


@pytest.fixture(scope="session")
def graphs_server(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[ServerProcess]:
    """`waypost serve` on tests/graphs (agent, double, parallel, subgraph, static_bp, ...)."""
    yield from _server(tmp_path_factory, TEST_GRAPHS_CONFIG, "graphs", backend)


@pytest.fixture
async def client(graphs_server: ServerProcess) -> AsyncIterator[LangGraphClient]:
    """The official async Python SDK against the tests/graphs server; api_key=None keeps a
    developer's LangSmith key out."""
    c = get_client(url=graphs_server.url, api_key=None)
    try:
        yield c
    finally:
        await c.aclose()


@pytest.fixture
async def http(graphs_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP against the tests/graphs server: status codes, headers, bodies, SSE bytes."""
    async with httpx.AsyncClient(base_url=graphs_server.url, timeout=30.0) as c:
        yield c


@pytest.fixture
def markers(tmp_path: Path) -> Iterator[Markers]:
    """A folder for the marks one test's runs leave (tests/graphs/markers.py); what the test
    held and did not release is released after it."""
    folder = Markers(tmp_path / "markers")
    yield folder
    folder.release_all()
