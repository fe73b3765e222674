"""Fixtures for the streaming and run-control suite: SDK and raw HTTP clients bound to the
tests/graphs server (a real `waypost serve` process, shared for the session)."""

from __future__ import annotations

import pytest
from langgraph_sdk.client import LangGraphClient


@pytest.fixture
async def thread_id(client: LangGraphClient) -> str:
    """A fresh, idle thread."""
    return (await client.threads.create())["thread_id"]
