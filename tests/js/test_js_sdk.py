"""The seed's JS example, run verbatim under node with both majors of the JS SDK.

`@langchain/langgraph-sdk` 2.0.0 is what `npm install` picks today; 1.15.0 is
the other line still in use. Both are installed side by side under npm aliases
(`sdk2`, `sdk1`) by `make test` (see tests/js/package.json).
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.js.node import SDKS, run_script
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.js


def _run_seed(pkg: str, url: str) -> dict:
    result, _ = run_script("seed.mjs", pkg, url)
    return result


@pytest.mark.parametrize("pkg", list(SDKS))
def test_seed_js_block(pkg: str, seed_server: ServerProcess) -> None:
    out = _run_seed(pkg, seed_server.url)

    thread = out["thread"]
    thread_id = thread["thread_id"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", thread_id)
    assert thread["status"] == "idle"

    first = out["first"]
    assert first["some_text"] == "original text"
    interrupts = first["__interrupt__"]
    assert isinstance(interrupts, list) and len(interrupts) == 1, interrupts
    (intr,) = interrupts
    assert {"value", "id", "response_schema", "resumable", "ns", "when"} <= intr.keys(), intr
    assert intr["value"] == {"text_to_revise": "original text"}
    assert re.fullmatch(r"[0-9a-f]{32}", intr["id"]), intr["id"]
    assert intr["response_schema"] is None
    assert intr["resumable"] is True
    assert isinstance(intr["ns"], list) and len(intr["ns"]) == 1, intr["ns"]
    assert isinstance(intr["ns"][0], str) and intr["ns"][0].startswith("human_node:"), intr["ns"]
    assert intr["when"] == "during"

    assert out["second"] == {"some_text": "Edited text"}

    resp = httpx.get(f"{seed_server.url}/threads/{thread_id}", timeout=10)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "idle", body
    assert body["values"] == {"some_text": "Edited text"}, body
