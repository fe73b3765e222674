from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tests.markers import Markers
from tests.serverproc import SEED_CONFIG, TEST_GRAPHS_CONFIG, ServerProcess


def _server(tmp_path_factory: pytest.TempPathFactory, config: Path, name: str) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp(name)
    server = ServerProcess(
        config=config, database_url=f"sqlite:///{folder / 'waypost.sqlite'}", log_path=folder / "waypost.log"
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def seed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`waypost serve` on the seed example (graph `agent`), one per session."""
    yield from _server(tmp_path_factory, SEED_CONFIG, "seed")


@pytest.fixture(scope="session")
def graphs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`waypost serve` on tests/graphs (agent, double, parallel, subgraph, static_bp, ...)."""
    yield from _server(tmp_path_factory, TEST_GRAPHS_CONFIG, "graphs")


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
