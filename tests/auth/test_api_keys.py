"""Built-in API keys: the x-api-key header both official SDKs send when given `api_key`."""

from __future__ import annotations

import httpx
from langgraph_sdk import get_client, get_sync_client

from tests.auth.conftest import API_KEYS
from tests.serverproc import ServerProcess


async def test_the_python_sdk_authenticates_with_api_key(keys_server: ServerProcess) -> None:
    for key in API_KEYS:
        sdk = get_client(url=keys_server.url, api_key=key)
        try:
            thread = await sdk.threads.create()
            result = await sdk.runs.wait(thread["thread_id"], "whoami", input={})
            assert result["identity"].startswith("api-key:")
            assert key not in result["identity"]  # the identity names the key without showing it
        finally:
            await sdk.aclose()


def test_the_sync_sdk_works_too(keys_server: ServerProcess) -> None:
    sdk = get_sync_client(url=keys_server.url, api_key=API_KEYS[1])
    thread = sdk.threads.create()
    assert sdk.threads.get(thread["thread_id"])["thread_id"] == thread["thread_id"]


def test_missing_or_wrong_keys_are_401(keys_server: ServerProcess) -> None:
    for headers in ({}, {"x-api-key": "nope"}, {"x-api-key": API_KEYS[0][:-1]}, {"x-api-key": API_KEYS[0] + "x"}):
        resp = httpx.post(f"{keys_server.url}/threads", json={}, headers=headers)
        assert resp.status_code == 401, resp.text
        assert resp.json() == {"detail": "a valid API key is required in the x-api-key header"}
    assert httpx.get(f"{keys_server.url}/ok").status_code == 200


def test_api_key_users_share_the_threads(keys_server: ServerProcess) -> None:
    """Keys identify a team's members; they all see the same threads (no per-key filters)."""
    first, second = (httpx.Client(base_url=keys_server.url, headers={"x-api-key": k}) for k in API_KEYS)
    with first, second:
        tid = first.post("/threads", json={}).json()["thread_id"]
        assert second.get(f"/threads/{tid}").status_code == 200
