from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serverproc import SEED_CONFIG, TEST_GRAPHS_CONFIG, ServerProcess


def _server(tmp_path_factory: pytest.TempPathFactory, config: Path, name: str) -> Iterator[ServerProcess]:
    db = tmp_path_factory.mktemp(name) / "waypost.sqlite"
    server = ServerProcess(config=config, database_url=f"sqlite:///{db}").start()
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
