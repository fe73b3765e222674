"""The OpenAPI document is generated from the code; check it describes what the SDKs call."""

from __future__ import annotations

from pathlib import Path

from waypost.app import create_app
from waypost.settings import Settings

ROUTES_THE_SDKS_CALL = {
    ("post", "/threads"), ("get", "/threads/{thread_id}"), ("post", "/threads/search"),
    ("get", "/threads/{thread_id}/state"), ("post", "/threads/{thread_id}/history"),
    ("post", "/threads/{thread_id}/runs/wait"), ("post", "/threads/{thread_id}/runs/stream"),
    ("get", "/threads/{thread_id}/runs/{run_id}/stream"), ("post", "/threads/{thread_id}/runs/{run_id}/cancel"),
    ("post", "/runs/wait"), ("post", "/runs/batch"), ("post", "/assistants/search"),
    ("get", "/assistants/{assistant_id}/graph"), ("get", "/ok"), ("get", "/info"),
}


def test_openapi_lists_the_routes_and_their_bodies(tmp_path: Path) -> None:
    settings = Settings(config_path=tmp_path / "unused.json", database_url=f"sqlite:///{tmp_path}/db.sqlite")
    doc = create_app(settings).openapi()  # built from the routes; no lifespan needed
    routes = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    assert ROUTES_THE_SDKS_CALL <= routes
    wait = doc["paths"]["/threads/{thread_id}/runs/wait"]["post"]
    schema = wait["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["assistant_id"]
    assert {"input", "command", "multitask_strategy", "stream_mode"} <= set(schema["properties"])
