"""The OpenAPI document is generated from the code; check it describes what the SDKs call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from waypost.app import create_app
from waypost.settings import Settings

ROUTES_THE_SDKS_CALL = {
    ("post", "/threads"),
    ("get", "/threads/{thread_id}"),
    ("post", "/threads/search"),
    ("get", "/threads/{thread_id}/state"),
    ("post", "/threads/{thread_id}/history"),
    ("post", "/threads/{thread_id}/runs/wait"),
    ("post", "/threads/{thread_id}/runs/stream"),
    ("get", "/threads/{thread_id}/runs/{run_id}/stream"),
    ("post", "/threads/{thread_id}/runs/{run_id}/cancel"),
    ("post", "/runs/wait"),
    ("post", "/runs/batch"),
    ("post", "/assistants/search"),
    ("get", "/assistants/{assistant_id}/graph"),
    ("get", "/ok"),
    ("get", "/info"),
}


@pytest.fixture
def doc(tmp_path: Path) -> dict[str, Any]:
    settings = Settings(config_path=tmp_path / "unused.json", database_url=f"sqlite:///{tmp_path}/db.sqlite")
    return create_app(settings).openapi()  # built from the routes; no lifespan needed


def test_openapi_lists_the_routes_and_their_bodies(doc: dict[str, Any]) -> None:
    routes = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    assert ROUTES_THE_SDKS_CALL <= routes
    wait = doc["paths"]["/threads/{thread_id}/runs/wait"]["post"]
    schema = wait["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["assistant_id"]
    assert {"input", "command", "multitask_strategy", "stream_mode"} <= set(schema["properties"])


def test_openapi_documents_parameters_with_their_bounds(doc: dict[str, Any]) -> None:
    def param(path: str, method: str, name: str) -> dict[str, Any]:
        [p] = [p for p in doc["paths"][path][method].get("parameters", []) if p["name"] == name]
        return p

    limit = param("/threads/{thread_id}/runs", "get", "limit")["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, 1000)
    offset = param("/threads/{thread_id}/runs", "get", "offset")["schema"]
    assert (offset["minimum"], offset["maximum"]) == (0, 2**31 - 1)
    assert param("/threads/{thread_id}/history", "get", "limit")["schema"]["maximum"] == 1000
    assert param("/threads/{thread_id}/state", "get", "subgraphs")["in"] == "query"
    assert param("/threads/{thread_id}/state", "get", "thread_id")["schema"]["format"] == "uuid"
    assert "success" in str(param("/threads/{thread_id}/runs", "get", "status")["schema"])
    assert "values" in str(param("/threads/{thread_id}/runs/{run_id}/stream", "get", "stream_mode")["schema"])
    search = doc["paths"]["/threads/search"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert (search["properties"]["limit"]["minimum"], search["properties"]["limit"]["maximum"]) == (1, 1000)
    run = doc["paths"]["/threads/{thread_id}/runs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert run["properties"]["after_seconds"]["anyOf"][0]["maximum"] == 365 * 24 * 3600


def test_openapi_bodies_have_no_dangling_references(doc: dict[str, Any]) -> None:
    """Bodies documented by hand carry no pydantic `#/$defs/...` refs: they would resolve
    against the OpenAPI document, which has none."""

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if "$ref" in node else []
            return own + [r for v in node.values() for r in refs(v)]
        return [r for v in node for r in refs(v)] if isinstance(node, list) else []

    assert all(r.startswith("#/components/schemas/") for r in refs(doc["paths"]))
