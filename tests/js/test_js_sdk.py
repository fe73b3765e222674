"""The seed's JS example, run verbatim under node with both majors of the JS SDK.

`@langchain/langgraph-sdk` 2.0.0 is what `npm install` picks today; 1.15.0 is
the other line still in use. Both are installed side by side under npm aliases
(`sdk2`, `sdk1`) by `make test` (see tests/js/package.json).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.serverproc import ServerProcess

pytestmark = pytest.mark.js

JS_DIR = Path(__file__).resolve().parent
SEED_SCRIPT = JS_DIR / "seed.mjs"
SDKS = {"sdk2": "2.0.0", "sdk1": "1.15.0"}


def _require_node_modules(pkg: str) -> None:
    if shutil.which("node") is None:
        pytest.fail("`node` is not on PATH: install Node.js (>= 18), then run `make test`")
    manifest = JS_DIR / "node_modules" / pkg / "package.json"
    if not manifest.is_file():
        pytest.fail(
            f"{manifest.relative_to(JS_DIR.parent.parent)} is missing: the JS SDKs are not "
            "installed. Run `make test` (it runs `npm ci --prefix tests/js` first)."
        )
    version = json.loads(manifest.read_text())["version"]
    assert version == SDKS[pkg], f"{pkg} is {version}, expected {SDKS[pkg]}: run `make clean test`"


def _run_seed(pkg: str, url: str) -> dict:
    env = {**os.environ, "WAYPOST_URL": url}
    # The JS client sends these as x-api-key to any server; keep them out.
    for key in ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"):
        env.pop(key, None)
    proc = subprocess.run(
        ["node", str(SEED_SCRIPT), pkg],
        cwd=JS_DIR, env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, (
        f"node seed.mjs {pkg} exited with {proc.returncode}\n"
        f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no RESULT line in output:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(lines[-1].removeprefix("RESULT "))


@pytest.mark.parametrize("pkg", list(SDKS))
def test_seed_js_block(pkg: str, seed_server: ServerProcess) -> None:
    _require_node_modules(pkg)
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
