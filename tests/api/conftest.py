"""Fixtures for the API suite: SDK clients and raw httpx clients bound to the real servers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tests.serverproc import ServerProcess


@pytest.fixture
async def client(graphs_server: ServerProcess) -> AsyncIterator[LangGraphClient]:
    """The official async SDK client against the tests/graphs server."""
    c = get_client(url=graphs_server.url, api_key=None)
    try:
        yield c
    finally:
        await c.aclose()


@pytest.fixture
async def http(graphs_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP against the tests/graphs server (for status codes, headers and bodies)."""
    async with httpx.AsyncClient(base_url=graphs_server.url, timeout=30.0) as c:
        yield c
