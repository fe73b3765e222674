"""Helpers shared by the API tests: error-shape checks, before/after snapshots, polling."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import httpx

HEX32 = re.compile(r"^[0-9a-f]{32}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
AGENT_ASSISTANT_ID = "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
UNKNOWN_THREAD = "00000000-0000-4000-8000-000000000000"

T = TypeVar("T")


def assert_error(resp: httpx.Response, status: int) -> str:
    """The response is `status` with a body of exactly {"detail": "<str>"}; returns the detail."""
    assert resp.status_code == status, f"expected {status}, got {resp.status_code}: {resp.text}"
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    body = resp.json()
    assert isinstance(body, dict) and set(body) == {"detail"}, body
    assert isinstance(body["detail"], str) and body["detail"], body
    return body["detail"]


async def snapshot(http: httpx.AsyncClient, thread_id: str) -> dict[str, Any]:
    """Everything a refusal must leave alone: the thread row, its state and its runs."""
    thread = await http.get(f"/threads/{thread_id}")
    state = await http.get(f"/threads/{thread_id}/state")
    runs = await http.get(f"/threads/{thread_id}/runs", params={"limit": 100})
    assert thread.status_code == state.status_code == runs.status_code == 200, (thread.text, state.text, runs.text)
    return {"thread": thread.json(), "state": state.json(), "runs": runs.json()}


def assert_unchanged(before: dict[str, Any], after: dict[str, Any]) -> None:
    # The headline facts first, so a failure says what moved.
    assert len(after["runs"]) == len(before["runs"]), "a run row was added"
    assert after["thread"]["status"] == before["thread"]["status"], "thread status changed"
    assert after["state"]["checkpoint_id"] == before["state"]["checkpoint_id"], "a checkpoint was written"
    assert after["thread"]["interrupts"] == before["thread"]["interrupts"], "thread interrupts changed"
    # Then everything: the refusal must not have touched a byte.
    assert after == before


def flatten_interrupts(thread: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for items in thread["interrupts"].values() for item in items]
