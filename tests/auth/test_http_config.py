"""The `http` and `webhooks` sections of langgraph.json, and CORS for browser clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.auth.conftest import API_KEYS, PROJECT, bearer
from tests.backends import SQLITE
from tests.polling import eventually
from tests.receivers import Receiver
from tests.serverproc import ServerProcess

KEY = {"x-api-key": API_KEYS[0]}


@pytest.fixture
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("http")
    with SQLITE.place(folder) as place:
        server = ServerProcess(
            config=PROJECT / "http.json",
            database_url=place.database_url,
            log_path=folder / "log",
            extra_args=["--api-key", API_KEYS[0]],
            extra_env={"LG_WEBHOOK_TOKEN": "s3cret"},
        ).start()
        try:
            yield server
        finally:
            server.stop()


def test_default_cors_answers_any_origin_without_credentials(auth_server: ServerProcess) -> None:
    preflight = httpx.options(
        f"{auth_server.url}/threads",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert preflight.status_code == 204, preflight.text
    h = preflight.headers
    assert h["access-control-allow-origin"] == "*"
    assert "POST" in h["access-control-allow-methods"]
    assert h["access-control-allow-headers"] == "authorization, content-type"
    assert h["access-control-allow-private-network"] == "true"
    assert "access-control-allow-credentials" not in h
    actual = httpx.post(
        f"{auth_server.url}/threads", json={}, headers={"Origin": "http://localhost:3000", **bearer("user1")}
    )
    assert actual.status_code == 200
    assert actual.headers["access-control-allow-origin"] == "*"
    exposed = actual.headers["access-control-expose-headers"]
    assert "content-location" in exposed and "x-pagination-total" in exposed and "x-request-id" in exposed
    assert len(actual.headers["x-request-id"]) == 32
    echoed = httpx.get(f"{auth_server.url}/ok", headers={"x-request-id": "trace-42"})
    assert echoed.headers["x-request-id"] == "trace-42"
    # the preflight needs no credentials, the request does
    assert httpx.post(f"{auth_server.url}/threads", json={}, headers={"Origin": "http://x"}).status_code == 401


def test_cors_narrowed_by_the_config(http_server: ServerProcess) -> None:
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key"}
    ok = httpx.options(f"{http_server.url}/threads", headers={"Origin": "https://ui.example", **asked})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == "https://ui.example"
    assert ok.headers["access-control-allow-headers"] == "x-api-key, content-type"
    assert ok.headers["access-control-max-age"] == "60"
    refused = httpx.options(f"{http_server.url}/threads", headers={"Origin": "https://evil.example", **asked})
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    plain = httpx.post(f"{http_server.url}/threads", json={}, headers={"Origin": "https://evil.example", **KEY})
    assert plain.status_code == 200 and "access-control-allow-origin" not in plain.headers


def test_a_custom_app_is_served_behind_authentication(http_server: ServerProcess) -> None:
    assert httpx.get(f"{http_server.url}/custom/hello").status_code == 401
    assert httpx.get(f"{http_server.url}/custom/hello", headers=KEY).json() == {"hello": "world"}
    # the API's routes come first: a thread path is answered by the API, not the custom app
    missing = httpx.get(f"{http_server.url}/threads/00000000-0000-4000-8000-000000000000", headers=KEY)
    assert missing.status_code == 404 and missing.json()["detail"].startswith("Thread with ID")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://a.hooks.example/x", "https"),
        ("https://hooks.example/x", "allowed domains"),  # the wildcard names subdomains only
        ("https://evil.example/x", "allowed domains"),
        ("https://a.hooks.example:9000/x", "port"),
        ("https://a.hooks.example/" + "x" * 80, "longer"),
        ("/internal/hook", "relative"),
        ("ftp://a.hooks.example/x", "http(s)"),
    ],
)
def test_webhook_urls_outside_the_policy_are_refused(http_server: ServerProcess, url: str, why: str) -> None:
    with httpx.Client(base_url=http_server.url, headers=KEY) as c:
        tid = c.post("/threads", json={}).json()["thread_id"]
        body = {"assistant_id": "agent", "input": {"some_text": "x"}, "webhook": url}
        resp = c.post(f"/threads/{tid}/runs", json=body)
        assert resp.status_code == 422, resp.text
        assert why in resp.json()["detail"]
        assert c.get(f"/threads/{tid}/runs").json() == []
        allowed = c.post(
            f"/threads/{tid}/runs/wait",
            json={"assistant_id": "agent", "input": {"some_text": "x"}, "webhook": "https://a.hooks.example:8443/x"},
        )
        assert allowed.status_code == 200


async def test_custom_routes_open_on_purpose_and_webhooks_carry_static_headers(
    tmp_path_factory: pytest.TempPathFactory, receiver: Receiver
) -> None:
    folder = tmp_path_factory.mktemp("open")
    with SQLITE.place(folder) as place:
        server = ServerProcess(
            config=PROJECT / "open_routes.json",
            database_url=place.database_url,
            log_path=folder / "log",
            extra_args=["--api-key", API_KEYS[0]],
            extra_env={"LG_WEBHOOK_TEAM": "blue"},
        ).start()
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as anon:
                assert (await anon.get("/custom/hello")).json() == {"hello": "world"}
                assert (await anon.post("/threads", json={})).status_code == 401
            receiver.failures = 0
            async with httpx.AsyncClient(base_url=server.url, headers=KEY, timeout=30) as c:
                tid = (await c.post("/threads", json={})).json()["thread_id"]
                await c.post(
                    f"/threads/{tid}/runs/wait",
                    json={"assistant_id": "agent", "input": {"some_text": "x"}, "webhook": receiver.url()},
                )
            (request,) = await eventually(receiver.received, lambda r: len(r) == 1, what="the webhook")
            assert request["headers"]["x-team"] == "blue"
            # http.configurable_headers: chosen request headers reach the graph, never secrets
            headers = {**KEY, "x-tenant-id": "acme", "x-tenant-secret": "no", "x-other": "no"}
            async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as c:
                out = await c.post("/runs/wait", json={"assistant_id": "echo", "input": {}})
            assert out.json()["seen"] == {"x-tenant-id": "acme"}
        finally:
            server.stop()
