"""Run a script of ours under node with one of the installed official JS SDKs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS_DIR = Path(__file__).resolve().parent
# npm aliases in tests/js/package.json: both majors of @langchain/langgraph-sdk
SDKS = {"sdk2": "2.0.0", "sdk1": "1.15.0"}


def require_sdk(pkg: str) -> None:
    """Fail (never skip) with the fix when node or the SDK is missing."""
    if shutil.which("node") is None:
        pytest.fail("`node` is not on PATH: install Node.js (>= 18), then run `make test`")
    manifest = JS_DIR / "node_modules" / pkg / "package.json"
    if not manifest.is_file():
        pytest.fail(
            f"{manifest} is missing: the JS SDKs are not installed. "
            "Run `make test` (it runs `npm ci --prefix tests/js` first)."
        )
    version = json.loads(manifest.read_text())["version"]
    assert version == SDKS[pkg], f"{pkg} is {version}, expected {SDKS[pkg]}: run `make clean test`"


def run_script(script: str, pkg: str, url: str, extra_env: dict[str, str] | None = None) -> tuple[dict, list[str]]:
    """Run tests/js/<script> with `pkg` against `url` (and `extra_env` in its environment);
    return its final `RESULT <json>` and every line it printed."""
    require_sdk(pkg)
    env = {**os.environ, **(extra_env or {}), "WAYPOST_URL": url}
    # The JS client sends these as x-api-key to any server; keep them out.
    for key in ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"):
        env.pop(key, None)
    proc = subprocess.run(
        ["node", str(JS_DIR / script), pkg], cwd=JS_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, (
        f"node {script} {pkg} exited with {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )
    lines = proc.stdout.splitlines()
    results = [line for line in lines if line.startswith("RESULT ")]
    assert results, f"no RESULT line in output:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(results[-1].removeprefix("RESULT ")), lines
