"""Servers with authentication: the LangGraph docs' resource-owner auth module, and built-in
API keys; on SQLite and on PostgreSQL + Redis like every shared server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.backends import Backend
from tests.serverproc import ServerProcess

PROJECT = Path(__file__).resolve().parent / "project"
AUTH_CONFIG = PROJECT / "langgraph.json"
KEYS_CONFIG = PROJECT / "apikeys.json"
API_KEYS = ("team-key-0123456789abcdef", "ops-key-fedcba9876543210")
TOKENS = {"user1": "user1-token", "user2": "user2-token"}


def bearer(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[user]}"}


def _start(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend, config: Path, name: str, *args: str
) -> Iterator[ServerProcess]:
    if reason := backend.unavailable():
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp(f"{name}-{backend.name}")
    with backend.place(folder) as place:
        server = ServerProcess(
            config=config,
            database_url=place.database_url,
            extra_args=[*place.args, *args],
            log_path=folder / "waypost.log",
        ).start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[ServerProcess]:
    yield from _start(tmp_path_factory, backend, AUTH_CONFIG, "auth")


@pytest.fixture(scope="session")
def keys_server(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[ServerProcess]:
    yield from _start(tmp_path_factory, backend, KEYS_CONFIG, "keys", *(a for k in API_KEYS for a in ("--api-key", k)))


@pytest.fixture
async def owner(auth_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=auth_server.url, headers=bearer("user1"), timeout=30) as c:
        yield c


@pytest.fixture
async def other(auth_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=auth_server.url, headers=bearer("user2"), timeout=30) as c:
        yield c
