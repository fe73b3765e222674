"""Fixtures for the streaming and run-control suite: SDK and raw HTTP clients bound to the
tests/graphs server (a real `waypost serve` process, shared for the session)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tests.serverproc import ServerProcess


@pytest.fixture
async def client(graphs_server: ServerProcess) -> AsyncIterator[LangGraphClient]:
    """The official async Python SDK; api_key=None keeps a developer's LangSmith key out."""
    c = get_client(url=graphs_server.url, api_key=None)
    try:
        yield c
    finally:
        await c.aclose()


@pytest.fixture
async def http(graphs_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP, for status codes, headers and the bytes of the SSE wire format."""
    async with httpx.AsyncClient(base_url=graphs_server.url, timeout=30.0) as c:
        yield c


@pytest.fixture
async def thread_id(client: LangGraphClient) -> str:
    """A fresh, idle thread."""
    return (await client.threads.create())["thread_id"]
